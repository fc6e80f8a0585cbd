import { READ_ONLY_ANNOTATIONS } from '@mcp-sse/core';
import { z } from 'zod';

import { defineDatabasesTool, engineSchema, serverName } from './define.js';

export const listDatabases = defineDatabasesTool({
  name: 'list_databases',
  title: 'List the databases of a server',
  toolset: 'catalog',
  description:
    'Lists the databases of one server that the registry holds (those the servers file includes, as of the last ' +
    'sync), with how many schemas and tables each has and when it was synced. On MySQL/MariaDB a database is also its only schema.',
  input: z.object({ server: serverName }),
  output: z.object({
    server: z.string(),
    engine: engineSchema,
    databases: z.array(
      z.object({ name: z.string(), schemas: z.number().int(), tables: z.number().int(), synced_at: z.string() }),
    ),
    cached: z.boolean(),
  }),
  annotations: READ_ONLY_ANNOTATIONS,
  handler: async ({ server }, ctx) => {
    const { databases } = ctx.deps;
    const { value, cached } = await databases.listDatabases(server);
    return { server, engine: databases.engineOf(server), databases: value, cached };
  },
});
