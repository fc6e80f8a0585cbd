import { existsSync } from 'node:fs';

import pg from 'pg';

import type { PgBackend } from './pg-backend.js';

/**
 * Everything a hostile call could have changed, as one JSON text compared before and after it:
 * every user table's rows, sequences, large objects, advisory and relation locks held by other
 * sessions in this file's database, temporary relations, functions, operators and casts outside pg_catalog, statistics
 * (ANALYZE, VACUUM), prepared transactions, replication slots, roles and their settings, database
 * settings, ALTER SYSTEM settings, the settings a fresh connection starts with, and whether the
 * given files exist. Roles, their settings and databases made by concurrent test files (mcp_test_*) are left out.
 */
export async function fullDump(db: PgBackend, files: readonly string[] = []): Promise<string> {
  const tables = await db.admin<{ name: string }>(
    "SELECT format('%I.%I', schemaname, relname) AS name FROM pg_stat_user_tables ORDER BY 1",
  );
  const parts: Record<string, unknown> = {};
  for (const { name } of tables) parts[`table ${name}`] = await db.admin(`SELECT * FROM ${name} ORDER BY 1`);
  const queries: Record<string, string> = {
    sequences: 'SELECT schemaname, sequencename, last_value FROM pg_sequences ORDER BY 1, 2',
    large_objects: 'SELECT oid::int8 AS oid FROM pg_largeobject_metadata ORDER BY 1',
    advisory_locks:
      "SELECT classid, objid, objsubid, mode, granted FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY 1, 2, 3",
    relation_locks:
      "SELECT relation::regclass::text AS relation, mode FROM pg_locks WHERE locktype = 'relation' AND pid <> pg_backend_pid() AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY 1, 2",
    temporary: "SELECT count(*)::int AS n FROM pg_class WHERE relpersistence = 't'",
    objects:
      "SELECT 'function ' || p.oid::regprocedure::text AS o FROM pg_proc p WHERE p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace) " +
      "UNION ALL SELECT 'operator ' || o.oid::regoperator::text FROM pg_operator o WHERE o.oprnamespace <> 'pg_catalog'::regnamespace " +
      "UNION ALL SELECT 'cast ' || c.castsource::regtype || '->' || c.casttarget::regtype FROM pg_cast c WHERE c.oid >= 16384 " +
      "UNION ALL SELECT 'extension ' || extname FROM pg_extension " +
      "UNION ALL SELECT 'relation ' || c.oid::regclass::text FROM pg_class c WHERE c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace, 'pg_toast'::regnamespace) AND c.relpersistence <> 't' " +
      'ORDER BY 1',
    statistics:
      'SELECT c.relname, s.last_analyze IS NOT NULL AS analyzed, s.last_vacuum IS NOT NULL AS vacuumed, (SELECT count(*) FROM pg_statistic st WHERE st.starelid = c.oid)::int AS stats FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid ORDER BY 1',
    prepared_xacts: 'SELECT gid FROM pg_prepared_xacts ORDER BY 1',
    replication_slots: 'SELECT slot_name FROM pg_replication_slots ORDER BY 1',
    roles:
      "SELECT rolname, rolsuper, rolcanlogin, rolconfig FROM pg_roles WHERE rolname NOT LIKE 'mcp\\_test\\_%' ORDER BY 1",
    role_settings:
      "SELECT coalesce(d.datname, '*') AS db, coalesce(r.rolname, '*') AS role, s.setconfig FROM pg_db_role_setting s LEFT JOIN pg_database d ON d.oid = s.setdatabase LEFT JOIN pg_roles r ON r.oid = s.setrole WHERE (coalesce(d.datname, '') NOT LIKE 'mcp\\_test\\_%' OR d.datname = current_database()) AND coalesce(r.rolname, '') NOT LIKE 'mcp\\_test\\_%' ORDER BY 1, 2",
    system_settings:
      "SELECT name, setting FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf' ORDER BY 1",
    databases: "SELECT datname FROM pg_database WHERE datname NOT LIKE 'mcp\\_test\\_%' ORDER BY 1",
  };
  for (const [key, sql] of Object.entries(queries)) parts[key] = await db.admin(sql);
  // What a new connection starts with (role and database settings, ALTER SYSTEM after a reload).
  const fresh = new pg.Client({ connectionString: db.url });
  fresh.on('error', () => undefined);
  await fresh.connect();
  try {
    parts['fresh_connection'] = (
      await fresh.query(
        "SELECT current_setting('search_path') AS search_path, current_setting('statement_timeout') AS statement_timeout, current_setting('default_transaction_read_only') AS read_only, current_setting('work_mem') AS work_mem",
      )
    ).rows;
  } finally {
    await fresh.end();
  }
  parts['files'] = files.map((file) => [file, existsSync(file)]);
  return JSON.stringify(parts, null, 1);
}
