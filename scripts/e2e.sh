#!/usr/bin/env bash
# End-to-end test of the containers (`pnpm test:e2e`, run by .ci/run): real engine, real images, real
# backends, everything reached through 127.0.0.1 only.
#
#   1. a Docker engine (scripts/ensure-docker.sh installs and starts one if needed)
#   2. `deploy.sh up` from a clean state: its own compose project, container names, networks, host
#      ports, image tag (e2e), throwaway secrets file and data folders, so it can run beside a real
#      deployment and leaves nothing behind
#   3. scripts/health_check.sh → 0; scripts/test_service.sh for every service
#   4. at least one tool of every service over /sse and /mcp with the official SDK client (e2e/checks.mjs)
#   5. sqlite: a row written, the container restarted and then recreated, the row read back each time
#   6. one container stopped → health_check.sh → 1, naming that service only
#   7. every image: non-root, tini, HEALTHCHECK, labels, no dev dependencies / tests / TypeScript, size
#   8. `deploy.sh down` → nothing of the run is left (containers, volumes, networks)
#
# mcp-postgres uses the host's PostgreSQL through its Unix socket (e2e/docker-compose.e2e.yml explains
# why). Prints one line per check and a closing "N passed, M failed"; exits 1 on any failure.
# MCP_E2E_KEEP=1 leaves the deployment running for inspection.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source-path=SCRIPTDIR source=lib/registry.sh
source scripts/lib/registry.sh

passed=0 failed=0 started=$SECONDS
ok() {
  passed=$((passed + 1))
  printf '%sok%s - %s\n' "$C_GREEN" "$C_RESET" "$*"
}
not_ok() {
  failed=$((failed + 1))
  printf '%snot ok%s - %s\n' "$C_RED" "$C_RESET" "$*"
}
# check "description" command...: ok when the command exits 0
check() {
  local description=$1
  shift
  if "$@"; then ok "$description"; else not_ok "$description"; fi
}
# quiet COMMAND...: runs it with its output in the run's command log (shown when a check fails)
quiet() {
  local rc=0
  "$@" >"$work/last-command.log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then sed 's/^/  | /' "$work/last-command.log" | tail -n 20; fi
  return "$rc"
}
# matches TEXT GLOB...: TEXT matches every glob pattern
matches() {
  local text=$1 pattern
  shift
  for pattern in "$@"; do
    # shellcheck disable=SC2053 # the pattern is a glob on purpose
    [[ $text == $pattern ]] || return 1
  done
}
# Runs a command that prints ok/not ok lines (e2e/checks.mjs) and counts them.
tally() {
  local line
  while IFS= read -r line; do
    case $line in
      'ok - '*) ok "${line#ok - }" ;;
      'not ok - '*) not_ok "${line#not ok - }" ;;
      *) printf '  %s\n' "$line" ;;
    esac
  done < <("$@" 2>&1)
}
phase() { printf '%s# %s (%ss)%s\n' "$C_BOLD" "$*" "$((SECONDS - started))" "$C_RESET"; }
summary() {
  printf '# e2e took %ss\n' "$((SECONDS - started))"
  printf '%s passed, %s failed\n' "$passed" "$failed"
}

# ---------------------------------------------------------------------------------------------
phase "engine"
if scripts/ensure-docker.sh; then
  ok "a Docker engine answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
else
  not_ok "a Docker engine answers"
  summary
  exit 1
fi
mapfile -t COMPOSE_WORDS < <(compose_cmd)
ok "compose command: ${COMPOSE_WORDS[*]} ($("${COMPOSE_WORDS[@]}" version --short 2>/dev/null || echo '?'))"

# ---------------------------------------------------------------------------------------------
phase "a run of its own"
id=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
export COMPOSE_PROJECT_NAME="mcpe2e$id"
export MCP_CONTAINER_PREFIX="mcp-e2e-$id-"
export MCP_LITELLM_NETWORK="mcp-e2e-$id-litellm"
export MCP_POSTGRES_NETWORK="mcp-e2e-$id-postgres"
export MCP_IMAGE_TAG=e2e
export COMPOSE_FILE="docker-compose.yml:e2e/docker-compose.e2e.yml"
export MCP_HEALTH_INTERVAL=2s MCP_HEALTH_TIMEOUT=${MCP_HEALTH_TIMEOUT:-180}
unset COMPOSE

