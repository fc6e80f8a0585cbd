import {
  callTool as call,
  callToolOk as ok,
  type ClientTransportKind,
  connectClient,
  rpc,
  type StartedService,
  startService,
} from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { createFixture, type Fixture, mysqlAdmin, pgAdmin } from './helpers/fixture.js';

let f: Fixture;
let svc: StartedService;

beforeAll(async () => {
  f = await createFixture();
  svc = await startService(service, { env: f.env });
  const sync = await rpc(svc.url, 'tools/call', { name: 'sync_metadata', arguments: {} });
  const results = (sync.body as { result: { structuredContent: { results: { server: string; ok: boolean }[] } } })
    .result.structuredContent.results;
  expect(results.map((r) => [r.server, r.ok])).toEqual([
    ['maria-main', true],
    ['maria-rw', true],
    ['pg-main', true],
    ['pg-rw', true],
  ]);
}, 60_000);

afterAll(async () => {
  await svc?.close();
  await f?.close();
}, 60_000);

describe.each<ClientTransportKind>(['sse', 'streamable-http'])('every tool over %s', (kind) => {
  let client: Client;
  beforeAll(async () => {
    client = await connectClient(svc.url, kind);
  });
  afterAll(async () => {
    await client?.close();
  });

  it('list_servers: engines, access, tags, health and the last sync of the two servers per engine', async () => {
    const { servers } = await ok<{
      servers: {
        server: string;
        engine: string;
        access: string;
        tags: string[];
        health: string;
        last_sync: { ok: boolean; databases: number };
      }[];
    }>(client, 'list_servers');
    expect(
      servers.map((s) => [s.server, s.engine, s.access, s.tags, s.health, s.last_sync.ok, s.last_sync.databases]),
    ).toEqual([
      ['maria-main', 'mysql', 'read_only', ['mysql', 'main'], 'up', true, 2],
      ['maria-rw', 'mysql', 'read_write', ['mysql', 'scratch'], 'up', true, 1],
      ['pg-main', 'postgres', 'read_only', ['postgres', 'main'], 'up', true, 2],
      ['pg-rw', 'postgres', 'read_write', ['postgres', 'scratch'], 'up', true, 1],
    ]);
  });

  it('list_databases applies the include and exclude rules', async () => {
    const pgMain = await ok(client, 'list_databases', { server: 'pg-main' });
    expect(pgMain).toMatchObject({ server: 'pg-main', engine: 'postgres' });
    expect((pgMain['databases'] as { name: string }[]).map((d) => d.name)).toEqual([f.pg.hr, f.pg.sales]);
    const maria = await ok(client, 'list_databases', { server: 'maria-main' });
    expect((maria['databases'] as { name: string; schemas: number }[]).map((d) => [d.name, d.schemas])).toEqual([
      [f.my.logs, 1],
      [f.my.shop, 1],
    ]);
  });

  it('list_schemas and list_tables name the server, database and engine', async () => {
    expect(await ok(client, 'list_schemas', { server: 'pg-main', database: f.pg.sales })).toMatchObject({
      server: 'pg-main',
      engine: 'postgres',
      database: f.pg.sales,
      schemas: [
        { name: 'crm', tables: 1, views: 0 },
        { name: 'public', tables: 2, views: 1 },
      ],
    });
    const tables = await ok(client, 'list_tables', { server: 'maria-main', database: f.my.shop });
    expect(tables).toMatchObject({ server: 'maria-main', engine: 'mysql', database: f.my.shop, truncated: false });
    expect(
      (tables['tables'] as { name: string; kind: string; comment: string | null; columns: number }[]).map((t) => [
        t.name,
        t.kind,
        t.columns,
        t.comment,
      ]),
    ).toEqual([
      ['products', 'table', 4, 'what we sell'],
      ['reviews', 'table', 4, null],
    ]);
    const crm = await ok(client, 'list_tables', { server: 'pg-main', database: f.pg.sales, schema: 'crm' });
    expect((crm['tables'] as { name: string }[]).map((t) => t.name)).toEqual(['contacts']);
  });

  it('describe_table: columns, keys, indexes and the row estimate, on both engines', async () => {
    const orders = await ok(client, 'describe_table', {
      server: 'pg-main',
      database: f.pg.sales,
      table: 'public.orders',
    });
    expect(orders).toMatchObject({
      server: 'pg-main',
      engine: 'postgres',
      database: f.pg.sales,
      schema: 'public',
      table: 'orders',
      row_estimate: 3,
      primary_key: { name: 'orders_pkey', columns: ['id'] },
      foreign_keys: [
        {
          name: 'orders_customer_id_fkey',
          columns: ['customer_id'],
          references: { schema: 'public', table: 'customers', columns: ['id'] },
        },
      ],
      indexes: [
        { name: 'orders_customer', unique: false, primary: false, columns: ['customer_id'] },
        { name: 'orders_pkey', unique: true, primary: true, columns: ['id'] },
      ],
    });
    const reviews = await ok(client, 'describe_table', { server: 'maria-main', database: f.my.shop, table: 'reviews' });
    expect(reviews).toMatchObject({
      engine: 'mysql',
      schema: f.my.shop,
      primary_key: { name: 'PRIMARY', columns: ['id'] },
      foreign_keys: [
        {
          name: 'reviews_product',
          columns: ['product_id'],
          references: { schema: f.my.shop, table: 'products', columns: ['id'] },
        },
      ],
    });
    expect(
      (reviews['columns'] as { name: string; type: string; nullable: boolean }[]).map(
        (c) => `${c.name} ${c.type} ${c.nullable}`,
      ),
    ).toEqual(['id int(11) false', 'product_id int(11) false', 'stars tinyint(4) true', 'body text true']);
  });

  it('find_objects searches every server, or the ones named', async () => {
    const found = await ok(client, 'find_objects', { pattern: '*_id', kind: 'column' });
    expect(
      (found['columns'] as { server: string; engine: string; table: string; column: string }[]).map(
        (c) => `${c.server}/${c.engine}/${c.table}.${c.column}`,
      ),
    ).toEqual([
      'maria-main/mysql/reviews.product_id',
      'pg-main/postgres/contacts.customer_id',
      'pg-main/postgres/big_orders.customer_id',
      'pg-main/postgres/orders.customer_id',
    ]);
    const tables = await ok(client, 'find_objects', { pattern: 'NOTES', kind: 'table', servers: ['pg-rw'] });
    expect(tables['tables']).toEqual([
      { server: 'pg-rw', engine: 'postgres', database: f.pg.scratch, schema: 'public', table: 'notes', kind: 'table' },
    ]);
  });

  it('get_table_sample reads the first rows through the engine', async () => {
    expect(
      await ok(client, 'get_table_sample', { server: 'maria-main', database: f.my.shop, table: 'products', limit: 2 }),
    ).toMatchObject({
      server: 'maria-main',
      engine: 'mysql',
      database: f.my.shop,
      table: 'products',
      rows: [
        { id: 1, name: 'kettle', price: '25.00', created: '2024-01-02 03:04:05' },
        { id: 2, name: 'teapot', price: '40.00', created: null },
      ],
      row_count: 2,
    });
    const contacts = await ok(client, 'get_table_sample', {
      server: 'pg-main',
      database: f.pg.sales,
      table: 'contacts',
      schema: 'crm',
    });
    expect(contacts['rows']).toEqual([{ id: 1, customer_id: 1, phone: '+1-555' }]);
  });

  it('execute_sql binds parameters per engine and names who answered', async () => {
    expect(
      await ok(client, 'execute_sql', {
        server: 'pg-main',
        database: f.pg.sales,
        sql: 'SELECT id, name FROM customers WHERE id > $1 ORDER BY id',
        params: [1],
      }),
    ).toEqual({
      server: 'pg-main',
      engine: 'postgres',
      database: f.pg.sales,
      access: 'read_only',
      columns: [
        { name: 'id', type: 'integer' },
        { name: 'name', type: 'text' },
      ],
      rows: [
        { id: 2, name: 'Grace' },
        { id: 3, name: 'Linus' },
      ],
      row_count: 2,
      row_limit: 1000,
      truncated: false,
      truncated_by: null,
      affected_rows: null,
      cached: false,
    });
    const maria = await ok(client, 'execute_sql', {
      server: 'maria-main',
      database: f.my.logs,
      sql: 'SELECT id, at, message FROM events WHERE message = ?',
      params: ['boot'],
    });
    expect(maria).toMatchObject({
      engine: 'mysql',
      rows: [{ id: '9007199254740993', at: '2024-05-06 07:08:09', message: 'boot' }],
    });
    const hostile = await ok(client, 'execute_sql', {
      server: 'maria-main',
      database: f.my.shop,
      sql: 'SELECT ? AS v',
      params: ["x'); DROP TABLE products; --"],
    });
    expect(hostile['rows']).toEqual([{ v: "x'); DROP TABLE products; --" }]);
  });

  it('execute_sql stops at max_rows and at the byte budget', async () => {
    const rows = await ok(client, 'execute_sql', {
      server: 'pg-main',
      database: f.pg.sales,
      sql: 'SELECT g FROM generate_series(1, 100000) g',
      max_rows: 3,
    });
    expect(rows).toMatchObject({
      rows: [{ g: 1 }, { g: 2 }, { g: 3 }],
      row_count: 3,
      truncated: true,
      truncated_by: 'rows',
      row_limit: 3,
    });
    const maria = await ok(client, 'execute_sql', {
      server: 'maria-main',
      database: f.my.shop,
      sql: 'SELECT seq FROM seq_1_to_100000',
      max_rows: 2,
    });
    expect(maria).toMatchObject({ rows: [{ seq: '1' }, { seq: '2' }], truncated: true, truncated_by: 'rows' });
  });

  it("explain returns each engine's own plan format", async () => {
    const pgPlan = await ok(client, 'explain', {
      server: 'pg-main',
      database: f.pg.sales,
      sql: 'SELECT * FROM customers WHERE id = $1',
      params: [1],
    });
    expect(pgPlan).toMatchObject({
      server: 'pg-main',
      engine: 'postgres',
      format: 'json',
      plan: { Plan: { 'Node Type': expect.stringMatching(/Scan/) as unknown } },
    });
    const myPlan = await ok(client, 'explain', {
      server: 'maria-main',
      database: f.my.shop,
      sql: 'SELECT * FROM products WHERE id = ?',
      params: [1],
    });
    expect(myPlan).toMatchObject({ engine: 'mysql', format: 'json', plan: { query_block: { select_id: 1 } } });
  });

  it('writes on read-write servers, one statement per call, committed', async () => {
    const pgWrite = await ok(client, 'execute_sql', {
      server: 'pg-rw',
      database: f.pg.scratch,
      sql: 'INSERT INTO notes (body) VALUES ($1) RETURNING body',
      params: [kind],
    });
    expect(pgWrite).toMatchObject({ access: 'read_write', rows: [{ body: kind }], affected_rows: 1 });
    const myWrite = await ok(client, 'execute_sql', {
      server: 'maria-rw',
      database: f.my.rw,
      sql: 'INSERT INTO notes (body) VALUES (?)',
      params: [kind],
    });
    expect(myWrite).toMatchObject({ access: 'read_write', engine: 'mysql', affected_rows: 1, rows: [] });
    expect(await pgAdmin(f.pg.scratch, 'SELECT body FROM notes WHERE body = $1', [kind])).toEqual([{ body: kind }]);
    expect(await mysqlAdmin(`SELECT body FROM \`${f.my.rw}\`.notes WHERE body = ?`, [kind])).toEqual([{ body: kind }]);
  });

  it('refuses names the registry does not hold, with what it does hold', async () => {
    expect(await call(client, 'list_databases', { server: 'pg-main; DROP' })).toMatchObject({
      isError: true,
      text: 'No server named "pg-main; DROP". Known servers: maria-main, maria-rw, pg-main, pg-rw (list_servers).',
    });
    expect(await call(client, 'list_schemas', { server: 'pg-main', database: f.pg.scratch })).toMatchObject({
      isError: true,
      text: `Database "${f.pg.scratch}" of pg-main is not in the registry: the servers file excludes it. Known: ${f.pg.hr}, ${f.pg.sales}.`,
    });
    expect(
      await call(client, 'execute_sql', { server: 'maria-main', database: 'mysql', sql: 'SELECT 1' }),
    ).toMatchObject({
      isError: true,
      text: `Database "mysql" of maria-main is not in the registry: the servers file excludes it. Known: ${f.my.logs}, ${f.my.shop}.`,
    });
    expect(
      await call(client, 'get_table_sample', {
        server: 'pg-main',
        database: f.pg.sales,
        table: 'orders" ; DROP TABLE orders; --',
      }),
    ).toMatchObject({
      isError: true,
      text: `No table "orders" ; DROP TABLE orders; --" in pg-main/${f.pg.sales} in the registry.`,
    });
    // Names are exact (case-sensitive, as stored); near misses get suggestions.
    expect(
      await call(client, 'describe_table', { server: 'pg-main', database: f.pg.sales, table: 'ORDERS' }),
    ).toMatchObject({
      isError: true,
      text: `No table "ORDERS" in pg-main/${f.pg.sales} in the registry. Similar: public.orders, public.big_orders.`,
    });
    expect(
      await call(client, 'list_tables', { server: 'pg-main', database: f.pg.sales, schema: 'nope' }),
    ).toMatchObject({
      isError: true,
      text: `Schema "nope" is not in pg-main/${f.pg.sales}. Schemas: crm, public.`,
    });
  });
});

