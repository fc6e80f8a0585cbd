# shellcheck shell=bash
# Shared by deploy.sh and scripts/*.sh: reads config/services.yaml and config/networks.yaml, and
# works out the names and addresses a run uses. Source it; it defines functions and variables only.
#
# Overrides (all optional; the end-to-end test uses them to run beside a real deployment):
#   MCP_<NAME>_PORT        host port of one service (MCP_SQLITE_PORT=18006); the container port stays
#   MCP_CONTAINER_PREFIX   container names become <prefix><name> instead of the registry's `container`
#   MCP_<NET>_NETWORK      network names (see config/networks.yaml `env`)
#   MCP_SERVICES_FILE, MCP_NETWORKS_FILE   other registry files

MCP_REPO_ROOT=${MCP_REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MCP_SERVICES_FILE=${MCP_SERVICES_FILE:-$MCP_REPO_ROOT/config/services.yaml}
MCP_NETWORKS_FILE=${MCP_NETWORKS_FILE:-$MCP_REPO_ROOT/config/networks.yaml}

# Prints one line per list item of a flat registry file: the values of the requested keys, in order,
# separated by the ASCII unit separator \x1f (not a tab: `read` would merge empty tab-separated
# fields); missing keys print as empty. Usage: registry_rows FILE key1 key2 ...
# Read the rows with: while IFS=$'\x1f' read -r a b c; do ...; done < <(registry_rows FILE a b c)
registry_rows() {
  local file=$1
  shift
  [ -r "$file" ] || {
    printf 'registry: cannot read %s\n' "$file" >&2
    return 1
  }
  awk -v keys="$*" '
    function flush(   i, line) {
      if (!started) return
      line = ""
      for (i = 1; i <= nkeys; i++) line = line (i > 1 ? "\037" : "") val[k[i]]
      print line
      delete val
    }
    function unquote(s) {
      sub(/^[[:space:]]+/, "", s); sub(/[[:space:]]+$/, "", s)
      if (s ~ /^'"'"'.*'"'"'$/ || s ~ /^".*"$/) return substr(s, 2, length(s) - 2)
      sub(/[[:space:]]+#.*$/, "", s)   # trailing comment on an unquoted value
      return s
    }
    BEGIN { nkeys = split(keys, k, " ") }
    /^[[:space:]]*#/ || /^[[:space:]]*$/ { next }
    /^[[:space:]]*-[[:space:]]+[A-Za-z_]+:/ { flush(); started = 1; sub(/^[[:space:]]*-[[:space:]]+/, "") }
    started && /^[[:space:]]*[A-Za-z_]+:/ {
      line = $0; sub(/^[[:space:]]+/, "", line)
      key = line; sub(/:.*/, "", key)
      value = line; sub(/^[^:]*:/, "", value)
      val[key] = unquote(value)
    }
    END { flush() }
  ' "$file"
}

# Service names in registry order.
registry_names() { registry_rows "$MCP_SERVICES_FILE" name; }

# One field of one service: registry_get sqlite port
registry_get() {
  local name=$1 field=$2
  registry_rows "$MCP_SERVICES_FILE" name "$field" | awk -F '\037' -v n="$name" '$1 == n { print $2; found = 1; exit } END { exit !found }'
}

# Accepts `sqlite` or `mcp-sqlite`; prints the registry name or fails.
resolve_service() {
  local arg=$1 name
  name=${arg#mcp-}
  if registry_names | grep -qx -- "$name"; then
    printf '%s\n' "$name"
  else
    printf 'unknown service "%s" (known: %s)\n' "$arg" "$(registry_names | tr '\n' ' ')" >&2
    return 1
  fi
}

# What a service's backend needs (services.yaml `requires`: alternatives separated by |), as
# "A or B"; empty when it needs nothing.
service_requires() { registry_get "$1" requires | sed 's/|/ or /g'; }

# Succeeds when the service needs no setting, or when FILE sets one of its `requires` alternatives
# to a non-empty value (`NAME=value` or `export NAME=value`, as docker's env_file and the shell read
# it). With --env, the caller's environment counts too (./start.sh, local runs).
#   requirement_met postgres "$SECRETS_FILE" [--env]
requirement_met() {
  local name=$1 file=$2 use_env=${3:-} requires alternatives alt
  requires=$(registry_get "$name" requires || true)
  [ -n "$requires" ] || return 0
  IFS='|' read -r -a alternatives <<<"$requires"
  for alt in "${alternatives[@]}"; do
    if [ "$use_env" = --env ] && [ -n "${!alt:-}" ]; then return 0; fi
    if [ -r "$file" ] && grep -Eq "^[[:space:]]*(export[[:space:]]+)?${alt}=[^[:space:]]" "$file"; then return 0; fi
  done
  return 1
}

# The upper-case variable stem of a service: filesystem -> FILESYSTEM, my-svc -> MY_SVC
service_env_stem() { printf '%s' "$1" | tr '[:lower:]-' '[:upper:]_'; }

# Host port of a service (MCP_<NAME>_PORT overrides the registry).
service_port() {
  local var
  var="MCP_$(service_env_stem "$1")_PORT"
  if [ -n "${!var:-}" ]; then printf '%s\n' "${!var}"; else registry_get "$1" port; fi
}

# Port inside the container (always the registry's).
service_container_port() { registry_get "$1" port; }

service_container() {
  if [ -n "${MCP_CONTAINER_PREFIX:-}" ]; then
    printf '%s%s\n' "$MCP_CONTAINER_PREFIX" "$1"
  else
    registry_get "$1" container
  fi
}

service_url() { printf 'http://127.0.0.1:%s\n' "$(service_port "$1")"; }

# Network names after overrides, one per line: "<registry name> <actual name>"
network_rows() {
  local name env actual
  while IFS=$'\x1f' read -r name env; do
    actual=$name
    if [ -n "$env" ] && [ -n "${!env:-}" ]; then actual=${!env}; fi
    printf '%s %s\n' "$name" "$actual"
  done < <(registry_rows "$MCP_NETWORKS_FILE" name env)
}

# The registry as a Markdown table (for READMEs):  bash -c '. scripts/lib/registry.sh; registry_markdown'
registry_markdown() {
  local name port container backend description
  printf '| service | container | port | SSE | Streamable HTTP | backend | what it does |\n|---|---|---|---|---|---|---|\n'
  while IFS=$'\x1f' read -r name port container backend description; do
    # shellcheck disable=SC2016 # the backquotes are Markdown
    printf '| %s | `%s` | %s | `http://%s:%s/sse` | `http://%s:%s/mcp` | %s | %s |\n' \
      "$name" "$container" "$port" "$container" "$port" "$container" "$port" "$backend" "$description"
  done < <(registry_rows "$MCP_SERVICES_FILE" name port container backend description)
}

# How many replicas each service may run, as a Markdown table (README "Several replicas"):
#   bash -c '. scripts/lib/registry.sh; registry_scale_markdown'
registry_scale_markdown() {
  local name scale out=()
  printf '| service | replicas (Swarm, Kubernetes) | why |\n|---|---|---|\n'
  while IFS=$'\x1f' read -r name scale; do
    if [ "$scale" = out ]; then
      out+=("$name")
    else
      # `one: <why>`: exactly one, updated stop-first (Kubernetes: Recreate)
      printf '| %s | exactly one (`scale: one`) | %s |\n' "$name" "${scale#one: }"
    fi
  done < <(registry_rows "$MCP_SERVICES_FILE" name scale)
  [ "${#out[@]}" -eq 0 ] ||
    printf '| %s | any (`scale: out`) | nothing they keep is local to one replica |\n' "$(IFS=,; printf '%s' "${out[*]}" | sed 's/,/, /g')"
}

# Colours only when stdout is a terminal, NO_COLOR is unset and the terminal is not "dumb" (used by the
# scripts that source this). Nothing else here moves the cursor or redraws: output piped, redirected
# to a file or mailed by cron is plain lines.
# shellcheck disable=SC2034
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ] && [ "${TERM:-}" != "dumb" ]; then
  MCP_COLOR=1
  C_RED=$'\033[31m' C_GREEN=$'\033[32m' C_YELLOW=$'\033[33m' C_BOLD=$'\033[1m' C_RESET=$'\033[0m'
else
  MCP_COLOR=0
  C_RED='' C_GREEN='' C_YELLOW='' C_BOLD='' C_RESET=''
fi

# The compose command: `docker compose` (v2) when present, else `docker-compose` (v1, Debian's).
# COMPOSE="docker-compose" forces one.
compose_cmd() {
  if [ -n "${COMPOSE:-}" ]; then
    # shellcheck disable=SC2086 # COMPOSE may be two words
    printf '%s\n' $COMPOSE
  elif docker compose version >/dev/null 2>&1; then
    printf '%s\n' docker compose
  elif command -v docker-compose >/dev/null 2>&1; then
    printf '%s\n' docker-compose
  else
    return 1
  fi
}
