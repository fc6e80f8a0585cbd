import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';

/**
 * Seconds of work in one SQLite step (a single aggregate row), so nothing can stop it from
 * JavaScript. Bounded rather than endless: Node joins worker threads at exit, so an abandoned
 * statement must end for the test process to exit.
 */
export const SLOW_QUERY =
  'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000000) SELECT count(*) AS n FROM c';

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
