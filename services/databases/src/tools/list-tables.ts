import { READ_ONLY_ANNOTATIONS } from '@mcp-sse/core';
import { z } from 'zod';

import { databaseName, defineDatabasesTool, engineSchema, rowBudget, schemaName, serverName } from './define.js';

export const listTables = defineDatabasesTool({
  name: 'list_tables',
  title: 'List tables and views',
  toolset: 'catalog',
  description:
    "Lists the tables and views of one database (or of one schema of it), from the registry: kind, the engine's row " +
    'estimate, number of columns and comment. At most 5000 entries, and no more than fit in the answer (truncated says so).',
  input: z.object({
    server: serverName,
    database: databaseName,
    schema: schemaName.optional().describe('Only this schema (as listed by list_schemas).'),
  }),
  output: z.object({
    server: z.string(),
    engine: engineSchema,
    database: z.string(),
    tables: z.array(
      z.object({
        schema: z.string(),
        name: z.string(),
        kind: z.string(),
        row_estimate: z.number().nullable(),
        columns: z.number().int(),
        comment: z.string().nullable(),
      }),
    ),
    truncated: z.boolean(),
    cached: z.boolean(),
  }),
  annotations: READ_ONLY_ANNOTATIONS,
  handler: async ({ server, database, schema }, ctx) =>
    ctx.deps.databases.listTables(server, database, schema, rowBudget(ctx.config)),
});
