import { createRequire } from 'node:module';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { DatabaseOptions } from '../src/database.js';
import { PostgresDatabase } from '../src/database.js';
import { DatabaseError } from '../src/errors.js';
import { dumpTable, REAL_SERVER, startPgBackend } from './helpers/pg-backend.js';

/**
 * read_only mode runs a call as one implicit transaction on a connection opened with
 * default_transaction_read_only=on (database.ts, readOnlyByDefault). These tests let statements past
 * the guard on purpose (the operator "allows" set_config and two functions that write or run any SQL)
 * and try every way to turn the transaction mode off: whatever they do, nothing is written, and the
 * next call on the same (single) pooled connection is read-only again.
 */
// pg's protocol writer, to see what a call sends (@types/pg does not describe it).
const Connection = createRequire(import.meta.url)('pg/lib/connection.js') as {
  prototype: { parse: (this: unknown, query: { text: string }) => void };
};

const backend = await startPgBackend();
const itReal = it.runIf(backend.real);
const open: PostgresDatabase[] = [];

function database(overrides: Partial<DatabaseOptions> = {}): PostgresDatabase {
  const db = new PostgresDatabase({
    connectionString: backend.url,
    accessMode: 'read_only',
    statementTimeoutMs: 4321,
    maxRows: 100,
    // One connection: every call below reuses the connection the previous one may have changed.
    poolMax: 1,
    idleTimeoutMs: 10_000,
    connectTimeoutMs: 3000,
    applicationName: 'mcp-postgres-test',
    maxResultBytes: 4 * 1024 * 1024,
    allowedFunctions: ['set_config', 'public.ro_write', 'public.ro_exec'],
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
  await backend.admin('CREATE TABLE ro_probe (id int PRIMARY KEY)');
  await backend.admin('INSERT INTO ro_probe VALUES (1)');
  await backend.admin(
    'CREATE FUNCTION public.ro_write() RETURNS int LANGUAGE sql AS $$ INSERT INTO ro_probe SELECT max(id) + 1 FROM ro_probe RETURNING id $$',
  );
  await backend.admin(
    'CREATE FUNCTION public.ro_exec(sql text) RETURNS int LANGUAGE plpgsql AS $$ BEGIN EXECUTE sql; RETURN 1; END $$',
  );
});

afterEach(async () => {
  for (const db of open.splice(0)) await db.close();
});

afterAll(async () => {
  await backend.close();
});

/** The next call on the connection can still not write, and its transaction is read-only. */
async function stillReadOnly(db: PostgresDatabase): Promise<void> {
  const write = await refusal(db.execute('SELECT public.ro_write()', [], 10));
  expect(write).toMatchObject({ code: 'FORBIDDEN', sqlstate: '25006' });
  const mode = await db.execute('SHOW transaction_read_only', [], 10);
  expect(mode.rows).toEqual([{ transaction_read_only: 'on' }]);
}

describe(`read_only calls on a read-only connection (${backend.kind})`, () => {
  itReal(
    `a call is one statement on the wire, in a transaction the server started READ ONLY, with the statement timeout ${REAL_SERVER}`,
    async () => {
      const db = database({ allowedFunctions: [] });
      const sql =
        "SELECT current_setting('transaction_read_only') AS ro, current_setting('statement_timeout') AS timeout";
      // The connection is open and the column types' names are known (no catalog lookup below).
      await db.execute(sql, [], 10);
      const sent: string[] = [];
      const { prototype } = Connection;
      const parse = prototype.parse;
      prototype.parse = function (this: unknown, query: { text: string }) {
        sent.push(query.text);
        parse.call(this, query);
      };
      let result;
      try {
        result = await db.execute(sql, [], 10);
      } finally {
        prototype.parse = parse;
      }
      expect(result.rows).toEqual([{ ro: 'on', timeout: '4321ms' }]);
      // No BEGIN READ ONLY, SET LOCAL or COMMIT around it; the shadow check of current_setting stays.
      expect(sent).toHaveLength(2);
      expect(sent[1]).toBe(sql);
    },
  );

  it('a write behind the guard is refused by the server (SQLSTATE 25006) and nothing changes', async () => {
    const db = database();
    const before = await dumpTable(backend, 'ro_probe');
    await stillReadOnly(db);
    expect(await dumpTable(backend, 'ro_probe')).toBe(before);
  });

  it.each([
    // The session default, for the next call on this connection.
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    // The same, and a write in the same statement.
    "SELECT set_config('default_transaction_read_only', 'off', false), public.ro_write()",
    // The running transaction's own mode, then a write in the same statement.
    "SELECT set_config('transaction_read_only', 'off', true), public.ro_write()",
    "SELECT set_config('transaction_read_only', 'off', false)",
    // Statements the guard refuses as text, run from inside an allowed function.
    "SELECT public.ro_exec('SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE')",
    "SELECT public.ro_exec('SET default_transaction_read_only = off')",
    "SELECT public.ro_exec('SET transaction_read_only = off')",
    "SELECT public.ro_exec('SET TRANSACTION READ WRITE')",
    "SELECT public.ro_exec('SET statement_timeout = 0')",
    "SELECT public.ro_exec('COMMIT')",
    "SELECT public.ro_exec('BEGIN')",
    "SELECT public.ro_exec('SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE'), public.ro_write()",
    "SELECT public.ro_exec('SELECT pg_catalog.set_config(''default_transaction_read_only'', ''off'', false)')",
    "SELECT public.ro_exec('SELECT pg_catalog.set_config(''transaction_read_only'', ''off'', true)'), public.ro_write()",
    "SELECT public.ro_exec('RESET ALL'), public.ro_write()",
  ])('%s: nothing is written, now or by the next call', async (sql) => {
    const db = database();
    const before = await dumpTable(backend, 'ro_probe');
    await db.execute(sql, [], 10).catch((error: unknown) => {
      // Refused by the server (25006 read-only, 25001 too late to change the mode, 0A000 no COMMIT
      // in a function) or not: either way nothing may be written.
      if (!(error instanceof DatabaseError)) throw error;
    });
    await stillReadOnly(db);
    expect(await dumpTable(backend, 'ro_probe')).toBe(before);
    const timeout = await db.execute("SELECT current_setting('statement_timeout') AS t", [], 10);
    if (backend.real) expect(timeout.rows).toEqual([{ t: '4321ms' }]);
  });

  it.each([
    'SET default_transaction_read_only = off',
    'SET SESSION default_transaction_read_only TO off',
    'RESET default_transaction_read_only',
    'SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE',
    'SET TRANSACTION READ WRITE',
    'SET transaction_read_only = off',
    'BEGIN',
    'BEGIN READ WRITE',
    'START TRANSACTION READ WRITE',
    'COMMIT',
    'SET statement_timeout = 0',
    'SELECT 1; SET default_transaction_read_only = off; SELECT public.ro_write()',
    'SELECT 1; COMMIT; SELECT public.ro_write()',
  ])('%s is refused, and the next call still cannot write', async (sql) => {
    const db = database();
    const before = await dumpTable(backend, 'ro_probe');
    const error = await refusal(db.execute(sql, [], 10));
    expect(['FORBIDDEN', 'INVALID_INPUT']).toContain(error.code);
    await stillReadOnly(db);
    expect(await dumpTable(backend, 'ro_probe')).toBe(before);
  });

  it('a connection string with its own options still gets READ ONLY transactions', async () => {
    const url = new URL(backend.url);
    url.searchParams.set('options', '-c default_transaction_read_only=off');
    const db = database({ connectionString: url.toString() });
    const before = await dumpTable(backend, 'ro_probe');
    await stillReadOnly(db);
    expect(await dumpTable(backend, 'ro_probe')).toBe(before);
  });
});
