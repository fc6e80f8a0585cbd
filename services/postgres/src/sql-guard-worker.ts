import { parentPort } from 'node:worker_threads';

import { DatabaseError } from './errors.js';
import { type AccessMode, analyzeStatement, loadSqlParser, type StatementPurpose } from './sql-guard.js';

/** Checks long statements off the event loop (see statement-guard.ts): one request at a time, in order. */
export interface GuardRequest {
  id: number;
  sql: string;
  mode: AccessMode;
  purpose: StatementPurpose;
  allowed: string[];
}

const port = parentPort;
if (port) {
  const ready = loadSqlParser();
  port.on('message', (request: GuardRequest) => {
    void ready.then(() => {
      try {
        const analysis = analyzeStatement(request.sql, request.mode, request.purpose, new Set(request.allowed));
        port.postMessage({ id: request.id, analysis });
      } catch (error) {
        const refusal =
          error instanceof DatabaseError
            ? { code: error.code, message: error.message, sqlstate: error.sqlstate }
            : { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
        port.postMessage({ id: request.id, error: refusal });
      }
    });
  });
}
