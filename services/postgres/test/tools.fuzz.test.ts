/**
 * Every tool's arguments, generated from its own input schema (well-shaped with hostile strings:
 * SQL fragments, stacked statements, NUL, long text; and ill-shaped), sent through a real MCP
 * client to the service run as a real process in its read-only access mode against this file's
 * own throwaway database. The database must be exactly as before (fullDump: every row, sequences,
 * locks, objects, settings, roles), the process alive and /health 200. FUZZ_RUNS / FUZZ_SEED: see
 * the README's Testing section.
 */
import { fuzzService, fuzzSettings, startServiceProcess } from '@mcp-sse/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';

import { fullDump } from './helpers/dump.js';
import { type PgBackend, startPgBackend } from './helpers/pg-backend.js';

const FILE = 'services/postgres/test/tools.fuzz.test.ts';
const settings = fuzzSettings(6);
const ENTRY = new URL('../src/main.ts', import.meta.url).pathname;

const hints = {
  known: {
    sql: [
      'SELECT * FROM items ORDER BY id',
      'SELECT name FROM items WHERE id = $1',
      "UPDATE items SET name = 'x'",
      'DELETE FROM items',
      'SELECT pg_sleep(30)',
      "SELECT nextval('item_ids')",
      'REFRESH MATERIALIZED VIEW item_names',
      'CREATE TABLE fuzz_made (a int)',
    ],
    params: [[1], ['x'], [null], []],
    table: ['items', 'item_names', 'pg_class', 'missing'],
    schema: ['public', 'pg_catalog', 'information_schema', 'missing'],
  },
};

describe('postgres tools under fuzzing', () => {
  let backend: PgBackend;

  beforeAll(async () => {
    backend = await startPgBackend();
    await backend.admin('CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)');
    await backend.admin("INSERT INTO items VALUES (1, 'apple'), (2, 'pear')");
    await backend.admin('CREATE SEQUENCE item_ids');
    await backend.admin('CREATE MATERIALIZED VIEW item_names AS SELECT name FROM items');
  }, 60_000);
  afterAll(() => backend?.close());

  it('read-only access: every tool answers in time, the process stays healthy, and the database is unchanged', async () => {
    const proc = await startServiceProcess(ENTRY, {
      env: {
        DATABASE_URL: backend.url,
        POSTGRES_ACCESS_MODE: 'read_only',
        POSTGRES_STATEMENT_TIMEOUT_MS: '3000',
        MCP_RATE_LIMIT: '0',
        MCP_TOOL_TIMEOUT_MS: '10000',
        ...backend.env,
      },
    });
    try {
      const { summary } = await fuzzService({
        service: proc,
        settings,
        file: FILE,
        hints,
        dump: () => fullDump(backend),
      });
      console.info(`postgres read-only: ${summary}`);
    } finally {
      await proc.stop('SIGKILL');
    }
  }, 180_000);
});
