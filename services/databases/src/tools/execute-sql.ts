import { READ_ONLY_ANNOTATIONS } from '@mcp-sse/core';
import { z } from 'zod';

import {
  columnsSchema,
  databaseName,
  defineDatabasesTool,
  engineSchema,
  paramsSchema,
  rowBudget,
  serverName,
  sqlSchema,
} from './define.js';

export const executeSql = defineDatabasesTool({
  name: 'execute_sql',
  title: 'Run SQL on a server',
  toolset: 'query',
  description:
    'Runs one statement (PostgreSQL, MySQL/MariaDB) or one batch (SQL Server) on one database of a server, with bound ' +
    'parameters, and returns the rows (at most max_rows, capped by DATABASES_MAX_ROWS and by the byte budget: ' +
    'truncated and truncated_by say which stopped it), the columns with their engine types, and the server, database ' +
    'and engine that answered. On a read-only server the engine enforces it (READ ONLY transaction; SQL Server: a ' +
    'transaction that is always rolled back) and statements must start with SELECT/WITH (SHOW, VALUES, TABLE, DESCRIBE ' +
    'where the engine has them). Refused everywhere: several statements, transaction control, session settings (SET, ' +
    'USE), files on the server, locks and stalls, EXEC and dynamic SQL. Timeouts stop the statement on the server.',
  input: z.object({
    server: serverName,
    database: databaseName,
    sql: sqlSchema.describe('One statement; put values in params, not in the text.'),
    params: paramsSchema,
    max_rows: z.number().int().min(1).max(100_000).optional().describe('Row limit for this call.'),
  }),
  output: z.object({
    server: z.string(),
    engine: engineSchema,
    database: z.string(),
    access: z.enum(['read_only', 'read_write']),
    columns: columnsSchema,
    rows: z.array(z.record(z.string(), z.unknown())),
    row_count: z.number().int(),
    row_limit: z.number().int(),
    truncated: z.boolean(),
    truncated_by: z.enum(['rows', 'bytes']).nullable(),
    affected_rows: z.number().nullable(),
    cached: z.boolean(),
  }),
  // Honest per setting: without DATABASES_ALLOW_WRITE every server is read-only, enforced by the engines.
  annotations: (config) =>
    config.DATABASES_ALLOW_WRITE
      ? { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false }
      : READ_ONLY_ANNOTATIONS,
  handler: async ({ server, database, sql, params, max_rows }, ctx) =>
    ctx.deps.databases.execute({
      server,
      database,
      sql,
      params,
      maxRows: max_rows,
      maxBytes: rowBudget(ctx.config),
      signal: ctx.signal,
    }),
});
