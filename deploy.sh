#!/usr/bin/env bash
# deploy.sh: build, run and look after the MCP services (config/services.yaml) with Docker Compose.
#
#   ./deploy.sh up [service...]       engine check, base image, networks, build, start, wait for health, table
#   ./deploy.sh build [service...]    build the images only
#   ./deploy.sh down                  stop and remove the containers (volumes and images stay)
#   ./deploy.sh restart [service...]  re-create the deployed containers, so that they start with the
#                                     current secrets file and images; wait for health, table
#   ./deploy.sh status [service...]   table; exit 0 when every service `up` deploys is healthy
#   ./deploy.sh logs [service]        the last $LOG_LINES lines (followed when run on a terminal)
#   ./deploy.sh test [service...]     scripts/test_service.sh: list tools and call a harmless one
#   ./deploy.sh clean [--yes]         containers, volumes (SQLite data, /shared!) and images of the project
#   ./deploy.sh nginx [up|down]       the nginx profile: TLS and HTTP/2 in front of the deployed services,
#                                     https://<host>:$MCP_NGINX_PORT/<service>/mcp (config/nginx/README.md)
#
# Docker Swarm (several replicas of a service behind one name; README "Several replicas"):
#   ./deploy.sh up --swarm [service...]    `docker swarm init` when the engine is not in a swarm yet,
#                                          overlay networks, build, `docker stack deploy` of the same
#                                          docker-compose.yml, wait until every replica is healthy
#   ./deploy.sh status --swarm             the stack's services and their replicas; 0 when all run
#   ./deploy.sh down --swarm               `docker stack rm` (volumes and the swarm itself stay)
#   ./deploy.sh config --swarm [service...]  the stack file `up --swarm` deploys, on stdout (no engine needed)
#
# A service is named `sqlite` or `mcp-sqlite`. `up` skips a service whose backend setting is missing
# from the secrets file (config/services.yaml `requires`: postgres needs DATABASE_URL); `status`,
# `test` and scripts/health_check.sh show it as skipped, not as failed.
# Exit codes, for scripts and cron:
#   0 done   1 usage   2 no Docker engine   3 configuration (secrets file, registry, missing setting)
#   4 build failed   5 compose / network operation failed   6 not healthy in time   7 test failed
#
# Output is plain lines when it is not a terminal (a file, a pipe, cron mail, CI): no colours, no
# cursor movement; NO_COLOR turns colours off on a terminal too.
#
# Settings (environment):
#   SECRETS_FILE          env file for every service (default ~/projects/secrets/sse.env); never in the repo
#   COMPOSE_PROJECT_NAME  compose project (default mcp-sse); volumes are named <project>_sqlite-data, ...
#   COMPOSE_FILE          compose files, colon-separated (default docker-compose.yml, plus
#                         docker-compose.override.yml when it exists)
#   COMPOSE               compose command (default: `docker compose` when present, else `docker-compose`)
#   MCP_HEALTH_TIMEOUT    seconds `up`/`restart` wait for health (default 180)
#   MCP_SKIP_BUILD=1      `up` starts the images already built
#   MCP_BUILD_LOG         file the build output is appended to (default: this script's output)
#   MCP_BASE_IMAGE        workspace image tag (default mcp-sse/base:latest); NODE_IMAGE its FROM
#   MCP_BUILD_CA_FILE     extra CA bundle trusted while building (a TLS-intercepting proxy in front of
#                         the npm registry); default $NODE_EXTRA_CA_CERTS, else the host's
#                         /etc/ssl/certs/ca-certificates.crt. Only the build stage sees it.
#   MCP_DOCKER_SOCKET     the engine socket mcp-monitoring reads (default /var/run/docker.sock); its group
#                         id becomes MCP_DOCKER_GID (the container's extra group) unless that is set
#   MCP_DATABASES_SERVERS, MCP_DATABASES_SECRETS   mcp-databases' servers file (default config/servers.yml)
#                         and secrets file (default databases.env beside SECRETS_FILE); `up` checks both
#   NO_COLOR              no colours
#   MCP_REPLICAS          --swarm: replicas of each service that scales out (default 2; sqlite: always 1)
#   MCP_SWARM_ENDPOINT_MODE  --swarm: vip (default; the routing mesh publishes each port on every
#                         node, on ALL interfaces) or dnsrr (no published ports: a load balancer or
#                         client on the overlay network resolves tasks.<service>; for engines whose
#                         routing mesh does not work, e.g. without iptables)
#   MCP_SWARM_ADVERTISE_ADDR  --swarm: address for `docker swarm init` (default 127.0.0.1: one node)
#   MCP_TLS_CERT_FILE, MCP_TLS_KEY_FILE   nginx: the operator's certificate chain and key (PEM); when
#                         unset, a self-signed pair for MCP_TLS_NAME is made in ./data/nginx/ for a trial
#   MCP_TLS_NAME          nginx: the host name of the self-signed certificate (default localhost)
#   MCP_NGINX_PORT, MCP_NGINX_BIND   nginx: published port (default 8443) and address (default 127.0.0.1)
#   and the MCP_<NAME>_PORT / MCP_CONTAINER_PREFIX / network overrides of docker-compose.yml.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=scripts/lib/registry.sh
source scripts/lib/registry.sh

readonly E_USAGE=1 E_ENGINE=2 E_CONFIG=3 E_BUILD=4 E_COMPOSE=5 E_HEALTH=6 E_TEST=7

