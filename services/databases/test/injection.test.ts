/**
 * Write and escape attempts on the read-only servers of both engines, over the real service: each
 * must be refused (by the guard or by the engine) and leave everything as it was: every row, the
 * list of tables, sequences, large objects, advisory and user locks, server settings.
 */
import { callTool as call, connectClient, type StartedService, startService } from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { createFixture, type Fixture, mysqlAdmin, pgAdmin } from './helpers/fixture.js';

let f: Fixture;
let svc: StartedService;
let client: Client;

beforeAll(async () => {
  f = await createFixture();
  svc = await startService(service, { env: f.env });
  client = await connectClient(svc.url, 'streamable-http');
  const sync = await call(client, 'sync_metadata', { server: 'pg-main' });
  expect(sync.isError).toBe(false);
  expect((await call(client, 'sync_metadata', { server: 'maria-main' })).isError).toBe(false);
}, 60_000);

afterAll(async () => {
  await client?.close();
  await svc?.close();
  await f?.close();
}, 60_000);

async function pgState(): Promise<string> {
  const db = f.pg.sales;
  return JSON.stringify(
    await Promise.all([
      pgAdmin(db, 'SELECT * FROM public.customers ORDER BY id'),
      pgAdmin(db, 'SELECT * FROM public.orders ORDER BY id'),
      pgAdmin(db, 'SELECT * FROM crm.contacts ORDER BY id'),
      pgAdmin(db, 'SELECT last_value, is_called FROM public.order_ids'),
      pgAdmin(db, 'SELECT count(*)::int AS n FROM pg_largeobject_metadata'),
      // Only this database's: other tests share the server.
      pgAdmin(
        db,
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
      ),
      pgAdmin(
        db,
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
      ),
      pgAdmin(
        db,
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query ILIKE '%pg_sleep%' AND datname = current_database() AND pid <> pg_backend_pid()",
      ),
    ]),
  );
}

async function myState(): Promise<string> {
  return JSON.stringify(
    await Promise.all([
      mysqlAdmin(`SELECT * FROM \`${f.my.shop}\`.products ORDER BY id`),
      mysqlAdmin(`SELECT * FROM \`${f.my.shop}\`.reviews ORDER BY id`),
      mysqlAdmin(`SELECT * FROM \`${f.my.logs}\`.events ORDER BY id`),
      mysqlAdmin(
        'SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?, ?) ORDER BY 1, 2',
        [f.my.shop, f.my.logs],
      ),
      mysqlAdmin("SELECT IS_FREE_LOCK('mcp-test-lock') AS free"),
      mysqlAdmin('SELECT @@GLOBAL.max_connections AS m, @@GLOBAL.general_log AS g'),
      // Only this test's login: other tests share the server.
      mysqlAdmin("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE '%SLEEP(%' AND USER = ?", [
        f.my.user,
      ]),
    ]),
  );
}

/** [label, sql, message] */
type Attempt = [string, string, RegExp];

