# headwatch container image.
#
#   docker build -t headwatch .
#   docker run -d --name headwatch -v headwatch-data:/data -e DOCKER_HOST=tcp://docker-proxy:2375 --env-file .env headwatch
#
# Give it Docker through the socket proxy of docker-compose.example.yml (only the calls headwatch makes); mounting
# the raw socket instead hands root on the host to whoever controls the bot. The process runs as the unprivileged
# `node` user (uid 1000), so a raw socket also needs `--group-add <gid of /var/run/docker.sock>`.
#
# Both stages take their base image as a build argument: the runtime defaults to the official Node 20 slim image,
# the build stage to the full one, which already carries python3, make and g++ for better-sqlite3's native addon
# when no prebuilt binary can be downloaded (so no apt-get, and no network beyond the npm registry).
ARG BASE_IMAGE=node:20-bookworm-slim
ARG BUILD_IMAGE=node:20-bookworm

# Few instructions on purpose: every step is a full copy of the filesystem on storage drivers without layer sharing
# (vfs, as in CI), while the dependency layer still caches until package.json or the lockfile changes.
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# Compile, then keep production dependencies only, minus what Node never loads at run time: type declarations,
# source maps, TypeScript sources, docs, packages' own tests and benchmarks, the C sources of native addons
# (better-sqlite3's SQLite, cpu-features'; their compiled addons stay), the font files the chart does not use
# (src/charts/render.ts loads the latin 400/700 woff2 only), lodash's functional-programming variant (its one
# user, discord.js's validator, loads lodash/get and lodash/uniqWith) and zod's CommonJS copy (headwatch, its only
# user, imports the ES modules). Licence files stay. Then every package
# the runtime can load is imported once, so a pruning mistake fails the build, not a chat message at 3 a.m.
# /out is laid out as the runtime image wants it.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src node_modules/cpu-features/deps node_modules/cpu-features/src node_modules/lodash/fp \
 && find node_modules/better-sqlite3/build -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} + \
 && find node_modules/better-sqlite3/build/Release -mindepth 1 ! -name better_sqlite3.node -exec rm -rf {} + \
 && find node_modules/@fontsource/dejavu-sans -mindepth 1 ! -name package.json ! -name LICENSE ! -name files ! -name 'dejavu-sans-latin-[47]00-normal.woff2' -exec rm -rf {} + \
 && find node_modules/zod -type f -name '*.cjs' -delete \
 && find node_modules -type d \( -name test -o -name tests -o -name __tests__ -o -name benchmarks -o -name .github \) -prune -exec rm -rf {} + \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.ts' -o -name '*.map' \
      -o -name '*.tsbuildinfo' -o -iname '*.md' -o -iname '*.markdown' \) -delete \
 && node -e "require('better-sqlite3')(':memory:').prepare('select 1').get()" \
 && node --input-type=module -e "for (const m of ['dockerode', 'docker-modem/lib/ssh.js', 'dockerode/lib/session.js', '@slack/bolt', 'discord.js', 'undici', '@napi-rs/canvas', 'yaml', 're2js', 'pino', 'prom-client', 'node-cron', 'zod']) await import(m); await import('./dist/src/config/schema.js'); const { createRequire } = await import('node:module'); for (const w of [400, 700]) createRequire(import.meta.url).resolve('@fontsource/dejavu-sans/files/dejavu-sans-latin-' + w + '-normal.woff2')" \
 && mkdir -p /out/app /out/data \
 && mv node_modules dist package.json /out/app/

FROM ${BASE_IMAGE}
ARG BASE_IMAGE VERSION=0.1.0 REVISION=unknown CREATED=unknown
LABEL org.opencontainers.image.title="headwatch" \
      org.opencontainers.image.description="Keeps self-hosted Headscale tailnets healthy from the chat room: watches Docker and the Headscale API, alerts, and acts." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="UNLICENSED" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"
ENV NODE_ENV=production \
    HEADWATCH_DB=/data/headwatch.db \
    HEADWATCH_HTTP_PORT=9464
WORKDIR /app
# Code owned by root, read-only to the process: the running bot cannot rewrite itself.
COPY --from=build /out/app /app
# /data holds the SQLite file (alerts, outbox, approvals, audit): keep it on a volume across upgrades.
COPY --from=build --chown=1000:1000 /out/data /data
USER 1000:1000
VOLUME ["/data"]
EXPOSE 9464
# /healthz answers while the process is up; readiness (/readyz) also needs Docker, which is not the container's fault.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HEADWATCH_HTTP_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Compiled JavaScript only: no TypeScript compiler in the process. SIGTERM stops it cleanly (outbox flushed).
# The same command as `npm start` (package.json; scripts/runtime-command.mjs explains the flag).
CMD ["node", "--max-semi-space-size=1", "dist/src/main.js"]
