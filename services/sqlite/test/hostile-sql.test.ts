/**
 * Hostile raw SQL, class by class, over both MCP transports: several members of each class (other
 * spellings, leading junk, expressions, parameters, EXPLAIN, CTEs), each tried with read_only=true
 * and read_only=false, and in READ_ONLY_MODE. Every refusal must leave the service exactly as it
 * was: every row and the schema of the file, the files in the folders around it and elsewhere
 * (nothing attached, created or copied out), the settings of the writer's and the readers'
 * connections as the next call finds them, and what /health reports.
 */
import { join } from 'node:path';

import { type ClientTransportKind, connectClient, type StartedService, startService } from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { snapshotService, tempDir } from './helpers.js';

/** A raw statement, its parameters, and what the refusal must say. */
type Member = [sql: string, params: unknown[] | Record<string, unknown> | undefined, message: RegExp];

/** The folder outside the database's own, where hostile statements try to create or read files. */
function classes(outside: string): Record<string, Member[]> {
  const file = (name: string) => join(outside, name);
  const attach = /ATTACH is not allowed|DETACH is not allowed/;
  const vacuum = /VACUUM( INTO)? is not allowed/;
  const transaction = /are not allowed: each call runs as its own transaction/;
  const pragma = /PRAGMA "[a-z_]+" (is not allowed|with a value sets it)/;
  const temp = /TEMP tables, views and triggers are not allowed/;
  return {
    'ATTACH and DETACH': [
      [`;ATTACH DATABASE '${file('a.db')}' AS o`, undefined, attach],
      [`  ;; /* x */ -- y\n attach '${file('b.db')}' as o`, undefined, attach],
      [`\uFEFFATTACH '${file('c.db')}' AS "o"`, undefined, attach],
      [` \vATTACH '${file('c2.db')}' AS o`, undefined, attach],
      [`ATTACH '${outside}/' || 'd.db' AS o`, undefined, attach],
      [`ATTACH (SELECT '${file('e.db')}') AS o`, undefined, attach],
      ['ATTACH ? AS o', [file('f.db')], attach],
      ['ATTACH :path AS o', { path: file('g.db') }, attach],
      [`attach database 'file:${file('h.db')}?mode=rwc' as o`, undefined, attach],
      ["ATTACH ':memory:' AS m", undefined, attach],
      ['DETACH main', undefined, attach],
      [';DETACH DATABASE temp', undefined, attach],
    ],
    'VACUUM and VACUUM INTO': [
      [`;VACUUM INTO '${file('copy.db')}'`, undefined, vacuum],
      [`VACUUM main INTO '${file('copy2.db')}'`, undefined, vacuum],
      ['vacuum into ?', [file('copy3.db')], vacuum],
      [`VACUUM INTO (SELECT '${outside}/' || 'copy4.db')`, undefined, vacuum],
      ['VACUUM', undefined, vacuum],
      ['\n\t/**/vacuum main;', undefined, vacuum],
    ],
    'transaction control': [
      [';BEGIN', undefined, transaction],
      ['BEGIN IMMEDIATE', undefined, transaction],
      ['-- c\nbegin exclusive transaction;', undefined, transaction],
      ['COMMIT', undefined, transaction],
      ['END TRANSACTION', undefined, transaction],
      ['ROLLBACK', undefined, transaction],
      ['SAVEPOINT s', undefined, transaction],
      ['RELEASE SAVEPOINT s', undefined, transaction],
      ['ROLLBACK TO s', undefined, transaction],
    ],
    'PRAGMA that sets or reveals connection settings': [
      [';PRAGMA synchronous=OFF', undefined, pragma],
      ['\uFEFFPRAGMA synchronous = 0', undefined, pragma],
      [' \v PRAGMA main.synchronous(0)', undefined, pragma],
      ['pragma "foreign_keys"=off', undefined, pragma],
      ["PRAGMA 'query_only' = 0", undefined, pragma],
      ['PRAGMA [busy_timeout] = 0', undefined, pragma],
      ['PRAGMA journal_mode=DELETE', undefined, pragma],
      ['PRAGMA locking_mode=EXCLUSIVE', undefined, pragma],
      ['PRAGMA cache_size=-2000000', undefined, pragma],
      ['PRAGMA soft_heap_limit=1', undefined, pragma],
      ['PRAGMA case_sensitive_like=1', undefined, pragma],
      ['PRAGMA recursive_triggers=ON', undefined, pragma],
      ['PRAGMA writable_schema=ON', undefined, pragma],
      ['PRAGMA temp_store=MEMORY', undefined, pragma],
      ['PRAGMA wal_checkpoint(TRUNCATE)', undefined, pragma],
      ['PRAGMA user_version=7', undefined, pragma],
      ['PRAGMA database_list', undefined, pragma],
      ['EXPLAIN PRAGMA foreign_keys=0', undefined, pragma],
      ['PRAGMA synchronous=0 /', undefined, pragma],
    ],
    'TEMP objects that would outlive the call': [
      ['CREATE TEMP TABLE x (a)', undefined, temp],
      ['create temporary view v as select 1', undefined, temp],
      ['CREATE TEMP TRIGGER tr AFTER INSERT ON users BEGIN DELETE FROM posts; END', undefined, temp],
      ['CREATE TABLE temp.x (a)', undefined, temp],
      ['CREATE VIEW temp.v AS SELECT 1', undefined, temp],
      ['CREATE VIRTUAL TABLE temp.f USING fts5(a)', undefined, temp],
    ],
    load_extension: [
      ["SELECT load_extension('/tmp/evil.so')", undefined, /load_extension\(\) is not authorized/],
      ['select LOAD_EXTENSION(?)', ['/tmp/evil.so'], /load_extension\(\) is not authorized/],
      ["SELECT 1 WHERE load_extension('/tmp/evil.so', 'entry') IS NULL", undefined, /is not authorized/],
    ],
    'several statements and hidden text': [
      ['SELECT 1; DROP TABLE users', undefined, /more than one SQL statement/],
      ['SELECT 1;\n;DROP TABLE users', undefined, /more than one SQL statement/],
      ['SELECT 1 /* c */ ; -- c\n ATTACH ":memory:" AS m', undefined, /more than one SQL statement/],
      ['SELECT 1\0; DROP TABLE users', undefined, /NUL character/],
    ],
  };
}

