/**
 * The core's process pool (sqlite's database processes, memory's query processes): calls run in
 * children started with only what they need; an abandoned call's child is killed even while its
 * event loop is held, and the next call gets a fresh one; the queue is bounded; close() refuses what
 * waits; a child that dies fails its call only; a retiring child serves no other call; and a child
 * dies with a parent killed hard. The child is a fixture that answers, fails, spins or exits.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';

import { diesWithParent, ProcessPool, type ProcessPoolOptions, startChild } from '../src/process-pool.js';

const childPath = fileURLToPath(new URL('./fixtures/pool-child.mjs', import.meta.url));
const parentPath = fileURLToPath(new URL('./fixtures/pool-parent.ts', import.meta.url));

type Request =
  { kind: 'echo'; value: unknown } | { kind: 'fail'; message: string } | { kind: 'retire' | 'spin' | 'exit' };
type Reply = ({ ok: true; result: unknown } | { ok: false; message: string }) & { retire?: boolean };
interface Echo {
  value: unknown;
  pid: number;
  argv: string[];
  execArgv: string[];
  env: string[];
}

class TestError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

const pools: ProcessPool<Request, Reply>[] = [];
afterEach(() => {
  for (const pool of pools.splice(0)) pool.close();
});

function pool(options: Partial<ProcessPoolOptions<Reply>> = {}): ProcessPool<Request, Reply> {
  const created = new ProcessPool<Request, Reply>({
    start: () =>
      startChild({
        entry: { path: childPath, execArgv: [] },
        nodeFlags: ['--max-semi-space-size=1'],
        args: ['{"setting":1}'],
      }),
    workers: 2,
    maxQueued: 4,
    what: 'calls',
    outcome: (reply) =>
      reply.ok
        ? { ok: true, result: reply.result, retire: reply.retire ?? false }
        : { ok: false, error: new TestError('refused', reply.message) },
    errors: {
      closed: () => new TestError('closed', 'The pool is closed'),
      full: (message) => new TestError('full', message),
      failed: () => new TestError('failed', 'A child could not take the call'),
      died: () => new TestError('died', 'The child stopped unexpectedly'),
    },
    ...options,
  });
  pools.push(created);
  return created;
}

/** CPU time (clock ticks) a process has used so far: it grows while the process spins. */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

