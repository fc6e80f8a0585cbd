/**
 * Every Docker and log tool against the real engine, through an MCP client over Streamable HTTP
 * (and the log tools over legacy SSE too), on containers of a tiny locally built image that print
 * known lines on a schedule.
 */
import {
  callToolOk as ok,
  callToolRefused as refused,
  type ClientTransportKind,
  connectClient,
  type StartedService,
  startService,
  waitUntil,
} from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { docker, DockerFixture, engineGet, inspectReal } from './helpers/docker-fixture.js';

interface Entry {
  stream: 'stdout' | 'stderr';
  line: string;
  time?: string;
  cut?: true;
}
interface Logs {
  entries: Entry[];
  truncated: boolean;
  truncated_reason?: string;
  next_since?: string;
  window: { since: string | null; until: string };
  note?: string;
  tail: number | null;
}

const LOG_SCRIPT =
  'i=1; while [ $i -le 20 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); sleep 0.02; done; echo done; exec sleep 3600';
const EXPECTED_OUT = [...Array.from({ length: 20 }, (_, i) => `out ${i + 1}`), 'done'];
const EXPECTED_ERR = Array.from({ length: 20 }, (_, i) => `err ${i + 1}`);

/** Secrets planted in a container's environment, labels and command line: none may come back. */
const SECRET_ENV = {
  POSTGRES_PASSWORD: 'env-Secret-1',
  db_password: 'env-Secret-2',
  GITHUB_TOKEN: 'ghp_env0Secret0000000000000000000000003',
  AWS_SECRET_ACCESS_KEY: 'env-Secret-4',
  apiKey: 'env-Secret-5',
  DATABASE_URL: 'postgres://app:env-Secret-6@db:5432/app',
  MSSQL: 'Server=db;User Id=sa;Password=env-Secret-7;',
  NODE_ENV: 'production',
  PUBLIC_URL: 'https://shop.example.com',
};
const SECRET_LABELS = {
  'com.example.db-password': 'label-Secret-1',
  'com.example.backup': 'redis://:label-Secret-2@cache:6379',
  'com.example.team': 'payments',
};

const fixture = new DockerFixture();
let svc: StartedService;
let client: Client;
const started = new Date(Date.now() - 1000).toISOString();

async function logsDone(name: string, text: string): Promise<void> {
  await waitUntil(
    async () => (await engineGet(`/containers/${name}/logs?stdout=1&stderr=1`)).body.includes(text),
    `${name} printed ${text}`,
    { timeoutMs: 60_000, intervalMs: 100 },
  );
}

beforeAll(async () => {
  await fixture.build();
  await Promise.all([
    fixture.run('logs', LOG_SCRIPT),
    fixture.run('tty', 'echo tty-one; echo tty-two >&2; exec sleep 3600', { tty: true }),
    fixture.run('long', 'head -c 5000 /dev/zero | tr "\\0" x; echo; echo after-long; exec sleep 3600'),
    fixture.run('big', 'yes "big line 0123456789 abcdefghijklmnopqrstuvwxyz" | head -c 3000000; exec sleep 3600'),
    fixture.run('patho', 'printf "%s!\\n" aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; exec sleep 3600'),
    fixture.run('secrets', 'unused', {
      env: SECRET_ENV,
      labels: SECRET_LABELS,
      command: [
        'sh',
        '-c',
        'exec sleep 3600',
        '--password=cmd-Secret-1',
        '--api-key',
        'cmd-Secret-2',
        'postgres://app:cmd-Secret-3@db/app',
      ],
    }),
  ]);
  await Promise.all([
    logsDone(fixture.name('logs'), 'done'),
    logsDone(fixture.name('tty'), 'tty-two'),
    logsDone(fixture.name('long'), 'after-long'),
    logsDone(fixture.name('patho'), '!'),
  ]);
  svc = await startService(service, {
    env: { MONITORING_LOG_MAX_LINE_BYTES: '1024' },
  });
  client = await connectClient(svc.url, 'streamable-http');
}, 300_000);

afterAll(async () => {
  await client?.close();
  await svc?.close();
  await fixture.cleanup();
});

