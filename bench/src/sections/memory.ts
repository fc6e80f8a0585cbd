import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { loadavg } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { hashedEmbedding } from '../../../services/memory/src/embeddings.js';
import { contentHash } from '../../../services/memory/src/normalise.js';
import { openConnection, readSpec } from '../../../services/memory/src/schema.js';
import { storeMemory } from '../../../services/memory/src/writes.js';
import { benchData } from '../memory-data.js';
import { freePort, serviceMain, startServer, treeCpuSeconds } from '../processes.js';
import { round, Samples } from '../stats.js';
import type { SectionContext } from './core.js';

/**
 * The memory service at scale (default 1,000,000 memories of 384 dimensions; BENCH_MEMORY_SIZE
 * changes it): the built service (its bundle, services/memory/dist/main.bundle.js, as the image runs it) on the cached data set, measured
 * one call at a time over /rpc, as a model would call it. Reports store and search latency,
 * recall@10 against an exact scan, how long an event takes from commit to the /events stream,
 * cold start, resident memory, and how long /health waits while searches and a bulk delete run
 * (the event loop must stay free).
 */
export interface MemoryFigures {
  size: number;
  load_average: number[];
  cold_start_ms: number[];
  search: { p50_ms: number; p99_ms: number; recall_at_10: number; cpu_ms_per_search: number; queries: number };
  exact_search: { p50_ms: number; p99_ms: number };
  hybrid_search: { p50_ms: number; p99_ms: number };
  store: { p50_ms: number; p99_ms: number; calls: number };
  event: { p50_ms: number; p99_ms: number; max_ms: number; events: number };
  health_during_search: { p50_ms: number; p99_ms: number; max_ms: number };
  bulk_delete: { deleted: number; ms: number; health_max_ms: number };
  rss_mb: { service: number; query_processes: number };
}

export interface MemorySection {
  figures?: MemoryFigures;
  unavailable?: string;
  lines: string[];
}

const TARGETS = { store_p50: 10, search_p50: 50, search_p99: 150, recall: 0.95, event: 5, cold_start: 1000 };

