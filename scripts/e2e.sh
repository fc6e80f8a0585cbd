#!/usr/bin/env bash
# End-to-end test of the containers (`pnpm test:e2e`, run by .ci/run): real engine, real images, real
# backends, everything reached through 127.0.0.1 only. It runs under a compose project, container
# names, networks, host ports (+10000 or the next free offset) and image tag (e2e) of its own, so it
# can run beside a real deployment and leaves nothing behind.
#
# Part 1, the README's Docker flow exactly as a user runs it: HOME is a fresh folder, the secrets
# file is made with the README's own command (`install -D -m 600 /dev/null ~/projects/secrets/sse.env`,
# empty: no settings at all), then
#   1. `./deploy.sh up > log 2>&1` builds everything from a clean state, skips the services that
#      need a setting (postgres: DATABASE_URL, github: GITHUB_TOKEN, databases: DATABASES_REGISTRY_URL)
#      and succeeds; the log has every line, no colours, no builder notice
#   2. `./deploy.sh status` → 0 with those shown as skipped; `./deploy.sh test` → 0 (the others' smoke
#      tests need no settings); scripts/health_check.sh → 0 and silent (the cron line)
#   3. MCP_API_KEYS added to the secrets file, `./deploy.sh restart` → calls without the key get 401
#   4. DATABASE_URL on 127.0.0.1 (the usual mistake) → `deploy.sh up postgres` fails naming
#      ECONNREFUSED while it waits and at the end; health_check.sh and status now report postgres
#   5. `./deploy.sh down`
# Part 2, everything with settings (API key, PostgreSQL through the host's socket, FETCH_ALLOWED_HOSTS,
# host folders for the data, a GitHub API stand-in, mcp-databases' registry and cache on the host's
# PostgreSQL and Redis, mcp-monitoring on the engine's socket):
#   6. `deploy.sh up`; health_check.sh → 0; scripts/test_service.sh for every service
#   7. initialize, tools/list, real calls and a refusal of every service over /sse and /mcp with the
#      official SDK client (e2e/checks.mjs)
#   8. sqlite: a row written, the container restarted and then recreated, the row read back each time
#   9. one container stopped → health_check.sh → 1, naming that service only; status → 6
#  10. every image: non-root, tini, HEALTHCHECK, labels, no dev dependencies / tests / TypeScript, size
#  11. `deploy.sh down` and cleanup.sh → nothing of the run is left (containers, volumes, networks)
#
# mcp-postgres and mcp-databases reach the host's PostgreSQL through its Unix socket in part 2, and
# mcp-databases the host's Redis through a relayed socket (e2e/docker-compose.e2e.yml explains why);
# what the run writes there (a registry schema, cache keys) carries the run's id and is removed. Prints one line per check and a closing
# "e2e: N checks passed, M failed" (appended as "e2e N M" to $MCP_COUNTS_FILE when set, for .ci/run);
# exits 1 on any failure. MCP_E2E_KEEP=1 leaves the deployment running for inspection.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source-path=SCRIPTDIR source=lib/registry.sh
source scripts/lib/registry.sh
# shellcheck source-path=SCRIPTDIR source=lib/checks.sh
source scripts/lib/checks.sh

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
summary() {
  printf '# e2e took %ss\n' "$((SECONDS - started))"
  checks_total e2e
}
# has_line FILE ERE: FILE has a line matching the extended regular expression
has_line() { grep -Eq -- "$2" "$1"; }

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
unset COMPOSE SECRETS_FILE COMPOSE_FILE MCP_HEALTH_INTERVAL MCP_HEALTH_TIMEOUT MCP_BUILD_LOG MCP_SKIP_BUILD NO_COLOR

mapfile -t NAMES < <(registry_names)
# With the README's empty secrets file: the services that need a setting are skipped, the others run.
NEEDY=() PLAIN=()
for name in "${NAMES[@]}"; do
  if [ -n "$(registry_get "$name" requires)" ]; then NEEDY+=("$name"); else PLAIN+=("$name"); fi
