import { z } from 'zod';

import { defineSqliteTool } from './define.js';
import { dataSchema, filtersSchema, tableNameSchema } from './schemas.js';

export const updateRecord = defineSqliteTool({
  name: 'update_record',
  title: 'Update records',
  toolset: 'write',
  description:
    'Sets the columns in `data` on every row matching `filters` (required, at least one condition) and returns how many rows changed.',
  input: z.object({ table_name: tableNameSchema, filters: filtersSchema, data: dataSchema }),
  output: z.object({ updated: z.number() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  handler: async ({ table_name, filters, data }, ctx) => ({
    updated: await ctx.deps.db.updateRecords(table_name, filters, data, ctx.signal),
  }),
});
