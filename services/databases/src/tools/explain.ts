import { READ_ONLY_ANNOTATIONS } from '@mcp-sse/core';
import { z } from 'zod';

import { databaseName, defineDatabasesTool, engineSchema, paramsSchema, serverName, sqlSchema } from './define.js';

export const explain = defineDatabasesTool({
  name: 'explain',
  title: 'Show the plan of a statement',
  toolset: 'query',
  description:
    "Returns the engine's own plan of one statement without running it: PostgreSQL EXPLAIN (FORMAT JSON), MySQL/MariaDB " +
    'EXPLAIN FORMAT=JSON (format json), SQL Server SET SHOWPLAN_XML (format xml, the plan as text). Pass the statement ' +
    'without EXPLAIN. Writes may be planned on any server; they are never executed.',
  input: z.object({
    server: serverName,
    database: databaseName,
    sql: sqlSchema.describe('The statement to plan, without EXPLAIN.'),
    params: paramsSchema,
  }),
  output: z.object({
    server: z.string(),
    engine: engineSchema,
    database: z.string(),
    format: z.enum(['json', 'xml']),
    plan: z.unknown(),
  }),
  annotations: READ_ONLY_ANNOTATIONS,
  handler: async ({ server, database, sql, params }, ctx) =>
    ctx.deps.databases.explain({ server, database, sql, params, signal: ctx.signal }),
});
