import { readFileSync } from 'node:fs';

import { defineService, ServiceError } from '@mcp-sse/core';

import { type Config, configSchema } from './config.js';
import { openDatabase } from './database.js';
import { DatabaseError } from './errors.js';
import type { Deps } from './tools/define.js';
import { tools } from './tools/index.js';

// Read at start-up from the package next to src/ or dist/, so the version is never written twice.
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const service = defineService<Config, Deps>({
  name: 'sqlite',
  version,
  description: 'CRUD tools and guarded SQL over one SQLite database file',
  instructions:
    'Start with list_tables or describe_table to learn the schema. Use query_records, insert_record, update_record ' +
    'and delete_record for rows, create_table for new tables, and execute_raw_query for one SQL statement ' +
    '(read-only unless read_only=false).',
  config: configSchema,
  toolsets: {
    read: { description: 'list_tables, describe_table, query_records', default: true },
    write: { description: 'create_table, insert_record, update_record, delete_record', default: true },
    raw: { description: 'execute_raw_query (read-only by default; writes with read_only=false)', default: true },
  },
  tools,
  // The domain's DatabaseError carries a core error code and a safe message.
  mapError: (error) =>
    error instanceof DatabaseError ? new ServiceError(error.code, error.message, { cause: error.cause }) : undefined,
  createContext: (config, logger) => {
    const db = openDatabase(config);
    logger.info(
      {
        readOnly: config.READ_ONLY_MODE,
        rawQueries: config.ALLOW_RAW_QUERIES,
        maxQueryResults: config.MAX_QUERY_RESULTS,
        queryWorkers: config.SQLITE_QUERY_WORKERS,
      },
      'sqlite database open',
    );
    return { db };
  },
  healthChecks: (deps) => ({
    database: async () => {
      deps.db.ping();
      return deps.db.settings();
    },
  }),
  close: (deps) => deps.db.close(),
});
