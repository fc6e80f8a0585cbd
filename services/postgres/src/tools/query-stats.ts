import { z } from 'zod';

import { DatabaseError } from '../errors.js';
import {
  activityFallback,
  enableInstructions,
  inspectStatStatements,
  type StatStatementsState,
  topStatements,
} from '../health-queries.js';
import { definePostgresTool, readAnnotations } from './define.js';

const ratio = z.number().nullable();

export const queryStats = definePostgresTool({
  name: 'query_stats',
  title: 'Top queries by time or calls',
  toolset: 'read',
  description:
    'Lists the statements of the current database that cost the most, from pg_stat_statements: calls, total and ' +
    'mean execution time (ms), rows and cache hit ratio, sorted by total_time, mean_time or calls. When the ' +
    'extension is missing or not loaded, says how to enable it and returns what pg_stat_database and ' +
    'pg_stat_user_tables tell instead (cache hit ratio, sequential vs index scans, dead rows) under fallback.',
  input: z.object({
    sort_by: z.enum(['total_time', 'mean_time', 'calls']).default('total_time'),
    limit: z.number().int().min(1).max(100).default(10),
  }),
  output: z.object({
    available: z.boolean(),
    status: z.enum(['ok', 'not_installed', 'not_loaded', 'not_available']),
    message: z.string().nullable(),
    extension_version: z.string().nullable(),
    sort_by: z.enum(['total_time', 'mean_time', 'calls']),
    statements: z.array(
      z.object({
        query_id: z.string().nullable(),
        query: z.string(),
        user: z.string().nullable(),
        calls: z.number(),
        total_time_ms: z.number(),
        mean_time_ms: z.number(),
        rows: z.number(),
        cache_hit_ratio: ratio,
      }),
    ),
    fallback: z
      .object({
        database: z
          .object({
            database: z.string(),
            backends: z.number(),
            commits: z.number(),
            rollbacks: z.number(),
            blocks_read: z.number(),
            blocks_hit: z.number(),
            cache_hit_ratio: ratio,
            rows_returned: z.number(),
            rows_fetched: z.number(),
            rows_inserted: z.number(),
            rows_updated: z.number(),
            rows_deleted: z.number(),
            temp_files: z.number(),
            temp_bytes: z.number(),
            deadlocks: z.number(),
            stats_reset: z.string().nullable(),
          })
          .nullable(),
        tables: z.array(
          z.object({
            schema: z.string(),
            table: z.string(),
            seq_scans: z.number(),
            seq_rows_read: z.number(),
            index_scans: z.number().nullable(),
            seq_scan_share: ratio,
            live_rows: z.number(),
            dead_rows: z.number(),
            dead_ratio: ratio,
            last_vacuum: z.string().nullable(),
            last_autovacuum: z.string().nullable(),
            last_analyze: z.string().nullable(),
            last_autoanalyze: z.string().nullable(),
          }),
        ),
      })
      .nullable(),
  }),
  annotations: readAnnotations,
  handler: async ({ sort_by, limit }, ctx) => {
    const { db } = ctx.deps;
    const info = await db.read((q) => inspectStatStatements(q), ctx.signal);
    let status: StatStatementsState = info.state;
    if (info.state === 'ok') {
      try {
        const statements = await db.read((q) => topStatements(q, info, sort_by, limit), ctx.signal);
        return {
          available: true,
          status,
          message: null,
          extension_version: info.version,
          sort_by,
          statements,
          fallback: null,
        };
      } catch (error) {
        // Installed but its library is not in shared_preload_libraries: SQLSTATE 55000.
        if (!(error instanceof DatabaseError && error.sqlstate === '55000')) throw error;
        status = 'not_loaded';
      }
    }
    return {
      available: false,
      status,
      message: enableInstructions(status),
      extension_version: info.version,
      sort_by,
      statements: [],
      fallback: await db.read((q) => activityFallback(q, limit), ctx.signal),
    };
  },
});
