import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { CallExchange, type ExchangeResult } from '../src/call-exchange.js';
import type { DatabaseOptions } from '../src/database.js';
import { PostgresDatabase } from '../src/database.js';
import { DatabaseError } from '../src/errors.js';
import { backendRunning, longRead } from './helpers/active-backend.js';
import { dumpTable, REAL_SERVER, startPgBackend } from './helpers/pg-backend.js';

const backend = await startPgBackend();
const itReal = it.runIf(backend.real);
const open: PostgresDatabase[] = [];

function database(overrides: Partial<DatabaseOptions> = {}): PostgresDatabase {
  const db = new PostgresDatabase({
    connectionString: backend.url,
    accessMode: 'read_only',
    statementTimeoutMs: 5000,
    maxRows: 100,
    poolMax: Number(backend.env['POSTGRES_POOL_MAX'] ?? 4),
    idleTimeoutMs: 10_000,
    connectTimeoutMs: 3000,
    applicationName: 'mcp-postgres-test',
    maxResultBytes: 4 * 1024 * 1024,
    ...overrides,
  });
  open.push(db);
  return db;
}

async function refusal(promise: Promise<unknown>): Promise<DatabaseError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DatabaseError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  await backend.admin(`
    CREATE TABLE items (
      id int PRIMARY KEY, name text NOT NULL UNIQUE, price numeric(10,2), created date, at timestamptz,
      ratio float8, data bytea, tags text[], meta jsonb, big bigint
    )`);
  await backend.admin(`
    INSERT INTO items VALUES
      (1, 'apple', 1.50, '2024-01-02', '2024-01-02 03:04:05+00', 'NaN', '\\x0102', '{a,b}', '{"k": 1}', 9007199254740993),
      (2, 'pear', 2.25, NULL, NULL, 0.5, NULL, '{}', NULL, NULL),
      (3, 'plum', 0.99, NULL, NULL, 'Infinity', NULL, NULL, '[1, 2]', NULL)`);
  await backend.admin('CREATE SEQUENCE item_ids');
});

afterEach(async () => {
  // Each test's pools are closed at once: PGlite's socket server accepts a limited number of connections.
  for (const db of open.splice(0)) await db.close();
});

afterAll(async () => {
  await backend.close();
});

