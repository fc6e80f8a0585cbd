import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, type Server } from 'node:http';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { freePort, serviceMain, treeCpuSeconds } from '../processes.js';
import type { SectionContext } from './core.js';

/**
 * Start-up and memory of every service, run as in the image (`node services/<x>`: its package.json's main),
 * next to the smallest server a user of the SDK would write (bench/src/sdk-minimal.mjs):
 * - cold start: process spawn to the first 200 from /health (polled every 5 ms), and the CPU the
 *   process used until then (steadier than wall time when other work shares the machine);
 * - idle resident memory: VmRSS of the process and its children 2 s after /health first answered, and
 *   settled: every target started again and left alone, read SETTLE_MS after its /health. Some 10–20 s
 *   after a process goes quiet, V8's memory reducer gives back the young generation grown during
 *   start-up (about 12 MB for every target here, the SDK's included): the 2-s figure is a start-up
 *   transient, the settled one what an idle container holds;
 * - per idle session: resident memory added by N open sessions (legacy SSE streams, Streamable HTTP
 *   sessions without a GET stream), on the filesystem service and on the SDK baseline.
 */
export interface StartupFigures {
  targets: Record<string, { cold_start_ms: number[]; cpu_ms: number[]; rss_mb: number[]; rss_settled_mb?: number }>;
  sessions: Record<string, { sse_kb: number; streamable_kb: number; sessions: number }>;
}

export interface StartupSection {
  figures?: StartupFigures;
  lines: string[];
  unavailable?: string;
}

const TARGETS = { cold_start_ms: 500, rss_mb: 80 };
const RUNS = Number(process.env['BENCH_STARTUP_RUNS'] ?? 3);
const SESSIONS = Number(process.env['BENCH_IDLE_SESSIONS'] ?? 200);
const SETTLE_MS = Number(process.env['BENCH_SETTLE_MS'] ?? 30_000);

const round = (value: number, digits = 0) => Math.round(value * 10 ** digits) / 10 ** digits;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

function rssKb(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resident memory of a process and all its descendants, in kB. */
function treeRssKb(rootPid: number): number {
  let total = 0;
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    total += rssKb(pid);
    try {
      for (const task of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)) {
        if (task) queue.push(Number(task));
      }
    } catch {
      // Gone, or no children file.
    }
  }
  return total;
}

function get(port: number, urlPath: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

interface Spec {
  id: string;
  label: string;
  file: string;
  env: Record<string, string>;
}

interface Running {
  child: ChildProcess;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** Starts one server pinned to the server CPU; resolves once /health answers 200, with the timings. */
async function start(ctx: SectionContext, spec: Spec): Promise<{ running: Running; coldMs: number; cpuMs: number }> {
  const port = await freePort();
  const pinned = ctx.pinning.server !== undefined;
  const node = [...ctx.nodeFlags, spec.file];
  const started = performance.now();
  const child = spawn(
    pinned ? 'taskset' : process.execPath,
    pinned ? ['-c', String(ctx.pinning.server), process.execPath, ...node] : node,
    {
      cwd: ctx.root,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...spec.env },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const pid = child.pid!;
  const stop = async () => {
    if (exited) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      return;
    }
    await exit;
  };
  const deadline = started + 30_000;
  for (;;) {
    if ((await get(port, '/health')) === 200) break;
    if (exited) throw new Error(`${spec.id} exited during start-up: ${stderr.trim().slice(-800) || '(no stderr)'}`);
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`${spec.id}: /health did not answer 200 within 30 s: ${stderr.trim().slice(-800)}`);
    }
    await sleep(5);
  }
  const coldMs = performance.now() - started;
  const cpuMs = treeCpuSeconds(pid) * 1000;
  return { running: { child, port, pid, stop }, coldMs, cpuMs };
}

