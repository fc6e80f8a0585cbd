/**
 * The engine's domain logic, run synchronously as the database processes run it: a writer engine on
 * the write connection and a reader engine on a read-only connection, both on one file.
 */
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { SqliteDatabase } from '../src/database.js';
import { SqliteEngine } from '../src/engine.js';
import { DatabaseError } from '../src/errors.js';
import { bindParams, type RawParams, type RawResult } from '../src/raw-execute.js';
import { ALLOWED_PRAGMAS } from '../src/statement-head.js';
import { dumpDatabase, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
let path: string;
let writer: SqliteEngine;
let reader: SqliteEngine;

function engine(role: 'reader' | 'writer', overrides: Partial<ConstructorParameters<typeof SqliteEngine>[0]> = {}) {
  return new SqliteEngine({
    path,
    role,
    busyTimeoutMs: 1000,
    maxQueryResults: 5,
    maxResultBytes: 64 * 1024,
    readOnlyMode: false,
    ...overrides,
  });
}

/** A raw statement, routed as the service routes it: reads to a reader, writes to the writer. */
function raw(query: string, params: RawParams | undefined, readOnly: boolean): RawResult {
  return readOnly
    ? reader.executeRaw(query, bindParams(params), true)
    : writer.executeRaw(query, bindParams(params), false);
}

function refusal(fn: () => unknown): DatabaseError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DatabaseError);
    return error as DatabaseError;
  }
  throw new Error('expected a refusal');
}

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  path = join(dir, 'db.sqlite');
  // The service creates the file (and its WAL) before any database process opens it.
  SqliteDatabase.open({ path, readOnly: false, busyTimeoutMs: 1000, maxQueryResults: 5 }).close();
  writer = engine('writer');
  reader = engine('reader');
  writer.createTable('users', {
    id: 'INTEGER PRIMARY KEY AUTOINCREMENT',
    email: 'TEXT NOT NULL UNIQUE',
    name: 'TEXT',
    active: 'BOOLEAN NOT NULL DEFAULT TRUE',
    created: 'TEXT DEFAULT CURRENT_TIMESTAMP',
  });
  writer.createTable('posts', {
    id: 'INTEGER PRIMARY KEY',
    user_id: 'INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE',
    title: 'TEXT NOT NULL',
  });
});

afterEach(() => {
  writer.close();
  reader.close();
  cleanup();
});

