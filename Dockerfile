# syntax=docker/dockerfile:1
# EdgeWorker Monitor: the server (compiled from apps/server/src/bin/server.ts) or, with another
# command, the standalone generator. Multi-stage: the dashboard is built with the full
# toolchain, the runtime stage has production dependencies only and runs as `node`.
#
# The server runs compiled JavaScript (apps/server/dist/server.mjs, bundled by
# scripts/build-server.mjs, as `npm run server` does). tsx stays in the runtime stage
# only for the standalone generator's command (compose.yaml).
#
# Containers cannot run on the machines this repository is tested on: this file is
# kept minimal, and test:services covers the same topology without containers
# (apps/server/src/topology.services.test.ts).

ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY . .
# npm ci's `prepare` builds the dashboard and the server bundle.
RUN npm ci --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/apps ./apps
COPY --from=build /app/packages ./packages
# Production dependencies, plus tsx (a root devDependency) at the locked version for the generator's TypeScript.
RUN rm -rf apps/*/node_modules packages/*/node_modules apps/web/src apps/web/e2e \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm install --no-save --ignore-scripts --no-audit --no-fund "tsx@$(node -p "require('./package-lock.json').packages['node_modules/tsx'].version")" \
 && npm cache clean --force \
 && mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
# /health answers 200 (ok, degraded) or 503 (the metrics store is down) to anyone, token or not.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"]
# node is PID 1 and handles SIGTERM itself (flushes, closes the stores).
CMD ["node", "--enable-source-maps", "apps/server/dist/server.mjs"]
