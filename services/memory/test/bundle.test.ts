/**
 * The bundle the image runs (dist/main.bundle.js, made by scripts/bundle-service.mjs at build time),
 * as its own process with plain node: the same service as the sources (its tools/list is the
 * reviewed snapshot), its query processes forked from the bundle too, and what a bundle changes in
 * the core still working: the YAML settings file (the parser bundled), the version read from
 * package.json, tracing (no loader hook to register), OAuth (loaded on demand, its store on the
 * external better-sqlite3), and the re-embed command's own bundle.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import {
  builtEntry,
  connectClient,
  freePort,
  okToolSpanAttributes,
  rpc,
  rpcTraceSpans,
  startServiceProcess,
  startTracedServiceProcess,
  toolAttributesWithoutDuration,
  toolsListOf,
  type TracedServiceProcess,
} from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { tempDir } from './helpers.js';

const serviceDir = fileURLToPath(new URL('..', import.meta.url));
const packageJson = JSON.parse(readFileSync(join(serviceDir, 'package.json'), 'utf8')) as {
  version: string;
  main: string;
  scripts: Record<string, string>;
};
const READY_MS = 60_000;

/** The pids and command lines of a process's children (Linux: /proc/<pid>/task/<pid>/children). */
function childCommands(pid: number): string[][] {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return children.map((child) => readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').filter(Boolean));
}

describe('the memory service bundle (what the image runs)', () => {
  let dir: string;
  let cleanup: () => void;
  let proc: TracedServiceProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    const main = builtEntry(serviceDir);
    ({ dir, cleanup } = tempDir());
    const settingsFile = join(dir, 'settings.yaml');
    writeFileSync(settingsFile, 'MEMORY_MAX_TAGS: 2\nmemory_query_workers: 1\n');
    env = { MEMORY_DB_PATH: join(dir, 'memory.db'), MCP_CONFIG_FILE: settingsFile };
    proc = await startTracedServiceProcess(main, { built: true, env, cwd: serviceDir, readyTimeoutMs: READY_MS });
  }, READY_MS + 10_000);

  afterAll(async () => {
    await proc?.stop();
    cleanup?.();
  });

  it('is what package.json names as main, start and in the image', () => {
    expect(packageJson.main).toBe('dist/main.bundle.js');
    expect(packageJson.scripts['start']).toBe('node dist/main.bundle.js');
    expect(packageJson.scripts['reembed']).toBe('node dist/reembed-main.bundle.js');
  });

  it('serves the reviewed tools/list, and names the package version, over /mcp and /sse', async () => {
    for (const kind of ['streamable-http', 'sse'] as const) {
      const client = await connectClient(proc.url, kind);
      try {
        expect(client.getServerVersion()).toEqual({
          name: 'mcp-memory',
          title: service.description,
          version: packageJson.version,
        });
        const { tools } = await client.listTools();
        expect(JSON.parse(JSON.stringify(tools))).toEqual(toolsListOf(service));
      } finally {
        await client.close();
      }
    }
  });

  it('takes its settings from the YAML file (the parser is in the bundle)', async () => {
    const { body } = await rpc(proc.url, 'tools/call', {
      name: 'memory_store',
      arguments: { content: 'three tags are one too many', tags: ['a', 'b', 'c'] },
    });
    expect(body).toMatchObject({
      result: { isError: true, content: [{ type: 'text', text: '3 tags; at most 2 (MEMORY_MAX_TAGS)' }] },
    });
  });

  it('searches in a query process forked from the bundle, and traces the call', async () => {
    const stored = await rpc(proc.url, 'tools/call', {
      name: 'memory_store',
      arguments: { content: 'the bundle starts the memory service faster', tags: ['bundle'] },
    });
    expect(stored.body).toMatchObject({ result: { structuredContent: { created: true } } });
    const traceId = 'b'.repeat(32);
    const searched = await rpc(
      proc.url,
      'tools/call',
      { name: 'memory_search', arguments: { query: 'faster memory service start', mode: 'semantic' } },
      { headers: { traceparent: `00-${traceId}-${'c'.repeat(16)}-01` } },
    );
    expect(searched.body).toMatchObject({
      result: {
        structuredContent: {
          mode: 'semantic',
          count: 1,
          results: [{ content: 'the bundle starts the memory service faster', tags: ['bundle'] }],
        },
      },
    });
    expect(childCommands(proc.pid)).toEqual([
      [
        process.execPath,
        join(serviceDir, 'dist', 'query-entry.bundle.js'),
        JSON.stringify({ path: env['MEMORY_DB_PATH'], busyTimeoutMs: 5000 }),
      ],
    ]);
    const trace = await rpcTraceSpans(proc.receiver, traceId);
    const tool = trace.find((span) => span.name === 'tools/call memory_search');
    expect(tool && toolAttributesWithoutDuration(tool)).toEqual(
      okToolSpanAttributes({ service: 'memory', tool: 'memory_search', transport: 'rpc' }),
    );
    expect(tool?.service).toBe('memory');
  });

  it('runs the built-in OAuth server (a lazily loaded part, its store on better-sqlite3)', async () => {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    const oauth = await startServiceProcess(builtEntry(serviceDir), {
      built: true,
      cwd: serviceDir,
      readyTimeoutMs: READY_MS,
      env: {
        PORT: String(port),
        MEMORY_DB_PATH: join(dir, 'oauth-memory.db'),
        MCP_AUTH: 'oauth',
        // A well-formed hash (scrypt.N.r.p.salt.hash): nobody logs in here.
        MCP_OAUTH_USERS: `alice:scrypt.32768.8.1.${'A'.repeat(22)}.${'B'.repeat(43)}`,
        MCP_OAUTH_DB: join(dir, 'oauth.db'),
        MCP_PUBLIC_URL: publicUrl,
      },
    });
    try {
      const unauthorised = await fetch(`${publicUrl}/rpc`, { method: 'POST', body: '{}' });
      expect(unauthorised.status).toBe(401);
      expect(unauthorised.headers.get('www-authenticate')).toBe(
        `Bearer realm="mcp-memory", resource_metadata="${publicUrl}/.well-known/oauth-protected-resource"`,
      );
      const registered = await fetch(`${publicUrl}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_name: 'bundle test',
          redirect_uris: ['http://127.0.0.1:8976/callback'],
          token_endpoint_auth_method: 'none',
        }),
      });
      expect(registered.status).toBe(201);
      expect(await registered.json()).toMatchObject({
        client_name: 'bundle test',
        redirect_uris: ['http://127.0.0.1:8976/callback'],
      });
      expect(readFileSync(join(dir, 'oauth.db')).subarray(0, 15).toString()).toBe('SQLite format 3');
    } finally {
      await oauth.stop();
    }
  });

  it('the re-embed command runs from its bundle', async () => {
    await proc.stop();
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [join(serviceDir, 'dist', 'reembed-main.bundle.js')],
      { env: { PATH: process.env['PATH'] ?? '', ...env }, cwd: serviceDir },
    );
    expect({ stdout, stderr }).toEqual({
      stdout: '',
      stderr: 'nothing to do: the database already uses builtin:hashed-ngrams-v1 (384 dimensions)\n',
    });
  });
});
