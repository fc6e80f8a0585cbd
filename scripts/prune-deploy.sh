#!/bin/sh
# Trims a `pnpm deploy` output folder to what the service needs at run time. Run inside the build
# stage of Dockerfile.service:  sh /repo/scripts/prune-deploy.sh /out
#
# Keeps package.json, dist/ and node_modules/. Removes the service's own sources and tests, and from
# node_modules what Node never loads: type declarations, TypeScript sources, source maps, docs, and
# the compile leftovers of native modules (better-sqlite3 keeps only build/Release/*.node). A bundled
# service (memory) keeps only its bundle and the packages it leaves external (prune-bundled.mjs).
set -eu
out=${1:?usage: prune-deploy.sh <deploy-dir>}
scripts=$(cd "$(dirname "$0")" && pwd)
cd "$out"
[ -f package.json ] || { echo "prune-deploy: $out has no package.json" >&2; exit 1; }
[ -d dist ] || { echo "prune-deploy: $out has no dist/ (was the service built?)" >&2; exit 1; }

# the service package itself: only package.json, dist/ and node_modules/
find . -mindepth 1 -maxdepth 1 ! -name package.json ! -name dist ! -name node_modules -exec rm -rf {} +
# A bundled service (dist/bundle.json) keeps the bundle and its external packages only.
node "$scripts/prune-bundled.mjs" .
find dist -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.ts.map' \) -delete

# A native module's C/C++ sources (deps/, and src/ when it holds no JavaScript): only its compiled
# addon is loaded
drop_native_sources() {
  rm -rf "$1/deps"
  if [ -d "$1/src" ] && [ -z "$(find "$1/src" -type f \( -name '*.js' -o -name '*.cjs' -o -name '*.mjs' -o -name '*.json' \) | head -n 1)" ]; then
    rm -rf "$1/src"
  fi
}
# native modules whose addon was never built (optional ones, such as cpu-features under ssh2: the
# require fails and its caller carries on, with or without the sources)
find node_modules -type f -regex '.*/node_modules/\(@[^/]*/\)?[^/@.][^/]*/binding\.gyp' | while read -r gyp; do
  pkg=$(dirname "$gyp")
  [ -d "$pkg/build/Release" ] || drop_native_sources "$pkg"
done

# node_modules: files Node never loads at run time
find node_modules -type f ! -iname 'licen[cs]e*' \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \
  -o -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.tsbuildinfo' \
  -o -iname '*.md' -o -iname '*.markdown' -o -name '.npmignore' -o -name '.eslintrc*' -o -name '.prettierrc*' \
  -o -name '.editorconfig' -o -name '.travis.yml' -o -name '*.gyp' -o -name '*.gypi' \) -delete
# packages a runtime package depends on that Node never loads, and the links to them: @types/* (type
# declarations; the OpenTelemetry pg instrumentation lists @types/pg and @types/pg-pool, hence
# @types/node) and @azure/msal-browser (7.5 MB, mcp-databases through tedious -> @azure/identity,
# whose Node.js build uses @azure/msal-node; only its browser build imports this one)
for unused in '@types/*' '@azure/msal-browser'; do
  rm -rf node_modules/.pnpm/$(printf '%s' "$unused" | tr / +)@*
  find node_modules -type l -path "*/node_modules/$unused" -exec rm -f {} +
done
# test folders at a package's root or in its compiled output (node_modules/<pkg>/test,
# node_modules/@scope/<pkg>/tests, node_modules/@opentelemetry/sql-common/build/test, ...)
find node_modules -depth -type d \
  -regex '.*/node_modules/\(@[^/]*/\)?[^/@.][^/]*/\(build/\|dist/\|lib/\)?\(test\|tests\|__tests__\)' -exec rm -rf {} +

# native modules: keep the compiled addon, drop sources and object files (better-sqlite3: ~15 MB)
find node_modules -type d -name build -path '*/node_modules/*/build' -prune | while read -r build; do
  pkg=$(dirname "$build")
  [ -d "$build/Release" ] || continue
  find "$build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
  find "$build/Release" -mindepth 1 ! -name '*.node' -exec rm -rf {} + 2>/dev/null || true
  rm -f "$build/Release/test_extension.node"
  drop_native_sources "$pkg"
done
find node_modules -xtype l -delete
find . -depth -type d -empty -delete
