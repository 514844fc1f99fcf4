# syntax=docker/dockerfile:1
# The orchestrator image: `layer operator` (watcher + orchestrator worker + HTTP API) by
# default; `layer orchestrator`, `layer store serve` etc. by overriding the command.
# Compiled JavaScript on plain node — no tsx, no dev dependencies, no sources — as a non-root
# user that writes nothing outside /tmp, so it runs with readOnlyRootFilesystem and an emptyDir
# on /tmp. No HEALTHCHECK: Kubernetes probes the HTTP API instead (the chart's livenessProbe).
# docs/adr/0042-production-build-and-images.md; test/unit/build and test/integration/build
# check this file and run its build and install steps without a Docker engine.
ARG NODE_IMAGE=node:24-bookworm-slim

# Build: every dependency, then tsc into dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund && npm run build

# Production dependencies only, installed from the same lock.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
# MALLOC_ARENA_MAX: glibc gives each busy thread (Temporal's Rust core, libuv, V8) its own 64 MiB
# malloc arena; two arenas cut the orchestrator's resident memory by ~60 MB (docs/adr/0118).
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    NODE_OPTIONS=--enable-source-maps \
    HOME=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    TMPDIR=/tmp
COPY --from=deps /app/package.json /app/package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY examples/tag-products/function.yaml ./examples/tag-products/
COPY bin ./bin
# The store's data folder when compose mounts a named volume there (it inherits this owner).
RUN mkdir /data && chown node:node /data
USER node
EXPOSE 8080
ENTRYPOINT ["node", "bin/layer.js"]
CMD ["operator"]