export SECRETS_FILE=${SECRETS_FILE:-$HOME/projects/secrets/sse.env}
export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-mcp-sse}
export MCP_BASE_IMAGE=${MCP_BASE_IMAGE:-mcp-sse/base:latest}
export NODE_IMAGE=${NODE_IMAGE:-node:20-bookworm-slim}
# mcp-monitoring reads the engine's socket as a member of the socket's group (docker-compose.yml group_add)
export MCP_DOCKER_SOCKET=${MCP_DOCKER_SOCKET:-/var/run/docker.sock}
if [ -z "${MCP_DOCKER_GID:-}" ] && [ -S "$MCP_DOCKER_SOCKET" ]; then
  MCP_DOCKER_GID=$(stat -c %g "$MCP_DOCKER_SOCKET")
  export MCP_DOCKER_GID
fi
# mcp-databases' two files, mounted read-only (docker-compose.yml)
export MCP_DATABASES_SERVERS=${MCP_DATABASES_SERVERS:-$PWD/config/servers.yml}
MCP_DATABASES_SECRETS=${MCP_DATABASES_SECRETS:-$(dirname "$SECRETS_FILE")/databases.env}
export MCP_DATABASES_SECRETS
MCP_HEALTH_TIMEOUT=${MCP_HEALTH_TIMEOUT:-180}
LOG_LINES=${LOG_LINES:-100}

info() { printf '%s==>%s %s\n' "$C_BOLD" "$C_RESET" "$*"; }
warn() { printf '%swarning:%s %s\n' "$C_YELLOW" "$C_RESET" "$*" >&2; }
die() {
  local code=$1
  shift
  printf '%serror:%s %s\n' "$C_RED" "$C_RESET" "$*" >&2
  exit "$code"
}

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}

image_version() {
  local version sha dirty=''
  version=$(sed -n 's/^  "version": "\([^"]*\)".*/\1/p' package.json | head -n 1)
  sha=$(git rev-parse --short HEAD 2>/dev/null || true)
  if [ -n "$sha" ] && [ -n "$(git status --porcelain 2>/dev/null | head -n 1)" ]; then dirty='-dirty'; fi
  printf '%s%s\n' "${version:-0.0.0}" "${sha:++$sha$dirty}"
}
export IMAGE_VERSION=${IMAGE_VERSION:-$(image_version)}
export IMAGE_SOURCE=${IMAGE_SOURCE:-$(git remote get-url origin 2>/dev/null || echo local)}

# Files removed when the script exits, however it exits.
TEMP_FILES=()
trap 'rm -f "${TEMP_FILES[@]}"' EXIT

# compose reads env_file even for build/down/logs; only up and restart need the real file
# (require_secrets). Without one, an empty stand-in: not /dev/null, which compose v1 refuses.
COMPOSE_SECRETS=$SECRETS_FILE
if [ ! -f "$COMPOSE_SECRETS" ]; then
  COMPOSE_SECRETS=$(mktemp)
  TEMP_FILES+=("$COMPOSE_SECRETS")
fi

compose() {
  local cmd
  mapfile -t cmd < <(compose_cmd) || true
  [ "${#cmd[@]}" -gt 0 ] || die $E_ENGINE "neither \`docker compose\` nor \`docker-compose\` is installed (scripts/ensure-docker.sh installs it)"
  # compose draws progress with cursor movement on a terminal; plain lines otherwise (v1 >= 1.28 and v2)
  [ "$MCP_COLOR" = 1 ] || cmd+=(--ansi never)
  SECRETS_FILE=$COMPOSE_SECRETS "${cmd[@]}" "$@"
}

require_engine() {
  if ! timeout 10 docker info >/dev/null 2>&1; then
    info "no Docker engine answers: running scripts/ensure-docker.sh"
    scripts/ensure-docker.sh || die $E_ENGINE "no Docker engine (scripts/ensure-docker.sh failed)"
  fi
}

