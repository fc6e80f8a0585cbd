#!/usr/bin/env bash
# Several replicas on a single-node Docker Swarm, under load (`pnpm test:swarm`; .ci/run runs it after
# the end-to-end step, on the images that step built: MCP_IMAGE_TAG=e2e MCP_SKIP_BUILD=1):
#
#   1. `./deploy.sh up --swarm fetch filesystem` with MCP_REPLICAS=3: swarm init when needed, overlay
#      networks, `docker stack deploy` of docker-compose.yml, every replica healthy
#   2. a load balancer per service (e2e/swarm-lb.mjs in a container on the overlay, published on
#      127.0.0.1): the routing mesh cannot work on an engine without iptables (see the README), so
#      the services run with endpoint_mode dnsrr and this spreads connections over tasks.<service>
#   3. the shared session store: the host's Redis, reached by the replicas as a network service
#      (redis://<relay container>:6379: e2e/redis-relay.mjs in a container on the overlay, through a
#      socket relayed to 127.0.0.1:6379 on the host), with key prefixes of the run's own; every
#      replica's /health says session_store up
#   4. load (e2e/swarm-load.mjs): tool calls over /rpc, over Streamable HTTP sessions (/mcp with
#      Mcp-Session-Id) and over legacy SSE sessions (GET /sse + POST /messages) on both services,
#      each call with its own id, every request on a new connection: a session's POSTs land on
#      replicas that do not hold it and are forwarded through Redis; filesystem calls write one file
#      per call (idempotent: same name, same content)
#   5. one replica of each service killed (`docker kill` of a task's container) mid-run: every call
#      answered (after retries where an attempt failed, on a new session where its replica died),
#      none lost, none answered with another call's id or twice; swarm replaces the replica; each of
#      the 3 replicas served calls; the replicas forwarded session requests to each other
#   6. rolling update under load: fetch to a re-tagged image (`docker service update --image`),
#      filesystem with --force; start-first, one at a time: the update completes, every task runs
#      the new image, and again no call lost: a failed attempt is one the client saw and retried
#   7. every file the answered writes reported is there (one per call, on the shared volume)
#   8. `./deploy.sh down --swarm` and cleanup: nothing of the run is left (no session key in Redis)
#
# The stack, networks, volumes, image tag and ports are the run's own (it runs beside a real
# deployment); a swarm it had to initialise it leaves again. Prints one line per check and a closing
# "swarm: N checks passed, M failed" (appended as "swarm N M" to $MCP_COUNTS_FILE when set, for
# .ci/run); exit 1 on any failure. MCP_SWARM_KEEP=1 leaves the stack running for inspection.
# Settings: MCP_SWARM_LOAD_SECONDS (load before and after the kill, default 6 each); MCP_IMAGE_TAG
# (default swarm-test); MCP_SKIP_BUILD=1 uses the images of that tag as they are.
# node -e and eval bodies are single-quoted on purpose: JavaScript, or expanded when they run
# shellcheck disable=SC2016
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source-path=SCRIPTDIR source=lib/registry.sh
source scripts/lib/registry.sh
# shellcheck source-path=SCRIPTDIR source=lib/checks.sh
source scripts/lib/checks.sh

id=$$
work=$(mktemp -d)
export COMPOSE_PROJECT_NAME="mcpswarm$id"
export MCP_LITELLM_NETWORK="mcp-swarm-$id-litellm" MCP_POSTGRES_NETWORK="mcp-swarm-$id-postgres"
skip_build=${MCP_SKIP_BUILD:-0}
export MCP_IMAGE_TAG=${MCP_IMAGE_TAG:-swarm-test} MCP_REPLICAS=3 MCP_SWARM_ENDPOINT_MODE=dnsrr MCP_HEALTH_INTERVAL=3s
# generous on a loaded machine (cold starts of 20+ s were seen at load average 50)
export MCP_HEALTH_START_PERIOD=${MCP_HEALTH_START_PERIOD:-180s} MCP_HEALTH_CHECK_TIMEOUT=${MCP_HEALTH_CHECK_TIMEOUT:-15s}
export MCP_HEALTH_TIMEOUT=300 SECRETS_FILE="$work/secrets.env" MCP_BUILD_LOG="$work/build.log" NO_COLOR=1
unset MCP_SKIP_BUILD MCP_CONTAINER_PREFIX
load_seconds=${MCP_SWARM_LOAD_SECONDS:-6}
stack=$COMPOSE_PROJECT_NAME
lb_image=$(registry_get fetch image):$MCP_IMAGE_TAG
swarm_was=inactive