// @mcp-sse/testing's isAlive is out of reach here: the testing package depends on the core.
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('ProcessPool', () => {
  it('runs a call in a child that has its settings in argv, only the flags given, and an empty environment', async () => {
    const echo = await pool().run<Echo>({
      kind: 'echo',
      value: { big: 12345678901234567890n, bytes: new Uint8Array([104, 105]) },
    });
    // 'advanced' serialization: bigints and typed arrays cross intact.
    expect(echo.value).toEqual({ big: 12345678901234567890n, bytes: new Uint8Array([104, 105]) });
    expect(echo.argv).toEqual(['{"setting":1}']);
    expect(echo.execArgv).toEqual(['--max-semi-space-size=1']);
    // None of the parent's variables (node takes its own IPC variables out of process.env at start).
    expect(echo.env).toEqual([]);
    expect(echo.pid).not.toBe(process.pid);
  });

  it('starts no child before the first call, then one per call that needs one, or all of them with the first when asked', async () => {
    const lazy = pool({ workers: 3 });
    expect(lazy.pids()).toEqual([]);
    await lazy.run({ kind: 'echo', value: 1 });
    expect(lazy.pids()).toHaveLength(1);

    const eager = pool({ workers: 3, startAllWithFirstCall: true });
    expect(eager.pids()).toEqual([]);
    await eager.run({ kind: 'echo', value: 1 });
    expect(eager.pids()).toHaveLength(3);
    // Three calls at once are answered by the three children already there.
    const answers = await Promise.all([1, 2, 3].map((value) => eager.run<Echo>({ kind: 'echo', value })));
    expect(answers.map((answer) => answer.value)).toEqual([1, 2, 3]);
    expect(new Set(answers.map((answer) => answer.pid))).toEqual(new Set(eager.pids()));
  });

  it('answers an abandoned call at once with its reason, kills its child even with its event loop held, and gives the next call a fresh one', async () => {
    const spinning = pool({ workers: 1 });
    const first = (await spinning.run<Echo>({ kind: 'echo', value: 0 })).pid;
    const controller = new AbortController();
    const call = spinning.run({ kind: 'spin' }, controller.signal);
    const reason = new Error('the caller gave up');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    await until(() => !isAlive(first), 'the spinning child to die');
    const next = await spinning.run<Echo>({ kind: 'echo', value: 2 });
    expect(next.value).toBe(2);
    expect(next.pid).not.toBe(first);
    // A call whose signal has already fired is refused before it takes a child.
    await expect(spinning.run({ kind: 'echo', value: 3 }, AbortSignal.abort(reason))).rejects.toBe(reason);
  });

  it('refuses calls beyond the queue, and abandons a queued call without touching the running one', async () => {
    const small = pool({ workers: 1, maxQueued: 1 });
    const running = small.run({ kind: 'spin' });
    const controller = new AbortController();
    const queued = small.run({ kind: 'echo', value: 1 }, controller.signal);
    await expect(small.run({ kind: 'echo', value: 2 })).rejects.toMatchObject({
      kind: 'full',
      message: 'Too many calls at once (1 running, 1 waiting); retry shortly',
    });
    const [spinner] = small.pids();
    controller.abort(new Error('no longer wanted'));
    await expect(queued).rejects.toThrow('no longer wanted');
    expect(small.pids()).toEqual([spinner]);
    expect(isAlive(spinner!)).toBe(true);
    small.close();
    await expect(running).rejects.toMatchObject({ kind: 'closed' });
  });

  it('refuses what waits and what comes after close(), and kills every child', async () => {
    const closing = pool({ workers: 2, startAllWithFirstCall: true });
    await closing.run({ kind: 'echo', value: 1 });
    const pids = closing.pids();
    expect(pids).toHaveLength(2);
    const busy = [closing.run({ kind: 'spin' }), closing.run({ kind: 'spin' })];
    const waiting = closing.run({ kind: 'echo', value: 2 });
    closing.close();
    for (const call of [...busy, waiting]) await expect(call).rejects.toMatchObject({ kind: 'closed' });
    await expect(closing.run({ kind: 'echo', value: 3 })).rejects.toMatchObject({ kind: 'closed' });
    await until(() => pids.every((pid) => !isAlive(pid)), 'every child to die');
  });

  it('fails only the call of a child that dies, and the next call gets a fresh child', async () => {
    const dying = pool({ workers: 1 });
    const first = (await dying.run<Echo>({ kind: 'echo', value: 0 })).pid;
    await expect(dying.run({ kind: 'exit' })).rejects.toMatchObject({
      kind: 'died',
      message: 'The child stopped unexpectedly',
    });
    const next = await dying.run<Echo>({ kind: 'echo', value: 1 });
    expect(next.pid).not.toBe(first);
  });

  it('passes a refusal on as the outcome says, and keeps the child', async () => {
    const refusing = pool({ workers: 1 });
    const first = (await refusing.run<Echo>({ kind: 'echo', value: 0 })).pid;
    await expect(refusing.run({ kind: 'fail', message: 'no such table: t' })).rejects.toMatchObject({
      kind: 'refused',
      message: 'no such table: t',
    });
    expect((await refusing.run<Echo>({ kind: 'echo', value: 1 })).pid).toBe(first);
  });

  it('kills a child that retires after its answer, so the next call gets a fresh one', async () => {
    const retiring = pool({ workers: 1 });
    const retired = await retiring.run<number>({ kind: 'retire' });
    await until(() => !isAlive(retired), 'the retired child to die');
    const next = await retiring.run<Echo>({ kind: 'echo', value: 1 });
    expect(next.pid).not.toBe(retired);
  });

  it('starts children that die with a parent killed hard (setpriv’s parent-death signal)', async () => {
    expect(diesWithParent, 'util-linux setpriv (/usr/bin/setpriv) is missing or does not work here').toBe(true);
    const parent = spawn(process.execPath, ['--import', 'tsx', parentPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        parent.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(out.trim());
        });
        parent.once('exit', (code) => reject(new Error(`the parent exited (${code}) before starting its child`)));
      });
      const child = Number(line);
      expect(Number.isInteger(child) && child > 0, `a pid, not ${JSON.stringify(line)}`).toBe(true);
      // Spinning in its call (its event loop held, so it cannot notice the channel close by itself).
      const start = cpuTicks(child);
      await until(() => cpuTicks(child) >= start + 10, 'the child to spin');
      parent.kill('SIGKILL');
      await until(() => !isAlive(child), 'the child to die with its parent');
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