require_secrets() {
  [ -f "$SECRETS_FILE" ] || die $E_CONFIG "secrets file $SECRETS_FILE does not exist.
  Create it (mode 600, outside the repo) with the settings of config/*.env.example that you need, e.g.
    install -D -m 600 /dev/null $SECRETS_FILE
  or point SECRETS_FILE at another file."
}

# SERVICES := the registry names from the arguments (or every service), checked. Globals rather than
# output, so that a failure here exits the script and not just a subshell.
SERVICES=()
select_services() {
  local arg names
  SERVICES=()
  if [ "$#" -eq 0 ]; then
    names=$(registry_names) || die $E_CONFIG "cannot read $MCP_SERVICES_FILE"
    mapfile -t SERVICES <<<"$names"
    return
  fi
  for arg in "$@"; do
    names=$(resolve_service "$arg") || exit $E_USAGE
    SERVICES+=("$names")
  done
}

# Drops from SERVICES those whose backend setting is missing from SECRETS_FILE (with a warning), or
# stops when such a service was named on the command line.
runnable_services() {
  local explicit=$1 name kept=()
  for name in "${SERVICES[@]}"; do
    if requirement_met "$name" "$SECRETS_FILE"; then
      kept+=("$name")
    elif [ "$explicit" = 1 ]; then
      die $E_CONFIG "mcp-$name needs $(service_requires "$name") in $SECRETS_FILE"
    else
      warn "mcp-$name skipped: it needs $(service_requires "$name") in $SECRETS_FILE"
    fi
  done
  SERVICES=("${kept[@]}")
}

# Files a service mounts that must exist before its container is created (docker would create a
# missing bind-mount source as an empty folder, and the service would then fail on a folder).
require_service_files() {
  local name
  for name in "$@"; do
    [ "$name" = databases ] || continue
    [ -f "$MCP_DATABASES_SERVERS" ] || die $E_CONFIG "mcp-databases needs its servers file $MCP_DATABASES_SERVERS (MCP_DATABASES_SERVERS).
  Start from the example: cp config/servers.example.yml $MCP_DATABASES_SERVERS (an empty list \`servers: []\` is valid)"
    [ -f "$MCP_DATABASES_SECRETS" ] || die $E_CONFIG "mcp-databases needs its secrets file $MCP_DATABASES_SECRETS (MCP_DATABASES_SECRETS).
  Create it readable by uid 1000 (the containers' user):
    install -m 600 -o 1000 /dev/null $MCP_DATABASES_SECRETS
    echo \"DATABASES_ENCRYPTION_KEY=\$(openssl rand -base64 32)\" >> $MCP_DATABASES_SECRETS"
  done
}

ensure_networks() {
  local name actual
  while read -r name actual; do
    if ! docker network inspect "$actual" >/dev/null 2>&1; then
      info "creating network $actual"
      docker network create "$actual" >/dev/null || die $E_COMPOSE "cannot create network $actual"
    fi
  done < <(network_rows)
}

# The docker CLI picks BuildKit by itself when its buildx plugin is installed. Without it (Debian's
# docker.io, these build machines) it falls back to the legacy builder and prints a deprecation notice
# on every build; the Dockerfiles use nothing BuildKit-only, so that notice is dropped from the output
# and this says once why the legacy builder runs.
builder_note_shown=0
builder_note() {
  [ "$builder_note_shown" = 0 ] || return 0
  builder_note_shown=1
  if ! docker buildx version >/dev/null 2>&1; then
    info "building with Docker's legacy builder: this docker CLI has no buildx plugin (with it, BuildKit builds the same Dockerfiles)"
  fi
}

# The build output, line by line as it comes: without the legacy builder's notice, and, when this
# script does not colour (not a terminal, NO_COLOR), without the colours and cursor movements that
# tools inside the build print (escape sequences; a carriage return that redraws a line becomes a
# new line).
filter_build_output() {
  if [ "$MCP_COLOR" = 1 ]; then
    drop_builder_notice
  else
    sed -u -E -e $'s|\x1b\\[[0-9;?]*[ -/]*[@-~]||g' -e $'s/\x1b\\][^\x07\x1b]*(\x07|\x1b\\\\)//g' \
      -e $'s/\x1b[()#][0-9A-Za-z]//g' -e $'s/\x1b[=>78DEHMc]//g' -e $'s/\r+$//' -e $'s/\r/\\n/g' | drop_builder_notice
  fi
}

drop_builder_notice() {
  grep --line-buffered -v -E \
    -e '^DEPRECATED: The legacy builder is deprecated' \
    -e '^ +(Install the buildx component|https://docs\.docker\.com/go/buildx/|BuildKit is currently disabled|environment-variable\.)' ||
    true
}

# Runs a build command; its output (stdout and stderr) goes to MCP_BUILD_LOG when set, else to this
# script's stdout. (Never to /dev/stdout: opening that path again truncates a redirected log file.)
run_build() {
  builder_note
  if [ -n "${MCP_BUILD_LOG:-}" ]; then
    "$@" 2>&1 | filter_build_output >>"$MCP_BUILD_LOG"
  else
    "$@" 2>&1 | filter_build_output
  fi
}

build_base() {
  local ca=${MCP_BUILD_CA_FILE:-${NODE_EXTRA_CA_CERTS:-}} started
  # the host's trust store covers a proxy CA that was installed system-wide
  [ -n "$ca" ] || [ ! -r /etc/ssl/certs/ca-certificates.crt ] || ca=/etc/ssl/certs/ca-certificates.crt
  scripts/bootstrap-base-image.sh || die $E_BUILD "no $NODE_IMAGE image (scripts/bootstrap-base-image.sh failed)"
  started=$SECONDS
  # The CA file is part of the build context only while the build runs.
  if [ -n "$ca" ] && [ -r "$ca" ]; then
    cp "$ca" .build-ca.pem
    TEMP_FILES+=("$PWD/.build-ca.pem")
  fi
  builder_note
  info "building $MCP_BASE_IMAGE (workspace install + build)"
  if ! run_build docker build --network host -f Dockerfile.base -t "$MCP_BASE_IMAGE" \
    --build-arg NODE_IMAGE="$NODE_IMAGE" --build-arg IMAGE_VERSION="$IMAGE_VERSION" \
    --build-arg IMAGE_SOURCE="$IMAGE_SOURCE" .; then
    rm -f .build-ca.pem
    die $E_BUILD "building $MCP_BASE_IMAGE failed"
  fi
  rm -f .build-ca.pem
  info "base image built in $((SECONDS - started))s"
}

build_services() {
  local started=$SECONDS services=()
  mapfile -t services < <(printf 'mcp-%s\n' "$@")
  builder_note
  info "building ${services[*]} (Dockerfile.service)"
  # The first alone, the rest side by side: the runtime layer every image shares is then in the build
  # cache before the others need it (built at the same moment, each would make its own copy).
  # docker-compose v1 builds one at a time unless given --parallel; v2 (BuildKit) runs side by side
  # by itself.
  run_build compose build "${services[0]}" || die $E_BUILD "building ${services[0]} failed"
  if [ "${#services[@]}" -gt 1 ]; then
    local parallel=()
    [[ $(compose version --short 2>/dev/null) == 1.* ]] && parallel=(--parallel)
    run_build compose build "${parallel[@]}" "${services[@]:1}" || die $E_BUILD "building ${services[*]:1} failed"
  fi
  info "service images built in $((SECONDS - started))s"
}

# "<state> <health>" of a container, or "missing -"
container_state() {
  local out
  if out=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1" 2>/dev/null) &&
    [ -n "$out" ]; then
    printf '%s\n' "$out"
  else
    echo 'missing -'
  fi
}

status_word() {
  local state health
  read -r state health <<<"$(container_state "$1")"
  case "$state/$health" in
    running/healthy | running/none) echo healthy ;;
    running/starting) echo starting ;;
    running/unhealthy) echo unhealthy ;;
    missing/*) echo down ;;
    *) echo "$state" ;;
  esac
}

# status_word of a service, or "skipped" for one without a container that `up` skips (its backend
# setting is missing from the secrets file).
service_status() {
  local word
  word=$(status_word "$(service_container "$1")")
  if [ "$word" = down ] && ! requirement_met "$1" "$SECRETS_FILE"; then word=skipped; fi
  printf '%s\n' "$word"
}

# One line saying why a container is not healthy: the output of its last healthcheck (the image's
# check prints the failing dependency, e.g. "HTTP 503 (database: Cannot reach the database server
# (ECONNREFUSED).)"), or, for a container that is not running, its exit code and last log line.
not_healthy_reason() {
  local container=$1 state health line code out
  read -r state health <<<"$(container_state "$container")"
  case $state in
    missing) echo "no container" ;;
    running)
      line=$(docker inspect -f '{{if .State.Health}}{{range .State.Health.Log}}{{printf "%d %q\n" .ExitCode .Output}}{{end}}{{end}}' \
        "$container" 2>/dev/null | sed '/^$/d' | tail -n 1)
      if [ -z "$line" ]; then
        [ "$health" = none ] || echo "no health check has run yet"
        return 0
      fi
      code=${line%% *}
      out=${line#* }
      out=${out#\"}
      out=${out%\"}
      out=${out//\\n/ }
      out=${out//\\\"/\"}
      out=${out%"${out##*[![:space:]]}"}
      [ "$code" = 0 ] || printf 'last check: %s\n' "${out:-exit $code}"
      ;;
    *)
      code=$(docker inspect -f '{{.State.ExitCode}}' "$container" 2>/dev/null || echo '?')
      line=$(docker logs --tail 1 "$container" 2>&1 | tail -n 1)
      printf 'exit code %s%s\n' "$code" "${line:+; last log line: $line}"
      ;;
  esac
}

print_table() {
  local name container url word colour rows=() w1=7 w2=9 w3=3 row
  for name in "$@"; do
    container=$(service_container "$name")
    url=$(service_url "$name")
    word=$(service_status "$name")
    [ "$word" = skipped ] && word="skipped (needs $(service_requires "$name"))"
    rows+=("$name|$container|$url|$word")
    [ "${#name}" -gt "$w1" ] && w1=${#name}
    [ "${#container}" -gt "$w2" ] && w2=${#container}
    [ "${#url}" -gt "$w3" ] && w3=${#url}
  done
  printf "%s%-${w1}s  %-${w2}s  %-${w3}s  %s%s\n" "$C_BOLD" SERVICE CONTAINER URL STATUS "$C_RESET"
  for row in "${rows[@]}"; do
    IFS='|' read -r name container url word <<<"$row"
    case $word in
      healthy) colour=$C_GREEN ;;
      starting | skipped*) colour=$C_YELLOW ;;
      *) colour=$C_RED ;;
    esac
    printf "%-${w1}s  %-${w2}s  %-${w3}s  %s%s%s\n" "$name" "$container" "$url" "$colour" "$word" "$C_RESET"
  done
  printf 'Endpoints: /sse (SSE), /mcp (Streamable HTTP), /rpc (JSON-RPC), /health. On %s: http://<container>:<port>/sse\n' \
    "$(network_rows | awk '$1 == "litellm-net" { print $2 }')"
}

# A setting in the secrets file whose URL names a loopback address: inside a container that is the
# container itself, the most common reason a backend cannot be reached.
loopback_hint() {
  local hit
  [ -r "$SECRETS_FILE" ] || return 0
  # (a URL with ?host=/path connects through a mounted Unix socket: not the mistake meant here)
  hit=$(grep -E '^[[:space:]]*(export[[:space:]]+)?[A-Z_]+=[a-z][a-z0-9+.-]*://([^/@]*@)?(localhost|127\.[0-9.]+|\[::1\])' "$SECRETS_FILE" |
    grep -v '[?&]host=/' | sed -E 's/^[[:space:]]*(export[[:space:]]+)?//; s/=.*//' | head -n 1 || true)
  [ -z "$hit" ] || warn "$hit in $SECRETS_FILE names a loopback address, which inside a container is the container itself: see \"A database on the Docker host\" in the README's troubleshooting"
}

