import { z } from 'zod';

import { defineSqliteTool } from './define.js';
import { dataSchema, rowSchema, tableNameSchema } from './schemas.js';

export const insertRecord = defineSqliteTool({
  name: 'insert_record',
  title: 'Insert a record',
  toolset: 'write',
  description:
    'Inserts one row and returns it as stored (defaults and generated id included) with its rowid. ' +
    'An empty data object inserts a row of defaults.',
  input: z.object({ table_name: tableNameSchema, data: dataSchema }),
  output: z.object({
    row: rowSchema.nullable().describe('The row as stored; null when it alone is over the answer budget'),
    rowid: z.union([z.number(), z.string(), z.null()]),
    truncated: z.literal(true).optional(),
    truncated_reason: z.string().optional(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  handler: async ({ table_name, data }, ctx) => ctx.deps.db.insertRecord(table_name, data, ctx.signal),
});