describe('list_containers, inspect_container, list_images', () => {
  it('lists our containers with their state, filters by name, label and status', async () => {
    const listed = await ok<{
      containers: { name: string; state: string; image: string; networks: string[] }[];
      truncated: boolean;
    }>(client, 'list_containers', { name: fixture.prefix });
    expect(listed.containers.map((c) => c.name)).toEqual(
      ['big', 'logs', 'long', 'patho', 'secrets', 'tty'].map((suffix) => fixture.name(suffix)),
    );
    expect(listed.containers.every((c) => c.state === 'running' && c.image === fixture.image)).toBe(true);
    expect(listed.containers[0]?.networks).toEqual(['none']);
    const byLabel = await ok<{ containers: unknown[] }>(client, 'list_containers', {
      label: `mcp-montest=${fixture.prefix}`,
    });
    expect(byLabel.containers).toHaveLength(6);
    const exited = await ok<{ containers: unknown[] }>(client, 'list_containers', {
      name: fixture.prefix,
      status: 'exited',
    });
    expect(exited.containers).toEqual([]);
  });

  it('inspects by name, full id and id prefix alike', async () => {
    const id = (await inspectReal(fixture.name('logs')))['Id'] as string;
    const byName = await ok<{
      id: string;
      name: string;
      state: { running: boolean; exit_code: number };
      config: { cmd: string[] };
    }>(client, 'inspect_container', { container: fixture.name('logs') });
    expect(byName.id).toBe(id);
    expect(byName.name).toBe(fixture.name('logs'));
    expect(byName.state).toMatchObject({ running: true, exit_code: 0 });
    expect(byName.config.cmd).toEqual(['sh', '-c', LOG_SCRIPT]);
    expect(await ok(client, 'inspect_container', { container: id })).toEqual(byName);
    expect(await ok(client, 'inspect_container', { container: id.slice(0, 16) })).toEqual(byName);
    const text = await refused(client, 'inspect_container', { container: `${fixture.prefix}-missing` });
    expect(text).toBe(
      `No container named or with id "${fixture.prefix}-missing" (list_containers with all=true lists them)`,
    );
  });

  it('masks secrets in environment, labels, command and arguments, and keeps the rest', async () => {
    const inspected = await ok<{
      config: { env: string[]; labels: Record<string, string>; cmd: string[]; args: string[] };
    }>(client, 'inspect_container', { container: fixture.name('secrets') });
    expect(inspected.config.env).toEqual(
      expect.arrayContaining([
        'POSTGRES_PASSWORD=***',
        'db_password=***',
        'GITHUB_TOKEN=***',
        'AWS_SECRET_ACCESS_KEY=***',
        'apiKey=***',
        'DATABASE_URL=postgres://app:***@db:5432/app',
        'MSSQL=Server=db;User Id=sa;Password=***;',
        'NODE_ENV=production',
        'PUBLIC_URL=https://shop.example.com',
      ]),
    );
    expect(inspected.config.labels).toMatchObject({
      'com.example.db-password': '***',
      'com.example.backup': 'redis://:***@cache:6379',
      'com.example.team': 'payments',
    });
    const masked = ['--password=***', '--api-key', '***', 'postgres://app:***@db/app'];
    expect(inspected.config.cmd).toEqual(['sh', '-c', 'exec sleep 3600', ...masked]);
    expect(inspected.config.args).toEqual(['-c', 'exec sleep 3600', ...masked]);
    const listed = await ok(client, 'list_containers', { name: fixture.name('secrets') });
    const events = await ok(client, 'docker_events', { since: started, container: fixture.name('secrets') });
    // Whatever carries them (inspect, the list's labels, the events' attributes), no planted value comes back.
    const text = JSON.stringify([inspected, listed, events]);
    for (const secret of [...Object.values(SECRET_ENV), ...Object.values(SECRET_LABELS)].flatMap(
      (v) => v.match(/[a-z]+-Secret-\d|ghp_\w+/g) ?? [],
    )) {
      expect(text, secret).not.toContain(secret);
    }
    for (const secret of ['cmd-Secret-1', 'cmd-Secret-2', 'cmd-Secret-3']) expect(text).not.toContain(secret);
    expect(text).toContain('payments');
  });

  it('lists our image', async () => {
    const images = await ok<{ images: { tags: string[]; size_bytes: number }[] }>(client, 'list_images', {
      reference: `${fixture.prefix}*`,
    });
    expect(images.images.map((image) => image.tags)).toEqual([[fixture.image]]);
    expect(images.images[0]?.size_bytes).toBeGreaterThan(1_000_000);
  });
});