# Waits until every service named is healthy. While waiting, prints a line whenever a service's state
# or the message of its last failing check changes; at the deadline, that message and the last log
# lines of each service that is still not healthy.
wait_healthy() {
  local deadline=$((SECONDS + MCP_HEALTH_TIMEOUT)) started=$SECONDS pending name container word reason last print
  local -A seen=()
  info "waiting up to ${MCP_HEALTH_TIMEOUT}s for ${*/#/mcp-} to be healthy"
  while :; do
    pending=()
    for name in "$@"; do
      container=$(service_container "$name")
      word=$(status_word "$container")
      if [ "$word" = healthy ]; then
        [ "${seen[$name]:-}" = healthy ] || printf '    %s: healthy after %ss\n' "$container" "$((SECONDS - started))"
        seen[$name]=healthy
        continue
      fi
      pending+=("$name")
      reason=$(not_healthy_reason "$container")
      # printed when the state or the message changes; no message (a check that passed a moment
      # ago, the state not yet updated) is news only with a new state
      last=${seen[$name]:-}
      print=0
      if [ -n "$reason" ]; then
        [ "$last" = "$word $reason" ] || print=1
      else
        case $last in "$word" | "$word "*) ;; *) print=1 ;; esac
      fi
      if [ "$print" = 1 ]; then
        printf '    %s: %s%s\n' "$container" "$word" "${reason:+ ($reason)}"
        seen[$name]="$word${reason:+ $reason}"
      fi
    done
    [ "${#pending[@]}" -eq 0 ] && return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      for name in "${pending[@]}"; do
        container=$(service_container "$name")
        reason=$(not_healthy_reason "$container")
        warn "$container is $(status_word "$container")${reason:+ ($reason)}; its last log lines:"
        docker logs --tail 15 "$container" 2>&1 | sed 's/^/    /' >&2 || true
      done
      loopback_hint
      return 1
    fi
    sleep 2
  done
}

