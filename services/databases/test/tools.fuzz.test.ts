/**
 * Every tool's arguments, generated from its own input schema (well-shaped with hostile strings:
 * SQL fragments for both dialects, stacked statements, NUL, long text; and ill-shaped), sent
 * through a real MCP client to the service run as a real process against the real PostgreSQL,
 * MariaDB and Redis (the fixture's throwaway databases and key prefix). The calls name the
 * read-only servers (pg-main, maria-main) or random ones; their databases (every row, sequences,
 * tables, advisory and named locks) must be exactly as before, the process alive and /health 200.
 * FUZZ_RUNS / FUZZ_SEED: see the README's Testing section.
 */
import { fuzzService, fuzzSettings, startServiceProcess } from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';

import { createFixture, type Fixture, mysqlAdmin, pgAdmin } from './helpers/fixture.js';

const FILE = 'services/databases/test/tools.fuzz.test.ts';
const settings = fuzzSettings(5);
const ENTRY = new URL('../src/main.ts', import.meta.url).pathname;

describe('databases tools under fuzzing', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await createFixture();
  }, 60_000);
  afterAll(() => f?.close(), 60_000);

  async function state(): Promise<unknown> {
    const db = f.pg.sales;
    return Promise.all([
      pgAdmin(db, 'SELECT * FROM public.customers ORDER BY id'),
      pgAdmin(db, 'SELECT * FROM public.orders ORDER BY id'),
      pgAdmin(db, 'SELECT * FROM crm.contacts ORDER BY id'),
      pgAdmin(db, 'SELECT last_value, is_called FROM public.order_ids'),
      pgAdmin(
        db,
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
      ),
      pgAdmin(
        db,
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
      ),
      mysqlAdmin(`SELECT * FROM \`${f.my.shop}\`.products ORDER BY id`),
      mysqlAdmin(`SELECT * FROM \`${f.my.shop}\`.reviews ORDER BY id`),
      mysqlAdmin(`SELECT * FROM \`${f.my.logs}\`.events ORDER BY id`),
      mysqlAdmin(
        'SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?, ?) ORDER BY 1, 2',
        [f.my.shop, f.my.logs],
      ),
      mysqlAdmin("SELECT IS_FREE_LOCK('mcp-test-lock') AS free"),
    ]);
  }

  it('read-only servers: every tool answers in time, the process stays healthy, and their databases are unchanged', async () => {
    const proc = await startServiceProcess(ENTRY, {
      env: { ...f.env, MCP_RATE_LIMIT: '0', MCP_TOOL_TIMEOUT_MS: '15000' },
    });
    const hints = {
      known: {
        server: ['pg-main', 'maria-main'],
        servers: [['pg-main'], ['pg-main', 'maria-main']],
        database: [f.pg.sales, f.pg.hr, f.my.shop, f.my.logs, 'postgres', 'mysql'],
        schema: ['public', 'crm', 'information_schema'],
        table: ['customers', 'orders', 'products', 'events'],
        sql: [
          'SELECT * FROM customers',
          'SELECT * FROM products',
          'UPDATE customers SET name = NULL',
          'DELETE FROM products',
          'SELECT pg_advisory_lock(1)',
          "SELECT GET_LOCK('mcp-test-lock', 0)",
          'SELECT SLEEP(30)',
          'DROP TABLE orders',
        ],
        pattern: ['cust', '%', '_', '\\'],
      },
    };
    try {
      const { summary } = await fuzzService({ service: proc, settings, file: FILE, hints, dump: state });
      console.info(`databases: ${summary}`);
    } finally {
      await proc.stop('SIGKILL');
    }
  }, 180_000);
});
