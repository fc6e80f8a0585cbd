import { rpcCallTool, type StartedService, startService } from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { fullDump } from './helpers/dump.js';
import { REAL_SERVER, startPgBackend } from './helpers/pg-backend.js';

/**
 * Session state never outlives a call on a pooled connection. The pool has ONE connection here, so
 * every call reuses the backend the previous call used. The functions below are the database's own
 * (created by the owner, as a careless or hostile schema could hold them): they set session
 * settings, take a session advisory lock, listen, prepare a statement and create a temporary table,
 * none of which a READ ONLY transaction or a rollback undoes.
 */
const backend = await startPgBackend();
const itReal = it.runIf(backend.real);
let readWrite: StartedService;
let readOnly: StartedService;

const LEAK_BODY = `
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog', false);
  PERFORM pg_catalog.set_config('application_name', 'leaked', false);
  PERFORM pg_catalog.set_config('work_mem', '77MB', false);
  PERFORM pg_catalog.pg_advisory_lock(4242);
  EXECUTE 'LISTEN mcp_leak';
  EXECUTE 'PREPARE mcp_leak_plan AS SELECT 1';
  EXECUTE 'CREATE TEMP TABLE IF NOT EXISTS mcp_leak_tmp (a int)';`;

async function execute(svc: StartedService, sql: string): Promise<{ isError: boolean; text: string; rows: unknown[] }> {
  const { isError, text, structured } = await rpcCallTool(svc.url, 'execute_sql', { sql });
  return { isError, text, rows: (structured['rows'] as unknown[] | undefined) ?? [] };
}

/** What the next call on the (only) pooled connection sees. */
async function sessionSeenByNextCall(svc: StartedService): Promise<unknown> {
  const outcome = await execute(
    svc,
    "SELECT current_setting('search_path') AS search_path, current_setting('application_name') AS application_name, " +
      "current_setting('work_mem') AS work_mem, (SELECT count(*)::int FROM pg_catalog.pg_prepared_statements) AS prepared, " +
      '(SELECT count(*)::int FROM pg_catalog.pg_listening_channels()) AS listening, ' +
      "(SELECT count(*)::int FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND pid = pg_catalog.pg_backend_pid()) AS advisory, " +
      "(SELECT count(*)::int FROM pg_catalog.pg_class WHERE relpersistence = 't') AS temporary, pg_catalog.pg_backend_pid() AS pid",
  );
  expect(outcome.isError, outcome.text).toBe(false);
  return outcome.rows[0];
}

beforeAll(async () => {
  await backend.admin('CREATE TABLE items (id int PRIMARY KEY)');
  await backend.admin(
    `CREATE FUNCTION public.leak() RETURNS int LANGUAGE plpgsql AS $$ BEGIN ${LEAK_BODY} RETURN 1; END $$`,
  );
  await backend.admin(
    `CREATE FUNCTION public.leak_then_fail() RETURNS int LANGUAGE plpgsql AS $$ BEGIN ${LEAK_BODY} RAISE EXCEPTION 'failing after the leak'; END $$`,
  );
  await backend.admin(
    "CREATE FUNCTION public.audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_catalog.pg_advisory_lock(4343); PERFORM pg_catalog.set_config('search_path', 'pg_catalog', false); RETURN NEW; END $$",
  );
  await backend.admin('CREATE TRIGGER items_audit BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION public.audit()');
  const env = { DATABASE_URL: backend.url, POSTGRES_POOL_MAX: '1', ...backend.env };
  readWrite = await startService(service, { env: { ...env, POSTGRES_ACCESS_MODE: 'read_write' } });
  readOnly = await startService(service, { env });
});

afterAll(async () => {
  await readWrite?.close();
  await readOnly?.close();
  await backend.close();
});

