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

/** A raw statement, alone or with its parameters. */
type Member = string | [sql: string, params: unknown[] | Record<string, unknown>];

/** The members of a class of hostile statements and what the refusal of each must say. */
interface HostileClass {
  message: RegExp;
  members: Member[];
}

/** Each class; `outside` is a folder apart from the database's, where statements try to create or read files. */
function classes(outside: string): Record<string, HostileClass> {
  const file = (name: string) => join(outside, name);
  return {
    'ATTACH and DETACH': {
      message: /ATTACH is not allowed|DETACH is not allowed/,
      members: [
        `;ATTACH DATABASE '${file('a.db')}' AS o`,
        `  ;; /* x */ -- y\n attach '${file('b.db')}' as o`,
        `\uFEFFATTACH '${file('c.db')}' AS "o"`,
        ` \vATTACH '${file('c2.db')}' AS o`,
        `ATTACH '${outside}/' || 'd.db' AS o`,
        `ATTACH (SELECT '${file('e.db')}') AS o`,
        ['ATTACH ? AS o', [file('f.db')]],
        ['ATTACH :path AS o', { path: file('g.db') }],
        `attach database 'file:${file('h.db')}?mode=rwc' as o`,
        "ATTACH ':memory:' AS m",
        'DETACH main',
        ';DETACH DATABASE temp',
      ],
    },
    'VACUUM and VACUUM INTO': {
      message: /VACUUM( INTO)? is not allowed/,
      members: [
        `;VACUUM INTO '${file('copy.db')}'`,
        `VACUUM main INTO '${file('copy2.db')}'`,
        ['vacuum into ?', [file('copy3.db')]],
        `VACUUM INTO (SELECT '${outside}/' || 'copy4.db')`,
        'VACUUM',
        '\n\t/**/vacuum main;',
      ],
    },
    'transaction control': {
      message: /are not allowed: each call runs as its own transaction/,
      members: [
        ';BEGIN',
        'BEGIN IMMEDIATE',
        '-- c\nbegin exclusive transaction;',
        'COMMIT',
        'END TRANSACTION',
        'ROLLBACK',
        'SAVEPOINT s',
        'RELEASE SAVEPOINT s',
        'ROLLBACK TO s',
      ],
    },
    'PRAGMA that sets or reveals connection settings': {
      message: /PRAGMA "[a-z_]+" (is not allowed|with a value sets it)/,
      members: [
        ';PRAGMA synchronous=OFF',
        '\uFEFFPRAGMA synchronous = 0',
        ' \v PRAGMA main.synchronous(0)',
        'pragma "foreign_keys"=off',
        "PRAGMA 'query_only' = 0",
        'PRAGMA [busy_timeout] = 0',
        'PRAGMA journal_mode=DELETE',
        'PRAGMA locking_mode=EXCLUSIVE',
        'PRAGMA cache_size=-2000000',
        'PRAGMA soft_heap_limit=1',
        'PRAGMA case_sensitive_like=1',
        'PRAGMA recursive_triggers=ON',
        'PRAGMA writable_schema=ON',
        'PRAGMA temp_store=MEMORY',
        'PRAGMA wal_checkpoint(TRUNCATE)',
        'PRAGMA user_version=7',
        'PRAGMA database_list',
        'EXPLAIN PRAGMA foreign_keys=0',
        'PRAGMA synchronous=0 /',
      ],
    },
    'TEMP objects that would outlive the call': {
      message: /TEMP tables, views and triggers are not allowed/,
      members: [
        'CREATE TEMP TABLE x (a)',
        'create temporary view v as select 1',
        'CREATE TEMP TRIGGER tr AFTER INSERT ON users BEGIN DELETE FROM posts; END',
        'CREATE TABLE temp.x (a)',
        'CREATE VIEW temp.v AS SELECT 1',
        'CREATE VIRTUAL TABLE temp.f USING fts5(a)',
      ],
    },
    load_extension: {
      message: /load_extension\(\) is not authorized/,
      members: [
        "SELECT load_extension('/tmp/evil.so')",
        ['select LOAD_EXTENSION(?)', ['/tmp/evil.so']],
        "SELECT 1 WHERE load_extension('/tmp/evil.so', 'entry') IS NULL",
      ],
    },
    'several statements': {
      message: /more than one SQL statement/,
      members: [
        'SELECT 1; DROP TABLE users',
        'SELECT 1;\n;DROP TABLE users',
        'SELECT 1 /* c */ ; -- c\n ATTACH ":memory:" AS m',
      ],
    },
    "SQLite's internal tables": {
      message: /may not be (modified|dropped)|reserved for internal use|would write/,
      members: [
        "INSERT INTO sqlite_schema VALUES ('table', 'x', 'x', 0, 'CREATE TABLE x (a)')",
        "UPDATE sqlite_master SET sql = 'CREATE TABLE users (a)' WHERE name = 'users'",
        'DELETE FROM sqlite_schema',
        'CREATE TABLE sqlite_evil (a)',
        'DROP TABLE sqlite_schema',
      ],
    },
    'text after a NUL, which SQLite would not read': {
      message: /NUL character/,
      members: ['SELECT 1\0; DROP TABLE users', 'SELECT 1\0\nPRAGMA synchronous=OFF'],
    },
  };
}

