import { z } from 'zod';

import { defineSqliteTool } from './define.js';
import { filtersSchema, tableNameSchema } from './schemas.js';

export const deleteRecord = defineSqliteTool({
  name: 'delete_record',
  title: 'Delete records',
  toolset: 'write',
  description:
    'Deletes every row matching `filters` (required, at least one condition) and returns how many rows went.',
  input: z.object({ table_name: tableNameSchema, filters: filtersSchema }),
  output: z.object({ deleted: z.number() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  handler: async ({ table_name, filters }, ctx) => ({
    deleted: await ctx.deps.db.deleteRecords(table_name, filters, ctx.signal),
  }),
});