# The load does not stop at the rate limits; sessions shared through Redis (the relay container
# below); quiet logs (the audit lines are info).
redis_relay_name="$stack-redis"
cat >"$SECRETS_FILE" <<EOF
MCP_RATE_LIMIT=0
MCP_SESSION_RATE_LIMIT=0
MCP_SESSION_STORE=redis://$redis_relay_name:6379
LOG_LEVEL=warn
EOF
# Each service's keys and channels under a prefix of the run's own (the host's Redis may serve a
# real deployment, whose prefixes are mcp:<service>:)
session_prefix="mcp-swarm-$id:"
cat >"$work/sessions.override.yml" <<EOF
services:
  mcp-fetch:
    environment:
      MCP_SESSION_STORE_PREFIX: '${session_prefix}fetch:'
  mcp-filesystem:
    environment:
      MCP_SESSION_STORE_PREFIX: '${session_prefix}filesystem:'
EOF
export COMPOSE_FILE="docker-compose.yml:$work/sessions.override.yml"

cleanup() {
  if [ "${MCP_SWARM_KEEP:-0}" = 1 ]; then
    printf '# MCP_SWARM_KEEP=1: stack %s left running; work folder %s\n' "$stack" "$work"
    return
  fi
  docker rm -f "$stack-lb-fetch" "$stack-lb-filesystem" "$redis_relay_name" >/dev/null 2>&1 || true
  stop_host_relay
  if [ "$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)" = active ]; then
    ./deploy.sh down --swarm >/dev/null 2>&1 || true
  fi
  local deadline=$((SECONDS + 60)) leftovers=()
  # an overlay network stays busy for a moment after its last task is gone
  while mapfile -t leftovers < <(leftover_networks) && [ "${#leftovers[@]}" -gt 0 ] && [ "$SECONDS" -lt "$deadline" ]; do
    docker network rm "${leftovers[@]}" >/dev/null 2>&1 || sleep 1
  done
  mapfile -t leftovers < <(docker volume ls -q --filter "label=com.docker.stack.namespace=$stack")
  [ "${#leftovers[@]}" -eq 0 ] || docker volume rm "${leftovers[@]}" >/dev/null 2>&1 || true
  docker image rm "$(registry_get fetch image):swarm-test-v2" >/dev/null 2>&1 || true
  [ "$swarm_was" = active ] || docker swarm leave --force >/dev/null 2>&1 || true
  session_keys | xargs -r redis-cli -h 127.0.0.1 -p 6379 del >/dev/null 2>&1 || true
  rm -rf "$work"
}
host_relay_pid=''
stop_host_relay() {
  if [ -n "$host_relay_pid" ]; then
    kill "$host_relay_pid" 2>/dev/null
    wait "$host_relay_pid" 2>/dev/null
    host_relay_pid=''
  fi
}
session_keys() { redis-cli -h 127.0.0.1 -p 6379 --scan --pattern "${session_prefix}*" 2>/dev/null; }
leftover_networks() { docker network ls -q --filter "name=mcp-swarm-$id-"; }
trap cleanup EXIT

