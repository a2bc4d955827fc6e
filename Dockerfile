# syntax=docker/dockerfile:1
# spiffe-ext-authz: ext_authz gRPC on 9191, admin HTTP on 9192, running as the unprivileged `node` user.
#   docker build -t spiffe-ext-authz .
#   docker run --rm -p 127.0.0.1:9191:9191 -p 127.0.0.1:9192:9192 \
#     -v "$PWD/my-policy.yaml:/etc/spiffe-ext-authz/config.yaml:ro" spiffe-ext-authz
# The config is read from $SPIFFE_AUTHZ_CONFIG (/etc/spiffe-ext-authz/config.yaml, the bundled
# config/default.yaml until something is mounted over it). See README.md, "Deploying".

# Node 24 LTS on Debian 12, pinned to a patch release; bump deliberately.
ARG NODE_IMAGE=node:24.11.1-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: nothing the build or the server needs has one (esbuild, which bundles the
# server, runs from its platform package without its postinstall; ssh2's belongs to the test
# tooling), and skipping them keeps native builds out of the image.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY envoy-protos ./envoy-protos
COPY scripts/bundle-server.mjs ./scripts/bundle-server.mjs
COPY src ./src
# The build validates config/default.yaml once with the bundled CLI to make its V8 code cache.
COPY config ./config
# tsc, then the CLI bundled into dist/src/server.cjs with that cache (see scripts/bundle-server.mjs);
# dist/src/main.js, the entrypoint, runs it. Same Node image in both stages: V8 accepts only a
# cache made by its own version.
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    SPIFFE_AUTHZ_CONFIG=/etc/spiffe-ext-authz/config.yaml
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
COPY LICENSE README.md ./
# Root-owned and read-only for the server: mount a policy over the file (or a ConfigMap over the directory).
RUN mkdir -p /etc/spiffe-ext-authz && cp config/default.yaml /etc/spiffe-ext-authz/config.yaml
USER node
EXPOSE 9191 9192
# Slim images have no curl: ask node itself. Follows listen.admin's default port 9192.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9192/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/src/main.js"]
CMD ["serve"]
