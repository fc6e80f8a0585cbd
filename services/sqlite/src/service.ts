import { defineService } from '@mcp-sse/core';

import { type Config, configSchema } from './config.js';
import { openDatabase } from './database.js';
import { type Deps, toolsets } from './tools/define.js';
import { tools } from './tools/index.js';

export const service = defineService<Config, Deps>({
  name: 'sqlite',
  packageJson: new URL('../package.json', import.meta.url),
  description: 'CRUD tools and guarded SQL over one SQLite database file',
  instructions:
    'Start with list_tables or describe_table to learn the schema. Use query_records, insert_record, update_record ' +
    'and delete_record for rows, create_table for new tables, and execute_raw_query for one SQL statement ' +
    '(read-only unless read_only=false).',
  config: configSchema,
  toolsets,
  tools,
  createContext: (config, logger) => {
    const db = openDatabase(config);
    logger.info(
      {
        readOnly: config.READ_ONLY_MODE,
        rawQueries: config.ALLOW_RAW_QUERIES,
        maxQueryResults: config.MAX_QUERY_RESULTS,
        queryWorkers: config.SQLITE_QUERY_WORKERS,
        maxResultBytes: config.MCP_MAX_RESULT_BYTES,
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
