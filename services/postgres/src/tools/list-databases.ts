import { z } from 'zod';

import { listDatabases as queryDatabases } from '../introspection.js';
import { definePostgresTool, readAnnotations } from './define.js';

export const listDatabases = definePostgresTool({
  name: 'list_databases',
  title: 'List databases',
  toolset: 'read',
  description:
    'Lists the databases on the server (templates excluded): name, owner, encoding, collation, size (null when the ' +
    'role may not connect to it) and which one this service is connected to (current).',
  input: z.object({}),
  output: z.object({
    databases: z.array(
      z.object({
        name: z.string(),
        owner: z.string(),
        encoding: z.string(),
        collation: z.string(),
        allow_connections: z.boolean(),
        size_bytes: z.number().nullable(),
        size: z.string().nullable(),
        current: z.boolean(),
      }),
    ),
  }),
  annotations: readAnnotations,
  handler: async (_input, ctx) => ({ databases: await ctx.deps.db.read((q) => queryDatabases(q), ctx.signal) }),
});
