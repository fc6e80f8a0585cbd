import { z } from 'zod';

import { listSchemas as querySchemas } from '../introspection.js';
import { definePostgresTool, readAnnotations } from './define.js';

export const listSchemas = definePostgresTool({
  name: 'list_schemas',
  title: 'List schemas',
  toolset: 'read',
  description:
    'Lists the schemas of the current database with owner, whether the role may use them, how many tables and ' +
    'views each holds, and comments. System schemas (pg_catalog, information_schema) come last.',
  input: z.object({}),
  output: z.object({
    schemas: z.array(
      z.object({
        name: z.string(),
        owner: z.string(),
        system: z.boolean(),
        usable: z.boolean(),
        relations: z.number().int(),
        comment: z.string().nullable(),
      }),
    ),
  }),
  annotations: readAnnotations,
  handler: async (_input, ctx) => ({ schemas: await ctx.deps.db.read((q) => querySchemas(q), ctx.signal) }),
});
