import { existsSync } from 'node:fs';
import path from 'node:path';

import pg from 'pg';

import type { Worker } from '../load.js';
import { serviceMain } from '../processes.js';
import { CORE_PATHS, requestWorker, sessionWorker, type Target, type ToolCall } from '../targets.js';
import { coreEnv, processServer, type SectionContext } from './core.js';

/**
 * execute_sql of a primary-key lookup through the postgres service (/mcp with a long-lived
 * session, and /rpc) next to the same query through `pg` directly, with the same pool size.
 */
export interface PostgresSection {
  groups: Target[][];
  unavailable?: string;
  cleanup(): Promise<void>;
}

const SCHEMA = 'mcp_bench';
const QUERY = `SELECT id, value FROM ${SCHEMA}.items WHERE id = $1`;
const KEY = 42;
const POOL_MAX = 10;

export async function postgresTargets(ctx: SectionContext): Promise<PostgresSection> {
  const none = async () => undefined;
  // as its image runs it (package.json main: the bundle where the service has one)
  const main = path.join(ctx.root, serviceMain(ctx.root, 'postgres'));
  if (!existsSync(main)) {
    return {
      groups: [],
      unavailable: `services/postgres is not built (${path.relative(ctx.root, main)} is missing; run pnpm build)`,
      cleanup: none,
    };
  }
  const url = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
  } catch (error) {
    return {
      groups: [],
      unavailable: `no PostgreSQL server reachable through DATABASE_URL (or ${'postgres://postgres@127.0.0.1:5432/test'}): ${(error as Error).message}`,
      cleanup: none,
    };
  }
  // A throwaway schema with 1000 rows; dropped at the end.
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin.query(`CREATE SCHEMA ${SCHEMA}`);
  await admin.query(`CREATE TABLE ${SCHEMA}.items (id integer PRIMARY KEY, value text NOT NULL)`);
  await admin.query(`INSERT INTO ${SCHEMA}.items SELECT g, 'value ' || g FROM generate_series(1, 1000) AS g`);
  await admin.query(`ANALYZE ${SCHEMA}.items`);

  const call: ToolCall = {
    name: 'execute_sql',
    args: { sql: QUERY, params: [KEY] },
    check(result) {
      const structured = result['structuredContent'] as { rows?: Array<Record<string, unknown>> } | undefined;
      const row = structured?.rows?.[0];
      if (structured?.rows?.length !== 1 || row?.['id'] !== KEY) {
        throw new Error(`execute_sql: unexpected result ${JSON.stringify(result).slice(0, 200)}`);
      }
    },
  };
  const service = processServer(ctx, 'postgres', () => [main], {
    ...coreEnv,
    DATABASE_URL: url,
    POSTGRES_POOL_MAX: String(POOL_MAX),
  });

  // The baseline runs in the generator's process: no HTTP, no MCP, just the driver and the pool.
  let pool: pg.Pool | undefined;
  const direct = async (): Promise<Worker> => {
    pool ??= new pg.Pool({ connectionString: url, max: POOL_MAX });
    const p = pool;
    return {
      iteration: async () => {
        const result = await p.query<{ id: number; value: string }>(QUERY, [KEY]);
        if (result.rows.length !== 1 || result.rows[0]?.id !== KEY) throw new Error('pg: unexpected result');
      },
      close: async () => undefined,
    };
  };
  const section = 'postgres';
  return {
    groups: [
      [
        {
          id: 'pg/pg/request',
          section,
          label: `pg directly (pool of ${POOL_MAX})`,
          transport: 'pg',
          shape: 'request',
          createWorker: () => direct(),
        },
        {
          id: 'postgres/streamable-http/session',
          section,
          label: 'postgres /mcp execute_sql',
          transport: 'streamable-http',
          shape: 'session',
          start: service,
          createWorker: sessionWorker('streamable-http', CORE_PATHS, call),
        },
        {
          id: 'postgres/rpc/request',
          section,
          label: 'postgres /rpc execute_sql',
          transport: 'rpc',
          shape: 'request',
          start: service,
          createWorker: requestWorker(CORE_PATHS.rpc, call),
        },
      ],
    ],
    cleanup: async () => {
      await pool?.end();
      await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => undefined);
      await admin.end();
    },
  };
}