describe('the cache and the sync', () => {
  it('serves metadata from Redis, and a sync that sees a schema change invalidates it', async () => {
    const client = await connectClient(svc.url, 'streamable-http');
    try {
      const args = { server: 'pg-main', database: f.pg.hr, table: 'employees' };
      await ok(client, 'describe_table', args);
      expect(await ok(client, 'describe_table', args)).toMatchObject({ cached: true });
      // Nothing changed: a sync keeps the generation and the cache.
      expect(await ok(client, 'sync_metadata', { server: 'pg-main' })).toMatchObject({
        results: [{ server: 'pg-main', ok: true, changed: false }],
      });
      expect(await ok(client, 'describe_table', args)).toMatchObject({ cached: true });
      await pgAdmin(f.pg.hr, 'ALTER TABLE employees ADD COLUMN team text');
      expect(await ok(client, 'sync_metadata', { server: 'pg-main' })).toMatchObject({
        results: [{ ok: true, changed: true }],
      });
      const after = await ok(client, 'describe_table', args);
      expect(after['cached']).toBe(false);
      expect((after['columns'] as { name: string }[]).map((c) => c.name)).toEqual(['id', 'name', 'salary', 'team']);
    } finally {
      await client.close();
    }
  });

  it('/health reports the registry, the cache and the servers, without secrets', async () => {
    const response = await fetch(new URL('/health', svc.url));
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(JSON.parse(text)).toMatchObject({
      status: 'healthy',
      checks: {
        registry: { status: 'ok' },
        cache: { status: 'ok', cache: 'up' },
        servers: { status: 'ok', up: 4, down: 0 },
      },
    });
    expect(text).not.toContain(f.my.password);
    expect(text).not.toContain(f.key);
  });
});
