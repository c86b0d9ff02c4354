# ClamAV's clamd for the compose profile `engines` (docker/README.md, "Real engines"):
# INSTREAM on TCP 3310. The image always carries a one-signature database that detects
# EICAR (eicar.ndb, the one the caller's tests make), so clamd starts without internet;
# with internet, freshclam fetches the official databases at each start.
# compose.offline.yaml builds it FROM mxlab/debian:bookworm-offline.
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
 && apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      clamav-daemon clamav-freshclam ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /usr/sbin/policy-rc.d \
 && install -d -o clamav -g clamav /var/lib/clamav
COPY clamd.conf /etc/clamav/mxlab-clamd.conf
COPY freshclam.conf /etc/clamav/mxlab-freshclam.conf
COPY eicar.ndb /usr/share/mxlab/eicar.ndb
COPY clamd-start.sh healthcheck.sh /usr/local/bin/
# Kept across `docker compose up` recreations, so freshclam only fetches what changed.
VOLUME /var/lib/clamav
USER clamav
EXPOSE 3310
HEALTHCHECK --interval=10s --timeout=5s --start-period=300s --retries=6 \
  CMD ["healthcheck.sh", "3310", "zPING\\0", "PONG"]
CMD ["clamd-start.sh"]
