#!/usr/bin/env bash
# Offline container setup for CI and developers on a machine without Docker: installs the
# Docker engine (Debian 12), the Compose v2 and Buildx CLI plugins (Debian sid's packages;
# bookworm has neither), starts dockerd in the background, and builds the offline base
# images that compose.offline.yaml uses (docker/offline/build-base-images.sh).
# Idempotent: every step is skipped when its result is already there.
# Then: MXLAB_COMPOSE_OFFLINE=1 npm run test:e2e
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export MXLAB_DOCKER_CACHE="${MXLAB_DOCKER_CACHE:-/var/cache/mxlab-docker}"
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
DOCKERD_LOG=/var/log/mxlab-dockerd.log
DOCKERD_START_TIMEOUT_S=60
APT_LOCK_TIMEOUT_S=900

step_start=0
step() { step_start=$SECONDS; echo "docker-setup: $*"; }
done_step() { echo "docker-setup:   done in $((SECONDS - step_start)) s"; }

apt_install() {
  if ! apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT_S" update -q >/dev/null
  fi
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT_S" \
    install -y -q --no-install-recommends "$@" >/dev/null
}

# The mirror this machine's apt already uses for bookworm, so no host is written here.
debian_mirror() {
  apt-get indextargets --format '$(REPO_URI) $(RELEASE)' | awk '$2 == "bookworm" { print $1; exit }'
}

install_engine() {
  step "Docker engine and debootstrap (Debian 12)"
  if command -v dockerd >/dev/null && command -v debootstrap >/dev/null; then
    echo "docker-setup:   already installed"
  else
    apt_install docker.io debootstrap iptables ca-certificates
  fi
  done_step
}

# Compose v2 and Buildx from Debian sid, downloaded with a temporary sources list and
# unpacked: only their CLI plugins are used (static Go binaries, libc 2.34+).
install_plugins() {
  step "Compose v2 and Buildx CLI plugins (Debian sid)"
  if [ -x "$PLUGIN_DIR/docker-compose" ] && [ -x "$PLUGIN_DIR/docker-buildx" ]; then
    echo "docker-setup:   already installed"; done_step; return
  fi
  local tmp mirror opts
  tmp="$(mktemp -d)"
  mirror="$(debian_mirror)"
  [ -n "$mirror" ] || { echo "docker-setup: no bookworm mirror in apt's sources" >&2; exit 1; }
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/debs"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main" >"$tmp/sources.list"
  opts=(-o Dir::Etc::SourceList="$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::State::Lists="$tmp/lists" -o Dir::Cache="$tmp/cache" -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update -q >/dev/null
  (cd "$tmp/debs" && apt-get "${opts[@]}" download docker-compose docker-buildx >/dev/null)
  for deb in "$tmp"/debs/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
  mkdir -p "$PLUGIN_DIR"
  install -m 0755 "$tmp"/root/usr/libexec/docker/cli-plugins/docker-* "$PLUGIN_DIR/"
  rm -rf "$tmp"
  done_step
}

start_dockerd() {
  step "dockerd"
  if docker info >/dev/null 2>&1; then
    echo "docker-setup:   already running"; done_step; return
  fi
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  local waited=0
  until [ -S /var/run/docker.sock ] && docker info >/dev/null 2>&1; do
    if [ "$waited" -ge "$DOCKERD_START_TIMEOUT_S" ]; then
      echo "docker-setup: dockerd did not start in ${DOCKERD_START_TIMEOUT_S} s" >&2
      tail -n 30 "$DOCKERD_LOG" >&2
      exit 1
    fi
    sleep 1; waited=$((waited + 1))
  done
  done_step
}

total_start=$SECONDS
install_engine
install_plugins
start_dockerd
docker compose version
step "offline base images"
MXLAB_DEBIAN_MIRROR="$(debian_mirror)" bash "$root/docker/offline/build-base-images.sh"
done_step
echo "docker-setup: ready in $((SECONDS - total_start)) s; run the e2e suite with MXLAB_COMPOSE_OFFLINE=1"
