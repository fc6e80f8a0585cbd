import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { openSync, readdirSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Server processes for the bench: each target runs alone in its own process, pinned to the
 * server CPU, with stdout (the JSON logs) going to /dev/null (or to BENCH_SERVER_STDOUT), and is stopped before the next starts.
 */
export interface Pinning {
  server?: number;
  generator?: number;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux: /proc/<pid>/stat counts CPU time in 1/100 s.

/** Pins this process (all threads) to the generator CPU; returns the CPUs chosen, or none if impossible. */
export function pinCpus(enabled: boolean, cpuCount: number): Pinning {
  if (!enabled || cpuCount < 2) return {};
  try {
    execFileSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' });
    return { generator: 0, server: 1 };
  } catch {
    return {};
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** CPU seconds (user + system) used so far by a process and all its descendants. */
export function treeCpuSeconds(rootPid: number): number {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command (which may hold spaces) start after the last ')'.
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // The process ended while we were looking.
    }
  }
  let ticks = 0;
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    ticks += stats.get(pid)?.ticks ?? 0;
    for (const [child, stat] of stats) if (stat.ppid === pid) queue.push(child);
  }
  return ticks / CLOCK_TICKS;
}

// Process groups still running: killed if the bench itself exits early (an error, Ctrl-C).
const running = new Set<number>();
process.once('exit', () => {
  for (const pid of running) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

export interface ServerProcess {
  name: string;
  pid: number;
  port: number;
  origin: string;
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export interface ServerSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  port: number;
  cwd?: string;
  pinning: Pinning;
  /** How long start-up may take (supergateway spawns its child on the first session). */
  startTimeoutMs?: number;
}

/** Starts a server process and waits until its port accepts connections. */
export async function startServer(spec: ServerSpec): Promise<ServerProcess> {
  // BENCH_SERVER_STDOUT=<dir>: each server's stdout (e.g. --trace-gc from BENCH_SERVER_FLAGS) in <dir>/<name>.log.
  const stdoutDir = process.env['BENCH_SERVER_STDOUT'];
  const stdout = openSync(stdoutDir ? path.join(stdoutDir, `${spec.name}.log`) : '/dev/null', 'w');
  const pinned = spec.pinning.server !== undefined;
  const command = pinned ? 'taskset' : spec.command;
  const args = pinned ? ['-c', String(spec.pinning.server), spec.command, ...spec.args] : spec.args;
  let stderr = '';
  const child: ChildProcess = spawn(command, args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', stdout, 'pipe'],
    // Its own process group, so that a server's children (supergateway's) are stopped with it.
    detached: true,
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${spec.name}: could not start ${spec.command}`);
  running.add(pid);
  void exit.then(() => running.delete(pid));

  const deadline = Date.now() + (spec.startTimeoutMs ?? 20_000);
  while (!(await canConnect(spec.port))) {
    if (exited) throw new Error(`${spec.name} exited during start-up: ${stderr.trim().slice(-1500) || '(no stderr)'}`);
    if (Date.now() > deadline) {
      process.kill(-pid, 'SIGKILL');
      throw new Error(`${spec.name} did not listen on port ${spec.port} in time: ${stderr.trim().slice(-1500)}`);
    }
    await sleep(50);
  }

  return {
    name: spec.name,
    pid,
    port: spec.port,
    origin: `http://127.0.0.1:${spec.port}`,
    cpuSeconds: () => treeCpuSeconds(pid),
    stop: async () => {
      if (exited) return;
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        return;
      }
      const killed = await Promise.race([exit.then(() => true), sleep(3000).then(() => false)]);
      if (!killed) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
        await exit;
      }
    },
  };
}

/**
 * A service's built entry, as its package.json names it ("main": dist/main.js, or the bundle where
 * the service has one) and as its image runs it (`node .`): relative to `root`.
 */
export function serviceMain(root: string, name: string): string {
  const file = path.join('services', name, 'package.json');
  const { main } = JSON.parse(readFileSync(path.join(root, file), 'utf8')) as { main?: unknown };
  if (typeof main !== 'string') throw new Error(`${file} has no "main"`);
  return path.join('services', name, main);
}
