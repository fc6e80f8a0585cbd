import { z } from 'zod';

import { getDbHealth as checkHealth } from '../health-queries.js';
import { definePostgresTool, readAnnotations } from './define.js';

const severity = z.enum(['info', 'warning', 'critical']);
const ratio = z.number().nullable();

export const getDbHealth = definePostgresTool({
  name: 'get_db_health',
  title: 'Database health check',
  toolset: 'read',
  description:
    'Checks the database and summarises problems by severity: connections in use vs max_connections (whole ' +
    'server), sessions of this database busy longer than long_running_seconds (active or idle in transaction) ' +
    'and blocked by locks (and who blocks them), cache hit ratios, unused and invalid indexes, tables with more dead rows than their autovacuum ' +
    'threshold, transaction ID wraparound age, and sequences close to the end of their range (or of the int ' +
    'column they feed).',
  input: z.object({
    long_running_seconds: z
      .number()
      .min(0)
      .max(86_400)
      .default(60)
      .describe('Report sessions busy for longer than this many seconds.'),
  }),
  output: z.object({
    status: z.enum(['ok', 'warning', 'critical']),
    issues: z.array(z.object({ severity, check: z.string(), message: z.string() })),
    server_version: z.string(),
    connections: z.object({
      used: z.number().int(),
      max: z.number().int(),
      reserved: z.number().int(),
      usage_ratio: z.number(),
      active: z.number().int(),
      idle: z.number().int(),
      idle_in_transaction: z.number().int(),
    }),
    long_running: z.array(
      z.object({
        pid: z.number().int(),
        user: z.string().nullable(),
        database: z.string().nullable(),
        state: z.string().nullable(),
        seconds: z.number(),
        wait_event: z.string().nullable(),
        query: z.string().nullable(),
      }),
    ),
    blocked: z.array(
      z.object({
        pid: z.number().int(),
        blocked_by: z.array(z.number().int()),
        seconds: z.number().nullable(),
        wait_event: z.string().nullable(),
        query: z.string().nullable(),
      }),
    ),
    cache: z.object({ database_hit_ratio: ratio, table_hit_ratio: ratio, index_hit_ratio: ratio }),
    unused_indexes: z.array(
      z.object({ schema: z.string(), table: z.string(), index: z.string(), size_bytes: z.number() }),
    ),
    invalid_indexes: z.array(z.object({ schema: z.string(), table: z.string(), index: z.string() })),
    vacuum: z.object({
      tables_needing_vacuum: z.array(
        z.object({
          schema: z.string(),
          table: z.string(),
          live_rows: z.number(),
          dead_rows: z.number(),
          threshold: z.number(),
          last_autovacuum: z.string().nullable(),
        }),
      ),
      xid_age: z.array(
        z.object({ database: z.string(), age: z.number(), freeze_max_age: z.number(), wraparound_ratio: z.number() }),
      ),
    }),
    sequences: z.array(
      z.object({
        schema: z.string(),
        sequence: z.string(),
        owned_by: z.string().nullable(),
        last_value: z.number(),
        max_value: z.number(),
        used_ratio: z.number(),
      }),
    ),
  }),
  annotations: readAnnotations,
  handler: async ({ long_running_seconds }, ctx) =>
    ctx.deps.db.read((q) => checkHealth(q, { longRunningSeconds: long_running_seconds }), ctx.signal),
});
