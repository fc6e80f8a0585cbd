/**
 * Child process for the durability test: runs the engine exactly as the writer process does (the
 * write connection, one IMMEDIATE transaction per call) and writes as fast as it can, printing
 * `ack <seq>` only after each write call has returned, i.e. after the commit the tools would
 * acknowledge. The parent kills it with SIGKILL mid-stream.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import { SqliteEngine } from '../src/engine.js';

const path = process.env['DATABASE_PATH'] ?? '';
// The service creates the folder at start, before any database process opens the file.
mkdirSync(dirname(path), { recursive: true });
const engine = new SqliteEngine({
  path,
  role: 'writer',
  busyTimeoutMs: 5000,
  maxQueryResults: 1000,
  maxResultBytes: 4 * 1024 * 1024,
  readOnlyMode: false,
});
if (engine.listTables().tables.length === 0) {
  engine.createTable('events', { seq: 'INTEGER PRIMARY KEY', payload: 'TEXT NOT NULL' });
  engine.createTable('counter', { id: 'INTEGER PRIMARY KEY', value: 'INTEGER NOT NULL' });
  engine.insertRecord('counter', { id: 1, value: 0 });
}
const last = engine.queryRecords('events', { orderBy: '-seq', limit: 1 }).rows[0]?.['seq'];
const first = typeof last === 'number' ? last + 1 : 0;

for (let seq = first; ; seq++) {
  engine.insertRecord('events', { seq, payload: `event ${seq} `.repeat(20) });
  engine.updateRecords('counter', { id: 1 }, { value: seq + 1 });
  // Synchronous write to the pipe: the ack leaves only after both commits returned.
  process.stdout.write(`ack ${seq}\n`);
  if (seq % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
}