describe('get_container_logs', () => {
  it('reads both streams demultiplexed, in time order, and each stream alone', async () => {
    const both = await ok<Logs>(client, 'get_container_logs', { container: fixture.name('logs') });
    expect(both.entries.filter((e) => e.stream === 'stdout').map((e) => e.line)).toEqual(EXPECTED_OUT);
    expect(both.entries.filter((e) => e.stream === 'stderr').map((e) => e.line)).toEqual(EXPECTED_ERR);
    expect(both.entries.every((e) => e.time === undefined)).toBe(true);
    expect(both.tail).toBe(500);
    expect(both.window.since).toBeNull();
    expect(Date.parse(both.window.until)).toBeGreaterThan(Date.parse(started));
    const out = await ok<Logs>(client, 'get_container_logs', { container: fixture.name('logs'), stream: 'stdout' });
    expect(out.entries.map((e) => e.line)).toEqual(EXPECTED_OUT);
    const err = await ok<Logs>(client, 'get_container_logs', { container: fixture.name('logs'), stream: 'stderr' });
    expect(err.entries.map((e) => `${e.stream}:${e.line}`)).toEqual(EXPECTED_ERR.map((l) => `stderr:${l}`));
  });

  it('tail, timestamps, and since/until (inclusive) select exactly the lines in the window', async () => {
    const all = await ok<Logs>(client, 'get_container_logs', {
      container: fixture.name('logs'),
      timestamps: true,
      stream: 'stdout',
    });
    const times = all.entries.map((e) => e.time as string);
    expect(times.every((t) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/.test(t))).toBe(true);
    expect([...times].sort()).toEqual(times);
    // tail counts the lines of both streams, then the stream is chosen (as docker logs --tail does).
    const tail = await ok<Logs>(client, 'get_container_logs', { container: fixture.name('logs'), tail: 3 });
    expect(tail.entries.map((e) => e.line).sort()).toEqual(['done', 'err 20', 'out 20']);
    const tailOut = await ok<Logs>(client, 'get_container_logs', {
      container: fixture.name('logs'),
      tail: 3,
      stream: 'stdout',
    });
    expect(tailOut.entries.map((e) => e.line)).toEqual(['out 20', 'done']);
    const since = times[4] as string;
    const until = times[9] as string;
    const window = await ok<Logs>(client, 'get_container_logs', {
      container: fixture.name('logs'),
      stream: 'stdout',
      since,
      until,
      timestamps: true,
    });
    expect(window.entries.map((e) => e.line)).toEqual(['out 5', 'out 6', 'out 7', 'out 8', 'out 9', 'out 10']);
    expect(window.window).toEqual({ since, until });
    expect(window.tail).toBeNull();
    // A relative since covers everything printed a moment ago.
    const recent = await ok<Logs>(client, 'get_container_logs', {
      container: fixture.name('logs'),
      since: '1h',
      stream: 'stderr',
    });
    expect(recent.entries.map((e) => e.line)).toEqual(EXPECTED_ERR);
  });

  it('grep keeps matching lines (regex, (?i)), refuses a bad pattern and stops a catastrophic one', async () => {
    const grep = await ok<Logs>(client, 'get_container_logs', {
      container: fixture.name('logs'),
      grep: '^(out|err) 1[5-7]$',
    });
    expect(grep.entries.map((e) => e.line).sort()).toEqual([
      'err 15',
      'err 16',
      'err 17',
      'out 15',
      'out 16',
      'out 17',
    ]);
    const insensitive = await ok<Logs>(client, 'get_container_logs', {
      container: fixture.name('logs'),
      grep: '(?i)^ERR 2$',
    });
    expect(insensitive.entries).toEqual([{ stream: 'stderr', line: 'err 2' }]);
    expect(await refused(client, 'get_container_logs', { container: fixture.name('logs'), grep: '(unclosed' })).toMatch(
      /^grep: invalid regular expression "\(unclosed": Invalid regular expression/,
    );
    // A second service with a short budget: the pattern would run for minutes; the call ends at the budget.
    const strict = await startService(service, { env: { MONITORING_REGEX_BUDGET_MS: '300' } });
    const strictClient = await connectClient(strict.url, 'streamable-http');
    try {
      expect(
        await refused(strictClient, 'get_container_logs', { container: fixture.name('patho'), grep: '^(a+)+$' }),
      ).toMatch(/^grep: the pattern used more than 300 ms of matching time \(catastrophic backtracking\?\)/);
      // The service still answers at once afterwards (the worker was stopped, not the event loop).
      expect(
        (await ok<Logs>(strictClient, 'get_container_logs', { container: fixture.name('tty') })).entries,
      ).toHaveLength(2);
    } finally {
      await strictClient.close();
      await strict.close();
    }
  });

  it('a TTY container: all output is stdout, and stream=stderr says why it is empty', async () => {
    const tty = await ok<Logs>(client, 'get_container_logs', { container: fixture.name('tty') });
    expect(tty.entries).toEqual([
      { stream: 'stdout', line: 'tty-one' },
      { stream: 'stdout', line: 'tty-two' },
    ]);
    const err = await ok<Logs>(client, 'get_container_logs', { container: fixture.name('tty'), stream: 'stderr' });
    expect(err.entries).toEqual([]);
    expect(err.note).toBe('The container has a TTY: all its output is on stdout.');
  });

  it('cuts an over-long line at MONITORING_LOG_MAX_LINE_BYTES and marks it', async () => {
    const long = await ok<Logs>(client, 'get_container_logs', { container: fixture.name('long') });
    expect(long.entries).toEqual([
      { stream: 'stdout', line: 'x'.repeat(1024), cut: true },
      { stream: 'stdout', line: 'after-long' },
    ]);
  });

  it('stops at max_bytes with truncated and next_since, and reading on from next_since continues exactly', async () => {
    const first = await ok<Logs>(client, 'get_container_logs', {
      container: fixture.name('big'),
      since: '1h',
      max_bytes: 4096,
      timestamps: true,
    });
    expect(first.truncated).toBe(true);
    expect(first.truncated_reason).toBe('max_bytes');
    expect(JSON.stringify(first.entries).length).toBeLessThanOrEqual(4096);
    expect(first.entries.length).toBeGreaterThan(10);
    const second = await ok<Logs>(client, 'get_container_logs', {
      container: fixture.name('big'),
      since: first.next_since,
      max_bytes: 4096,
      timestamps: true,
    });
    expect(second.entries[0]?.time).toBe(first.next_since);
    expect(Date.parse(second.entries[0]?.time ?? '')).toBeGreaterThanOrEqual(
      Date.parse(first.entries.at(-1)?.time ?? ''),
    );
  });

  it('refuses bad windows with a clear message', async () => {
    expect(await refused(client, 'get_container_logs', { container: fixture.name('logs'), since: 'yesterday' })).toBe(
      'since: "yesterday" is not a time: use RFC 3339 (2026-11-29T03:00:00Z), a relative age (30s, 15m, 2h, 1d, 1w) or "now"',
    );
    expect(
      await refused(client, 'get_container_logs', { container: fixture.name('logs'), since: '1h', until: '2h' }),
    ).toMatch(/^since \(.*\) is after until \(.*\): the window is empty$/);
  });
});

