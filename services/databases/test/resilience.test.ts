import { type ChildProcess, spawn } from 'node:child_process';

import {
  callTool as call,
  callToolOk as ok,
  connectClient,
  freePort,
  type StartedService,
  startService,
  waitUntil,
} from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { createFixture, type Fixture, newKey, pgAdmin } from './helpers/fixture.js';

let f: Fixture;

beforeAll(async () => {
  f = await createFixture();
}, 60_000);

afterAll(async () => {
  await f?.close();
}, 60_000);

/** Our own redis-server on a free port (the shared one is never stopped). */
function startRedis(port: number): ChildProcess {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  child.on('error', (error) => {
    throw new Error(`redis-server could not start (is it installed?): ${error.message}`);
  });
  return child;
}

async function healthOf(svc: StartedService): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(new URL('/health', svc.url));
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('Redis stopped mid-run', () => {
  it('answers from the registry while Redis is down, and caches again when it is back', async () => {
    const port = await freePort();
    let redis = startRedis(port);
    const svc = await startService(service, { env: { ...f.env, DATABASES_REDIS_URL: `redis://127.0.0.1:${port}/0` } });
    const client = await connectClient(svc.url, 'streamable-http');
    try {
      await waitUntil(
        async () => ((await healthOf(svc)).body['checks'] as { cache: { cache: string } }).cache.cache === 'up',
        'the cache to connect',
        {
          timeoutMs: 10_000,
        },
      );
      await ok(client, 'sync_metadata', { server: 'pg-main' });
      const args = { server: 'pg-main', database: f.pg.sales, table: 'customers' };
      expect(await ok(client, 'describe_table', args)).toMatchObject({ cached: false });
      const hit = await ok(client, 'describe_table', args);
      expect(hit).toMatchObject({ cached: true });

      redis.kill('SIGKILL');
      await waitUntil(
        async () => ((await healthOf(svc)).body['checks'] as { cache: { cache: string } }).cache.cache === 'down',
        'the cache to notice',
        {
          timeoutMs: 10_000,
        },
      );
      const health = await healthOf(svc);
      expect(health.status).toBe(200);
      const slower = await ok(client, 'describe_table', args);
      expect(slower).toEqual({ ...hit, cached: false });
      expect(await ok(client, 'list_tables', { server: 'pg-main', database: f.pg.sales })).toMatchObject({
        cached: false,
      });

      redis = startRedis(port);
      await waitUntil(
        async () => ((await healthOf(svc)).body['checks'] as { cache: { cache: string } }).cache.cache === 'up',
        'the cache to reconnect',
        {
          timeoutMs: 15_000,
        },
      );
      await ok(client, 'describe_table', args);
      expect(await ok(client, 'describe_table', args)).toMatchObject({ cached: true });
    } finally {
      await client.close();
      await svc.close();
      redis.kill('SIGKILL');
    }
  }, 60_000);
});

