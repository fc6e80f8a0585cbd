import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';

/**
 * A statement that never ends: the recursion has no bound (the outer WHERE does not stop it) and
 * the aggregate keeps everything inside one SQLite step, so only killing its process stops it.
 */
export const ENDLESS_QUERY =
  'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS n FROM c WHERE x < 5e12';

/** Whether a process exists (signal 0 only checks); ESRCH means it is gone, and reaped. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
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
 * Process ids of this process's query children (their command line names the entry module).
 * Linux /proc: used where the pool itself is out of reach, as behind a running service.
 */
export function queryChildPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // stat: "pid (comm) state ppid …"; comm may contain spaces, so split after the last ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmdline.includes('read-worker-entry')) pids.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

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