/** Writes, in every spelling, that read_only=true refuses (they succeed with read_only=false). */
const WRITES = [
  "INSERT INTO users (email) VALUES ('evil')",
  "WITH x AS (SELECT 1) INSERT INTO users (email) SELECT 'cte' FROM x",
  "REPLACE INTO users (id, email) VALUES (1, 'replaced')",
  "INSERT INTO users (email) VALUES ('admin@x') ON CONFLICT (email) DO UPDATE SET role = 'owner'",
  "UPDATE users SET role = 'admin' RETURNING id",
  'DELETE FROM posts RETURNING *',
  'DROP TABLE posts',
  'CREATE TABLE evil (a)',
  'CREATE VIEW later AS SELECT * FROM users',
  'CREATE TRIGGER later AFTER INSERT ON posts BEGIN DELETE FROM users; END',
  'CREATE INDEX evil_index ON users (role)',
  'REINDEX',
  'ANALYZE',
  "INSERT INTO sqlite_schema VALUES ('table', 'x', 'x', 0, 'CREATE TABLE x (a)')",
  ';;/**/ DELETE FROM users',
];

describe.each<ClientTransportKind>(['sse', 'streamable-http'])('hostile raw SQL over %s', (kind) => {
  let svc: StartedService;
  let client: Client;
  let dir: string;
  let outside: string;
  let cleanups: (() => void)[];
  let path: string;

  async function call(args: Record<string, unknown>) {
    const result = await client.callTool({ name: 'execute_raw_query', arguments: args });
    const text = (result.content as { text?: string }[])[0]?.text ?? '';
    return { isError: result.isError === true, text };
  }

  const snapshot = () => snapshotService(svc.url, path, [dir, outside]);

  /** One attempt: refused with the expected message, and the service exactly as it was. */
  async function expectRefused(args: Record<string, unknown>, message: RegExp): Promise<void> {
    const before = await snapshot();
    const result = await call(args);
    expect(result.isError, `${JSON.stringify(args)} was not refused: ${result.text}`).toBe(true);
    expect(result.text).toMatch(message);
    expect(result.text).not.toContain(dir);
    expect(await snapshot()).toEqual(before);
  }

  beforeAll(async () => {
    const database = tempDir();
    const elsewhere = tempDir();
    cleanups = [database.cleanup, elsewhere.cleanup];
    dir = database.dir;
    outside = elsewhere.dir;
    path = join(dir, 'target.db');
    // One reader: the probe after each attempt reads the very connection the attempt used (or its replacement).
    svc = await startService(service, {
      env: { DATABASE_PATH: path, MCP_RATE_LIMIT: '0', SQLITE_QUERY_WORKERS: '1' },
    });
    client = await connectClient(svc.url, kind);
    for (const sql of [
      'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL, role TEXT)',
      'CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id))',
      "INSERT INTO users (email, role) VALUES ('admin@x', 'admin'), ('guest@x', 'guest')",
      'INSERT INTO posts (user_id) VALUES (1)',
    ]) {
      expect((await call({ query: sql, read_only: false })).isError).toBe(false);
    }
  });

  afterAll(async () => {
    await client.close();
    await svc.close();
    for (const cleanup of cleanups) cleanup();
  });

  it('starts from the settings the service promises', async () => {
    const { writer, reader, health } = await snapshot();
    expect(writer).toMatchObject({
      journal_mode: 'wal',
      synchronous: 2,
      foreign_keys: 1,
      query_only: 0,
      temp_objects: 0,
    });
    expect(reader).toMatchObject({ journal_mode: 'wal', query_only: 1, temp_objects: 0 });
    expect(health).toEqual({
      status: 'ok',
      journal_mode: 'wal',
      synchronous: 'FULL',
      foreign_keys: true,
      busy_timeout_ms: 5000,
      read_only: false,
    });
  });

  for (const [name, members] of Object.entries(classes('<outside>'))) {
    describe(name, () => {
      it.each(members.map((_, index) => index))(
        `member %i is refused, read-only and writing, and changes nothing`,
        async (index) => {
          const [sql, params, message] = classes(outside)[name]?.[index] as Member;
          for (const readOnly of [true, false]) {
            await expectRefused({ query: sql, ...(params && { params }), read_only: readOnly }, message);
          }
        },
      );
    });
  }

  it.each(WRITES)('with read_only=true, the write %j is refused and changes nothing', async (sql) => {
    await expectRefused({ query: sql }, /read_only is true|may not be modified|read-only connection/);
  });

  it('EXPLAIN only lists a program: EXPLAIN ATTACH, VACUUM INTO or BEGIN answers, and runs nothing', async () => {
    for (const sql of [
      `EXPLAIN ATTACH '${join(outside, 'explained.db')}' AS o`,
      `EXPLAIN VACUUM INTO '${join(outside, 'explained-copy.db')}'`,
      'EXPLAIN BEGIN IMMEDIATE',
      'EXPLAIN QUERY PLAN DELETE FROM users',
    ]) {
      for (const readOnly of [true, false]) {
        const before = await snapshot();
        const result = await call({ query: sql, read_only: readOnly });
        expect(result.isError, `${sql}: ${result.text}`).toBe(false);
        expect(await snapshot()).toEqual(before);
      }
    }
  });

  it('the same writes succeed with read_only=false, one transaction each, and leave the settings as they were', async () => {
    const { writer, reader, health } = await snapshot();
    const created = await call({ query: 'CREATE TABLE scratch (a)', read_only: false });
    expect(created.isError).toBe(false);
    const upsert = await call({
      query:
        "INSERT INTO users (email) VALUES ('admin@x') ON CONFLICT (email) DO UPDATE SET role = 'owner' RETURNING role",
      read_only: false,
    });
    expect(upsert.text).toContain('"role":"owner"');
    expect((await call({ query: 'DROP TABLE scratch', read_only: false })).isError).toBe(false);
    expect(
      (await call({ query: "UPDATE users SET role = 'admin' WHERE email = 'admin@x'", read_only: false })).isError,
    ).toBe(false);
    expect(await snapshot()).toMatchObject({ writer, reader, health });
  });
});