describe('a server made unreachable', () => {
  it('opens its breaker while the other servers keep answering, and closes it when the server is back', async () => {
    const svc = await startService(service, {
      env: { ...f.env, DATABASES_BREAKER_THRESHOLD: '2', DATABASES_BREAKER_COOLDOWN_MS: '300' },
    });
    const client = await connectClient(svc.url, 'sse');
    try {
      expect(((await ok(client, 'sync_metadata', {}))['results'] as { ok: boolean }[]).every((r) => r.ok)).toBe(true);
      const query = { server: 'pg-rw', database: f.pg.scratch, sql: 'SELECT count(*)::int AS n FROM notes' };
      expect(await ok(client, 'execute_sql', query)).toMatchObject({ rows: [{ n: 0 }] });

      f.pgProxy.cut();
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const failed = await call(client, 'execute_sql', query);
        expect(failed.isError).toBe(true);
        expect(failed.text).toMatch(
          /^Cannot reach pg-rw \((ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE)\)\.$|^pg-rw refused the connection/,
        );
      }
      const fast = await call(client, 'execute_sql', query);
      expect(fast.isError).toBe(true);
      expect(fast.text).toMatch(/^pg-rw is unavailable: its circuit breaker is open after 2 failed attempts/);
      const { servers } = await ok<{
        servers: { server: string; health: string; breaker: { state: string } }[];
      }>(client, 'list_servers');
      expect(servers.map((s) => [s.server, s.health, s.breaker.state])).toEqual([
        ['maria-main', 'up', 'closed'],
        ['maria-rw', 'up', 'closed'],
        ['pg-main', 'up', 'closed'],
        ['pg-rw', 'down', 'open'],
      ]);
      // The others answer, and a sync of all marks only the dead one.
      expect(
        await ok(client, 'execute_sql', {
          server: 'pg-main',
          database: f.pg.sales,
          sql: 'SELECT count(*)::int AS n FROM customers',
        }),
      ).toMatchObject({
        rows: [{ n: 3 }],
      });
      const sync = (await ok(client, 'sync_metadata', {}))['results'] as {
        server: string;
        ok: boolean;
        error: string | null;
      }[];
      expect(sync.map((r) => [r.server, r.ok])).toEqual([
        ['maria-main', true],
        ['maria-rw', true],
        ['pg-main', true],
        ['pg-rw', false],
      ]);
      // The registry keeps what it knew about the dead server.
      expect(await ok(client, 'list_tables', { server: 'pg-rw', database: f.pg.scratch })).toMatchObject({
        tables: [{ name: 'notes' }],
      });

      f.pgProxy.restore();
      await waitUntil(
        async () => !(await call(client, 'execute_sql', query)).isError,
        'the breaker to let a trial through and close',
        {
          timeoutMs: 10_000,
          intervalMs: 100,
        },
      );
      const after = (await ok(client, 'list_servers'))['servers'] as { server: string; breaker: { state: string } }[];
      expect(after.find((s) => s.server === 'pg-rw')?.breaker.state).toBe('closed');
    } finally {
      f.pgProxy.restore();
      await client.close();
      await svc.close();
    }
  }, 60_000);

  it('a server that accepts connections and never answers delays only its own sync', async () => {
    const svc = await startService(service, { env: f.env });
    const client = await connectClient(svc.url, 'streamable-http');
    try {
      f.myProxy.stall();
      const results = (await ok(client, 'sync_metadata', {}))['results'] as {
        server: string;
        ok: boolean;
        error: string | null;
      }[];
      expect(results.map((r) => [r.server, r.ok])).toEqual([
        ['maria-main', true],
        ['maria-rw', false],
        ['pg-main', true],
        ['pg-rw', true],
      ]);
      expect(results.find((r) => r.server === 'maria-rw')?.error).toMatch(/^Cannot reach maria-rw \(ETIMEDOUT\)\.$/);
    } finally {
      f.myProxy.restore();
      await client.close();
      await svc.close();
    }
  }, 60_000);
});

describe('timeouts stop the statement on the server', () => {
  it('PostgreSQL: statement_timeout cancels pg_sleep on a read-write server; the next call works', async () => {
    const svc = await startService(service, { env: f.env });
    const client = await connectClient(svc.url, 'streamable-http');
    try {
      await ok(client, 'sync_metadata', { server: 'pg-rw' });
      const slow = await call(client, 'execute_sql', {
        server: 'pg-rw',
        database: f.pg.scratch,
        sql: "SELECT pg_sleep(20), 'mcp-timeout-probe'",
      });
      expect(slow).toMatchObject({
        isError: true,
        text: 'The statement ran longer than 3000 ms on pg-rw and was cancelled by the server.',
      });
      const running = await pgAdmin(
        f.pg.scratch,
        "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%mcp-timeout-probe%' AND state = 'active' AND pid <> pg_backend_pid()",
      );
      expect(running).toEqual([]);
      expect(
        await ok(client, 'execute_sql', { server: 'pg-rw', database: f.pg.scratch, sql: 'SELECT 1 AS one' }),
      ).toMatchObject({ rows: [{ one: 1 }] });
    } finally {
      await client.close();
      await svc.close();
    }
  }, 30_000);

  it('MariaDB: max_statement_time stops SLEEP on a read-write server', async () => {
    const svc = await startService(service, { env: f.env });
    const client = await connectClient(svc.url, 'streamable-http');
    try {
      await ok(client, 'sync_metadata', { server: 'maria-rw' });
      const slow = await call(client, 'execute_sql', {
        server: 'maria-rw',
        database: f.my.rw,
        sql: 'SELECT SLEEP(20) AS s, COUNT(*) FROM notes',
      });
      // MariaDB ends SLEEP early with 1 when interrupted, or raises 1969: either way it ran no longer than the limit.
      if (slow.isError)
        expect(slow.text).toBe('The statement ran longer than 3000 ms on maria-rw and was stopped on the server.');
      else expect((slow.structured['rows'] as { s: string }[])[0]?.s).toBe('1');
      expect(
        await ok(client, 'execute_sql', { server: 'maria-rw', database: f.my.rw, sql: 'SELECT 1 AS one' }),
      ).toMatchObject({ rows: [{ one: 1 }] });
    } finally {
      await client.close();
      await svc.close();
    }
  }, 30_000);
});

