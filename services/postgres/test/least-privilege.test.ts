import { randomBytes } from 'node:crypto';

import { rpcCallTool, type StartedService, startService, type ToolCallResult } from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { dumpTable, REAL_SERVER, startPgBackend } from './helpers/pg-backend.js';

/**
 * The README's least-privilege role, applied for real: CONNECT + USAGE + SELECT and
 * default_transaction_read_only = on. Roles are cluster-wide, so the role gets a random name and is
 * dropped afterwards. PGlite is single-user (every connection is its superuser), hence real-server only.
 */
const backend = await startPgBackend();
const itReal = it.runIf(backend.real);
const role = `mcp_test_ro_${randomBytes(4).toString('hex')}`;
let svc: StartedService | undefined;

async function execute(sql: string): Promise<ToolCallResult> {
  if (!svc) throw new Error('service not started');
  return rpcCallTool(svc.url, 'execute_sql', { sql });
}

beforeAll(async () => {
  if (!backend.real) return;
  const database = new URL(backend.url).pathname.slice(1);
  await backend.admin('CREATE TABLE items (id int PRIMARY KEY, name text)');
  await backend.admin("INSERT INTO items VALUES (1, 'apple')");
  await backend.admin('CREATE TABLE secrets (id int PRIMARY KEY, token text)');
  // The README's recipe, verbatim apart from the names.
  await backend.admin(`CREATE ROLE ${role} LOGIN`);
  await backend.admin(`ALTER ROLE ${role} SET default_transaction_read_only = on`);
  await backend.admin(`GRANT CONNECT ON DATABASE ${database} TO ${role}`);
  await backend.admin(`GRANT USAGE ON SCHEMA public TO ${role}`);
  await backend.admin(`GRANT SELECT ON items TO ${role}`);
  const url = new URL(backend.url);
  url.username = role;
  // read_write on purpose: the role alone must still keep the data safe.
  svc = await startService(service, { env: { DATABASE_URL: url.toString(), POSTGRES_ACCESS_MODE: 'read_write' } });
});

afterAll(async () => {
  await svc?.close();
  // The role's grants live in the throwaway database; once it is dropped the role can go too.
  await backend.close(backend.real ? [`DROP ROLE IF EXISTS ${role}`] : []);
});

describe('the least-privilege role from the README', () => {
  itReal(`can read what it was granted ${REAL_SERVER}`, async () => {
    const result = await execute('SELECT id, name FROM items');
    expect(result.isError).toBe(false);
    expect(result.structured).toMatchObject({ rows: [{ id: 1, name: 'apple' }] });
  });

  itReal(`cannot write even when the service runs read_write ${REAL_SERVER}`, async () => {
    const before = await dumpTable(backend, 'items');
    const result = await execute("UPDATE items SET name = 'pwned'");
    expect(result).toMatchObject({ isError: true });
    expect(result.text).toBe(
      'Refused by the database: cannot execute UPDATE in a read-only transaction (SQLSTATE 25006). The database role has default_transaction_read_only = on, or the server is a read-only standby.',
    );
    expect(await dumpTable(backend, 'items')).toBe(before);
  });

  itReal(`cannot read tables it was not granted ${REAL_SERVER}`, async () => {
    const result = await execute('SELECT * FROM secrets');
    expect(result).toMatchObject({ isError: true, text: 'permission denied for table secrets (SQLSTATE 42501)' });
  });
});
