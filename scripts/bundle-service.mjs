#!/usr/bin/env node
// Bundles a built service (run from its folder, after tsc): `node ../../scripts/bundle-service.mjs
// main query-entry --external better-sqlite3`. Each named entry dist/<name>.js becomes
// dist/<name>.bundle.js, with what they share in dist/*.bundle.js chunks beside them.
//
// Why: on Node 20 about half of a service's start is loading some 700 files one module at a time
// (fastify with Ajv, zod, the MCP SDK, prom-client, pino); one file per entry starts the memory
// service in about two thirds of the time (README "Start-up"). Code that is imported lazily stays
// lazy (esbuild's splitting makes a chunk of each dynamic import), and one process holds one copy of
// every module, so module state (the tracing switch, error classes) is shared as before.
//
// What a bundle changes, and how the core allows for it (`bundled` in packages/core/src/bundled.ts,
// which esbuild's `define` turns on here):
// - the core's YAML parser is bundled instead of required from the core's folder at run time;
// - tracing registers no ESM loader hook: no module of a bundle is imported through a loader. The
//   clients the pg, mysql2 and ioredis instrumentations patch stay out of the bundle when the service
//   depends on them, and are required at run time, where OpenTelemetry's require hook patches them.
//   The core's own ioredis (the session store, MCP_SESSION_STORE) is bundled in a service that does
//   not depend on ioredis itself, and its commands are not traced in such a bundle.
// - files found beside a module (`new URL('./x', import.meta.url)`) are found beside the bundle, in
//   the same dist/ folder: that is why entries, chunks and copied assets all stay in dist/.
// --external NAME: a package loaded at run time from the service's node_modules, as before (native
// addons, whose binaries are found by path); it must be a dependency of the service.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

// The workspace root's devDependency (this file is resolved from the root, not from the service).
import { build } from 'esbuild';

const fail = (message) => {
  process.stderr.write(`bundle-service: ${message}\n`);
  process.exit(1);
};

const { values, positionals: entries } = parseArgs({
  options: { external: { type: 'string', multiple: true, default: [] } },
  allowPositionals: true,
});
if (entries.length === 0) fail('name at least one entry (dist/<entry>.js), e.g. main');

const servicePackage = JSON.parse(readFileSync('package.json', 'utf8'));
const dependencies = Object.keys(servicePackage.dependencies ?? {});
for (const name of values.external) {
  if (!dependencies.includes(name)) {
    fail(
      `--external ${name} is not a dependency of ${servicePackage.name}: at run time it could not be found from dist/`,
    );
  }
}
// The clients tracing instruments as they load, as the built core lists them. Bundled, such a client
// would be patched by nobody; instead the bundle requires it at run time from the service's
// node_modules (through `require`, so OpenTelemetry's require hook sees it load, as it sees the
// client's own requires). The image keeps those packages (bundle.json lists them as external).
const { HOOKED_MODULES } = await import(
  pathToFileURL(path.resolve('../../packages/core/dist/tracing/start-tracing.js')).href
);
const hooked = dependencies.filter((name) => HOOKED_MODULES.includes(name));
const HOOKED = 'required-at-run-time';
const requireHooked = {
  name: 'require-hooked-clients',
  setup(builder) {
    if (hooked.length === 0) return;
    // Package names: a dot is the only character special in a pattern.
    const names = new RegExp(`^(${hooked.map((name) => name.replaceAll('.', '\\.')).join('|')})$`);
    // An import of the client becomes a CommonJS module of one line that requires it; that require
    // (from the `hooked` namespace) stays external, and esbuild routes it to the banner's `require`.
    builder.onResolve({ filter: names }, (args) =>
      args.namespace === HOOKED ? { path: args.path, external: true } : { path: args.path, namespace: HOOKED },
    );
    builder.onLoad({ filter: /.*/, namespace: HOOKED }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};
const external = [...new Set([...values.external, ...hooked])];

// The chunks' names change with their content: drop the previous build's.
for (const file of readdirSync('dist')) if (file.endsWith('.bundle.js')) rmSync(path.join('dist', file));

const started = performance.now();
const result = await build({
  entryPoints: Object.fromEntries(entries.map((name) => [`${name}.bundle`, `dist/${name}.js`])),
  outdir: 'dist',
  chunkNames: '[name]-[hash].bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: values.external,
  plugins: [requireHooked],
  define: { MCP_SSE_BUNDLED: 'true' },
  // CommonJS code in the bundle requires node's built-in modules (and the externals) through `require`,
  // which an ES module does not have: give it one, resolving from dist/ as the tsc output does.
  banner: {
    js: "import { createRequire as __mcpSseCreateRequire } from 'node:module';\nconst require = __mcpSseCreateRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});
// What the image keeps (scripts/prune-bundled.mjs): the bundle, and node_modules for the externals only.
writeFileSync('dist/bundle.json', `${JSON.stringify({ entries, external }, null, 2)}\n`);
const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
const files = Object.keys(result.metafile.outputs).length;
process.stdout.write(
  `bundle-service: ${servicePackage.name}: ${entries.join(', ')} → ${files} files, ${(bytes / 1e6).toFixed(1)} MB in ${Math.round(performance.now() - started)} ms\n`,
);