phase "single-node swarm: stack $stack, 3 replicas of fetch and filesystem"
if ! timeout 10 docker info >/dev/null 2>&1; then scripts/ensure-docker.sh >/dev/null 2>&1 || true; fi
swarm_was=$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown)
check "the engine answers and is not in a half-made swarm (state: $swarm_was)" \
  test "$swarm_was" = active -o "$swarm_was" = inactive
if [ "$skip_build" = 1 ]; then
  check "MCP_SKIP_BUILD=1: the images of tag $MCP_IMAGE_TAG exist" \
    eval 'docker image inspect "$(registry_get fetch image):$MCP_IMAGE_TAG" "$(registry_get filesystem image):$MCP_IMAGE_TAG" >/dev/null'
else
  check "./deploy.sh build fetch filesystem (base image, then the service images, tag $MCP_IMAGE_TAG)" \
    ./deploy.sh build fetch filesystem
  [ "$failed" -eq 0 ] || tail -n 30 "$MCP_BUILD_LOG"
fi
export MCP_SKIP_BUILD=1
# The host's end of the session store's relay: a socket in a folder the relay container mounts (the
# container runs as uid 1000: it may cross the work folder, not list it)
mkdir -p "$work/redis" && chmod 711 "$work" && chmod 755 "$work/redis"
node e2e/redis-relay.mjs "$work/redis/redis.sock" >"$work/redis-relay.log" 2>&1 &
host_relay_pid=$!
if ./deploy.sh up --swarm fetch filesystem >"$work/up.log" 2>&1; then
  ok "./deploy.sh up --swarm fetch filesystem: every replica healthy"
else
  not_ok "./deploy.sh up --swarm fetch filesystem"
  sed 's/^/  | /' "$work/up.log" | tail -n 30
fi
sed -n 's/^==> \(every replica healthy.*\)/  \1/p' "$work/up.log"
replicas() { docker service ls --filter "name=${stack}_mcp-$1" --format '{{.Replicas}}'; }
check "mcp-fetch runs 3/3 replicas, mcp-filesystem 3/3 (got $(replicas fetch), $(replicas filesystem))" \
  test "$(replicas fetch) $(replicas filesystem)" = "3/3 3/3"
mode=$(docker service inspect -f '{{.Spec.EndpointSpec.Mode}}' "${stack}_mcp-fetch" 2>/dev/null)
check "endpoint mode dnsrr, no published port (got $mode)" test "$mode" = dnsrr
if [ "$failed" -gt 0 ]; then
  # Without the replicas the load phases could only wait for their timeouts: stop here.
  checks_total swarm "$((SECONDS - started)) s; stopped before the load: the stack is not up"
  exit 1
fi

# A free host port near the registry's (+20000, then upwards)
free_port() {
  local port=$(($1 + 20000))
  while ss -ltn "sport = :$port" | grep -q LISTEN; do port=$((port + 1)); done
  echo "$port"
}
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}
# The session store: Redis as a network service on the overlay, as an operator runs it (here a relay
# to the host's Redis: a container cannot reach the host's loopback). The replicas started without
# it (new sessions refused, /health still healthy) and connect once it answers.
docker run -d --name "$redis_relay_name" --network "$MCP_LITELLM_NETWORK" --read-only --user node \
  -v "$work/redis:/run/redis" -v "$ROOT/e2e/redis-relay.mjs:/relay.mjs:ro" --entrypoint node \
  "$lb_image" /relay.mjs 6379 /run/redis/redis.sock >/dev/null
task_containers() { docker ps -q --filter "label=com.docker.swarm.service.name=${stack}_mcp-$1"; }
# in_task CONTAINER SERVICE PATH: GET http://127.0.0.1:<port>PATH inside one replica
in_task() {
  docker exec "$1" node -e 'fetch(process.argv[1]).then((r) => r.text()).then((t) => process.stdout.write(t))' \
    "http://127.0.0.1:$(registry_get "$2" port)$3" 2>/dev/null
}
store_up() {
  local name container
  for name in fetch filesystem; do
    for container in $(task_containers "$name"); do
      in_task "$container" "$name" /health | grep -q '"session_store":"up"' || return 1
    done
  done
}
check "the session store: every replica's /health says session_store up (redis://$redis_relay_name:6379, prefix $session_prefix)" \
  wait_for 60 store_up

