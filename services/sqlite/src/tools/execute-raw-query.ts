import { ServiceError } from '@mcp-sse/core';
import { z } from 'zod';

import { ALLOWED_PRAGMAS } from '../statement-head.js';
import { defineSqliteTool } from './define.js';
import { rowSchema } from './schemas.js';

export const executeRawQuery = defineSqliteTool({
  name: 'execute_raw_query',
  title: 'Execute SQL',
  toolset: 'raw',
  description:
    'Runs exactly one SQL statement with bound parameters (? with an array, or :name with an object). ' +
    'With read_only=true (the default) it runs on a read-only connection: the database engine refuses any write; ' +
    'with read_only=false it runs as one transaction (all of it or nothing). ' +
    'Returns rows (at most MAX_QUERY_RESULTS and the answer budget, `truncated` and `truncated_reason` when cut) or, ' +
    'for writes, the changed row count and last inserted rowid. Refused: several statements, ATTACH/DETACH, ' +
    'BEGIN/COMMIT/ROLLBACK/SAVEPOINT/RELEASE, VACUUM, TEMP objects, load_extension(), and PRAGMA other than ' +
    `reading ${ALLOWED_PRAGMAS.join(', ')} (table-valued pragma functions such as pragma_table_info('t') work in SELECT).`,
  input: z.object({
    query: z.string().min(1).max(100_000).describe('One SQL statement'),
    params: z
      .union([z.array(z.unknown()), z.record(z.string(), z.unknown())])
      .optional()
      .describe('Values for ? placeholders (array) or :name/@name/$name placeholders (object)'),
    read_only: z.boolean().default(true).describe('true: the statement may only read (enforced by the engine)'),
  }),
  output: z.object({
    columns: z.array(z.string()).optional(),
    rows: z.array(rowSchema).optional(),
    row_count: z.number().optional(),
    truncated: z.boolean().optional(),
    truncated_reason: z.string().optional(),
    changes: z.number().optional(),
    last_insert_rowid: z.union([z.number(), z.string(), z.null()]).optional(),
  }),
  // In a read-only deployment the tool can only read (read_only=false is refused), so it says so and
  // stays listed under MCP_READ_ONLY; otherwise it can write.
  annotations: (config) =>
    config.READ_ONLY_MODE || config.MCP_READ_ONLY
      ? { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false }
      : { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  handler: async ({ query, params, read_only }, ctx) => {
    if (!ctx.config.ALLOW_RAW_QUERIES) {
      throw new ServiceError('FORBIDDEN', 'Raw SQL is disabled on this server (ALLOW_RAW_QUERIES=false)');
    }
    if (!read_only && ctx.config.MCP_READ_ONLY) {
      throw new ServiceError(
        'FORBIDDEN',
        'Writes are disabled on this server (MCP_READ_ONLY=true); use read_only=true',
      );
    }
    // The statement runs in a database process, which is killed when the call times out or is cancelled.
    return ctx.deps.db.executeRaw(query, params, read_only, ctx.signal);
  },
});