mapfile -t NAMES < <(registry_names)
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
offset=''
for candidate in 10000 20000 30000 40000; do
  busy=0
  for name in "${NAMES[@]}"; do
    port_in_use $(($(registry_get "$name" port) + candidate)) && busy=1
  done
  if [ "$busy" -eq 0 ]; then
    offset=$candidate
    break
  fi
done
if [ -z "$offset" ]; then
  not_ok "free host ports for the run"
  summary
  exit 1
fi
for name in "${NAMES[@]}"; do
  export "MCP_$(service_env_stem "$name")_PORT=$(($(registry_get "$name" port) + offset))"
done

work=$(mktemp -d /tmp/mcp-e2e.XXXXXX)
chmod 755 "$work"
export SECRETS_FILE="$work/sse.env"
MCP_API_KEY="e2e-$id-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export MCP_API_KEY
export MCP_SQLITE_DATA="$work/sqlite" MCP_WORKSPACE_DIR="$work/workspace" MCP_SHARED_DIR="$work/shared"
export E2E_WORKSPACE_DIR="$MCP_WORKSPACE_DIR" E2E_SHARED_DIR="$MCP_SHARED_DIR" E2E_CONTAINER_PREFIX="$MCP_CONTAINER_PREFIX"
mkdir -p "$MCP_SQLITE_DATA" "$MCP_WORKSPACE_DIR" "$MCP_SHARED_DIR"
printf 'Hello from the e2e run %s.\nSecond line.\n' "$id" >"$MCP_WORKSPACE_DIR/hello.txt"
# the services run as uid 1000 (`node`): their writable folders must be theirs
chown 1000:1000 "$MCP_SQLITE_DATA" "$MCP_SHARED_DIR" 2>/dev/null || chmod 0777 "$MCP_SQLITE_DATA" "$MCP_SHARED_DIR"
pg_socket=/var/run/postgresql/.s.PGSQL.5432
{
  printf '# throwaway secrets of e2e run %s\n' "$id"
  printf 'MCP_API_KEYS=%s\n' "$MCP_API_KEY"
  printf 'LOG_LEVEL=warn\n'
  printf 'FETCH_ALLOWED_HOSTS=127.0.0.1\n'
  [ -S "$pg_socket" ] && printf 'DATABASE_URL=postgresql://postgres@localhost/test?host=/var/run/postgresql\n'
} >"$SECRETS_FILE"
chmod 600 "$SECRETS_FILE"
check "the host's PostgreSQL socket is there for mcp-postgres ($pg_socket)" test -S "$pg_socket"

urls=$(for name in "${NAMES[@]}"; do printf '%s %s\n' "$name" "$(service_url "$name")"; done |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const o={};for(const l of s.trim().split("\n")){const[k,v]=l.split(" ");o[k]=v}process.stdout.write(JSON.stringify(o))})')
export E2E_URLS="$urls"
printf '  project %s, containers %s*, ports +%s, work folder %s\n' "$COMPOSE_PROJECT_NAME" "$MCP_CONTAINER_PREFIX" "$offset" "$work"

teardown() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "${MCP_E2E_KEEP:-0}" = 1 ]; then
    printf '# MCP_E2E_KEEP=1: left running (project %s, secrets %s)\n' "$COMPOSE_PROJECT_NAME" "$SECRETS_FILE"
    exit "$rc"
  fi
  if [ "${finished:-0}" != 1 ]; then
    not_ok "the run finished (it stopped early, exit $rc): tearing down"
    scripts/cleanup.sh --volumes --networks >/dev/null 2>&1 || true
    rm -rf "$work"
    summary
    exit 1
  fi
  rm -rf "$work"
  exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT TERM

leftovers() {
  docker ps -aq --filter "name=$MCP_CONTAINER_PREFIX"
  docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME"
  docker network ls -q --filter "name=mcp-e2e-$id-"
  docker volume ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME"
}
check "clean state: no container, network or volume of this run exists yet" test -z "$(leftovers)"

