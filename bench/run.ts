import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { measureGroup, type Row, type RunSettings } from './src/measure.js';
import { pinCpus } from './src/processes.js';
import { computeRatios, formatRatios, formatTable } from './src/report.js';
import { coreTargets, type SectionContext } from './src/sections/core.js';
import { filesystemTargets } from './src/sections/filesystem.js';
import { type MemorySection, memorySection } from './src/sections/memory.js';
import { postgresTargets } from './src/sections/postgres.js';
import { type StartupSection, startupSection } from './src/sections/startup.js';
import type { Target } from './src/targets.js';

/**
 * pnpm bench: tools/call throughput and latency of the core against its ceiling and the SDK, and of
 * the services against their baselines. Prints a table, the ratios and a PASS/FAIL line per goal,
 * writes bench/results/latest.json. It reports; it never fails the build.
 */
const SECTIONS = ['core', 'filesystem', 'postgres', 'memory', 'startup'] as const;
type Section = (typeof SECTIONS)[number];

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    only: { type: 'string' },
    skip: { type: 'string' },
    concurrency: { type: 'string', default: '32' },
    duration: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '1' },
    slice: { type: 'string', default: '0.5' },
    'no-pin': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    filter: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(`pnpm bench [-- options]
  --only core,filesystem,postgres,memory,startup   run only these sections (default: all)
  --skip filesystem                 leave sections out
  --filter <text>                   only targets whose id contains <text> (e.g. core/sse)
  --concurrency 32                  calls in flight per target
  --duration 4 --warmup 1           seconds measured / warm-up per target
  --slice 0.5                       seconds per turn when compared targets take turns
  --no-pin                          do not pin server and generator to separate CPUs
  --profile                         run servers with --cpu-prof (bench/results/profiles/)
environment: BENCH_LOG_LEVEL=warn runs the core's servers without the audit line (default info);
  BENCH_MEMORY_SIZE=1000000 memories in the memory section's data set (generated once, cached in bench/.cache/)
  BENCH_STARTUP_RUNS=3 starts per service, BENCH_IDLE_SESSIONS=200 idle sessions opened (startup section)
`);
  process.exit(0);
}

const list = (value: string | undefined) => (value ? value.split(',').map((s) => s.trim()) : []);
const only = list(values.only);
const skip = list(values.skip);
for (const name of [...only, ...skip]) {
  if (!SECTIONS.includes(name as Section)) {
    process.stderr.write(`unknown section "${name}" (known: ${SECTIONS.join(', ')})\n`);
    process.exit(2);
  }
}
const wanted = (section: Section) => (only.length === 0 || only.includes(section)) && !skip.includes(section);

const number = (name: string, value: string | undefined, min: number): number => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min) {
    process.stderr.write(`--${name} must be a number >= ${min} (got ${JSON.stringify(value)})\n`);
    process.exit(2);
  }
  return parsed;
};
const settings: RunSettings = {
  concurrency: Math.round(number('concurrency', values.concurrency, 1)),
  warmupMs: number('warmup', values.warmup, 0) * 1000,
  durationMs: number('duration', values.duration, 0.1) * 1000,
  sliceMs: number('slice', values.slice, 0.05) * 1000,
};

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cpus = availableParallelism();
const pinning = pinCpus(!values['no-pin'], cpus);
const profileDir = path.join(root, 'bench', 'results', 'profiles');
const ctx: SectionContext = {
  root,
  pinning,
  nodeFlags: [
    ...(values.profile ? ['--cpu-prof', '--cpu-prof-interval=100', `--cpu-prof-dir=${profileDir}`] : []),
    // Extra node flags for the servers only (e.g. --trace-gc), not the load generators.
    ...(process.env['BENCH_SERVER_FLAGS']?.split(/\s+/).filter(Boolean) ?? []),
  ],
};

// Ctrl-C: exit through process.exit so that the server processes are stopped too.
process.once('SIGINT', () => process.exit(130));

const log = (line: string) => process.stdout.write(`${line}\n`);
log(
  `mcp-sse bench: ${settings.concurrency} in flight, ${settings.warmupMs / 1000} s warm-up + ${settings.durationMs / 1000} s per target, ` +
    (pinning.server === undefined
      ? `not pinned (${cpus} CPUs)`
      : `server on CPU ${pinning.server}, generator on CPU ${pinning.generator}`),
);

