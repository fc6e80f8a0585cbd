import { join } from 'node:path';

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
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { dumpDatabase, tempDir } from './helpers.js';

const ALL_TOOLS = [
  'list_tables',
  'describe_table',
  'query_records',
  'create_table',
  'insert_record',
  'update_record',
  'delete_record',
  'execute_raw_query',
];

describe.each<ClientTransportKind>(['sse', 'streamable-http'])('every tool over %s', (kind) => {
  let svc: StartedService;
  let client: Client;
  let cleanup: () => void;
  let path: string;

  beforeAll(async () => {
    const temp = tempDir();
    cleanup = temp.cleanup;
    path = join(temp.dir, 'db', 'service.db');
    svc = await startService(service, { env: { DATABASE_PATH: path, MAX_QUERY_RESULTS: '3' } });
    client = await connectClient(svc.url, kind);
  });

  afterAll(async () => {
    await client.close();
    await svc.close();
    cleanup();
  });

  it('lists the eight tools with all annotations and JSON Schema 2020-12 inputs', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(ALL_TOOLS);
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.inputSchema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(tool.annotations).toMatchObject({
        readOnlyHint: expect.any(Boolean) as boolean,
        destructiveHint: expect.any(Boolean) as boolean,
        idempotentHint: expect.any(Boolean) as boolean,
        openWorldHint: false,
      });
    }
    const raw = tools.find((tool) => tool.name === 'execute_raw_query');
    expect(raw?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    const createTable = tools.find((tool) => tool.name === 'create_table');
    expect(createTable?.inputSchema.required).toEqual(['table_name', 'schema']);
  });

  it('create_table, describe_table and list_tables', async () => {
    const created = await ok(client, 'create_table', {
      table_name: 'authors',
      schema: { id: 'INTEGER PRIMARY KEY AUTOINCREMENT', email: 'TEXT NOT NULL UNIQUE', name: "TEXT DEFAULT 'anon'" },
    });
    expect(created).toMatchObject({ name: 'authors', primary_key: ['id'] });
    await ok(client, 'create_table', {
      table_name: 'books',
      schema: {
        isbn: 'TEXT NOT NULL',
        edition: 'INTEGER NOT NULL DEFAULT 1',
        author_id: 'INTEGER REFERENCES authors(id) ON DELETE CASCADE',
        meta: 'JSON',
      },
      primary_key: ['isbn', 'edition'],
    });
    const books = await ok(client, 'describe_table', { table_name: 'books' });
    expect(books['primary_key']).toEqual(['isbn', 'edition']);
    expect(books['foreign_keys']).toEqual([
      {
        columns: ['author_id'],
        references_table: 'authors',
        references_columns: ['id'],
        on_update: 'NO ACTION',
        on_delete: 'CASCADE',
      },
    ]);
    expect((books['columns'] as { name: string; not_null: boolean; default: string | null }[])[1]).toMatchObject({
      name: 'edition',
      not_null: true,
      default: '1',
    });
    const listed = await ok(client, 'list_tables');
    expect((listed['tables'] as { name: string }[]).map((table) => table.name)).toEqual(['authors', 'books']);
  });

  it('insert_record, query_records, update_record and delete_record', async () => {
    const first = await ok(client, 'insert_record', { table_name: 'authors', data: { email: 'ann@x', name: 'Ann' } });
    expect(first).toEqual({ row: { id: 1, email: 'ann@x', name: 'Ann' }, rowid: 1 });
    const second = await ok(client, 'insert_record', { table_name: 'authors', data: { email: 'bob@x' } });
    expect(second['row']).toEqual({ id: 2, email: 'bob@x', name: 'anon' });
    for (let edition = 1; edition <= 4; edition++) {
      await ok(client, 'insert_record', {
        table_name: 'books',
        data: { isbn: '978', edition, author_id: 1, meta: { pages: 100 * edition, tags: ['a'] } },
      });
    }
    const page = await ok(client, 'query_records', { table_name: 'books', order_by: '-edition' });
    expect(page).toMatchObject({ total: 4, count: 3, limit: 3, offset: 0, truncated: true });
    expect((page['rows'] as { edition: number; meta: string }[]).map((row) => row.edition)).toEqual([4, 3, 2]);
    expect((page['rows'] as { meta: string }[])[0]?.meta).toBe('{"pages":400,"tags":["a"]}');
    const filtered = await ok(client, 'query_records', {
      table_name: 'books',
      filters: { edition: { gte: 2, lt: 4 }, author_id: 1 },
      order_by: 'edition ASC',
      limit: 1,
      offset: 1,
    });
    expect(filtered).toMatchObject({ total: 2, count: 1, truncated: false, rows: [{ edition: 3 }] });

    expect(
      await ok(client, 'update_record', { table_name: 'authors', filters: { id: 2 }, data: { name: 'Bob' } }),
    ).toEqual({
      updated: 1,
    });
    expect(await ok(client, 'delete_record', { table_name: 'books', filters: { edition: { in: [1, 2] } } })).toEqual({
      deleted: 2,
    });
    // Deleting the author cascades to the remaining books: foreign keys are on.
    expect(await ok(client, 'delete_record', { table_name: 'authors', filters: { email: 'ann@x' } })).toEqual({
      deleted: 1,
    });
    expect(await ok(client, 'query_records', { table_name: 'books' })).toMatchObject({ total: 0, rows: [] });
    expect(await ok(client, 'query_records', { table_name: 'authors' })).toMatchObject({
      total: 1,
      rows: [{ id: 2, email: 'bob@x', name: 'Bob' }],
    });
  });

  it('execute_raw_query reads, caps, writes with read_only=false and refuses writes otherwise', async () => {
    const read = await ok(client, 'execute_raw_query', {
      query: 'SELECT email FROM authors WHERE id = ?',
      params: [2],
    });
    expect(read).toEqual({ columns: ['email'], rows: [{ email: 'bob@x' }], row_count: 1, truncated: false });
    const named = await ok(client, 'execute_raw_query', { query: 'SELECT :a + :b AS sum', params: { a: 2, b: 3 } });
    expect(named['rows']).toEqual([{ sum: 5 }]);
    const capped = await ok(client, 'execute_raw_query', {
      query: 'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x FROM n',
    });
    expect(capped).toMatchObject({ row_count: 3, truncated: true });
    const written = await ok(client, 'execute_raw_query', {
      query: 'INSERT INTO authors (email) VALUES (?)',
      params: ['cy@x'],
      read_only: false,
    });
    expect(written).toEqual({ changes: 1, last_insert_rowid: 3 });
    const before = dumpDatabase(path).hash;
    const refused = await call(client, 'execute_raw_query', { query: "DELETE FROM authors WHERE email = 'cy@x'" });
    expect(refused.isError).toBe(true);
    expect(refused.text).toContain('read_only is true');
    expect(dumpDatabase(path).hash).toBe(before);
  });

  it('answers failures as isError results with clear messages', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['query_records', { table_name: 'nope' }, 'No table named "nope"'],
      ['describe_table', { table_name: 'nope' }, 'No table named "nope"'],
      ['insert_record', { table_name: 'authors', data: { email: 'bob@x' } }, 'UNIQUE constraint failed: authors.email'],
      ['insert_record', { table_name: 'authors', data: { name: 'x' } }, 'NOT NULL constraint failed: authors.email'],
      ['insert_record', { table_name: 'authors', data: { mail: 'x' } }, 'Table "authors" has no column "mail"'],
      ['update_record', { table_name: 'authors', filters: {}, data: { name: 'x' } }, 'at least one filter'],
      ['delete_record', { table_name: 'authors', filters: {} }, 'at least one filter'],
      ['create_table', { table_name: 'authors', schema: { id: 'INTEGER' } }, 'already exists'],
      [
        'create_table',
        { table_name: 't', schema: { id: 'INTEGER CHECK (id > 0)' } },
        'CHECK constraints are not supported',
      ],
      ['query_records', { table_name: 'authors', limit: 0 }, 'Invalid arguments for query_records'],
      ['execute_raw_query', { query: 'SELECT * FROM nope' }, 'SQL error: no such table: nope'],
    ];
    for (const [name, args, fragment] of cases) {
      const result = await call(client, name, args);
      expect(result.isError, name).toBe(true);
      expect(result.text, name).toContain(fragment);
      // No file path leaks into any message.
      expect(result.text).not.toContain(path);
    }
  });
});

