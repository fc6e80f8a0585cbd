/**
 * The database as the service uses it: every call in a database process (readers, one writer),
 * answered exactly as the engine answers, and stopped on time by its signal, with nothing half-written.
 */
import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { isAlive } from '@mcp-sse/testing';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { type RawParams, SqliteDatabase } from '../src/database.js';
import { SqliteEngine } from '../src/engine.js';
import { DatabaseError } from '../src/errors.js';
import { bindParams } from '../src/raw-execute.js';
import {
  cpuTicks,
  dumpDatabase,
  ENDLESS_QUERY,
  runawayWrite,
  SETTINGS_PROBE,
  tempDir,
  waitForCpu,
  waitUntil,
} from './helpers.js';

let dir: string;
let cleanup: () => void;
let path: string;
const opened: SqliteDatabase[] = [];

function open(overrides: Partial<Parameters<typeof SqliteDatabase.open>[0]> = {}): SqliteDatabase {
  const db = SqliteDatabase.open({ path, readOnly: false, busyTimeoutMs: 1000, maxQueryResults: 5, ...overrides });
  opened.push(db);
  return db;
}

type Outcome = { result: unknown } | { error: { code: string; message: string } };

function outcomeOf(error: unknown): Outcome {
  expect(error).toBeInstanceOf(DatabaseError);
  const { code, message } = error as DatabaseError;
  return { error: { code, message } };
}

function syncOutcome(fn: () => unknown): Outcome {
  try {
    return { result: fn() };
  } catch (error) {
    return outcomeOf(error);
  }
}

async function asyncOutcome(promise: Promise<unknown>): Promise<Outcome> {
  try {
    return { result: await promise };
  } catch (error) {
    return outcomeOf(error);
  }
}

/** Resolves with how long the promise took to reject, and its reason; fails if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<{ ms: number; reason: unknown }> {
  const started = Date.now();
  try {
    await promise;
  } catch (reason) {
    return { ms: Date.now() - started, reason };
  }
  throw new Error('expected a rejection');
}

/** The one pid a pool gained since `before`, once it has started it. */
function newPid(pids: number[], before: number[]): number {
  const added = pids.filter((pid) => !before.includes(pid));
  expect(added).toHaveLength(1);
  return added[0] as number;
}

/** Starts the process of a role with a trivial call, so that later CPU use is the statement's, not start-up's. */
async function warm(db: SqliteDatabase, role: 'readers' | 'writer'): Promise<number> {
  if (role === 'readers') await db.executeRaw('SELECT 1', undefined, true);
  else await db.executeRaw('SELECT 1', undefined, false);
  const pid = db.processIds()[role].at(-1);
  expect(pid).toBeDefined();
  return pid as number;
}

/** A database with table t holding one value of each type, written through the writer process. */
async function seeded(overrides: Partial<Parameters<typeof SqliteDatabase.open>[0]> = {}): Promise<SqliteDatabase> {
  const db = open(overrides);
  await db.executeRaw('CREATE TABLE t (id INTEGER PRIMARY KEY, v, note TEXT)', undefined, false);
  await db.executeRaw(
    "INSERT INTO t (v, note) VALUES (CAST(? AS INTEGER), 'big'), (1.5, 'real'), (NULL, 'null'), ('text', 'text'), " +
      "(7, 'int'), (8, 'int'), (x'00ff10', 'blob')",
    ['9223372036854775807'],
    false,
  );
  return db;
}

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  path = join(dir, 'nested', 'deeper', 'db.sqlite');
});

afterEach(() => {
  for (const db of opened.splice(0)) db.close();
  cleanup();
});

describe('open', () => {
  it('creates parent directories and reports WAL, synchronous=FULL, foreign keys and the busy timeout', async () => {
    const db = await seeded();
    expect(existsSync(path)).toBe(true);
    const expected = {
      journal_mode: 'wal',
      synchronous: 'FULL',
      foreign_keys: true,
      busy_timeout_ms: 1000,
      read_only: false,
    };
    // Reported by the writer process after its last call (beforeEach wrote through it).
    expect(db.settings()).toEqual(expected);
    // Checked at start, before any process exists.
    expect(open().settings()).toEqual(expected);
    db.ping();
  });

  it('refuses an in-memory path', () => {
    expect(() => open({ path: ':memory:' })).toThrow('must be a file path');
  });
});

