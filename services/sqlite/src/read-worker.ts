/**
 * Read-only raw queries on worker threads, so that an expensive SELECT never blocks the event
 * loop: other sessions keep being served and the tool's timeout and cancellation answer on time.
 *
 * better-sqlite3 cannot interrupt a running statement. On abort the call rejects at once and its
 * worker is terminated, but the thread only dies when SQLite returns from the statement. So every
 * worker, idle, busy or still dying, takes one of `workers` slots: abandoned statements can never
 * pile up beyond that. When every slot is taken, queries wait in a bounded queue (each still under
 * its caller's signal); beyond the bound they are refused as UNAVAILABLE.
 *
 * Plain domain code: no MCP or server imports.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import { DatabaseError } from './errors.js';
import type { RawResult } from './raw-execute.js';
import type { ReadReply, ReadRequest, ReadWorkerData } from './read-worker-protocol.js';

export interface ReadWorkerPoolOptions extends ReadWorkerData {
  /** Most workers alive at once (SQLITE_QUERY_WORKERS), counting those still dying after an abort. */
  workers: number;
  /** Most queries waiting for a worker; more are refused. */
  maxQueued: number;
}

interface Job {
  request: ReadRequest;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  resolve: (result: RawResult) => void;
  reject: (error: unknown) => void;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
}

/**
 * Starts a worker on the entry next to this module. Production runs dist/*.js: the compiled entry.
 * vitest and tsx run the TypeScript sources: Node 20 does not apply `--import tsx` hooks to a
 * worker's entry, so the worker first installs tsx's require hook, then loads the .ts entry.
 */
function startWorker(workerData: ReadWorkerData): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./read-worker-entry.js', import.meta.url), { workerData });
  }
  // tsx is a root devDependency: present wherever the sources run.
  const tsx = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const entry = fileURLToPath(new URL('./read-worker-entry.ts', import.meta.url));
  const code = `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(entry)});`;
  return new Worker(code, { eval: true, workerData });
}

export class ReadWorkerPool {
  /** Every live worker: idle, busy, or terminated and waiting for its statement to return. */
  private readonly slots = new Set<Slot>();
  private readonly idle: Slot[] = [];
  private readonly queue: Job[] = [];
  private closed = false;

  constructor(private readonly options: Readonly<ReadWorkerPoolOptions>) {}

  /** Runs one read-only query on a worker; rejects with signal.reason as soon as the signal fires. */
  async run(request: ReadRequest, signal?: AbortSignal): Promise<RawResult> {
    if (this.closed) throw new DatabaseError('UNAVAILABLE', 'The database is closed');
    signal?.throwIfAborted();
    if (this.queue.length >= this.options.maxQueued) {
      throw new DatabaseError(
        'UNAVAILABLE',
        `Too many read-only queries at once (${this.options.workers} running, ${this.queue.length} waiting); retry shortly`,
      );
    }
    return new Promise<RawResult>((resolve, reject) => {
      const job: Job = {
        request,
        signal,
        onAbort: () => this.abandon(job),
        resolve,
        reject,
      };
      signal?.addEventListener('abort', job.onAbort, { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  /** Stops every worker and refuses what is pending. Idle workers exit at once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const closing = new DatabaseError('UNAVAILABLE', 'The database is closed');
    for (const job of this.queue.splice(0)) this.settle(job, () => job.reject(closing));
    for (const slot of this.slots) {
      const { job } = slot;
      if (job) this.settle(job, () => job.reject(closing));
      this.retire(slot);
    }
    this.idle.length = 0;
  }

  /** Gives waiting jobs to idle workers, starting new ones while slots are free. */
  private pump(): void {
    while (!this.closed && this.queue.length > 0) {
      const slot = this.idle.pop() ?? (this.slots.size < this.options.workers ? this.spawn() : undefined);
      if (!slot) return;
      const job = this.queue.shift();
      if (!job) return;
      slot.job = job;
      // A busy worker keeps the process alive: its caller is waiting for the answer.
      slot.worker.ref();
      slot.worker.postMessage(job.request);
    }
  }

  private spawn(): Slot {
    const { path, busyTimeoutMs, maxQueryResults, readOnlyMode } = this.options;
    const workerData: ReadWorkerData = { path, busyTimeoutMs, maxQueryResults, readOnlyMode };
    const worker = startWorker(workerData);
    const slot: Slot = { worker, job: undefined };
    this.slots.add(slot);
    worker.on('message', (reply: ReadReply) => this.answered(slot, reply));
    worker.on('error', (error) => {
      const { job } = slot;
      if (job)
        this.settle(job, () => job.reject(new DatabaseError('INTERNAL', 'Internal database error', { cause: error })));
    });
    worker.on('exit', () => {
      // The slot frees only now: a terminated worker still holds its thread until SQLite returns.
      this.slots.delete(slot);
      this.removeIdle(slot);
      const { job } = slot;
      if (job)
        this.settle(job, () => job.reject(new DatabaseError('INTERNAL', 'The query worker stopped unexpectedly')));
      this.pump();
    });
    worker.unref();
    return slot;
  }

  private answered(slot: Slot, reply: ReadReply): void {
    const { job } = slot;
    if (!job) return;
    this.settle(job, () => {
      if (reply.ok) job.resolve(reply.result);
      else job.reject(new DatabaseError(reply.error.code, reply.error.message));
    });
    slot.job = undefined;
    // Idle workers must not keep the process alive.
    slot.worker.unref();
    this.idle.push(slot);
    this.pump();
  }

  /** The caller gave up: answer it now; a running query's worker is terminated and replaced lazily. */
  private abandon(job: Job): void {
    const reason: unknown = job.signal?.reason;
    const queued = this.queue.indexOf(job);
    if (queued !== -1) this.queue.splice(queued, 1);
    for (const slot of this.slots) {
      if (slot.job === job) this.retire(slot);
    }
    this.settle(job, () => job.reject(reason));
  }

  /** Terminates a worker; its slot stays taken until the 'exit' event (see the module comment). */
  private retire(slot: Slot): void {
    slot.job = undefined;
    this.removeIdle(slot);
    slot.worker.unref();
    // terminate() resolves on exit; errors here only mean the worker is already gone.
    slot.worker.terminate().catch(() => undefined);
  }

  private removeIdle(slot: Slot): void {
    const index = this.idle.indexOf(slot);
    if (index !== -1) this.idle.splice(index, 1);
  }

  /** Settles a job once, detaching its abort listener. */
  private settle(job: Job, settle: () => void): void {
    job.signal?.removeEventListener('abort', job.onAbort);
    settle();
  }
}
