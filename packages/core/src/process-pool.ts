/**
 * Calls that run in child processes, so that a call which can block (a SQLite statement, a scan of a
 * million vectors) never runs on the service's event loop, and one that is abandoned (timeout,
 * cancellation, disconnect, shutdown) is stopped for real: its process gets SIGKILL, the only way to
 * stop native code mid-statement, and the call rejects at once with its signal's reason. A fresh
 * process is started when a call needs one. sqlite's database processes and memory's query
 * processes are both this pool.
 *
 * At most `workers` processes are alive at once. A killed process keeps its slot until its 'exit'
 * event, which follows SIGKILL promptly. When every slot is taken, calls wait in a bounded queue
 * (each still under its caller's signal); beyond the bound they are refused.
 *
 * No MCP or server imports: plain domain code uses it through the `@mcp-sse/core/process-pool`
 * subpath, without loading the core.
 */
import { type ChildProcess, type Serializable, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

import type { ChildEntry } from './child-entry.js';

/**
 * util-linux's setpriv, where present and working (Debian images have it): the child is started with
 * a parent-death signal (PR_SET_PDEATHSIG = SIGKILL), so that a process stuck in a call dies with
 * the service even when the service itself is killed hard and never gets to kill it. Checked once,
 * on a trivial command; without it children are started directly.
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

/** Decided when the service loads this module (its start-up, about 4 ms), never during a call. */
const LAUNCHER = pdeathsigLauncher();

/** Whether children get a parent-death signal on this machine (setpriv works here). */
export const diesWithParent = LAUNCHER.length > 0;

export interface ChildStart {
  /** The entry file, as `childEntry` names it (bundle, tsc's output or the .ts sources). */
  entry: ChildEntry;
  /** Node flags before the entry (heap limits); the parent's own flags are never inherited. */
  nodeFlags?: readonly string[];
  /** Arguments after the entry: the child's settings, as JSON. */
  args?: readonly string[];
}

/**
 * Starts a child with an IPC channel, with only the flags it needs (not the parent's --cpu-prof,
 * --import, …) and an empty environment, so that the parent's secrets (DATABASE_URL, API keys) and
 * NODE_OPTIONS never reach it: settings travel in argv. 'advanced' serialization keeps bigints, typed
 * arrays and Buffers intact, like the structured clone of worker threads.
 */
export function startChild(start: ChildStart): ChildProcess {
  const [command = process.execPath, ...args] = [
    ...LAUNCHER,
    process.execPath,
    ...(start.nodeFlags ?? []),
    ...start.entry.execArgv,
    start.entry.path,
    ...(start.args ?? []),
  ];
  return spawn(command, args, {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {},
  });
}

/** The errors a pool's calls fail with: the service's own error type and wording. */
export interface PoolErrors {
  /** The pool is closed: a call made after close(), or still pending at it. */
  closed: () => Error;
  /** The queue is full; `message` says how many calls run and wait. */
  full: (message: string) => Error;
  /** Starting a child, or sending it the call, failed. */
  failed: (cause: unknown) => Error;
  /** The child running the call exited on its own (crash, out of memory, killed from outside). */
  died: () => Error;
}

/** What a child's reply means for its call; `retire`: the call changed the child, which serves no other. */
export type ReplyOutcome = ({ ok: true; result: unknown } | { ok: false; error: Error }) & { retire?: boolean };

export interface ProcessPoolOptions<Reply> {
  /** Starts one child (`startChild`). */
  start: () => ChildProcess;
  /** Most processes alive at once. */
  workers: number;
  /** Most calls waiting for a process; more are refused. */
  maxQueued: number;
  /** What the calls are, for the refusal when the queue is full ("reads", "writes"). */
  what: string;
  /** Reads a reply; called for every reply, also one whose caller has gone. */
  outcome: (reply: Reply) => ReplyOutcome;
  errors: PoolErrors;
  /**
   * Start every child with the first call (the others idle, ready for the calls after it) instead
   * of one per call as calls need them. No child runs before the first call either way.
   */
  startAllWithFirstCall?: boolean;
}

interface Job<Request extends Serializable> {
  request: Request;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

interface Slot<Request extends Serializable> {
  child: ChildProcess;
  job: Job<Request> | undefined;
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

export class ProcessPool<Request extends Serializable, Reply> {
  /** Every live child: idle, busy, or killed and waiting for its 'exit' event. */
  private readonly slots = new Set<Slot<Request>>();
  private readonly idle: Slot<Request>[] = [];
  private readonly queue: Job<Request>[] = [];
  private closed = false;
  private called = false;

  constructor(private readonly options: Readonly<ProcessPoolOptions<Reply>>) {}

  /** Runs one call in a process; rejects with signal.reason as soon as the signal fires. */
  async run<T = unknown>(request: Request, signal?: AbortSignal): Promise<T> {
    if (this.closed) throw this.options.errors.closed();
    signal?.throwIfAborted();
    if (this.queue.length >= this.options.maxQueued) {
      throw this.options.errors.full(
        `Too many ${this.options.what} at once (${this.options.workers} running, ${this.queue.length} waiting); retry shortly`,
      );
    }
    return new Promise<T>((resolve, reject) => {
      const job: Job<Request> = {
        request,
        signal,
        onAbort: () => this.abandon(job),
        resolve: resolve as (result: unknown) => void,
        reject,
      };
      signal?.addEventListener('abort', job.onAbort, { once: true });
      this.queue.push(job);
      this.pump();
      if (!this.called) {
        this.called = true;
        if (this.options.startAllWithFirstCall) this.startIdle();
      }
    });
  }

  /** Kills every child, busy or idle, and refuses what is pending. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const closing = this.options.errors.closed();
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

  /** Starts children, idle, up to `workers`; one that fails to start is left for a later call. */
  private startIdle(): void {
    try {
      while (!this.closed && this.slots.size < this.options.workers) this.idle.push(this.spawn());
    } catch {
      // spawn() throws on resource exhaustion: the next call that needs a child starts one and reports it.
    }
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
          if (job) this.settle(job, () => job.reject(this.options.errors.failed(error)));
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
  private takeIdle(): Slot<Request> | undefined {
    let slot = this.idle.pop();
    while (slot && !slot.child.connected) slot = this.idle.pop();
    return slot;
  }

  private dispatch(slot: Slot<Request>, job: Job<Request>): void {
    slot.job = job;
    holdParent(slot.child, true);
    const failed = (error: unknown) => {
      if (slot.job !== job) return;
      // The child's state is unknown after a failed send: kill it and let a fresh one take over.
      this.settle(job, () => job.reject(this.options.errors.failed(error)));
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

  private spawn(): Slot<Request> {
    const child = this.options.start();
    const slot: Slot<Request> = { child, job: undefined };
    this.slots.add(slot);
    child.on('message', (reply: Reply) => this.answered(slot, reply));
    child.on('error', (error) => {
      // Spawning, killing or sending failed; an exit, if any, is reported separately.
      const { job } = slot;
      if (job) {
        slot.job = undefined;
        this.settle(job, () => job.reject(this.options.errors.failed(error)));
      }
      // A child that never started has no 'exit' to free its slot.
      if (child.pid === undefined) this.exited(slot);
    });
    child.on('exit', () => {
      // Killed on abort or close, or died on its own (crash, OOM, killed from outside).
      const { job } = slot;
      if (job) {
        slot.job = undefined;
        this.settle(job, () => job.reject(this.options.errors.died()));
      }
      this.exited(slot);
    });
    holdParent(child, false);
    return slot;
  }

  /** Frees a dead child's slot; the next call that needs a child starts a fresh one. */
  private exited(slot: Slot<Request>): void {
    if (!this.slots.delete(slot)) return;
    this.removeIdle(slot);
    this.pump();
  }

  private answered(slot: Slot<Request>, reply: Reply): void {
    const outcome = this.options.outcome(reply);
    const { job } = slot;
    if (!job) return;
    slot.job = undefined;
    this.settle(job, () => (outcome.ok ? job.resolve(outcome.result) : job.reject(outcome.error)));
    if (outcome.retire) {
      this.kill(slot);
      return;
    }
    holdParent(slot.child, false);
    this.idle.push(slot);
    this.pump();
  }

  /** The caller gave up: answer it now; a running call's child is killed and replaced lazily. */
  private abandon(job: Job<Request>): void {
    const reason: unknown = job.signal?.reason;
    const queued = this.queue.indexOf(job);
    if (queued !== -1) this.queue.splice(queued, 1);
    for (const slot of this.slots) {
      if (slot.job === job) this.kill(slot);
    }
    this.settle(job, () => job.reject(reason));
  }

  /**
   * SIGKILL: the only way to stop native code mid-statement. The slot stays taken until 'exit',
   * which follows promptly; meanwhile the dead child must not keep the parent alive.
   */
  private kill(slot: Slot<Request>): void {
    slot.job = undefined;
    this.removeIdle(slot);
    holdParent(slot.child, false);
    slot.child.kill('SIGKILL');
  }

  private removeIdle(slot: Slot<Request>): void {
    const index = this.idle.indexOf(slot);
    if (index !== -1) this.idle.splice(index, 1);
  }

  /** Settles a job once, detaching its abort listener. */
  private settle(job: Job<Request>, settle: () => void): void {
    job.signal?.removeEventListener('abort', job.onAbort);
    settle();
  }
}
