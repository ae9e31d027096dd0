/**
 * `/metrics`, `/healthz` and `/readyz` of the process (src/ops) on the dashboard's server, so `pm-arb run` answers
 * them on its one port. Health is public (a load balancer or Docker HEALTHCHECK has no token); metrics carry equity
 * and positions, so they need the read token when the dashboard needs one.
 */
import type { Hono } from 'hono';
import type { OpsHandler } from '../ops/health.ts';
import type { RouteGroup } from './context.ts';

export function opsRouteGroup(handlers: Readonly<Record<string, OpsHandler>>): RouteGroup {
  return {
    name: 'ops',
    publicPaths: ['/healthz', '/readyz'],
    mount(app: Hono) {
      for (const [path, handler] of Object.entries(handlers)) {
        app.get(path, async (c) => {
          const r = await handler();
          return c.body(r.body, r.status as 200, r.headers);
        });
      }
    },
  };
}
