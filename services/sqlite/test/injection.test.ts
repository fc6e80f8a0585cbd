/**
 * SQL injection and escape attempts through every parameter that reaches SQL, over the real
 * service. Each attempt must be refused with a clear error and leave the service exactly as it
 * was: the database file (schema, every row, user_version, journal mode), the files around it, the
 * settings of the writer's and the readers' connections, and what /health reports. Raw SQL, class
 * by class, is in hostile-sql.test.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { type ClientTransportKind, connectClient, type StartedService, startService } from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { dumpDatabase, snapshotService, tempDir } from './helpers.js';

type Attempt = [label: string, tool: string, args: Record<string, unknown>, message: RegExp];

const DROP = '; DROP TABLE users; --';

describe.each<ClientTransportKind>(['sse', 'streamable-http'])('injection attempts over %s', (kind) => {
  let svc: StartedService;
  let client: Client;
  let dir: string;
  let cleanup: () => void;
  let path: string;

  async function call(tool: string, args: Record<string, unknown>) {
    const result = await client.callTool({ name: tool, arguments: args });
    const text = (result.content as { text?: string }[])[0]?.text ?? '';
    return { isError: result.isError === true, text, structured: result.structuredContent as Record<string, unknown> };
  }

  /** Runs one attempt: it must fail with the expected message and change nothing. */
  async function expectRefused(tool: string, args: Record<string, unknown>, message: RegExp): Promise<void> {
    const before = await snapshotService(svc.url, path, [dir]);
    const result = await call(tool, args);
    expect(result.isError, `${tool} ${JSON.stringify(args)} was not refused: ${result.text}`).toBe(true);
    expect(result.text).toMatch(message);
    expect(result.text).not.toContain(dir);
    expect(await snapshotService(svc.url, path, [dir])).toEqual(before);
  }

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    path = join(dir, 'target.db');
    svc = await startService(service, { env: { DATABASE_PATH: path, MCP_RATE_LIMIT: '0' } });
    client = await connectClient(svc.url, kind);
    const setup: [string, Record<string, unknown>][] = [
      [
        'create_table',
        { table_name: 'users', schema: { id: 'INTEGER PRIMARY KEY', email: 'TEXT UNIQUE NOT NULL', role: 'TEXT' } },
      ],
      [
        'create_table',
        { table_name: 'posts', schema: { id: 'INTEGER PRIMARY KEY', user_id: 'INTEGER REFERENCES users(id)' } },
      ],
      ['insert_record', { table_name: 'users', data: { email: 'admin@x', role: 'admin' } }],
      ['insert_record', { table_name: 'users', data: { email: 'guest@x', role: 'guest' } }],
      ['insert_record', { table_name: 'posts', data: { user_id: 1 } }],
    ];
    for (const [tool, args] of setup) expect((await call(tool, args)).isError).toBe(false);
  });

  afterAll(async () => {
    await client.close();
    await svc.close();
    cleanup();
  });

  const notFoundTable = /No table named/;
  const noColumn = /has no column/;

  const tableNameAttempts: Attempt[] = [
    ['query table_name stacked', 'query_records', { table_name: `users${DROP}` }, notFoundTable],
    ['query table_name quote escape', 'query_records', { table_name: 'users" WHERE 1=1 --' }, notFoundTable],
    ['query internal table', 'query_records', { table_name: 'sqlite_master' }, notFoundTable],
    ['describe table_name', 'describe_table', { table_name: `users"${DROP}` }, notFoundTable],
    [
      'insert table_name',
      'insert_record',
      { table_name: "users (email) VALUES ('x'); --", data: { email: 'y' } },
      notFoundTable,
    ],
    [
      'update table_name',
      'update_record',
      { table_name: "users SET role='admin' --", filters: { id: 2 }, data: { role: 'x' } },
      notFoundTable,
    ],
    ['delete table_name', 'delete_record', { table_name: 'users WHERE 1=1 --', filters: { id: 1 } }, notFoundTable],
    [
      'create table_name',
      'create_table',
      { table_name: `t (a TEXT)${DROP}`, schema: { a: 'TEXT' } },
      /Invalid table name/,
    ],
    ['create table_name quote', 'create_table', { table_name: 'x"y', schema: { a: 'TEXT' } }, /Invalid table name/],
    ['create sqlite_ table', 'create_table', { table_name: 'sqlite_stat9', schema: { a: 'TEXT' } }, /reserved/],
  ];

  const columnAttempts: Attempt[] = [
    [
      'insert data key',
      'insert_record',
      { table_name: 'users', data: { [`email") VALUES ('x')${DROP}`]: 'y' } },
      noColumn,
    ],
    ['insert data key quoted', 'insert_record', { table_name: 'users', data: { '"email"': 'y' } }, noColumn],
    [
      'update data key',
      'update_record',
      { table_name: 'users', filters: { id: 2 }, data: { "role = 'admin', email": 'x' } },
      noColumn,
    ],
    ['query filter key', 'query_records', { table_name: 'users', filters: { '1=1 OR email': 'x' } }, noColumn],
    [
      'update filter key',
      'update_record',
      { table_name: 'users', filters: { 'id OR 1=1': 2 }, data: { role: 'x' } },
      noColumn,
    ],
    ['delete filter key', 'delete_record', { table_name: 'users', filters: { 'id = id OR 1': 1 } }, noColumn],
    [
      'filter operator',
      'delete_record',
      { table_name: 'users', filters: { id: { "= 1 OR '1'='1' --": 1 } } },
      /unknown operator/,
    ],
    [
      'order_by stacked',
      'query_records',
      { table_name: 'users', order_by: `email${DROP}` },
      /not understood|has no column/,
    ],
    [
      'order_by subquery',
      'query_records',
      { table_name: 'users', order_by: '(SELECT 1)' },
      /not understood|has no column/,
    ],
    [
      'order_by case',
      'query_records',
      { table_name: 'users', order_by: 'CASE WHEN 1 THEN email END' },
      /not understood/,
    ],
    [
      'order_by second term',
      'query_records',
      { table_name: 'users', order_by: 'email, (SELECT password FROM x)' },
      /not understood/,
    ],
    ['order_by quoted', 'query_records', { table_name: 'users', order_by: '"email"" DESC; --"' }, noColumn],
  ];

  const createTableAttempts: Attempt[] = [
    ['schema key', 'create_table', { table_name: 't1', schema: { [`a TEXT)${DROP}`]: 'TEXT' } }, /Invalid column name/],
    [
      'schema type stacked',
      'create_table',
      { table_name: 't1', schema: { a: `TEXT)${DROP}` } },
      /Column "a": unexpected/,
    ],
    [
      'schema type words',
      'create_table',
      { table_name: 't1', schema: { a: 'TEXT DROP TABLE users' } },
      /Column "a": unexpected word "DROP"/,
    ],
    [
      'schema default expression',
      'create_table',
      { table_name: 't1', schema: { a: 'TEXT DEFAULT (1); DROP TABLE users' } },
      /Column "a": unexpected/,
    ],
    [
      'schema default string escape',
      'create_table',
      { table_name: 't1', schema: { a: "TEXT DEFAULT 'x'); DROP TABLE users; --" } },
      /Column "a": unexpected "\)"/,
    ],
    [
      'schema references stacked',
      'create_table',
      { table_name: 't1', schema: { a: `INTEGER REFERENCES users(id)${DROP}` } },
      /Column "a": unexpected character ";"/,
    ],
    [
      'schema references unknown',
      'create_table',
      { table_name: 't1', schema: { a: 'INTEGER REFERENCES "users; DROP TABLE users"(id)' } },
      /no such table/,
    ],
    [
      'schema check',
      'create_table',
      { table_name: 't1', schema: { a: 'INTEGER CHECK (a > 0)' } },
      /CHECK constraints are not supported/,
    ],
    ['schema generated', 'create_table', { table_name: 't1', schema: { a: 'INTEGER AS (1)' } }, /unexpected word "AS"/],
    [
      'schema collate',
      'create_table',
      { table_name: 't1', schema: { a: 'TEXT COLLATE "x"; DROP' } },
      /expected BINARY, NOCASE or RTRIM/,
    ],
    [
      'primary_key string',
      'create_table',
      { table_name: 't1', schema: { a: 'INTEGER' }, primary_key: `a)${DROP}` },
      /not a column in schema/,
    ],
    [
      'primary_key array',
      'create_table',
      { table_name: 't1', schema: { a: 'INTEGER' }, primary_key: ['a', `a")${DROP}`] },
      /not a column in schema/,
    ],
  ];

  const rawAttempts: Attempt[] = [
    ['stacked read', 'execute_raw_query', { query: `SELECT 1${DROP}` }, /more than one SQL statement/],
    [
      'stacked write',
      'execute_raw_query',
      { query: `SELECT 1${DROP}`, read_only: false },
      /more than one SQL statement/,
    ],
    [
      'stacked after write',
      'execute_raw_query',
      { query: "UPDATE users SET role = 'x'; DROP TABLE posts", read_only: false },
      /more than one SQL statement/,
    ],
    ['attach', 'execute_raw_query', { query: "ATTACH DATABASE '/tmp/x.db' AS x" }, /ATTACH is not allowed/],
    [
      'attach writable',
      'execute_raw_query',
      { query: "ATTACH DATABASE '/tmp/x.db' AS x", read_only: false },
      /ATTACH is not allowed/,
    ],
    [
      'attach behind comment',
      'execute_raw_query',
      { query: "/* hi */ -- there\n attach ':memory:' as m", read_only: false },
      /ATTACH is not allowed/,
    ],
    ['detach', 'execute_raw_query', { query: 'DETACH main', read_only: false }, /DETACH is not allowed/],
    [
      'journal_mode',
      'execute_raw_query',
      { query: 'PRAGMA journal_mode=DELETE', read_only: false },
      /PRAGMA "journal_mode" is not allowed/,
    ],
    [
      'writable_schema',
      'execute_raw_query',
      { query: 'PRAGMA writable_schema=1', read_only: false },
      /PRAGMA "writable_schema" is not allowed/,
    ],
    [
      'foreign_keys off',
      'execute_raw_query',
      { query: 'PRAGMA foreign_keys = OFF', read_only: false },
      /PRAGMA "foreign_keys" is not allowed/,
    ],
    [
      'user_version write',
      'execute_raw_query',
      { query: 'PRAGMA user_version = 42', read_only: false },
      /with a value sets it/,
    ],
    [
      'user_version call form',
      'execute_raw_query',
      { query: 'PRAGMA main.user_version(42)', read_only: false },
      /with a value sets it/,
    ],
    ['begin', 'execute_raw_query', { query: 'BEGIN', read_only: false }, /BEGIN, COMMIT, END and ROLLBACK are not/],
    [
      'savepoint',
      'execute_raw_query',
      { query: 'SAVEPOINT s', read_only: false },
      /SAVEPOINT, RELEASE and ROLLBACK TO/,
    ],
    [
      'vacuum into',
      'execute_raw_query',
      { query: "VACUUM INTO '/tmp/mcp-sqlite-copy.db'", read_only: false },
      /VACUUM INTO is not allowed/,
    ],
    ['load_extension', 'execute_raw_query', { query: "SELECT load_extension('/tmp/evil.so')" }, /not authorized/],
    [
      'load_extension writable',
      'execute_raw_query',
      { query: "SELECT load_extension('/tmp/evil.so')", read_only: false },
      /not authorized/,
    ],
    [
      'insert read-only',
      'execute_raw_query',
      { query: "INSERT INTO users (email) VALUES ('evil')" },
      /read_only is true/,
    ],
    ['update read-only', 'execute_raw_query', { query: "UPDATE users SET role = 'admin'" }, /read_only is true/],
    ['delete read-only', 'execute_raw_query', { query: 'DELETE FROM posts' }, /read_only is true/],
    ['drop read-only', 'execute_raw_query', { query: 'DROP TABLE posts' }, /read_only is true/],
    ['create read-only', 'execute_raw_query', { query: 'CREATE TABLE evil (a)' }, /read_only is true/],
    ['temp table read-only', 'execute_raw_query', { query: 'CREATE TEMP TABLE evil (a)' }, /TEMP tables/],
    [
      'cte insert read-only',
      'execute_raw_query',
      { query: "WITH x AS (SELECT 1) INSERT INTO users (email) SELECT 'cte' FROM x" },
      /read_only is true/,
    ],
    ['returning read-only', 'execute_raw_query', { query: 'DELETE FROM posts RETURNING *' }, /read_only is true/],
    [
      'named param key',
      'execute_raw_query',
      { query: 'SELECT :a', params: { 'a; DROP TABLE users': 1 } },
      /Parameter error/,
    ],
  ];

  it.each([...tableNameAttempts, ...columnAttempts, ...createTableAttempts, ...rawAttempts])(
    '%s is refused and changes nothing',
    async (_label, tool, args, message) => {
      await expectRefused(tool, args, message);
    },
  );

  it('creates no file for ATTACH or VACUUM INTO', async () => {
    const target = join(dir, 'attached.db');
    await expectRefused('execute_raw_query', { query: `ATTACH DATABASE '${target}' AS x`, read_only: false }, /ATTACH/);
    await expectRefused('execute_raw_query', { query: `VACUUM INTO '${target}'`, read_only: false }, /VACUUM INTO/);
    expect(existsSync(target)).toBe(false);
  });

  it('keeps foreign keys enforced and WAL on after the PRAGMA attempts', async () => {
    await expectRefused(
      'insert_record',
      { table_name: 'posts', data: { user_id: 999 } },
      /FOREIGN KEY constraint failed/,
    );
    expect(dumpDatabase(path).text).toContain('journal_mode "wal"');
  });

  it('stores hostile values as data, never as SQL', async () => {
    const hostile = `x'); DROP TABLE users; --`;
    const inserted = await call('insert_record', {
      table_name: 'users',
      data: { email: hostile, role: "' OR '1'='1" },
    });
    expect(inserted.isError).toBe(false);
    expect((inserted.structured['row'] as Record<string, unknown>)['email']).toBe(hostile);

    const matched = await call('query_records', { table_name: 'users', filters: { role: "' OR '1'='1" } });
    expect(matched.structured).toMatchObject({ total: 1 });
    const none = await call('query_records', { table_name: 'users', filters: { email: "' OR 1=1 --" } });
    expect(none.structured).toMatchObject({ total: 0 });

    const before = dumpDatabase(path).text;
    const deleted = await call('delete_record', { table_name: 'users', filters: { id: '1 OR 1=1' } });
    expect(deleted.structured).toEqual({ deleted: 0 });
    const updated = await call('update_record', {
      table_name: 'users',
      filters: { email: { like: "%' OR '1'='1" } },
      data: { role: 'x' },
    });
    expect(updated.structured).toEqual({ updated: 0 });
    const raw = await call('execute_raw_query', { query: 'SELECT ? AS v', params: ['1; DROP TABLE users'] });
    expect(raw.structured['rows']).toEqual([{ v: '1; DROP TABLE users' }]);
    expect(dumpDatabase(path).text).toBe(before);

    // Clean up through the tool itself so that later attempts see the same starting data.
    expect((await call('delete_record', { table_name: 'users', filters: { email: hostile } })).structured).toEqual({
      deleted: 1,
    });
  });
});
