#!/usr/bin/env bash
# One command: installs pnpm (if missing) and the workspace, builds it, and starts every service
# whose backend is available, printing each URL. Ctrl-C stops them.
set -euo pipefail
cd "$(dirname "$0")"
version=$(node -p "require('./package.json').packageManager.split('@')[1]")
pnpm=(pnpm)
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$version" ]; then
  echo "installing pnpm $version"
  npm install -g "pnpm@$version" >/dev/null 2>&1 || pnpm=(npx -y "pnpm@$version")
fi
"${pnpm[@]}" install --frozen-lockfile
"${pnpm[@]}" build
exec node scripts/start.mjs
