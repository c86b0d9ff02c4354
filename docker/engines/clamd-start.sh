#!/bin/bash
# clamd's entry point: the offline EICAR database always (docker/engines/eicar.ndb), the
# official databases from freshclam when its mirror can be reached, then clamd in the
# foreground. FRESHCLAM_TIMEOUT (seconds, default 300) bounds the download; 0 skips it.
set -euo pipefail
db=/var/lib/clamav
cp /usr/share/mxlab/eicar.ndb "$db/mxlab-eicar.ndb"
timeout_s="${FRESHCLAM_TIMEOUT:-300}"
if [ "$timeout_s" != 0 ]; then
  echo "clamd-start: freshclam (at most ${timeout_s} s)" >&2
  if timeout "$timeout_s" freshclam --stdout --config-file=/etc/clamav/mxlab-freshclam.conf >&2; then
    echo "clamd-start: official databases up to date" >&2
  else
    echo "clamd-start: freshclam failed (no internet?): clamd starts with what $db holds" >&2
  fi
fi
echo "clamd-start: databases: $(cd "$db" && ls -1 | grep -E '\.(cvd|cld|ndb)$' | tr '\n' ' ')" >&2
exec clamd --config-file=/etc/clamav/mxlab-clamd.conf
