import { z } from 'zod';

import { defineSqliteTool } from './define.js';
import { readAnnotations } from './schemas.js';

export const listTables = defineSqliteTool({
  name: 'list_tables',
  title: 'List tables',
  toolset: 'read',
  description:
    'Lists every table in the database with its columns (name, declared type, NOT NULL, primary key). ' +
    'On a very large schema the list stops at the answer budget (`truncated`).',
  input: z.object({}),
  output: z.object({
    tables: z.array(
      z.object({
        name: z.string(),
        columns: z.array(
          z.object({ name: z.string(), type: z.string(), not_null: z.boolean(), primary_key: z.boolean() }),
        ),
      }),
    ),
    truncated: z.boolean().describe('true when tables were left out to stay within the answer budget'),
    truncated_reason: z.string().optional(),
  }),
  annotations: readAnnotations,
  handler: async (_input, ctx) => ctx.deps.db.listTables(ctx.signal),
});
