/**
 * The ops side of one process, in one call: metrics on an instrumented bus, health from the agent runtimes, and
 * (when METRICS_PORT is set) the small server for them. `pm-arb agent` uses it as is; `pm-arb run` mounts
 * `routes()` on its dashboard server instead (and serves them here too when METRICS_PORT is set).
 */
import type { AgentRuntime, Kernel } from '../core/agent.ts';
import { type OpsHandler, opsRoutes } from './health.ts';
import { createOpsMetrics, type OpsMetrics } from './metrics.ts';
import { type OpsServer, startOpsServer } from './server.ts';

export interface ProcessOps {
  /** The kernel with its bus instrumented: build the runtimes with this one. */
  readonly kernel: Kernel;
  readonly metrics: OpsMetrics;
  /** GET handlers for /metrics, /healthz and /readyz over these runtimes. */
  routes(runtimes: () => readonly AgentRuntime[]): Record<string, OpsHandler>;
  /** Serves the routes on METRICS_HOST:METRICS_PORT; does nothing (undefined) when no port is configured. */
  serve(runtimes: () => readonly AgentRuntime[]): Promise<OpsServer | undefined>;
}

export function createProcessOps(base: Kernel, labels?: Readonly<Record<string, string>>): ProcessOps {
  const metrics = createOpsMetrics({ clock: base.clock, ...(labels ? { labels } : {}) });
  const kernel: Kernel = { ...base, bus: metrics.instrument(base.bus) };
  const routes = (runtimes: () => readonly AgentRuntime[]): Record<string, OpsHandler> =>
    opsRoutes({
      metrics,
      health: {
        agents: () => runtimes().map((rt) => ({ name: rt.agent.name, state: rt.state })),
        bus: kernel.bus,
      },
    });
  return {
    kernel,
    metrics,
    routes,
    async serve(runtimes) {
      const { host, port } = base.config.metrics;
      if (port === undefined) return undefined;
      const server = await startOpsServer({ host, port, routes: routes(runtimes) });
      base.log.info({ url: server.url }, 'ops server: /metrics /healthz /readyz');
      return server;
    },
  };
}