describe('create_table', () => {
  it('creates the table from the rebuilt SQL and describes it', () => {
    const posts = reader.describeTable('posts');
    expect(posts.sql).toBe(
      'CREATE TABLE "posts" ("id" INTEGER PRIMARY KEY, "user_id" INTEGER NOT NULL REFERENCES "users"("id") ON DELETE CASCADE, "title" TEXT NOT NULL)',
    );
    expect(posts.primary_key).toEqual(['id']);
    expect(posts.foreign_keys).toEqual([
      {
        columns: ['user_id'],
        references_table: 'users',
        references_columns: ['id'],
        on_update: 'NO ACTION',
        on_delete: 'CASCADE',
      },
    ]);
    const users = reader.describeTable('USERS');
    expect(users.name).toBe('users');
    expect(users.columns.map((c) => [c.name, c.type, c.not_null, c.default])).toEqual([
      ['id', 'INTEGER', false, null],
      ['email', 'TEXT', true, null],
      ['name', 'TEXT', false, null],
      ['active', 'BOOLEAN', true, 'TRUE'],
      ['created', 'TEXT', false, 'CURRENT_TIMESTAMP'],
    ]);
    expect(users.indexes).toEqual([
      { name: 'sqlite_autoindex_users_1', unique: true, origin: 'u', partial: false, columns: ['email'] },
    ]);
  });

  it('supports a composite primary key and a self-reference', () => {
    const links = writer.createTable(
      'links',
      { a: 'INTEGER NOT NULL', b: 'INTEGER NOT NULL', note: "TEXT DEFAULT 'none'" },
      ['a', 'B'],
    );
    expect(links.primary_key).toEqual(['a', 'b']);
    const tree = writer.createTable('tree', { id: 'INTEGER PRIMARY KEY', parent: 'INTEGER REFERENCES tree(id)' });
    expect(tree.foreign_keys[0]?.references_table).toBe('tree');
  });

  it.each([
    [['users', { id: 'INTEGER' }], 'CONFLICT', 'already exists'],
    [['Users', { id: 'INTEGER' }], 'CONFLICT', 'already exists'],
    [['bad name', { id: 'INTEGER' }], 'INVALID_INPUT', 'Invalid table name'],
    [['sqlite_x', { id: 'INTEGER' }], 'INVALID_INPUT', 'reserved'],
    [['t', {}], 'INVALID_INPUT', 'at least one column'],
    [['t', { 'a;b': 'TEXT' }], 'INVALID_INPUT', 'Invalid column name'],
    [['t', { a: 'TEXT', A: 'TEXT' }], 'INVALID_INPUT', 'same name'],
    [['t', { a: 'INTEGER REFERENCES nope(id)' }], 'INVALID_INPUT', 'no such table'],
    [['t', { a: 'INTEGER REFERENCES users(nope)' }], 'INVALID_INPUT', 'no such column'],
    [['t', { a: 'INTEGER REFERENCES users(name)' }], 'INVALID_INPUT', 'primary key or UNIQUE'],
    [['t', { a: 'INTEGER REFERENCES t(b)', b: 'INTEGER' }], 'INVALID_INPUT', 'primary key or UNIQUE'],
    [['t', { a: 'INTEGER PRIMARY KEY', b: 'INTEGER PRIMARY KEY' }], 'INVALID_INPUT', 'composite key use primary_key'],
    [['t', { a: 'INTEGER PRIMARY KEY', b: 'INTEGER' }, 'b'], 'INVALID_INPUT', 'given twice'],
    [['t', { a: 'INTEGER' }, 'nope'], 'INVALID_INPUT', 'not a column'],
    [['t', { a: 'INTEGER' }, ['a', 'A']], 'INVALID_INPUT', 'same column twice'],
    [['t', { a: 'INTEGER' }, []], 'INVALID_INPUT', 'at least one column'],
  ] as const)('refuses %j', (args, code, fragment) => {
    const before = dumpDatabase(path).hash;
    const [table, schema, key] = args as unknown as [string, Record<string, string>, string | string[] | undefined];
    const error = refusal(() => writer.createTable(table, schema, key));
    expect(error.code).toBe(code);
    expect(error.message).toContain(fragment);
    expect(dumpDatabase(path).hash).toBe(before);
  });
});

