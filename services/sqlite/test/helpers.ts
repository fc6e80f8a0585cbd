import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { rpc } from '@mcp-sse/testing';
import Database from 'better-sqlite3';

/**
 * A statement that never ends: the recursion has no bound (the outer WHERE does not stop it) and
 * the aggregate keeps everything inside one SQLite step, so only killing its process stops it.
 */
export const ENDLESS_QUERY =
  'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS n FROM c WHERE x < 5e12';

/**
 * A write that never ends: an endless recursive CTE inserting one row every ~15 ms (a correlated
 * count per row keeps it CPU-bound rather than filling the disk). Only killing its process stops
 * it; its rows must then be rolled back.
 */
export function runawayWrite(table: string, column: string): string {
  return (
    `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) INSERT INTO "${table}" ("${column}") ` +
    'SELECT x FROM c WHERE (WITH RECURSIVE k(y) AS (SELECT x UNION ALL SELECT y + 1 FROM k WHERE y < x + 100000) ' +
    'SELECT count(*) FROM k) > 0'
  );
}

/** Polls until `check` holds; fails after `ms`. For liveness bounds, not for timing assertions. */
export async function waitUntil(check: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Process ids of this process's database children (their command line names the entry module and
 * their role). Linux /proc: used where the pool itself is out of reach, as behind a running service.
 */
export function databaseChildPids(role?: 'reader' | 'writer', parent = process.pid): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // stat: "pid (comm) state ppid …"; comm may contain spaces, so split after the last ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parent) continue;
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmdline.includes('worker-entry') && (role === undefined || cmdline.includes(`"role":"${role}"`))) {
        pids.push(Number(name));
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** CPU time a process has used so far, in clock ticks (utime + stime from /proc/<pid>/stat). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * Resolves once `pid` has burnt `ticks` more clock ticks of CPU than `since`: the sign that a
 * statement is running in it (for processes that finished starting up).
 */
export async function waitForCpu(pid: number, since: number, ticks = 10): Promise<void> {
  await waitUntil(() => cpuTicks(pid) >= since + ticks, 10_000, `process ${pid} to run its statement`);
}

/** The resident-memory high-water mark of a process (VmHWM), in bytes; 0 once it is gone. */
export function peakRss(pid: number): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(match?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/**
 * A process's proportional share of resident memory (Pss, /proc/<pid>/smaps_rollup), in bytes; 0
 * once it is gone. Pages shared between processes (the node binary, ~45 MB each) count once in total,
 * as they do against a container's memory limit, where summed VmRSS would count them per process.
 */
export function pssOf(pid: number): number {
  try {
    const match = /^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return Number(match?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** The names in a directory, sorted: what a refused statement must not add to (ATTACH, VACUUM INTO). */
export function filesIn(dir: string): string[] {
  return readdirSync(dir).sort();
}

/**
 * The settings of the connection that runs a query, read through the tool itself (table-valued
 * pragma functions are plain reads): sent with read_only=false it shows the writer's connection,
 * with read_only=true a reader's.
 */
export const SETTINGS_PROBE =
  `SELECT ${[
    'journal_mode',
    'synchronous',
    'foreign_keys',
    'busy_timeout',
    'query_only',
    'cache_size',
    'temp_store',
    'locking_mode',
    'recursive_triggers',
    'defer_foreign_keys',
    'ignore_check_constraints',
    'trusted_schema',
    'writable_schema',
    'soft_heap_limit',
    'hard_heap_limit',
    'max_page_count',
  ]
    .map((name) => `(SELECT * FROM pragma_${name}) AS ${name}`)
    .join(', ')}, (SELECT count(*) FROM pragma_database_list) AS databases, ` +
  '(SELECT count(*) FROM temp.sqlite_schema) AS temp_objects';

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-sqlite-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function stringify(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    typeof inner === 'bigint' ? `${inner}n` : Buffer.isBuffer(inner) ? `blob:${inner.toString('hex')}` : inner,
  );
}

/**
 * Everything the database file holds, read through a separate read-only connection: the schema
 * (sqlite_schema), user_version, and every row of every table (sqlite_sequence included), each
 * table's rows sorted so the dump does not depend on scan order.
 */
export function dumpDatabase(path: string): { text: string; hash: string } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.defaultSafeIntegers(true);
    const schema = db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name').all();
    const tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .all()
      .map((row) => row.name);
    const parts = [
      `schema ${stringify(schema)}`,
      `user_version ${stringify(db.pragma('user_version', { simple: true }))}`,
      `journal_mode ${stringify(db.pragma('journal_mode', { simple: true }))}`,
    ];
    for (const table of tables) {
      const rows = db
        .prepare(`SELECT * FROM "${table.replaceAll('"', '""')}"`)
        .all()
        .map(stringify)
        .sort();
      parts.push(`table ${table} ${rows.join('\n')}`);
    }
    const text = parts.join('\n');
    return { text, hash: createHash('sha256').update(text).digest('hex') };
  } finally {
    db.close();
  }
}

/** What a hostile call must leave exactly as it was. */
export interface ServiceSnapshot {
  /** Every row, the schema, user_version and journal mode of the file. */
  database: string;
  /** The files in the folders around the database (nothing created, nothing copied out). */
  files: Record<string, string[]>;
  /** The settings of the writer's connection and of a reader's, as the next calls will find them. */
  writer: unknown;
  reader: unknown;
  /** The durability settings /health reports. */
  health: unknown;
}

async function probe(url: string, readOnly: boolean | undefined): Promise<unknown> {
  const response = await rpc(url, 'tools/call', {
    name: 'execute_raw_query',
    arguments: { query: SETTINGS_PROBE, ...(readOnly === false && { read_only: false }) },
  });
  const result = (response.body as { result: { isError?: boolean; structuredContent?: { rows?: unknown[] } } }).result;
  if (result.isError) throw new Error(`the settings probe failed: ${JSON.stringify(result)}`);
  return result.structuredContent?.rows?.[0];
}

/**
 * The state of a running service that no refused call may change. `writable` says whether the
 * service has a writer to probe (not in READ_ONLY_MODE).
 */
export async function snapshotService(
  url: string,
  path: string,
  folders: readonly string[],
  writable = true,
): Promise<ServiceSnapshot> {
  const health = (await (await fetch(new URL('/health', url))).json()) as {
    checks: { database: { latency_ms?: number } };
  };
  // The latency differs from one check to the next; the settings must not.
  const { latency_ms: _latency, ...settings } = health.checks.database;
  return {
    database: dumpDatabase(path).text,
    files: Object.fromEntries(folders.map((folder) => [folder, filesIn(folder)])),
    writer: writable ? await probe(url, false) : null,
    reader: await probe(url, true),
    health: settings,
  };
}
