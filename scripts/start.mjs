#!/usr/bin/env node
// Starts every service whose backend is available, on its embedded default where it has one,
// prints each URL, and stops them all on Ctrl-C. Used by ./start.sh after install and build.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const registry = parse(readFileSync(join(root, 'config/services.yaml'), 'utf8'));
const entries = Array.isArray(registry?.services)
  ? registry.services
  : Object.entries(registry?.services ?? registry ?? {}).map(([name, value]) => ({ name, ...value }));

const color = process.stdout.isTTY ? (code, text) => `\x1b[${code}m${text}\x1b[0m` : (_code, text) => text;
const host = process.env.HOST ?? '127.0.0.1';

/** Why a service cannot start here, or undefined when it can. */
function unavailable(service) {
  const main = join(root, 'services', service.name, 'dist/main.js');
  if (!existsSync(main)) return `not built (${main} missing: run pnpm build)`;
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

const children = [];
const rows = [];
for (const service of entries) {
  const reason = unavailable(service);
  if (reason) {
    rows.push([service.name, '-', color(33, `skipped: ${reason}`)]);
    continue;
  }
  const port = String(process.env[`${service.name.toUpperCase()}_PORT`] ?? service.port);
  // From the repository root, so that the embedded defaults land in ./data/<service>/.
  const child = spawn(process.execPath, [join('services', service.name, 'dist/main.js')], {
    cwd: root,
    env: { ...process.env, PORT: port, HOST: host },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(child);
  child.on('exit', (code, signal) => {
    if (!stopping) console.error(color(31, `mcp-${service.name} exited (${signal ?? code})`));
  });
  rows.push([service.name, `http://${host}:${port}`, color(32, 'started')]);
}

let stopping = false;
const stop = () => {
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

console.log('');
for (const [name, url, status] of rows) {
  const endpoints = url === '-' ? '' : `  ${url}/sse  ${url}/mcp  ${url}/rpc  ${url}/health`;
  console.log(`  mcp-${name.padEnd(12)} ${status}${endpoints}`);
}
console.log(children.length ? '\nCtrl-C stops every service.' : '\nNothing to start.');
if (!children.length) process.exit(1);
