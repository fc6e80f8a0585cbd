import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PostgresDatabase } from '../src/database.js';
import {
  activityFallback,
  enableInstructions,
  getDbHealth,
  inspectStatStatements,
  topStatements,
} from '../src/health-queries.js';
import { REAL_SERVER, startPgBackend } from './helpers/pg-backend.js';

const backend = await startPgBackend();
const itReal = it.runIf(backend.real);
const db = new PostgresDatabase({
  connectionString: backend.url,
  accessMode: 'read_only',
  statementTimeoutMs: 5000,
  maxRows: 100,
  poolMax: 2,
  idleTimeoutMs: 10_000,
  connectTimeoutMs: 3000,
  applicationName: 'mcp-postgres-test',
  maxResultBytes: 4 * 1024 * 1024,
});

beforeAll(async () => {
  await backend.admin('CREATE TABLE churn (id int PRIMARY KEY, v text) WITH (autovacuum_enabled = false)');
  await backend.admin("INSERT INTO churn SELECT g, 'x' FROM generate_series(1, 1000) g");
  await backend.admin('DELETE FROM churn WHERE id > 100');
  await backend.admin('CREATE INDEX churn_v_idx ON churn (v)');
  // A sequence feeding an int4 column, 95 % through the column's range.
  await backend.admin('CREATE TABLE tickets (id serial PRIMARY KEY)');
  await backend.admin("SELECT setval('tickets_id_seq', 2040109465)");
  // Publish this session's counters now instead of within the next second.
  await backend.admin('SELECT pg_stat_force_next_flush()');
});

afterAll(async () => {
  await db.close();
  await backend.close();
});

describe(`get_db_health on ${backend.kind}`, () => {
  it('reports connections, cache, unused indexes, vacuum, wraparound and sequences with an overall status', async () => {
    const health = await db.read((q) => getDbHealth(q, { longRunningSeconds: 60 }));
    expect(health.server_version).toMatch(/^\d+/);
    expect(health.connections.max).toBeGreaterThan(0);
    expect(health.connections.used).toBeGreaterThanOrEqual(1);
    expect(health.connections.usage_ratio).toBeGreaterThan(0);

    expect(health.unused_indexes).toContainEqual(
      expect.objectContaining({ schema: 'public', table: 'churn', index: 'churn_v_idx' }),
    );
    // Primary keys are never reported as unused: they enforce uniqueness.
    expect(health.unused_indexes.some((index) => index.index === 'churn_pkey')).toBe(false);

    expect(health.vacuum.tables_needing_vacuum).toContainEqual(
      expect.objectContaining({ schema: 'public', table: 'churn', dead_rows: 900 }),
    );
    expect(health.vacuum.xid_age.length).toBeGreaterThan(0);

    expect(health.sequences[0]).toMatchObject({
      schema: 'public',
      sequence: 'tickets_id_seq',
      owned_by: 'public.tickets.id',
      last_value: 2040109465,
      max_value: 2147483647,
      used_ratio: 0.95,
    });
    expect(health.issues).toContainEqual({
      severity: 'critical',
      check: 'sequences',
      message: 'Sequence public.tickets_id_seq has used 0.95 of its range (max 2147483647).',
    });
    expect(health.issues).toContainEqual(expect.objectContaining({ severity: 'warning', check: 'vacuum' }));
    expect(health.issues).toContainEqual(expect.objectContaining({ severity: 'info', check: 'unused_indexes' }));
    expect(health.status).toBe('critical');
  });

  itReal(`reports long-running and blocked sessions ${REAL_SERVER}`, async () => {
    const holder = new pg.Client({ connectionString: backend.url });
    const waiter = new pg.Client({ connectionString: backend.url });
    await holder.connect();
    await waiter.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE churn IN ACCESS EXCLUSIVE MODE');
      const pidOf = async (client: pg.Client) =>
        (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      const holderPid = await pidOf(holder);
      const waiterPid = await pidOf(waiter);
      const waiting = waiter.query('SELECT count(*) FROM churn').catch(() => undefined);
      // pg_stat_activity is cluster-wide and other suites share the server: look at our two sessions only.
      const ours = (health: Awaited<ReturnType<typeof getDbHealth>>) =>
        health.blocked.filter((session) => session.pid === waiterPid);
      // The waiter's query may start after the health check's transaction (its now()): wait until
      // both sessions show as busy, not only as blocked.
      const busy = (h: Awaited<ReturnType<typeof getDbHealth>>) =>
        h.long_running.filter((session) => [holderPid, waiterPid].includes(session.pid)).length;
      let health = await db.read((q) => getDbHealth(q, { longRunningSeconds: 0 }));
      for (let i = 0; i < 50 && (ours(health).length === 0 || busy(health) < 2); i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        health = await db.read((q) => getDbHealth(q, { longRunningSeconds: 0 }));
      }
      expect(ours(health)).toHaveLength(1);
      expect(ours(health)[0]).toMatchObject({ blocked_by: [holderPid], query: 'SELECT count(*) FROM churn' });
      expect(ours(health)[0]?.wait_event).toBe('Lock:relation');
      const longRunning = health.long_running.filter((session) => [holderPid, waiterPid].includes(session.pid));
      expect(longRunning.map((session) => session.state).sort()).toEqual(['active', 'idle in transaction']);
      expect(health.issues).toContainEqual(expect.objectContaining({ check: 'blocked', severity: 'warning' }));
      await holder.query('ROLLBACK');
      await waiting;
    } finally {
      await holder.end();
      await waiter.end();
    }
  });

  itReal(`reports an index left invalid by a failed CREATE INDEX CONCURRENTLY ${REAL_SERVER}`, async () => {
    await backend.admin('CREATE TABLE dupes (v int)');
    await backend.admin('INSERT INTO dupes VALUES (1), (1)');
    await expect(backend.admin('CREATE UNIQUE INDEX CONCURRENTLY dupes_v_key ON dupes (v)')).rejects.toThrow(
      /could not create unique index/,
    );
    const health = await db.read((q) => getDbHealth(q, { longRunningSeconds: 60 }));
    expect(health.invalid_indexes).toEqual([{ schema: 'public', table: 'dupes', index: 'dupes_v_key' }]);
    expect(health.issues).toContainEqual(expect.objectContaining({ check: 'invalid_indexes', severity: 'warning' }));
  });
});