describe('records', () => {
  it('inserts and returns the stored row with defaults and rowid', () => {
    const inserted = writer.insertRecord('users', { email: 'a@x', name: 'Ann', active: false });
    expect(inserted.rowid).toBe(1);
    expect(inserted.row).toMatchObject({ id: 1, email: 'a@x', name: 'Ann', active: 0 });
    expect(typeof inserted.row?.['created']).toBe('string');
    expect(writer.insertRecord('users', { EMAIL: 'b@x', name: { nick: 'b' } }).row).toMatchObject({
      id: 2,
      name: '{"nick":"b"}',
      active: 1,
    });
  });

  it('inserts a row of defaults from empty data', () => {
    writer.createTable('counters', { id: 'INTEGER PRIMARY KEY', n: 'INTEGER DEFAULT 0' });
    expect(writer.insertRecord('counters', {})).toEqual({ row: { id: 1, n: 0 }, rowid: 1 });
  });

  it('returns null rowid for WITHOUT ROWID tables and keeps big integers exact', () => {
    raw('CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID', undefined, false);
    expect(writer.insertRecord('kv', { k: 'a', v: 1 })).toEqual({ row: { k: 'a', v: 1 }, rowid: null });
    raw('INSERT INTO kv VALUES (?, 9223372036854775807)', ['big'], false);
    expect(reader.queryRecords('kv', { filters: { k: 'big' } }).rows).toEqual([{ k: 'big', v: '9223372036854775807' }]);
  });

  it('translates constraint errors into clear, safe messages and changes nothing', () => {
    writer.insertRecord('users', { email: 'a@x' });
    const before = dumpDatabase(path).hash;
    const unique = refusal(() => writer.insertRecord('users', { email: 'a@x' }));
    expect(unique).toMatchObject({ code: 'CONFLICT', message: 'UNIQUE constraint failed: users.email' });
    const notNull = refusal(() => writer.insertRecord('users', { name: 'x' }));
    expect(notNull).toMatchObject({ code: 'INVALID_INPUT', message: 'NOT NULL constraint failed: users.email' });
    const fk = refusal(() => writer.insertRecord('posts', { user_id: 99, title: 't' }));
    expect(fk.code).toBe('CONFLICT');
    expect(fk.message).toContain('FOREIGN KEY constraint failed');
    expect(refusal(() => writer.insertRecord('nope', { a: 1 }))).toMatchObject({
      code: 'NOT_FOUND',
      message: 'No table named "nope" (tables: posts, users)',
    });
    expect(refusal(() => writer.insertRecord('users', { email: 'z', password: 'x' })).code).toBe('NOT_FOUND');
    expect(refusal(() => writer.insertRecord('users', { email: 'z', EMAIL: 'y' })).message).toContain('given twice');
    expect(refusal(() => writer.insertRecord('sqlite_schema', { name: 'x' })).code).toBe('NOT_FOUND');
    expect(dumpDatabase(path).hash).toBe(before);
  });

  it('queries with filters, order, limit, offset, total and truncated', () => {
    for (let i = 1; i <= 8; i++) writer.insertRecord('users', { email: `u${i}@x`, name: i % 2 ? 'odd' : 'even' });
    const firstPage = reader.queryRecords('users', { orderBy: '-id' });
    expect(firstPage).toMatchObject({ total: 8, count: 5, limit: 5, offset: 0, truncated: true });
    expect(firstPage.rows.map((r) => r['id'])).toEqual([8, 7, 6, 5, 4]);
    const secondPage = reader.queryRecords('users', { orderBy: 'id DESC', offset: 5 });
    expect(secondPage).toMatchObject({ total: 8, count: 3, truncated: false });
    expect(reader.queryRecords('users', { limit: 100 }).limit).toBe(5);
    const odd = reader.queryRecords('users', {
      filters: { name: 'odd', id: { gt: 2 } },
      orderBy: 'email ASC',
      limit: 2,
    });
    expect(odd).toMatchObject({ total: 3, count: 2, truncated: true });
    expect(odd.rows.map((r) => r['email'])).toEqual(['u3@x', 'u5@x']);
    expect(reader.queryRecords('users', { filters: { email: { like: 'U1%' } } }).total).toBe(1);
    expect(reader.queryRecords('users', { filters: { name: null } }).total).toBe(0);
    expect(refusal(() => reader.queryRecords('users', { orderBy: 'nope' })).code).toBe('NOT_FOUND');
  });

  it('updates and deletes with required filters', () => {
    const { row } = writer.insertRecord('users', { email: 'a@x' });
    writer.insertRecord('posts', { user_id: row?.['id'], title: 'hello' });
    expect(writer.updateRecords('users', { email: 'a@x' }, { name: 'Ann', active: false })).toBe(1);
    expect(writer.updateRecords('users', { email: 'nobody' }, { name: 'x' })).toBe(0);
    expect(reader.queryRecords('users').rows[0]).toMatchObject({ name: 'Ann', active: 0 });
    const before = dumpDatabase(path).hash;
    expect(refusal(() => writer.updateRecords('users', {}, { name: 'x' })).message).toContain('at least one filter');
    expect(refusal(() => writer.updateRecords('users', { id: 1 }, {})).message).toContain('at least one column');
    expect(refusal(() => writer.deleteRecords('users', {})).message).toContain('at least one filter');
    expect(dumpDatabase(path).hash).toBe(before);
    expect(writer.deleteRecords('users', { id: { in: [row?.['id']] } })).toBe(1);
    // ON DELETE CASCADE ran: foreign keys are on.
    expect(reader.queryRecords('posts').total).toBe(0);
  });

  it('filters and sorts by rowid on rowid tables, whose rows insert_record identifies by rowid', () => {
    writer.createTable('tags', { label: 'TEXT' });
    const { rowid } = writer.insertRecord('tags', { label: 'a' });
    writer.insertRecord('tags', { label: 'b' });
    expect(reader.queryRecords('tags', { filters: { rowid }, orderBy: '-ROWID' }).rows).toEqual([{ label: 'a' }]);
    expect(reader.queryRecords('tags', { orderBy: '-rowid' }).rows).toEqual([{ label: 'b' }, { label: 'a' }]);
    expect(writer.updateRecords('tags', { rowid }, { label: 'A' })).toBe(1);
    expect(writer.deleteRecords('tags', { rowid: { gt: 1 } })).toBe(1);
    // rowid is for finding rows, not a column to write, and WITHOUT ROWID tables have none.
    expect(refusal(() => writer.insertRecord('tags', { rowid: 5 })).code).toBe('NOT_FOUND');
    raw('CREATE TABLE kv (k TEXT PRIMARY KEY) WITHOUT ROWID', undefined, false);
    expect(refusal(() => reader.queryRecords('kv', { filters: { rowid: 1 } })).message).toBe(
      'Table "kv" has no column "rowid" (columns: k)',
    );
  });

  it('lists tables with their columns', () => {
    expect(reader.listTables().tables.map((t) => [t.name, t.columns.map((c) => c.name)])).toEqual([
      ['posts', ['id', 'user_id', 'title']],
      ['users', ['id', 'email', 'name', 'active', 'created']],
    ]);
  });
});

