#!/usr/bin/env bash
# deploy.sh: build, run and look after the MCP services (config/services.yaml) with Docker Compose.
#
#   ./deploy.sh up [service...]       engine check, base image, networks, build, start, wait for health, table
#   ./deploy.sh build [service...]    build the images only
#   ./deploy.sh down                  stop and remove the containers (volumes and images stay)
#   ./deploy.sh restart [service...]  restart containers, wait for health, table
#   ./deploy.sh status                table of every service; exit 0 only when all are healthy
#   ./deploy.sh logs [service]        the last $LOG_LINES lines (followed when run on a terminal)
#   ./deploy.sh test [service...]     scripts/test_service.sh: list tools and call a harmless one
#   ./deploy.sh clean [--yes]         containers, volumes (SQLite data, /shared!) and images of the project
#
# A service is named `sqlite` or `mcp-sqlite`. Exit codes, for scripts and cron:
#   0 done   1 usage   2 no Docker engine   3 configuration (secrets file, registry, missing setting)
#   4 build failed   5 compose / network operation failed   6 not healthy in time   7 test failed
#
# Settings (environment):
#   SECRETS_FILE          env file for every service (default ~/projects/secrets/sse.env); never in the repo
#   COMPOSE_PROJECT_NAME  compose project (default mcp-sse); volumes are named <project>_sqlite-data, ...
#   COMPOSE_FILE          compose files, colon-separated (default docker-compose.yml)
#   COMPOSE               compose command (default: `docker compose` when present, else `docker-compose`)
#   MCP_HEALTH_TIMEOUT    seconds `up`/`restart` wait for health (default 180)
#   MCP_SKIP_BUILD=1      `up` starts the images already built
#   MCP_BASE_IMAGE        workspace image tag (default mcp-sse/base:latest); NODE_IMAGE its FROM
#   MCP_BUILD_CA_FILE     extra CA bundle trusted while building (a TLS-intercepting proxy in front of
#                         the npm registry); default $NODE_EXTRA_CA_CERTS, else the host's
#                         /etc/ssl/certs/ca-certificates.crt. Only the build stage sees it.
#   NO_COLOR              no colours (they are used only on a terminal anyway)
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

