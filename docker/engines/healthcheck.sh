#!/bin/bash
# Health check of both engine images, with bash's /dev/tcp (no extra package):
#   healthcheck.sh PORT REQUEST EXPECTED   passes when the daemon's reply contains EXPECTED.
# clamd: `zPING\0` → `PONG`; spamd: `PING SPAMC/1.5\r\n\r\n` → `SPAMD/1.5 0 PONG`.
set -euo pipefail
port="$1" request="$2" expected="$3"
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf "$request" >&3
grep -aq -- "$expected" <&3
