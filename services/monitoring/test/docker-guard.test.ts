/**
 * What the service sends to the Docker engine, proven on the wire: a recording proxy sits on a Unix
 * socket in front of the real one (DOCKER_SOCKET points at it) and records every method, path and
 * answered byte. Read tools send GET and nothing else; a log read stops near its budget; hostile
 * references are refused before any request and change nothing; restart is the one POST, only
 * when allowed; no engine gives a clear error, not a hang.
 */
import {
  callTool as call,
  callToolOk as ok,
  callToolRefused as refused,
  connectClient,
  httpRequest,
  type StartedService,
  startService,
  waitUntil,
} from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Engine } from '../src/engine.js';
import { service } from '../src/service.js';
import { docker, DockerFixture, engineGet, inspectReal, REAL_SOCKET } from './helpers/docker-fixture.js';
import { HOSTILE_REFS } from './helpers/hostile.js';
import { type RecordingProxy, startRecordingProxy } from './helpers/recording-proxy.js';

const fixture = new DockerFixture();
let proxy: RecordingProxy;
let svc: StartedService;
let client: Client;
const BIG_BYTES = 8_000_000;
let ambiguousPrefix = '';

/**
 * Two of our own containers whose ids share their first two hex digits (ids are random: created,
 * not started, ten at a time until two collide, which takes about twenty; 100 would fail one run in
 * millions). Returns the shared prefix.
 */
async function makeAmbiguousPrefix(): Promise<string> {
  const ids: string[] = [];
  for (let batch = 0; batch < 10; batch++) {
    const created = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        docker([
          'create',
          '--network',
          'none',
          '--label',
          `mcp-montest=${fixture.prefix}`,
          '--name',
          fixture.name(`idle-${batch}-${i}`),
          fixture.image,
        ]),
      ),
    );
    ids.push(...created);
    const prefixes = ids.map((id) => id.slice(0, 2));
    const shared = prefixes.find((prefix, index) => prefixes.indexOf(prefix) !== index);
    if (shared !== undefined) {
      // Longer when the two agree further: the ambiguity is then between at least these two.
      const pair = ids.filter((id) => id.startsWith(shared));
      let common = shared;
      while (pair.every((id) => id.startsWith((pair[0] as string).slice(0, common.length + 1)))) {
        common = (pair[0] as string).slice(0, common.length + 1);
      }
      return common;
    }
  }
  throw new Error('100 containers and no two ids share two leading hex digits: ids are not random?');
}

/** The state of our containers as the engine reports it (not through the service). */
async function engineState(): Promise<string> {
  const { body } = await engineGet(
    `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`mcp-montest=${fixture.prefix}`] }))}`,
  );
  const ids = (JSON.parse(body) as { Id: string }[]).map((c) => c.Id).sort();
  const states = await Promise.all(
    ids.map(async (id) => {
      const info = await inspectReal(id);
      const state = info['State'] as Record<string, unknown>;
      return {
        id,
        name: info['Name'],
        status: state['Status'],
        started: state['StartedAt'],
        finished: state['FinishedAt'],
        restarts: info['RestartCount'],
        pid: state['Pid'],
      };
    }),
  );
  const images = await docker(['images', '-q', '--no-trunc', fixture.image]);
  return JSON.stringify({ states, images });
}