describe('search_logs without Loki (the engine)', () => {
  it('matches a regex over the named containers, newest first, and says when more matched than the limit', async () => {
    const found = await ok<{
      backend: string;
      matches: { container: string; stream: string; line: string; time: string }[];
      match_count: number;
      truncated: boolean;
      truncated_reason?: string;
    }>(client, 'search_logs', { query: '^err 1[5-9]$', containers: [fixture.name('logs'), fixture.name('tty')] });
    expect(found.backend).toBe('engine');
    expect(found.matches.map((m) => m.line)).toEqual(['err 19', 'err 18', 'err 17', 'err 16', 'err 15']);
    expect(found.matches.every((m) => m.container === fixture.name('logs') && m.stream === 'stderr')).toBe(true);
    expect(found).toMatchObject({ match_count: 5, truncated: false });
    const limited = await ok<typeof found>(client, 'search_logs', {
      query: '^err 1[5-9]$',
      containers: [fixture.name('logs')],
      limit: 2,
    });
    expect(limited.matches.map((m) => m.line)).toEqual(['err 19', 'err 18']);
    expect(limited).toMatchObject({
      match_count: 5,
      truncated: true,
      truncated_reason: 'limit: more than 2 lines matched; the newest are shown',
    });
  });

  it('searches every running container when none is named', async () => {
    const found = await ok<{ containers_searched: string[]; matches: { container: string; line: string }[] }>(
      client,
      'search_logs',
      { query: '^tty-(one|two)$', since: '1h' },
    );
    expect(found.containers_searched).toEqual(expect.arrayContaining([fixture.name('logs'), fixture.name('tty')]));
    expect(found.matches.filter((m) => m.container === fixture.name('tty')).map((m) => m.line)).toEqual([
      'tty-two',
      'tty-one',
    ]);
    expect(await refused(client, 'search_logs', { query: '[' })).toMatch(/^query: invalid regular expression "\["/);
  });
});

