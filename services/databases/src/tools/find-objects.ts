import { READ_ONLY_ANNOTATIONS } from '@mcp-sse/core';
import { z } from 'zod';

import { defineDatabasesTool, engineSchema, serverName } from './define.js';

export const findObjects = defineDatabasesTool({
  name: 'find_objects',
  title: 'Find tables and columns across servers',
  toolset: 'catalog',
  description:
    'Searches the registry of every server (or of the servers given) for tables and/or columns whose name matches ' +
    'pattern, case-insensitively: with * and ? wildcards it must match the whole name ("cust*", "*_id"), without them ' +
    'it matches anywhere in the name. At most 200 of each (truncated says so). Each hit names its server, engine, database and schema.',
  input: z.object({
    pattern: z.string().min(1).max(128),
    kind: z.enum(['table', 'column', 'any']).default('any'),
    servers: z.array(serverName).min(1).max(100).optional().describe('Only these servers (default: all).'),
  }),
  output: z.object({
    pattern: z.string(),
    kind: z.enum(['table', 'column', 'any']),
    servers: z.array(z.string()),
    tables: z.array(
      z.object({
        server: z.string(),
        engine: engineSchema,
        database: z.string(),
        schema: z.string(),
        table: z.string(),
        kind: z.string(),
      }),
    ),
    columns: z.array(
      z.object({
        server: z.string(),
        engine: engineSchema,
        database: z.string(),
        schema: z.string(),
        table: z.string(),
        column: z.string(),
        type: z.string(),
      }),
    ),
    truncated: z.boolean(),
    cached: z.boolean(),
  }),
  annotations: READ_ONLY_ANNOTATIONS,
  handler: async ({ pattern, kind, servers }, ctx) => ctx.deps.databases.findObjects(pattern, kind, servers),
});
