import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { type PgBackend, REAL_SERVER, startPgBackend } from './helpers/pg-backend.js';

const backend = await startPgBackend();
const itReal = it.runIf(backend.real);

/**
 * Everything a refused call could have touched: the rows, the sequence, large objects, advisory locks
 * held by any session, and the list of tables. Compared before and after each refused call.
 */
async function snapshot(db: PgBackend): Promise<string> {
  const parts = await Promise.all([
    db.admin('SELECT * FROM items ORDER BY id'),
    db.admin('SELECT last_value, is_called FROM item_ids'),
    db.admin('SELECT count(*)::int AS n FROM pg_largeobject_metadata'),
    db.admin("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'"),
    db.admin(
      "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
    ),
  ]);
  return JSON.stringify(parts);
}

const serviceEnv = (extra: Record<string, string> = {}) => ({
  DATABASE_URL: backend.url,
  POSTGRES_STATEMENT_TIMEOUT_MS: '5000',
  ...backend.env,
  ...extra,
});

const ALL_TOOLS = [
  'list_databases',
  'list_schemas',
  'list_tables',
  'table_info',
  'execute_sql',
  'explain_query',
  'query_stats',
  'get_db_health',
];

let readOnly: StartedService;
let readWrite: StartedService;

beforeAll(async () => {
  await backend.admin(`CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10, 2))`);
  await backend.admin(`INSERT INTO items VALUES (1, 'apple', 1.50), (2, 'pear', 2.25), (3, 'plum', 0.99)`);
  await backend.admin('CREATE SEQUENCE item_ids');
  await backend.admin(`CREATE TABLE audit (id serial PRIMARY KEY, note text)`);
  readOnly = await startService(service, { env: serviceEnv() });
  readWrite = await startService(service, { env: serviceEnv({ POSTGRES_ACCESS_MODE: 'read_write' }) });
});

afterAll(async () => {
  await readOnly?.close();
  await readWrite?.close();
  await backend.close();
});

