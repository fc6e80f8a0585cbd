#!/usr/bin/env bash
# Checks GET /health of every service in config/services.yaml on 127.0.0.1 (or of the services named).
# Made for cron: silent when everything is healthy, one line per unhealthy service otherwise.
#
#   scripts/health_check.sh [-v] [--json] [--timeout SECONDS] [service...]
#
#   -v          also print a line for each healthy service
#   --json      print one JSON document instead: {"healthy": bool, "services": [{name, url, healthy, ...}]}
#   --timeout   per-service limit in seconds (default 5); the whole run is capped at that plus 5 s
#
# A service is healthy when /health answers 200 with {"status":"healthy","service":"<its name>"}.
# Exit codes: 0 all healthy, 1 at least one unhealthy or unreachable, 2 usage or configuration error.
# Ports honour MCP_<NAME>_PORT, as docker-compose.yml does. Needs node (>= 18) on the host.
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

if [ "${#names[@]}" -eq 0 ]; then
  all=$(registry_names) || exit 2
  mapfile -t names <<<"$all"
fi
targets=()
for arg in "${names[@]}"; do
  name=$(resolve_service "$arg") || exit 2
  targets+=("$name=$(service_url "$name")")
done

# One request per service, all at once; every request has its own deadline, so nothing can hang.
# shellcheck disable=SC2016 # the program is JavaScript, not shell
program='
const [timeoutMs, verbose, json, ...targets] = process.argv.slice(1);
const check = async (target) => {
  const eq = target.indexOf("=");
  const name = target.slice(0, eq);
  const url = `${target.slice(eq + 1)}/health`;
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
const healthy = results.every((r) => r.healthy);
if (json === "1") {
  process.stdout.write(JSON.stringify({ healthy, checked_at: new Date().toISOString(), services: results }, null, 2) + "\n");
} else {
  for (const r of results) {
    if (r.healthy && verbose === "1") console.log(`ok        ${r.name.padEnd(12)} ${r.url}  ${r.latency_ms} ms  v${r.version ?? "?"}  tools=${r.tools_count ?? "?"}`);
    if (!r.healthy) console.log(`UNHEALTHY ${r.name.padEnd(12)} ${r.url}  ${r.error}`);
  }
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