async function postJson(origin: string, pathname: string, body: unknown): Promise<unknown> {
  const response = await fetch(`${origin}${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return response.json();
}

async function callTool(origin: string, name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const answer = (await postJson(origin, '/rpc', {
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name, arguments: args },
  })) as { result?: { structuredContent?: Record<string, unknown>; isError?: boolean; content?: { text: string }[] } };
  if (!answer.result || answer.result.isError) {
    throw new Error(`${name}: ${JSON.stringify(answer).slice(0, 300)}`);
  }
  return answer.result.structuredContent ?? {};
}

function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((part) => part.length > 0)
      .map(Number);
  } catch {
    return [];
  }
}

/** Calls /health every few ms until stopped; its latencies show whether the event loop was free. */
function healthProbe(origin: string): { stop(): Promise<number[]> } {
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      await fetch(`${origin}/health`).then((response) => response.arrayBuffer());
      latencies.push(performance.now() - started);
      await sleep(5);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return latencies;
    },
  };
}

const summary = (values: number[]) => {
  const samples = new Samples();
  for (const value of values) samples.add(value);
  return { p50_ms: round(samples.percentile(50)), p99_ms: round(samples.percentile(99)) };
};

/** Opens GET /events and calls onEvent(hash, arrival time) for each memory event. */
function openEvents(origin: string, onEvent: (hash: string, at: number) => void): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const req = request(`${origin}/events`, { headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`/events answered ${res.statusCode}`));
        return;
      }
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        const at = performance.now();
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (data !== undefined) onEvent((JSON.parse(data) as { hash: string }).hash, at);
          end = buffer.indexOf('\n\n');
        }
      });
      resolve(() => req.destroy());
    });
    req.on('error', reject);
    req.end();
  });
}

export async function memorySection(ctx: SectionContext, log: (line: string) => void): Promise<MemorySection> {
  const lines: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    log(line);
  };
  const main = serviceMain(ctx.root, 'memory');
  if (!existsSync(path.join(ctx.root, main))) {
    return {
      unavailable: `services/memory is not built (${main} is missing; run pnpm build)`,
      lines,
    };
  }
  const size = Number(process.env['BENCH_MEMORY_SIZE'] ?? 1_000_000);
  const data = benchData(path.join(ctx.root, 'bench', '.cache'), size, 200, log);
  const env = {
    MEMORY_DB_PATH: data.dbPath,
    LOG_LEVEL: 'warn',
    MCP_RATE_LIMIT: '0',
  };

  // Cold start: process start to a 200 from /health, three times.
  const coldStart: number[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const started = performance.now();
    const server = await startServer({
      name: 'memory',
      command: process.execPath,
      args: [main],
      cwd: ctx.root,
      env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
      port,
      pinning: ctx.pinning,
    });
    for (;;) {
      const ok = await fetch(`${server.origin}/health`).then(
        (response) => response.ok,
        () => false,
      );
      if (ok) break;
    }
    coldStart.push(round(performance.now() - started, 0));
    await server.stop();
  }

  const port = await freePort();
  const server = await startServer({
    name: 'memory',
    command: process.execPath,
    args: [main],
    cwd: ctx.root,
    env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
    port,
    pinning: ctx.pinning,
  });
  const { origin } = server;
  try {
    // The query processes load the binary codes at start (seconds of CPU each at 1M): the first
    // searches wait for one of them, and the measurement waits until every one is done (the
    // service's processes idle: under 20 ms of CPU in half a second), so that it sees the steady
    // state and not a load on the same CPU.
    for (let i = 0; i < 10; i++) await callTool(origin, 'memory_search', { query: data.queries[i], limit: 10 });
    let cpuSeen = treeCpuSeconds(server.pid);
    for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
      await sleep(500);
      const cpuNow = treeCpuSeconds(server.pid);
      if (cpuNow - cpuSeen < 0.02) break;
      cpuSeen = cpuNow;
    }

    // Search latency and CPU, one search at a time and nothing else: a /health probe every few
    // milliseconds on the same CPU would be measured as well (it has its own pass below).
    const searchTimes: number[] = [];
    let hits = 0;
    const cpuBefore = treeCpuSeconds(server.pid);
    for (let q = 0; q < data.queries.length; q++) {
      const started = performance.now();
      const result = await callTool(origin, 'memory_search', { query: data.queries[q], limit: 10 });
      searchTimes.push(performance.now() - started);
      const got = new Set((result['results'] as { hash: string }[]).map((hit) => hit.hash));
      hits += data.truth[q]!.filter((hash) => got.has(hash)).length;
    }
    const cpuPerSearch = ((treeCpuSeconds(server.pid) - cpuBefore) * 1000) / data.queries.length;

    // The event loop while searches run back to back: /health probed throughout.
    const probe = healthProbe(origin);
    for (let q = 0; q < 100; q++) await callTool(origin, 'memory_search', { query: data.queries[q], limit: 10 });
    const health = await probe.stop();

    const timed = async (mode: string) => {
      const times: number[] = [];
      for (let q = 0; q < 50; q++) {
        const started = performance.now();
        await callTool(origin, 'memory_search', { query: data.queries[q], limit: 10, mode });
        times.push(performance.now() - started);
      }
      return summary(times);
    };
    const exact = await timed('exact');
    const hybrid = await timed('hybrid');

    // memory_store: new content, one call at a time.
    const storeTimes: number[] = [];
    const runId = Date.now().toString(36);
    for (let i = 0; i < 300; i++) {
      const started = performance.now();
      await callTool(origin, 'memory_store', {
        content: `bench store ${runId} ${i}: the deploy checklist moved to the wiki page ${i}`,
        tags: ['bench-store'],
      });
      storeTimes.push(performance.now() - started);
    }

    // Event latency: another process's write (this one, on its own connection), commit to arrival.
    const arrivals = new Map<string, number>();
    const waiters = new Map<string, () => void>();
    const close = await openEvents(origin, (hash, at) => {
      arrivals.set(hash, at);
      waiters.get(hash)?.();
    });
    const writer = openConnection({ path: data.dbPath, busyTimeoutMs: 5000 });
    const spec = readSpec(writer);
    if (!spec) throw new Error('bench database has no embeddings record');
    const eventTimes: number[] = [];
    for (let i = 0; i < 100; i++) {
      const content = `bench event ${runId} ${i}: a note written by another process`;
      const hash = contentHash(content);
      const arrived = new Promise<void>((resolve) => waiters.set(hash, resolve));
      storeMemory(
        writer,
        { hash, content, type: null, tags: ['bench-store'], metadata: '{}', conversationId: null },
        hashedEmbedding(content, spec.dimensions),
        spec,
        Date.now(),
      );
      const committed = performance.now();
      await Promise.race([arrived, sleep(5000)]);
      const at = arrivals.get(hash);
      if (at === undefined) throw new Error('an event did not arrive within 5 s');
      eventTimes.push(Math.max(0, at - committed));
      await sleep(5);
    }
    writer.close();
    close();

    const rss = {
      service: round(rssBytes(server.pid) / 1048576, 0),
      query_processes: round(childPids(server.pid).reduce((sum, pid) => sum + rssBytes(pid), 0) / 1048576, 0),
    };

    // Bulk delete of what this run stored, while /health is probed.
    const deleteProbe = healthProbe(origin);
    const deleteStarted = performance.now();
    const deleted = await callTool(origin, 'memory_delete', { tags: ['bench-store'], confirm: true });
    const deleteMs = performance.now() - deleteStarted;
    const deleteHealth = await deleteProbe.stop();

    const figures: MemoryFigures = {
      size,
      load_average: loadavg().map((value) => round(value, 1)),
      cold_start_ms: coldStart,
      search: {
        ...summary(searchTimes),
        recall_at_10: round(hits / (data.queries.length * 10), 4),
        cpu_ms_per_search: round(cpuPerSearch, 1),
        queries: data.queries.length,
      },
      exact_search: exact,
      hybrid_search: hybrid,
      store: { ...summary(storeTimes), calls: storeTimes.length },
      event: { ...summary(eventTimes), max_ms: round(Math.max(...eventTimes)), events: eventTimes.length },
      health_during_search: { ...summary(health), max_ms: round(Math.max(...health)) },
      bulk_delete: {
        deleted: deleted['deleted'] as number,
        ms: round(deleteMs, 0),
        health_max_ms: round(Math.max(...deleteHealth)),
      },
      rss_mb: rss,
    };
    const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
    const coldMedian = [...coldStart].sort((a, b) => a - b)[1]!;
    say(`  ${size.toLocaleString('en')} memories, load average ${figures.load_average.join(' ')}`);
    say(
      `  ${verdict(figures.store.p50_ms < TARGETS.store_p50)} memory_store p50 ${figures.store.p50_ms} ms (p99 ${figures.store.p99_ms}; target p50 < ${TARGETS.store_p50})`,
    );
    say(
      `  ${verdict(figures.search.p50_ms < TARGETS.search_p50 && figures.search.p99_ms < TARGETS.search_p99)} semantic search p50 ${figures.search.p50_ms} ms, p99 ${figures.search.p99_ms} ms ` +
        `(targets < ${TARGETS.search_p50} / < ${TARGETS.search_p99}); ${figures.search.cpu_ms_per_search} ms of CPU per search`,
    );
    say(
      `  ${verdict(figures.search.recall_at_10 >= TARGETS.recall)} recall@10 ${figures.search.recall_at_10} against an exact float scan (target >= ${TARGETS.recall})`,
    );
    say(
      `  ${verdict(figures.event.p50_ms < TARGETS.event)} event after commit p50 ${figures.event.p50_ms} ms, p99 ${figures.event.p99_ms}, max ${figures.event.max_ms} (target < ${TARGETS.event})`,
    );
    say(
      `  ${verdict(coldMedian < TARGETS.cold_start)} cold start to /health ${coldStart.join(', ')} ms (target < ${TARGETS.cold_start})`,
    );
    say(
      `  exact search p50 ${exact.p50_ms} ms, p99 ${exact.p99_ms}; hybrid p50 ${hybrid.p50_ms} ms, p99 ${hybrid.p99_ms}`,
    );
    say(
      `  /health while searching: p50 ${figures.health_during_search.p50_ms} ms, p99 ${figures.health_during_search.p99_ms}, max ${figures.health_during_search.max_ms}`,
    );
    say(
      `  bulk delete of ${figures.bulk_delete.deleted} memories: ${figures.bulk_delete.ms} ms; /health at most ${figures.bulk_delete.health_max_ms} ms meanwhile`,
    );
    say(`  resident memory: service ${rss.service} MB, query processes ${rss.query_processes} MB together`);
    return { figures, lines };
  } finally {
    await server.stop();
  }
}