cmd_build() {
  select_services "$@"
  require_engine
  build_base
  build_services "${SERVICES[@]}"
}

cmd_up() {
  local explicit=0 services selected
  [ "$#" -gt 0 ] && explicit=1
  select_services "$@"
  selected=("${SERVICES[@]}")
  require_engine
  require_secrets
  runnable_services "$explicit"
  services=("${SERVICES[@]}")
  [ "${#services[@]}" -gt 0 ] || die $E_CONFIG "no service to start"
  require_service_files "${services[@]}"
  ensure_networks
  if [ "${MCP_SKIP_BUILD:-0}" != 1 ]; then
    build_base
    build_services "${services[@]}"
  else
    local name image
    for name in "${services[@]}"; do
      image="$(registry_get "$name" image):${MCP_IMAGE_TAG:-latest}"
      docker image inspect "$image" >/dev/null 2>&1 ||
        die $E_CONFIG "MCP_SKIP_BUILD=1, but $image was never built: run ./deploy.sh up (or build) without it"
    done
  fi
  info "starting ${services[*]/#/mcp-}"
  compose up -d --no-build "${services[@]/#/mcp-}" || die $E_COMPOSE "compose up failed"
  local rc=0
  wait_healthy "${services[@]}" || rc=$E_HEALTH
  print_table "${selected[@]}"
  [ "$rc" -eq 0 ] || die $rc "not every service became healthy within ${MCP_HEALTH_TIMEOUT}s"
}

cmd_down() {
  require_engine
  info "stopping project $COMPOSE_PROJECT_NAME"
  compose down --remove-orphans || die $E_COMPOSE "compose down failed"
}

# compose reads env_file only when it creates a container, so a plain `docker restart` would keep the
# old settings: restart re-creates the containers (data lives in volumes; the root is read-only).
cmd_restart() {
  local explicit=0 present=() absent=() name
  [ "$#" -gt 0 ] && explicit=1
  select_services "$@"
  require_engine
  require_secrets
  for name in "${SERVICES[@]}"; do
    if [ "$(status_word "$(service_container "$name")")" = down ]; then absent+=("$name"); else present+=("$name"); fi
  done
  if [ "$explicit" = 1 ] && [ "${#absent[@]}" -gt 0 ]; then
    die $E_USAGE "not deployed: ${absent[*]/#/mcp-} (\`./deploy.sh up ${absent[*]}\` starts it)"
  fi
  [ "${#present[@]}" -gt 0 ] || die $E_USAGE "no service is deployed: run ./deploy.sh up"
  info "re-creating ${present[*]/#/mcp-} with the settings in $SECRETS_FILE"
  compose up -d --no-build --force-recreate "${present[@]/#/mcp-}" || die $E_COMPOSE "compose up --force-recreate failed"
  for name in "${absent[@]}"; do
    if requirement_met "$name" "$SECRETS_FILE"; then
      info "mcp-$name is not deployed; its settings are there now: ./deploy.sh up $name starts it"
    fi
  done
  local rc=0
  wait_healthy "${present[@]}" || rc=$E_HEALTH
  print_table "${present[@]}"
  [ "$rc" -eq 0 ] || die $rc "not every service became healthy within ${MCP_HEALTH_TIMEOUT}s"
}

# Exit 0 when every service listed (default: all) is healthy or skipped (see service_status), and
# at least one is deployed.
cmd_status() {
  local services name word bad=0 deployed=0
  select_services "$@"
  services=("${SERVICES[@]}")
  require_engine
  print_table "${services[@]}"
  for name in "${services[@]}"; do
    word=$(service_status "$name")
    [ "$word" = skipped ] && continue
    [ "$word" = down ] || deployed=$((deployed + 1))
    [ "$word" = healthy ] || bad=1
  done
  [ "$deployed" -gt 0 ] || bad=1
  [ "$bad" -eq 0 ] || exit $E_HEALTH
}

cmd_logs() {
  local args=(logs --tail "$LOG_LINES") services=()
  [ "$#" -le 1 ] || die $E_USAGE "logs takes at most one service"
  if [ "$#" -eq 1 ]; then
    select_services "$1"
    services=("mcp-${SERVICES[0]}")
  fi
  [ -t 1 ] && args+=(-f)
  [ "$MCP_COLOR" = 1 ] || args+=(--no-color)
  require_engine
  compose "${args[@]}" "${services[@]}"
}

cmd_test() {
  local services name failed=() tested=0
  select_services "$@"
  services=("${SERVICES[@]}")
  for name in "${services[@]}"; do
    if [ "$#" -eq 0 ]; then
      case $(service_status "$name") in
        skipped)
          info "mcp-$name skipped (it needs $(service_requires "$name")): not tested"
          continue
          ;;
        down)
          warn "mcp-$name is not running: not tested"
          continue
          ;;
      esac
    fi
    tested=$((tested + 1))
    scripts/test_service.sh "$name" || failed+=("$name")
  done
  [ "$tested" -gt 0 ] || die $E_TEST "no service is running: nothing tested"
  [ "${#failed[@]}" -eq 0 ] || die $E_TEST "test failed: ${failed[*]}"
}