describe('executeRaw', () => {
  beforeEach(() => {
    for (let i = 1; i <= 7; i++) writer.insertRecord('users', { email: `u${i}@x` });
  });

  it('reads rows with positional and named parameters, capped with truncated', () => {
    expect(raw('SELECT id FROM users WHERE id < ? ORDER BY id', [3], true)).toEqual({
      columns: ['id'],
      rows: [{ id: 1 }, { id: 2 }],
      row_count: 2,
      truncated: false,
    });
    expect(raw('SELECT email FROM users WHERE id = :id', { id: 4 }, true).rows).toEqual([{ email: 'u4@x' }]);
    expect(raw('SELECT email FROM users WHERE id = @id', { '@id': 5 }, true).rows).toEqual([{ email: 'u5@x' }]);
    const capped = raw('SELECT id FROM users', undefined, true);
    expect(capped).toMatchObject({ row_count: 5, truncated: true });
    const endless = raw('WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x FROM n', [], true);
    expect(endless).toMatchObject({ row_count: 5, truncated: true });
  });

  it('allows the read-only pragma allowlist and EXPLAIN', () => {
    expect(raw('PRAGMA table_info(users)', undefined, true).row_count).toBe(5);
    expect(raw('PRAGMA integrity_check', undefined, true).rows).toEqual([{ integrity_check: 'ok' }]);
    expect(raw('PRAGMA user_version', undefined, true).rows).toEqual([{ user_version: 0 }]);
    expect(raw('EXPLAIN QUERY PLAN SELECT * FROM users WHERE email = ?', ['x'], true).row_count).toBeGreaterThan(0);
    expect(raw("EXPLAIN INSERT INTO users (email) VALUES ('z')", undefined, true).row_count).toBeGreaterThan(0);
  });

  it.each(ALLOWED_PRAGMAS)('runs PRAGMA %s read-only', (pragma) => {
    const withArgument = ['table_info', 'table_xinfo', 'index_list', 'foreign_key_list'].includes(pragma);
    const sql = withArgument ? `PRAGMA ${pragma}(users)` : `PRAGMA ${pragma}`;
    expect(raw(sql, undefined, true).rows).toBeInstanceOf(Array);
  });

  it('writes only with read_only=false', () => {
    const before = dumpDatabase(path).hash;
    for (const sql of [
      "INSERT INTO users (email) VALUES ('new')",
      "UPDATE users SET name = 'x'",
      'DELETE FROM users',
      'DROP TABLE posts',
      'CREATE TABLE evil (a)',
      "WITH x AS (SELECT 1) INSERT INTO users (email) SELECT 'cte' FROM x",
      'REINDEX',
      'ANALYZE',
    ]) {
      const error = refusal(() => raw(sql, undefined, true));
      expect(error.code, sql).toBe('FORBIDDEN');
      expect(error.message, sql).toContain('read_only is true');
    }
    expect(dumpDatabase(path).hash).toBe(before);
    expect(raw("INSERT INTO users (email) VALUES ('new')", undefined, false)).toEqual({
      changes: 1,
      last_insert_rowid: 8,
    });
    expect(raw("UPDATE users SET name = 'x' WHERE id > ?", [6], false)).toMatchObject({ changes: 2 });
    expect(raw('DELETE FROM users WHERE id = 8 RETURNING email', undefined, false).rows).toEqual([{ email: 'new' }]);
  });

  it('refuses several statements, empty queries and binding mistakes clearly', () => {
    const before = dumpDatabase(path).hash;
    expect(refusal(() => raw('SELECT 1; DELETE FROM users', undefined, false)).message).toContain(
      'more than one SQL statement',
    );
    expect(refusal(() => raw('SELECT 1; SELECT 2', undefined, true)).message).toContain('more than one');
    expect(refusal(() => raw(' ; ', undefined, true)).code).toBe('INVALID_INPUT');
    expect(refusal(() => raw('SELECT ?', [], true)).message).toContain('Parameter error');
    expect(refusal(() => raw('SELECT :a', { b: 1 }, true)).message).toContain('Parameter error');
    expect(refusal(() => raw('SELECT * FROM nope', undefined, true)).message).toBe('SQL error: no such table: nope');
    expect(refusal(() => raw('SELEC 1', undefined, true)).message).toContain('syntax error');
    expect(dumpDatabase(path).hash).toBe(before);
  });

  it('keeps load_extension disabled', () => {
    const error = refusal(() => raw("SELECT load_extension('/tmp/evil.so')", undefined, false));
    expect(error.message).toContain('not authorized');
  });
});