describe('plain JSON-RPC over /rpc', () => {
  let svc: StartedService;
  let cleanup: () => void;

  beforeAll(async () => {
    const temp = tempDir();
    cleanup = temp.cleanup;
    svc = await startService(service, { env: { DATABASE_PATH: join(temp.dir, 'rpc.db') } });
  });

  afterAll(async () => {
    await svc.close();
    cleanup();
  });

  it('tools/list and tools/call', async () => {
    const list = await rpc(svc.url, 'tools/list');
    expect(list.status).toBe(200);
    const tools = (list.body as { result: { tools: { name: string }[] } }).result.tools;
    expect(tools.map((tool) => tool.name)).toEqual(ALL_TOOLS);

    const created = await rpc(svc.url, 'tools/call', {
      name: 'create_table',
      arguments: { table_name: 'notes', schema: { id: 'INTEGER PRIMARY KEY', body: 'TEXT NOT NULL' } },
    });
    expect(created.status).toBe(200);
    expect((created.body as { result: { isError?: boolean } }).result.isError).toBeFalsy();

    const inserted = await rpc(svc.url, 'tools/call', {
      name: 'insert_record',
      arguments: { table_name: 'notes', data: { body: 'hi' } },
    });
    expect((inserted.body as { result: { structuredContent: unknown } }).result.structuredContent).toEqual({
      row: { id: 1, body: 'hi' },
      rowid: 1,
    });
    const queried = await rpc(svc.url, 'tools/call', { name: 'query_records', arguments: { table_name: 'notes' } });
    expect((queried.body as { result: { structuredContent: unknown } }).result.structuredContent).toMatchObject({
      rows: [{ id: 1, body: 'hi' }],
      total: 1,
      truncated: false,
    });
  });

  it('answers a tool failure as an isError result and an unknown tool as -32602', async () => {
    const failed = await rpc(svc.url, 'tools/call', { name: 'query_records', arguments: { table_name: 'nope' } });
    const result = (failed.body as { result: { isError: boolean; content: { text: string }[] } }).result;
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toContain('No table named "nope"');
    const unknown = await rpc(svc.url, 'tools/call', { name: 'drop_everything', arguments: {} });
    expect((unknown.body as { error: { code: number } }).error.code).toBe(-32602);
  });

  it('reports the database and its durability settings on /health', async () => {
    const response = await fetch(new URL('/health', svc.url));
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'healthy', service: 'sqlite', tools_count: 8 });
    expect(JSON.stringify(body)).toContain('"journal_mode":"wal"');
    expect(JSON.stringify(body)).toContain('"synchronous":"FULL"');
  });
});