describe('every call runs in a database process, answered exactly as the engine answers it', () => {
  const reads: [string, RawParams | undefined][] = [
    ['SELECT * FROM t ORDER BY id', undefined],
    ['SELECT v, typeof(v) AS kind FROM t WHERE note = ?', ['blob']],
    ['SELECT v FROM t WHERE note = ?', ['big']],
    ['SELECT 1 AS a, 2 AS a, 3 AS "__proto__"', undefined],
    ['SELECT :a + :b AS sum, @c AS c, $d AS d', { a: 2, ':b': 3, '@c': 'x', $d: null }],
    ['SELECT ? AS big, ? AS flag, ? AS json', [9007199254740993n, true, { k: [1] }]],
    ['WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x FROM n', undefined],
    ['PRAGMA table_info(t)', undefined],
    ['EXPLAIN QUERY PLAN SELECT * FROM t WHERE note = ?', ['x']],
    ["EXPLAIN INSERT INTO t (v) VALUES ('z')", undefined],
    [SETTINGS_PROBE, undefined],
    // Refusals: the same codes and messages.
    ['SELECT 1; SELECT 2', undefined],
    [' ; ', undefined],
    ['SELECT ?', []],
    ['SELECT :a', { b: 1 }],
    ['SELECT * FROM nope', undefined],
    ['SELEC 1', undefined],
    ["INSERT INTO t (v) VALUES ('x')", undefined],
    ['CREATE TEMP TABLE tmp (a)', undefined],
    ['DELETE FROM t RETURNING *', undefined],
    ["ATTACH 'other.db' AS other", undefined],
    ['PRAGMA journal_mode', undefined],
    ['BEGIN', undefined],
    ["SELECT load_extension('/tmp/evil.so')", undefined],
  ];

  it('read-only raw statements: the same rows, refusals and messages as the engine gives in this process', async () => {
    const db = await seeded();
    const engine = new SqliteEngine({ ...db.options, role: 'reader', readOnlyMode: false });
    try {
      for (const [query, params] of reads) {
        const expected = syncOutcome(() => engine.executeRaw(query, bindParams(params), true));
        expect(await asyncOutcome(db.executeRaw(query, params, true)), query).toEqual(expected);
      }
    } finally {
      engine.close();
    }
  });

  it('runs writes (read_only=false) in the writer process, readers see them at once', async () => {
    const db = await seeded();
    expect(await db.executeRaw("INSERT INTO t (v) VALUES ('w')", undefined, false)).toEqual({
      changes: 1,
      last_insert_rowid: 8,
    });
    expect((await db.executeRaw('SELECT count(*) AS n FROM t', undefined, true)).rows).toEqual([{ n: 8 }]);
    expect(await db.insertRecord('t', { v: 'r', note: 'record' })).toEqual({
      row: { id: 9, v: 'r', note: 'record' },
      rowid: 9,
    });
    expect(await db.queryRecords('t', { filters: { note: 'record' } })).toMatchObject({ total: 1, count: 1 });
    expect(await db.updateRecords('t', { note: 'record' }, { v: 'u' })).toBe(1);
    expect(await db.deleteRecords('t', { id: { gte: 8 } })).toBe(2);
    expect((await db.createTable('u', { a: 'TEXT' })).name).toBe('u');
    expect((await db.listTables()).tables.map((table) => table.name)).toEqual(['t', 'u']);
    expect((await db.describeTable('u')).columns.map((column) => column.name)).toEqual(['a']);
    expect(db.processIds().writer).toHaveLength(1);
  });

  it('READ_ONLY_MODE refuses every write before it reaches a process, with the READ_ONLY_MODE wording', async () => {
    await seeded();
    const before = dumpDatabase(path).hash;
    const readOnly = open({ readOnly: true });
    expect(readOnly.settings().read_only).toBe(true);
    expect((await readOnly.queryRecords('t')).total).toBe(7);
    for (const write of [
      () => readOnly.createTable('x', { a: 'TEXT' }),
      () => readOnly.insertRecord('t', { v: 1 }),
      () => readOnly.updateRecords('t', { id: 1 }, { v: 2 }),
      () => readOnly.deleteRecords('t', { id: 1 }),
      () => readOnly.executeRaw('DELETE FROM t', undefined, false),
      () => readOnly.executeRaw('DELETE FROM t', undefined, true),
    ]) {
      const outcome = await asyncOutcome(write());
      expect(outcome).toMatchObject({ error: { code: 'FORBIDDEN' } });
      expect(JSON.stringify(outcome)).toContain('READ_ONLY_MODE=true');
    }
    expect(readOnly.processIds().writer).toEqual([]);
    expect(dumpDatabase(path).hash).toBe(before);
  });

  it('READ_ONLY_MODE on a missing file creates it empty', async () => {
    const fresh = join(dir, 'ro', 'fresh.db');
    const readOnly = open({ path: fresh, readOnly: true });
    expect(existsSync(fresh)).toBe(true);
    expect(await readOnly.listTables()).toEqual({ tables: [], truncated: false });
  });
});