const pgAttempts: Attempt[] = [
  ['DELETE', 'DELETE FROM orders', /^DELETE is not allowed on a read-only server/],
  ['UPDATE', "UPDATE customers SET name = 'x'", /^UPDATE is not allowed/],
  ['INSERT', "INSERT INTO customers VALUES (9, 'x')", /^INSERT is not allowed/],
  [
    'a CTE with DML',
    'WITH gone AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM gone',
    /^DELETE is not allowed/,
  ],
  ['SELECT INTO', 'SELECT * INTO stolen FROM orders', /^INTO is not allowed/],
  ['DDL', 'DROP TABLE orders', /^DROP is not allowed on a read-only server/],
  ['TRUNCATE', 'TRUNCATE orders', /^TRUNCATE is not allowed/],
  ['LOCK', 'LOCK TABLE orders IN ACCESS EXCLUSIVE MODE', /^LOCK is not allowed/],
  ['SET', 'SET default_transaction_read_only = off', /^SET is not allowed/],
  ['set_config', "SELECT set_config('default_transaction_read_only', 'off', false)", /^SET_CONFIG is not allowed/],
  ['CALL', 'CALL anything()', /^CALL is not allowed/],
  ['DO', 'DO $$ BEGIN DELETE FROM orders; END $$', /^DO is not allowed/],
  ['stacked', 'SELECT 1; DELETE FROM orders', /^Only one statement per call/],
  ['stacked behind a comment', 'SELECT 1 /* x */ ; -- y\n DELETE FROM orders', /^Only one statement per call/],
  ['pg_sleep', 'SELECT pg_sleep(30)', /^PG_SLEEP is not allowed/],
  ['pg_sleep quoted', 'SELECT "pg_sleep"(30)', /^pg_sleep is not allowed/],
  ['nextval', "SELECT nextval('order_ids')", /^NEXTVAL is not allowed/],
  ['a large object', 'SELECT lo_create(0)', /^LO_CREATE is not allowed/],
  ['lo_from_bytea', "SELECT lo_from_bytea(0, '\\x00')", /^LO_FROM_BYTEA is not allowed/],
  ['advisory lock', 'SELECT pg_advisory_lock(42)', /^PG_ADVISORY_LOCK is not allowed/],
  ['terminate', 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity', /^PG_TERMINATE_BACKEND is not allowed/],
  ['server file', "SELECT pg_read_file('/etc/passwd')", /^PG_READ_FILE is not allowed/],
  ['COPY PROGRAM', "COPY orders TO PROGRAM 'touch /tmp/mcp-pwned'", /^COPY is not allowed/],
  [
    'hidden SQL',
    "SELECT query_to_xml('DELETE FROM orders RETURNING 1', true, false, '')",
    /^QUERY_TO_XML is not allowed/,
  ],
  ['FOR UPDATE', 'SELECT * FROM orders FOR UPDATE', /^UPDATE is not allowed/],
  ['COMMIT', 'COMMIT', /^COMMIT is not allowed/],
];

const myAttempts: Attempt[] = [
  ['DELETE', 'DELETE FROM products', /^DELETE is not allowed on a read-only server/],
  ['UPDATE', "UPDATE products SET name = 'x'", /^UPDATE is not allowed/],
  ['REPLACE', "REPLACE INTO products VALUES (1, 'x', 1, NULL)", /^REPLACE is not allowed/],
  ['a CTE with DML', 'WITH x AS (SELECT 1) DELETE FROM products', /^DELETE is not allowed/],
  ['DDL (implicit commit)', 'DROP TABLE reviews', /^DROP is not allowed/],
  ['CREATE TABLE ... SELECT', 'CREATE TABLE stolen AS SELECT * FROM products', /^CREATE is not allowed/],
  ['SELECT INTO OUTFILE', "SELECT * FROM products INTO OUTFILE '/tmp/mcp-out'", /^INTO is not allowed/],
  ['INTO DUMPFILE', "SELECT name FROM products LIMIT 1 INTO DUMPFILE '/tmp/mcp-dump'", /^INTO is not allowed/],
  ['LOAD DATA', "LOAD DATA INFILE '/etc/passwd' INTO TABLE products", /^LOAD is not allowed/],
  ['LOAD_FILE', "SELECT LOAD_FILE('/etc/passwd')", /^LOAD_FILE is not allowed/],
  ['HANDLER', 'HANDLER products OPEN', /^HANDLER is not allowed/],
  ['LOCK TABLES', 'LOCK TABLES products WRITE', /^LOCK is not allowed/],
  ['SET GLOBAL', 'SET GLOBAL max_connections = 1', /^SET is not allowed/],
  ['SET via executable comment', 'SELECT 1 /*!; SET GLOBAL max_connections = 1 */', /^Only one statement per call/],
  ['SLEEP in an executable comment', 'SELECT 1 /*!50000 + SLEEP(30) */', /^SLEEP is not allowed/],
  ['MariaDB executable comment', 'SELECT 1 /*M!100000 + SLEEP(30) */', /^SLEEP is not allowed/],
  ['GET_LOCK', "SELECT GET_LOCK('mcp-test-lock', 0)", /^GET_LOCK is not allowed/],
  ['SLEEP', 'SELECT SLEEP(30)', /^SLEEP is not allowed/],
  ['BENCHMARK', "SELECT BENCHMARK(1000000000, MD5('x'))", /^BENCHMARK is not allowed/],
  ['CALL', 'CALL mysql.anything()', /^CALL is not allowed/],
  ['DO', 'DO SLEEP(30)', /^DO is not allowed/],
  ['stacked', 'SELECT 1; DELETE FROM products', /^Only one statement per call/],
  ['user variable', 'SELECT @x := 1', /^Assigning user variables/],
  ['INTO @var', 'SELECT 1 INTO @x', /^INTO is not allowed/],
  ['FOR UPDATE', 'SELECT * FROM products FOR UPDATE', /^UPDATE is not allowed/],
  ['LOCK IN SHARE MODE', 'SELECT * FROM products LOCK IN SHARE MODE', /^SHARE is not allowed/],
  ['START TRANSACTION', 'START TRANSACTION READ WRITE', /^START is not allowed/],
  ['temporary table', 'CREATE TEMPORARY TABLE t (a int)', /^TEMPORARY is not allowed|^CREATE is not allowed/],
  ['KILL', 'KILL 1', /^KILL is not allowed/],
];

describe('write attempts on the read-only PostgreSQL server', () => {
  it.each(pgAttempts)('%s is refused and changes nothing', async (_label, sql, message) => {
    const before = await pgState();
    const result = await call(client, 'execute_sql', { server: 'pg-main', database: f.pg.sales, sql });
    expect(result.isError, `${sql} was not refused: ${result.text}`).toBe(true);
    expect(result.text).toMatch(message);
    expect(await pgState()).toBe(before);
  });

  it('the engine refuses a write the guard lets through (READ ONLY transaction, and the role)', async () => {
    // A function defined by the owner that writes: the guard sees only a SELECT.
    await pgAdmin(
      f.pg.sales,
      "CREATE FUNCTION public.sneaky() RETURNS int LANGUAGE sql AS 'DELETE FROM public.orders RETURNING 1'",
    );
    await pgAdmin(f.pg.sales, `GRANT EXECUTE ON FUNCTION public.sneaky() TO ${f.pg.role}`);
    const before = await pgState();
    const result = await call(client, 'execute_sql', {
      server: 'pg-main',
      database: f.pg.sales,
      sql: 'SELECT public.sneaky()',
    });
    expect(result).toMatchObject({ isError: true });
    expect(result.text).toMatch(
      /cannot execute DELETE in a read-only transaction \(SQLSTATE 25006\)|permission denied/,
    );
    expect(await pgState()).toBe(before);
    await pgAdmin(f.pg.sales, 'DROP FUNCTION public.sneaky()');
  });
});

describe('write attempts on the read-only MariaDB server', () => {
  it.each(myAttempts)('%s is refused and changes nothing', async (_label, sql, message) => {
    const before = await myState();
    const result = await call(client, 'execute_sql', { server: 'maria-main', database: f.my.shop, sql });
    expect(result.isError, `${sql} was not refused: ${result.text}`).toBe(true);
    expect(result.text).toMatch(message);
    expect(await myState()).toBe(before);
  });

  it('the engine refuses a write the guard lets through (START TRANSACTION READ ONLY, and the login)', async () => {
    await mysqlAdmin(
      `CREATE FUNCTION \`${f.my.shop}\`.sneaky() RETURNS int MODIFIES SQL DATA BEGIN DELETE FROM \`${f.my.shop}\`.reviews; RETURN 1; END`,
    );
    await mysqlAdmin(`GRANT EXECUTE ON FUNCTION \`${f.my.shop}\`.sneaky TO '${f.my.user}'@'%'`);
    await mysqlAdmin(`GRANT EXECUTE ON FUNCTION \`${f.my.shop}\`.sneaky TO '${f.my.user}'@'localhost'`);
    const before = await myState();
    const result = await call(client, 'execute_sql', {
      server: 'maria-main',
      database: f.my.shop,
      sql: 'SELECT sneaky()',
    });
    expect(result).toMatchObject({ isError: true });
    expect(result.text).toMatch(/read-only transaction|READ ONLY|command denied|(error 1792)/i);
    expect(await myState()).toBe(before);
    await mysqlAdmin(`DROP FUNCTION \`${f.my.shop}\`.sneaky`);
  });
});

describe('the explain tool on read-only servers', () => {
  it('plans without running, and refuses what acts at plan time', async () => {
    const before = await myState();
    const planned = await call(client, 'explain', {
      server: 'maria-main',
      database: f.my.shop,
      sql: 'SELECT * FROM products',
    });
    expect(planned.isError).toBe(false);
    const stall = await call(client, 'explain', { server: 'maria-main', database: f.my.shop, sql: 'SELECT SLEEP(30)' });
    expect(stall).toMatchObject({
      isError: true,
      text: 'SLEEP is not allowed on a read-only server: it stalls or locks the server.',
    });
    expect(await myState()).toBe(before);
  });
});