describe('settings', () => {
  let cleanup: () => void;
  let dir: string;
  let started: StartedService[] = [];

  beforeAll(() => {
    ({ dir, cleanup } = tempDir());
  });

  afterEach(async () => {
    await Promise.all(started.map((svc) => svc.close()));
    started = [];
  });

  afterAll(() => cleanup());

  async function start(env: Record<string, string>): Promise<StartedService> {
    const svc = await startService(service, { env });
    started.push(svc);
    return svc;
  }

  async function toolNames(svc: StartedService): Promise<string[]> {
    const list = await rpc(svc.url, 'tools/list');
    return (list.body as { result: { tools: { name: string }[] } }).result.tools.map((tool) => tool.name);
  }

  async function callRpc(svc: StartedService, name: string, args: Record<string, unknown>) {
    const response = await rpc(svc.url, 'tools/call', { name, arguments: args });
    return (
      response.body as { result: { isError?: boolean; content: { text: string }[]; structuredContent?: unknown } }
    ).result;
  }

  it('READ_ONLY_MODE creates a missing file, offers only the read toolsets and refuses writes', async () => {
    const path = join(dir, 'ro', 'missing.db');
    const writer = await start({ DATABASE_PATH: join(dir, 'ro', 'seeded.db') });
    await callRpc(writer, 'create_table', { table_name: 'items', schema: { id: 'INTEGER PRIMARY KEY', name: 'TEXT' } });
    await callRpc(writer, 'insert_record', { table_name: 'items', data: { name: 'one' } });
    await writer.close();
    started = [];

    const fresh = await start({ DATABASE_PATH: path, READ_ONLY_MODE: 'true' });
    expect(await toolNames(fresh)).toEqual(['list_tables', 'describe_table', 'query_records', 'execute_raw_query']);
    expect((await callRpc(fresh, 'list_tables', {})).structuredContent).toEqual({ tables: [], truncated: false });

    const seededPath = join(dir, 'ro', 'seeded.db');
    const before = dumpDatabase(seededPath).hash;
    const readOnly = await start({ DATABASE_PATH: seededPath, READ_ONLY_MODE: 'true' });
    expect((await callRpc(readOnly, 'query_records', { table_name: 'items' })).structuredContent).toMatchObject({
      total: 1,
    });
    const write = await callRpc(readOnly, 'execute_raw_query', { query: 'DELETE FROM items', read_only: false });
    expect(write.isError).toBe(true);
    expect(write.content[0]?.text).toContain('READ_ONLY_MODE=true');
    const sneaky = await callRpc(readOnly, 'execute_raw_query', { query: 'DELETE FROM items' });
    expect(sneaky.isError).toBe(true);
    const hidden = await rpc(readOnly.url, 'tools/call', {
      name: 'insert_record',
      arguments: { table_name: 'items', data: {} },
    });
    expect((hidden.body as { error: { code: number } }).error.code).toBe(-32602);
    expect(dumpDatabase(seededPath).hash).toBe(before);

    // An operator who asks for the write toolset explicitly still gets refusals from the read-only database.
    const explicit = await start({ DATABASE_PATH: seededPath, READ_ONLY_MODE: 'true', MCP_TOOLSETS: 'all' });
    expect(await toolNames(explicit)).toEqual(ALL_TOOLS);
    const refused = await callRpc(explicit, 'insert_record', { table_name: 'items', data: { name: 'two' } });
    expect(refused.isError).toBe(true);
    expect(refused.content[0]?.text).toBe('The database is read-only on this server (READ_ONLY_MODE=true)');
    expect(dumpDatabase(seededPath).hash).toBe(before);
  });

  it('ALLOW_RAW_QUERIES=false refuses execute_raw_query', async () => {
    const svc = await start({ DATABASE_PATH: join(dir, 'noraw.db'), ALLOW_RAW_QUERIES: 'false' });
    const result = await callRpc(svc, 'execute_raw_query', { query: 'SELECT 1' });
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toBe('Raw SQL is disabled on this server (ALLOW_RAW_QUERIES=false)');
  });

  it('MCP_READ_ONLY hides every tool that can write and keeps raw SQL read-only', async () => {
    const svc = await start({ DATABASE_PATH: join(dir, 'mcpro.db'), MCP_READ_ONLY: 'true' });
    expect(await toolNames(svc)).toEqual(['list_tables', 'describe_table', 'query_records', 'execute_raw_query']);
    const listed = await rpc(svc.url, 'tools/list');
    const raw = (listed.body as { result: { tools: { name: string; annotations: unknown }[] } }).result.tools.find(
      (tool) => tool.name === 'execute_raw_query',
    );
    expect(raw?.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect((await callRpc(svc, 'execute_raw_query', { query: 'SELECT 1 AS one' })).structuredContent).toMatchObject({
      rows: [{ one: 1 }],
    });
    const write = await callRpc(svc, 'execute_raw_query', { query: 'CREATE TABLE t (a INTEGER)', read_only: false });
    expect(write.isError).toBe(true);
    expect(write.content[0]?.text).toBe('Writes are disabled on this server (MCP_READ_ONLY=true); use read_only=true');
  });

  it('MAX_QUERY_RESULTS caps query_records and reports total and truncated', async () => {
    const svc = await start({ DATABASE_PATH: join(dir, 'cap.db'), MAX_QUERY_RESULTS: '2' });
    await callRpc(svc, 'create_table', { table_name: 'n', schema: { v: 'INTEGER' } });
    for (let v = 0; v < 5; v++) await callRpc(svc, 'insert_record', { table_name: 'n', data: { v } });
    expect((await callRpc(svc, 'query_records', { table_name: 'n', limit: 50 })).structuredContent).toMatchObject({
      count: 2,
      limit: 2,
      total: 5,
      truncated: true,
    });
    expect((await callRpc(svc, 'query_records', { table_name: 'n', offset: 4 })).structuredContent).toMatchObject({
      count: 1,
      total: 5,
      truncated: false,
    });
    expect((await callRpc(svc, 'execute_raw_query', { query: 'SELECT * FROM n' })).structuredContent).toMatchObject({
      row_count: 2,
      truncated: true,
    });
  });
});
