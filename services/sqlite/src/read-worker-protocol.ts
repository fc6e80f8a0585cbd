/**
 * Messages between the database (main thread) and a read worker. Everything here survives the
 * structured clone: plain objects, strings, numbers, bigints. Classes do not, so an error travels
 * as its code and message and is rebuilt as a DatabaseError on the other side.
 */
import type { DatabaseErrorCode } from './errors.js';
import type { BoundParams, RawLimits, RawResult } from './raw-execute.js';
import type { StatementKind } from './raw-query.js';

/** Given once to each worker, as workerData. */
export interface ReadWorkerData extends RawLimits {
  path: string;
  busyTimeoutMs: number;
}

export interface ReadRequest {
  query: string;
  bound: BoundParams;
  /** Classified on the main thread (refusals of never-allowed kinds happen there, before dispatch). */
  kind: StatementKind;
}

export type ReadReply =
  { ok: true; result: RawResult } | { ok: false; error: { code: DatabaseErrorCode; message: string } };
