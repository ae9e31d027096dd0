#!/usr/bin/env node
// Container health check (Dockerfile HEALTHCHECK): GET /healthz of this container's own process — the ops
// server of `pm-arb agent` on METRICS_PORT, or the dashboard on DASHBOARD_PORT. HEALTHCHECK_PORT overrides.
// Plain JavaScript, no TypeScript loader: it starts in well under a second.
const port = process.env.HEALTHCHECK_PORT || process.env.METRICS_PORT || process.env.DASHBOARD_PORT || '8787';
const path = process.env.HEALTHCHECK_PATH || '/healthz';
fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(4000) }).then(
  (r) => process.exit(r.ok ? 0 : 1),
  () => process.exit(1),
);