describe(`session state on the pooled connection (${backend.kind})`, () => {
  it('a fresh pooled connection is what every test below must get back to', async () => {
    const fresh = (await sessionSeenByNextCall(readWrite)) as Record<string, unknown>;
    const [server] = await backend.admin<{ search_path: string }>(
      "SELECT current_setting('search_path') AS search_path",
    );
    expect(fresh).toMatchObject({
      search_path: server?.search_path,
      prepared: 0,
      listening: 0,
      advisory: 0,
      temporary: 0,
    });
  });

  itReal(`read_write: a function that leaves session state behind is followed by a reset ${REAL_SERVER}`, async () => {
    const before = (await sessionSeenByNextCall(readWrite)) as Record<string, unknown>;
    const leaked = await execute(readWrite, 'SELECT public.leak()');
    expect(leaked).toMatchObject({ isError: false, rows: [{ leak: 1 }] });
    // The same backend (one pooled connection), back as it was.
    expect(await sessionSeenByNextCall(readWrite)).toEqual(before);
    expect(await backend.admin("SELECT 1 FROM pg_locks WHERE locktype = 'advisory'")).toEqual([]);
  });

  itReal(`read_write: the same when the call fails after leaking ${REAL_SERVER}`, async () => {
    const before = (await sessionSeenByNextCall(readWrite)) as Record<string, unknown>;
    const failed = await execute(readWrite, 'SELECT public.leak_then_fail()');
    expect(failed.isError).toBe(true);
    expect(failed.text).toMatch(/^failing after the leak \(SQLSTATE P0001\)/);
    expect(await sessionSeenByNextCall(readWrite)).toEqual(before);
    expect(await backend.admin("SELECT 1 FROM pg_locks WHERE locktype = 'advisory'")).toEqual([]);
  });

  itReal(`read_write: a write whose trigger leaves state behind is followed by a reset ${REAL_SERVER}`, async () => {
    const before = (await sessionSeenByNextCall(readWrite)) as Record<string, unknown>;
    const inserted = await execute(readWrite, 'INSERT INTO items VALUES (1)');
    expect(inserted.isError, inserted.text).toBe(false);
    expect(await sessionSeenByNextCall(readWrite)).toEqual(before);
    expect(await backend.admin("SELECT 1 FROM pg_locks WHERE locktype = 'advisory'")).toEqual([]);
    await backend.admin('DELETE FROM items');
  });

  it('read_only: the database’s own functions are not on the allow-list, so nothing leaks', async () => {
    const before = await fullDump(backend);
    const seen = await sessionSeenByNextCall(readOnly);
    for (const sql of ['SELECT public.leak()', 'SELECT leak()', 'SELECT * FROM leak()', 'SELECT leak_then_fail()']) {
      const refused = await execute(readOnly, sql);
      expect(refused.isError).toBe(true);
      expect(refused.text).toMatch(/^(public\.)?leak(_then_fail)?\(\) is not allowed in read-only mode/);
    }
    expect(await sessionSeenByNextCall(readOnly)).toEqual(seen);
    expect(await fullDump(backend)).toBe(before);
  });

  it('statements that would set session state are refused in both modes, and the next call sees nothing', async () => {
    for (const svc of [readOnly, readWrite]) {
      const seen = await sessionSeenByNextCall(svc);
      for (const sql of [
        "SELECT set_config('search_path', 'pg_catalog', false)",
        'SELECT pg_advisory_lock(1)',
        'SET search_path = pg_catalog',
        "SET application_name = 'x'",
        'LISTEN chan',
        'PREPARE p AS SELECT 1',
        'DECLARE c CURSOR WITH HOLD FOR SELECT 1',
        'CREATE TEMP TABLE t (a int)',
        'RESET ALL',
        "SELECT U&\"set!005fconfig\" UESCAPE '!' ('work_mem', '1MB', false)",
      ]) {
        expect((await execute(svc, sql)).isError, sql).toBe(true);
      }
      expect(await sessionSeenByNextCall(svc)).toEqual(seen);
    }
  });
});
