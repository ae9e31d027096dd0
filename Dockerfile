# pm-arb: one image for every service (`pm-arb agent <name>`, `pm-arb dashboard`, `pm-arb db migrate`, `pm-arb run`).
# The sources are compiled ahead of time into dist/ (scripts/build.mjs, esbuild: a production dependency) so a
# command starts without a TypeScript compiler; bin/pm-arb.js falls back to tsx only if dist/ is missing or stale.

# ---- dependencies: production only, from the lock file
FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` builds dist/, which needs src/ (built in the runtime stage below)
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime
FROM node:20-slim
ENV NODE_ENV=production \
    DATA_DIR=/data \
    METRICS_PORT=9464
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY scripts ./scripts
COPY src ./src
RUN node scripts/build.mjs
# the unprivileged user of the official image; DATA_DIR is the only place it writes
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
# 9464: /metrics /healthz /readyz of an agent (METRICS_PORT); 8787: the dashboard
EXPOSE 9464 8787
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["node", "bin/healthcheck.js"]
ENTRYPOINT ["node", "bin/pm-arb.js"]
CMD ["run", "--feeds", "live"]