describe.each<ClientTransportKind>(['sse', 'streamable-http'])(`every tool over %s (${backend.kind})`, (kind) => {
  let client: Client;
  let writer: Client;

  beforeAll(async () => {
    client = await connectClient(readOnly.url, kind);
    writer = await connectClient(readWrite.url, kind);
  });

  afterAll(async () => {
    await client?.close();
    await writer?.close();
  });

  it('lists the eight tools with honest annotations: execute_sql writes only in read_write mode', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(ALL_TOOLS);
    for (const tool of tools) {
      expect(tool.outputSchema, tool.name).toBeDefined();
      expect(tool.annotations?.openWorldHint, tool.name).toBe(false);
      expect(tool.annotations?.readOnlyHint, tool.name).toBe(true);
      expect(tool.annotations?.destructiveHint, tool.name).toBe(false);
    }
    const { tools: writerTools } = await writer.listTools();
    for (const tool of writerTools) {
      const writes = tool.name === 'execute_sql';
      expect(tool.annotations?.readOnlyHint, tool.name).toBe(!writes);
      expect(tool.annotations?.destructiveHint, tool.name).toBe(writes);
    }
  });

  it('list_databases shows the current database', async () => {
    const { databases } = await ok<{ databases: { name: string; current: boolean }[] }>(client, 'list_databases');
    expect(databases.filter((database) => database.current).map((database) => database.name)).toEqual([
      new URL(backend.url).pathname.slice(1),
    ]);
  });

  it('list_schemas includes public', async () => {
    const { schemas } = await ok<{ schemas: { name: string; relations: number }[] }>(client, 'list_schemas');
    expect(schemas.find((schema) => schema.name === 'public')?.relations).toBe(2);
  });

  it('list_tables lists the tables of a schema', async () => {
    const result = await ok(client, 'list_tables', { schema: 'public' });
    expect((result['tables'] as { name: string }[]).map((table) => table.name)).toEqual(['audit', 'items']);
    expect(result['truncated']).toBe(false);
    const missing = await call(client, 'list_tables', { schema: 'nope' });
    expect(missing).toMatchObject({
      isError: true,
      text: 'Schema "nope" does not exist. list_schemas shows the schemas.',
    });
  });

  it('table_info describes a table', async () => {
    const info = await ok(client, 'table_info', { table: 'items' });
    expect(info).toMatchObject({
      schema: 'public',
      name: 'items',
      primary_key: { name: 'items_pkey', columns: ['id'] },
    });
    expect(
      (info['columns'] as { name: string; type: string }[]).map((column) => `${column.name} ${column.type}`),
    ).toEqual(['id integer', 'name text', 'price numeric(10,2)']);
  });

  it('execute_sql runs a parameterised SELECT with a row cap', async () => {
    const result = await ok(client, 'execute_sql', {
      sql: 'SELECT id, name FROM items WHERE price > $1 ORDER BY id',
      params: [1],
      max_rows: 1,
    });
    expect(result).toEqual({
      command: 'SELECT',
      columns: [
        { name: 'id', type: 'integer' },
        { name: 'name', type: 'text' },
      ],
      rows: [{ id: 1, name: 'apple' }],
      row_count: 1,
      truncated: true,
      truncated_reason: 'row_limit',
      affected_rows: null,
      row_limit: 1,
      access_mode: 'read_only',
    });
  });

  it('explain_query returns a JSON plan, and actual rows with analyze', async () => {
    const plain = await ok(client, 'explain_query', { sql: 'SELECT * FROM items WHERE id = $1', params: [2] });
    expect(plain).toMatchObject({ analyzed: false, access_mode: 'read_only', plan: { Plan: { 'Plan Rows': 1 } } });
    const analyzed = await ok(client, 'explain_query', { sql: 'SELECT * FROM items', analyze: true });
    expect(analyzed).toMatchObject({ analyzed: true, plan: { Plan: { 'Actual Rows': 3 } } });
  });

  it('query_stats explains how to enable pg_stat_statements and falls back to table statistics', async () => {
    const stats = await ok(client, 'query_stats', { sort_by: 'calls', limit: 5 });
    // This machine's server does not preload pg_stat_statements, and PGlite lacks it: the fallback path.
    expect(stats).toMatchObject({
      available: false,
      status: backend.real ? 'not_installed' : 'not_available',
      sort_by: 'calls',
      statements: [],
    });
    expect(stats['message']).toContain('shared_preload_libraries');
    const fallback = stats['fallback'] as { tables: { table: string }[]; database: { cache_hit_ratio: number } };
    expect(fallback.tables.map((table) => table.table)).toContain('items');
    expect(fallback.database.cache_hit_ratio).toBeGreaterThan(0);
  });

  it('get_db_health reports status, connections and checks', async () => {
    const health = await ok(client, 'get_db_health', {});
    expect(['ok', 'warning', 'critical']).toContain(health['status']);
    expect((health['connections'] as { max: number }).max).toBeGreaterThan(0);
    expect(Array.isArray(health['issues'])).toBe(true);
  });

  describe('refused input classes leave the database unchanged', () => {
    const refusals: [string, string, RegExp][] = [
      [
        'stacked statements',
        'SELECT 1; DELETE FROM items',
        /^Only one statement per call: found another statement after ';' at position 9/,
      ],
      ['transaction control: COMMIT', 'COMMIT', /^Transaction control \(COMMIT\) is not allowed/],
      ['transaction control: BEGIN', 'BEGIN READ WRITE', /^Transaction control \(BEGIN\) is not allowed/],
      ['transaction control: ROLLBACK', 'ROLLBACK', /^Transaction control \(ROLLBACK\) is not allowed/],
      ['transaction control: SAVEPOINT', 'SAVEPOINT s1', /^Transaction control \(SAVEPOINT\) is not allowed/],
      [
        'COPY ... PROGRAM',
        "COPY items TO PROGRAM 'cat > /tmp/mcp-items.txt'",
        /^COPY \.\.\. PROGRAM runs a shell command on the database server and is never allowed\.$/,
      ],
      ['COPY FROM PROGRAM', "COPY items FROM PROGRAM 'echo 9,x,1'", /^COPY \.\.\. PROGRAM runs a shell command/],
      ['COPY TO a server file', "COPY items TO '/tmp/mcp-items.csv'", /^COPY to or from a file on the database server/],
      ['COPY FROM a server file', "COPY items FROM '/etc/hostname'", /^COPY to or from a file on the database server/],
      [
        'reading a server file',
        "SELECT pg_read_file('/etc/passwd')",
        /^pg_read_file\(\) is not allowed: it reads or writes files on the database server\.$/,
      ],
      ['listing a server directory', "SELECT * FROM pg_ls_dir('.')", /^pg_ls_dir\(\) is not allowed/],
      ['importing a file as a large object', "SELECT lo_import('/etc/passwd')", /^lo_import\(\) is not allowed/],
      [
        'a session-level advisory lock',
        'SELECT pg_advisory_lock(42)',
        /^pg_advisory_lock\(\) is not allowed: it changes session state shared by pooled connections\.$/,
      ],
      ['a session setting', "SELECT set_config('search_path', 'pg_temp', false)", /^set_config\(\) is not allowed/],
      ['SET', 'SET search_path = pg_temp', /^SET is not allowed: it changes session state/],
      [
        'a temporary table',
        'CREATE TEMP TABLE scratch (a int)',
        /^Temporary tables, views and sequences are not allowed/,
      ],
    ];

    it.each(refusals)('refuses %s in both modes', async (_label, sql, message) => {
      for (const target of [client, writer]) {
        const before = await snapshot(backend);
        const result = await call(target, 'execute_sql', { sql });
        expect(result.isError).toBe(true);
        expect(result.text).toMatch(message);
        expect(await snapshot(backend)).toBe(before);
      }
    });

    const readOnlyRefusals: [string, string, RegExp][] = [
      ['DELETE', 'DELETE FROM items', /^DELETE is not allowed in read-only mode \(POSTGRES_ACCESS_MODE=read_only\)/],
      ['UPDATE', 'UPDATE items SET price = 0', /^UPDATE is not allowed in read-only mode/],
      ['INSERT', "INSERT INTO items VALUES (9, 'fig', 1)", /^INSERT is not allowed in read-only mode/],
      [
        'a data-modifying CTE',
        'WITH gone AS (DELETE FROM items RETURNING *) SELECT count(*) FROM gone',
        /^DELETE is not allowed in read-only mode/,
      ],
      ['DDL', 'DROP TABLE items', /^DROP is not allowed in read-only mode/],
      ['nextval', "SELECT nextval('item_ids')", /^nextval\(\) is not allowed in read-only mode/],
      ['setval', "SELECT setval('item_ids', 100)", /^setval\(\) is not allowed in read-only mode/],
      ['pg_sleep', 'SELECT pg_sleep(10)', /^pg_sleep\(\) is not allowed in read-only mode/],
      [
        'pg_terminate_backend',
        'SELECT pg_terminate_backend(pg_backend_pid())',
        /^pg_terminate_backend\(\) is not allowed: it signals other sessions/,
      ],
      [
        'SQL hidden in a string',
        "SELECT query_to_xml('DELETE FROM items RETURNING *', true, false, '')",
        /^query_to_xml\(\) is not allowed: it runs SQL given as a string/,
      ],
      [
        'a DO block',
        'DO $$ BEGIN DELETE FROM items; END $$',
        /^DO runs procedural code and is not allowed in read-only mode/,
      ],
      [
        'a large object written through a unicode-escaped name',
        `SELECT U&"lo!005ffrom!005fbytea" UESCAPE '!' (0, 'x'::bytea)`,
        /^lo_from_bytea\(\) is not allowed in read-only mode/,
      ],
    ];

    it.each(readOnlyRefusals)('refuses %s in read_only mode', async (_label, sql, message) => {
      const before = await snapshot(backend);
      const result = await call(client, 'execute_sql', { sql });
      expect(result.isError).toBe(true);
      expect(result.text).toMatch(message);
      expect(await snapshot(backend)).toBe(before);
    });

    it('refuses EXPLAIN ANALYZE of a write in read_only mode', async () => {
      const before = await snapshot(backend);
      const result = await call(client, 'explain_query', { sql: 'DELETE FROM items', analyze: true });
      expect(result).toMatchObject({ isError: true });
      expect(result.text).toMatch(/^DELETE is not allowed in read-only mode \(POSTGRES_ACCESS_MODE=read_only\)/);
      expect(await snapshot(backend)).toBe(before);
    });

    it('keeps EXPLAIN ANALYZE of a write in read_write mode side-effect free (rolled back)', async () => {
      const before = await snapshot(backend);
      const result = await ok(writer, 'explain_query', { sql: 'DELETE FROM items', analyze: true });
      expect(result).toMatchObject({ analyzed: true, access_mode: 'read_write' });
      expect(await snapshot(backend)).toBe(before);
    });
  });

  it('execute_sql writes in read_write mode, one committed statement per call', async () => {
    const inserted = await ok(writer, 'execute_sql', {
      sql: 'INSERT INTO audit (note) VALUES ($1), ($2) RETURNING note',
      params: [`${kind} one`, `${kind} two`],
    });
    expect(inserted).toMatchObject({ command: 'INSERT', affected_rows: 2, access_mode: 'read_write' });
    const rows = await backend.admin<{ note: string }>('SELECT note FROM audit WHERE note LIKE $1 ORDER BY id', [
      `${kind}%`,
    ]);
    expect(rows.map((row) => row.note)).toEqual([`${kind} one`, `${kind} two`]);
  });
});