"${COMPOSE_WORDS[@]}" config >"$work/compose-config.yml" 2>"$work/compose-config.err"
check "compose accepts docker-compose.yml + e2e/docker-compose.e2e.yml" test -s "$work/compose-config.yml"
tally node e2e/checks.mjs registry "$work/compose-config.yml"

# ---------------------------------------------------------------------------------------------
phase "deploy.sh up"
up_started=$SECONDS
MCP_BUILD_LOG="$work/build.log" ./deploy.sh up >"$work/up.log" 2>&1
up_rc=$?
up_seconds=$((SECONDS - up_started))
grep -v -e '^Creating' -e '^Building' -e 'DEPRECATED' -e 'buildx' -e '^[[:space:]]*$' "$work/up.log" | sed 's/^/  | /' || true
if [ "$up_rc" -eq 0 ]; then
  ok "deploy.sh up: every service healthy (${up_seconds}s including builds)"
else
  not_ok "deploy.sh up exited $up_rc after ${up_seconds}s"
  tail -n 40 "$work/build.log" 2>/dev/null | sed 's/^/  build| /'
fi

# ---------------------------------------------------------------------------------------------
phase "health checks"
out=$(scripts/health_check.sh 2>&1)
rc=$?
check "health_check.sh exits 0 and prints nothing when all are healthy (rc=$rc${out:+, output: $out})" test "$rc" -eq 0 -a -z "$out"
json=$(scripts/health_check.sh --json 2>&1)
check "health_check.sh --json reports every service healthy" node -e '
  const r = JSON.parse(process.argv[1]);
  const names = process.argv.slice(2);
  process.exit(r.healthy === true && names.every((n) => r.services.some((s) => s.name === n && s.healthy)) ? 0 : 1);
' "$json" "${NAMES[@]}"
for name in "${NAMES[@]}"; do
  if out=$(scripts/test_service.sh "$name" 2>&1); then
    ok "test_service.sh $name: tools listed and $(registry_get "$name" smoke_tool) called over /sse and /mcp"
  else
    not_ok "test_service.sh $name"
    printf '%s\n' "$out" | tail -n 20 | sed 's/^/  | /'
  fi
done

# ---------------------------------------------------------------------------------------------
phase "tools over /sse and /mcp"
tally node e2e/checks.mjs tools

# ---------------------------------------------------------------------------------------------
phase "sqlite data survives restart and re-creation"
sqlite_container=$(service_container sqlite)
marker="m$id"
tally node e2e/checks.mjs sqlite-write "$marker"
wait_healthy() {
  local deadline=$((SECONDS + 90))
  until [ "$(docker inspect -f '{{.State.Health.Status}}' "$1" 2>/dev/null)" = healthy ]; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 1
  done
}
check "docker restart $sqlite_container" quiet docker restart "$sqlite_container"
check "$sqlite_container healthy after the restart" wait_healthy "$sqlite_container"
tally node e2e/checks.mjs sqlite-read "$marker"
check "compose rm -s -f mcp-sqlite (the container is gone, the volume stays)" \
  quiet "${COMPOSE_WORDS[@]}" rm -s -f mcp-sqlite
check "deploy.sh up sqlite re-creates it (no build)" quiet env MCP_SKIP_BUILD=1 ./deploy.sh up sqlite
tally node e2e/checks.mjs sqlite-read "$marker"
check "the database file is in the host data folder" test -s "$MCP_SQLITE_DATA/database.db"

