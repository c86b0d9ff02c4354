# The offline stand-in for coredns/coredns: BIND 9 from Debian serving the same zone files
# (services/dns/zones, mounted at /zones) with docker/bind/named.conf. apt reaches the same Debian
# mirror as the host (from the base image's sources.list; a proxy comes as a build arg).
FROM mxlab/debian:bookworm-offline
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends bind9 bind9-dnsutils \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
EXPOSE 53/udp 53/tcp
HEALTHCHECK --interval=5s --timeout=10s --start-period=30s --retries=12 \
  CMD dig +time=2 +tries=1 @127.0.0.1 alpha.test SOA +short | grep -q .
CMD ["named", "-g", "-u", "bind", "-c", "/etc/bind/mxlab/named.conf"]
