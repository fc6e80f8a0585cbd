import { setMaxListeners } from 'node:events';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { type RawParams, SqliteDatabase } from '../src/database.js';
import { DatabaseError } from '../src/errors.js';
import { ENDLESS_QUERY, isAlive, tempDir, waitUntil } from './helpers.js';

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

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  path = join(dir, 'db.sqlite');
  const db = open();
  db.executeRaw('CREATE TABLE t (id INTEGER PRIMARY KEY, v, note TEXT)', undefined, false);
  for (const [v, note] of [
    ['9223372036854775807', 'big'],
    [1.5, 'real'],
    [null, 'null'],
    ['text', 'text'],
    [7, 'int'],
    [8, 'int'],
  ] as const) {
    db.executeRaw(
      `INSERT INTO t (v, note) VALUES (${note === 'big' ? 'CAST(? AS INTEGER)' : '?'}, ?)`,
      [v, note],
      false,
    );
  }
  db.executeRaw("INSERT INTO t (v, note) VALUES (x'00ff10', 'blob')", undefined, false);
});

afterEach(() => {
  for (const db of opened.splice(0)) db.close();
  cleanup();
});

describe('executeRawAsync runs read-only queries in a query process, exactly like executeRaw', () => {
  const cases: [string, RawParams | undefined][] = [
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

  it.each(cases)('%s', async (query, params) => {
    const db = opened[0] as SqliteDatabase;
    const expected = syncOutcome(() => db.executeRaw(query, params, true));
    expect(await asyncOutcome(db.executeRawAsync(query, params, true))).toEqual(expected);
  });

  it('gives the READ_ONLY_MODE wording from the query process too', async () => {
    const readOnly = open({ readOnly: true });
    const expected = syncOutcome(() => readOnly.executeRaw('DELETE FROM t', undefined, true));
    expect(expected).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect(await asyncOutcome(readOnly.executeRawAsync('DELETE FROM t', undefined, true))).toEqual(expected);
    expect(await asyncOutcome(readOnly.executeRawAsync('DELETE FROM t', undefined, false))).toEqual(
      syncOutcome(() => readOnly.executeRaw('DELETE FROM t', undefined, false)),
    );
  });

  it('runs writes (read_only=false) on the main connection', async () => {
    const db = opened[0] as SqliteDatabase;
    expect(await db.executeRawAsync("INSERT INTO t (v) VALUES ('w')", undefined, false)).toEqual({
      changes: 1,
      last_insert_rowid: 8,
    });
    expect((await db.executeRawAsync('SELECT count(*) AS n FROM t', undefined, true)).rows).toEqual([{ n: 8 }]);
  });
});

/** The one pid the pool gained since `before`, once the pool has forked it. */
function newPid(db: SqliteDatabase, before: number[]): number {
  const added = db.queryProcessIds().filter((pid) => !before.includes(pid));
  expect(added).toHaveLength(1);
  return added[0] as number;
}

describe('cancellation', () => {
  it('rejects at once when the signal fires, kills the process that ran it, and the next query works', async () => {
    const db = opened[0] as SqliteDatabase;
    const controller = new AbortController();
    const endless = db.executeRawAsync(ENDLESS_QUERY, undefined, true, controller.signal);
    const pid = newPid(db, []);
    setTimeout(() => controller.abort(new Error('caller gave up')), 200);
    const { ms, reason } = await rejection(endless);
    expect(reason).toEqual(new Error('caller gave up'));
    expect(ms).toBeLessThan(2000);
    await waitUntil(() => !isAlive(pid), 2000, `query process ${pid} to be gone`);
    expect(db.queryProcessIds()).not.toContain(pid);
    expect((await db.executeRawAsync('SELECT 42 AS x', undefined, true)).rows).toEqual([{ x: 42 }]);
  });

  it("frees the killed query's slot: with one process, the next query runs on a fresh one", async () => {
    const db = open({ queryWorkers: 1 });
    const controller = new AbortController();
    const endless = db.executeRawAsync(ENDLESS_QUERY, undefined, true, controller.signal);
    const pid = newPid(db, []);
    // Queued behind the endless query: it can only run once that process is gone.
    const next = db.executeRawAsync('SELECT 7 AS x', undefined, true);
    setTimeout(() => controller.abort(new Error('stop')), 200);
    expect((await rejection(endless)).reason).toEqual(new Error('stop'));
    expect((await next).rows).toEqual([{ x: 7 }]);
    expect(isAlive(pid)).toBe(false);
    expect(db.queryProcessIds()).toHaveLength(1);
  });

  it('refuses a call whose signal already fired, without starting it', async () => {
    const db = opened[0] as SqliteDatabase;
    const { reason } = await rejection(db.executeRawAsync('SELECT 1', undefined, true, AbortSignal.abort()));
    expect(reason).toBeInstanceOf(DOMException);
    expect(db.queryProcessIds()).toEqual([]);
  });

  it('queues beyond SQLITE_QUERY_WORKERS, refuses beyond the queue bound, and drops queued calls on abort', async () => {
    const db = open({ queryWorkers: 1 });
    const controller = new AbortController();
    // One signal for 33 calls: not a leak.
    setMaxListeners(64, controller.signal);
    const running = db.executeRawAsync(ENDLESS_QUERY, undefined, true, controller.signal);
    // 32 per process may wait.
    const queued = Array.from({ length: 32 }, () => db.executeRawAsync('SELECT 1', undefined, true, controller.signal));
    const refused = await asyncOutcome(db.executeRawAsync('SELECT 1', undefined, true));
    expect(refused).toEqual({
      error: {
        code: 'UNAVAILABLE',
        message: 'Too many read-only queries at once (1 running, 32 waiting); retry shortly',
      },
    });
    const pid = newPid(db, []);
    controller.abort(new Error('stop'));
    for (const call of [running, ...queued]) expect((await rejection(call)).reason).toEqual(new Error('stop'));
    await waitUntil(() => !isAlive(pid), 2000, `query process ${pid} to be gone`);
  });

  it('close() with an endless query running returns at once, refuses pending and later queries, and kills every process', async () => {
    const db = open();
    const pending = asyncOutcome(db.executeRawAsync(ENDLESS_QUERY, undefined, true));
    // A second query meanwhile starts the second process, idle once it has answered.
    expect((await db.executeRawAsync('SELECT 1 AS one', undefined, true)).rows).toEqual([{ one: 1 }]);
    const pids = db.queryProcessIds();
    expect(pids).toHaveLength(2);
    const started = Date.now();
    db.close();
    opened.splice(opened.indexOf(db), 1);
    expect(await pending).toEqual({ error: { code: 'UNAVAILABLE', message: 'The database is closed' } });
    expect(await asyncOutcome(db.executeRawAsync('SELECT 1', undefined, true))).toEqual({
      error: { code: 'UNAVAILABLE', message: 'The database is closed' },
    });
    await waitUntil(() => pids.every((pid) => !isAlive(pid)), 2000, 'every query process to be gone');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('a query process that dies unexpectedly', () => {
  it('is replaced when killed from outside while idle; the next query works', async () => {
    const db = opened[0] as SqliteDatabase;
    expect((await db.executeRawAsync('SELECT 1 AS x', undefined, true)).rows).toEqual([{ x: 1 }]);
    const pid = newPid(db, []);
    process.kill(pid, 'SIGKILL');
    // The pool learns of the death from the 'exit' event; a query sent before that would fail.
    await waitUntil(() => !db.queryProcessIds().includes(pid), 2000, 'the pool to notice the exit');
    expect((await db.executeRawAsync('SELECT 2 AS x', undefined, true)).rows).toEqual([{ x: 2 }]);
    const [replacement] = db.queryProcessIds();
    expect(replacement).toBeDefined();
    expect(replacement).not.toBe(pid);
  });

  it('fails its running query with the INTERNAL error, and the next query works', async () => {
    const db = opened[0] as SqliteDatabase;
    const endless = db.executeRawAsync(ENDLESS_QUERY, undefined, true);
    const pid = newPid(db, []);
    await new Promise((resolve) => setTimeout(resolve, 100));
    process.kill(pid, 'SIGKILL');
    expect(await asyncOutcome(endless)).toEqual({
      error: { code: 'INTERNAL', message: 'The query worker stopped unexpectedly' },
    });
    expect(isAlive(pid)).toBe(false);
    expect((await db.executeRawAsync('SELECT 3 AS x', undefined, true)).rows).toEqual([{ x: 3 }]);
  });
});