describe('key rotation', () => {
  it('re-encrypts stored passwords under the new key, then runs without the old one; an unknown key stops the start', async () => {
    const ids = async () =>
      pgAdmin<{ name: string; password_key_id: string | null }>(
        f.registryDb,
        'SELECT name, password_key_id FROM mcp_databases.servers ORDER BY name',
      );
    const first = await startService(service, { env: f.env });
    await first.close();
    const before = await ids();
    const oldId = before.find((row) => row.name === 'maria-main')?.password_key_id;
    expect(oldId).toMatch(/^[0-9a-f]{12}$/);
    expect(before.map((row) => [row.name, row.password_key_id === null])).toEqual([
      ['maria-main', false],
      ['maria-rw', true],
      ['pg-main', false],
      ['pg-rw', true],
    ]);

    const next = newKey();
    const secrets = { PG_MAIN_PASSWORD: 'unused-with-trust', MARIA_MAIN_PASSWORD: f.my.password };
    // A key that never encrypted them, without the old one: refused, nothing overwritten.
    f.writeSecrets({ ...secrets, DATABASES_ENCRYPTION_KEY: next });
    await expect(startService(service, { env: f.env })).rejects.toThrow(
      /^The registry holds passwords of maria-main, pg-main encrypted with key [0-9a-f]{12}, which is neither DATABASES_ENCRYPTION_KEY/,
    );
    expect(await ids()).toEqual(before);

    // Rotation: the new key, the old one listed as previous.
    f.writeSecrets({ ...secrets, DATABASES_ENCRYPTION_KEY: next, DATABASES_ENCRYPTION_KEY_PREVIOUS: f.key });
    const rotating = await startService(service, { env: f.env });
    await rotating.close();
    const after = await ids();
    const newId = after.find((row) => row.name === 'maria-main')?.password_key_id;
    expect(newId).not.toBe(oldId);
    expect(after.filter((row) => row.password_key_id !== null).every((row) => row.password_key_id === newId)).toBe(
      true,
    );

    // The old key can go: the password decrypts with the new key alone, and the login works.
    f.writeSecrets({ ...secrets, DATABASES_ENCRYPTION_KEY: next });
    const svc = await startService(service, { env: f.env });
    const client = await connectClient(svc.url, 'streamable-http');
    try {
      expect(await ok(client, 'sync_metadata', { server: 'maria-main' })).toMatchObject({ results: [{ ok: true }] });
      expect(
        await ok(client, 'execute_sql', {
          server: 'maria-main',
          database: f.my.shop,
          sql: 'SELECT CURRENT_USER() AS u',
        }),
      ).toMatchObject({
        rows: [{ u: expect.stringMatching(new RegExp(`^${f.my.user}@`)) as unknown }],
      });
    } finally {
      await client.close();
      await svc.close();
      f.writeSecrets({ ...secrets, DATABASES_ENCRYPTION_KEY: f.key });
      // Back to the fixture's key for any later test: re-encrypt under it.
      f.writeSecrets({ ...secrets, DATABASES_ENCRYPTION_KEY: f.key, DATABASES_ENCRYPTION_KEY_PREVIOUS: next });
      await (await startService(service, { env: f.env })).close();
    }
  }, 60_000);
});
