/**
 * The query process's entry (forked by read-worker.ts): opens its own read-only connection (the
 * same settings as the main process's reader) and runs one read-only query per message, replying in
 * order. Each process runs one query at a time, so a message is only sent to an idle one.
 */
import type Database from 'better-sqlite3';

import { DatabaseError } from './errors.js';
import { openReader, runReadOnly } from './raw-execute.js';
import type { ReadReply, ReadRequest, ReadWorkerData } from './read-worker-protocol.js';

const send = process.send?.bind(process);
if (!send) {
  process.stderr.write('read-worker-entry: must be started by the sqlite service (no IPC channel)\n');
  process.exit(1);
}

// The settings come as JSON in argv rather than the environment, which is kept empty (no secrets).
const settings = JSON.parse(process.argv[2] ?? '{}') as ReadWorkerData;
let reader: Database.Database | undefined;

function handle(request: ReadRequest): ReadReply {
  try {
    // Opened on the first query so that a file problem is answered as that query's error.
    reader ??= openReader(settings.path, settings.busyTimeoutMs);
    return { ok: true, result: runReadOnly(reader, request.query, request.bound, request.kind, settings) };
  } catch (error) {
    if (error instanceof DatabaseError) {
      // An open failure names the file path: fine for the operator's log, not for a client.
      const message =
        error.code === 'UNAVAILABLE' && reader === undefined
          ? 'The database cannot be opened for reading'
          : error.message;
      return { ok: false, error: { code: error.code, message } };
    }
    return { ok: false, error: { code: 'INTERNAL', message: 'Internal database error' } };
  }
}

process.on('message', (request: ReadRequest) => {
  send?.(handle(request));
});

// The parent went away (exited, crashed, or closed the channel): nobody is left to answer. A child
// stuck in a statement only notices once the statement returns, which is why the parent SIGKILLs
// busy children on abort and on close instead of relying on this.
process.on('disconnect', () => process.exit(0));
