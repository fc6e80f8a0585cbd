import { monitorEventLoopDelay } from 'node:perf_hooks';

import { callToolOk as ok, connectClient, type StartedService, startService } from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { createFixture, type Fixture, mysqlAdmin, pgAdmin } from './helpers/fixture.js';

let f: Fixture;
let svc: StartedService;
let client: Client;
const MAX_BYTES = 64 * 1024;

beforeAll(async () => {
  f = await createFixture();
  svc = await startService(service, { env: { ...f.env, MCP_MAX_RESULT_BYTES: String(MAX_BYTES) } });
  client = await connectClient(svc.url, 'streamable-http');
  await ok(client, 'sync_metadata', {});
}, 60_000);

afterAll(async () => {
  await client?.close();
  await svc?.close();
  await f?.close();
}, 60_000);

describe('the byte budget', () => {
  it.each([
    ['pg-main', () => f.pg.sales, "SELECT g, repeat('x', 1000) AS filler FROM generate_series(1, 100000) g"],
    ['maria-main', () => f.my.shop, "SELECT seq AS g, REPEAT('x', 1000) AS filler FROM seq_1_to_100000"],
  ])('%s stops reading before MCP_MAX_RESULT_BYTES and says so', async (server, database, sql) => {
    const result = await ok(client, 'execute_sql', { server, database: database(), sql, max_rows: 100_000 });
    expect(result).toMatchObject({ truncated: true, truncated_by: 'bytes' });
    const rows = result['rows'] as unknown[];
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThan(MAX_BYTES / 1000);
    expect(JSON.stringify(result).length).toBeLessThan(MAX_BYTES);
    // The connection the statement was stopped on is gone or clean: the next call works.
    expect(await ok(client, 'execute_sql', { server, database: database(), sql: 'SELECT 1 AS one' })).toMatchObject({
      rows: [{ one: 1 }],
    });
  });
});

describe('connections go back to the pool clean', () => {
  it('PostgreSQL: session settings changed inside a function do not survive the call', async () => {
    await pgAdmin(
      f.pg.scratch,
      "CREATE FUNCTION dirty() RETURNS text LANGUAGE sql AS $$ SELECT set_config('application_name', 'dirty', false) $$",
    );
    const first = await ok(client, 'execute_sql', {
      server: 'pg-rw',
      database: f.pg.scratch,
      sql: 'SELECT dirty() AS set_to, pg_backend_pid() AS pid',
    });
    expect(first['rows']).toMatchObject([{ set_to: 'dirty' }]);
    const second = await ok(client, 'execute_sql', {
      server: 'pg-rw',
      database: f.pg.scratch,
      sql: "SELECT current_setting('application_name') AS name, pg_backend_pid() AS pid",
    });
    const [before] = first['rows'] as { pid: number }[];
    const [after] = second['rows'] as { pid: number; name: string }[];
    expect(after?.pid).toBe(before?.pid); // the same pooled connection
    expect(after?.name).toBe('mcp-databases');
  });

  it('MariaDB: user variables set inside a function do not survive the call', async () => {
    await mysqlAdmin(
      `CREATE FUNCTION \`${f.my.rw}\`.dirty() RETURNS int NO SQL BEGIN SET @dirty = 42; RETURN @dirty; END`,
    );
    const first = await ok(client, 'execute_sql', {
      server: 'maria-rw',
      database: f.my.rw,
      sql: 'SELECT dirty() AS d, CONNECTION_ID() AS id',
    });
    expect(first['rows']).toMatchObject([{ d: 42 }]); // set in the session, read back
    const second = await ok(client, 'execute_sql', {
      server: 'maria-rw',
      database: f.my.rw,
      sql: 'SELECT @dirty AS v, CONNECTION_ID() AS id',
    });
    const [before] = first['rows'] as { id: number }[];
    const [after] = second['rows'] as { id: number; v: unknown }[];
    expect(after?.id).toBe(before?.id); // COM_RESET_CONNECTION keeps the connection, clears its state
    expect(after?.v).toBeNull();
  });
});

describe('a sync of many tables', () => {
  it('writes every table and column in bulk, and keeps the event loop turning', async () => {
    const tables = 1100; // 5500 columns: more than one bulk insert of 5000
    await pgAdmin(
      f.pg.hr,
      `DO $$ BEGIN FOR i IN 1..${tables} LOOP
         EXECUTE format('CREATE TABLE public.t%s (id int PRIMARY KEY, a text, b int, c date, d numeric)', i);
       END LOOP; END $$`,
    );
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const result = await ok(client, 'sync_metadata', { server: 'pg-main' });
    lag.disable();
    expect(result).toMatchObject({ results: [{ server: 'pg-main', ok: true, changed: true, tables: tables + 5 }] });
    // More than the answer's byte budget holds: list_tables stops short and says so.
    const listed = await ok(client, 'list_tables', { server: 'pg-main', database: f.pg.hr });
    expect(listed['truncated']).toBe(true);
    expect((listed['tables'] as unknown[]).length).toBeGreaterThan(100);
    const counted = await ok(client, 'list_databases', { server: 'pg-main' });
    expect((counted['databases'] as { name: string; tables: number }[]).find((d) => d.name === f.pg.hr)?.tables).toBe(
      tables + 1,
    );
    const found = await ok(client, 'find_objects', { pattern: 't1099', kind: 'table', servers: ['pg-main'] });
    expect(found['tables']).toEqual([
      { server: 'pg-main', engine: 'postgres', database: f.pg.hr, schema: 'public', table: 't1099', kind: 'table' },
    ]);
    // A generous "did not hang" bound (the figure itself is for `pnpm bench`, not a test).
    expect(lag.max / 1e6).toBeLessThan(2000);
  }, 120_000);
});

describe('the result cache (DATABASES_RESULT_CACHE_TTL)', () => {
  it('keeps small results of read-only servers, never of read-write ones', async () => {
    const cachedSvc = await startService(service, { env: { ...f.env, DATABASES_RESULT_CACHE_TTL: '60' } });
    const cachedClient = await connectClient(cachedSvc.url, 'sse');
    try {
      const read = {
        server: 'pg-main',
        database: f.pg.sales,
        sql: 'SELECT count(*)::int AS n FROM customers WHERE id > $1',
        params: [0],
      };
      expect(await ok(cachedClient, 'execute_sql', read)).toMatchObject({ rows: [{ n: 3 }], cached: false });
      expect(await ok(cachedClient, 'execute_sql', read)).toMatchObject({ rows: [{ n: 3 }], cached: true });
      // Other parameters are another entry.
      expect(await ok(cachedClient, 'execute_sql', { ...read, params: [1] })).toMatchObject({
        rows: [{ n: 2 }],
        cached: false,
      });
      const write = { server: 'pg-rw', database: f.pg.scratch, sql: 'SELECT count(*)::int AS n FROM notes' };
      await ok(cachedClient, 'execute_sql', write);
      expect(await ok(cachedClient, 'execute_sql', write)).toMatchObject({ cached: false });
    } finally {
      await cachedClient.close();
      await cachedSvc.close();
    }
  });
});
