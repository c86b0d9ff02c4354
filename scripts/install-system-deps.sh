#!/usr/bin/env bash
# Debian packages the tests drive as real peers and clients: swaks and curl (SMTP, POP3),
# dig, Chromium for the browser tests, clamd and spamd for the caller's real engines,
# tcpdump for the lab guide's capture exercise (docs/lab/12-plaintext.md),
# python3-dkim (dkimpy) as a DKIM verifier that is not ours.
# Quick when they are installed already.
set -euo pipefail
packages=(swaks curl bind9-dnsutils chromium clamav-daemon spamassassin spamd python3 tcpdump python3-dkim)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq -o DPkg::Lock::Timeout=600
  apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}"
fi
# The Debian packages start daemons of their own where an init system runs; the tests
# start their own instances on free loopback ports, so the system ones are not needed.
