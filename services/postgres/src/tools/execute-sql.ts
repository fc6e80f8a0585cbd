import { z } from 'zod';

import { definePostgresTool } from './define.js';
import { accessModeSchema, paramsSchema, sqlSchema } from './schemas.js';

export const executeSql = definePostgresTool({
  name: 'execute_sql',
  title: 'Run one SQL statement',
  toolset: 'sql',
  description:
    'Runs ONE SQL statement with bound parameters ($1, $2, ... from params) in its own transaction and returns ' +
    'the rows (at most max_rows, capped by POSTGRES_MAX_ROWS, and at most MCP_MAX_RESULT_BYTES of them; ' +
    'truncated and truncated_reason say when more existed), the column names and types, or the affected row ' +
    'count. In read_only mode (the default) only SELECT (VALUES, TABLE, WITH ... SELECT), EXPLAIN and SHOW run, ' +
    'calling only built-in functions without side effects, in a READ ONLY transaction. Refused in every mode: ' +
    'several statements, transaction control, COPY, SET/RESET and other session state, temporary tables, and ' +
    'functions that read server files, reach other servers or signal other sessions. Dates and timestamps come ' +
    'back as PostgreSQL text; bigint and numeric as strings; repeated column names get _2, _3.',
  input: z.object({
    sql: sqlSchema.describe('One SQL statement; use $1, $2, ... for values instead of inlining them.'),
    params: paramsSchema,
    max_rows: z.number().int().min(1).max(100_000).optional().describe('Row limit for this call.'),
  }),
  output: z.object({
    command: z.string(),
    columns: z.array(z.object({ name: z.string(), type: z.string() })),
    rows: z.array(z.record(z.string(), z.unknown())),
    row_count: z.number().int(),
    truncated: z.boolean(),
    truncated_reason: z.enum(['row_limit', 'byte_limit']).nullable(),
    affected_rows: z.number().int().nullable(),
    row_limit: z.number().int(),
    access_mode: accessModeSchema,
  }),
  // Honest per mode: in read_only mode the server refuses every write, in read_write it can delete data.
  annotations: (config) =>
    config.POSTGRES_ACCESS_MODE === 'read_only'
      ? { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false }
      : { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  handler: async ({ sql, params, max_rows }, ctx) => {
    const { db } = ctx.deps;
    const result = await db.execute(sql, params, max_rows ?? db.maxRows, ctx.signal);
    return { ...result, access_mode: db.accessMode };
  },
});
