/**
 * Child process for the durability test: opens the database exactly as the service does
 * (openDatabase with the service's settings) and writes as fast as it can, printing `ack <seq>`
 * only after each write call has returned, i.e. after the commit the tools would acknowledge.
 * The parent kills it with SIGKILL mid-stream.
 */
import { openDatabase } from '../src/database.js';

const db = openDatabase({
  DATABASE_PATH: process.env['DATABASE_PATH'] ?? '',
  READ_ONLY_MODE: false,
  SQLITE_BUSY_TIMEOUT_MS: 5000,
  MAX_QUERY_RESULTS: 1000,
});
if (db.listTables().length === 0) {
  db.createTable('events', { seq: 'INTEGER PRIMARY KEY', payload: 'TEXT NOT NULL' });
  db.createTable('counter', { id: 'INTEGER PRIMARY KEY', value: 'INTEGER NOT NULL' });
  db.insertRecord('counter', { id: 1, value: 0 });
}
const last = db.queryRecords('events', { orderBy: '-seq', limit: 1 }).rows[0]?.['seq'];
const first = typeof last === 'number' ? last + 1 : 0;

for (let seq = first; ; seq++) {
  db.insertRecord('events', { seq, payload: `event ${seq} `.repeat(20) });
  db.updateRecords('counter', { id: 1 }, { value: seq + 1 });
  // Synchronous write to the pipe: the ack leaves only after both commits returned.
  process.stdout.write(`ack ${seq}\n`);
  if (seq % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
}
