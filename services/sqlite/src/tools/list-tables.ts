import { z } from 'zod';

import { defineSqliteTool } from './define.js';
import { readAnnotations } from './schemas.js';

export const listTables = defineSqliteTool({
  name: 'list_tables',
  title: 'List tables',
  toolset: 'read',
  description: 'Lists every table in the database with its columns (name, declared type, NOT NULL, primary key).',
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
  }),
  annotations: readAnnotations,
  handler: async (_input, ctx) => ({ tables: ctx.deps.db.listTables() }),
});
