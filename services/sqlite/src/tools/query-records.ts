import { z } from 'zod';

import { defineSqliteTool } from './define.js';
import { filtersSchema, readAnnotations, rowSchema, tableNameSchema } from './schemas.js';

export const queryRecords = defineSqliteTool({
  name: 'query_records',
  title: 'Query records',
  toolset: 'read',
  description:
    'Reads rows of a table, optionally filtered, sorted and paged. At most MAX_QUERY_RESULTS rows, and no more ' +
    'than the answer budget (MCP_MAX_RESULT_BYTES), come back per call; `total` counts every matching row and ' +
    '`truncated` says more rows follow (page with offset), `truncated_reason` why.',
  input: z.object({
    table_name: tableNameSchema,
    filters: filtersSchema.optional(),
    limit: z.number().int().min(1).optional().describe('Maximum rows to return (capped by the server)'),
    offset: z.number().int().min(0).optional().describe('Rows to skip (default 0)'),
    order_by: z
      .string()
      .min(1)
      .max(1000)
      .optional()
      .describe('Sort order: "col", "col DESC", "col ASC, other DESC" or "-col" (descending)'),
  }),
  output: z.object({
    rows: z.array(rowSchema),
    total: z.number(),
    count: z.number(),
    limit: z.number(),
    offset: z.number(),
    truncated: z.boolean(),
    truncated_reason: z.string().optional().describe('Why the page stops short: the limit or the answer budget'),
  }),
  annotations: readAnnotations,
  handler: async ({ table_name, filters, limit, offset, order_by }, ctx) =>
    ctx.deps.db.queryRecords(
      table_name,
      {
        ...(filters !== undefined && { filters }),
        ...(limit !== undefined && { limit }),
        ...(offset !== undefined && { offset }),
        ...(order_by !== undefined && { orderBy: order_by }),
      },
      ctx.signal,
    ),
});
