import { z } from 'zod';

import { LIST_TABLES_LIMIT, listTables as queryTables } from '../introspection.js';
import { definePostgresTool, readAnnotations } from './define.js';
import { identifierSchema } from './schemas.js';

export const relationTypeSchema = z.enum(['table', 'partitioned_table', 'view', 'materialized_view', 'foreign_table']);

export const listTables = definePostgresTool({
  name: 'list_tables',
  title: 'List tables and views',
  toolset: 'read',
  description:
    'Lists tables, partitioned tables, views, materialized views and foreign tables of one schema, or of every ' +
    "non-system schema when schema is omitted, with the planner's estimated row count, total size and comment. " +
    `Partitions are counted on their parent, not listed. At most ${LIST_TABLES_LIMIT} entries (truncated says so).`,
  input: z.object({
    schema: identifierSchema.optional().describe('Schema name as stored (case-sensitive), e.g. "public".'),
  }),
  output: z.object({
    tables: z.array(
      z.object({
        schema: z.string(),
        name: z.string(),
        type: relationTypeSchema,
        estimated_rows: z.number().nullable(),
        size_bytes: z.number().nullable(),
        partitions: z.number().int().nullable(),
        comment: z.string().nullable(),
      }),
    ),
    truncated: z.boolean(),
  }),
  annotations: readAnnotations,
  handler: async ({ schema }, ctx) => ctx.deps.db.read((q) => queryTables(q, schema), ctx.signal),
});
