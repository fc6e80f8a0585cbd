import { callTool as call, callToolOk as ok, connectClient, startService, waitUntil } from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { createFixture, type Fixture, mysqlAdmin, pgAdmin } from './helpers/fixture.js';

let f: Fixture;

beforeAll(async () => {
  f = await createFixture();
}, 60_000);

afterAll(async () => {
  await f?.close();
}, 60_000);

interface Server {
  server: string;
  last_sync: { ok: boolean | null; finished_at: string | null };
}

describe('syncs without being asked', () => {
  it('at start in the background, then on the schedule', async () => {
    const svc = await startService(service, {
      env: { ...f.env, DATABASES_SYNC_ON_START: 'true', DATABASES_SYNC_INTERVAL: '1' },
    });
    const client = await connectClient(svc.url, 'streamable-http');
    const servers = async () => ((await ok(client, 'list_servers'))['servers'] as Server[]).map((s) => s.last_sync);
    try {
      await waitUntil(async () => (await servers()).every((s) => s.ok === true), 'the start-up sync of every server', {
        timeoutMs: 20_000,
        intervalMs: 50,
      });
      const first = (await servers()).map((s) => s.finished_at);
      await waitUntil(
        async () => (await servers()).every((s, index) => s.finished_at !== null && s.finished_at !== first[index]),
        'a scheduled sync of every server',
        { timeoutMs: 20_000, intervalMs: 100 },
      );
      // And what a scheduled sync sees reaches the tools.
      await pgAdmin(f.pg.sales, 'CREATE TABLE public.added_later (id int)');
      await waitUntil(
        async () =>
          !(await call(client, 'describe_table', { server: 'pg-main', database: f.pg.sales, table: 'added_later' }))
            .isError,
        'the new table in the registry',
        { timeoutMs: 20_000, intervalMs: 100 },
      );
    } finally {
      await client.close();
      await svc.close();
    }
  }, 60_000);
});

describe('a call cut short cancels its statement on the server', () => {
  it.each([
    ['pg-rw', () => f.pg.scratch, "SELECT pg_sleep(20), 'mcp-cancel-probe'"],
    ['maria-rw', () => f.my.rw, "SELECT SLEEP(20), 'mcp-cancel-probe'"],
  ])(
    '%s: MCP_TOOL_TIMEOUT_MS fires before the server timeout; nothing keeps running',
    async (server, database, sql) => {
      const svc = await startService(service, { env: { ...f.env, MCP_TOOL_TIMEOUT_MS: '700' } });
      const client = await connectClient(svc.url, 'streamable-http');
      try {
        await ok(client, 'sync_metadata', { server });
        const result = await call(client, 'execute_sql', { server, database: database(), sql });
        expect(result).toMatchObject({ isError: true, text: 'execute_sql timed out after 700 ms' });
        const running = async () =>
          server === 'pg-rw'
            ? (
                await pgAdmin(
                  f.pg.scratch,
                  "SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%mcp-cancel-probe%' AND pid <> pg_backend_pid()",
                )
              ).length
            : (
                await mysqlAdmin<{ n: number }>(
                  "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE '%mcp-cancel-probe%' AND ID <> CONNECTION_ID()",
                )
              )[0]?.n;
        await waitUntil(async () => Number(await running()) === 0, `the statement on ${server} to stop`, {
          // Well before the server's own statement_timeout_ms (3000) would stop it.
          timeoutMs: 1500,
          intervalMs: 50,
        });
        expect(await ok(client, 'execute_sql', { server, database: database(), sql: 'SELECT 1 AS one' })).toMatchObject(
          { rows: [{ one: 1 }] },
        );
      } finally {
        await client.close();
        await svc.close();
      }
    },
    30_000,
  );
});
