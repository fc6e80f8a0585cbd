/**
 * Messages between the database (the main process) and a query process, over the IPC channel with
 * 'advanced' serialization (V8's serializer, as structured clone): plain objects, strings, numbers,
 * bigints, Buffers. Classes do not survive, so an error travels as its code and message and is
 * rebuilt as a DatabaseError on the other side.
 */
import type { DatabaseErrorCode } from './errors.js';
import type { BoundParams, RawLimits, RawResult } from './raw-execute.js';
import type { StatementKind } from './raw-query.js';

/** Given once to each query process, as JSON in its argv. */
export interface ReadWorkerData extends RawLimits {
  path: string;
  busyTimeoutMs: number;
}

export interface ReadRequest {
  query: string;
  bound: BoundParams;
  /** Classified in the main process (refusals of never-allowed kinds happen there, before dispatch). */
  kind: StatementKind;
}

export type ReadReply =
  { ok: true; result: RawResult } | { ok: false; error: { code: DatabaseErrorCode; message: string } };
