#!/usr/bin/env bash
# Checks GET /health of every deployed service of config/services.yaml on 127.0.0.1 (or of the
# services named). Made for cron: silent when everything deployed is healthy, one line per
# unhealthy service otherwise.
#
#   scripts/health_check.sh [-v] [--json] [--timeout SECONDS] [service...]
#
#   -v          also print a line for each healthy and each skipped service
#   --json      print one JSON document instead: {"healthy": bool, "services": [{name, url, healthy, ...}]}
#   --timeout   per-service limit in seconds (default 5); the whole run is capped at that plus 5 s
#
# A service is healthy when /health answers 200 with {"status":"healthy","service":"<its name>"}.
# Without names, a service whose backend setting (config/services.yaml `requires`, e.g. postgres's
# DATABASE_URL) is neither in the secrets file ($SECRETS_FILE, default ~/projects/secrets/sse.env)
# nor in the environment, and which has no container, is skipped, as `deploy.sh up` and ./start.sh
# skip it: it is not a failure. An unreadable secrets file skips nothing.
# Exit codes: 0 every checked service healthy, 1 one unhealthy or unreachable (or none to check),
# 2 usage or configuration error. Ports honour MCP_<NAME>_PORT, as docker-compose.yml does.
# Needs node (>= 18) on the host; docker only to see whether a skipped service has a container.
#
# cron, every 5 minutes, mail only on trouble:
#   */5 * * * * /path/to/repo/scripts/health_check.sh || logger -t mcp-sse "unhealthy MCP services"
set -euo pipefail

# cron runs with a minimal PATH
PATH=$PATH:/usr/local/bin:/usr/bin:/bin
# shellcheck source-path=SCRIPTDIR source=lib/registry.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/registry.sh"

verbose=0 json=0 timeout=5 names=()
while [ "$#" -gt 0 ]; do
  case $1 in
    -v | --verbose) verbose=1 ;;
    --json) json=1 ;;
    --timeout)
      if [ "$#" -lt 2 ] || ! [[ $2 =~ ^[1-9][0-9]*$ ]]; then
        echo "health_check: --timeout needs a number of seconds" >&2
        exit 2
      fi
      timeout=$2
      shift
      ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
      exit 0
      ;;
    -*)
      echo "health_check: unknown option $1" >&2
      exit 2
      ;;
    *) names+=("$1") ;;
  esac
  shift
done

if ! command -v node >/dev/null 2>&1; then
  echo "health_check: node is not installed (needed for the HTTP checks)" >&2
  exit 2
fi

SECRETS_FILE=${SECRETS_FILE:-$HOME/projects/secrets/sse.env}

# Skipped (prints why): not named, its backend setting is missing, and no container of it exists.
skip_reason() {
  local name=$1
  [ "$explicit" = 0 ] || return 1
  if [ -e "$SECRETS_FILE" ] && [ ! -r "$SECRETS_FILE" ]; then return 1; fi
  requirement_met "$name" "$SECRETS_FILE" --env && return 1
  if command -v docker >/dev/null 2>&1 && timeout 5 docker container inspect "$(service_container "$name")" >/dev/null 2>&1; then
    return 1
  fi
  printf 'not deployed: needs %s\n' "$(service_requires "$name")"
}

explicit=1
if [ "${#names[@]}" -eq 0 ]; then
  explicit=0
  all=$(registry_names) || exit 2
  mapfile -t names <<<"$all"
fi
targets=()
for arg in "${names[@]}"; do
  name=$(resolve_service "$arg") || exit 2
  if reason=$(skip_reason "$name"); then
    targets+=("$name=skip:$reason")
  else
    targets+=("$name=$(service_url "$name")")
  fi
done

# One request per service, all at once; every request has its own deadline, so nothing can hang.
# shellcheck disable=SC2016 # the program is JavaScript, not shell
program='
const [timeoutMs, verbose, json, ...targets] = process.argv.slice(1);
const check = async (target) => {
  const eq = target.indexOf("=");
  const name = target.slice(0, eq);
  const value = target.slice(eq + 1);
  if (value.startsWith("skip:")) return { name, skipped: true, reason: value.slice(5) };
  const url = `${value}/health`;
  const started = performance.now();
  const result = { name, url, healthy: false };
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(Number(timeoutMs)), headers: { accept: "application/json" } });
    result.http_status = response.status;
    const text = await response.text();
    let body;
    try { body = JSON.parse(text); } catch { body = undefined; }
    if (body && typeof body === "object") {
      for (const key of ["status", "service", "version", "uptime", "tools_count", "checks"]) if (key in body) result[key] = body[key];
    }
    if (body?.service !== undefined && body.service !== name) {
      result.error = `port answers as service "${body.service}", not "${name}"`;
    } else if (response.status === 200 && body?.status === "healthy") {
      result.healthy = true;
    } else {
      const down = Object.entries(body?.checks ?? {}).filter(([, c]) => c?.status !== "ok").map(([k, c]) => `${k}: ${c?.error ?? "down"}`);
      result.error = `HTTP ${response.status}${body?.status ? ` ${body.status}` : ""}${down.length ? ` (${down.join("; ")})` : ""}`;
    }
  } catch (error) {
    result.error = error?.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (error?.cause?.code ?? error?.message ?? String(error));
  }
  result.latency_ms = Math.round(performance.now() - started);
  return result;
};
const results = await Promise.all(targets.map(check));
const checked = results.filter((r) => !r.skipped);
const healthy = checked.length > 0 && checked.every((r) => r.healthy);
if (json === "1") {
  process.stdout.write(JSON.stringify({ healthy, checked_at: new Date().toISOString(), services: results }, null, 2) + "\n");
} else {
  for (const r of results) {
    if (r.skipped && verbose === "1") console.log(`skipped   ${r.name.padEnd(12)} ${r.reason}`);
    if (r.skipped) continue;
    if (r.healthy && verbose === "1") console.log(`ok        ${r.name.padEnd(12)} ${r.url}  ${r.latency_ms} ms  v${r.version ?? "?"}  tools=${r.tools_count ?? "?"}`);
    if (!r.healthy) console.log(`UNHEALTHY ${r.name.padEnd(12)} ${r.url}  ${r.error}`);
  }
  if (checked.length === 0) console.log("UNHEALTHY no service is deployed (every one is skipped)");
}
process.exitCode = healthy ? 0 : 1;
'

rc=0
timeout $((timeout + 5)) node --input-type=module -e "$program" "$((timeout * 1000))" "$verbose" "$json" "${targets[@]}" || rc=$?
case $rc in
  0 | 1) exit "$rc" ;;
  124)
    echo "health_check: gave up after $((timeout + 5))s" >&2
    exit 1
    ;;
  *) exit 1 ;;
esac
