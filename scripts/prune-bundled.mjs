#!/usr/bin/env node
// Run by prune-deploy.sh on a service's `pnpm deploy` output: when the service is bundled
// (dist/bundle.json, written by bundle-service.mjs), the image needs only the bundle, its assets and
// the packages it leaves external (native addons) with what they depend on. tsc's files and every
// other package go: the bundle holds them. Prints what it kept.
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import path from 'node:path';

const out = path.resolve(process.argv[2] ?? '.');
const manifestFile = path.join(out, 'dist', 'bundle.json');
if (!existsSync(manifestFile)) process.exit(0);
const { external } = JSON.parse(readFileSync(manifestFile, 'utf8'));
const fail = (message) => {
  process.stderr.write(`prune-bundled: ${message}\n`);
  process.exit(1);
};

// tsc's JavaScript: the bundle does not load it (assets such as dashboard.html stay).
for (const file of readdirSync(path.join(out, 'dist'), { recursive: true })) {
  if (file.endsWith('.js') && !file.endsWith('.bundle.js')) rmSync(path.join(out, 'dist', file));
}

/** The folder `name` resolves to from `dir`, as node looks for it (node_modules upwards), or undefined. */
function packageFolder(dir, name) {
  for (let at = dir; ; at = path.dirname(at)) {
    const candidate = path.join(at, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return realpathSync(candidate);
    if (path.basename(at) === 'node_modules' && existsSync(path.join(at, name, 'package.json'))) {
      return realpathSync(path.join(at, name));
    }
    if (at === out || at === path.dirname(at)) return undefined;
  }
}

// The externals and everything they depend on (optional dependencies where installed).
const keep = new Set();
const queue = external.map((name) => {
  const folder = packageFolder(out, name);
  if (folder === undefined) fail(`${name} (external to the bundle) is not installed in ${out}`);
  return folder;
});
while (queue.length > 0) {
  const folder = queue.pop();
  if (keep.has(folder)) continue;
  keep.add(folder);
  const manifest = JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8'));
  for (const [name, optional] of [
    ...Object.keys(manifest.dependencies ?? {}).map((name) => [name, false]),
    ...Object.keys(manifest.optionalDependencies ?? {}).map((name) => [name, true]),
  ]) {
    const found = packageFolder(folder, name);
    if (found !== undefined) queue.push(found);
    else if (!optional) fail(`${name}, a dependency of ${manifest.name}, is not installed`);
  }
}

// pnpm's layout: node_modules/<name> links into node_modules/.pnpm/<name@version>/node_modules/<name>.
const store = path.join(out, 'node_modules', '.pnpm');
for (const entry of readdirSync(store, { withFileTypes: true })) {
  if (!entry.isDirectory() || entry.name === 'node_modules') continue;
  const root = path.join(store, entry.name);
  if (![...keep].some((folder) => folder.startsWith(`${root}${path.sep}`)))
    rmSync(root, { recursive: true, force: true });
}
// Links left pointing at nothing (the top level's, and the store's hoisted ones).
for (const dir of [path.join(out, 'node_modules'), path.join(store, 'node_modules')]) {
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir)) {
    const scoped = name.startsWith('@') ? readdirSync(path.join(dir, name)).map((inner) => `${name}/${inner}`) : [name];
    for (const link of scoped) if (!existsSync(path.join(dir, link))) rmSync(path.join(dir, link), { force: true });
    if (name.startsWith('@') && readdirSync(path.join(dir, name)).length === 0)
      rmSync(path.join(dir, name), { recursive: true });
  }
}
const kept = [...keep].map((folder) => JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')).name).sort();
process.stdout.write(`prune-bundled: kept the bundle and ${kept.length > 0 ? kept.join(', ') : 'no package'}\n`);