done
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
MCP_API_KEY="e2e-$id-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export MCP_API_KEY
pg_socket=/var/run/postgresql/.s.PGSQL.5432
# what the run writes to the host's PostgreSQL and Redis (mcp-databases' registry and cache) is named
# after it, so that runs side by side do not meet, and removed at the end
databases_schema="e2e_databases_$id"
databases_cache_prefix="mcp-e2e-$id"
relay_pid=''

urls=$(for name in "${NAMES[@]}"; do printf '%s %s\n' "$name" "$(service_url "$name")"; done |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const o={};for(const l of s.trim().split("\n")){const[k,v]=l.split(" ");o[k]=v}process.stdout.write(JSON.stringify(o))})')
export E2E_URLS="$urls"
printf '  project %s, containers %s*, ports +%s, work folder %s\n' "$COMPOSE_PROJECT_NAME" "$MCP_CONTAINER_PREFIX" "$offset" "$work"

# The run's registry schema and cache keys on the host's PostgreSQL and Redis; succeeds when none is left.
host_backends_clean() {
  psql -h /var/run/postgresql -U postgres -d test -qAtc "DROP SCHEMA IF EXISTS $databases_schema CASCADE" >/dev/null 2>&1
  redis-cli -h 127.0.0.1 -p 6379 --scan --pattern "$databases_cache_prefix*" 2>/dev/null |
    xargs -r redis-cli -h 127.0.0.1 -p 6379 del >/dev/null 2>&1
  [ -z "$(psql -h /var/run/postgresql -U postgres -d test -qAtc "SELECT 1 FROM pg_namespace WHERE nspname = '$databases_schema'" 2>/dev/null)" ] &&
    [ -z "$(redis-cli -h 127.0.0.1 -p 6379 --scan --pattern "$databases_cache_prefix*" 2>/dev/null)" ]
}
stop_relay() {
  if [ -n "$relay_pid" ]; then
    kill "$relay_pid" 2>/dev/null
    wait "$relay_pid" 2>/dev/null
    relay_pid=''
  fi
}

teardown() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "${MCP_E2E_KEEP:-0}" = 1 ]; then
    printf '# MCP_E2E_KEEP=1: left running (project %s, secrets %s)\n' "$COMPOSE_PROJECT_NAME" "${SECRETS_FILE:-$readme_secrets}"
    exit "$rc"
  fi
  if [ "${finished:-0}" != 1 ]; then
    not_ok "the run finished (it stopped early, exit $rc): tearing down"
    scripts/cleanup.sh --volumes --networks >/dev/null 2>&1 || true
    stop_relay
    host_backends_clean || true
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

# ---------------------------------------------------------------------------------------------
phase "README flow: an empty secrets file made as the README says, then ./deploy.sh up"
readme_home="$work/home"
mkdir -p "$readme_home"
# The README's commands, run by a user whose home is $readme_home; nothing else is set for them
# but the names and ports of this run (above). Each runs in a subshell so the settings stay there.
# shellcheck disable=SC2030,SC2031 # the subshell is the point: these settings are the user's only
as_user() { (export HOME="$readme_home" COMPOSE_FILE=docker-compose.yml && unset MCP_API_KEY && "$@"); }
readme_secrets="$readme_home/projects/secrets/sse.env"
check "install -D -m 600 /dev/null ~/projects/secrets/sse.env (the README's command)" \
  as_user bash -c 'install -D -m 600 /dev/null ~/projects/secrets/sse.env'
check "the secrets file is empty and mode 600" \
  test -f "$readme_secrets" -a ! -s "$readme_secrets" -a "$(stat -c %a "$readme_secrets" 2>/dev/null)" = 600
up_started=$SECONDS
as_user ./deploy.sh up >"$work/readme-up.log" 2>&1
up_rc=$?
up_seconds=$((SECONDS - up_started))
grep -v -e '^Step ' -e '^ ---> ' -e '^Removing intermediate' -e '^[[:space:]]*$' -e '^Sending build context' \
  -e '^Building ' -e 'Progress: resolved' -e '^Successfully' "$work/readme-up.log" | tail -n 25 | sed 's/^/  | /'
check "./deploy.sh up > log 2>&1 exits 0 with the empty secrets file (rc=$up_rc, ${up_seconds}s including builds)" \
  test "$up_rc" -eq 0