beforeAll(async () => {
  await fixture.build();
  await Promise.all([
    fixture.run('web', 'i=0; while true; do echo "tick $i"; echo "warn $i" >&2; i=$((i+1)); sleep 0.2; done'),
    fixture.run('big', `yes "big line 0123456789 abcdefghijklmnopqrstuvwxyz" | head -c ${BIG_BYTES}; exec sleep 3600`),
  ]);
  await waitUntil(
    async () => {
      const info = await inspectReal(fixture.name('big'));
      const { body } = await engineGet(`/containers/${fixture.name('big')}/logs?stdout=1&tail=1`);
      return (info['State'] as { Running: boolean }).Running && body.length > 0;
    },
    'the big container wrote its logs',
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  // Its log is complete once the engine's copy of it stops growing.
  let last = -1;
  await waitUntil(
    async () => {
      const size = (await engineGet(`/containers/${fixture.name('big')}/logs?stdout=1`)).body.length;
      const stable = size === last && size > BIG_BYTES * 0.9;
      last = size;
      return stable;
    },
    'the big log is complete',
    { timeoutMs: 60_000, intervalMs: 300 },
  );
  ambiguousPrefix = await makeAmbiguousPrefix();
  proxy = await startRecordingProxy(REAL_SOCKET);
  svc = await startService(service, { env: { DOCKER_SOCKET: proxy.socketPath } });
  client = await connectClient(svc.url, 'streamable-http');
}, 300_000);

afterAll(async () => {
  await client?.close();
  await svc?.close();
  await proxy?.close();
  await fixture.cleanup();
});

/** Every read endpoint the service may use (the paths are the engine API's, the ids full). */
const READ_PATHS = [
  /^\/_ping$/,
  /^\/containers\/json(\?.*)?$/,
  /^\/containers\/[0-9a-f]{64}\/json$/,
  /^\/containers\/[0-9a-f]{64}\/logs\?.*$/,
  /^\/containers\/[0-9a-f]{64}\/stats\?stream=false$/,
  /^\/events\?.*$/,
  /^\/images\/json(\?.*)?$/,
];

describe('the read tools send GET and nothing else', () => {
  it('every read tool, in every form, over the recording proxy', async () => {
    proxy.requests.length = 0;
    const web = fixture.name('web');
    const calls: [string, Record<string, unknown>][] = [
      ['list_containers', {}],
      [
        'list_containers',
        { all: true, name: fixture.prefix, label: `mcp-montest=${fixture.prefix}`, status: 'running' },
      ],
      ['inspect_container', { container: web }],
      ['container_stats', { container: web }],
      ['container_stats', {}],
      ['docker_events', { since: '10m', container: web, type: 'container' }],
      ['docker_events', { since: '1m' }],
      ['list_images', { reference: `${fixture.prefix}*`, all: true }],
      ['get_container_logs', { container: web }],
      [
        'get_container_logs',
        { container: web, since: '1m', until: 'now', grep: 'tick [0-9]+', timestamps: true, stream: 'stderr' },
      ],
      ['get_container_logs', { container: web, tail: 3, stream: 'stdout' }],
      ['search_logs', { query: 'warn', containers: [web] }],
      ['search_logs', { query: 'no such line', since: '5m' }],
      ['get_system_metrics', {}],
      ['list_processes', { limit: 3 }],
    ];
    for (const [name, args] of calls) await ok(client, name, args);
    // The health check too.
    expect((await httpRequest(`${svc.url}/health`)).status).toBe(200);
    expect(proxy.requests.length).toBeGreaterThan(calls.length);
    expect([...new Set(proxy.requests.map((r) => r.method))]).toEqual(['GET']);
    for (const request of proxy.requests) {
      expect(
        READ_PATHS.some((pattern) => pattern.test(request.path)),
        request.path,
      ).toBe(true);
    }
  });

  it('the engine client refuses anything but GET before it is sent, whichever way it is built', async () => {
    proxy.requests.length = 0;
    const engine = new Engine({ address: { socketPath: proxy.socketPath }, timeoutMs: 5000, allowRestart: false });
    const id = (await inspectReal(fixture.name('web')))['Id'] as string;
    await expect(engine.restart(id, 1)).rejects.toThrow(
      'Restarting containers is off (MONITORING_ALLOW_RESTART=false)',
    );
    // dockerode's own write methods go through the same gate.
    await expect((await engine.docker()).getContainer(id).stop()).rejects.toThrow(
      `Refused POST /containers/${id}/stop: this service only reads from the Docker engine (MONITORING_ALLOW_RESTART is off)`,
    );
    await expect((await engine.docker()).getContainer(id).remove({ force: true })).rejects.toThrow(
      /^Refused DELETE \/containers\//,
    );
    await expect((await engine.docker()).createContainer({ Image: fixture.image })).rejects.toThrow(
      /^Refused POST \/containers\/create/,
    );
    await expect((await engine.docker()).pruneContainers()).rejects.toThrow(/^Refused POST \/containers\/prune/);
    // Allowed restarts let exactly the restart endpoint through, nothing else.
    const allowing = new Engine({ address: { socketPath: proxy.socketPath }, timeoutMs: 5000, allowRestart: true });
    await expect((await allowing.docker()).getContainer(id).kill()).rejects.toThrow(
      `Refused POST /containers/${id}/kill: this service only reads from the Docker engine (and restarts containers)`,
    );
    expect(proxy.requests).toEqual([]);
    expect((await inspectReal(id))['State']).toMatchObject({ Running: true });
  });
});

describe('log reads stop near their budget', () => {
  it('never reads more than the budget plus a bounded margin from the engine (the log is 8 MB)', async () => {
    proxy.requests.length = 0;
    const logs = await ok<{ truncated: boolean; truncated_reason: string; bytes_read: number; entries: unknown[] }>(
      client,
      'get_container_logs',
      { container: fixture.name('big'), since: '1h', max_bytes: 65_536 },
    );
    expect(logs).toMatchObject({ truncated: true, truncated_reason: 'max_bytes' });
    expect(logs.bytes_read).toBeLessThan(65_536 + 256 * 1024);
    const logRequest = proxy.requests.find((r) => r.path.includes('/logs?'));
    // What the proxy forwarded before the service closed: the budget, one chunk, and what the socket buffers held.
    expect(logRequest?.responseBytes).toBeLessThan(4 * 1024 * 1024);
    expect(logRequest?.done).toBe(false);

    proxy.requests.length = 0;
    const scan = await startService(service, {
      env: { DOCKER_SOCKET: proxy.socketPath, MONITORING_LOG_SCAN_BYTES: '1048576' },
    });
    const scanClient = await connectClient(scan.url, 'streamable-http');
    try {
      const grep = await ok<{
        truncated: boolean;
        truncated_reason: string;
        bytes_read: number;
        entries: unknown[];
        next_since: string;
      }>(scanClient, 'get_container_logs', { container: fixture.name('big'), since: '1h', grep: 'never matches' });
      expect(grep).toMatchObject({ truncated: true, truncated_reason: 'read_limit', entries: [] });
      expect(grep.bytes_read).toBeGreaterThan(1_048_576);
      expect(grep.bytes_read).toBeLessThan(1_048_576 + 256 * 1024);
      expect(typeof grep.next_since).toBe('string');
      const logRequest2 = proxy.requests.find((r) => r.path.includes('/logs?'));
      expect(logRequest2?.responseBytes).toBeLessThan(5 * 1024 * 1024);
    } finally {
      await scanClient.close();
      await scan.close();
    }
  });

  it('answers within MCP_MAX_RESULT_BYTES whatever max_bytes asks for', async () => {
    const small = await startService(service, {
      env: { DOCKER_SOCKET: proxy.socketPath, MCP_MAX_RESULT_BYTES: '65536' },
    });
    const smallClient = await connectClient(small.url, 'streamable-http');
    try {
      const result = await call(smallClient, 'get_container_logs', {
        container: fixture.name('big'),
        since: '1h',
        max_bytes: 10_000_000,
      });
      expect(result.isError).toBe(false);
      expect(result.text.length).toBeLessThanOrEqual(65_536);
      expect(result.structured).toMatchObject({ truncated: true, truncated_reason: 'max_bytes' });
    } finally {
      await smallClient.close();
      await small.close();
    }
  });
});

describe('hostile container references', () => {
  const TOOLS: [string, (ref: string) => Record<string, unknown>][] = [
    ['inspect_container', (ref) => ({ container: ref })],
    ['get_container_logs', (ref) => ({ container: ref })],
    ['container_stats', (ref) => ({ container: ref })],
    ['docker_events', (ref) => ({ since: '1m', container: ref })],
    ['search_logs', (ref) => ({ query: 'x', containers: [ref] })],
  ];

  it('are refused with a clear error before any request, and change nothing', async () => {
    const before = await engineState();
    proxy.requests.length = 0;
    for (const [tool, args] of TOOLS) {
      for (const ref of HOSTILE_REFS) {
        const text = await refused(client, tool, args(ref));
        expect(text, `${tool} ${JSON.stringify(ref.slice(0, 30))}`).toMatch(
          /^Invalid arguments for \w+: (container|containers\.0): (must be a container name|at most 255 characters)/,
        );
        expect(text.length).toBeLessThan(600);
      }
    }
    expect(proxy.requests).toEqual([]);
    // Well-formed but unknown or ambiguous references reach the engine only to be listed, then are refused.
    expect(await refused(client, 'inspect_container', { container: `${fixture.prefix}-nope` })).toBe(
      `No container named or with id "${fixture.prefix}-nope" (list_containers with all=true lists them)`,
    );
    expect(await refused(client, 'inspect_container', { container: ambiguousPrefix })).toMatch(
      new RegExp(
        `^Container reference "${ambiguousPrefix}" is ambiguous: it is a prefix of \\d+ container ids; give more of the id or the name$`,
      ),
    );
    expect(new Set(proxy.requests.map((r) => r.method))).toEqual(new Set(['GET']));
    expect(await engineState()).toBe(before);
  });

  it('refuses other hostile filters the same way', async () => {
    const before = await engineState();
    proxy.requests.length = 0;
    for (const name of ['web; id', '$(id)', '../x', 'a/b', 'x'.repeat(300), 'wеb']) {
      expect(await refused(client, 'list_containers', { name })).toMatch(
        /^(name: ".*" is not part of a container name|Invalid arguments for list_containers: name: )/,
      );
    }
    for (const label of ['a b=c', 'k\n=v', '=v']) {
      expect(await refused(client, 'list_containers', { label })).toMatch(/^label: ".*" is not key or key=value$/);
    }
    for (const reference of ['nginx; id', '../x', '-x']) {
      expect(await refused(client, 'list_images', { reference })).toMatch(/^reference: ".*" is not an image reference/);
    }
    expect(proxy.requests).toEqual([]);
    expect(await engineState()).toBe(before);
  });
});

describe('restart_container (toolset control)', () => {
  it('is not listed without MONITORING_ALLOW_RESTART; with it, sends exactly one POST /containers/<id>/restart', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).not.toContain('restart_container');
    await expect(call(client, 'restart_container', { container: fixture.name('web') })).rejects.toThrow(
      'Unknown tool: restart_container',
    );

    const control = await startService(service, {
      env: { DOCKER_SOCKET: proxy.socketPath, MONITORING_ALLOW_RESTART: 'true' },
    });
    const controlClient = await connectClient(control.url, 'streamable-http');
    try {
      const listed = await controlClient.listTools();
      expect(listed.tools.find((tool) => tool.name === 'restart_container')?.annotations).toMatchObject({
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: false,
      });
      const before = await inspectReal(fixture.name('web'));
      proxy.requests.length = 0;
      const restarted = await ok<{
        restarted: boolean;
        previous_started_at: string;
        started_at: string;
        status: string;
      }>(controlClient, 'restart_container', { container: fixture.name('web'), timeout_seconds: 0 });
      const after = await inspectReal(fixture.name('web'));
      expect(restarted.previous_started_at).toBe((before['State'] as { StartedAt: string }).StartedAt);
      expect(restarted.started_at).toBe((after['State'] as { StartedAt: string }).StartedAt);
      expect(restarted.started_at).not.toBe(restarted.previous_started_at);
      expect(restarted.status).toBe('running');
      const writes = proxy.requests.filter((r) => r.method !== 'GET');
      expect(writes.map((r) => `${r.method} ${r.path}`)).toEqual([
        `POST /containers/${after['Id'] as string}/restart?t=0`,
      ]);
      // A hostile reference is refused before anything is sent, here too.
      proxy.requests.length = 0;
      await refused(controlClient, 'restart_container', { container: '--help' });
      expect(proxy.requests).toEqual([]);
    } finally {
      await controlClient.close();
      await control.close();
    }
  });

  it('is hidden by MCP_READ_ONLY even when allowed', async () => {
    const readOnly = await startService(service, {
      env: { DOCKER_SOCKET: proxy.socketPath, MONITORING_ALLOW_RESTART: 'true', MCP_READ_ONLY: 'true' },
    });
    const readOnlyClient = await connectClient(readOnly.url, 'sse');
    try {
      expect((await readOnlyClient.listTools()).tools.map((tool) => tool.name)).not.toContain('restart_container');
    } finally {
      await readOnlyClient.close();
      await readOnly.close();
    }
  });
});

describe('no engine', () => {
  it('answers with a clear error and an unhealthy /health, without hanging', async () => {
    const down = await startService(service, { env: { DOCKER_SOCKET: '/nonexistent/docker.sock' } });
    const downClient = await connectClient(down.url, 'streamable-http');
    try {
      expect(await refused(downClient, 'list_containers', {})).toBe(
        'No Docker engine socket at unix:///nonexistent/docker.sock (mount /var/run/docker.sock or set DOCKER_HOST)',
      );
      const health = await httpRequest(`${down.url}/health`);
      expect(health.status).toBe(503);
      // /health pings with node's own client (no dockerode): the same message as the tools'.
      expect(health.json).toMatchObject({
        status: 'unhealthy',
        checks: {
          docker: {
            status: 'down',
            error:
              'No Docker engine socket at unix:///nonexistent/docker.sock (mount /var/run/docker.sock or set DOCKER_HOST)',
          },
        },
      });
      // The host tools do not need the engine.
      await ok(downClient, 'get_system_metrics', {});
    } finally {
      await downClient.close();
      await down.close();
    }
  });
});
