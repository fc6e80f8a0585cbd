/**
 * Read-only raw queries in child processes, so that an expensive SELECT never blocks the event
 * loop: other sessions keep being served and the tool's timeout and cancellation answer on time.
 *
 * better-sqlite3 cannot interrupt a running statement, and a worker thread cannot be stopped while
 * SQLite's native loop runs. A process can: on abort the call rejects at once and the child that
 * runs it gets SIGKILL, so the OS stops SQLite mid-statement (its connection is read-only, so
 * nothing is lost) and the CPU is free again. A fresh child is started when a query needs one.
 *
 * At most `workers` children are alive at once. A killed child keeps its slot until its 'exit'
 * event, which follows SIGKILL promptly. When every slot is taken, queries wait in a bounded queue
 * (each still under its caller's signal); beyond the bound they are refused as UNAVAILABLE.
 *
 * Plain domain code: no MCP or server imports.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { DatabaseError } from './errors.js';
import type { RawResult } from './raw-execute.js';
import type { ReadReply, ReadRequest, ReadWorkerData } from './read-worker-protocol.js';

export interface ReadWorkerPoolOptions extends ReadWorkerData {
  /** Most query processes alive at once (SQLITE_QUERY_WORKERS). */
  workers: number;
  /** Most queries waiting for a process; more are refused. */
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
  child: ChildProcess;
  job: Job | undefined;
}

/**
 * Forks the entry next to this module. Production runs dist/*.js: the compiled entry, with no
 * execArgv, so the parent's flags (--cpu-prof, --import, …) are not inherited. vitest and tsx run
 * the TypeScript sources: the child loads the .ts entry through tsx's ESM hooks.
 *
 * The settings travel as JSON in argv; the environment is empty so that secrets of the parent
 * (DATABASE_URL, MCP_API_KEYS, …) and NODE_OPTIONS never reach the child. 'advanced' serialization
 * keeps bigints, typed arrays and Buffers intact, like the structured clone of worker threads.
 */
function startChild(settings: ReadWorkerData): ChildProcess {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(
    new URL(fromSource ? './read-worker-entry.ts' : './read-worker-entry.js', import.meta.url),
  );
  // tsx is a root devDependency: present wherever the sources run. An absolute URL, so the child
  // does not depend on its working directory to find it.
  const execArgv = fromSource ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] : [];
  return fork(entry, [JSON.stringify(settings)], {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv,
    env: {},
  });
}

/** Keeps the parent alive while the child runs a query (its caller waits for the answer), not when idle. */
function holdParent(child: ChildProcess, hold: boolean): void {
  if (hold) {
    child.ref();
    child.channel?.ref();
  } else {
    child.unref();
    child.channel?.unref();
  }
}

export class ReadWorkerPool {
  /** Every live child: idle, busy, or killed and waiting for its 'exit' event. */
  private readonly slots = new Set<Slot>();
  private readonly idle: Slot[] = [];
  private readonly queue: Job[] = [];
  private closed = false;

  constructor(private readonly options: Readonly<ReadWorkerPoolOptions>) {}

  /** Runs one read-only query in a child; rejects with signal.reason as soon as the signal fires. */
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

  /** Kills every child, busy or idle, and refuses what is pending. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const closing = new DatabaseError('UNAVAILABLE', 'The database is closed');
    for (const job of this.queue.splice(0)) this.settle(job, () => job.reject(closing));
    for (const slot of this.slots) {
      const { job } = slot;
      if (job) this.settle(job, () => job.reject(closing));
      this.kill(slot);
    }
  }

  /**
   * Process ids of the live children (killed ones included until their 'exit'), for tests and
   * diagnostics: they prove that an abandoned query's process is really gone.
   */
  pids(): number[] {
    return [...this.slots].flatMap((slot) => (slot.child.pid === undefined ? [] : [slot.child.pid]));
  }

  /** Gives waiting jobs to idle children, starting new ones while slots are free. */
  private pump(): void {
    while (!this.closed && this.queue.length > 0) {
      let slot = this.takeIdle();
      if (!slot && this.slots.size < this.options.workers) {
        try {
          slot = this.spawn();
        } catch (error) {
          // fork() throws on resource exhaustion (EMFILE, EAGAIN): that query fails, the next one retries.
          const job = this.queue.shift();
          if (job)
            this.settle(job, () =>
              job.reject(new DatabaseError('INTERNAL', 'Internal database error', { cause: error })),
            );
          continue;
        }
      }
      if (!slot) return;
      const job = this.queue.shift();
      if (!job) return;
      this.dispatch(slot, job);
    }
  }

  /** An idle child still connected; one whose channel closed is dying and about to free its slot. */
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
      // The child's state is unknown after a failed send: kill it and let a fresh one take over.
      this.settle(job, () => job.reject(new DatabaseError('INTERNAL', 'Internal database error', { cause: error })));
      this.kill(slot);
    };
    try {
      // The callback reports a closed channel; a value that cannot be serialized throws here.
      slot.child.send(job.request, (error) => {
        if (error) failed(error);
      });
    } catch (error) {
      failed(error);
    }
  }

  private spawn(): Slot {
    const { path, busyTimeoutMs, maxQueryResults, readOnlyMode } = this.options;
    const child = startChild({ path, busyTimeoutMs, maxQueryResults, readOnlyMode });
    const slot: Slot = { child, job: undefined };
    this.slots.add(slot);
    child.on('message', (reply: ReadReply) => this.answered(slot, reply));
    child.on('error', (error) => {
      // Spawning, killing or sending failed; an exit, if any, is reported separately.
      const { job } = slot;
      if (job) {
        slot.job = undefined;
        this.settle(job, () => job.reject(new DatabaseError('INTERNAL', 'Internal database error', { cause: error })));
      }
      // A child that never started has no 'exit' to free its slot.
      if (child.pid === undefined) this.exited(slot);
    });
    child.on('exit', () => {
      // Killed on abort or close, or died on its own (crash, OOM, killed from outside).
      const { job } = slot;
      if (job) {
        slot.job = undefined;
        this.settle(job, () => job.reject(new DatabaseError('INTERNAL', 'The query worker stopped unexpectedly')));
      }
      this.exited(slot);
    });
    holdParent(child, false);
    return slot;
  }

  /** Frees a dead child's slot; the next query that needs a child starts a fresh one. */
  private exited(slot: Slot): void {
    if (!this.slots.delete(slot)) return;
    this.removeIdle(slot);
    this.pump();
  }

  private answered(slot: Slot, reply: ReadReply): void {
    const { job } = slot;
    if (!job) return;
    slot.job = undefined;
    this.settle(job, () => {
      if (reply.ok) job.resolve(reply.result);
      else job.reject(new DatabaseError(reply.error.code, reply.error.message));
    });
    holdParent(slot.child, false);
    this.idle.push(slot);
    this.pump();
  }

  /** The caller gave up: answer it now; a running query's child is killed and replaced lazily. */
  private abandon(job: Job): void {
    const reason: unknown = job.signal?.reason;
    const queued = this.queue.indexOf(job);
    if (queued !== -1) this.queue.splice(queued, 1);
    for (const slot of this.slots) {
      if (slot.job === job) this.kill(slot);
    }
    this.settle(job, () => job.reject(reason));
  }

  /**
   * SIGKILL: the only way to stop SQLite mid-statement. The slot stays taken until 'exit', which
   * follows promptly; meanwhile the dead child must not keep the parent alive.
   */
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

  /** Settles a job once, detaching its abort listener. */
  private settle(job: Job, settle: () => void): void {
    job.signal?.removeEventListener('abort', job.onAbort);
    settle();
  }
}
