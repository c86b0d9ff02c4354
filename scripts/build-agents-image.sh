#!/usr/bin/env bash
# Builds the agents' image once, as mxlab/agents:<version> (the version of the
# testcontainers module, packages/testcontainers/package.json, which runs that image by
# default). compose.yaml's agents and the module both use it by name.
#   bash scripts/build-agents-image.sh              FROM the official node image
#   MXLAB_COMPOSE_OFFLINE=1 bash scripts/...        FROM mxlab/node:24-offline (scripts/docker-setup.sh)
# MXLAB_AGENTS_IMAGE names another tag. Docker's layer cache makes a rebuild of unchanged
# sources a few seconds.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="$(sed -n 's/^  "version": "\([^"]*\)",$/\1/p' "$root/packages/testcontainers/package.json")"
[ -n "$version" ] || { echo "build-agents-image: no version in packages/testcontainers/package.json" >&2; exit 1; }
image="${MXLAB_AGENTS_IMAGE:-mxlab/agents:$version}"
args=(--tag "$image" --label "org.opencontainers.image.version=$version")
if [ "${MXLAB_COMPOSE_OFFLINE:-}" = 1 ]; then args+=(--build-arg NODE_IMAGE=mxlab/node:24-offline); fi
for name in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  if [ -n "${!name:-}" ]; then args+=(--build-arg "$name=${!name}"); fi
done
start=$SECONDS
docker build --quiet "${args[@]}" "$root" >/dev/null
echo "build-agents-image: $image in $((SECONDS - start)) s"
