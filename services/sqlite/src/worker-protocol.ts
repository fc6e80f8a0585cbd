/**
 * Messages between the service (the main process) and a database process, over the IPC channel with
 * 'advanced' serialization (V8's serializer, as structured clone): plain objects, strings, numbers,
 * bigints, Buffers. Classes do not survive, so an error travels as its code and message and is
 * rebuilt as a DatabaseError on the other side. A reply is bounded by the byte budget: the process
 * stops reading rows at MCP_MAX_RESULT_BYTES, so no more than that crosses the boundary.
 */
import type { DurabilitySettings } from './connection.js';
import type { EngineOptions, QueryOptions } from './engine.js';
import type { DatabaseErrorCode } from './errors.js';
import type { BoundParams } from './raw-execute.js';

/** Given once to each database process, as JSON in its argv. */
export type WorkerSettings = EngineOptions;

/** One call, as the engine's methods take it. */
export type Operation =
  | { op: 'listTables' }
  | { op: 'describeTable'; table: string }
  | { op: 'queryRecords'; table: string; options: QueryOptions }
  | { op: 'createTable'; table: string; schema: Record<string, string>; primaryKey?: string | string[] }
  | { op: 'insertRecord'; table: string; data: Record<string, unknown> }
  | { op: 'updateRecords'; table: string; filters: Record<string, unknown>; data: Record<string, unknown> }
  | { op: 'deleteRecords'; table: string; filters: Record<string, unknown> }
  | { op: 'executeRaw'; query: string; bound: BoundParams; readOnly: boolean };

interface ReplyBase {
  /** The call changed the connection for good: the process must be replaced before the next call. */
  retire: boolean;
  /** The connection's durability settings after the call (once its connection is open). */
  durability?: DurabilitySettings;
}

export type Reply = ReplyBase &
  ({ ok: true; result: unknown } | { ok: false; error: { code: DatabaseErrorCode; message: string } });
