/**
 * Database processes, so that no SQLite statement ever runs on the service's event loop: other
 * sessions and /health keep being served, and a call's timeout, cancellation or the shutdown answers
 * on time whatever the statement does.
 *
 * better-sqlite3 cannot interrupt a running statement (SQLite's progress handler is compiled out,
 * sqlite3_interrupt is not exposed), and a worker thread cannot be stopped while SQLite's native
 * loop runs. A process can: on abort the call rejects at once and the process that runs it gets
 * SIGKILL (the core's ProcessPool), so the OS stops SQLite mid-statement and the CPU is free again.
 * A reader's connection is read-only, so nothing is lost; the writer's open transaction was never
 * committed, so SQLite discards it (the WAL frames of an uncommitted transaction are ignored on the
 * next open). A fresh process is started when a call needs one.
 *
 * Plain domain code: no MCP or server imports.
 */
import { childEntry } from '@mcp-sse/core/child-entry';
import { ProcessPool, startChild } from '@mcp-sse/core/process-pool';

import type { DurabilitySettings } from './connection.js';
import { DatabaseError } from './errors.js';
import type { Operation, Reply, WorkerSettings } from './worker-protocol.js';

export interface WorkerPoolOptions {
  settings: WorkerSettings;
  /** Most processes alive at once (SQLITE_QUERY_WORKERS for readers, 1 for the writer). */
  workers: number;
  /** Most calls waiting for a process; more are refused. */
  maxQueued: number;
  /** What the calls are, for the refusal when the queue is full ("reads", "writes"). */
  what: string;
  /** Told the write connection's settings after each call (the writer reports them). */
  onDurability?: (durability: DurabilitySettings) => void;
}

/**
 * The JavaScript heap a database process may use, in MB. It holds at most one answer (the byte
 * budget, a few times over as JavaScript objects) and the row being measured; a process past its
 * limit is stopped by V8 itself, which fails only its own call. Without it each process would size
 * its heap from the container's memory as if it were alone there.
 */
export function heapLimitMb(maxResultBytes: number): number {
  return Math.max(64, Math.ceil((16 * maxResultBytes) / 2 ** 20));
}

export class WorkerPool extends ProcessPool<Operation, Reply> {
  constructor(options: Readonly<WorkerPoolOptions>) {
    const entry = childEntry(import.meta.url, 'worker-entry');
    super({
      start: () =>
        startChild({
          entry,
          nodeFlags: [
            `--max-old-space-size=${heapLimitMb(options.settings.maxResultBytes)}`,
            // A small young generation: rows are converted one at a time, so little needs to live there.
            '--max-semi-space-size=1',
          ],
          args: [JSON.stringify(options.settings)],
        }),
      workers: options.workers,
      maxQueued: options.maxQueued,
      what: options.what,
      outcome: (reply) => {
        if (reply.durability) options.onDurability?.(reply.durability);
        return reply.ok
          ? { ok: true, result: reply.result, retire: reply.retire }
          : { ok: false, error: new DatabaseError(reply.error.code, reply.error.message), retire: reply.retire };
      },
      errors: {
        closed: () => new DatabaseError('UNAVAILABLE', 'The database is closed'),
        full: (message) => new DatabaseError('UNAVAILABLE', message),
        failed: (cause) => new DatabaseError('INTERNAL', 'Internal database error', { cause }),
        died: () => new DatabaseError('INTERNAL', 'The database process stopped unexpectedly (out of memory?)'),
      },
    });
  }
}
