#!/usr/bin/env bash
# Removes what the MCP services left on the Docker engine.
#
#   scripts/cleanup.sh [--volumes] [--images] [--networks]
#
#   (always)     the compose project's containers (COMPOSE_PROJECT_NAME, default mcp-sse), and any
#                container still carrying a registry name (mcp-sqlite, ... or MCP_CONTAINER_PREFIX<name>)
#   --volumes    the project's named volumes: the SQLite data and /shared are DELETED
#   --images     the service images (mcp-sse/<name>:$MCP_IMAGE_TAG) and the workspace image ($MCP_BASE_IMAGE);
#                the Node.js base image stays (rebuilding it means debootstrap again)
#   --networks   the external networks of config/networks.yaml, when no other container uses them
#   --dangling   untagged images left by earlier builds of the workspace and service images (matched by
#                their org.opencontainers.image.title label; other projects' images are not touched)
#
# Never runs `docker system prune`: other projects' images and volumes are not ours to remove.
# Exit codes: 0 done, 1 something could not be removed, 2 usage, 3 no Docker engine.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/registry.sh
source "$here/lib/registry.sh"
# compose finds docker-compose.yml (and resolves its relative paths) from the repository root
cd "$here/.."

volumes=0 images=0 networks=0 dangling=0
for arg in "$@"; do
  case $arg in
    --volumes) volumes=1 ;;
    --images) images=1 ;;
    --networks) networks=1 ;;
    --dangling) dangling=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$here/cleanup.sh" | sed -e '$d' -e 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "cleanup: unknown argument $arg" >&2
      exit 2
      ;;
  esac
done

timeout 10 docker info >/dev/null 2>&1 || {
  echo "cleanup: no Docker engine answers" >&2
  exit 3
}

export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-mcp-sse}
export SECRETS_FILE=${SECRETS_FILE:-$HOME/projects/secrets/sse.env}
# compose reads env_file even to take things down; a missing secrets file must not block cleanup
# (an empty stand-in, not /dev/null: compose v1 refuses anything but a regular file)
if [ ! -f "$SECRETS_FILE" ]; then
  SECRETS_FILE=$(mktemp)
  export SECRETS_FILE
  trap 'rm -f "$SECRETS_FILE"' EXIT
fi
MCP_BASE_IMAGE=${MCP_BASE_IMAGE:-mcp-sse/base:latest}
rc=0

mapfile -t compose < <(compose_cmd) || true
if [ "${#compose[@]}" -gt 0 ]; then
  down=(down --remove-orphans --timeout 10)
  [ "$volumes" -eq 1 ] && down+=(--volumes)
  echo "cleanup: ${compose[*]} -p $COMPOSE_PROJECT_NAME ${down[*]}"
  "${compose[@]}" "${down[@]}" || rc=1
else
  echo "cleanup: no compose command; removing containers by name only" >&2
fi

# Containers with our names that compose did not know about (another project name, docker run).
all=$(registry_names) || exit 2
mapfile -t names <<<"$all"
for name in "${names[@]}"; do
  container=$(service_container "$name")
  if docker container inspect "$container" >/dev/null 2>&1; then
    echo "cleanup: removing container $container"
    docker rm -f "$container" >/dev/null || rc=1
  fi
done

if [ "$volumes" -eq 1 ]; then
  while read -r volume; do
    [ -n "$volume" ] || continue
    echo "cleanup: removing volume $volume"
    docker volume rm "$volume" >/dev/null || rc=1
  done < <(docker volume ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")
fi

if [ "$images" -eq 1 ]; then
  for name in "${names[@]}"; do
    image="$(registry_get "$name" image):${MCP_IMAGE_TAG:-latest}"
    if docker image inspect "$image" >/dev/null 2>&1; then
      echo "cleanup: removing image $image"
      docker rmi "$image" >/dev/null || rc=1
    fi
  done
  if docker image inspect "$MCP_BASE_IMAGE" >/dev/null 2>&1; then
    echo "cleanup: removing image $MCP_BASE_IMAGE"
    docker rmi "$MCP_BASE_IMAGE" >/dev/null || rc=1
  fi
fi

if [ "$dangling" -eq 1 ]; then
  for title in mcp-sse-base "${names[@]/#/mcp-}"; do
    docker image prune -f --filter "label=org.opencontainers.image.title=$title" >/dev/null || rc=1
  done
  echo "cleanup: removed untagged images of earlier builds"
fi

if [ "$networks" -eq 1 ]; then
  while read -r _ actual; do
    if docker network inspect "$actual" >/dev/null 2>&1; then
      if [ -n "$(docker network inspect -f '{{range .Containers}}{{.Name}} {{end}}' "$actual")" ]; then
        echo "cleanup: network $actual still has containers: kept"
      else
        echo "cleanup: removing network $actual"
        docker network rm "$actual" >/dev/null || rc=1
      fi
    fi
  done < <(network_rows)
fi

exit "$rc"
