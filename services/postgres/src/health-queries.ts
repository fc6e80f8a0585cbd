import type { Querier } from './database.js';

/** Statistics queries for query_stats and get_db_health. Read-only; numbers come back as JS numbers. */

export const QUERY_TEXT_LIMIT = 2000;

export type StatsSortKey = 'total_time' | 'mean_time' | 'calls';

export type StatStatementsState = 'ok' | 'not_installed' | 'not_loaded' | 'not_available';

export interface StatStatementsInfo {
  state: Exclude<StatStatementsState, 'not_loaded'>;
  schema: string | null;
  version: string | null;
  /** pg_stat_statements 1.8 (PostgreSQL 13) renamed total_time/mean_time to total_exec_time/mean_exec_time. */
  timeColumns: { total: string; mean: string } | null;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

export async function inspectStatStatements(q: Querier): Promise<StatStatementsInfo> {
  const [installed] = await q.query<{ schema: string; version: string }>(
    `SELECT n.nspname AS schema, e.extversion AS version
       FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
      WHERE e.extname = 'pg_stat_statements'`,
  );
  if (!installed) {
    const available = await q.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements'`);
    return {
      state: available.length > 0 ? 'not_installed' : 'not_available',
      schema: null,
      version: null,
      timeColumns: null,
    };
  }
  const columns = await q.query<{ name: string }>(
    `SELECT attname::text AS name FROM pg_attribute
      WHERE attrelid = to_regclass($1) AND attname IN ('total_exec_time', 'total_time') AND NOT attisdropped`,
    [`${quoteIdent(installed.schema)}.pg_stat_statements`],
  );
  const names = new Set(columns.map((column) => column.name));
  const timeColumns = names.has('total_exec_time')
    ? { total: 'total_exec_time', mean: 'mean_exec_time' }
    : { total: 'total_time', mean: 'mean_time' };
  return { state: 'ok', schema: installed.schema, version: installed.version, timeColumns };
}

export interface StatementStat {
  query_id: string | null;
  query: string;
  user: string | null;
  calls: number;
  total_time_ms: number;
  mean_time_ms: number;
  rows: number;
  /** Share of shared-buffer reads served from cache (null when the statement read no blocks). */
  cache_hit_ratio: number | null;
}

const SORT_COLUMNS: Record<StatsSortKey, (columns: { total: string; mean: string }) => string> = {
  total_time: (columns) => `s.${columns.total}`,
  mean_time: (columns) => `s.${columns.mean}`,
  calls: () => 's.calls',
};

/** Top statements of the current database from pg_stat_statements. Throws (SQLSTATE 55000) when the library is not preloaded. */
export async function topStatements(
  q: Querier,
  info: StatStatementsInfo,
  sortBy: StatsSortKey,
  limit: number,
): Promise<StatementStat[]> {
  if (info.state !== 'ok' || !info.schema || !info.timeColumns) return [];
  const { total, mean } = info.timeColumns;
  return q.query<StatementStat>(
    `SELECT s.queryid::text AS query_id,
            left(s.query, ${QUERY_TEXT_LIMIT}) AS query,
            pg_get_userbyid(s.userid) AS user,
            s.calls::float8 AS calls,
            round(s.${total}::numeric, 3)::float8 AS total_time_ms,
            round(s.${mean}::numeric, 3)::float8 AS mean_time_ms,
            s.rows::float8 AS rows,
            CASE WHEN s.shared_blks_hit + s.shared_blks_read > 0
                 THEN round(s.shared_blks_hit::numeric / (s.shared_blks_hit + s.shared_blks_read), 4)::float8 END
              AS cache_hit_ratio
       FROM ${quoteIdent(info.schema)}.pg_stat_statements s
      WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      ORDER BY ${SORT_COLUMNS[sortBy](info.timeColumns)} DESC NULLS LAST
      LIMIT $1`,
    [limit],
  );
}

export interface DatabaseActivity {
  database: string;
  backends: number;
  commits: number;
  rollbacks: number;
  blocks_read: number;
  blocks_hit: number;
  /** blks_hit / (blks_hit + blks_read): below ~0.99 on a busy OLTP database suggests too little shared_buffers/RAM. */
  cache_hit_ratio: number | null;
  rows_returned: number;
  rows_fetched: number;
  rows_inserted: number;
  rows_updated: number;
  rows_deleted: number;
  temp_files: number;
  temp_bytes: number;
  deadlocks: number;
  stats_reset: string | null;
}

export interface TableActivity {
  schema: string;
  table: string;
  seq_scans: number;
  seq_rows_read: number;
  index_scans: number | null;
  /** seq_scan / (seq_scan + idx_scan): near 1 on a large table suggests a missing index. */
  seq_scan_share: number | null;
  live_rows: number;
  dead_rows: number;
  /** n_dead_tup / (n_live_tup + n_dead_tup): high values mean vacuum is behind. */
  dead_ratio: number | null;
  last_vacuum: string | null;
  last_autovacuum: string | null;
  last_analyze: string | null;
  last_autoanalyze: string | null;
}

export interface ActivityFallback {
  database: DatabaseActivity | null;
  tables: TableActivity[];
}

/** What pg_stat_database and pg_stat_user_tables tell without pg_stat_statements. */
export async function activityFallback(q: Querier, limit: number): Promise<ActivityFallback> {
  const [database] = await q.query<DatabaseActivity>(
    `SELECT datname AS database,
            numbackends AS backends,
            xact_commit::float8 AS commits,
            xact_rollback::float8 AS rollbacks,
            blks_read::float8 AS blocks_read,
            blks_hit::float8 AS blocks_hit,
            CASE WHEN blks_hit + blks_read > 0
                 THEN round(blks_hit::numeric / (blks_hit + blks_read), 4)::float8 END AS cache_hit_ratio,
            tup_returned::float8 AS rows_returned,
            tup_fetched::float8 AS rows_fetched,
            tup_inserted::float8 AS rows_inserted,
            tup_updated::float8 AS rows_updated,
            tup_deleted::float8 AS rows_deleted,
            temp_files::float8 AS temp_files,
            temp_bytes::float8 AS temp_bytes,
            deadlocks::float8 AS deadlocks,
            stats_reset::text AS stats_reset
       FROM pg_stat_database WHERE datname = current_database()`,
  );
  const tables = await q.query<TableActivity>(
    `SELECT schemaname AS schema,
            relname AS table,
            seq_scan::float8 AS seq_scans,
            seq_tup_read::float8 AS seq_rows_read,
            idx_scan::float8 AS index_scans,
            CASE WHEN seq_scan + coalesce(idx_scan, 0) > 0
                 THEN round(seq_scan::numeric / (seq_scan + coalesce(idx_scan, 0)), 4)::float8 END AS seq_scan_share,
            n_live_tup::float8 AS live_rows,
            n_dead_tup::float8 AS dead_rows,
            CASE WHEN n_live_tup + n_dead_tup > 0
                 THEN round(n_dead_tup::numeric / (n_live_tup + n_dead_tup), 4)::float8 END AS dead_ratio,
            last_vacuum::text AS last_vacuum,
            last_autovacuum::text AS last_autovacuum,
            last_analyze::text AS last_analyze,
            last_autoanalyze::text AS last_autoanalyze
       FROM pg_stat_user_tables
      ORDER BY seq_tup_read DESC, n_dead_tup DESC, schemaname, relname
      LIMIT $1`,
    [limit],
  );
  return { database: database ?? null, tables };
}

export function enableInstructions(state: StatStatementsState): string {
  const enable =
    "To enable it: add pg_stat_statements to shared_preload_libraries (postgresql.conf, or ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'), restart PostgreSQL, then run CREATE EXTENSION pg_stat_statements; in this database (as a superuser or the database owner).";
  const fallback =
    ' Until then, `fallback` shows what pg_stat_database and pg_stat_user_tables tell: the cache hit ratio, sequential vs index scans per table (a missing index shows as many sequential scans reading many rows) and dead rows (vacuum falling behind).';
  switch (state) {
    case 'not_installed':
      return `pg_stat_statements is not installed in this database. ${enable}${fallback}`;
    case 'not_loaded':
      return `pg_stat_statements is installed in this database but the server has not loaded its library, so it records nothing. Add pg_stat_statements to shared_preload_libraries and restart PostgreSQL (CREATE EXTENSION is already done).${fallback}`;
    case 'not_available':
      return `pg_stat_statements is not available on this server: install the PostgreSQL contrib package (e.g. postgresql-contrib) first. ${enable}${fallback}`;
    default:
      return '';
  }
}

// ---------------------------------------------------------------------------------------------
// get_db_health

export type Severity = 'info' | 'warning' | 'critical';

export interface HealthIssue {
  severity: Severity;
  check: string;
  message: string;
}

export interface DbHealth {
  status: 'ok' | 'warning' | 'critical';
  issues: HealthIssue[];
  server_version: string;
  connections: {
    used: number;
    max: number;
    reserved: number;
    /** used / (max - reserved). */
    usage_ratio: number;
    active: number;
    idle: number;
    idle_in_transaction: number;
  };
  long_running: {
    pid: number;
    user: string | null;
    database: string | null;
    state: string | null;
    seconds: number;
    wait_event: string | null;
    query: string | null;
  }[];
  blocked: {
    pid: number;
    blocked_by: number[];
    seconds: number | null;
    wait_event: string | null;
    query: string | null;
  }[];
  cache: { database_hit_ratio: number | null; table_hit_ratio: number | null; index_hit_ratio: number | null };
  unused_indexes: { schema: string; table: string; index: string; size_bytes: number }[];
  invalid_indexes: { schema: string; table: string; index: string }[];
  vacuum: {
    tables_needing_vacuum: {
      schema: string;
      table: string;
      live_rows: number;
      dead_rows: number;
      threshold: number;
      last_autovacuum: string | null;
    }[];
    /** Transaction ID age per database; wraparound forces a shutdown near 2^31. */
    xid_age: { database: string; age: number; freeze_max_age: number; wraparound_ratio: number }[];
  };
  sequences: {
    schema: string;
    sequence: string;
    owned_by: string | null;
    last_value: number;
    /** The smaller of the sequence's max_value and the maximum of the column type it feeds. */
    max_value: number;
    used_ratio: number;
  }[];
}

const HEALTH_LIST_LIMIT = 20;
const XID_WRAPAROUND = 2 ** 31;

const severityRank: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export interface HealthOptions {
  longRunningSeconds: number;
}

export async function getDbHealth(q: Querier, options: HealthOptions): Promise<DbHealth> {
  const issues: HealthIssue[] = [];
  const issue = (severity: Severity, check: string, message: string) => issues.push({ severity, check, message });

  const [version] = await q.query<{ version: string }>(`SELECT current_setting('server_version') AS version`);

  const [connections] = await q.query<DbHealth['connections']>(
    `SELECT count(*)::int AS used,
            current_setting('max_connections')::int AS max,
            current_setting('superuser_reserved_connections')::int AS reserved,
            count(*) FILTER (WHERE state = 'active')::int AS active,
            count(*) FILTER (WHERE state = 'idle')::int AS idle,
            count(*) FILTER (WHERE state LIKE 'idle in transaction%')::int AS idle_in_transaction
       FROM pg_stat_activity
      -- This session always counts (an embedded single-user server reports no 'client backend').
      WHERE backend_type = 'client backend' OR pid = pg_backend_pid()`,
  );
  const conn = connections ?? { used: 0, max: 0, reserved: 0, active: 0, idle: 0, idle_in_transaction: 0 };
  const available = Math.max(1, conn.max - conn.reserved);
  const usageRatio = Math.round((conn.used / available) * 10_000) / 10_000;
  if (usageRatio >= 0.95) issue('critical', 'connections', `${conn.used} of ${available} connections in use.`);
  else if (usageRatio >= 0.8) issue('warning', 'connections', `${conn.used} of ${available} connections in use.`);

  const longRunning = await q.query<DbHealth['long_running'][number]>(
    `SELECT pid,
            usename::text AS user,
            datname::text AS database,
            state,
            round(extract(epoch FROM now() - coalesce(query_start, xact_start))::numeric, 1)::float8 AS seconds,
            CASE WHEN wait_event IS NULL THEN NULL ELSE wait_event_type || ':' || wait_event END AS wait_event,
            left(query, 500) AS query
       FROM pg_stat_activity
      WHERE backend_type = 'client backend' AND state IS DISTINCT FROM 'idle' AND pid <> pg_backend_pid()
        AND datname = current_database()
        AND coalesce(query_start, xact_start) < now() - make_interval(secs => $1::float8)
      ORDER BY coalesce(query_start, xact_start)
      LIMIT ${HEALTH_LIST_LIMIT}`,
    [options.longRunningSeconds],
  );
  if (longRunning.length > 0) {
    issue(
      'warning',
      'long_running',
      `${longRunning.length} session(s) busy for more than ${options.longRunningSeconds} s (active or idle in transaction).`,
    );
  }

  const blocked = await q.query<DbHealth['blocked'][number]>(
    `SELECT pid,
            pg_blocking_pids(pid) AS blocked_by,
            round(extract(epoch FROM now() - query_start)::numeric, 1)::float8 AS seconds,
            CASE WHEN wait_event IS NULL THEN NULL ELSE wait_event_type || ':' || wait_event END AS wait_event,
            left(query, 500) AS query
       FROM pg_stat_activity
      WHERE datname = current_database() AND cardinality(pg_blocking_pids(pid)) > 0
      ORDER BY query_start
      LIMIT ${HEALTH_LIST_LIMIT}`,
  );
  if (blocked.length > 0) issue('warning', 'blocked', `${blocked.length} session(s) waiting on locks held by others.`);

  const [cache] = await q.query<DbHealth['cache']>(
    `SELECT (SELECT CASE WHEN blks_hit + blks_read > 0
                         THEN round(blks_hit::numeric / (blks_hit + blks_read), 4)::float8 END
               FROM pg_stat_database WHERE datname = current_database()) AS database_hit_ratio,
            (SELECT CASE WHEN sum(heap_blks_hit) + sum(heap_blks_read) > 0
                         THEN round(sum(heap_blks_hit) / (sum(heap_blks_hit) + sum(heap_blks_read)), 4)::float8 END
               FROM pg_statio_user_tables) AS table_hit_ratio,
            (SELECT CASE WHEN sum(idx_blks_hit) + sum(idx_blks_read) > 0
                         THEN round(sum(idx_blks_hit) / (sum(idx_blks_hit) + sum(idx_blks_read)), 4)::float8 END
               FROM pg_statio_user_indexes) AS index_hit_ratio`,
  );
  const hit = cache ?? { database_hit_ratio: null, table_hit_ratio: null, index_hit_ratio: null };
  if (hit.table_hit_ratio !== null && hit.table_hit_ratio < 0.95) {
    issue('warning', 'cache', `Table cache hit ratio is ${hit.table_hit_ratio} (below 0.95): reads often go to disk.`);
  }
  if (hit.index_hit_ratio !== null && hit.index_hit_ratio < 0.95) {
    issue('warning', 'cache', `Index cache hit ratio is ${hit.index_hit_ratio} (below 0.95).`);
  }

  const unusedIndexes = await q.query<DbHealth['unused_indexes'][number]>(
    `SELECT s.schemaname AS schema, s.relname AS table, s.indexrelname AS index,
            pg_relation_size(s.indexrelid)::float8 AS size_bytes
       FROM pg_stat_user_indexes s
       JOIN pg_index i ON i.indexrelid = s.indexrelid
      WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = s.indexrelid)
      ORDER BY pg_relation_size(s.indexrelid) DESC, s.schemaname, s.indexrelname
      LIMIT ${HEALTH_LIST_LIMIT}`,
  );
  if (unusedIndexes.length > 0) {
    issue(
      'info',
      'unused_indexes',
      `${unusedIndexes.length} index(es) never scanned since statistics were reset; they cost writes and space.`,
    );
  }

  const invalidIndexes = await q.query<DbHealth['invalid_indexes'][number]>(
    `SELECT n.nspname AS schema, t.relname AS table, c.relname AS index
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT i.indisvalid
      ORDER BY n.nspname, c.relname
      LIMIT ${HEALTH_LIST_LIMIT}`,
  );
  if (invalidIndexes.length > 0) {
    issue(
      'warning',
      'invalid_indexes',
      `${invalidIndexes.length} invalid index(es) (a failed CREATE INDEX CONCURRENTLY?): drop and recreate them.`,
    );
  }

  const needVacuum = await q.query<DbHealth['vacuum']['tables_needing_vacuum'][number]>(
    `SELECT s.schemaname AS schema, s.relname AS table,
            s.n_live_tup::float8 AS live_rows, s.n_dead_tup::float8 AS dead_rows,
            round(current_setting('autovacuum_vacuum_threshold')::numeric
                  + current_setting('autovacuum_vacuum_scale_factor')::numeric * greatest(c.reltuples, 0)::numeric)::float8
              AS threshold,
            s.last_autovacuum::text AS last_autovacuum
       FROM pg_stat_user_tables s
       JOIN pg_class c ON c.oid = s.relid
      WHERE s.n_dead_tup > current_setting('autovacuum_vacuum_threshold')::numeric
                           + current_setting('autovacuum_vacuum_scale_factor')::numeric * greatest(c.reltuples, 0)::numeric
      ORDER BY s.n_dead_tup DESC
      LIMIT ${HEALTH_LIST_LIMIT}`,
  );
  if (needVacuum.length > 0) {
    issue(
      'warning',
      'vacuum',
      `${needVacuum.length} table(s) have more dead rows than their autovacuum threshold (global settings).`,
    );
  }

  const xidRows = await q.query<{ database: string; age: number; freeze_max_age: number }>(
    `SELECT datname::text AS database, age(datfrozenxid)::float8 AS age,
            current_setting('autovacuum_freeze_max_age')::float8 AS freeze_max_age
       FROM pg_database WHERE datallowconn ORDER BY age(datfrozenxid) DESC LIMIT ${HEALTH_LIST_LIMIT}`,
  );
  const xidAge = xidRows.map((row) => ({
    ...row,
    wraparound_ratio: Math.round((row.age / XID_WRAPAROUND) * 10_000) / 10_000,
  }));
  for (const row of xidAge) {
    if (row.wraparound_ratio >= 0.75) {
      issue('critical', 'xid_wraparound', `Database ${row.database} is at ${row.wraparound_ratio} of XID wraparound.`);
    } else if (row.age > row.freeze_max_age) {
      issue(
        'warning',
        'xid_wraparound',
        `Database ${row.database} XID age ${row.age} exceeds autovacuum_freeze_max_age.`,
      );
    }
  }

  const sequenceRows = await q.query<{
    schema: string;
    sequence: string;
    owned_by: string | null;
    last_value: number;
    max_value: number;
    column_max: number | null;
  }>(
    `SELECT s.schemaname::text AS schema, s.sequencename::text AS sequence, dep.owned_by,
            s.last_value::float8 AS last_value, s.max_value::float8 AS max_value, dep.column_max
       FROM pg_sequences s
       LEFT JOIN LATERAL (
         SELECT tn.nspname || '.' || t.relname || '.' || a.attname AS owned_by,
                CASE a.atttypid WHEN 'int2'::regtype THEN 32767::float8 WHEN 'int4'::regtype THEN 2147483647::float8 END
                  AS column_max
           FROM pg_depend d
           JOIN pg_class t ON t.oid = d.refobjid
           JOIN pg_namespace tn ON tn.oid = t.relnamespace
           JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
          WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
            AND d.objid = (quote_ident(s.schemaname) || '.' || quote_ident(s.sequencename))::regclass
            AND d.deptype IN ('a', 'i')
          LIMIT 1
       ) dep ON true
      WHERE s.last_value IS NOT NULL AND s.increment_by > 0`,
  );
  const sequences = sequenceRows
    .map((row) => {
      const max = row.column_max === null ? row.max_value : Math.min(row.max_value, row.column_max);
      return {
        schema: row.schema,
        sequence: row.sequence,
        owned_by: row.owned_by,
        last_value: row.last_value,
        max_value: max,
        used_ratio: Math.round((row.last_value / max) * 10_000) / 10_000,
      };
    })
    .sort((a, b) => b.used_ratio - a.used_ratio)
    .slice(0, 10);
  for (const sequence of sequences) {
    const name = `${sequence.schema}.${sequence.sequence}`;
    if (sequence.used_ratio >= 0.9) {
      issue(
        'critical',
        'sequences',
        `Sequence ${name} has used ${sequence.used_ratio} of its range (max ${sequence.max_value}).`,
      );
    } else if (sequence.used_ratio >= 0.75) {
      issue(
        'warning',
        'sequences',
        `Sequence ${name} has used ${sequence.used_ratio} of its range (max ${sequence.max_value}).`,
      );
    }
  }

  const worst = issues.reduce((max, item) => Math.max(max, severityRank[item.severity]), 0);
  return {
    status: worst === 2 ? 'critical' : worst === 1 ? 'warning' : 'ok',
    issues,
    server_version: version?.version ?? 'unknown',
    connections: { ...conn, usage_ratio: usageRatio },
    long_running: longRunning,
    blocked,
    cache: hit,
    unused_indexes: unusedIndexes,
    invalid_indexes: invalidIndexes,
    vacuum: { tables_needing_vacuum: needVacuum, xid_age: xidAge },
    sequences,
  };
}
