# syntax=docker/dockerfile:1
# The acd-bridge server image: `docker build -t acd-bridge .`
#
#   docker run -d --name acd-bridge -p 8080:8080 -v acd-bridge-data:/var/lib/acd-bridge \
#     -e ACD_BRIDGE_ADMIN_TOKEN=… -e ACD_BRIDGE_TRUST_PROXY=true acd-bridge
#
# It listens on 0.0.0.0:8080, which the server only allows with TLS (mount the PEM files and
# set ACD_BRIDGE_TLS_CERT/ACD_BRIDGE_TLS_KEY) or behind a TLS-terminating proxy
# (ACD_BRIDGE_TRUST_PROXY=true). Data lives in the volume /var/lib/acd-bridge. docs/operations.md
# has every setting; `docker stop` (SIGTERM) lets requests in flight finish and exits with 0.

ARG NODE_VERSION=22

# 1. build: the workspace's packages (tsup → dist/)
FROM node:${NODE_VERSION}-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0
RUN corepack enable
WORKDIR /src
COPY . .
RUN pnpm install --frozen-lockfile && pnpm build

# 2. install: the packed packages with their runtime dependencies only, as from the registry
FROM build AS install
RUN bash deploy/install.sh /app

# 3. run: node, the installed server and nothing else, as the unprivileged `node` user
FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    ACD_BRIDGE_DATABASE_URL=/var/lib/acd-bridge/acd-bridge.sqlite \
    ACD_BRIDGE_LOG_FORMAT=json
COPY --from=install --chown=root:root /app /app
COPY --chown=root:root deploy/healthcheck.mjs /app/healthcheck.mjs
RUN mkdir -p /var/lib/acd-bridge && chown node:node /var/lib/acd-bridge
USER node
WORKDIR /var/lib/acd-bridge
VOLUME /var/lib/acd-bridge
EXPOSE 8080
# node is PID 1 and handles SIGTERM itself (NodeRuntime.runMain): no shell in between
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
ENTRYPOINT ["node", "/app/node_modules/@acd-bridge/server/bin/acd-bridge.js"]
CMD ["serve"]
