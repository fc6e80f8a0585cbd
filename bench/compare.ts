import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { measureGroup, median } from './src/measure.js';
import { pinCpus } from './src/processes.js';
import { coreEnv, echoCall, nodeServer, type SectionContext } from './src/sections/core.js';
import { CORE_PATHS, perCallWorker, sessionWorker, type Target } from './src/targets.js';

/**
 * This tree's core against another checkout's (an older commit in a worktree), head to head: the two
 * servers take turns in the same slices, on the same CPU, with the same load generator, so that
 * outside load hits both alike (which two `pnpm bench` runs one after the other cannot promise).
 *   git worktree add /tmp/before <commit> && (cd /tmp/before && pnpm install && pnpm build)
 *   pnpm exec tsx bench/compare.ts --against /tmp/before [--shape per-call|session] [--runs 3]
 * Prints req/s and server CPU per call of both, and this tree's ratio to the other per run and as
 * the median of the runs (above 1: this tree is faster).
 */
const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    against: { type: 'string' },
    shape: { type: 'string', default: 'per-call' },
    transports: { type: 'string', default: 'sse,streamable-http' },
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '8' },
  },
});
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const other = values.against && path.resolve(values.against);
const shape = values.shape;
const isTransport = (name: string): name is 'sse' | 'streamable-http' => name === 'sse' || name === 'streamable-http';
const named = values.transports.split(',');
const transports = named.filter(isTransport);
const runs = Number(values.runs);
if (
  !other ||
  !existsSync(path.join(other, 'bench/src/serve-core.ts')) ||
  (shape !== 'per-call' && shape !== 'session') ||
  transports.length !== named.length ||
  !(runs >= 1)
) {
  process.stderr.write(
    'usage: compare.ts --against <checkout with bench/src/serve-core.ts, built> [--shape per-call|session] ' +
      '[--transports sse,streamable-http] [--runs 3] [--seconds 8]\n',
  );
  process.exit(2);
}

// Pinned as `pnpm bench` pins: server and load generator on CPUs of their own where there are two.
const pinning = pinCpus(true, availableParallelism());
const settings = { concurrency: 32, warmupMs: 1000, durationMs: Number(values.seconds) * 1000, sliceMs: 500 };
const ratios = new Map<string, { rps: number[]; cpu: number[] }>();
process.once('SIGINT', () => process.exit(130));

for (let run = 1; run <= runs; run++) {
  for (const transport of transports) {
    const group: Target[] = [
      ['other', other],
      ['this', root],
    ].map(([name, tree]) => {
      const ctx: SectionContext = { root: tree!, pinning, nodeFlags: [] };
      return {
        id: `${name}/${transport}/${shape}`,
        section: 'compare',
        label: `${name} ${transport}`,
        transport,
        shape,
        start: nodeServer(ctx, name!, 'bench/src/serve-core.ts', coreEnv),
        createWorker: (shape === 'per-call' ? perCallWorker : sessionWorker)(transport, CORE_PATHS, echoCall),
      };
    });
    const [before, now] = await measureGroup(group, settings);
    if (
      !before ||
      !now ||
      before.skipped ||
      now.skipped ||
      !before.server_cpu_us_per_call ||
      !now.server_cpu_us_per_call
    ) {
      process.stderr.write(
        `run ${run} ${transport}: not measured (${before?.skipped ?? now?.skipped ?? 'no CPU figure'})\n`,
      );
      process.exit(1);
    }
    const rps = now.rps / before.rps;
    const cpu = before.server_cpu_us_per_call / now.server_cpu_us_per_call;
    const entry = ratios.get(transport) ?? { rps: [], cpu: [] };
    entry.rps.push(rps);
    entry.cpu.push(cpu);
    ratios.set(transport, entry);
    process.stdout.write(
      `run ${run} ${transport} ${shape}: other ${before.rps} req/s, ${before.server_cpu_us_per_call} µs/call; ` +
        `this ${now.rps} req/s, ${now.server_cpu_us_per_call} µs/call; this/other ${rps.toFixed(3)} (by CPU ${cpu.toFixed(3)})\n`,
    );
  }
}
for (const [transport, { rps, cpu }] of ratios) {
  process.stdout.write(
    `${transport} ${shape}: this/other median ${median(rps).toFixed(3)} (by CPU ${median(cpu).toFixed(3)}) over ${runs} runs\n`,
  );
}
process.exit(0);
