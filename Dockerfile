# syntax=docker/dockerfile:1
# Confab in two stages: `build` installs every dependency (better-sqlite3 may compile from source, the
# postinstall generates the Prisma clients), builds the web client and drops the dev dependencies;
# `runtime` holds only what `confab serve` reads, and runs as a user without privileges.
#   docker build -t confab .
#   docker run -p 4000:4000 -e CONFAB_SECRET_KEY=... -v confab-data:/data confab

ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# Compilers for better-sqlite3 when no prebuilt binary can be fetched.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
# The lockfiles and what the postinstall needs (scripts/prisma-generate.mjs reads prisma/models.prisma,
# scripts/build.mjs bundles src/ into dist/confab.js) come first.
COPY package.json package-lock.json tsconfig.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY src ./src
RUN npm ci --no-audit --no-fund
COPY web/package.json web/package-lock.json ./web/
RUN cd web && npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
  && npm run build:web \
  && npm prune --omit=dev --no-audit --no-fund \
  && rm -rf web/node_modules

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    CONFAB_HOST=0.0.0.0 \
    CONFAB_PORT=4000 \
    DATABASE_URL=file:/data/confab.db
WORKDIR /app
RUN groupadd --system confab \
  && useradd --system --gid confab --home-dir /app --shell /usr/sbin/nologin confab \
  && mkdir -p /data \
  && chown confab:confab /data
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/prisma ./prisma
COPY --from=build --chown=root:root /app/web/dist ./web/dist
USER confab
# The SQLite database (the default DATABASE_URL) lives here; with PostgreSQL the volume stays empty.
VOLUME ["/data"]
EXPOSE 4000
# /health answers 200 while the process and its database answer (node: the slim image has no curl).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.CONFAB_PORT || 4000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) drains in-flight work within server.shutdown_timeout_ms (10 s by default):
# give `docker stop` / compose's stop_grace_period more than that.
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "dist/confab.js", "serve"]
