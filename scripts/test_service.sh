#!/usr/bin/env bash
# Smoke-tests one running service through the official MCP SDK client, over both transports:
# connects to /sse and to /mcp, lists the tools, calls a harmless one and prints the result.
#
#   scripts/test_service.sh <service> [tool [json-arguments]]
#
# Without a tool, the service's smoke_tool/smoke_args/smoke_expect from config/services.yaml are used
# (list_tables for sqlite, list_schemas for postgres, ...); they pass on a deployment with an empty
# secrets file. fetch's smoke test asks for the service's own /health over loopback: with no settings
# the SSRF guard refuses that with a clear message, which is the expected answer (the call went
# through the transport, the tool and the guard); with FETCH_ALLOWED_HOSTS=127.0.0.1 the page itself
# comes back, which passes too. Any other answer fails. To fetch a real page:
#   scripts/test_service.sh fetch fetch '{"url":"https://example.com/"}'
# The address is 127.0.0.1 and the port from the registry (MCP_<NAME>_PORT overrides it). With MCP_API_KEYS set on the server, pass a key
# as MCP_API_KEY; when unset, the first key of MCP_API_KEYS in $SECRETS_FILE is used if readable.
# Needs node and the workspace installed (`pnpm install`): the SDK comes from there.
#
# Exit codes: 0 both transports worked, 1 a connection, listing or call failed (or the tool
# answered isError), 2 usage or configuration error.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/registry.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/registry.sh"

if [ "$#" -lt 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
  [ "$#" -ge 1 ] && exit 0
  exit 2
fi

name=$(resolve_service "$1") || exit 2
expect=''
if [ "$#" -ge 2 ]; then
  tool=$2
  args=${3:-'{}'}
else
  tool=$(registry_get "$name" smoke_tool)
  args=$(registry_get "$name" smoke_args)
  expect=$(registry_get "$name" smoke_expect || true)
fi
args=${args:-'{}'}
# $PORT in the arguments: the port the service listens on in its container
args=${args//\$PORT/$(service_container_port "$name")}
url=$(service_url "$name")

if [ -z "${MCP_API_KEY:-}" ]; then
  secrets=${SECRETS_FILE:-$HOME/projects/secrets/sse.env}
  if [ -r "$secrets" ]; then
    key=$(sed -n 's/^[[:space:]]*\(export[[:space:]]\{1,\}\)\{0,1\}MCP_API_KEYS=//p' "$secrets" | tail -n 1 | cut -d, -f1 | tr -d "\"' ")
    [ -n "$key" ] && export MCP_API_KEY=$key
  fi
fi

client="$MCP_REPO_ROOT/scripts/lib/mcp-client.mjs"
failed=0
for transport in sse streamable-http; do
  endpoint=/mcp
  [ "$transport" = sse ] && endpoint=/sse
  printf '%s== mcp-%s over %s (%s%s)%s\n' "$C_BOLD" "$name" "$transport" "$url" "$endpoint" "$C_RESET"
  if ! listing=$(node "$client" --url "$url" --transport "$transport" list 2>&1); then
    printf '%sFAIL%s cannot list tools: %s\n' "$C_RED" "$C_RESET" "$listing"
    failed=1
    continue
  fi
  # shellcheck disable=SC2016 # JavaScript, not shell
  tools=$(printf '%s' "$listing" | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const { server, tools } = JSON.parse(s);
      console.log(`server ${server?.name} ${server?.version}: ${tools.length} tools: ${tools.map((t) => t.name).join(", ")}`);
    });')
  printf '%s\n' "$tools"
  printf 'call %s %s\n' "$tool" "$args"
  rc=0
  output=$(node "$client" --url "$url" --transport "$transport" call "$tool" "$args" 2>&1) || rc=$?
  printf '%s\n' "$output"
  if [ -n "$expect" ]; then
    # an expected answer, success or refusal; a failed connection (rc 2+, or no JSON) never matches
    if [ "$rc" -le 1 ] && printf '%s' "$output" | grep -Eq -- "$expect"; then
      if [ "$rc" -eq 1 ]; then
        printf '%sOK%s the expected refusal (the call reached the tool, which said no as it should)\n' "$C_GREEN" "$C_RESET"
      else
        printf '%sOK%s\n' "$C_GREEN" "$C_RESET"
      fi
    else
      printf '%sFAIL%s %s over %s: the answer does not match /%s/\n' "$C_RED" "$C_RESET" "$tool" "$transport" "$expect"
      failed=1
    fi
  elif [ "$rc" -eq 0 ]; then
    printf '%sOK%s\n' "$C_GREEN" "$C_RESET"
  else
    printf '%sFAIL%s %s over %s\n' "$C_RED" "$C_RESET" "$tool" "$transport"
    failed=1
  fi
done
exit "$failed"