describe(`the service around the tools (${backend.kind})`, () => {
  it('/health reports the database as a dependency, without the connection string', async () => {
    const response = await fetch(new URL('/health', readOnly.url));
    const body = (await response.json()) as { status: string; checks: { database: Record<string, unknown> } };
    expect(response.status).toBe(200);
    expect(body.status).toBe('healthy');
    expect(body.checks.database).toMatchObject({ status: 'ok', access_mode: 'read_only' });
    expect(JSON.stringify(body)).not.toContain(new URL(backend.url).host);
  });

  it('/health turns 503 when the database is unreachable, and never shows the password', async () => {
    const svc = await startService(service, {
      env: { DATABASE_URL: 'postgresql://app:hunter2-do-not-leak@127.0.0.1:1/app', POSTGRES_CONNECT_TIMEOUT_MS: '500' },
    });
    try {
      const response = await fetch(new URL('/health', svc.url));
      const text = await response.text();
      expect(response.status).toBe(503);
      expect(JSON.parse(text)).toMatchObject({
        status: 'unhealthy',
        checks: { database: { status: 'down', error: 'Cannot reach the database server (ECONNREFUSED).' } },
      });
      const client = await connectClient(svc.url, 'streamable-http');
      const result = await call(client, 'list_schemas');
      await client.close();
      expect(result).toMatchObject({ isError: true, text: 'Cannot reach the database server (ECONNREFUSED).' });
      expect(text + result.text).not.toMatch(/hunter2|postgresql:\/\//);
    } finally {
      await svc.close();
    }
  });

  it('/rpc runs execute_sql for curl and cron', async () => {
    const response = await rpc(readOnly.url, 'tools/call', {
      name: 'execute_sql',
      arguments: { sql: 'SELECT count(*)::int AS n FROM items' },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ result: { structuredContent: { rows: [{ n: 3 }] } } });
  });

  it('MCP_READ_ONLY=true hides execute_sql in read_write mode; MCP_TOOLSETS=sql keeps only it', async () => {
    const hidden = await startService(service, {
      env: serviceEnv({ MCP_READ_ONLY: 'true', POSTGRES_ACCESS_MODE: 'read_write' }),
    });
    const only = await startService(service, { env: serviceEnv({ MCP_TOOLSETS: 'sql' }) });
    try {
      const a = await rpc(hidden.url, 'tools/list');
      const b = await rpc(only.url, 'tools/list');
      const names = (body: unknown) =>
        (body as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name);
      expect(names(a.body)).toEqual(ALL_TOOLS.filter((name) => name !== 'execute_sql'));
      expect(names(b.body)).toEqual(['execute_sql']);
    } finally {
      await hidden.close();
      await only.close();
    }
  });

  it('reads the connection string from DATABASE_URL_FILE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-postgres-secret-'));
    const file = join(dir, 'postgres_url');
    writeFileSync(file, `${backend.url}\n`);
    const svc = await startService(service, { env: { DATABASE_URL_FILE: file, ...backend.env } });
    try {
      const response = await rpc(svc.url, 'tools/call', {
        name: 'execute_sql',
        arguments: { sql: 'SELECT 41 + 1 AS x' },
      });
      expect(response.body).toMatchObject({ result: { structuredContent: { rows: [{ x: 42 }] } } });
    } finally {
      await svc.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Runs last in this file: it installs the extension in the throwaway database.
  itReal(
    `query_stats with pg_stat_statements installed: top statements, or how to load it ${REAL_SERVER}`,
    async () => {
      await backend.admin('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      const [preload] = await backend.admin<{ libraries: string }>(
        "SELECT current_setting('shared_preload_libraries') AS libraries",
      );
      await backend.admin('SELECT count(*) FROM items WHERE price > 1');
      const response = await rpc(readOnly.url, 'tools/call', {
        name: 'query_stats',
        arguments: { sort_by: 'calls', limit: 50 },
      });
      const stats = (response.body as { result: { structuredContent: Record<string, unknown> } }).result
        .structuredContent;
      if (preload?.libraries.includes('pg_stat_statements')) {
        expect(stats).toMatchObject({ available: true, status: 'ok', message: null, fallback: null });
        const queries = (stats['statements'] as { query: string; calls: number }[]).map((row) => row.query);
        expect(queries.some((query) => query.includes('FROM items WHERE price >'))).toBe(true);
      } else {
        // This machine's server: the extension exists but its library is not preloaded.
        expect(stats).toMatchObject({ available: false, status: 'not_loaded', statements: [] });
        expect(stats['message']).toContain('installed in this database but the server has not loaded its library');
        expect((stats['fallback'] as { tables: unknown[] }).tables.length).toBeGreaterThan(0);
      }
    },
  );

  itReal(`a statement timeout in read_write mode cancels pg_sleep and the next call works ${REAL_SERVER}`, async () => {
    const svc = await startService(service, {
      env: serviceEnv({
        POSTGRES_ACCESS_MODE: 'read_write',
        POSTGRES_STATEMENT_TIMEOUT_MS: '200',
        POSTGRES_POOL_MAX: '1',
      }),
    });
    const client = await connectClient(svc.url, 'streamable-http');
    try {
      const before = await snapshot(backend);
      const slow = await call(client, 'execute_sql', { sql: "SELECT pg_sleep(10), 'mcp-timeout-probe'" });
      expect(slow).toMatchObject({
        isError: true,
        text: 'The statement ran longer than POSTGRES_STATEMENT_TIMEOUT_MS (200 ms) and was cancelled by the server (SQLSTATE 57014).',
      });
      // Nothing keeps running on the server, and the pool's only connection serves the next call.
      const running = await backend.admin(
        "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%mcp-timeout-probe%' AND state = 'active' AND pid <> pg_backend_pid()",
      );
      expect(running).toEqual([]);
      const next = await ok(client, 'execute_sql', { sql: 'SELECT count(*)::int AS n FROM items' });
      expect(next['rows']).toEqual([{ n: 3 }]);
      expect(await snapshot(backend)).toBe(before);
    } finally {
      await client.close();
      await svc.close();
    }
  });
});
