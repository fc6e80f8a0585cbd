import { READ_ONLY_ANNOTATIONS } from '@mcp-sse/core';
import { z } from 'zod';

import { defineDatabasesTool, engineSchema } from './define.js';

export const listServers = defineDatabasesTool({
  name: 'list_servers',
  title: 'List database servers',
  toolset: 'catalog',
  description:
    'Lists the configured database servers: name, engine (postgres, mysql, mssql), access (read_only or read_write), ' +
    'tags, description, health (up, down, unknown), circuit breaker state, and the outcome of the last metadata sync ' +
    '(when, how long, how many databases and tables, or the error). Start here.',
  input: z.object({}),
  output: z.object({
    servers: z.array(
      z.object({
        server: z.string(),
        engine: engineSchema,
        access: z.enum(['read_only', 'read_write']),
        tags: z.array(z.string()),
        description: z.string(),
        health: z.enum(['up', 'down', 'unknown']),
        breaker: z.object({
          state: z.enum(['closed', 'open', 'half_open']),
          consecutive_failures: z.number().int(),
          retry_at: z.string().nullable(),
          last_error: z.string().nullable(),
        }),
        last_sync: z.object({
          started_at: z.string().nullable(),
          finished_at: z.string().nullable(),
          ok: z.boolean().nullable(),
          error: z.string().nullable(),
          duration_ms: z.number().nullable(),
          databases: z.number().nullable(),
          tables: z.number().nullable(),
        }),
      }),
    ),
  }),
  annotations: READ_ONLY_ANNOTATIONS,
  handler: async (_input, ctx) => ({ servers: await ctx.deps.databases.listServers() }),
});