cmd_clean() {
  local yes=0
  [ "${1:-}" = --yes ] && yes=1
  if [ "$yes" -ne 1 ]; then
    if [ -t 0 ]; then
      printf 'This removes the containers, the VOLUMES (SQLite data, /shared) and the images of project %s. Type yes: ' \
        "$COMPOSE_PROJECT_NAME"
      read -r answer
      [ "$answer" = yes ] || die $E_USAGE "nothing removed"
    else
      die $E_USAGE "clean deletes data: run it as \`./deploy.sh clean --yes\`"
    fi
  fi
  require_engine
  scripts/cleanup.sh --volumes --images || die $E_COMPOSE "cleanup failed"
}


# --- Docker Swarm ------------------------------------------------------------------------------
# The stack is named after the compose project; its services are <stack>_mcp-<name>, reachable on
# the overlay networks as mcp-<name> like the compose containers.

swarm_state() { docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown; }

ensure_swarm() {
  local state
  state=$(swarm_state)
  [ "$state" = active ] && return 0
  [ "$state" = inactive ] || die $E_COMPOSE "the engine's swarm state is '$state' (not active or inactive): see \`docker info\`"
  info "this engine is in no swarm: docker swarm init --advertise-addr ${MCP_SWARM_ADVERTISE_ADDR:-127.0.0.1}"
  docker swarm init --advertise-addr "${MCP_SWARM_ADVERTISE_ADDR:-127.0.0.1}" >/dev/null ||
    die $E_COMPOSE "docker swarm init failed"
}

# Swarm services can only join swarm-scoped networks: each network of config/networks.yaml is an
# attachable overlay (LiteLLM's own container joins it with `docker network connect`).
ensure_overlay_networks() {
  local name actual scope
  while read -r name actual; do
    scope=$(docker network inspect -f '{{.Scope}}' "$actual" 2>/dev/null || true)
    case $scope in
      swarm) ;;
      '')
        info "creating overlay network $actual"
        docker network create -d overlay --attachable "$actual" >/dev/null || die $E_COMPOSE "cannot create overlay network $actual"
        ;;
      *)
        die $E_CONFIG "network $actual exists with scope $scope (a compose deployment's bridge?); Swarm services need an overlay network: choose another name with $(registry_rows "$MCP_NETWORKS_FILE" name env | awk -F '\037' -v n="$name" '$1 == n { print $2 }')=<name>"
        ;;
    esac
  done < <(network_rows)
}

# The stack file: `docker stack config` of the compose files (interpolated: MCP_REPLICAS, the
# secrets file...), with only the services named and, in dnsrr mode, without published ports (the
# routing mesh publishes ports only for vip services).
#
# The stack format has no `group_add` (mcp-monitoring's access to the Docker socket) and
# `docker stack config` refuses a file that has one: it reads a copy without it (beside the
# original, so that relative paths resolve the same), and SWARM_GROUP_SERVICES lists the services
# that had it; cmd_up_swarm gives them the group with `docker service update --group-add`.
SWARM_GROUP_SERVICES=()
swarm_stack_file() {
  local out=$1 keep files=() file input err name
  shift
  keep=" ${*/#/mcp-} "
  IFS=: read -r -a files <<<"${COMPOSE_FILE:-docker-compose.yml}"
  [ -n "${COMPOSE_FILE:-}" ] || [ ! -f docker-compose.override.yml ] || files+=(docker-compose.override.yml)
  local args=()
  for file in "${files[@]}"; do
    input=$file
    if grep -q '^    group_add:' "$file"; then
      input=$(mktemp "$(dirname "$file")/.stack-input.XXXXXX.yml")
      TEMP_FILES+=("$input")
      awk '/^    group_add:/ { skip = 1; next } skip && /^      / { next } { skip = 0; print }' "$file" >"$input"
      while read -r name; do
        [[ $keep == *" $name "* ]] && SWARM_GROUP_SERVICES+=("$name")
      done < <(awk '/^  [^ #]/ { name = $0; sub(/^  /, "", name); sub(/:.*/, "", name) } /^    group_add:/ { print name }' "$file")
    fi
    args+=(-c "$input")
  done
  err=$(mktemp)
  TEMP_FILES+=("$err" "$out.full")
  SECRETS_FILE=$COMPOSE_SECRETS docker stack config "${args[@]}" 2>"$err" >"$out.full" ||
    die $E_COMPOSE "docker stack config refused the compose files: $(tr '\n' ' ' <"$err")"
  awk -v keep="$keep" -v drop_ports="$([ "${MCP_SWARM_ENDPOINT_MODE:-vip}" = dnsrr ] && echo 1 || echo 0)" '
      /^[^ ]/ { section = $0; skip = 0; drop = 0; print; next }
      section == "services:" && /^  [^ ]/ {
        name = $0; sub(/^  /, "", name); sub(/:.*/, "", name)
        skip = index(keep, " " name " ") == 0; drop = 0
        if (!skip) print
        next
      }
      skip { next }
      section == "services:" && /^    [^ ]/ { drop = drop_ports && $0 ~ /^    ports:/ }
      drop { next }
      { print }
    ' "$out.full" >"$out"
  grep -q '^  mcp-' "$out" || die $E_COMPOSE "docker stack config gave no service (docker CLI 20.10+ needed)"
}

