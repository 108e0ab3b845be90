# Inbox Autopilot's production image: compiled JavaScript, the prebuilt workflow bundle and
# the built web app, on Node's current LTS, production dependencies only, as a non-root user.
#
#   docker build -t inbox-autopilot:1.0.0 .
#
# One image, three roles (README "The image"); each needs DATABASE_URL and TEMPORAL_ADDRESS:
#   node dist/src/migrate.js        the migrations, a step of its own before new workers and APIs
#   node dist/src/main.js worker    workflows and activities
#   node dist/src/main.js api       webhooks, HTTP API and web app (the default command)
ARG NODE_IMAGE=node:24-bookworm-slim

# Build stage: every dependency (TypeScript, Vite, the web app's React), then `npm run build`:
# tsc into dist/, vite build web into dist/web, the workflow bundle into dist/workflow-bundle.js.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# patches/: what `npm ci`'s postinstall (patch-package) applies to dependencies (README "Workflow stack traces").
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# Runtime stage: production dependencies only, and what the build stage compiled.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# DATA_DIR (.data): where secrets not set in the environment are generated and kept.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 3000
# The API's /healthz (503 when PostgreSQL or Temporal is down); slim has no curl, node has fetch.
# A worker has no HTTP API: docker-compose.yml gives the worker its own check (GET /metrics).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js", "api"]
