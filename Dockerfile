# syntax=docker/dockerfile:1
#
# One image for all six services; SERVICE picks the one a container runs:
#   docker build -t task-platform .
#   docker run -e SERVICE=processing-worker -e AMQP_URL=… -e REDIS_URL=… task-platform
#
# Why one image and not six: the services are one npm workspace with one lockfile, one shared
# runtime and one `tsc --build`; their production node_modules are nearly identical and make up
# most of the size. Six images would repeat those layers, build six times and could drift apart
# in versions; one image is built, scanned and promoted once, and every service of a release runs
# the same bytes. Each container still runs exactly one service process (tasks-$SERVICE).

# The base image. A tag moves: for a reproducible, reviewable build pin it by digest, e.g.
#   docker buildx imagetools inspect node:20-bookworm-slim   (the "Digest:" line, an index)
#   ARG NODE_IMAGE=node:20-bookworm-slim@sha256:<that digest>
# and bump it deliberately. (Not pinned here yet: the digest must be read from the registry.)
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: all dependencies, compile every project reference -------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Manifests first: the `npm ci` layer is reused until a package.json or the lockfile changes.
COPY package.json package-lock.json ./
COPY contracts/package.json contracts/
COPY client/package.json client/
COPY cli/package.json cli/
COPY runtime/package.json runtime/
COPY launcher/package.json launcher/
COPY services/gateway/package.json services/gateway/
COPY services/status-store/package.json services/status-store/
COPY services/email-worker/package.json services/email-worker/
COPY services/processing-worker/package.json services/processing-worker/
COPY services/report-worker/package.json services/report-worker/
COPY services/scheduler/package.json services/scheduler/
# No package's install scripts run (--ignore-scripts): a dependency's postinstall is code from
# the registry running at build time. None is needed for this build: of the lockfile's packages
# with install scripts, @swc/core (checks its native binding), @parcel/watcher and the optional
# msgpackr-extract (native builds) serve the tests only; protobufjs's prints a version warning;
# @scarf/scarf's reports the installation over the network. The workspaces have no lifecycle
# scripts of their own. If one is ever needed, run it here by name (`npm rebuild <package>`).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY contracts/ contracts/
COPY client/ client/
COPY cli/ cli/
COPY runtime/ runtime/
COPY launcher/ launcher/
COPY services/ services/
RUN npx tsc --build

# ---- runtime: production dependencies and compiled output only -------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY contracts/package.json contracts/
COPY client/package.json client/
COPY cli/package.json cli/
COPY runtime/package.json runtime/
COPY launcher/package.json launcher/
COPY services/gateway/package.json services/gateway/
COPY services/status-store/package.json services/status-store/
COPY services/email-worker/package.json services/email-worker/
COPY services/processing-worker/package.json services/processing-worker/
COPY services/report-worker/package.json services/report-worker/
COPY services/scheduler/package.json services/scheduler/
# The workspaces' own dependencies, none of the root's devDependencies (typescript, jest, …);
# node_modules/@tasks/* become links to the folders that receive dist/ below.
# No install scripts here either (see the build stage).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/contracts/dist contracts/dist
COPY --from=build /src/runtime/dist runtime/dist
COPY --from=build /src/services/gateway/dist services/gateway/dist
# The dashboard's static page (served by the gateway; no build step).
COPY services/gateway/static services/gateway/static
COPY --from=build /src/services/status-store/dist services/status-store/dist
COPY --from=build /src/services/email-worker/dist services/email-worker/dist
COPY --from=build /src/services/processing-worker/dist services/processing-worker/dist
COPY --from=build /src/services/report-worker/dist services/report-worker/dist
COPY --from=build /src/services/scheduler/dist services/scheduler/dist
COPY deploy/docker-entrypoint.sh deploy/healthcheck.js deploy/service-spec.js deploy/services-manifest.js deploy/
# The service manifest, which those scripts read: each service's folder, V8 flags and probe port.
COPY contracts/src/services.json contracts/src/
# Mount point of the reports volume: a new named volume copies this folder's owner, so the
# non-root services can write to it. MAIL_DIR lives under /tmp (a tmpfs/emptyDir when the root
# file system is read-only).
RUN mkdir -p /data/reports && chown 1000:1000 /data/reports

# The base image's `node` user, by number: Kubernetes can only verify runAsNonRoot on a numeric
# USER. Nothing under /app is writable by it.
USER 1000:1000

ARG SERVICE=""
ENV SERVICE=${SERVICE} \
    GATEWAY_HOST=0.0.0.0 \
    REPORTS_DIR=/data/reports \
    MAIL_DIR=/tmp/mail
# The gateway's API; the other services listen on nothing.
EXPOSE 8000

# deploy/healthcheck.js: GET /health for the gateway; for the others, GET /readyz on their probe
# port. 15 s apart: a check spawns a short-lived node (~40 MB, <0.1 s).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/app/deploy/healthcheck.js", "ready"]

# Through sh (not the script's executable bit, which a checkout may lose); the script execs node.
ENTRYPOINT ["/bin/sh", "/app/deploy/docker-entrypoint.sh"]