describe('container_stats and docker_events', () => {
  it('measures one container and every running one', async () => {
    const one = await ok<{
      containers: {
        name: string;
        memory: { used_bytes: number; limit_bytes: number };
        pids: number;
        cpu_percent: number;
      }[];
    }>(client, 'container_stats', { container: fixture.name('logs') });
    expect(one.containers).toHaveLength(1);
    const stats = one.containers[0];
    expect(stats?.name).toBe(fixture.name('logs'));
    expect(stats?.memory.used_bytes).toBeGreaterThan(0);
    expect(stats?.memory.used_bytes).toBeLessThan(stats?.memory.limit_bytes ?? 0);
    expect(stats?.pids).toBe(1); // sh exec'd sleep: one process
    expect(stats?.cpu_percent).toBeGreaterThanOrEqual(0);
    const all = await ok<{ containers: { name: string }[]; running: number }>(client, 'container_stats', {});
    const names = all.containers.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['big', 'logs', 'long', 'patho', 'tty'].map((s) => fixture.name(s))));
    expect(all.running).toBeGreaterThanOrEqual(6);
  });

  it('reports start, kill, die (with exit code) and stop of a container, in order, for the window', async () => {
    await fixture.run('events', 'exec sleep 3600');
    const since = new Date(Date.now() - 60_000).toISOString();
    await docker(['stop', '-t', '1', fixture.name('events')]);
    const events = await ok<{
      events: { action: string; name: string; exit_code: number | null; type: string }[];
      window: { since: string };
    }>(client, 'docker_events', { since, container: fixture.name('events') });
    expect(events.window.since).toBe(since);
    const actions = events.events.map((e) => e.action);
    // docker stop -t 1: SIGTERM (ignored by PID 1), then SIGKILL: two kill events, then die and stop.
    const lifecycle = actions.filter(
      (a, i) => ['create', 'start', 'kill', 'die', 'stop'].includes(a) && a !== actions[i - 1],
    );
    expect(lifecycle).toEqual(['create', 'start', 'kill', 'die', 'stop']);
    expect(events.events.every((e) => e.name === fixture.name('events') && e.type === 'container')).toBe(true);
    expect(events.events.find((e) => e.action === 'die')?.exit_code).toBe(137);
    const stopped = await refused(client, 'container_stats', { container: fixture.name('events') });
    expect(stopped).toBe(
      `Container "${fixture.name('events')}" is not running (exited): stats need a running container`,
    );
    const limited = await ok<{ events: unknown[]; truncated: boolean; next_since?: string }>(client, 'docker_events', {
      since,
      container: fixture.name('events'),
      limit: 1,
    });
    expect(limited.events).toHaveLength(1);
    expect(limited.truncated).toBe(true);
    expect(typeof limited.next_since).toBe('string');
  });
});

describe.each<ClientTransportKind>(['sse'])('the log tools over %s too', (kind) => {
  it('reads logs and inspects', async () => {
    const sse = await connectClient(svc.url, kind);
    try {
      const logs = await ok<Logs>(sse, 'get_container_logs', {
        container: fixture.name('logs'),
        stream: 'stdout',
        tail: 1,
      });
      expect(logs.entries).toEqual([{ stream: 'stdout', line: 'done' }]);
      const found = await ok<{ matches: { line: string }[] }>(sse, 'search_logs', {
        query: '^out 20$',
        containers: [fixture.name('logs')],
      });
      expect(found.matches.map((m) => m.line)).toEqual(['out 20']);
    } finally {
      await sse.close();
    }
  });
});
