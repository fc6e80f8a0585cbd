import { z } from 'zod';

import { definePostgresTool } from './define.js';
import { accessModeSchema, paramsSchema, sqlSchema } from './schemas.js';

export const explainQuery = definePostgresTool({
  name: 'explain_query',
  title: 'Explain a query plan',
  toolset: 'read',
  description:
    'Returns the execution plan of one statement (SELECT, WITH, VALUES, TABLE, INSERT, UPDATE, DELETE, MERGE) as ' +
    "PostgreSQL's JSON plan, with estimated costs and rows. analyze=true really runs the statement (EXPLAIN " +
    'ANALYZE, BUFFERS) to report actual times and rows, always inside a transaction that is rolled back; in ' +
    'read_only mode that transaction is READ ONLY, so analysing a write is refused. Pass the statement without EXPLAIN.',
  input: z.object({
    sql: sqlSchema.describe('The statement to plan, without EXPLAIN; $1, $2, ... bind params.'),
    params: paramsSchema,
    analyze: z.boolean().default(false).describe('Run the statement to measure actual rows and times.'),
  }),
  output: z.object({
    plan: z.record(z.string(), z.unknown()),
    analyzed: z.boolean(),
    access_mode: accessModeSchema,
  }),
  // Always rolled back, and READ ONLY unless analyze=true in read_write mode; see the README.
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async ({ sql, params, analyze }, ctx) => {
    const { db } = ctx.deps;
    const { plan, analyzed } = await db.explain(sql, params, analyze, ctx.signal);
    const record = plan !== null && typeof plan === 'object' ? (plan as Record<string, unknown>) : { plan };
    return { plan: record, analyzed, access_mode: db.accessMode };
  },
});
