import { z } from 'zod';

import { defineSqliteTool } from './define.js';
import { readAnnotations, tableNameSchema } from './schemas.js';

export const describeTable = defineSqliteTool({
  name: 'describe_table',
  title: 'Describe a table',
  toolset: 'read',
  description:
    'Describes one table: columns (type, nullability, default, primary-key position), primary key, foreign keys, ' +
    'indexes and the CREATE TABLE statement.',
  input: z.object({ table_name: tableNameSchema }),
  output: z.object({
    name: z.string(),
    columns: z.array(
      z.object({
        name: z.string(),
        type: z.string(),
        not_null: z.boolean(),
        default: z.string().nullable(),
        primary_key_position: z.number(),
        generated: z.boolean(),
      }),
    ),
    primary_key: z.array(z.string()),
    foreign_keys: z.array(
      z.object({
        columns: z.array(z.string()),
        references_table: z.string(),
        references_columns: z.array(z.string()),
        on_update: z.string(),
        on_delete: z.string(),
      }),
    ),
    indexes: z.array(
      z.object({
        name: z.string(),
        unique: z.boolean(),
        origin: z.string(),
        partial: z.boolean(),
        columns: z.array(z.string()),
      }),
    ),
    without_rowid: z.boolean(),
    strict: z.boolean(),
    sql: z.string().nullable(),
    truncated: z.boolean().describe('true when parts were left out to stay within the answer budget'),
    truncated_reason: z.string().optional(),
  }),
  annotations: readAnnotations,
  handler: async ({ table_name }, ctx) => ctx.deps.db.describeTable(table_name, ctx.signal),
});