check "up says why postgres is skipped (it needs DATABASE_URL)" \
  has_line "$work/readme-up.log" 'mcp-postgres skipped: it needs DATABASE_URL or DATABASE_URL_FILE'
for name in "${NEEDY[@]}"; do
  [ "$name" = postgres ] && continue
  check "up says why $name is skipped (it needs $(service_requires "$name"))" \
    has_line "$work/readme-up.log" "mcp-$name skipped: it needs $(service_requires "$name") in "
done
check "the redirected log kept its first lines (no /dev/stdout truncation): networks created, base image built" \
  has_line "$work/readme-up.log" '^==> creating network mcp-e2e-'"$id"'-litellm$'
log_complete() {
  grep -q '^==> base image built in' "$1" && grep -q '^==> service images built in' "$1" &&
    tail -n 1 "$1" | grep -q '^Endpoints: '
}
no_escapes() { ! grep -q $'\x1b' "$1"; }
builder_notice_once() { ! grep -q '^DEPRECATED' "$1" && [ "$(grep -c 'legacy builder' "$1")" -le 1 ]; }
each_turned_healthy() {
  local log=$1 name
  shift
  for name in "$@"; do
    grep -Eq "^    $MCP_CONTAINER_PREFIX$name: healthy after [0-9]+s\$" "$log" || return 1
  done
}
check "the redirected log has the build output and ends with the table" log_complete "$work/readme-up.log"
check "the log is plain text: no colour or cursor escape sequences" no_escapes "$work/readme-up.log"
check "the legacy builder's deprecation notice is gone; why the legacy builder runs is said at most once" \
  builder_notice_once "$work/readme-up.log"
check "while waiting, up printed each service turning healthy (${PLAIN[*]})" each_turned_healthy "$work/readme-up.log" "${PLAIN[@]}"

