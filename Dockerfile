# Builds the service: TypeScript compiled to dist/ from src/ and workers/ only; the final image holds
# what runs (dist/, production node_modules, migrations/) and nothing of tests, scripts or dev tools.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
COPY workers ./workers
COPY bin/supported-node.mjs ./bin/
RUN npx tsc -p tsconfig.build.json

FROM node:24-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
USER node
EXPOSE 3000
# /healthz answers while the process is up: on PORT for the api and all roles, on METRICS_PORT for a
# worker-only container (set it there: a worker serves no other port). The slim image has no curl, so
# Node's own fetch asks.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# V8's young generation capped at 2 x 16 MB (it grows to 128 MB by default on a large machine): a
# Parquet load allocates enough to make it grow, and peak RSS went from 334-341 to 242-251 MiB
# (npm scripts get the same through .npmrc; README, "Memory").
ENV NODE_OPTIONS="--max-semi-space-size=16"
CMD ["node", "dist/src/entry.js", "all"]
