# syntax=docker/dockerfile:1
#
# One image recipe for all six processes: the five subgraphs and the gateway. They share the same
# workspace layout, the same launcher and the same hardening, so one parameterised file cannot drift the
# way six copies would. Pick the process with the WORKSPACE build argument (skaffold.yaml passes it):
#
#   docker build --build-arg WORKSPACE=services/vouchers -t vouchers .
#   docker build --build-arg WORKSPACE=gateway -t gateway .
#
# The build context is the repository root, so proto/, schema/ and the shared packages are copied from
# their one place instead of being duplicated per service. scripts/image-build-check.sh replays the
# `deps` stage below outside Docker (keep its RUN lines relative to WORKDIR and free of system paths).

ARG NODE_VERSION=24.21.0

# ---- deps: production dependencies of one workspace, plus the TypeScript launcher ----
FROM node:${NODE_VERSION}-trixie-slim AS deps
ARG WORKSPACE
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

# Manifests first: this layer (and the install below) is rebuilt only when dependencies change.
COPY package.json package-lock.json .npmrc ./
COPY packages/cache/package.json packages/cache/
COPY packages/events/package.json packages/events/
COPY packages/kit/package.json packages/kit/
COPY packages/runtime/package.json packages/runtime/
COPY packages/testing/package.json packages/testing/
COPY services/identity/package.json services/identity/
COPY services/vouchers/package.json services/vouchers/
COPY services/training/package.json services/training/
COPY services/settlement/package.json services/settlement/
COPY services/careers/package.json services/careers/
COPY gateway/package.json gateway/

# Only this workspace's production dependency tree, at the versions pinned in package-lock.json.
# `npm install` rather than `npm ci`: npm 11 drops other platforms' optional packages from the lock and
# `npm ci` then refuses it (docs/decisions.md #8); the lock still pins every version installed here.
# The workspaces' devDependencies are deleted from the manifests first: a workspace's dev edge to another
# workspace (settlement → @vtv/testing → embedded-postgres) otherwise survives --omit=dev, because the
# lock counts that workspace's own dependencies as production ones.
# No install scripts run: none of the production packages needs one (package.json allowScripts).
# npm's download cache is a BuildKit cache mount: shared between the six builds, never in a layer.
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    test -n "$WORKSPACE" && test -f "$WORKSPACE/package.json" \
 && npm pkg delete devDependencies --workspaces \
 && npm install --omit=dev --workspace="$WORKSPACE" --ignore-scripts --no-audit --no-fund

# The services run their TypeScript sources with tsx (docs/decisions.md #1). tsx is a devDependency of
# the repository root, so it is installed on its own into launcher/, at the exact versions the lock pins.
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    lock() { node -p "require('./package-lock.json').packages['node_modules/$1'].version"; } \
 && npm install --prefix launcher --no-save --no-package-lock --omit=dev --ignore-scripts --no-audit --no-fund \
      "tsx@$(lock tsx)" "esbuild@$(lock esbuild)"

# A fixed path for the entry points whichever workspace this image carries: service/src/main.ts and,
# for subgraphs, service/src/migrate.ts.
RUN ln -s "$WORKSPACE" service

# ---- runtime: Node 24 slim, non-root, read-only friendly ----
FROM node:${NODE_VERSION}-trixie-slim AS runtime
ARG WORKSPACE
# The package manager is not needed at run time; removing it shrinks what an attacker could use.
# A numeric user above 10000 (no clash with host users); the chart runs the pod as the same ids.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* /usr/local/bin/yarn* \
 && groupadd --gid 10001 vtv \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin vtv
WORKDIR /app
# Every process listens on 4000 in the cluster (the chart sets PORT too); the Service port is the same.
ENV NODE_ENV=production PORT=4000
# Dependencies (root-owned, read-only to the service user), then sources; tests are in .dockerignore.
COPY --from=deps /app ./
COPY tsconfig.json ./
COPY schema/ schema/
COPY proto/ proto/
COPY packages/ packages/
COPY ${WORKSPACE}/ ${WORKSPACE}/
LABEL org.opencontainers.image.source="vtv-platform" \
      org.opencontainers.image.description="Vocational training voucher platform: ${WORKSPACE}"
USER 10001:10001
EXPOSE 4000
# tsx compiles on the fly and caches in the system temp dir (an emptyDir at /tmp in the chart).
ENTRYPOINT ["node", "--import=./launcher/node_modules/tsx/dist/loader.mjs"]
CMD ["service/src/main.ts"]
