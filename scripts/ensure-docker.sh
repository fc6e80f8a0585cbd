#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine; idempotent.
#
#   scripts/ensure-docker.sh            # exit 0 when `docker info` works (now or after starting one)
#
# 1. `docker info` already works            -> nothing to do.
# 2. docker.io / docker-compose / debootstrap missing -> installed from Debian's packages (root only).
# 3. an init system is present (systemd)    -> `systemctl start docker`.
#    otherwise (containers, CI sandboxes)    -> `dockerd $DOCKERD_FLAGS` in the background, logging to
#                                               $DOCKERD_LOG.
# 4. waits for the socket up to $DOCKER_WAIT_SECONDS.
#
# Defaults suit a sandbox without NAT or a docker0 bridge (iptables and the default bridge are not
# available there). Image builds then need `--network host`; user-defined networks and 127.0.0.1 port
# publishing still work through docker-proxy.
#
# Exit codes: 0 engine ready, 1 could not install, 2 engine did not come up in time, 3 not root and
# no engine (cannot start one).
set -euo pipefail

DOCKERD_FLAGS=${DOCKERD_FLAGS:---iptables=false --ip6tables=false --bridge=none}
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/mcp-sse-dockerd.log}
DOCKER_WAIT_SECONDS=${DOCKER_WAIT_SECONDS:-60}

log() { printf 'ensure-docker: %s\n' "$*" >&2; }

engine_up() { timeout 10 docker info >/dev/null 2>&1; }
has_compose() { command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && engine_up; then
  if has_compose; then
    log "engine already running"
    exit 0
  fi
  # deploy.sh needs compose too: an engine left running without it is not ready.
  log "engine running, but neither \`docker compose\` nor docker-compose is installed"
fi

if [ "$(id -u)" -ne 0 ]; then
  log "no Docker engine with compose here and this is not root: install Docker and compose (or run as root) and retry"
  exit 3
fi

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
has_compose || missing+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
    log "apt-get install ${missing[*]} failed"
    exit 1
  fi
fi

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  log "starting docker through systemd"
  systemctl start docker || true
fi

if ! engine_up; then
  if pgrep -x dockerd >/dev/null 2>&1; then
    log "dockerd is already starting; waiting for it"
  else
    log "starting dockerd $DOCKERD_FLAGS (log: $DOCKERD_LOG)"
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    # setsid + nohup: the engine must outlive this script and the shell that ran it.
    # shellcheck disable=SC2086 # DOCKERD_FLAGS is a list of flags on purpose
    setsid nohup dockerd $DOCKERD_FLAGS >>"$DOCKERD_LOG" 2>&1 </dev/null &
  fi
fi

deadline=$((SECONDS + DOCKER_WAIT_SECONDS))
until engine_up; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    log "engine did not answer within ${DOCKER_WAIT_SECONDS}s; last lines of $DOCKERD_LOG:"
    tail -n 20 "$DOCKERD_LOG" >&2 2>/dev/null || true
    exit 2
  fi
  sleep 1
done
log "engine ready ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