# "<desired> <running>" replicas of each stack service, one line per service: name desired running
swarm_replicas() {
  docker service ls --filter "label=com.docker.stack.namespace=$COMPOSE_PROJECT_NAME" --format '{{.Name}} {{.Replicas}}' 2>/dev/null |
    awk '{ split($2, r, "/"); print $1, r[2], r[1] }'
}

# Waits until every service of the stack runs all its replicas (a task counts once its healthcheck
# passes) and no update is in progress.
wait_swarm_healthy() {
  local deadline=$((SECONDS + MCP_HEALTH_TIMEOUT)) started=$SECONDS lines pending name desired running
  info "waiting up to ${MCP_HEALTH_TIMEOUT}s for every replica of stack $COMPOSE_PROJECT_NAME to be healthy"
  while :; do
    lines=$(swarm_replicas)
    pending=0
    while read -r name desired running; do
      [ -n "$name" ] || continue
      [ "$running" = "$desired" ] && [ "$desired" -gt 0 ] || pending=1
    done <<<"$lines"
    if [ -n "$lines" ] && [ "$pending" = 0 ]; then
      info "every replica healthy after $((SECONDS - started))s"
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      warn "not every replica is healthy:"
      docker stack ps --no-trunc --format '    {{.Name}} {{.CurrentState}} {{.Error}}' "$COMPOSE_PROJECT_NAME" >&2 || true
      return 1
    fi
    sleep 2
  done
}

print_swarm_table() {
  docker stack services --format 'table {{.Name}}\t{{.Mode}}\t{{.Replicas}}\t{{.Image}}\t{{.Ports}}' "$COMPOSE_PROJECT_NAME" 2>/dev/null ||
    echo "no stack $COMPOSE_PROJECT_NAME"
  printf 'On the overlay network %s: http://mcp-<service>:<port>/sse (endpoint mode %s)\n' \
    "$(network_rows | awk '$1 == "litellm-net" { print $2 }')" "${MCP_SWARM_ENDPOINT_MODE:-vip}"
}

cmd_up_swarm() {
  local explicit=0 services stack_file
  [ "$#" -gt 0 ] && explicit=1
  select_services "$@"
  require_engine
  require_secrets
  runnable_services "$explicit"
  services=("${SERVICES[@]}")
  [ "${#services[@]}" -gt 0 ] || die $E_CONFIG "no service to start"
  export MCP_REPLICAS=${MCP_REPLICAS:-2}
  ensure_swarm
  ensure_overlay_networks
  if [ "${MCP_SKIP_BUILD:-0}" != 1 ]; then
    build_base
    build_services "${services[@]}"
  fi
  stack_file=$(mktemp --suffix=.yml)
  TEMP_FILES+=("$stack_file")
  swarm_stack_file "$stack_file" "${services[@]}"
  info "deploying stack $COMPOSE_PROJECT_NAME: ${services[*]/#/mcp-} ($MCP_REPLICAS replicas each where it scales out, endpoint mode ${MCP_SWARM_ENDPOINT_MODE:-vip})"
  # --resolve-image never: the images are local (no registry on a single node); a multi-node swarm
  # needs them pushed to a registry every node can pull from (MCP_IMAGE_TAG / image names).
  local out rc=0
  out=$(docker stack deploy --resolve-image never --prune -c "$stack_file" "$COMPOSE_PROJECT_NAME" 2>&1) || rc=$?
  # (the options compose uses and Swarm does not: build, container_name, restart, security_opt)
  printf '%s\n' "$out" | grep -v -E 'Ignoring unsupported options|ignoring IP-address' | sed 's/^/    /' || true
  [ "$rc" -eq 0 ] || die $E_COMPOSE "docker stack deploy failed"
  swarm_add_groups
  wait_swarm_healthy || rc=$E_HEALTH
  print_swarm_table
  [ "$rc" -eq 0 ] || die $rc "not every replica became healthy within ${MCP_HEALTH_TIMEOUT}s"
}

# What the stack format cannot say (swarm_stack_file): the Docker socket's group for the services
# whose compose entry has group_add. A stack deploy resets a service's groups to none, so this runs
# after every deploy; it starts the service's tasks once more.
swarm_add_groups() {
  local name
  for name in "${SWARM_GROUP_SERVICES[@]}"; do
    info "$name: docker service update --group-add ${MCP_DOCKER_GID:-999} (the Docker socket's group)"
    docker service update --detach --quiet --group-add "${MCP_DOCKER_GID:-999}" "${COMPOSE_PROJECT_NAME}_$name" >/dev/null ||
      die $E_COMPOSE "docker service update --group-add failed for $name"
  done
}

# The stack file `up --swarm` would deploy, on stdout, without deploying it (no engine needed, nor a
# swarm); the groups swarm_add_groups would add, on stderr.
cmd_config_swarm() {
  local stack_file
  select_services "$@"
  export MCP_REPLICAS=${MCP_REPLICAS:-2}
  stack_file=$(mktemp --suffix=.yml)
  TEMP_FILES+=("$stack_file")
  swarm_stack_file "$stack_file" "${SERVICES[@]}"
  cat "$stack_file"
  local name
  for name in "${SWARM_GROUP_SERVICES[@]}"; do
    printf '# %s: and --group-add %s (docker service update, after the deploy)\n' "$name" "${MCP_DOCKER_GID:-999}" >&2
  done
}

cmd_down_swarm() {
  local deadline
  require_engine
  [ "$(swarm_state)" = active ] || die $E_COMPOSE "this engine is in no swarm: nothing to remove"
  info "removing stack $COMPOSE_PROJECT_NAME"
  docker stack rm "$COMPOSE_PROJECT_NAME" >/dev/null || die $E_COMPOSE "docker stack rm failed"
  # stack rm returns before the tasks are gone; wait, so that the volumes and networks can go next
  deadline=$((SECONDS + 60))
  while [ -n "$(docker ps -q --filter "label=com.docker.stack.namespace=$COMPOSE_PROJECT_NAME")" ]; do
    [ "$SECONDS" -lt "$deadline" ] || die $E_COMPOSE "the stack's containers are still there after 60 s"
    sleep 1
  done
}

