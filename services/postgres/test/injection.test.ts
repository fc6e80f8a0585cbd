import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { rpc, rpcCallTool, type StartedService, startService, type ToolCallResult } from '@mcp-sse/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { fullDump } from './helpers/dump.js';
import { REAL_SERVER, startPgBackend } from './helpers/pg-backend.js';

/**
 * Hostile statements, several members of each class, against the service connected as a SUPERUSER
 * (the worst case the issue reports: files, other backends, server settings are all within reach of
 * the role). Every attempt is compared against a full dump of what it could have changed (rows,
 * sequences, large objects, locks, objects, statistics, roles, settings of fresh connections, files)
 * taken before and after, and a bystander connection must still be alive afterwards.
 */
const backend = await startPgBackend();
const itReal = it.runIf(backend.real);
const canary = join(tmpdir(), `mcp-pg-canary-${randomBytes(4).toString('hex')}`);
let readOnly: StartedService;
let readWrite: StartedService;
let bystander: pg.Client | undefined;
let bystanderPid = 0;

const execute = (svc: StartedService, sql: string, params: unknown[] = []): Promise<ToolCallResult> =>
  rpcCallTool(svc.url, 'execute_sql', { sql, params });

async function bystanderAlive(): Promise<boolean> {
  if (!bystander) return true;
  try {
    const { rows } = await bystander.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return rows[0]?.pid === bystanderPid;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  await backend.admin('CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)');
  await backend.admin("INSERT INTO items VALUES (1, 'apple'), (2, 'pear')");
  await backend.admin('CREATE SEQUENCE item_ids');
  await backend.admin('CREATE MATERIALIZED VIEW item_names AS SELECT name FROM items');
  const env = { DATABASE_URL: backend.url, POSTGRES_STATEMENT_TIMEOUT_MS: '5000', ...backend.env };
  readOnly = await startService(service, { env });
  readWrite = await startService(service, { env: { ...env, POSTGRES_ACCESS_MODE: 'read_write' } });
  if (backend.real) {
    bystander = new pg.Client({ connectionString: backend.url, application_name: 'mcp-test-bystander' });
    bystander.on('error', () => undefined);
    await bystander.connect();
    bystanderPid = (await bystander.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0;
  }
});

afterAll(async () => {
  await readOnly?.close();
  await readWrite?.close();
  await bystander?.end().catch(() => undefined);
  rmSync(canary, { force: true });
  await backend.close();
});

/** Runs one refused attempt and proves it changed nothing. */
async function expectRefused(svc: StartedService, sql: string, message: RegExp): Promise<void> {
  const before = await fullDump(backend, [canary]);
  const outcome = await execute(svc, sql.replaceAll('$CANARY', canary).replaceAll('$BYSTANDER', String(bystanderPid)));
  expect(outcome.isError, `${sql} → ${outcome.text}`).toBe(true);
  expect(outcome.text).toMatch(message);
  expect(await settledDump(before)).toBe(before);
  expect(await bystanderAlive()).toBe(true);
}

/**
 * The dump once other sessions' statements in flight have finished: a catalog lookup running in
 * another connection at that moment (a pool's health query, the implicit transaction of the call
 * just refused, ended by its Sync a moment after the answer) shows as AccessShareLocks on pg_proc
 * and pg_namespace. Polled for up to 5 s; a change that stays is still reported.
 */
async function settledDump(before: string): Promise<string> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const dump = await fullDump(backend, [canary]);
    if (dump === before || Date.now() > deadline) return dump;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One function name, every way PostgreSQL lets a caller spell and place a call to it. */
function spellings(name: string, args: string): string[] {
  const escaped = [...name].map((ch) => (ch === '_' ? '!005f' : ch)).join('');
  const hex = [...name].map((ch) => `\\${ch.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
  return [
    `SELECT ${name}(${args})`,
    `SELECT ${name.toUpperCase()}(${args})`,
    `SELECT "${name}"(${args})`,
    `SELECT pg_catalog.${name}(${args})`,
    `SELECT "pg_catalog"."${name}"(${args})`,
    `SELECT U&"${escaped}" UESCAPE '!' (${args})`,
    `SELECT U&"${hex}"(${args})`,
    `SELECT/**/${name}/* a /* nested */ comment */\n\t(${args})--`,
    `WITH x AS (SELECT ${name}(${args})) SELECT * FROM x`,
    `SELECT * FROM (SELECT 1) a, LATERAL (SELECT ${name}(${args})) b`,
    `SELECT * FROM ${name}(${args})`,
    `SELECT 1 WHERE ${name}(${args}) IS NOT NULL`,
    `SELECT (SELECT ${name}(${args}))::text`,
    `VALUES ($$ '$$, ${name}(${args}))`,
    `SELECT CASE WHEN true THEN ${name}(${args}) END ORDER BY 1`,
  ];
}

describe(`read_only mode with a superuser role (${backend.kind})`, () => {
  const classes: [string, string, string, RegExp][] = [
    ['writing a large object', 'lo_from_bytea', "0, 'x'::bytea", /^lo_from_bytea\(\) is not allowed in read-only mode/],
    ['creating a large object', 'lo_create', '0', /^lo_create\(\) is not allowed in read-only mode/],
    [
      'a session advisory lock',
      'pg_advisory_lock',
      '42',
      /^pg_advisory_lock\(\) is not allowed: it changes session state/,
    ],
    [
      'a transaction advisory lock',
      'pg_try_advisory_xact_lock',
      '42',
      /^pg_try_advisory_xact_lock\(\) is not allowed in read-only mode/,
    ],
    [
      'a session setting',
      'set_config',
      "'search_path', 'pg_catalog', false",
      /^set_config\(\) is not allowed: it changes session state/,
    ],
    ['a sequence', 'nextval', "'item_ids'", /^nextval\(\) is not allowed in read-only mode/],
    [
      'reading a server file',
      'pg_read_file',
      "'/etc/hostname'",
      /^pg_read_file\(\) is not allowed: it reads or writes files/,
    ],
    ['listing a server directory', 'pg_ls_dir', "'.'", /^pg_ls_dir\(\) is not allowed: it reads or writes files/],
    ['exporting a file', 'lo_export', "0, '$CANARY'", /^lo_export\(\) is not allowed: it reads or writes files/],
    [
      'terminating another backend',
      'pg_terminate_backend',
      '$BYSTANDER',
      /^pg_terminate_backend\(\) is not allowed: it signals other sessions/,
    ],
    ['cancelling another backend', 'pg_cancel_backend', '$BYSTANDER', /^pg_cancel_backend\(\) is not allowed/],
    ['reloading the configuration', 'pg_reload_conf', '', /^pg_reload_conf\(\) is not allowed: it changes the server/],
    [
      'SQL hidden in a string',
      'query_to_xml',
      "'DELETE FROM items RETURNING *', true, false, ''",
      /^query_to_xml\(\) is not allowed: it runs SQL given as a string/,
    ],
    ['stalling', 'pg_sleep', '30', /^pg_sleep\(\) is not allowed in read-only mode/],
  ];

  for (const [label, name, args, message] of classes) {
    it(`refuses ${label} (${name}) however it is spelled or placed, and nothing changes`, async () => {
      for (const sql of spellings(name, args)) await expectRefused(readOnly, sql, message);
    }, 120_000);
  }

  const statements: [string, RegExp][] = [
    ['LOCK TABLE items IN ACCESS EXCLUSIVE MODE', /^LOCK is not allowed in read-only mode/],
    ['lock items', /^LOCK is not allowed in read-only mode/],
    ['ANALYZE items', /^ANALYZE is not allowed in read-only mode/],
    ['ANALYSE', /^ANALYZE is not allowed in read-only mode/],
    ['VACUUM items', /^VACUUM is not allowed in read-only mode/],
    ['VACUUM (ANALYZE) items', /^VACUUM is not allowed in read-only mode/],
    ['CLUSTER items USING items_pkey', /^CLUSTER is not allowed in read-only mode/],
    ['REINDEX TABLE items', /^REINDEX is not allowed in read-only mode/],
    ['REFRESH MATERIALIZED VIEW item_names', /^REFRESH MATERIALIZED VIEW is not allowed in read-only mode/],
    ['CHECKPOINT', /^CHECKPOINT is never allowed/],
    ['SELECT * FROM items FOR UPDATE', /^SELECT \.\.\. FOR UPDATE\/SHARE is not allowed in read-only mode/],
    ['SELECT * FROM (SELECT * FROM items FOR SHARE) s', /^SELECT \.\.\. FOR UPDATE\/SHARE is not allowed/],
    ['WITH x AS (SELECT * FROM items FOR NO KEY UPDATE) SELECT 1', /^SELECT \.\.\. FOR UPDATE\/SHARE/],
    ['WITH gone AS (DELETE FROM items RETURNING *) SELECT * FROM gone', /^DELETE is not allowed in read-only mode/],
    ['/* x */ DELETE FROM items', /^DELETE is not allowed in read-only mode/],
    ['EXPLAIN ANALYZE DELETE FROM items', /^EXPLAIN ANALYZE runs the statement, and DELETE is not allowed/],
    ["COPY items TO '$CANARY'", /^COPY to or from a file on the database server is never allowed\.$/],
    ["COPY (SELECT 1) TO PROGRAM 'touch $CANARY'", /^COPY \.\.\. PROGRAM runs a shell command/],
    ['DO $$ BEGIN PERFORM pg_advisory_lock(1); END $$', /^pg_advisory_lock\(\) is not allowed/],
    ['DO $$ BEGIN DELETE FROM items; END $$', /^DO runs procedural code and is not allowed in read-only mode/],
    ['CALL pg_catalog.pg_sleep(1)', /^(pg_sleep\(\)|CALL) .*not allowed/],
    ['SET search_path = pg_catalog', /^SET is not allowed: it changes session state/],
    ['SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE', /^SET is not allowed/],
    ['LISTEN chan', /^LISTEN is not allowed/],
    ["NOTIFY chan, 'x'", /^NOTIFY is not allowed in read-only mode/],
    ['PREPARE p AS SELECT 1', /^PREPARE is not allowed/],
    ['DECLARE c CURSOR WITH HOLD FOR SELECT 1', /^DECLARE is not allowed/],
    ["LOAD 'auto_explain'", /^LOAD is not allowed/],
    ['CREATE TEMP TABLE t AS SELECT 1', /^Temporary tables/],
    ['SELECT 1 INTO items_copy', /^SELECT \.\.\. INTO is not allowed in read-only mode/],
    ["ALTER SYSTEM SET work_mem = '64MB'", /^ALTER SYSTEM is never allowed/],
    ['SELECT * FROM pg_hba_file_rules', /^pg_hba_file_rules is not allowed: it reads or writes files/],
    ["SELECT * FROM dblink('dbname=postgres', 'SELECT 1') AS t(a int)", /^dblink\(\) is not allowed/],
    ['SELECT items.name FROM items FOR KEY SHARE OF items', /^SELECT \.\.\. FOR UPDATE\/SHARE/],
  ];

  it.each(statements)('refuses %s and nothing changes', async (sql, message) => {
    await expectRefused(readOnly, sql, message);
  });

  itReal(
    `string literals read the same by the guard and the server, even where standard_conforming_strings is off ${REAL_SERVER}`,
    async () => {
      // With standard_conforming_strings off the server reads \' as a quote inside the string, so this
      // text would call lo_from_bytea for the server while the parser (standard) sees two string literals.
      const database = new URL(backend.url).pathname.slice(1);
      await backend.admin(`ALTER DATABASE ${database} SET standard_conforming_strings = off`);
      const svc = await startService(service, { env: { DATABASE_URL: backend.url, ...backend.env } });
      try {
        const sql = "SELECT 'a\\' AS x, ' AS y, lo_from_bytea(0, $$z$$::bytea) AS w --' AS v";
        const before = await fullDump(backend);
        const outcome = await execute(svc, sql);
        expect(outcome).toMatchObject({
          isError: false,
          structured: { rows: [{ x: 'a\\', v: ' AS y, lo_from_bytea(0, $$z$$::bytea) AS w --' }] },
        });
        expect(await fullDump(backend)).toBe(before);
      } finally {
        await svc.close();
        await backend.admin(`ALTER DATABASE ${database} RESET standard_conforming_strings`);
      }
    },
  );

  itReal(`the built-in a name resolves to is checked against shadowing on search_path ${REAL_SERVER}`, async () => {
    // Functions outside pg_catalog with the names of allow-listed built-ins or of special syntax:
    // PostgreSQL would pick public.lower for lower(1) (an exact argument match), and a server older
    // than the parser's grammar calls json_scalar(1) by name. Both write a large object.
    const body = "$$ SELECT pg_catalog.lo_from_bytea(0, 'shadow'::bytea) $$";
    await backend.admin(`CREATE FUNCTION public.lower(integer) RETURNS oid LANGUAGE sql AS ${body}`);
    await backend.admin(`CREATE FUNCTION public.json_scalar(integer) RETURNS oid LANGUAGE sql AS ${body}`);
    try {
      for (const sql of ['SELECT lower(1)', 'SELECT LOWER(1)', 'SELECT "lower"(1)', "SELECT upper('a'), lower(1)"]) {
        await expectRefused(
          readOnly,
          sql,
          /^Refused in read-only mode: public\.lower shadows a built-in of the same name on search_path/,
        );
      }
      await expectRefused(readOnly, 'SELECT json_scalar(1)', /^Refused in read-only mode: public\.json_scalar shadows/);
      // explain_query asks the catalog the same question before it plans (and, with analyze, runs).
      for (const analyze of [false, true]) {
        const before = await fullDump(backend);
        const response = await rpc(readOnly.url, 'tools/call', {
          name: 'explain_query',
          arguments: { sql: 'SELECT lower(1)', analyze },
        });
        const result = (response.body as { result: { isError?: boolean; content: { text: string }[] } }).result;
        expect(result.isError).toBe(true);
        expect(result.content[0]?.text).toMatch(/^Refused in read-only mode: public\.lower shadows/);
        expect(await fullDump(backend)).toBe(before);
      }
      // The built-in itself, qualified, still works.
      const qualified = await execute(readOnly, "SELECT pg_catalog.lower('ABC') AS v");
      expect(qualified.structured).toMatchObject({ rows: [{ v: 'abc' }] });
    } finally {
      await backend.admin('DROP FUNCTION public.lower(integer)');
      await backend.admin('DROP FUNCTION public.json_scalar(integer)');
    }
  });

  itReal(`functions the operator lists in POSTGRES_ALLOWED_FUNCTIONS run, others do not ${REAL_SERVER}`, async () => {
    await backend.admin(
      'CREATE FUNCTION public.add_one(integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT $1 + 1 $$',
    );
    const allowing = await startService(service, {
      env: { DATABASE_URL: backend.url, POSTGRES_ALLOWED_FUNCTIONS: 'public.add_one', ...backend.env },
    });
    try {
      await expectRefused(
        readOnly,
        'SELECT public.add_one(1)',
        /^public\.add_one\(\) is not allowed in read-only mode/,
      );
      await expectRefused(allowing, 'SELECT add_one(1)', /^add_one\(\) is not allowed in read-only mode/);
      const allowed = await execute(allowing, 'SELECT public.add_one(41) AS v');
      expect(allowed).toMatchObject({ isError: false, structured: { rows: [{ v: 42 }] } });
    } finally {
      await allowing.close();
      await backend.admin('DROP FUNCTION public.add_one(integer)');
    }
  });

  it('still answers ordinary reads, with pure built-ins, casts and operators', async () => {
    const outcome = await execute(
      readOnly,
      "SELECT id, upper(name) AS name, length(name) + 1 AS n, name::text || '!' AS bang, now() IS NOT NULL AS t FROM items WHERE id = ANY($1) ORDER BY id",
      [[1, 2]],
    );
    expect(outcome.structured).toMatchObject({
      rows: [
        { id: 1, name: 'APPLE', n: 6, bang: 'apple!', t: true },
        { id: 2, name: 'PEAR', n: 5, bang: 'pear!', t: true },
      ],
    });
  });
});

describe(`read_write mode with a superuser role (${backend.kind})`, () => {
  const classes: [string, string, string, RegExp][] = [
    [
      'reading a server file',
      'pg_read_file',
      "'/etc/hostname'",
      /^pg_read_file\(\) is not allowed: it reads or writes files/,
    ],
    ['reading a binary file', 'pg_read_binary_file', "'/etc/hostname'", /^pg_read_binary_file\(\) is not allowed/],
    ['a file status', 'pg_stat_file', "'/etc/hostname'", /^pg_stat_file\(\) is not allowed/],
    ['listing a server directory', 'pg_ls_dir', "'/'", /^pg_ls_dir\(\) is not allowed/],
    ['importing a file', 'lo_import', "'/etc/hostname'", /^lo_import\(\) is not allowed/],
    ['exporting a file', 'lo_export', "0, '$CANARY'", /^lo_export\(\) is not allowed/],
    ['terminating another backend', 'pg_terminate_backend', '$BYSTANDER', /^pg_terminate_backend\(\) is not allowed/],
    ['cancelling another backend', 'pg_cancel_backend', '$BYSTANDER', /^pg_cancel_backend\(\) is not allowed/],
    ['a session advisory lock', 'pg_advisory_lock', '7', /^pg_advisory_lock\(\) is not allowed/],
    ['a session setting', 'set_config', "'search_path', 'pg_catalog', false", /^set_config\(\) is not allowed/],
    ['reloading the configuration', 'pg_reload_conf', '', /^pg_reload_conf\(\) is not allowed/],
    ['switching WAL', 'pg_switch_wal', '', /^pg_switch_wal\(\) is not allowed/],
    ['resetting statistics', 'pg_stat_reset', '', /^pg_stat_reset\(\) is not allowed/],
  ];

  for (const [label, name, args, message] of classes) {
    it(`refuses ${label} (${name}) however it is spelled or placed, and nothing changes`, async () => {
      for (const sql of spellings(name, args)) await expectRefused(readWrite, sql, message);
    }, 120_000);
  }

  const statements: [string, RegExp][] = [
    ["COPY items TO '$CANARY'", /^COPY to or from a file on the database server is never allowed\.$/],
    ["COPY items FROM PROGRAM 'touch $CANARY'", /^COPY \.\.\. PROGRAM runs a shell command/],
    ["ALTER SYSTEM SET work_mem = '64MB'", /^ALTER SYSTEM is never allowed/],
    ['ALTER ROLE postgres SET search_path = pg_catalog', /^ALTER ROLE SET is never allowed/],
    ['ALTER DATABASE postgres SET work_mem = 1', /^ALTER DATABASE SET is never allowed/],
    ['CREATE ROLE mcp_evil SUPERUSER LOGIN', /^CREATE ROLE is never allowed/],
    ['CREATE DATABASE mcp_evil', /^CREATE DATABASE is never allowed/],
    ['CHECKPOINT', /^CHECKPOINT is never allowed/],
    ['CREATE EXTENSION IF NOT EXISTS dblink', /^CREATE EXTENSION is never allowed/],
    [
      "CREATE FUNCTION public.f() RETURNS text LANGUAGE sql AS $$ SELECT pg_read_file('/etc/hostname') $$",
      /^pg_read_file\(\) is not allowed/,
    ],
    [
      'CREATE FUNCTION public.f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_terminate_backend($BYSTANDER); END $$',
      /^pg_terminate_backend\(\) is not allowed/,
    ],
    [
      "CREATE FUNCTION public.f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'SELECT pg_' || 'sleep(1)'; END $$",
      /^Dynamic SQL \(EXECUTE\) in a PL\/pgSQL body is not allowed/,
    ],
    [
      "CREATE FUNCTION public.f() RETURNS int LANGUAGE c AS 'libc.so.6', 'getpid'",
      /^Code in language c is not allowed/,
    ],
    ['DO $$ BEGIN PERFORM pg_advisory_lock(9); END $$', /^pg_advisory_lock\(\) is not allowed/],
    ["DO $$ BEGIN PERFORM set_config('search_path', 'pg_catalog', false); END $$", /^set_config\(\) is not allowed/],
    ['CREATE OPERATOR public.### (FUNCTION = pg_read_file, RIGHTARG = text)', /^pg_read_file\(\) is not allowed/],
    ['SET search_path = pg_catalog', /^SET is not allowed/],
    ['BEGIN', /^Transaction control \(BEGIN\) is not allowed/],
    ["PREPARE TRANSACTION 'mcp'", /^Transaction control \(PREPARE\) is not allowed/],
    ['CREATE TEMP TABLE t (a int)', /^Temporary tables/],
  ];

  it.each(statements)('refuses %s and nothing changes', async (sql, message) => {
    await expectRefused(readWrite, sql, message);
  });

  it('still writes what it may, one committed statement per call', async () => {
    const outcome = await execute(readWrite, "INSERT INTO items VALUES (3, 'plum') RETURNING id");
    expect(outcome.structured).toMatchObject({ command: 'INSERT', affected_rows: 1, rows: [{ id: 3 }] });
    await backend.admin('DELETE FROM items WHERE id = 3');
  });
});
