# shellcheck shell=bash
# The check lines of scripts/e2e.sh and scripts/swarm-test.sh. Source it after lib/registry.sh (its
# colours); it defines functions and the counters only.
#   ok TEXT / not_ok TEXT     one "ok - TEXT" / "not ok - TEXT" line, counted in $passed / $failed
#   check TEXT COMMAND...     ok when the command exits 0, not ok otherwise
#   phase TEXT                a "# TEXT (Ns)" heading, N the seconds since the script sourced this
#   checks_total NAME [NOTE]  the closing "NAME: N checks passed, M failed[ (NOTE)]", prefixed so that
#                             .ci/run's closing line stays the only bare one, and "NAME N M" appended
#                             to $MCP_COUNTS_FILE when it is set (.ci/run adds those up)

passed=0 failed=0 started=$SECONDS
ok() {
  passed=$((passed + 1))
  printf '%sok%s - %s\n' "$C_GREEN" "$C_RESET" "$*"
}
not_ok() {
  failed=$((failed + 1))
  printf '%snot ok%s - %s\n' "$C_RED" "$C_RESET" "$*"
}
check() {
  local description=$1
  shift
  if "$@"; then ok "$description"; else not_ok "$description"; fi
}
phase() { printf '%s# %s (%ss)%s\n' "$C_BOLD" "$*" "$((SECONDS - started))" "$C_RESET"; }
checks_total() {
  printf '%s: %s checks passed, %s failed%s\n' "$1" "$passed" "$failed" "${2:+ ($2)}"
  if [ -n "${MCP_COUNTS_FILE:-}" ]; then printf '%s %s %s\n' "$1" "$passed" "$failed" >>"$MCP_COUNTS_FILE"; fi
}
