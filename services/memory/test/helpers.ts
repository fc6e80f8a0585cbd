import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-memory-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function stringify(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    typeof inner === 'bigint' ? `${inner}n` : Buffer.isBuffer(inner) ? `blob:${inner.toString('hex')}` : inner,
  );
}

/**
 * Everything the database file holds, read through a separate read-only connection: the schema,
 * user_version, and every row of every ordinary table, each table's rows sorted. Virtual tables
 * (FTS5, vec0) are dumped through their shadow tables, which are ordinary tables holding their data.
 */
export function dumpDatabase(path: string): { text: string; hash: string } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.defaultSafeIntegers(true);
    const schema = db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name').all();
    const tables = db
      .prepare<[], { name: string }>(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name",
      )
      .all()
      .map((row) => row.name);
    const parts = [
      `schema ${stringify(schema)}`,
      `user_version ${stringify(db.pragma('user_version', { simple: true }))}`,
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

/** The env of a test service on a database file, with rate limits off. */
export function serviceEnv(path: string, extra: Record<string, string> = {}): Record<string, string> {
  return { MEMORY_DB_PATH: path, MCP_RATE_LIMIT: '0', MEMORY_QUERY_WORKERS: '2', ...extra };
}