describe('hostile raw SQL under READ_ONLY_MODE', () => {
  let svc: StartedService;
  let dir: string;
  let outside: string;
  let path: string;
  let cleanups: (() => void)[];
  let client: Client;

  beforeAll(async () => {
    const database = tempDir();
    const elsewhere = tempDir();
    cleanups = [database.cleanup, elsewhere.cleanup];
    dir = database.dir;
    outside = elsewhere.dir;
    path = join(dir, 'read-only.db');
    const seed = await startService(service, { env: { DATABASE_PATH: path } });
    const seeding = await connectClient(seed.url, 'streamable-http');
    await seeding.callTool({
      name: 'execute_raw_query',
      arguments: { query: 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)', read_only: false },
    });
    await seeding.close();
    await seed.close();
    svc = await startService(service, {
      env: { DATABASE_PATH: path, READ_ONLY_MODE: 'true', MCP_RATE_LIMIT: '0', SQLITE_QUERY_WORKERS: '1' },
    });
    client = await connectClient(svc.url, 'sse');
  });

  afterAll(async () => {
    await client.close();
    await svc.close();
    for (const cleanup of cleanups) cleanup();
  });

  it('refuses every class, read_only=true by what it compiles to and read_only=false by the mode, changing nothing', async () => {
    for (const members of Object.values(classes(outside))) {
      for (const [sql, params, message] of members) {
        for (const readOnly of [true, false]) {
          const before = await snapshotService(svc.url, path, [dir, outside], false);
          const result = await client.callTool({
            name: 'execute_raw_query',
            arguments: { query: sql, ...(params && { params }), read_only: readOnly },
          });
          const text = (result.content as { text?: string }[])[0]?.text ?? '';
          expect(result.isError, `${sql}: ${text}`).toBe(true);
          expect(text).toMatch(readOnly ? message : /READ_ONLY_MODE=true/);
          expect(await snapshotService(svc.url, path, [dir, outside], false)).toEqual(before);
        }
      }
    }
  });
});
