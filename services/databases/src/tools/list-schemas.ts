import { READ_ONLY_ANNOTATIONS } from '@mcp-sse/core';
import { z } from 'zod';

import { databaseName, defineDatabasesTool, engineSchema, serverName } from './define.js';

export const listSchemas = defineDatabasesTool({
  name: 'list_schemas',
  title: 'List the schemas of a database',
  toolset: 'catalog',
  description:
    'Lists the schemas of one database of a server, from the registry, with how many tables and views each holds.',
  input: z.object({ server: serverName, database: databaseName }),
  output: z.object({
    server: z.string(),
    engine: engineSchema,
    database: z.string(),
    schemas: z.array(z.object({ name: z.string(), tables: z.number().int(), views: z.number().int() })),
    cached: z.boolean(),
  }),
  annotations: READ_ONLY_ANNOTATIONS,
  handler: async ({ server, database }, ctx) => ctx.deps.databases.listSchemas(server, database),
});
