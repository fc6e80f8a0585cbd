#!/usr/bin/env bash
# One command: installs pnpm (if missing) and the workspace, builds it, and starts every service whose
# backend is available, reporting each as started once its /health answers. Ctrl-C stops them.
#
#   ./start.sh [--verbose]
#
# Work that is up to date is skipped: `pnpm install` when node_modules was installed from this very
# pnpm-lock.yaml and no package.json changed since; `pnpm build` when no source file, tsconfig,
# package.json or the lockfile changed since this script's last build and every service is built.
# Quiet by default: install and build write to data/logs/{install,build}.log (shown when they fail)
# and each service to data/logs/<service>.log; --verbose prints all of it here instead.
# Exits non-zero when install or build fails or when no service started (see scripts/start.mjs).
set -euo pipefail
cd "$(dirname "$0")"

verbose=0
for arg in "$@"; do
  case $arg in
    -v | --verbose) verbose=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "start.sh: unknown argument $arg (try --help)" >&2
      exit 2
      ;;
  esac
done
logs=data/logs
mkdir -p "$logs"

# step NAME COMMAND...: the command's output in data/logs/NAME.log (its end shown when it fails),
# or here with --verbose
step() {
  local name=$1
  shift
  if [ "$verbose" = 1 ]; then
    "$@"
  elif ! "$@" >"$logs/$name.log" 2>&1; then
    tail -n 40 "$logs/$name.log" >&2
    echo "start.sh: $name failed (all of its output: $logs/$name.log)" >&2
    return 1
  fi
}

# changed_since STAMP PATH...: a file under PATH (node_modules and dist left out) is newer than
# STAMP, or STAMP does not exist
changed_since() {
  local stamp=$1
  shift
  [ -e "$stamp" ] || return 0
  [ -n "$(find "$@" \( -name node_modules -o -name dist \) -prune -o -type f -newer "$stamp" -print -quit 2>/dev/null)" ]
}

version=$(node -p "require('./package.json').packageManager.split('@')[1]")
pnpm=(pnpm)
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$version" ]; then
  echo "installing pnpm $version"
  npm install -g "pnpm@$version" >/dev/null 2>&1 || pnpm=(npx -y "pnpm@$version")
fi

manifests=(package.json pnpm-workspace.yaml .npmrc packages/*/package.json services/*/package.json)
# pnpm keeps a copy of the lockfile it installed from in node_modules/.pnpm/lock.yaml
if cmp -s pnpm-lock.yaml node_modules/.pnpm/lock.yaml && ! changed_since node_modules/.modules.yaml "${manifests[@]}"; then
  echo "dependencies: up to date"
else
  echo "dependencies: pnpm install --frozen-lockfile"
  step install "${pnpm[@]}" install --frozen-lockfile
fi

build_stamp=node_modules/.mcp-sse-build-stamp
built=1
for main in services/*/src/main.ts; do
  # the entry its package.json names ("main": dist/main.js, or a bundle)
  entry=$(sed -n 's/^  "main": "\(.*\)",$/\1/p' "${main%/src/main.ts}/package.json")
  [ -n "$entry" ] && [ -f "${main%/src/main.ts}/$entry" ] || built=0
done
if [ "$built" = 1 ] && ! changed_since "$build_stamp" tsconfig.base.json pnpm-lock.yaml "${manifests[@]}" \
  packages/*/src packages/*/tsconfig*.json services/*/src services/*/tsconfig*.json scripts/bundle-service.mjs; then
  echo "build: up to date"
else
  echo "build: pnpm build"
  # stamped with the time the build started: an edit made during the build triggers the next one
  touch "$build_stamp.new"
  step build "${pnpm[@]}" build
  mv "$build_stamp.new" "$build_stamp"
fi

args=()
[ "$verbose" = 1 ] && args+=(--verbose)
exec node scripts/start.mjs "${args[@]}"
