import { randomBytes } from 'node:crypto';

import pg from 'pg';

/**
 * Chooses the PostgreSQL the tests run against, once per test file:
 * - a real server: PGTEST_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test. Each
 *   test file gets its own throwaway database (CREATE DATABASE mcp_test_<random>, dropped afterwards).
 * - when no server answers within ~1 s (a fresh laptop), an embedded PostgreSQL: PGlite behind
 *   PGLiteSocketServer on 127.0.0.1:<random port>, so `pnpm test` still passes. It is one single-user
 *   backend, so tests that need a real-server feature (CREATE DATABASE, statement_timeout, several
 *   real connections, pg_stat_statements) run only when `real` is true and say so in their names.
 * - MCP_TEST_REQUIRE_REAL_PG=1 (set by .ci/run) turns a missing server into a failure instead, and
 *   so does an explicit DATABASE_URL that does not answer: CI must never silently fall back.
 */

export const DEFAULT_TEST_URL = 'postgres://postgres@127.0.0.1:5432/test';

export interface PgBackend {
  kind: 'server' | 'pglite';
  /** True on a real PostgreSQL server. */
  real: boolean;
  /** Connection string of this test file's throwaway database. */
  url: string;
  /** Settings the service needs on this backend (merged into the service env by tests). */
  env: Record<string, string>;
  /** Runs one statement as the administrator, outside any service (fixtures, before/after dumps). */
  admin<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<R[]>;
  /**
   * Drops the throwaway database (or stops PGlite). `afterDrop` statements then run on the maintenance
   * database, for cluster-wide objects such as roles that the dropped database still referenced.
   */
  close(afterDrop?: string[]): Promise<void>;
}

/** Real-server-only test names carry this suffix, so a report shows why they did not run on PGlite. */
export const REAL_SERVER = '[needs a real PostgreSQL server]';

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

async function probe(url: string): Promise<Error | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function startServerBackend(baseUrl: string): Promise<PgBackend> {
  const name = `mcp_test_${randomBytes(6).toString('hex')}`;
  const maintenance = new pg.Pool({ connectionString: baseUrl, max: 1 });
  maintenance.on('error', () => undefined);
  await maintenance.query(`CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const adminPool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  adminPool.on('error', () => undefined);
  return {
    kind: 'server',
    real: true,
    url: url.toString(),
    env: {},
    admin: async <R extends pg.QueryResultRow>(sql: string, values: unknown[] = []) =>
      (await adminPool.query<R>(sql, values)).rows,
    close: async (afterDrop: string[] = []) => {
      await adminPool.end();
      await maintenance.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      for (const sql of afterDrop) await maintenance.query(sql);
      await maintenance.end();
    },
  };
}

async function startPgliteBackend(): Promise<PgBackend> {
  // Loaded only when needed: PGlite takes several seconds to start.
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 16 });
  await server.start();
  const port = server.getServerConn().split(':').pop() ?? '';
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const adminPool = new pg.Pool({ connectionString: url, max: 1 });
  adminPool.on('error', () => undefined);
  return {
    kind: 'pglite',
    real: false,
    url,
    // One backend serialises every connection's transactions; a small pool keeps waits short.
    env: { POSTGRES_POOL_MAX: '2' },
    admin: async <R extends pg.QueryResultRow>(sql: string, values: unknown[] = []) =>
      (await adminPool.query<R>(sql, values)).rows,
    close: async () => {
      await adminPool.end();
      await server.stop();
      await db.close();
    },
  };
}

export async function startPgBackend(env: NodeJS.ProcessEnv = process.env): Promise<PgBackend> {
  const explicit = env['PGTEST_URL'] ?? env['DATABASE_URL'];
  const baseUrl = explicit ?? DEFAULT_TEST_URL;
  const requireReal = env['MCP_TEST_REQUIRE_REAL_PG'] === '1';
  const failure = await probe(baseUrl);
  if (!failure) return startServerBackend(baseUrl);
  if (requireReal || (env['PGTEST_URL'] === undefined && env['DATABASE_URL'] !== undefined)) {
    const why = requireReal ? 'MCP_TEST_REQUIRE_REAL_PG=1' : 'DATABASE_URL is set';
    throw new Error(`${why} but PostgreSQL at ${redactUrl(baseUrl)} does not answer: ${failure.message}`);
  }
  return startPgliteBackend();
}

/** Every row of a table, ordered, as JSON: compared before and after a refused call. */
export async function dumpTable(backend: PgBackend, table: string): Promise<string> {
  const rows = await backend.admin(`SELECT * FROM ${table} ORDER BY 1`);
  return JSON.stringify(rows);
}
