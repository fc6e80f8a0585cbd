/**
 * A database process's entry (forked by worker-pool.ts): one SqliteEngine on one connection, a
 * reader (read-only connection) or the writer (the write connection), running one call per message
 * and replying in order. Each process runs one call at a time, so a message is only sent to an idle
 * one; the parent stops a call that runs too long by killing the process.
 */
import { writeFileSync } from 'node:fs';

import { SqliteEngine } from './engine.js';
import { DatabaseError, type DatabaseErrorCode } from './errors.js';
import type { Operation, Reply, WorkerSettings } from './worker-protocol.js';

const send = process.send?.bind(process);
if (!send) {
  process.stderr.write('worker-entry: must be started by the sqlite service (no IPC channel)\n');
  process.exit(1);
}

// Under memory pressure (a query that materializes a huge value), the kernel's OOM killer picks this
// process before the service itself, which then answers the call as failed and starts a new one.
try {
  writeFileSync('/proc/self/oom_score_adj', '1000');
} catch {
  // Not Linux, or /proc is not writable: the default OOM ranking applies.
}

// The settings come as JSON in argv rather than the environment, which is kept empty (no secrets).
const settings = JSON.parse(process.argv[2] ?? '{}') as WorkerSettings;
const engine = new SqliteEngine(settings);

function perform(operation: Operation): unknown {
  switch (operation.op) {
    case 'listTables':
      return engine.listTables();
    case 'describeTable':
      return engine.describeTable(operation.table);
    case 'queryRecords':
      return engine.queryRecords(operation.table, operation.options);
    case 'createTable':
      return engine.createTable(operation.table, operation.schema, operation.primaryKey);
    case 'insertRecord':
      return engine.insertRecord(operation.table, operation.data);
    case 'updateRecords':
      return engine.updateRecords(operation.table, operation.filters, operation.data);
    case 'deleteRecords':
      return engine.deleteRecords(operation.table, operation.filters);
    case 'executeRaw':
      return engine.executeRaw(operation.query, operation.bound, operation.readOnly);
  }
}

function handle(operation: Operation): Reply {
  let reply: Reply;
  try {
    reply = { ok: true, result: perform(operation), retire: engine.retired };
  } catch (error) {
    let failure: { code: DatabaseErrorCode; message: string };
    if (error instanceof DatabaseError) {
      // An open failure names the file path: fine for the operator's log, not for a client.
      const opening = error.code === 'UNAVAILABLE' && error.message.startsWith('Cannot open');
      failure = { code: error.code, message: opening ? 'The database cannot be opened' : error.message };
      if (opening || error.code === 'INTERNAL') process.stderr.write(`sqlite ${settings.role}: ${error.message}\n`);
    } else {
      failure = { code: 'INTERNAL', message: 'Internal database error' };
      process.stderr.write(
        `sqlite ${settings.role}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    reply = { ok: false, error: failure, retire: engine.retired };
  }
  // A retired writer's connection is being replaced: its changed settings are not the service's.
  if (settings.role === 'writer' && !engine.retired) {
    try {
      reply.durability = engine.durability();
    } catch {
      // The connection could not be opened: the reply already says so.
    }
  }
  return reply;
}

process.on('message', (operation: Operation) => {
  send?.(handle(operation));
});

// The parent went away (exited, crashed, or closed the channel): nobody is left to answer. A process
// stuck in a statement only notices once the statement returns, which is why the parent kills busy
// processes on abort and on close, and starts them with a parent-death signal where it can.
process.on('disconnect', () => {
  engine.close();
  process.exit(0);
});