describe('cancellation of a read', () => {
  it('rejects at once when the signal fires, kills the process that ran it, and the next query works', async () => {
    const db = await seeded();
    const pid = await warm(db, 'readers');
    const controller = new AbortController();
    const since = cpuTicks(pid);
    const endless = db.executeRaw(ENDLESS_QUERY, undefined, true, controller.signal);
    await waitForCpu(pid, since);
    controller.abort(new Error('caller gave up'));
    const { ms, reason } = await rejection(endless);
    expect(reason).toEqual(new Error('caller gave up'));
    expect(ms).toBeLessThan(2000);
    await waitUntil(() => !isAlive(pid), 2000, `query process ${pid} to be gone`);
    expect(db.processIds().readers).not.toContain(pid);
    expect((await db.executeRaw('SELECT 42 AS x', undefined, true)).rows).toEqual([{ x: 42 }]);
  });

  it("frees the killed query's slot: with one process, the next query runs on a fresh one", async () => {
    const db = open({ queryWorkers: 1 });
    const pid = await warm(db, 'readers');
    const controller = new AbortController();
    const since = cpuTicks(pid);
    const endless = db.executeRaw(ENDLESS_QUERY, undefined, true, controller.signal);
    // Queued behind the endless query: it can only run once that process is gone.
    const next = db.executeRaw('SELECT 7 AS x', undefined, true);
    await waitForCpu(pid, since);
    controller.abort(new Error('stop'));
    expect((await rejection(endless)).reason).toEqual(new Error('stop'));
    expect((await next).rows).toEqual([{ x: 7 }]);
    expect(isAlive(pid)).toBe(false);
    expect(db.processIds().readers).toHaveLength(1);
  });

  it('refuses a call whose signal already fired, without starting it', async () => {
    const db = open();
    const { reason } = await rejection(db.executeRaw('SELECT 1', undefined, true, AbortSignal.abort()));
    expect(reason).toBeInstanceOf(DOMException);
    expect(db.processIds()).toEqual({ readers: [], writer: [] });
  });

  it('every tool call takes its signal: queued behind busy processes, each one is answered at once when it fires', async () => {
    const db = await seeded({ queryWorkers: 1 });
    const busy = new AbortController();
    // The one reader and the writer are each busy with a statement that never ends.
    const endless = [
      db.executeRaw(ENDLESS_QUERY, undefined, true, busy.signal),
      db.executeRaw(runawayWrite('t', 'v'), undefined, false, busy.signal),
    ];
    const controller = new AbortController();
    const { signal } = controller;
    const calls = [
      db.listTables(signal),
      db.describeTable('t', signal),
      db.queryRecords('t', { filters: { note: { like: '%' } } }, signal),
      db.createTable('u', { a: 'TEXT' }, undefined, signal),
      db.insertRecord('t', { v: 1 }, signal),
      db.updateRecords('t', { id: 1 }, { v: 2 }, signal),
      db.deleteRecords('t', { id: 1 }, signal),
      db.executeRaw('SELECT 1', undefined, true, signal),
      db.executeRaw('SELECT 1', undefined, false, signal),
    ];
    controller.abort(new Error('caller gave up'));
    for (const call of calls) {
      const { ms, reason } = await rejection(call);
      expect(reason).toEqual(new Error('caller gave up'));
      expect(ms).toBeLessThan(1000);
    }
    busy.abort(new Error('done'));
    for (const call of endless) expect((await rejection(call)).reason).toEqual(new Error('done'));
  });

  it('queues beyond SQLITE_QUERY_WORKERS, refuses beyond the queue bound, and drops queued calls on abort', async () => {
    const db = open({ queryWorkers: 1 });
    const controller = new AbortController();
    // One signal for 33 calls: not a leak.
    setMaxListeners(64, controller.signal);
    const running = db.executeRaw(ENDLESS_QUERY, undefined, true, controller.signal);
    // 32 per process may wait.
    const queued = Array.from({ length: 32 }, () => db.executeRaw('SELECT 1', undefined, true, controller.signal));
    const refused = await asyncOutcome(db.executeRaw('SELECT 1', undefined, true));
    expect(refused).toEqual({
      error: { code: 'UNAVAILABLE', message: 'Too many reads at once (1 running, 32 waiting); retry shortly' },
    });
    const pid = newPid(db.processIds().readers, []);
    controller.abort(new Error('stop'));
    for (const call of [running, ...queued]) expect((await rejection(call)).reason).toEqual(new Error('stop'));
    await waitUntil(() => !isAlive(pid), 2000, `query process ${pid} to be gone`);
  });

  it('close() with an endless query running returns at once, refuses pending and later calls, and kills every process', async () => {
    const db = open();
    const pending = asyncOutcome(db.executeRaw(ENDLESS_QUERY, undefined, true));
    // A second query meanwhile starts the second process, idle once it has answered.
    expect((await db.executeRaw('SELECT 1 AS one', undefined, true)).rows).toEqual([{ one: 1 }]);
    await db.executeRaw('SELECT 1', undefined, false);
    const { readers, writer } = db.processIds();
    expect(readers).toHaveLength(2);
    expect(writer).toHaveLength(1);
    const started = Date.now();
    db.close();
    opened.splice(opened.indexOf(db), 1);
    expect(await pending).toEqual({ error: { code: 'UNAVAILABLE', message: 'The database is closed' } });
    expect(await asyncOutcome(db.executeRaw('SELECT 1', undefined, true))).toEqual({
      error: { code: 'UNAVAILABLE', message: 'The database is closed' },
    });
    await waitUntil(() => [...readers, ...writer].every((pid) => !isAlive(pid)), 2000, 'every process to be gone');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('a runaway write', () => {
  it('is stopped when its signal fires: rolled back, its process killed, and the next write works', async () => {
    const db = await seeded();
    const pid = await warm(db, 'writer');
    const before = dumpDatabase(path).text;
    const controller = new AbortController();
    const since = cpuTicks(pid);
    const runaway = db.executeRaw(runawayWrite('t', 'v'), undefined, false, controller.signal);
    // Queued behind it: runs on a fresh writer once the runaway one is gone.
    const next = db.insertRecord('t', { v: 'after', note: 'next' });
    // Long enough for the statement to have inserted rows into its (uncommitted) transaction.
    await waitForCpu(pid, since, 30);
    controller.abort(new Error('timed out'));
    const { ms, reason } = await rejection(runaway);
    expect(reason).toEqual(new Error('timed out'));
    expect(ms).toBeLessThan(2000);
    expect((await next).row).toEqual({ id: 8, v: 'after', note: 'next' });
    expect(isAlive(pid)).toBe(false);
    expect(db.processIds().writer).not.toContain(pid);
    // Nothing of the runaway write is in the file: only the one acknowledged insert was added.
    await db.deleteRecords('t', { id: 8 });
    expect(dumpDatabase(path).text).toBe(before);
    const check = new Database(path, { readonly: true });
    try {
      expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      check.close();
    }
  });

  it('that dies on its own (killed from outside) fails with INTERNAL and leaves nothing behind', async () => {
    const db = await seeded();
    const pid = await warm(db, 'writer');
    const before = dumpDatabase(path).text;
    const since = cpuTicks(pid);
    const runaway = db.executeRaw(runawayWrite('t', 'v'), undefined, false);
    await waitForCpu(pid, since, 30);
    process.kill(pid, 'SIGKILL');
    expect(await asyncOutcome(runaway)).toEqual({
      error: { code: 'INTERNAL', message: 'The database process stopped unexpectedly (out of memory?)' },
    });
    expect(dumpDatabase(path).text).toBe(before);
    expect(await db.executeRaw('SELECT count(*) AS n FROM t', undefined, false)).toMatchObject({ rows: [{ n: 7 }] });
  });

  it('close() kills it at once, and the write is rolled back', async () => {
    const db = await seeded();
    const pid = await warm(db, 'writer');
    const before = dumpDatabase(path).text;
    const since = cpuTicks(pid);
    const runaway = asyncOutcome(db.executeRaw(runawayWrite('t', 'v'), undefined, false));
    await waitForCpu(pid, since, 30);
    db.close();
    opened.splice(opened.indexOf(db), 1);
    expect(await runaway).toEqual({ error: { code: 'UNAVAILABLE', message: 'The database is closed' } });
    await waitUntil(() => !isAlive(pid), 2000, 'the writer to be gone');
    expect(dumpDatabase(path).text).toBe(before);
  });

  it('refuses writes beyond the queue bound while one runs', async () => {
    const db = await seeded();
    const controller = new AbortController();
    setMaxListeners(128, controller.signal);
    const running = db.executeRaw(runawayWrite('t', 'v'), undefined, false, controller.signal);
    const queued = Array.from({ length: 64 }, () => db.insertRecord('t', { v: 1 }, controller.signal));
    expect(await asyncOutcome(db.insertRecord('t', { v: 1 }))).toEqual({
      error: { code: 'UNAVAILABLE', message: 'Too many writes at once (1 running, 64 waiting); retry shortly' },
    });
    controller.abort(new Error('stop'));
    for (const call of [running, ...queued]) expect((await rejection(call)).reason).toEqual(new Error('stop'));
  });
});

describe('a database process that dies or must be replaced', () => {
  it('is replaced when killed from outside while idle; the next query works', async () => {
    const db = await seeded();
    const pid = await warm(db, 'readers');
    process.kill(pid, 'SIGKILL');
    // The pool learns of the death from the 'exit' event; a query sent before that would fail.
    await waitUntil(() => !db.processIds().readers.includes(pid), 2000, 'the pool to notice the exit');
    expect((await db.executeRaw('SELECT 2 AS x', undefined, true)).rows).toEqual([{ x: 2 }]);
    const [replacement] = db.processIds().readers;
    expect(replacement).toBeDefined();
    expect(replacement).not.toBe(pid);
  });

  it('fails its running query with INTERNAL, and the next query works', async () => {
    const db = await seeded();
    const pid = await warm(db, 'readers');
    const since = cpuTicks(pid);
    const endless = db.executeRaw(ENDLESS_QUERY, undefined, true);
    await waitForCpu(pid, since);
    process.kill(pid, 'SIGKILL');
    expect(await asyncOutcome(endless)).toEqual({
      error: { code: 'INTERNAL', message: 'The database process stopped unexpectedly (out of memory?)' },
    });
    expect(isAlive(pid)).toBe(false);
    expect((await db.executeRaw('SELECT 3 AS x', undefined, true)).rows).toEqual([{ x: 3 }]);
  });

  it('retires a reader whose connection changed under it (the file left WAL mode): that call is refused, the next runs on a fresh process', async () => {
    const rollback = join(dir, 'rollback.db');
    const setup = new Database(rollback);
    setup.exec("CREATE TABLE r (a); INSERT INTO r VALUES ('x')");
    setup.close();
    const db = open({ path: rollback, readOnly: true, queryWorkers: 1 });
    const pid = await warm(db, 'readers');
    // Another program switches the file to WAL: the reader's journal_mode is no longer what it was.
    // (It stays open: a read-only connection cannot create the WAL's shared-memory file itself.)
    const other = new Database(rollback);
    other.pragma('journal_mode = WAL');
    const changed = await asyncOutcome(db.executeRaw('SELECT a FROM r', undefined, true));
    expect(changed).toEqual({
      error: {
        code: 'FORBIDDEN',
        message:
          'The call left the connection changed (journal_mode, synchronous), which is not allowed: it was refused, and the connection is replaced',
      },
    });
    await waitUntil(() => !isAlive(pid), 2000, 'the retired reader to be gone');
    expect((await db.executeRaw('SELECT a FROM r', undefined, true)).rows).toEqual([{ a: 'x' }]);
    other.close();
  });
});
