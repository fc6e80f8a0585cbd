/**
 * The read worker's entry: opens its own read-only connection (the same settings as the main
 * thread's reader) and runs one read-only query per message, replying in order. Each worker runs
 * one query at a time, so a message is only sent to an idle worker.
 */
import { parentPort, workerData } from 'node:worker_threads';

import type Database from 'better-sqlite3';

import { DatabaseError } from './errors.js';
import { openReader, runReadOnly } from './raw-execute.js';
import type { ReadReply, ReadRequest, ReadWorkerData } from './read-worker-protocol.js';

const settings = workerData as ReadWorkerData;
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

parentPort?.on('message', (request: ReadRequest) => {
  parentPort?.postMessage(handle(request));
});
