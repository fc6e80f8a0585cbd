import { defineService } from '@mcp-sse/core';

import { type Config, configSchema } from './config.js';
import { resolveConnectionString } from './connection-string.js';
import { PostgresDatabase } from './database.js';
import { type Deps, toolsets } from './tools/define.js';
import { tools } from './tools/index.js';

export const service = defineService<Config, Deps>({
  name: 'postgres',
  packageJson: new URL('../package.json', import.meta.url),
  description: 'PostgreSQL introspection, guarded SQL, query statistics and health checks',
  instructions:
    'Start with list_schemas and list_tables, then table_info for columns and keys. execute_sql runs one statement ' +
    'with $1-style parameters (read-only unless the server runs with POSTGRES_ACCESS_MODE=read_write). Use ' +
    'explain_query for plans, query_stats for the costliest statements and get_db_health for a health check.',
  config: configSchema,
  toolsets,
  tools,
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
      maxResultBytes: config.MCP_MAX_RESULT_BYTES,
      allowedFunctions: config.POSTGRES_ALLOWED_FUNCTIONS,
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
      // A DatabaseError's message is safe (exposed), so /health shows it.
      const { pool } = await deps.db.ping(config.POSTGRES_HEALTH_TIMEOUT_MS);
      return { access_mode: deps.db.accessMode, pool };
    },
  }),
  close: (deps) => deps.db.close(),
});