describe(`PostgresDatabase on ${backend.kind}`, () => {
  it('runs one SELECT with bound parameters and reports column names and types', async () => {
    const db = database();
    const result = await db.execute('SELECT id, name, price FROM items WHERE id = ANY($1) ORDER BY id', [[1, 3]], 10);
    expect(result).toEqual({
      command: 'SELECT',
      columns: [
        { name: 'id', type: 'integer' },
        { name: 'name', type: 'text' },
        { name: 'price', type: 'numeric' },
      ],
      rows: [
        { id: 1, name: 'apple', price: '1.50' },
        { id: 3, name: 'plum', price: '0.99' },
      ],
      row_count: 2,
      truncated: false,
      truncated_reason: null,
      affected_rows: null,
      row_limit: 10,
    });
  });

  it('returns values JSON can carry without loss: dates, bytea and bigints as text, NaN as text', async () => {
    const db = database();
    const { rows } = await db.execute(
      'SELECT created, at, ratio, data, tags, meta, big FROM items WHERE id = $1',
      [1],
      10,
    );
    expect(rows[0]).toEqual({
      created: '2024-01-02',
      at: expect.stringMatching(/^2024-01-02 0\d:04:05\+0\d$/) as unknown,
      ratio: 'NaN',
      data: '\\x0102',
      tags: ['a', 'b'],
      meta: { k: 1 },
      big: '9007199254740993',
    });
  });

  it('caps rows at the call limit, says so, and never reads past it', async () => {
    const db = database();
    const result = await db.execute('SELECT g FROM generate_series(1, 100000) g', [], 5);
    expect(result.rows).toEqual([{ g: 1 }, { g: 2 }, { g: 3 }, { g: 4 }, { g: 5 }]);
    expect(result).toMatchObject({ row_count: 5, truncated: true, row_limit: 5, command: 'SELECT' });
  });

  it('keeps at most MCP_MAX_RESULT_BYTES of rows and says why it stopped', async () => {
    const budget = 64 * 1024;
    const db = database({ maxResultBytes: budget, maxRows: 100_000 });
    const result = await db.execute(
      "SELECT g, repeat('x', 1000) AS v FROM generate_series(1, 100000) AS g",
      [],
      100_000,
    );
    expect(result).toMatchObject({ truncated: true, truncated_reason: 'byte_limit', command: 'SELECT' });
    expect(result.row_count).toBeGreaterThan(10);
    expect(JSON.stringify(result).length).toBeLessThanOrEqual(budget);
    expect(result.rows.map((row) => row['g'])).toEqual(Array.from({ length: result.row_count }, (_, i) => i + 1));
  });

  itReal(
    `a value larger than the budget is never read whole: the connection is cut, the pool carries on ${REAL_SERVER}`,
    async () => {
      const db = database({ maxResultBytes: 64 * 1024, poolMax: 1 });
      const result = await db.execute("SELECT 1 AS a, repeat('x', 50000000) AS v", [], 10);
      expect(result).toMatchObject({ rows: [], row_count: 0, truncated: true, truncated_reason: 'byte_limit' });
      expect((await db.execute('SELECT 2 AS b', [], 10)).rows).toEqual([{ b: 2 }]);
    },
  );

  itReal(`read_write: a write whose answer is cut off is rolled back, never half-done ${REAL_SERVER}`, async () => {
    const db = database({ accessMode: 'read_write', maxResultBytes: 64 * 1024, poolMax: 1 });
    const before = await dumpTable(backend, 'items');
    const error = await refusal(
      db.execute("UPDATE items SET name = name || '' RETURNING repeat(name, 2000000) AS huge", [], 10),
    );
    expect(error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(error.message).toMatch(/the statement was rolled back and nothing was written/);
    expect(await dumpTable(backend, 'items')).toBe(before);
    expect((await db.execute('SELECT 3 AS c', [], 10)).rows).toEqual([{ c: 3 }]);
  });

  it('returns a json or array value longer than 64 KiB as its PostgreSQL text, unparsed', async () => {
    const db = database();
    const { rows } = await db.execute(
      'SELECT jsonb_agg(g) AS big, jsonb_build_array(1, 2) AS small, array_agg(g) AS arr FROM generate_series(1, 20000) AS g',
      [],
      10,
    );
    const row = rows[0] as { big: unknown; small: unknown; arr: unknown };
    expect(row.small).toEqual([1, 2]);
    expect(typeof row.big).toBe('string');
    expect(JSON.parse(row.big as string)).toHaveLength(20000);
    expect(typeof row.arr).toBe('string');
    expect((row.arr as string).startsWith('{1,2,3,')).toBe(true);
  });

  it('clamps a call limit above POSTGRES_MAX_ROWS', async () => {
    const db = database({ maxRows: 2 });
    const result = await db.execute('SELECT id FROM items ORDER BY id', [], 1000);
    expect(result).toMatchObject({ row_count: 2, truncated: true, row_limit: 2 });
  });

  it('keeps every column when names repeat', async () => {
    const db = database();
    const result = await db.execute('SELECT 1 AS a, 2 AS a, 3 AS a', [], 10);
    expect(result.rows).toEqual([{ a: 1, a_2: 2, a_3: 3 }]);
    expect(result.columns.map((column) => column.name)).toEqual(['a', 'a_2', 'a_3']);
  });

  it('sends each statement as its own Parse message, so the server itself refuses stacked statements', async () => {
    // The guard refuses them first; this shows the wire path would not run them either.
    const client = new pg.Client({ connectionString: backend.url });
    await client.connect();
    try {
      const before = await dumpTable(backend, 'items');
      const exchange = new CallExchange({
        before: [{ text: 'BEGIN' }],
        statement: { text: 'SELECT 1; DELETE FROM items' },
        end: 'COMMIT',
        pipelineEnd: true,
        rowLimit: 10,
        byteBudget: 1024,
        types: pg.types,
      });
      const outcome = new Promise<ExchangeResult>((resolve, reject) => {
        exchange.callback = (error, result) => (error ? reject(error) : resolve(result as ExchangeResult));
      });
      void client.query(exchange as unknown as pg.QueryConfig);
      await expect(outcome).rejects.toMatchObject({
        code: '42601',
        message: 'cannot insert multiple commands into a prepared statement',
      });
      await client.query('ROLLBACK');
      expect(await dumpTable(backend, 'items')).toBe(before);
    } finally {
      await client.end();
    }
  });

  describe('read_only mode', () => {
    it.each([
      ['DELETE FROM items', 'DELETE'],
      ["INSERT INTO items (id, name) VALUES (9, 'x')", 'INSERT'],
      ['UPDATE items SET price = 0', 'UPDATE'],
      ['WITH gone AS (DELETE FROM items RETURNING *) SELECT count(*) FROM gone', 'DELETE'],
      ['CREATE TABLE sneaky (a int)', 'CREATE TABLE'],
      ['TRUNCATE items', 'TRUNCATE'],
    ])('the guard refuses %s before it reaches the server, and nothing changes', async (sql, what) => {
      const db = database();
      const before = await dumpTable(backend, 'items');
      const error = await refusal(db.execute(sql, [], 10));
      expect(error.code).toBe('FORBIDDEN');
      expect(error.message).toBe(
        `${what} is not allowed in read-only mode (POSTGRES_ACCESS_MODE=read_only): only SELECT (and VALUES, TABLE, WITH ... SELECT), EXPLAIN and SHOW run here.`,
      );
      expect(await dumpTable(backend, 'items')).toBe(before);
    });

    it.each([
      ['DELETE FROM items', 'DELETE'],
      ['UPDATE items SET price = 0', 'UPDATE'],
      ['WITH gone AS (DELETE FROM items RETURNING *) SELECT count(*) FROM gone', 'SELECT'],
      ['SELECT * FROM items FOR UPDATE', 'SELECT FOR UPDATE'],
    ])('behind the guard, the READ ONLY transaction itself refuses %s', async (sql, what) => {
      const db = database();
      const before = await dumpTable(backend, 'items');
      const error = await refusal(db.read((q) => q.query(sql)));
      expect(error).toMatchObject({ code: 'FORBIDDEN', sqlstate: '25006' });
      expect(error.message).toBe(
        `Refused by the database: cannot execute ${what} in a read-only transaction (SQLSTATE 25006). This service runs with POSTGRES_ACCESS_MODE=read_only.`,
      );
      expect(await dumpTable(backend, 'items')).toBe(before);
    });

    it('refuses nextval before it reaches the server and the sequence does not move', async () => {
      const db = database();
      const error = await refusal(db.execute("SELECT nextval('item_ids')", [], 10));
      expect(error.code).toBe('FORBIDDEN');
      const [sequence] = await backend.admin<{ is_called: boolean }>('SELECT is_called FROM item_ids');
      expect(sequence?.is_called).toBe(false);
    });

    it('translates server errors into clear messages with their SQLSTATE', async () => {
      const db = database();
      const missing = await refusal(db.execute('SELECT * FROM nope', [], 10));
      expect(missing.code).toBe('NOT_FOUND');
      expect(missing.message).toBe(
        'relation "nope" does not exist (SQLSTATE 42P01). At character 15 of the statement.',
      );
      const syntax = await refusal(db.execute('SELEC 1', [], 10));
      expect(syntax).toMatchObject({ code: 'INVALID_INPUT', sqlstate: '42601' });
      const badParam = await refusal(db.execute('SELECT $1::int', ['abc'], 10));
      expect(badParam.message).toBe('invalid input syntax for type integer: "abc" (SQLSTATE 22P02)');
    });

    it('leaves the pool usable after failures', async () => {
      const db = database({ poolMax: 1 });
      await refusal(db.execute('DELETE FROM items', [], 10));
      await refusal(db.execute('SELECT * FROM nope', [], 10));
      const result = await db.execute('SELECT count(*)::int AS n FROM items', [], 10);
      expect(result.rows).toEqual([{ n: 3 }]);
    });
  });

  describe('read_write mode', () => {
    it('commits one write and reports the affected rows', async () => {
      const db = database({ accessMode: 'read_write' });
      const result = await db.execute('UPDATE items SET price = price + $1 WHERE id = $2', [1, 2], 10);
      expect(result).toMatchObject({ command: 'UPDATE', affected_rows: 1, rows: [], columns: [] });
      const [row] = await backend.admin<{ price: string }>('SELECT price FROM items WHERE id = 2');
      expect(row?.price).toBe('3.25');
      await backend.admin('UPDATE items SET price = 2.25 WHERE id = 2');
    });

    it('maps a unique violation to CONFLICT with the detail and rolls the statement back', async () => {
      const db = database({ accessMode: 'read_write' });
      const before = await dumpTable(backend, 'items');
      const error = await refusal(db.execute("INSERT INTO items (id, name) VALUES (10, 'new'), (11, 'apple')", [], 10));
      expect(error.code).toBe('CONFLICT');
      expect(error.message).toBe(
        'duplicate key value violates unique constraint "items_name_key" (SQLSTATE 23505). Detail: Key (name)=(apple) already exists',
      );
      expect(await dumpTable(backend, 'items')).toBe(before);
    });

    it('returns RETURNING rows of a write', async () => {
      const db = database({ accessMode: 'read_write' });
      const result = await db.execute("INSERT INTO items (id, name) VALUES (20, 'kiwi') RETURNING id, name", [], 10);
      expect(result).toMatchObject({ command: 'INSERT', rows: [{ id: 20, name: 'kiwi' }], affected_rows: 1 });
      await backend.admin('DELETE FROM items WHERE id = 20');
    });

    itReal(`statement_timeout cancels pg_sleep and the pool stays usable ${REAL_SERVER}`, async () => {
      const db = database({ accessMode: 'read_write', statementTimeoutMs: 200, poolMax: 1 });
      const error = await refusal(db.execute('SELECT pg_sleep(10)', [], 10));
      expect(error.code).toBe('TIMEOUT');
      expect(error.message).toBe(
        'The statement ran longer than POSTGRES_STATEMENT_TIMEOUT_MS (200 ms) and was cancelled by the server (SQLSTATE 57014).',
      );
      // The only pooled connection is reused and works.
      const result = await db.execute('SELECT count(*)::int AS n FROM items', [], 10);
      expect(result.rows).toEqual([{ n: 3 }]);
      expect(db.poolStats().total).toBe(1);
    });

    itReal(`an aborted call cancels its statement on the server ${REAL_SERVER}`, async () => {
      const db = database({ accessMode: 'read_write', statementTimeoutMs: 60_000, poolMax: 1 });
      const controller = new AbortController();
      const running = db.execute("SELECT pg_sleep(30), 'abort-me'", [], 10, controller.signal);
      // Wait until the statement is really running on the server, then abort.
      for (let i = 0; i < 100; i += 1) {
        const rows = await backend.admin(
          "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%abort-me%' AND state = 'active' AND pid <> pg_backend_pid()",
        );
        if (rows.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      controller.abort();
      const error = await refusal(running);
      expect(error.code).toBe('CANCELLED');
      const still = await backend.admin(
        "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%abort-me%' AND state = 'active' AND pid <> pg_backend_pid()",
      );
      expect(still).toEqual([]);
      expect((await db.execute('SELECT 1 AS ok', [], 10)).rows).toEqual([{ ok: 1 }]);
    });

    for (const accessMode of ['read_only', 'read_write'] as const) {
      itReal(
        `${accessMode}: a connection whose session the server ended is never handed back to the pool ${REAL_SERVER}`,
        async () => {
          const db = database({ accessMode, statementTimeoutMs: 60_000, poolMax: 1 });
          expect((await db.execute('SELECT 1 AS warm', [], 10)).rows).toEqual([{ warm: 1 }]);
          const marker = `terminate-me-${accessMode}`;
          const running = refusal(db.execute(longRead(marker), [], 10));
          const pid = await backendRunning(backend, marker);
          expect(pid).toBeGreaterThan(0);
          await backend.admin('SELECT pg_terminate_backend($1)', [pid]);
          const error = await running;
          // Checked in the same turn as the failure: the dead connection was destroyed, not put back
          // idle to wait for pg to notice its socket closing (where a /health ping could take it).
          expect(db.poolStats()).toEqual({ total: 0, idle: 0, waiting: 0 });
          expect(error.code).toBe('UNAVAILABLE');
          expect((await db.execute('SELECT 1 AS ok', [], 10)).rows).toEqual([{ ok: 1 }]);
        },
      );
    }

    itReal(`serves parallel calls over several pooled connections ${REAL_SERVER}`, async () => {
      const db = database({ poolMax: 3 });
      const results = await Promise.all(
        Array.from({ length: 9 }, (_, i) => db.execute('SELECT $1::int AS i, pg_backend_pid() AS pid', [i], 10)),
      );
      expect(results.map((result) => result.rows[0]?.['i'])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      const pids = new Set(results.map((result) => result.rows[0]?.['pid']));
      expect(pids.size).toBeGreaterThan(1);
      expect(pids.size).toBeLessThanOrEqual(3);
    });
  });

  describe('explain', () => {
    it('returns the plan as JSON without running the statement', async () => {
      const db = database();
      const before = await dumpTable(backend, 'items');
      const { plan, analyzed } = await db.explain('DELETE FROM items WHERE id = $1', [1], false);
      expect(analyzed).toBe(false);
      expect(plan).toMatchObject({ Plan: { 'Node Type': 'ModifyTable', Operation: 'Delete' } });
      expect(await dumpTable(backend, 'items')).toBe(before);
    });

    it('refuses ANALYZE of a write in read_only mode and nothing changes', async () => {
      const db = database();
      const before = await dumpTable(backend, 'items');
      const error = await refusal(db.explain('DELETE FROM items', [], true));
      expect(error).toMatchObject({ code: 'FORBIDDEN' });
      expect(error.message).toMatch(/^DELETE is not allowed in read-only mode/);
      expect(await dumpTable(backend, 'items')).toBe(before);
    });

    it('ANALYZE of a read reports actual rows', async () => {
      const db = database();
      const { plan } = await db.explain('SELECT * FROM items WHERE price > $1', [1], true);
      expect(plan).toMatchObject({ Plan: { 'Actual Rows': 2 } });
    });

    it('ANALYZE of a write in read_write mode runs it inside a transaction that is rolled back', async () => {
      const db = database({ accessMode: 'read_write' });
      const before = await dumpTable(backend, 'items');
      const { plan } = await db.explain('DELETE FROM items', [], true);
      expect(plan).toMatchObject({ Plan: { 'Node Type': 'ModifyTable', Plans: [{ 'Actual Rows': 3 }] } });
      expect(await dumpTable(backend, 'items')).toBe(before);
    });
  });

  describe('ping and connection failures', () => {
    it('answers SELECT 1 with pool figures', async () => {
      const db = database();
      const health = await db.ping(2000);
      expect(health.pool.total).toBeGreaterThanOrEqual(1);
      expect(health.latency_ms).toBeGreaterThanOrEqual(0);
    });

    it('reports an unreachable server without the connection string or password', async () => {
      const secretUrl = 'postgres://postgres:hunter2-do-not-leak@127.0.0.1:1/test';
      const db = database({ connectionString: secretUrl, connectTimeoutMs: 500 });
      const ping = await refusal(db.ping(2000));
      expect(ping.code).toBe('UNAVAILABLE');
      expect(ping.message).toBe('Cannot reach the database server (ECONNREFUSED).');
      const call = await refusal(db.execute('SELECT 1', [], 10));
      expect(call.message).toBe('Cannot reach the database server (ECONNREFUSED).');
      for (const error of [ping, call]) {
        expect(JSON.stringify({ message: error.message, cause: String(error.cause) })).not.toContain('hunter2');
      }
    });

    it('refuses work after close', async () => {
      const db = database();
      await db.close();
      expect((await refusal(db.execute('SELECT 1', [], 1))).code).toBe('UNAVAILABLE');
    });
  });
});
