# SpamAssassin's spamd for the compose profile `engines` (docker/README.md, "Real
# engines"): SPAMC/1.5 on TCP 783, the rules Debian's package ships, no user config,
# logs on stderr, `--local` (no DNSBL/Razor/Pyzor lookups: the lab has no internet).
# SPAMD_ALLOWED_IPS: who may connect (the lab subnet and the health check by default).
# compose.offline.yaml builds it FROM mxlab/debian:bookworm-offline.
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
# spamd's package wants a syslog daemon (systemd | rsyslog | any): busybox's is the
# smallest; spamd logs to stderr and it never runs.
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
 && apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      spamd spamassassin busybox-syslogd \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /usr/sbin/policy-rc.d
COPY healthcheck.sh /usr/local/bin/
ENV SPAMD_ALLOWED_IPS=127.0.0.1,172.28.0.0/24
# The package's own user; port 783 binds because compose sets
# net.ipv4.ip_unprivileged_port_start=0 in the container's network namespace.
USER debian-spamd
WORKDIR /var/lib/spamassassin
EXPOSE 783
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=6 \
  CMD ["healthcheck.sh", "783", "PING SPAMC/1.5\\r\\n\\r\\n", "SPAMD/1.5 0 PONG"]
CMD ["sh", "-c", "exec spamd --listen 0.0.0.0:783 --allowed-ips \"$SPAMD_ALLOWED_IPS\" --nouser-config --syslog stderr --local --min-children 1 --max-children 2"]