# ---------------------------------------------------------------------------------------------
phase "a stopped service is reported"
victim=fetch
victim_container=$(service_container "$victim")
check "docker stop $victim_container" quiet docker stop "$victim_container"
out=$(scripts/health_check.sh 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/  | /'
check "health_check.sh exits 1 with a service down (rc=$rc)" test "$rc" -eq 1
check "health_check.sh names $victim, and only $victim" \
  test "$(printf '%s\n' "$out" | grep -c '^UNHEALTHY')" -eq 1 -a "$(printf '%s\n' "$out" | grep -c "^UNHEALTHY $victim ")" -eq 1
./deploy.sh status >/dev/null 2>&1
rc=$?
check "deploy.sh status exits 6 while $victim is down (rc=$rc)" test "$rc" -eq 6

# ---------------------------------------------------------------------------------------------
phase "images"
sizes=()
for name in "${NAMES[@]}"; do
  image="$(registry_get "$name" image):$MCP_IMAGE_TAG"
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    not_ok "$image exists"
    continue
  fi
  user=$(docker image inspect -f '{{.Config.User}}' "$image")
  uid=$(docker run --rm --network none --entrypoint id "$image" -u 2>/dev/null)
  check "$image runs as a non-root user ($user, uid $uid)" test -n "$uid" -a "$uid" != 0 -a "$user" != root -a -n "$user"
  entry=$(docker image inspect -f '{{json .Config.Entrypoint}} {{json .Config.Healthcheck.Test}}' "$image")
  check "$image: tini is PID 1, the HEALTHCHECK uses node" matches "$entry" '\["/usr/bin/tini","--"\]*' '*"node"*'
  labels=$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.title"}}|{{index .Config.Labels "org.opencontainers.image.version"}}|{{index .Config.Labels "org.opencontainers.image.source"}}' "$image")
  check "$image labels title/version/source ($labels)" matches "$labels" "mcp-$name|?*|?*"
  # shellcheck disable=SC2016 # evaluated inside the image
  found=$(docker run --rm --network none --entrypoint sh "$image" -c '
    cd /app || exit 1
    ls node_modules/.pnpm 2>/dev/null | grep -E "^(vitest|@vitest\+|typescript|eslint|prettier|tsx|vite|@types\+|@mcp-sse\+testing|@modelcontextprotocol\+conformance)@?" | sed "s/^/dev dependency: /"
    find . -type d \( -name test -o -name tests -o -name __tests__ \) | sed "s/^/test folder: /"
    find . -type f \( -name "*.ts" -o -name "*.mts" -o -name "*.cts" -o -name "*.tsx" \) | head -n 5 | sed "s/^/TypeScript: /"
    [ -e src ] && echo "source folder: src"
    [ -f dist/main.js ] || echo "missing dist/main.js"
    true' 2>&1)
  check "$image has no dev dependencies, tests or TypeScript sources${found:+ ($(printf '%s' "$found" | head -n 3 | tr '\n' ';'))}" test -z "$found"
  bytes=$(docker image inspect -f '{{.Size}}' "$image")
  mb=$((bytes / 1000000))
  sizes+=("$name=${mb}MB")
  check "$image is under 200 MB (${mb} MB)" test "$mb" -lt 200
done
for name in "${NAMES[@]}"; do
  container=$(service_container "$name")
  [ "$(docker inspect -f '{{.State.Running}}' "$container" 2>/dev/null)" = true ] || continue
  uid=$(docker exec "$container" id -u 2>/dev/null)
  pid1=$(docker exec "$container" cat /proc/1/cmdline 2>/dev/null | tr '\0' ' ')
  ro=$(docker inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$container")
  check "$container: uid $uid, PID 1 is tini, read-only root ($pid1)" \
    matches "$uid:$ro:$pid1" '[1-9]*:true:/usr/bin/tini *'
done
printf '  image sizes: %s\n' "${sizes[*]}"
grep -E 'built in' "$work/up.log" | sed 's/^/  build time: /'

# ---------------------------------------------------------------------------------------------
phase "deploy.sh down"
check "deploy.sh down" quiet ./deploy.sh down
check "no container of the run is left" test -z "$(docker ps -aq --filter "name=$MCP_CONTAINER_PREFIX")"
check "scripts/cleanup.sh --volumes --networks --dangling" quiet scripts/cleanup.sh --volumes --networks --dangling
check "nothing of the run is left (containers, networks, volumes)" test -z "$(leftovers)"
check "the bind-mounted data stayed on the host until the run deleted it" test -s "$MCP_SQLITE_DATA/database.db"

finished=1
summary
[ "$failed" -eq 0 ]
