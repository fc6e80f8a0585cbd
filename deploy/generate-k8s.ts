/**
 * Writes deploy/k8s/ from config/services.yaml and docker-compose.yml (`pnpm k8s:generate`), or with
 * --check exits 1 naming each file that differs (the drift test runs the same comparison).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { format, resolveConfig } from 'prettier';

import { renderManifests } from './k8s-manifests.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'deploy/k8s');

/** The files as they must be on disk: rendered, then formatted as `pnpm lint` (prettier) wants them. */
export async function expectedManifests(): Promise<Map<string, string>> {
  const files = renderManifests(
    readFileSync(join(root, 'config/services.yaml'), 'utf8'),
    readFileSync(join(root, 'docker-compose.yml'), 'utf8'),
  );
  const options = (await resolveConfig(join(outDir, 'x.yaml'))) ?? {};
  const formatted = new Map<string, string>();
  for (const [name, text] of files) formatted.set(name, await format(text, { ...options, parser: 'yaml' }));
  return formatted;
}

/** Names of the files in deploy/k8s/ that differ from, are missing from or are not in `expected`. */
export function drift(expected: Map<string, string>): string[] {
  let present: string[] = [];
  try {
    present = readdirSync(outDir).filter((name) => name.endsWith('.yaml'));
  } catch {
    // no folder yet: every file is missing
  }
  const differing = [...expected].filter(([name, text]) => {
    try {
      return readFileSync(join(outDir, name), 'utf8') !== text;
    } catch {
      return true;
    }
  });
  return [...differing.map(([name]) => name), ...present.filter((name) => !expected.has(name))].sort();
}

async function main(): Promise<void> {
  const expected = await expectedManifests();
  const stale = drift(expected);
  if (process.argv.includes('--check')) {
    if (stale.length > 0) {
      process.stderr.write(`deploy/k8s is out of date (${stale.join(', ')}): run pnpm k8s:generate\n`);
      process.exit(1);
    }
    return;
  }
  mkdirSync(outDir, { recursive: true });
  for (const name of stale) rmSync(join(outDir, name), { force: true });
  for (const [name, text] of expected) writeFileSync(join(outDir, name), text);
  process.stdout.write(`deploy/k8s: ${expected.size} files, ${stale.length} changed\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