/** The arguments of one member, sent with read_only as given. */
function argsOf(member: Member, readOnly: boolean): Record<string, unknown> & { query: string } {
  return typeof member === 'string'
    ? { query: member, read_only: readOnly }
    : { query: member[0], params: member[1], read_only: readOnly };
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

  for (const [name, { members }] of Object.entries(classes('<outside>'))) {
    describe(name, () => {
      it.each(members.map((_, index) => index))(
        `member %i is refused, read-only and writing, and changes nothing`,
        async (index) => {
          const hostile = classes(outside)[name];
          const member = hostile?.members[index];
          if (!hostile || member === undefined) throw new Error(`no member ${index} in ${name}`);
          for (const readOnly of [true, false]) await expectRefused(argsOf(member, readOnly), hostile.message);
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

  it('a view or trigger created to run later cannot do then what a call cannot do now', async () => {
    const create = [
      "CREATE VIEW later_view AS SELECT load_extension('/tmp/evil.so') AS x",
      "CREATE TRIGGER later_trigger AFTER INSERT ON posts BEGIN SELECT load_extension('/tmp/evil.so'); END",
    ];
    for (const query of create) expect((await call({ query, read_only: false })).isError, query).toBe(false);
    try {
      // SQLite itself refuses load_extension() inside a view or trigger (it is direct-only), and the
      // program check would refuse it in the statement that uses them.
      const refused = /unsafe use of load_extension\(\)|load_extension\(\) is not authorized/;
      for (const readOnly of [true, false]) {
        await expectRefused({ query: 'SELECT * FROM later_view', read_only: readOnly }, refused);
      }
      await expectRefused({ query: 'INSERT INTO posts (user_id) VALUES (2)', read_only: false }, refused);
      const before = await snapshot();
      const inserted = await client.callTool({ name: 'insert_record', arguments: { table_name: 'posts', data: {} } });
      expect(inserted.isError).toBe(true);
      expect((inserted.content as { text: string }[])[0]?.text).toMatch(refused);
      expect(await snapshot()).toEqual(before);
    } finally {
      for (const query of ['DROP VIEW later_view', 'DROP TRIGGER later_trigger']) {
        expect((await call({ query, read_only: false })).isError, query).toBe(false);
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
    for (const { message, members } of Object.values(classes(outside))) {
      for (const member of members) {
        for (const readOnly of [true, false]) {
          const before = await snapshotService(svc.url, path, [dir, outside], false);
          const args = argsOf(member, readOnly);
          const result = await client.callTool({ name: 'execute_raw_query', arguments: args });
          const text = (result.content as { text?: string }[])[0]?.text ?? '';
          expect(result.isError, `${args.query}: ${text}`).toBe(true);
          expect(text).toMatch(readOnly ? message : /READ_ONLY_MODE=true/);
          expect(await snapshotService(svc.url, path, [dir, outside], false)).toEqual(before);
        }
      }
    }
  });
});
