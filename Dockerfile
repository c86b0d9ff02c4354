# mxlab agents: one image, one container per agent; the agent is the command
# (`node services/<agent>/main.ts`, see services/ENV.md and compose.yaml).
#
# NODE_IMAGE is the official image by default; offline CI substitutes its locally built
# stand-in through compose.offline.yaml (build arg), never by editing this file.
ARG NODE_IMAGE=node:24-bookworm-slim

# Build: install every dependency, type-check (the code runs as TypeScript through Node's
# type stripping, so there is nothing to emit), then keep only the production ones.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=warn
COPY . .
RUN npm run typecheck \
 && npm prune --omit=dev --no-audit --no-fund --loglevel=warn \
 && find shared services scripts -name '*.test.ts' -delete \
 && find shared services -type d -name testing -prune -exec rm -rf {} + \
 && rm -rf bench packages

# Runtime: sources + production node_modules, owned by root, run as the unprivileged user
# `node` (uid 1000, from the base image). The agents listen on their standard ports
# (25, 587, 143, …): compose sets net.ipv4.ip_unprivileged_port_start=0 for the
# container's own network namespace (Docker's default since 20.10) and drops every
# capability, so no process in the container holds any privilege.
FROM ${NODE_IMAGE} AS runtime
# NODE_COMPILE_CACHE: filled at build time (scripts/compile-cache.ts), so an agent never
# loads Node's TypeScript stripper: ~30 MB less resident memory each, and a faster start.
ENV NODE_ENV=production \
    NODE_COMPILE_CACHE=/var/cache/mxlab-compile \
    MXLAB_USERS_DIR=/var/lib/mxlab/users \
    MXLAB_TLS_DIR=/var/lib/mxlab/tls \
    MXLAB_MAIL_ROOT=/var/mail/mxlab \
    MTA_QUEUE_DIR=/var/spool/mxlab
WORKDIR /app
COPY --from=build /app /app
# Volume mount points owned by `node`: a fresh named volume takes this ownership.
RUN mkdir -p /var/lib/mxlab/users /var/lib/mxlab/lab-users /var/lib/mxlab/tls /var/mail/mxlab /var/spool/mxlab /var/cache/mxlab-compile \
 && chown node:node /var/lib/mxlab/users /var/lib/mxlab/lab-users /var/lib/mxlab/tls /var/mail/mxlab /var/spool/mxlab /var/cache/mxlab-compile
# The certs service's volumes (the CA's, one per TLS server, the clients'), from the one list in scripts/lab-certs.ts.
RUN node scripts/lab-certs.ts mount-points > /tmp/mount-points \
 && xargs mkdir -p < /tmp/mount-points && xargs chown node:node < /tmp/mount-points && rm /tmp/mount-points \
 && chmod 700 /var/lib/mxlab/ca
USER node
# Node keeps one compile cache per uid and per set of V8 flags: filled as `node`, with each
# agent's own flags (a container run as another user just starts without it).
# /var/lib/mxlab/lab-users: the lab users with the public lab password (`secret`), hashed
# once here, at scrypt N=2^10 (a test's first login costs a millisecond, not 150 ms: the
# password is printed in every README). The testcontainers module mounts its fresh users
# volume there, so Docker fills it from the image and no agent hashes at start; users a test
# adds get the full cost. compose.yaml mounts /var/lib/mxlab/users, made at first start
# with its own MXLAB_PASSWORD and the full cost, as before.
RUN node scripts/compile-cache.ts \
 && node --input-type=module -e "const { ensureLabUsers } = await import('/app/shared/users.ts'); await ensureLabUsers('/var/lib/mxlab/lab-users', 'secret', { N: 1024, r: 8, p: 1 });"
HEALTHCHECK --interval=5s --timeout=10s --start-period=60s --retries=12 CMD ["node", "docker/healthcheck.ts"]
CMD ["node", "services/mta/main.ts"]
