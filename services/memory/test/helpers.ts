import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { waitUntil } from '@mcp-sse/testing';
import Database from 'better-sqlite3';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

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

export interface EventStream {
  status: number;
  events(): EventSourceMessage[];
  text(): string;
  waitFor(match: (event: EventSourceMessage) => boolean, what: string, timeoutMs?: number): Promise<EventSourceMessage>;
  waitForText(pattern: RegExp, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** Opens GET /events (or any SSE URL) and parses what arrives with eventsource-parser. */
export function openEventStream(url: string, headers: Record<string, string> = {}): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const events: EventSourceMessage[] = [];
    let text = '';
    const parser = createParser({ onEvent: (event) => events.push(event) });
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        parser.feed(chunk);
      });
      res.on('error', () => undefined);
      resolve({
        status: res.statusCode ?? 0,
        events: () => [...events],
        text: () => text,
        async waitFor(match, what, timeoutMs = 5000) {
          let found: EventSourceMessage | undefined;
          await waitUntil(() => (found = events.find(match)) !== undefined, what, { timeoutMs });
          return found!;
        },
        async waitForText(pattern, timeoutMs = 5000) {
          await waitUntil(() => pattern.test(text), String(pattern), { timeoutMs });
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
    });
    req.end();
  });
}