declare -A lb_port=()
for name in fetch filesystem; do
  port=$(registry_get "$name" port)
  lb_port[$name]=$(free_port "$port")
  docker run -d --name "$stack-lb-$name" --network "$MCP_LITELLM_NETWORK" --read-only --user node \
    -p "127.0.0.1:${lb_port[$name]}:$port" -v "$ROOT/e2e/swarm-lb.mjs:/lb.mjs:ro" --entrypoint node \
    "$lb_image" /lb.mjs "$port" "mcp-$name" "$port" 9000 >/dev/null
done
lb_stats() { docker exec "$stack-lb-$1" node -e 'fetch("http://127.0.0.1:9000/").then((r) => r.text()).then(console.log)' 2>/dev/null; }
lb_ready() { [ "$(lb_stats "$1" | node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(0)).addresses.length))')" = 3 ]; }
check "a load balancer per service on 127.0.0.1 (${lb_port[fetch]}, ${lb_port[filesystem]}) sees the 3 tasks of each" \
  wait_for 90 eval 'lb_ready fetch && lb_ready filesystem'

rpc() {
  curl -s -m 10 "http://127.0.0.1:${lb_port[$1]}/rpc" -H 'content-type: application/json' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"$2\",\"arguments\":$3}}"
}
check "a first call through the load balancer: list_allowed_directories names /shared" \
  eval "rpc filesystem list_allowed_directories '{}' | grep -q '/shared'"

