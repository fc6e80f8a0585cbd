/**
 * Database processes, so that no SQLite statement ever runs on the service's event loop: other
 * sessions and /health keep being served, and a call's timeout, cancellation or the shutdown answers
 * on time whatever the statement does.
 *
 * better-sqlite3 cannot interrupt a running statement (SQLite's progress handler is compiled out,
 * sqlite3_interrupt is not exposed), and a worker thread cannot be stopped while SQLite's native
 * loop runs. A process can: on abort the call rejects at once and the process that runs it gets
 * SIGKILL, so the OS stops SQLite mid-statement and the CPU is free again. A reader's connection is
 * read-only, so nothing is lost; the writer's open transaction was never committed, so SQLite
 * discards it (the WAL frames of an uncommitted transaction are ignored on the next open). A fresh
 * process is started when a call needs one.
 *
 * At most `workers` processes are alive at once. A killed process keeps its slot until its 'exit'
 * event, which follows SIGKILL promptly. When every slot is taken, calls wait in a bounded queue
 * (each still under its caller's signal); beyond the bound they are refused as UNAVAILABLE.
 *
 * Plain domain code: no MCP or server imports.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

import { childEntry } from '@mcp-sse/core/child-entry';

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

interface Job {
  operation: Operation;
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
 * util-linux's setpriv, where present and working (Debian images have it): the child is started with
 * a parent-death signal (PR_SET_PDEATHSIG = SIGKILL), so that a process stuck in a statement dies
 * with the service even when the service itself is killed hard and never gets to kill it. Checked
 * once, on a trivial command; without it children are started directly.
 */
function pdeathsigLauncher(): string[] {
  for (const path of ['/usr/bin/setpriv', '/bin/setpriv']) {
    if (!existsSync(path)) continue;
    const probe = spawnSync(path, ['--pdeathsig', 'KILL', '--', process.execPath, '--version'], {
      stdio: 'ignore',
      timeout: 5000,
    });
    return probe.status === 0 ? [path, '--pdeathsig', 'KILL', '--'] : [];
  }
  return [];
}

/** Decided when the service loads (its start-up), never during a call. */
const LAUNCHER = pdeathsigLauncher();

/**
 * The JavaScript heap a database process may use, in MB. It holds at most one answer (the byte
 * budget, a few times over as JavaScript objects) and the row being measured; a process past its
 * limit is stopped by V8 itself, which fails only its own call. Without it each process would size
 * its heap from the container's memory as if it were alone there.
 */
export function heapLimitMb(maxResultBytes: number): number {
  return Math.max(64, Math.ceil((16 * maxResultBytes) / 2 ** 20));
}

/**
 * Starts the worker entry next to this module, in the same form (bundle, tsc's files or the .ts
 * sources: `childEntry`), with only the flags it needs, so the parent's (--cpu-prof, --import, …)
 * are not inherited.
 *
 * The settings travel as JSON in argv; the environment is empty so that secrets of the parent
 * (DATABASE_URL, MCP_API_KEYS, …) and NODE_OPTIONS never reach the child. 'advanced' serialization
 * keeps bigints, typed arrays and Buffers intact, like the structured clone of worker threads.
 */
function startChild(settings: WorkerSettings): ChildProcess {
  const entry = childEntry(import.meta.url, 'worker-entry');
  const [command = process.execPath, ...args] = [
    ...LAUNCHER,
    process.execPath,
    // A small young generation: rows are converted one at a time, so little needs to live there.
    `--max-old-space-size=${heapLimitMb(settings.maxResultBytes)}`,
    '--max-semi-space-size=1',
    ...entry.execArgv,
    entry.path,
    JSON.stringify(settings),
  ];
  return spawn(command, args, {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {},
  });
}

/** Keeps the parent alive while the child runs a call (its caller waits for the answer), not when idle. */
function holdParent(child: ChildProcess, hold: boolean): void {
  if (hold) {
    child.ref();
    child.channel?.ref();
  } else {
    child.unref();
    child.channel?.unref();
  }
}

export class WorkerPool {
  /** Every live child: idle, busy, or killed and waiting for its 'exit' event. */
  private readonly slots = new Set<Slot>();
  private readonly idle: Slot[] = [];
  private readonly queue: Job[] = [];
  private closed = false;

  constructor(private readonly options: Readonly<WorkerPoolOptions>) {}

  /** Runs one call in a process; rejects with signal.reason as soon as the signal fires. */
  async run(operation: Operation, signal?: AbortSignal): Promise<unknown> {
    if (this.closed) throw new DatabaseError('UNAVAILABLE', 'The database is closed');
    signal?.throwIfAborted();
    if (this.queue.length >= this.options.maxQueued) {
      throw new DatabaseError(
        'UNAVAILABLE',
        `Too many ${this.options.what} at once (${this.options.workers} running, ${this.queue.length} waiting); retry shortly`,
      );
    }
    return new Promise<unknown>((resolve, reject) => {
      const job: Job = {
        operation,
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
   * diagnostics: they prove that an abandoned call's process is really gone.
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
          // spawn() throws on resource exhaustion (EMFILE, EAGAIN): that call fails, the next one retries.
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
      slot.child.send(job.operation, (error) => {
        if (error) failed(error);
      });
    } catch (error) {
      failed(error);
    }
  }

  private spawn(): Slot {
    const child = startChild(this.options.settings);
    const slot: Slot = { child, job: undefined };
    this.slots.add(slot);
    child.on('message', (reply: Reply) => this.answered(slot, reply));
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
        this.settle(job, () =>
          job.reject(new DatabaseError('INTERNAL', 'The database process stopped unexpectedly (out of memory?)')),
        );
      }
      this.exited(slot);
    });
    holdParent(child, false);
    return slot;
  }

  /** Frees a dead child's slot; the next call that needs a child starts a fresh one. */
  private exited(slot: Slot): void {
    if (!this.slots.delete(slot)) return;
    this.removeIdle(slot);
    this.pump();
  }

  private answered(slot: Slot, reply: Reply): void {
    if (reply.durability) this.options.onDurability?.(reply.durability);
    const { job } = slot;
    if (!job) return;
    slot.job = undefined;
    this.settle(job, () => {
      if (reply.ok) job.resolve(reply.result);
      else job.reject(new DatabaseError(reply.error.code, reply.error.message));
    });
    if (reply.retire) {
      // The call changed its connection for good: this process serves no other call.
      this.kill(slot);
      return;
    }
    holdParent(slot.child, false);
    this.idle.push(slot);
    this.pump();
  }

  /** The caller gave up: answer it now; a running call's child is killed and replaced lazily. */
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