const rows: Row[] = [];
const runGroups = async (groups: Target[][]) => {
  for (const group of groups) {
    const targets = group.filter((target) => !values.filter || target.id.includes(values.filter));
    if (targets.length === 0) continue;
    for (const row of await measureGroup(targets, settings)) {
      rows.push(row);
      log(
        row.skipped
          ? `  ${row.id}: skipped (${row.skipped})`
          : `  ${row.id}: ${row.rps} req/s, p50 ${row.p50_ms} ms, p99 ${row.p99_ms} ms` +
              (row.errors ? `, ${row.errors} errors (${row.first_error})` : ''),
      );
    }
  }
};

const started = Date.now();
if (wanted('core')) {
  log('[core] the trivial echo tool');
  await runGroups(coreTargets(ctx));
}
const skippedSections: Record<string, string> = {};
if (wanted('filesystem')) {
  log('[filesystem] read_file of a 4 KiB file');
  const fs = filesystemTargets(ctx);
  if (fs.unavailable) {
    skippedSections['filesystem'] = fs.unavailable;
    log(`  skipped: ${fs.unavailable}`);
  }
  try {
    await runGroups(fs.groups);
  } finally {
    fs.cleanup();
  }
}
if (wanted('postgres')) {
  log('[postgres] execute_sql of a primary-key lookup');
  const pgSection = await postgresTargets(ctx);
  if (pgSection.unavailable) {
    skippedSections['postgres'] = pgSection.unavailable;
    log(`  skipped: ${pgSection.unavailable}`);
  }
  try {
    await runGroups(pgSection.groups);
  } finally {
    await pgSection.cleanup();
  }
}

let memory: MemorySection | undefined;
if (wanted('memory')) {
  log('[memory] the memory service at scale: store, search (recall@10), events, cold start, memory');
  memory = await memorySection(ctx, log);
  if (memory.unavailable) {
    skippedSections['memory'] = memory.unavailable;
    log(`  skipped: ${memory.unavailable}`);
  }
}

let startup: StartupSection | undefined;
if (wanted('startup')) {
  log(
    '[startup] cold start to /health and idle memory of every service (each as its image runs it), memory per idle session',
  );
  startup = await startupSection(ctx, log);
  if (startup.unavailable) {
    skippedSections['startup'] = startup.unavailable;
    log(`  skipped: ${startup.unavailable}`);
  }
}

const ratios = computeRatios(rows);
log('');
log(formatTable(rows));
log('');
log(formatRatios(ratios));
if (memory?.figures) {
  log('');
  log('[memory]');
  for (const line of memory.lines) log(line);
}
if (startup?.figures) {
  log('');
  log('[startup] (targets: cold start < 500 ms, idle RSS < 80 MB: 2 s after /health, and settled)');
  for (const line of startup.lines) log(line);
}
for (const [section, reason] of Object.entries(skippedSections)) log(`SKIP ${section}: ${reason}`);
const measured = rows.filter((row) => !row.skipped);
if (measured.length > 0) {
  const top = measured.reduce((a, b) => (b.generator_cpu > a.generator_cpu ? b : a));
  log(`generator: at most ${Math.round(top.generator_cpu * 100)}% of one CPU (${top.id})`);
}
const busy = measured.filter((row) => row.generator_cpu >= 0.9);
if (busy.length > 0) {
  log(
    `note: the generator used >= 90% of its CPU for ${busy.map((r) => r.id).join(', ')}; those numbers are lower bounds`,
  );
}

const out = path.join(root, 'bench', 'results');
mkdirSync(out, { recursive: true });
writeFileSync(
  path.join(out, 'latest.json'),
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      cpus,
      pinning,
      settings,
      rows,
      ratios,
      ...(memory?.figures && { memory: memory.figures }),
      ...(startup?.figures && { startup: startup.figures }),
      skipped: skippedSections,
    },
    null,
    2,
  )}\n`,
);
if (values.profile) {
  log(
    `\nprofiles: bench/results/profiles/ (one per server process and thread); summarize one with\n` +
      `  pnpm exec tsx bench/profile-summary.ts <file.cpuprofile> --calls <calls it served>`,
  );
}
log(`\nresults: bench/results/latest.json (${Math.round((Date.now() - started) / 1000)} s)`);
