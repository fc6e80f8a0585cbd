import { readFileSync } from 'node:fs';

import { defineService, ServiceError } from '@mcp-sse/core';

import { type Config, configSchema } from './config.js';
import { resolveConnectionString } from './connection-string.js';
import { PostgresDatabase } from './database.js';
import { DatabaseError } from './errors.js';
import type { Deps } from './tools/define.js';
import { tools } from './tools/index.js';

// Read at start-up from the package next to src/ or dist/, so the version is never written twice.
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const service = defineService<Config, Deps>({
  name: 'postgres',
  version,
  description: 'PostgreSQL introspection, guarded SQL, query statistics and health checks',
  instructions:
    'Start with list_schemas and list_tables, then table_info for columns and keys. execute_sql runs one statement ' +
    'with $1-style parameters (read-only unless the server runs with POSTGRES_ACCESS_MODE=read_write). Use ' +
    'explain_query for plans, query_stats for the costliest statements and get_db_health for a health check.',
  config: configSchema,
  toolsets: {
    read: {
      description: 'list_databases, list_schemas, list_tables, table_info, explain_query, query_stats, get_db_health',
      default: true,
    },
    sql: { description: 'execute_sql (read-only unless POSTGRES_ACCESS_MODE=read_write)', default: true },
  },
  tools,
  // The domain's DatabaseError carries a core error code and a redacted, safe message.
  mapError: (error) =>
    error instanceof DatabaseError ? new ServiceError(error.code, error.message, { cause: error.cause }) : undefined,
  createContext: (config, logger) => {
    const db = new PostgresDatabase({
      connectionString: resolveConnectionString(config),
      accessMode: config.POSTGRES_ACCESS_MODE,
      statementTimeoutMs: config.POSTGRES_STATEMENT_TIMEOUT_MS,
      maxRows: config.POSTGRES_MAX_ROWS,
      poolMax: config.POSTGRES_POOL_MAX,
      idleTimeoutMs: config.POSTGRES_POOL_IDLE_TIMEOUT_MS,
      connectTimeoutMs: config.POSTGRES_CONNECT_TIMEOUT_MS,
      applicationName: config.POSTGRES_APPLICATION_NAME,
      onWarning: (message, error) => logger.warn({ err: error }, message),
    });
    // Never the connection string: only what the operator chose.
    logger.info(
      {
        accessMode: config.POSTGRES_ACCESS_MODE,
        statementTimeoutMs: config.POSTGRES_STATEMENT_TIMEOUT_MS,
        maxRows: config.POSTGRES_MAX_ROWS,
        poolMax: config.POSTGRES_POOL_MAX,
      },
      'postgres pool ready (connects on first use)',
    );
    return { db };
  },
  healthChecks: (deps, config) => ({
    database: async () => {
      try {
        const { pool } = await deps.db.ping(config.POSTGRES_HEALTH_TIMEOUT_MS);
        return { access_mode: deps.db.accessMode, pool };
      } catch (error) {
        // /health shows a ServiceError's message; DatabaseError messages are already safe.
        if (error instanceof DatabaseError) throw new ServiceError(error.code, error.message);
        throw error;
      }
    },
  }),
  close: (deps) => deps.db.close(),
});
