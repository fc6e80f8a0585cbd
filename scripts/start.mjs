#!/usr/bin/env node
// Starts every service whose backend is available, on its embedded default where it has one, and
// reports each as started once its /health answers; stops them all on Ctrl-C. Run by ./start.sh after
// install and build (`pnpm start` runs it alone).
//
//   node scripts/start.mjs [--verbose]
//
// Quiet by default: each service logs to data/logs/<service>.log (its JSON lines); --verbose sends
// them to this terminal instead. A service is skipped when its backend setting (config/services.yaml
// `requires`, e.g. postgres's DATABASE_URL) is not in the environment, and failed when it exits or its
// /health does not answer within MCP_START_TIMEOUT_MS (30 s). Exits 1 when none started; otherwise
// runs until Ctrl-C (exit 0) or until every service has stopped by itself (exit 1).
// Settings: HOST (default 127.0.0.1), MCP_<NAME>_PORT (default: the registry's port).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: { verbose: { type: 'boolean', short: 'v', default: false }, help: { type: 'boolean', short: 'h' } },
});
if (args.help) {
  process.stdout.write('usage: node scripts/start.mjs [--verbose]   (see the header of this file)\n');
  process.exit(0);
}

const entries = parse(readFileSync(join(root, 'config/services.yaml'), 'utf8')).services;
const color =
  process.stdout.isTTY && !process.env.NO_COLOR ? (code, text) => `\x1b[${code}m${text}\x1b[0m` : (_code, text) => text;
const host = process.env.HOST ?? '127.0.0.1';
// where to reach a service that listens on every interface
const probeHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
const startTimeoutMs = Number(process.env.MCP_START_TIMEOUT_MS ?? 30_000);
const logDir = join(root, 'data/logs');

/** The built entry, as the service's package.json names it ("main") and its image runs it (`node .`). */
function mainEntry(service) {
  const file = join('services', service.name, 'package.json');
  return join('services', service.name, JSON.parse(readFileSync(join(root, file), 'utf8')).main);
}

/** Why a service cannot start here, or undefined when it can. */
function unavailable(service) {
  const main = join(root, mainEntry(service));
  if (!existsSync(main)) return `not built (${relative(root, main)} missing: run pnpm build)`;
  // `requires: A|B` in the registry: one of these settings must be set (postgres: DATABASE_URL).
  const alternatives = String(service.requires ?? '')
    .split('|')
    .map((name) => name.trim())
    .filter(Boolean);
  if (alternatives.length > 0 && !alternatives.some((name) => process.env[name])) {
    return `needs ${alternatives.join(' or ')}`;
  }
  return undefined;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The last lines of a file (each cut short), for a failure message. */
function tail(file, lines = 3) {
  try {
    return readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .map((line) => (line.length > 200 ? `${line.slice(0, 200)}…` : line));
  } catch {
    return [];
  }
}

const children = [];
const running = new Set();
let stopping = false;
let settled = false;

/** Whether something already accepts connections on the port (another copy, another program). */
function portInUse(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: probeHost, port: Number(port) });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts one service and resolves once /health answers (started), or it exits or times out (failed). */
async function start(service) {
  const stem = service.name.toUpperCase().replaceAll('-', '_');
  const port = String(process.env[`MCP_${stem}_PORT`] ?? service.port);
  const url = `http://${probeHost}:${port}`;
  const logFile = join(logDir, `${service.name}.log`);
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    return { service, url, ok: false, why: `MCP_${stem}_PORT=${port} is not a port (1-65535)` };
  }
  // else the /health of whatever holds the port would pass for this service's
  if (await portInUse(port)) {
    return { service, url, ok: false, why: `port ${port} is already in use (MCP_${stem}_PORT picks another)` };
  }
  let fd;
  if (!args.verbose) fd = openSync(logFile, 'w');
  // From the repository root, so that the embedded defaults land in ./data/<service>/.
  const child = spawn(process.execPath, [mainEntry(service)], {
    cwd: root,
    env: { ...process.env, PORT: port, HOST: host },
    stdio: ['ignore', fd ?? 'inherit', fd ?? 'inherit'],
  });
  children.push(child);
  if (fd !== undefined) closeSync(fd);
  let exit;
  child.on('exit', (code, signal) => {
    exit = signal ?? `code ${code}`;
    if (!running.delete(child)) return;
    if (!stopping)
      console.error(color(31, `mcp-${service.name} stopped (${exit}); its log: ${relative(root, logFile)}`));
    if (settled && running.size === 0 && !stopping) process.exit(1);
  });
  const logHint = () => (args.verbose ? [] : tail(logFile).map((line) => `      ${line}`));
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (exit !== undefined) return { service, url, ok: false, why: `exited (${exit})`, lines: logHint() };
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      const body = await response.json().catch(() => ({}));
      if (exit !== undefined) continue; // it answered, then exited: the loop reports the exit
      running.add(child);
      if (response.ok) return { service, url, ok: true };
      const down = Object.entries(body?.checks ?? {})
        .filter(([, check]) => check?.status !== 'ok')
        .map(([name, check]) => `${name}: ${check?.error ?? 'down'}`);
      return { service, url, ok: true, why: `HTTP ${response.status}${down.length ? ` (${down.join('; ')})` : ''}` };
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  child.kill('SIGTERM');
  return {
    service,
    url,
    ok: false,
    why: `/health did not answer within ${startTimeoutMs / 1000} s`,
    lines: logHint(),
  };
}

const stop = () => {
  stopping = true;
  for (const child of running) child.kill('SIGTERM');
  if (running.size === 0) process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// whatever way this process ends, it leaves no service behind
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
});

if (!args.verbose) mkdirSync(logDir, { recursive: true });
const skipped = [];
const starting = [];
for (const service of entries) {
  const reason = unavailable(service);
  if (reason) skipped.push({ service, why: reason });
  else starting.push(start(service));
}
if (starting.length > 0) {
  console.log(`starting ${starting.length} service(s), waiting for each /health …`);
}
const results = await Promise.all(starting);
settled = true;

console.log('');
for (const { service, url, ok, why, lines } of results) {
  const endpoints = `${url}/sse  ${url}/mcp  ${url}/rpc  ${url}/health`;
  if (ok) {
    console.log(`  mcp-${service.name.padEnd(12)} ${color(32, 'started')}  ${endpoints}`);
    if (why) console.log(color(33, `      /health: ${why}`));
  } else {
    console.log(`  mcp-${service.name.padEnd(12)} ${color(31, `failed: ${why}`)}`);
    for (const line of lines ?? []) console.log(line);
  }
}
for (const { service, why } of skipped) console.log(`  mcp-${service.name.padEnd(12)} ${color(33, `skipped: ${why}`)}`);

const started = results.filter((r) => r.ok).length;
if (started > 0 && running.size === 0) {
  console.log('\nEvery service that started has stopped again.');
  process.exit(1);
}
if (started === 0) {
  console.log('\nNo service started.');
  process.exit(1);
}
console.log(
  `\n${started} of ${entries.length} started. ` +
    (args.verbose
      ? 'Their logs follow.'
      : `Logs: ${relative(process.cwd(), logDir) || '.'}/<service>.log (--verbose shows them here).`) +
    ' Ctrl-C stops every service.',
);
