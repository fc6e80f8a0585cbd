/**
 * Messages between the service and a query process, over the IPC channel with 'advanced'
 * serialization (typed arrays survive). Errors travel as code and message.
 */
import type { MemoryErrorCode } from './errors.js';
import type { Filters, ListArgs, SearchArgs } from './queries.js';

/** Given once to each query process, as JSON in its argv. */
export interface QueryProcessSettings {
  path: string;
  busyTimeoutMs: number;
}

export type QueryRequest =
  | { op: 'list'; args: ListArgs }
  | { op: 'search'; args: SearchArgs }
  | { op: 'tags'; args: { limit: number; maxBytes: number } }
  | { op: 'stats'; args: Record<string, never> }
  | { op: 'warm'; args: Record<string, never> }
  | { op: 'matching'; args: { filters: Filters; sample: number } };

export type QueryReply =
  { ok: true; result: unknown } | { ok: false; error: { code: MemoryErrorCode; message: string } };