out=$(as_user ./deploy.sh status 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/  | /'
check "./deploy.sh status exits 0 (rc=$rc)" test "$rc" -eq 0
needy_skipped_others_healthy() {
  local name
  for name in "${NEEDY[@]}"; do
    grep -Eq "^$name +.* skipped \\(needs $(service_requires "$name")\\)\$" <<<"$1" || return 1
  done
  [ "$(grep -Ec ' healthy$' <<<"$1")" -eq "${#PLAIN[@]}" ]
}
check "./deploy.sh status shows ${NEEDY[*]} as skipped, the others healthy" needy_skipped_others_healthy "$out"
as_user ./deploy.sh test >"$work/readme-test.log" 2>&1
rc=$?
check "./deploy.sh test exits 0 with no settings (rc=$rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || tail -n 30 "$work/readme-test.log" | sed 's/^/  | /'
check "fetch's default smoke test: the SSRF guard's refusal of loopback, over /sse and /mcp" \
  test "$(grep -c '^OK the expected refusal' "$work/readme-test.log")" -eq 2
for name in "${NEEDY[@]}"; do
  check "deploy.sh test says $name was skipped, not failed" has_line "$work/readme-test.log" "mcp-$name skipped \\(it needs"
done
out=$(as_user scripts/health_check.sh 2>&1)
rc=$?
check "the README's cron line stays quiet: health_check.sh exits 0 and prints nothing (rc=$rc${out:+, output: $out})" \
  test "$rc" -eq 0 -a -z "$out"
out=$(as_user scripts/health_check.sh -v 2>&1)
for name in "${NEEDY[@]}"; do
  check "health_check.sh -v lists $name as skipped" grep -Eq "^skipped +$name +not deployed: needs $(service_requires "$name")" <<<"$out"
done

phase "README flow: MCP_API_KEYS added to the secrets file, then ./deploy.sh restart"
printf 'MCP_API_KEYS=%s\n' "$MCP_API_KEY" >>"$readme_secrets"
as_user ./deploy.sh restart >"$work/readme-restart.log" 2>&1
rc=$?
sed 's/^/  | /' "$work/readme-restart.log" | tail -n 12
check "./deploy.sh restart exits 0 (rc=$rc)" test "$rc" -eq 0
tally node e2e/checks.mjs auth "${PLAIN[@]}"
rc=0
as_user ./deploy.sh test >"$work/readme-test2.log" 2>&1 || rc=$?
check "./deploy.sh test passes with the key (test_service.sh reads it from the secrets file) (rc=$rc)" test "$rc" -eq 0

phase "README flow: DATABASE_URL on 127.0.0.1 of the host (unreachable from a container)"
printf 'DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test\n' >>"$readme_secrets"
# checked every 2 s (the default is 15 s), so that a failing check is there to name well before the
# wait ends: the wait itself is what this step is about, and 20 s of it show the same
as_user env MCP_HEALTH_INTERVAL=2s MCP_HEALTH_TIMEOUT=20 ./deploy.sh up postgres >"$work/readme-pg.log" 2>&1
rc=$?
grep -v '^    [{ ]' "$work/readme-pg.log" | sed 's/^/  | /' | tail -n 14
check "deploy.sh up postgres exits 6 (not healthy in time) (rc=$rc)" test "$rc" -eq 6
check "while waiting it names the failing check: ECONNREFUSED" \
  has_line "$work/readme-pg.log" "^    ${MCP_CONTAINER_PREFIX}postgres: (starting|unhealthy) \(last check: HTTP 503 \(database: .*ECONNREFUSED"
check "at the end it names the failing check again" \
  has_line "$work/readme-pg.log" "^warning: ${MCP_CONTAINER_PREFIX}postgres is (starting|unhealthy) \(last check: HTTP 503 .*ECONNREFUSED"
check "and points at the README's host-database recipes" \
  has_line "$work/readme-pg.log" 'DATABASE_URL in .* names a loopback address.*README'
out=$(as_user scripts/health_check.sh 2>&1)
rc=$?
only_postgres_unhealthy() {
  [ "$1" -eq 1 ] && grep -q '^UNHEALTHY postgres .*ECONNREFUSED' <<<"$2" && [ "$(grep -c '^UNHEALTHY' <<<"$2")" -eq 1 ]
}
check "health_check.sh now checks postgres (its DATABASE_URL is set) and reports it (rc=$rc)" only_postgres_unhealthy "$rc" "$out"
as_user ./deploy.sh status >/dev/null 2>&1
rc=$?
check "deploy.sh status exits 6 while postgres is unhealthy (rc=$rc)" test "$rc" -eq 6

phase "README flow: ./deploy.sh down"
check "./deploy.sh down" quiet as_user ./deploy.sh down
containers_gone_volumes_kept() {
  [ -z "$(docker ps -aq --filter "name=$MCP_CONTAINER_PREFIX")" ] &&
    docker volume inspect "${COMPOSE_PROJECT_NAME}_sqlite-data" >/dev/null 2>&1
}
check "no container of the run is left; the named volumes stay" containers_gone_volumes_kept

# ---------------------------------------------------------------------------------------------
phase "with settings: API key, PostgreSQL through the host's socket, FETCH_ALLOWED_HOSTS, host folders"
# shellcheck disable=SC2031 # set here for the rest of the run, not in as_user's subshell
export COMPOSE_FILE="docker-compose.yml:e2e/docker-compose.e2e.yml"
export MCP_HEALTH_INTERVAL=2s
export SECRETS_FILE="$work/sse.env"
export MCP_SQLITE_DATA="$work/sqlite" MCP_WORKSPACE_DIR="$work/workspace" MCP_SHARED_DIR="$work/shared"
export MCP_MEMORY_DATA="$work/memory"
export MCP_DATABASES_SERVERS="$work/servers.yml" MCP_DATABASES_SECRETS="$work/databases.env"
export E2E_WORKSPACE_DIR="$MCP_WORKSPACE_DIR" E2E_SHARED_DIR="$MCP_SHARED_DIR" E2E_CONTAINER_PREFIX="$MCP_CONTAINER_PREFIX"
export E2E_RUN_ID="$id" E2E_DATABASES_SERVER=e2e-pg E2E_REPO_DIR="$ROOT" E2E_REDIS_SOCKET_DIR="$work/redis"
E2E_GITHUB_TOKEN="ghp_e2e$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export E2E_GITHUB_TOKEN
mkdir -p "$MCP_SQLITE_DATA" "$MCP_WORKSPACE_DIR" "$MCP_SHARED_DIR" "$MCP_MEMORY_DATA" "$E2E_REDIS_SOCKET_DIR"
printf 'Hello from the e2e run %s.\nSecond line.\n' "$id" >"$MCP_WORKSPACE_DIR/hello.txt"
# mcp-databases: one server, the host's PostgreSQL through its socket, read-only; no password (trust)
printf 'servers:\n  - name: %s\n    engine: postgresql\n    host: /var/run/postgresql\n    user: postgres\n    access: read_only\n    databases:\n      include: [test]\n' \
  "$E2E_DATABASES_SERVER" >"$MCP_DATABASES_SERVERS"
install -m 600 /dev/null "$MCP_DATABASES_SECRETS"
printf 'DATABASES_ENCRYPTION_KEY=%s\n' "$(openssl rand -base64 32)" >"$MCP_DATABASES_SECRETS"
# the services run as uid 1000 (`node`): their writable folders and the databases secrets file must be theirs
chown 1000:1000 "$MCP_SQLITE_DATA" "$MCP_SHARED_DIR" "$MCP_MEMORY_DATA" "$MCP_DATABASES_SECRETS" 2>/dev/null ||
  chmod 0777 "$MCP_SQLITE_DATA" "$MCP_SHARED_DIR" "$MCP_MEMORY_DATA"
{
  printf '# throwaway secrets of e2e run %s\n' "$id"
  printf 'MCP_API_KEYS=%s\n' "$MCP_API_KEY"
  printf 'LOG_LEVEL=warn\n'
  printf 'FETCH_ALLOWED_HOSTS=127.0.0.1\n'
  [ -S "$pg_socket" ] && printf 'DATABASE_URL=postgresql://postgres@localhost/test?host=/var/run/postgresql\n'
  printf 'GITHUB_TOKEN=%s\nGITHUB_API_URL=http://github-api:9000\n' "$E2E_GITHUB_TOKEN"
  printf 'DATABASES_REGISTRY_URL=postgresql://postgres@localhost/test?host=/var/run/postgresql\n'
  printf 'DATABASES_REGISTRY_SCHEMA=%s\nDATABASES_CACHE_PREFIX=%s\n' "$databases_schema" "$databases_cache_prefix"
  printf 'DATABASES_REDIS_URL=/run/redis/redis.sock\nDATABASES_SYNC_INTERVAL=0\n'
} >"$SECRETS_FILE"
chmod 600 "$SECRETS_FILE"
check "the host's PostgreSQL socket is there for mcp-postgres and mcp-databases ($pg_socket)" test -S "$pg_socket"
node e2e/redis-relay.mjs "$E2E_REDIS_SOCKET_DIR/redis.sock" >"$work/redis-relay.log" 2>&1 &
relay_pid=$!
relay_up() {
  local deadline=$((SECONDS + 20))
  until grep -q '^listening ' "$work/redis-relay.log"; do
    [ "$SECONDS" -lt "$deadline" ] && kill -0 "$relay_pid" 2>/dev/null || return 1
    sleep 0.2
  done
  redis-cli -s "$E2E_REDIS_SOCKET_DIR/redis.sock" ping | grep -qx PONG
}
check "the host's Redis answers through the relayed socket for mcp-databases (e2e/redis-relay.mjs)" relay_up

"${COMPOSE_WORDS[@]}" config >"$work/compose-config.yml" 2>"$work/compose-config.err"
check "compose accepts docker-compose.yml + e2e/docker-compose.e2e.yml" test -s "$work/compose-config.yml"
tally node e2e/checks.mjs registry "$work/compose-config.yml"

up_started=$SECONDS
MCP_BUILD_LOG="$work/build.log" ./deploy.sh up >"$work/up.log" 2>&1
up_rc=$?
up_seconds=$((SECONDS - up_started))
grep -v -e '^Creating' -e '^Building' -e '^[[:space:]]*$' "$work/up.log" | sed 's/^/  | /' || true
if [ "$up_rc" -eq 0 ]; then
  ok "deploy.sh up: every service healthy (${up_seconds}s, the images cached from the README flow)"
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
# every service at once (each run mostly waits on its clients' start-up and the service), then in order
declare -A smoke_pids=()
for name in "${NAMES[@]}"; do
  scripts/test_service.sh "$name" >"$work/test_service-$name.log" 2>&1 &
  smoke_pids[$name]=$!
done
for name in "${NAMES[@]}"; do
  if wait "${smoke_pids[$name]}"; then
    ok "test_service.sh $name: tools listed and $(registry_get "$name" smoke_tool) called over /sse and /mcp"
  else
    not_ok "test_service.sh $name"
    tail -n 20 "$work/test_service-$name.log" | sed 's/^/  | /'
  fi
done

databases_health() {
  local body
  body=$(curl -s -m 10 "$(service_url databases)/health") || return 1
  printf '%s' "$body" | grep -q '"registry":{"status":"ok"' && printf '%s' "$body" | grep -q '"cache":"up"'
}
check "mcp-databases /health: its registry (the host's PostgreSQL) ok, its cache (Redis, relayed) up" databases_health

# ---------------------------------------------------------------------------------------------
phase "tools over /sse and /mcp"
tally node e2e/checks.mjs tools
# The memory image holds its bundle and native addons only (scripts/prune-bundled.mjs): its second
# command, the re-embed, runs there too (nothing to do: the settings did not change).
memory_container=$(service_container memory)
reembed=$(docker exec "$memory_container" node dist/reembed-main.bundle.js 2>&1)
check "the re-embed command runs in $memory_container (${reembed})" matches "$reembed" 'nothing to do: the database already uses builtin:*'

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
  check "$image: tini is PID 1, the HEALTHCHECK is node running the image's healthcheck script" \
    matches "$entry" '\["/usr/bin/tini","--"\]*' '*"node","/usr/local/lib/mcp-sse/healthcheck.mjs"*'
  labels=$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.title"}}|{{index .Config.Labels "org.opencontainers.image.version"}}|{{index .Config.Labels "org.opencontainers.image.source"}}' "$image")
  check "$image labels title/version/source ($labels)" matches "$labels" "mcp-$name|?*|?*"
  # shellcheck disable=SC2016 # evaluated inside the image
  found=$(docker run --rm --network none --entrypoint sh "$image" -c '
    cd /app || exit 1
    ls node_modules/.pnpm 2>/dev/null | grep -E "^(vitest|@vitest\+|typescript|eslint|prettier|tsx|vite|@types\+|@mcp-sse\+testing|@modelcontextprotocol\+conformance)@?" | sed "s/^/dev dependency: /"
    find . -type d \( -name test -o -name tests -o -name __tests__ \) | sed "s/^/test folder: /"
    find . -type f \( -name "*.ts" -o -name "*.mts" -o -name "*.cts" -o -name "*.tsx" \) | head -n 5 | sed "s/^/TypeScript: /"
    [ -e src ] && echo "source folder: src"
    main=$(node -p "require(\"./package.json\").main") && [ -f "$main" ] || echo "missing the main entry ($main)"
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
grep -E 'built in' "$work/readme-up.log" | sed 's/^/  build time: /'

# ---------------------------------------------------------------------------------------------
phase "deploy.sh down"
check "deploy.sh down" quiet ./deploy.sh down
check "no container of the run is left" test -z "$(docker ps -aq --filter "name=$MCP_CONTAINER_PREFIX")"
check "scripts/cleanup.sh --volumes --networks --dangling" quiet scripts/cleanup.sh --volumes --networks --dangling
check "nothing of the run is left (containers, networks, volumes)" test -z "$(leftovers)"
check "the bind-mounted data stayed on the host until the run deleted it" test -s "$MCP_SQLITE_DATA/database.db"
check "mcp-memory's database is in its host data folder" test -s "$MCP_MEMORY_DATA/memory.db"
stop_relay
check "the run's registry schema ($databases_schema) and cache keys ($databases_cache_prefix*) are removed" host_backends_clean

finished=1
summary
[ "$failed" -eq 0 ]