fetch_port=$(registry_get fetch port)
load_config() {
  node -e '
    const [prefix, fetchPort, fsPort, ownPort] = process.argv.slice(1);
    // fetch: its SSRF guard refuses a loopback URL at once, the same answer from every replica
    const fetchTarget = (transport) => ({ name: `fetch ${transport}`, url: `http://127.0.0.1:${fetchPort}`, transport,
      tool: "fetch", args: { url: `http://127.0.0.1:${ownPort}/health` }, expect: "refused: 127\\.0\\.0\\.1 is a private address" });
    // filesystem: one file per call, named after it (a retried write writes the same file again)
    const fsTarget = (transport) => ({ name: `filesystem ${transport}`, url: `http://127.0.0.1:${fsPort}`, transport,
      tool: "write_file", args: { path: `/shared/swarm-${prefix}/$ID.txt`, content: "$ID" }, expect: "\"bytes_written\":" });
    // A session whose replica died waits out its directory record (3 heartbeats, 503) before the
    // 404 that sends the client to a new session: about 6 s of attempts, hence 30.
    const transports = ["rpc", "mcp", "sse"];
    console.log(JSON.stringify({ idPrefix: prefix, concurrency: 2, maxAttempts: 30,
      targets: [...transports.map(fetchTarget), ...transports.map(fsTarget)] }));
  ' "$1" "${lb_port[fetch]}" "${lb_port[filesystem]}" "$fetch_port"
}
# summary FIELD: one field of the last load's JSON summary
summary() { node -e 'const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(JSON.stringify(eval("s." + process.argv[2])))' "$work/load.json" "$1"; }
start_load() {
  node e2e/swarm-load.mjs "$(load_config "$1")" >"$work/load.json" 2>"$work/load.err" &
  load_pid=$!
}
stop_load() {
  kill -TERM "$load_pid" 2>/dev/null
  wait "$load_pid"
}
# The checks every load phase ends with
load_checks() {
  local label=$1 calls answered lost mismatched wrong retried
  calls=$(summary calls) answered=$(summary answered) lost=$(summary lost)
  mismatched=$(summary mismatched) wrong=$(summary wrong) retried=$(summary retried)
  printf '  %s: %s calls in %s s, %s attempts retried, %s sessions opened; per target %s\n' "$label" "$calls" \
    "$(summary seconds)" "$retried" "$(summary sessions)" "$(summary perTarget)"
  printf '  failed attempts (each seen and retried by the client): %s\n' "$(summary reasons)"
  check "$label: $calls calls, every one answered ($answered), none lost ($lost)" \
    test "$calls" -gt 50 -a "$answered" = "$calls" -a "$lost" = 0
  check "$label: no answer carried another call's id or came twice ($mismatched), none wrong ($wrong)" \
    test "$mismatched" = 0 -a "$wrong" = 0
  [ "$mismatched$wrong" = 00 ] || printf '  examples: %s\n' "$(summary examples)"
}
written_total=0
verify_writes() {
  local expected listing missing
  expected=$(summary written.length)
  written_total=$((written_total + expected))
  # in a file: thousands of names are more than one argument or variable may hold (128 KiB)
  rpc filesystem list_directory "{\"path\":\"/shared/swarm-$2\"}" >"$work/listing.json"
  missing=$(node -e '
    const { readFileSync } = require("fs");
    const s = JSON.parse(readFileSync(process.argv[1], "utf8"));
    const text = JSON.parse(readFileSync(process.argv[2], "utf8")).result.content.map((c) => c.text).join("\n");
    const names = new Set(text.match(/[\w-]+\.txt\b/g) ?? []);
    console.log(s.written.filter((id) => !names.has(`${id}.txt`)).length);
  ' "$work/load.json" "$work/listing.json" 2>&1)
  check "$1: each of the $expected files the answered writes reported is on the shared volume (missing: $missing)" \
    test "$missing" = 0
}

phase "load through the balancers, one replica of each service killed mid-run"
start_load k
sleep "$load_seconds"
victim_fetch=$(docker ps -q --filter "label=com.docker.swarm.service.name=${stack}_mcp-fetch" | head -n 1)
victim_fs=$(docker ps -q --filter "label=com.docker.swarm.service.name=${stack}_mcp-filesystem" | head -n 1)
check "docker kill one mcp-fetch task ($victim_fetch) and one mcp-filesystem task ($victim_fs)" \
  docker kill "$victim_fetch" "$victim_fs"
sleep "$load_seconds"
check "swarm replaced the killed replicas: 3/3 each again" \
  wait_for 240 eval 'test "$(replicas fetch) $(replicas filesystem)" = "3/3 3/3"'
stop_load
load_checks "kill"
verify_writes "kill" k
spread() {
  lb_stats "$1" | node -e '
    const c = JSON.parse(require("fs").readFileSync(0)).connections;
    const counts = Object.values(c).filter((n) => n > 0);
    console.log(`${counts.length} ${JSON.stringify(c)}`);'
}
read -r spread_fetch detail_fetch <<<"$(spread fetch)"
read -r spread_fs detail_fs <<<"$(spread filesystem)"
check "calls spread over the replicas: fetch over $spread_fetch tasks $detail_fetch, filesystem over $spread_fs $detail_fs" \
  test "$spread_fetch" -ge 3 -a "$spread_fs" -ge 3
# forwarded NAME DIRECTION: mcp_forwarded_requests_total{direction} summed over the running replicas
# (the killed one's count went with it)
forwarded() {
  local total=0 container n
  for container in $(task_containers "$1"); do
    n=$(in_task "$container" "$1" /metrics |
      awk -v label="direction=\"$2\"" 'index($0, "mcp_forwarded_requests_total{") == 1 && index($0, label) { s += $NF } END { printf "%d", s }')
    total=$((total + ${n:-0}))
  done
  echo "$total"
}
fwd_fetch="$(forwarded fetch sent) $(forwarded fetch received)"
fwd_fs="$(forwarded filesystem sent) $(forwarded filesystem received)"
check "sessions crossed replicas: requests forwarded to the replica holding their session, sent/received: fetch ${fwd_fetch/ //}, filesystem ${fwd_fs/ //}" \
  eval 'read -r a b <<<"$fwd_fetch" && read -r c d <<<"$fwd_fs" && [ "$a" -gt 0 ] && [ "$b" -gt 0 ] && [ "$c" -gt 0 ] && [ "$d" -gt 0 ]'

phase "rolling update under load: fetch to a re-tagged image, filesystem --force"
new_image="$(registry_get fetch image):swarm-test-v2"
docker tag "$lb_image" "$new_image"
start_load u
sleep 2
update_started=$SECONDS
# --no-resolve-image: no registry to ask for a digest; the image is local
check "docker service update --image $new_image (fetch) and --force (filesystem) accepted" \
  eval 'docker service update --detach --no-resolve-image --image "$new_image" "${stack}_mcp-fetch" >/dev/null &&
    docker service update --detach --no-resolve-image --force "${stack}_mcp-filesystem" >/dev/null'
update_state() { docker service inspect -f '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' "${stack}_mcp-$1"; }
updated() { [ "$(update_state fetch) $(update_state filesystem)" = "completed completed" ]; }
wait_for 400 updated
check "both rolling updates completed (fetch: $(update_state fetch), filesystem: $(update_state filesystem)) after $((SECONDS - update_started)) s" \
  updated
stop_load
images=$(docker service ps --filter desired-state=running --format '{{.Image}}' "${stack}_mcp-fetch" | sort | uniq -c | xargs)
check "every running fetch task runs $new_image ($images)" test "$images" = "3 $new_image"
check "3/3 replicas each after the update" test "$(replicas fetch) $(replicas filesystem)" = "3/3 3/3"
load_checks "update"
verify_writes "update" u
history=$(docker service ps --format '{{.Name}} {{.DesiredState}}' "${stack}_mcp-fetch" | awk '$2 == "Shutdown"' | wc -l)
check "start-first, one at a time: 3 old fetch tasks shut down by the update, plus the killed one ($history)" \
  test "$history" -ge 4

# What the replicas logged at warn and above (LOG_LEVEL=warn), for the record: a retried attempt's
# cause is often there. Swarm keeps the logs of the killed and replaced tasks too.
for name in fetch filesystem; do
  docker service logs --raw "${stack}_mcp-$name" >"$work/$name.log" 2>&1
  printf '  mcp-%s logged %s lines at warn or above' "$name" "$(grep -c '"level":[456]0' "$work/$name.log")"
  grep -o '"msg":"[^"]*"' "$work/$name.log" | sort | uniq -c | sort -rn | head -n 5 | awk '{ $1 = $1 " x"; printf "; %s", $0 }'
  printf '\n'
  grep 'did not answer in time' "$work/$name.log" | head -n 5 | cut -c1-400 | sed 's/^/    /'
done

phase "down"
docker rm -f "$stack-lb-fetch" "$stack-lb-filesystem" >/dev/null 2>&1
check "./deploy.sh down --swarm" ./deploy.sh down --swarm
# stack rm returns once the tasks stopped; Swarm removes their containers (the killed and replaced
# ones too) a moment later
stack_containers() { docker ps -aq --filter "label=com.docker.stack.namespace=$stack"; }
check "no container of the stack is left (within 60 s)" wait_for 60 eval 'test -z "$(stack_containers)"'
# sessions closed by the drain delete their records; a killed replica's expire with its heartbeat
check "no key of the run's session store is left in Redis (prefix $session_prefix, within 30 s)" \
  wait_for 30 eval 'test -z "$(session_keys)"'
docker rm -f "$redis_relay_name" >/dev/null 2>&1
stop_host_relay

checks_total swarm "$((SECONDS - started)) s; $written_total writes verified"
[ "$failed" -eq 0 ]