describe(`query_stats building blocks on ${backend.kind}`, () => {
  it('reports pg_stat_statements as missing and explains how to enable it', async () => {
    const info = await db.read((q) => inspectStatStatements(q));
    // The real server ships the contrib package; PGlite does not have the extension at all.
    expect(info.state).toBe(backend.real ? 'not_installed' : 'not_available');
    expect(enableInstructions('not_installed')).toContain('shared_preload_libraries');
    expect(enableInstructions('not_installed')).toContain('CREATE EXTENSION pg_stat_statements');
    expect(enableInstructions('not_available')).toContain('contrib');
    expect(enableInstructions('not_loaded')).toContain('restart PostgreSQL');
  });

  it('falls back to pg_stat_database and pg_stat_user_tables', async () => {
    const fallback = await db.read((q) => activityFallback(q, 10));
    expect(fallback.database?.database).toMatch(/^(mcp_test_|postgres)/);
    expect(fallback.database?.cache_hit_ratio).toBeGreaterThan(0);
    expect(fallback.tables).toContainEqual(
      expect.objectContaining({ schema: 'public', table: 'churn', live_rows: 100, dead_rows: 900, dead_ratio: 0.9 }),
    );
    const churn = fallback.tables.find((table) => table.table === 'churn');
    expect(churn?.seq_scans).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ['total_exec_time', 'mean_exec_time'],
    ['total_time', 'mean_time'],
  ])('reads top statements from a view with %s/%s columns', async (total, mean) => {
    // A stand-in relation with the columns of each pg_stat_statements generation (1.8+ and older).
    const schema = `pss_${total}`;
    await backend.admin(`CREATE SCHEMA ${schema}`);
    await backend.admin(`
      CREATE TABLE ${schema}.pg_stat_statements AS
      SELECT 10::bigint AS userid, d.oid AS dbid, v.queryid::bigint AS queryid, v.query, v.calls::bigint AS calls,
             v.total::float8 AS ${total}, v.mean::float8 AS ${mean}, v.rows::bigint AS rows,
             v.hit::bigint AS shared_blks_hit, v.read::bigint AS shared_blks_read
        FROM pg_database d,
             (VALUES (1, 'SELECT slow', 2, 900.5, 450.25, 2, 90, 10),
                     (2, 'SELECT often', 1000, 100.0, 0.1, 1000, 0, 0),
                     (3, 'SELECT once', 1, 500.0, 500.0, 1, 5, 5)) v(queryid, query, calls, total, mean, rows, hit, read)
       WHERE d.datname = current_database()`);
    const info = {
      state: 'ok' as const,
      schema,
      version: 'test',
      timeColumns: { total, mean },
    };
    const byTotal = await db.read((q) => topStatements(q, info, 'total_time', 2));
    expect(byTotal.map((row) => row.query)).toEqual(['SELECT slow', 'SELECT once']);
    expect(byTotal[0]).toMatchObject({
      query_id: '1',
      calls: 2,
      total_time_ms: 900.5,
      mean_time_ms: 450.25,
      rows: 2,
      cache_hit_ratio: 0.9,
    });
    const byMean = await db.read((q) => topStatements(q, info, 'mean_time', 3));
    expect(byMean.map((row) => row.query)).toEqual(['SELECT once', 'SELECT slow', 'SELECT often']);
    const byCalls = await db.read((q) => topStatements(q, info, 'calls', 1));
    expect(byCalls.map((row) => row.query)).toEqual(['SELECT often']);
    expect(byCalls[0]?.cache_hit_ratio).toBeNull();
  });

  itReal(
    `detects the installed extension's column names and whether its library is loaded ${REAL_SERVER}`,
    async () => {
      await backend.admin('CREATE EXTENSION pg_stat_statements');
      const info = await db.read((q) => inspectStatStatements(q));
      expect(info).toMatchObject({ state: 'ok', schema: 'public' });
      // pg_stat_statements 1.8 (PostgreSQL 13) and later use total_exec_time.
      expect(info.timeColumns).toEqual({ total: 'total_exec_time', mean: 'mean_exec_time' });
      const [preload] = await backend.admin<{ libraries: string }>(
        "SELECT current_setting('shared_preload_libraries') AS libraries",
      );
      if (preload?.libraries.includes('pg_stat_statements')) {
        await backend.admin('SELECT count(*) FROM churn');
        const top = await db.read((q) => topStatements(q, info, 'calls', 50));
        expect(top.some((row) => row.query.includes('FROM churn'))).toBe(true);
      } else {
        // Not preloaded (this machine's server): reading the view fails with SQLSTATE 55000.
        await expect(db.read((q) => topStatements(q, info, 'calls', 5))).rejects.toMatchObject({
          code: 'CONFLICT',
          sqlstate: '55000',
        });
      }
    },
  );
});