cmd_status_swarm() {
  local lines bad=0 name desired running
  require_engine
  print_swarm_table
  lines=$(swarm_replicas)
  [ -n "$lines" ] || exit $E_HEALTH
  while read -r name desired running; do
    [ "$running" = "$desired" ] || bad=1
  done <<<"$lines"
  [ "$bad" -eq 0 ] || exit $E_HEALTH
}

# A self-signed certificate for a trial (the operator's own is named by MCP_TLS_CERT_FILE/_KEY_FILE).
nginx_certificate() {
  if [ -n "${MCP_TLS_CERT_FILE:-}" ] || [ -n "${MCP_TLS_KEY_FILE:-}" ]; then
    [ -r "${MCP_TLS_CERT_FILE:-}" ] || die $E_CONFIG "MCP_TLS_CERT_FILE: cannot read '${MCP_TLS_CERT_FILE:-}'"
    [ -r "${MCP_TLS_KEY_FILE:-}" ] || die $E_CONFIG "MCP_TLS_KEY_FILE: cannot read '${MCP_TLS_KEY_FILE:-}'"
    MCP_TLS_CERT_FILE=$(realpath "$MCP_TLS_CERT_FILE")
    MCP_TLS_KEY_FILE=$(realpath "$MCP_TLS_KEY_FILE")
  else
    local dir=$PWD/data/nginx name=${MCP_TLS_NAME:-localhost}
    MCP_TLS_CERT_FILE=$dir/self-signed.crt
    MCP_TLS_KEY_FILE=$dir/self-signed.key
    if [ ! -f "$MCP_TLS_CERT_FILE" ] || ! openssl x509 -in "$MCP_TLS_CERT_FILE" -noout -checkend 86400 >/dev/null 2>&1 ||
      ! openssl x509 -in "$MCP_TLS_CERT_FILE" -noout -ext subjectAltName 2>/dev/null | grep -q "DNS:$name\b"; then
      command -v openssl >/dev/null || die $E_CONFIG "openssl is needed to make a self-signed certificate (apt-get install openssl)"
      mkdir -p "$dir"
      openssl req -x509 -newkey rsa:2048 -nodes -days 90 -subj "/CN=$name" \
        -addext "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1" \
        -keyout "$MCP_TLS_KEY_FILE" -out "$MCP_TLS_CERT_FILE" >/dev/null 2>&1 ||
        die $E_CONFIG "openssl could not make a self-signed certificate in $dir"
      chmod 600 "$MCP_TLS_KEY_FILE"
      # nginx's master reads the key as root; the file stays private to the operator.
      warn "made a SELF-SIGNED certificate for $name in $dir (a trial only: clients must trust it explicitly)"
    fi
  fi
  export MCP_TLS_CERT_FILE MCP_TLS_KEY_FILE
}

cmd_nginx() {
  local action=${1:-up}
  export COMPOSE_FILE="${COMPOSE_FILE:-docker-compose.yml}:config/nginx/docker-compose.nginx.yml"
  export COMPOSE_PROFILES=nginx
  require_engine
  case $action in
    up)
      nginx_certificate
      ensure_networks
      info "building mcp-sse/nginx (Debian's nginx)"
      run_build docker build --network host --build-arg "NODE_IMAGE=$NODE_IMAGE" \
        -f config/nginx/Dockerfile -t "mcp-sse/nginx:${MCP_IMAGE_TAG:-latest}" . ||
        die $E_BUILD "building the nginx image failed"
      compose up -d --no-build mcp-nginx || die $E_COMPOSE "compose up mcp-nginx failed"
      info "nginx: https://${MCP_TLS_NAME:-localhost}:${MCP_NGINX_PORT:-8443}/<service>/mcp and /<service>/sse"
      ;;
    down)
      MCP_TLS_CERT_FILE=${MCP_TLS_CERT_FILE:-/dev/null} MCP_TLS_KEY_FILE=${MCP_TLS_KEY_FILE:-/dev/null} \
        compose rm -sf mcp-nginx || die $E_COMPOSE "removing mcp-nginx failed"
      ;;
    *) die $E_USAGE "usage: ./deploy.sh nginx [up|down]" ;;
  esac
}

main() {
  local verb=${1:-} arg swarm=0 rest=()
  [ "$#" -gt 0 ] && shift
  for arg in "$@"; do
    if [ "$arg" = --swarm ]; then swarm=1; else rest+=("$arg"); fi
  done
  set -- "${rest[@]}"
  if [ "$swarm" = 1 ]; then
    case $verb in
      up) cmd_up_swarm "$@" ;;
      down) cmd_down_swarm "$@" ;;
      status) cmd_status_swarm "$@" ;;
      config) cmd_config_swarm "$@" ;;
      *) die $E_USAGE "--swarm goes with up, down, status and config" ;;
    esac
    return
  fi
  case $verb in
    up) cmd_up "$@" ;;
    build) cmd_build "$@" ;;
    down) cmd_down "$@" ;;
    restart) cmd_restart "$@" ;;
    status) cmd_status "$@" ;;
    logs) cmd_logs "$@" ;;
    test) cmd_test "$@" ;;
    clean) cmd_clean "$@" ;;
    nginx) cmd_nginx "$@" ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit $E_USAGE
      ;;
  esac
}

main "$@"