compose() {
  local cmd
  # compose reads env_file even for build/down/logs; only `up` needs the real file (require_secrets)
  [ -f "$SECRETS_FILE" ] || SECRETS_FILE=/dev/null
  mapfile -t cmd < <(compose_cmd) || true
  [ "${#cmd[@]}" -gt 0 ] || die $E_ENGINE "neither \`docker compose\` nor \`docker-compose\` is installed (scripts/ensure-docker.sh installs it)"
  "${cmd[@]}" "$@"
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

# The setting a service's backend needs (services.yaml `requires`), present in SECRETS_FILE?
has_required_setting() {
  local requires alternatives alt
  requires=$(registry_get "$1" requires || true)
  [ -n "$requires" ] || return 0
  IFS='|' read -r -a alternatives <<<"$requires"
  for alt in "${alternatives[@]}"; do
    grep -Eq "^[[:space:]]*(export[[:space:]]+)?${alt}=[^[:space:]]" "$SECRETS_FILE" && return 0
  done
  return 1
}

# Drops from SERVICES those whose backend setting is missing (with a warning), or stops when such a
# service was named on the command line.
runnable_services() {
  local explicit=$1 name kept=()
  for name in "${SERVICES[@]}"; do
    if has_required_setting "$name"; then
      kept+=("$name")
    elif [ "$explicit" = 1 ]; then
      die $E_CONFIG "mcp-$name needs $(registry_get "$name" requires | sed 's/|/ or /g') in $SECRETS_FILE"
    else
      warn "mcp-$name skipped: it needs $(registry_get "$name" requires | sed 's/|/ or /g') in $SECRETS_FILE"
    fi
  done
  SERVICES=("${kept[@]}")
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

build_base() {
  local ca=${MCP_BUILD_CA_FILE:-${NODE_EXTRA_CA_CERTS:-}} started
  # the host's trust store covers a proxy CA that was installed system-wide
  [ -n "$ca" ] || [ ! -r /etc/ssl/certs/ca-certificates.crt ] || ca=/etc/ssl/certs/ca-certificates.crt
  scripts/bootstrap-base-image.sh || die $E_BUILD "no $NODE_IMAGE image (scripts/bootstrap-base-image.sh failed)"
  started=$SECONDS
  # The CA file is part of the build context only while the build runs.
  if [ -n "$ca" ] && [ -r "$ca" ]; then
    cp "$ca" .build-ca.pem
    trap 'rm -f .build-ca.pem' EXIT
  fi
  info "building $MCP_BASE_IMAGE (workspace install + build)"
  if ! docker build --network host -f Dockerfile.base -t "$MCP_BASE_IMAGE" \
    --build-arg NODE_IMAGE="$NODE_IMAGE" --build-arg IMAGE_VERSION="$IMAGE_VERSION" \
    --build-arg IMAGE_SOURCE="$IMAGE_SOURCE" . >"${MCP_BUILD_LOG:-/dev/stdout}"; then
    rm -f .build-ca.pem
    die $E_BUILD "building $MCP_BASE_IMAGE failed"
  fi
  rm -f .build-ca.pem
  info "base image built in $((SECONDS - started))s"
}

build_services() {
  local started=$SECONDS services=()
  mapfile -t services < <(printf 'mcp-%s\n' "$@")
  info "building ${services[*]}"
  compose build "${services[@]}" >"${MCP_BUILD_LOG:-/dev/stdout}" ||
    die $E_BUILD "building ${services[*]} failed"
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

print_table() {
  local name container url word colour rows=() w1=7 w2=9 w3=3 row
  for name in "$@"; do
    container=$(service_container "$name")
    url=$(service_url "$name")
    rows+=("$name|$container|$url|$(status_word "$container")")
    [ "${#name}" -gt "$w1" ] && w1=${#name}
    [ "${#container}" -gt "$w2" ] && w2=${#container}
    [ "${#url}" -gt "$w3" ] && w3=${#url}
  done
  printf "%s%-${w1}s  %-${w2}s  %-${w3}s  %s%s\n" "$C_BOLD" SERVICE CONTAINER URL STATUS "$C_RESET"
  for row in "${rows[@]}"; do
    IFS='|' read -r name container url word <<<"$row"
    case $word in
      healthy) colour=$C_GREEN ;;
      starting) colour=$C_YELLOW ;;
      *) colour=$C_RED ;;
    esac
    printf "%-${w1}s  %-${w2}s  %-${w3}s  %s%s%s\n" "$name" "$container" "$url" "$colour" "$word" "$C_RESET"
  done
  printf 'Endpoints: /sse (SSE), /mcp (Streamable HTTP), /rpc (JSON-RPC), /health. On %s: http://<container>:<port>/sse\n' \
    "$(network_rows | awk '$1 == "litellm-net" { print $2 }')"
}

wait_healthy() {
  local deadline=$((SECONDS + MCP_HEALTH_TIMEOUT)) pending name word
  info "waiting up to ${MCP_HEALTH_TIMEOUT}s for $* to be healthy"
  while :; do
    pending=()
    for name in "$@"; do
      word=$(status_word "$(service_container "$name")")
      [ "$word" = healthy ] || pending+=("$name")
    done
    [ "${#pending[@]}" -eq 0 ] && return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      for name in "${pending[@]}"; do
        warn "mcp-$name is $(status_word "$(service_container "$name")"); its last log lines:"
        docker logs --tail 15 "$(service_container "$name")" 2>&1 | sed 's/^/    /' >&2 || true
      done
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
  local explicit=0 services
  [ "$#" -gt 0 ] && explicit=1
  select_services "$@"
  require_engine
  require_secrets
  runnable_services "$explicit"
  services=("${SERVICES[@]}")
  [ "${#services[@]}" -gt 0 ] || die $E_CONFIG "no service to start"
  ensure_networks
  if [ "${MCP_SKIP_BUILD:-0}" != 1 ]; then
    build_base
    build_services "${services[@]}"
  fi
  info "starting ${services[*]/#/mcp-}"
  compose up -d --no-build "${services[@]/#/mcp-}" || die $E_COMPOSE "compose up failed"
  local rc=0
  wait_healthy "${services[@]}" || rc=$E_HEALTH
  print_table "${services[@]}"
  [ "$rc" -eq 0 ] || die $rc "not every service became healthy within ${MCP_HEALTH_TIMEOUT}s"
}

cmd_down() {
  require_engine
  info "stopping project $COMPOSE_PROJECT_NAME"
  compose down --remove-orphans || die $E_COMPOSE "compose down failed"
}

cmd_restart() {
  local services
  select_services "$@"
  services=("${SERVICES[@]}")
  require_engine
  # only the services that exist (postgres may have been skipped by `up`)
  local present=() name
  for name in "${services[@]}"; do
    [ "$(status_word "$(service_container "$name")")" = down ] || present+=("$name")
  done
  [ "${#present[@]}" -gt 0 ] || die $E_COMPOSE "none of ${services[*]} is deployed: run ./deploy.sh up"
  info "restarting ${present[*]/#/mcp-}"
  compose restart "${present[@]/#/mcp-}" || die $E_COMPOSE "compose restart failed"
  local rc=0
  wait_healthy "${present[@]}" || rc=$E_HEALTH
  print_table "${present[@]}"
  [ "$rc" -eq 0 ] || die $rc "not every service became healthy within ${MCP_HEALTH_TIMEOUT}s"
}

cmd_status() {
  local services name bad=0
  select_services "$@"
  services=("${SERVICES[@]}")
  require_engine
  print_table "${services[@]}"
  for name in "${services[@]}"; do
    [ "$(status_word "$(service_container "$name")")" = healthy ] || bad=1
  done
  [ "$bad" -eq 0 ] || exit $E_HEALTH
}

cmd_logs() {
  local args=(logs --tail "$LOG_LINES") services=()
  [ "$#" -le 1 ] || die $E_USAGE "logs takes at most one service"
  if [ "$#" -eq 1 ]; then
    select_services "$1"
    services=("mcp-${SERVICES[0]}")
  fi
  if [ -t 1 ]; then args+=(-f); else args+=(--no-color); fi
  require_engine
  compose "${args[@]}" "${services[@]}"
}

cmd_test() {
  local services name failed=() tested=0
  select_services "$@"
  services=("${SERVICES[@]}")
  for name in "${services[@]}"; do
    if [ "$#" -eq 0 ] && [ "$(status_word "$(service_container "$name")")" = down ]; then
      warn "mcp-$name is not running: not tested"
      continue
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

main() {
  local verb=${1:-}
  [ "$#" -gt 0 ] && shift
  case $verb in
    up) cmd_up "$@" ;;
    build) cmd_build "$@" ;;
    down) cmd_down "$@" ;;
    restart) cmd_restart "$@" ;;
    status) cmd_status "$@" ;;
    logs) cmd_logs "$@" ;;
    test) cmd_test "$@" ;;
    clean) cmd_clean "$@" ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit $E_USAGE
      ;;
  esac
}

main "$@"
