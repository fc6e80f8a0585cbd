import { READ_ONLY_ANNOTATIONS } from '@mcp-sse/core';
import { z } from 'zod';

import {
  columnsSchema,
  databaseName,
  defineDatabasesTool,
  engineSchema,
  rowBudget,
  schemaName,
  serverName,
  tableName,
} from './define.js';

export const getTableSample = defineDatabasesTool({
  name: 'get_table_sample',
  title: 'Sample rows of a table',
  toolset: 'query',
  description:
    'Reads the first rows of one table or view (limit, at most DATABASES_MAX_ROWS), read-only on every server. The ' +
    "table must be in the registry; its name is quoted by the engine's rules. Rows stop at the byte budget " +
    '(truncated_by: bytes).',
  input: z.object({
    server: serverName,
    database: databaseName,
    table: tableName.describe('Table or view name as stored, or "schema.table".'),
    schema: schemaName.optional(),
    limit: z.number().int().min(1).max(1000).default(10),
  }),
  output: z.object({
    server: z.string(),
    engine: engineSchema,
    database: z.string(),
    schema: z.string(),
    table: z.string(),
    columns: columnsSchema,
    rows: z.array(z.record(z.string(), z.unknown())),
    row_count: z.number().int(),
    truncated: z.boolean(),
    truncated_by: z.enum(['rows', 'bytes']).nullable(),
    affected_rows: z.number().nullable(),
  }),
  annotations: READ_ONLY_ANNOTATIONS,
  handler: async ({ server, database, table, schema, limit }, ctx) =>
    ctx.deps.databases.sample({
      server,
      database,
      table,
      schema,
      limit,
      maxBytes: rowBudget(ctx.config),
      signal: ctx.signal,
    }),
});