/** A stand-in for api.github.com that answers the one request /health makes (GET /rate_limit). */
async function githubStub(): Promise<{ url: string; close(): Promise<void> }> {
  const reset = Math.floor(Date.now() / 1000) + 3600;
  const core = { limit: 5000, used: 0, remaining: 5000, reset };
  const server: Server = createServer((req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '5000',
      'x-ratelimit-used': '0',
      'x-ratelimit-reset': String(reset),
      'x-ratelimit-resource': 'core',
    });
    res.end(JSON.stringify({ resources: { core }, rate: core }));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Opens `count` idle sessions of one kind; returns a function that closes them. */
async function openSessions(port: number, kind: 'sse' | 'streamable', count: number): Promise<() => void> {
  const sockets: (() => void)[] = [];
  for (let i = 0; i < count; i += 1) {
    if (kind === 'sse') {
      await new Promise<void>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port, path: '/sse', headers: { accept: 'text/event-stream' } },
          (res) => {
            if (res.statusCode !== 200) return reject(new Error(`GET /sse: ${res.statusCode}`));
            res.once('data', () => resolve()); // the endpoint event
          },
        );
        req.on('error', reject);
        req.end();
        sockets.push(() => req.destroy());
      });
    } else {
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
      });
      const id = await new Promise<string>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path: '/mcp',
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              'content-length': Buffer.byteLength(body),
            },
          },
          (res) => {
            res.resume();
            const session = res.headers['mcp-session-id'];
            res.on('end', () =>
              typeof session === 'string' ? resolve(session) : reject(new Error(`initialize: ${res.statusCode}`)),
            );
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      const note = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' });
      await new Promise<void>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path: '/mcp',
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              'mcp-session-id': id,
              'mcp-protocol-version': '2025-06-18',
              'content-length': Buffer.byteLength(note),
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve());
          },
        );
        req.on('error', reject);
        req.end(note);
      });
    }
  }
  return () => {
    for (const close of sockets) close();
  };
}

/**
 * Settled idle memory (MB): every target started again, one after another (each to its /health), then
 * left alone, and read SETTLE_MS after its own /health. Started together so that the wait is paid once.
 */
async function settledRssMb(
  ctx: SectionContext,
  specs: Spec[],
  log: (line: string) => void,
): Promise<Record<string, number>> {
  const started: { spec: Spec; running: Running; healthyAt: number }[] = [];
  try {
    for (const spec of specs) {
      try {
        const { running } = await start(ctx, spec);
        started.push({ spec, running, healthyAt: performance.now() });
      } catch (error) {
        log(`  ${spec.id}: failed to start for the settled memory: ${(error as Error).message}`);
      }
    }
    const settled: Record<string, number> = {};
    for (const { spec, running, healthyAt } of started) {
      const wait = healthyAt + SETTLE_MS - performance.now();
      if (wait > 0) await sleep(wait);
      settled[spec.id] = round(treeRssKb(running.pid) / 1024, 1);
    }
    return settled;
  } finally {
    await Promise.all(started.map(({ running }) => running.stop()));
  }
}

/** Resident memory added per idle session (kB), measured once the process has settled. */
async function perSessionKb(
  running: Running,
  kind: 'sse' | 'streamable',
  count: number,
  warm: () => Promise<void>,
): Promise<number> {
  await warm();
  await sleep(1000);
  const before = treeRssKb(running.pid);
  const close = await openSessions(running.port, kind, count);
  await sleep(1000);
  const after = treeRssKb(running.pid);
  close();
  return round((after - before) / count, 1);
}