describe('the byte budget (MCP_MAX_RESULT_BYTES): every answer stops at it and says why', () => {
  const budget = 64 * 1024;
  const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

  /** Seeds straight through SQLite: many statements in one transaction, in a moment. */
  function seed(sql: string): void {
    const direct = new Database(path);
    try {
      direct.exec(`BEGIN; ${sql}; COMMIT`);
    } finally {
      direct.close();
    }
  }

  it('execute_raw_query: as many rows as fit, then truncated with the reason; the next row would not have fitted', () => {
    const many = reader.executeRaw(
      "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 100) SELECT x, printf('%.*c', 10000, 'y') AS pad FROM n",
      [],
      true,
    );
    const wide = engine('reader', { maxQueryResults: 1000 });
    try {
      const result = wide.executeRaw(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x, printf('%.*c', 10000, 'y') AS pad FROM n",
        [],
        true,
      );
      expect(result.truncated).toBe(true);
      expect(result.row_count).toBe(result.rows?.length);
      expect(result.truncated_reason).toBe(
        `The answer stops at MCP_MAX_RESULT_BYTES (${budget} bytes of JSON) after ${result.row_count} rows; ` +
          'select fewer or shorter columns, or page with LIMIT and OFFSET',
      );
      expect(size(result)).toBeLessThanOrEqual(budget);
      const nextRow = { x: (result.row_count ?? 0) + 1, pad: 'y'.repeat(10000) };
      expect(size(result) + size(nextRow)).toBeGreaterThan(budget - 1024);
      expect(result.row_count).toBeGreaterThan(3);
    } finally {
      wide.close();
    }
    // Under the row cap first (MAX_QUERY_RESULTS = 5 here): that reason instead.
    expect(many).toMatchObject({ row_count: 5, truncated: true });
    expect(many.truncated_reason).toMatch(/^More rows follow: the answer stops at MAX_QUERY_RESULTS \(5 rows\)/);
  });

  it('execute_raw_query: a first row over the budget alone is turned away whole, even a 20 MB blob', () => {
    for (const sql of ['SELECT randomblob(20000000) AS b', "SELECT 1 AS a, printf('%.*c', 100000, 'z') AS t"]) {
      const result = reader.executeRaw(sql, [], true);
      expect(result).toMatchObject({ rows: [], row_count: 0, truncated: true });
      expect(result.truncated_reason).toMatch(
        new RegExp(
          `^The first row alone is at least \\d+ bytes of JSON, over MCP_MAX_RESULT_BYTES \\(${budget}\\); select fewer or shorter columns`,
        ),
      );
    }
  });

  it('query_records: the page stops at the budget, says how to go on, and the next page starts there', () => {
    seed(
      "CREATE TABLE big (id INTEGER PRIMARY KEY, body TEXT); WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 40) INSERT INTO big SELECT x, printf('%.*c', 5000, 'b') FROM n",
    );
    const wide = engine('reader', { maxQueryResults: 1000 });
    try {
      const first = wide.queryRecords('big');
      expect(first).toMatchObject({ total: 40, offset: 0, truncated: true });
      expect(first.count).toBeLessThan(40);
      expect(first.truncated_reason).toBe(
        `The answer stops at MCP_MAX_RESULT_BYTES (${budget} bytes of JSON) after ${first.count} rows; page on with offset=${first.count}`,
      );
      expect(size(first)).toBeLessThanOrEqual(budget);
      const second = wide.queryRecords('big', { offset: first.count });
      expect(second.rows[0]).toMatchObject({ id: first.count + 1 });
      // A limit under the budget: that is the reason.
      expect(wide.queryRecords('big', { limit: 2 })).toMatchObject({
        count: 2,
        truncated: true,
        truncated_reason: 'More rows follow: this page holds at most 2 rows (limit); page on with offset=2',
      });
    } finally {
      wide.close();
    }
  });

  it('list_tables: as many tables as fit, then the reason and how to list the rest', () => {
    const columns = Array.from({ length: 20 }, (_, c) => `column_with_a_rather_long_name_number_${c} TEXT NOT NULL`);
    seed(
      Array.from({ length: 300 }, (_, t) => `CREATE TABLE t${String(t).padStart(3, '0')} (${columns.join(', ')})`).join(
        '; ',
      ),
    );
    const listed = reader.listTables();
    expect(listed.truncated).toBe(true);
    expect(listed.tables.length).toBeGreaterThan(10);
    expect(listed.tables.length).toBeLessThan(302);
    expect(listed.truncated_reason).toMatch(
      new RegExp(
        `^The answer stops at MCP_MAX_RESULT_BYTES \\(${budget} bytes of JSON\\) after ${listed.tables.length} of 302 tables; .*OFFSET ${listed.tables.length}\\)$`,
      ),
    );
    expect(size(listed)).toBeLessThanOrEqual(budget);
  });

  it('describe_table: columns first, then what fits; what is left out is named', () => {
    const columns = Array.from({ length: 200 }, (_, c) => `c${c}_${'n'.repeat(100)} TEXT`);
    const indexes = Array.from(
      { length: 200 },
      (_, i) => `CREATE INDEX i${i}_${'x'.repeat(100)} ON wide (c${i}_${'n'.repeat(100)})`,
    );
    seed([`CREATE TABLE wide (${columns.join(', ')})`, ...indexes].join('; '));
    const described = reader.describeTable('wide');
    expect(described.columns).toHaveLength(200);
    expect(described.truncated).toBe(true);
    expect(described.indexes.length).toBeLessThan(200);
    expect(described.sql).toBeNull();
    expect(described.truncated_reason).toBe(
      `The answer stops at MCP_MAX_RESULT_BYTES (${budget} bytes of JSON); left out: ${200 - described.indexes.length} of 200 indexes, ` +
        'the CREATE TABLE statement. execute_raw_query can read them in parts (pragma_table_xinfo, pragma_index_list, sqlite_schema)',
    );
    expect(size(described)).toBeLessThanOrEqual(budget);
    expect(reader.describeTable('users')).toMatchObject({ truncated: false });
  });

  it('insert_record: a stored row over the budget is stored, and answered without it', () => {
    writer.createTable('blobs', { id: 'INTEGER PRIMARY KEY', body: 'TEXT' });
    const inserted = writer.insertRecord('blobs', { body: 'q'.repeat(100_000) });
    expect(inserted).toMatchObject({ row: null, rowid: 1, truncated: true });
    expect(inserted.truncated_reason).toMatch(/^The first row alone is at least \d+ bytes of JSON.*the row is stored/);
    expect(reader.executeRaw('SELECT length(body) AS n FROM blobs', [], true).rows).toEqual([{ n: 100_000 }]);
  });
});

describe('the connection is checked after every call', () => {
  it('a call that leaves a setting changed is refused, and the engine retires', () => {
    expect(reader.executeRaw('SELECT 1 AS one', [], true).rows).toEqual([{ one: 1 }]);
    expect(reader.retired).toBe(false);
    // soft_heap_limit is one setting per process: changed here, the reader sees it at its next check.
    const other = new Database(':memory:');
    try {
      other.pragma('soft_heap_limit = 123456');
      const error = refusal(() => reader.executeRaw('SELECT 2 AS two', [], true));
      expect(error).toMatchObject({
        code: 'FORBIDDEN',
        message:
          'The call left the connection changed (soft_heap_limit), which is not allowed: it was refused, and the connection is replaced',
      });
      expect(reader.retired).toBe(true);
      const before = dumpDatabase(path).text;
      expect(refusal(() => writer.insertRecord('users', { email: 'x@y' })).message).toBe(
        'The call left the connection changed (soft_heap_limit), which is not allowed: it was refused and rolled back, and the connection is replaced',
      );
      expect(writer.retired).toBe(true);
      expect(dumpDatabase(path).text).toBe(before);
    } finally {
      other.pragma('soft_heap_limit = 0');
      other.close();
    }
  });
});
