# syntax=docker/dockerfile:1
#
# One Dockerfile for the nine services and the setup job; SERVICE picks which (tools/build/services.ts):
#   docker build --build-arg SERVICE=identity-app -t devpie-identity-app .               # production
#   docker build --build-arg SERVICE=identity-app --target dev -t devpie-identity-app .  # tsx watch
# Only the last stages read SERVICE, so all ten images share the cached install and build layers.

ARG NODE_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

# The package.json files of the workspace, alone: installs below rerun when dependencies change,
# not when sources do.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY . .
RUN find . -type f ! -name package.json ! -name package-lock.json -delete \
 && find . -depth -type d -empty -delete

# Every dependency, dev ones included (esbuild, tsx).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=manifests /app/ ./
RUN npm ci --no-audit --no-fund

# Production dependencies of the runtime workspaces only, in the lockfile's layout (a package npm
# nested under a workspace stays there: the bundles require it by that path).
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY --from=manifests /app/ ./
RUN npm ci --omit=dev --no-audit --no-fund \
      --workspace=common-events --workspace=common-http \
      --workspace=applications --workspace=components --workspace=aggregators \
 && rm -rf node_modules/.bin node_modules/@devpie \
 && mkdir /out \
 && find . -name node_modules -type d -prune -exec cp -a --parents {} /out/ \;

# esbuild: dist/<service>.js for every service, workspace code bundled, npm packages external.
FROM deps AS build
COPY . .
RUN npm run build

FROM build AS bundle
ARG SERVICE
RUN if [ ! -f "dist/${SERVICE}.js" ]; then \
      echo "SERVICE='${SERVICE}' is not one of: $(cd dist && ls -- *.js | sed 's/\.js$//' | tr '\n' ' ')" >&2; \
      exit 1; \
    fi \
 && mkdir -p /out/dist \
 && cp "dist/${SERVICE}.js" /out/dist/main.js \
 && cp "dist/${SERVICE}.js.map" /out/dist/

# skaffold's dev profile: TypeScript sources run by `tsx watch`; synced .ts files restart the service.
FROM deps AS dev
COPY --chown=1000:1000 . .
ARG SERVICE
ENV SERVICE=${SERVICE} NODE_ENV=development
USER 1000:1000
CMD ["node_modules/.bin/tsx", "watch", "--clear-screen=false", "tools/build/dev.ts"]

# Production: distroless Node 20 (no shell, no npm), non-root, compiled JavaScript only.
FROM ${RUNTIME_IMAGE} AS production
WORKDIR /app
ENV NODE_ENV=production
COPY --from=prod-deps /out/ ./
COPY --from=bundle /out/ ./
USER 65532:65532
# SERVICE_NODE_FLAGS (common-events/src/runtime/node-flags.ts): V8's own flags are not allowed in NODE_OPTIONS
CMD ["--max-semi-space-size=32", "--no-allocation-site-pretenuring", "--enable-source-maps", "dist/main.js"]