export async function startupSection(ctx: SectionContext, log: (line: string) => void): Promise<StartupSection> {
  const missing = ['postgres', 'fetch', 'filesystem', 'sqlite', 'github', 'monitoring', 'memory', 'databases'].filter(
    (name) => !existsSync(path.join(ctx.root, serviceMain(ctx.root, name))),
  );
  if (missing.length > 0) return { lines: [], unavailable: `not built: ${missing.join(', ')} (run pnpm build)` };
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-bench-startup-'));
  const github = await githubStub();
  const databaseUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
  writeFileSync(path.join(dir, 'servers.yml'), 'servers: []\n');
  writeFileSync(
    path.join(dir, 'secrets.env'),
    `DATABASES_ENCRYPTION_KEY=${Buffer.alloc(32, 7).toString('base64')}\nDATABASES_REGISTRY_URL=${databaseUrl}\n`,
  );
  const service = (name: string, env: Record<string, string> = {}): Spec => ({
    id: name,
    label: name,
    file: serviceMain(ctx.root, name),
    env,
  });
  const specs: Spec[] = [
    { id: 'sdk', label: 'SDK McpServer (minimal)', file: 'bench/src/sdk-minimal.mjs', env: {} },
    service('postgres', { DATABASE_URL: databaseUrl }),
    service('fetch'),
    service('filesystem', { ALLOWED_PATHS: `${dir}:rw` }),
    service('sqlite', { DATABASE_PATH: path.join(dir, 'sqlite.db') }),
    service('github', { GITHUB_TOKEN: 'ghp_bench', GITHUB_TOKEN_FILE: '', GITHUB_API_URL: github.url }),
    service('monitoring'),
    service('memory', { MEMORY_DB_PATH: path.join(dir, 'memory.db') }),
    service('databases', {
      DATABASES_SERVERS_FILE: path.join(dir, 'servers.yml'),
      DATABASES_SECRETS_FILE: path.join(dir, 'secrets.env'),
      DATABASES_REGISTRY_SCHEMA: 'mcp_bench_startup_registry',
      DATABASES_SYNC_ON_START: 'false',
    }),
  ];
  const figures: StartupFigures = { targets: {}, sessions: {} };
  const lines: string[] = [];
  try {
    for (const spec of specs) {
      const row = { cold_start_ms: [] as number[], cpu_ms: [] as number[], rss_mb: [] as number[] };
      try {
        for (let run = 0; run < RUNS; run += 1) {
          const { running, coldMs, cpuMs } = await start(ctx, spec);
          try {
            await sleep(2000);
            row.cold_start_ms.push(round(coldMs));
            row.cpu_ms.push(round(cpuMs));
            row.rss_mb.push(round(treeRssKb(running.pid) / 1024, 1));
          } finally {
            await running.stop();
          }
        }
      } catch (error) {
        log(`  ${spec.id}: failed: ${(error as Error).message}`);
        continue;
      }
      figures.targets[spec.id] = row;
    }
    log(`  (waiting ${SETTLE_MS / 1000} s for the settled idle memory of every target)`);
    const settled = await settledRssMb(
      ctx,
      specs.filter((spec) => figures.targets[spec.id] !== undefined),
      log,
    );
    for (const spec of specs) {
      const row = figures.targets[spec.id];
      if (!row) continue;
      row.rss_settled_mb = settled[spec.id];
      const cold = median(row.cold_start_ms);
      const rss = median(row.rss_mb);
      const memory = (mb: number | undefined) =>
        mb === undefined ? 'not measured' : mb < TARGETS.rss_mb ? 'PASS' : 'FAIL';
      const verdict =
        spec.id === 'sdk'
          ? 'baseline'
          : `${cold < TARGETS.cold_start_ms ? 'PASS' : 'FAIL'} cold start, memory ${memory(rss)} 2 s after /health, ${memory(row.rss_settled_mb)} settled`;
      const line = `  ${spec.label}: cold start ${row.cold_start_ms.join(', ')} ms (CPU ${row.cpu_ms.join(', ')} ms), idle RSS ${row.rss_mb.join(', ')} MB 2 s after /health, ${row.rss_settled_mb ?? '-'} MB settled  [${verdict}]`;
      lines.push(line);
      log(line);
    }

    // Memory per idle session: the filesystem service (a real one) and the SDK baseline.
    for (const spec of [specs[0]!, specs[3]!]) {
      const sessions: { sse_kb: number; streamable_kb: number; sessions: number } = {
        sse_kb: NaN,
        streamable_kb: NaN,
        sessions: SESSIONS,
      };
      for (const kind of ['sse', 'streamable'] as const) {
        const { running } = await start(ctx, {
          ...spec,
          env: {
            ...spec.env,
            MCP_MAX_SESSIONS: String(SESSIONS * 4),
            MCP_MAX_SESSIONS_PER_IDENTITY: String(SESSIONS * 4),
            MCP_SESSION_RATE_LIMIT: '0',
          },
        });
        try {
          // One session first, so that what is loaded on the first session is not counted per session.
          const perSession = await perSessionKb(running, kind, SESSIONS, async () => {
            const close = await openSessions(running.port, kind, 5);
            await sleep(200);
            close();
          });
          if (kind === 'sse') sessions.sse_kb = perSession;
          else sessions.streamable_kb = perSession;
        } finally {
          await running.stop();
        }
      }
      figures.sessions[spec.id] = sessions;
      const line = `  ${spec.label}: per idle session ${sessions.sse_kb} kB (legacy SSE), ${sessions.streamable_kb} kB (Streamable HTTP), over ${SESSIONS} sessions`;
      lines.push(line);
      log(line);
    }
  } finally {
    await github.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { figures, lines };
}
