/**
 * Reads in child processes (the shape of services/sqlite's ReadWorkerPool): searches, lists, tag
 * counts and stats run there, so the event loop of the service stays free whatever the size of
 * the database, and an abandoned read (timeout, cancellation, disconnect) is stopped by SIGKILL,
 * the only way to stop SQLite mid-statement. At most `workers` children live at once; further
 * requests wait in a bounded queue, beyond which they are refused (UNAVAILABLE).
 *
 * Plain domain code: no MCP or server imports.
 */
import { type ChildProcess, fork } from 'node:child_process';

import { childEntry } from '@mcp-sse/core/child-entry';

import { MemoryError } from './errors.js';
import type { QueryProcessSettings, QueryReply, QueryRequest } from './query-protocol.js';

export interface QueryPoolOptions extends QueryProcessSettings {
  workers: number;
  maxQueued: number;
}

interface Job {
  request: QueryRequest;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

interface Slot {
  child: ChildProcess;
  job: Job | undefined;
}

/**
 * Forks the query entry beside this module, in the same form (bundle, tsc's files or the .ts
 * sources: `childEntry`). The environment is empty, so no secret of the parent (API keys, the
 * embeddings key) reaches the child; the settings travel as JSON in argv.
 */
function startChild(settings: QueryProcessSettings): ChildProcess {
  const entry = childEntry(import.meta.url, 'query-entry');
  return fork(entry.path, [JSON.stringify(settings)], {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [...entry.execArgv],
    env: {},
  });
}

function holdParent(child: ChildProcess, hold: boolean): void {
  if (hold) {
    child.ref();
    child.channel?.ref();
  } else {
    child.unref();
    child.channel?.unref();
  }
}

export class QueryPool {
  private readonly slots = new Set<Slot>();
  private readonly idle: Slot[] = [];
  private readonly queue: Job[] = [];
  private closed = false;
  private warmed = false;
  private started = false;

  constructor(private readonly options: Readonly<QueryPoolOptions>) {}

  /**
   * Starts every child and has each load the binary codes, so that the searches that follow do not
   * pay for it; once per pool. Failures are left for the next real request to report.
   */
  warm(): void {
    if (this.warmed || this.closed) return;
    this.warmed = true;
    for (let i = 0; i < this.options.workers; i++) this.run({ op: 'warm', args: {} }).catch(() => undefined);
  }

  async run<T>(request: QueryRequest, signal?: AbortSignal): Promise<T> {
    if (this.closed) throw new MemoryError('UNAVAILABLE', 'The memory database is closed');
    signal?.throwIfAborted();
    if (this.queue.length >= this.options.maxQueued) {
      throw new MemoryError(
        'UNAVAILABLE',
        `Too many reads at once (${this.options.workers} running, ${this.queue.length} waiting); retry shortly`,
      );
    }
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        request,
        signal,
        onAbort: () => this.abandon(job),
        resolve: resolve as (result: unknown) => void,
        reject,
      };
      signal?.addEventListener('abort', job.onAbort, { once: true });
      this.queue.push(job);
      this.pump();
      this.startIdle();
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const closing = new MemoryError('UNAVAILABLE', 'The memory database is closed');
    for (const job of this.queue.splice(0)) this.settle(job, () => job.reject(closing));
    for (const slot of this.slots) {
      const { job } = slot;
      if (job) this.settle(job, () => job.reject(closing));
      this.kill(slot);
    }
  }

  /** Process ids of the live children, for tests that prove an abandoned read's process is gone. */
  pids(): number[] {
    return [...this.slots].flatMap((slot) => (slot.child.pid === undefined ? [] : [slot.child.pid]));
  }

  private pump(): void {
    while (!this.closed && this.queue.length > 0) {
      let slot = this.takeIdle();
      if (!slot && this.slots.size < this.options.workers) {
        try {
          slot = this.spawn();
        } catch (error) {
          const job = this.queue.shift();
          if (job)
            this.settle(job, () => job.reject(new MemoryError('INTERNAL', 'Internal memory error', { cause: error })));
          continue;
        }
      }
      if (!slot) return;
      const job = this.queue.shift();
      if (!job) return;
      this.dispatch(slot, job);
    }
  }

  /**
   * No child runs until the first read (an idle service holds only its own process); that read
   * starts the others too, idle, so that the reads after it do not each wait for a process to start.
   */
  private startIdle(): void {
    if (this.started || this.closed) return;
    this.started = true;
    try {
      while (this.slots.size < this.options.workers) this.idle.push(this.spawn());
    } catch {
      // Left for the next read, which starts a child of its own and reports what fails.
    }
  }

  private takeIdle(): Slot | undefined {
    let slot = this.idle.pop();
    while (slot && !slot.child.connected) slot = this.idle.pop();
    return slot;
  }

  private dispatch(slot: Slot, job: Job): void {
    slot.job = job;
    holdParent(slot.child, true);
    const failed = (error: unknown) => {
      if (slot.job !== job) return;
      this.settle(job, () => job.reject(new MemoryError('INTERNAL', 'Internal memory error', { cause: error })));
      this.kill(slot);
    };
    try {
      slot.child.send(job.request, (error) => {
        if (error) failed(error);
      });
    } catch (error) {
      failed(error);
    }
  }

  private spawn(): Slot {
    const child = startChild({ path: this.options.path, busyTimeoutMs: this.options.busyTimeoutMs });
    const slot: Slot = { child, job: undefined };
    this.slots.add(slot);
    child.on('message', (reply: QueryReply) => this.answered(slot, reply));
    child.on('error', (error) => {
      const { job } = slot;
      if (job) {
        slot.job = undefined;
        this.settle(job, () => job.reject(new MemoryError('INTERNAL', 'Internal memory error', { cause: error })));
      }
      if (child.pid === undefined) this.exited(slot);
    });
    child.on('exit', () => {
      const { job } = slot;
      if (job) {
        slot.job = undefined;
        this.settle(job, () => job.reject(new MemoryError('INTERNAL', 'The query process stopped unexpectedly')));
      }
      this.exited(slot);
    });
    holdParent(child, false);
    return slot;
  }

  private exited(slot: Slot): void {
    if (!this.slots.delete(slot)) return;
    this.removeIdle(slot);
    this.pump();
  }

  private answered(slot: Slot, reply: QueryReply): void {
    const { job } = slot;
    if (!job) return;
    slot.job = undefined;
    this.settle(job, () => {
      if (reply.ok) job.resolve(reply.result);
      else job.reject(new MemoryError(reply.error.code, reply.error.message));
    });
    holdParent(slot.child, false);
    this.idle.push(slot);
    this.pump();
  }

  private abandon(job: Job): void {
    const reason: unknown = job.signal?.reason;
    const queued = this.queue.indexOf(job);
    if (queued !== -1) this.queue.splice(queued, 1);
    for (const slot of this.slots) {
      if (slot.job === job) this.kill(slot);
    }
    this.settle(job, () => job.reject(reason));
  }

  private kill(slot: Slot): void {
    slot.job = undefined;
    this.removeIdle(slot);
    holdParent(slot.child, false);
    slot.child.kill('SIGKILL');
  }

  private removeIdle(slot: Slot): void {
    const index = this.idle.indexOf(slot);
    if (index !== -1) this.idle.splice(index, 1);
  }

  private settle(job: Job, settle: () => void): void {
    job.signal?.removeEventListener('abort', job.onAbort);
    settle();
  }
}
