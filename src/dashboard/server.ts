/**
 * The process's HTTP server: dashboard pages, read API, control API and live stream, plus any route groups a
 * caller adds (metrics, health probes). Built from what the process has — store, bus, config, clock, control
 * handlers — so the same code runs inside `pm-arb run` (in-process bus, PGlite) and alone in `pm-arb dashboard`
 * (PostgreSQL on DATABASE_URL, Redis on REDIS_URL).
 *
 *   const d = createDashboard({ config, clock, db, bus, ... });   // d.app.request(...) in tests
 *   const running = await d.listen();                            // 127.0.0.1:8787 unless configured
 *   await running.close();
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import type { Bus } from '../core/bus/types.ts';
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { type MatchStore, pairKey } from '../matcher/store.ts';
import type { Db } from '../store/db.ts';
import { leaderboard } from '../store/queries.ts';
import { BadCursorError } from '../store/report-queries.ts';
import { defaultStrategies } from '../strategies/plugins.ts';
import { type AlertCatalogEntry, DEFAULT_ALERT_CATALOG } from './alert-catalog.ts';
import { ENDPOINT_FILE } from './client.ts';
import type { DashboardContext, ProcessInfo, RouteGroup } from './context.ts';
import { type BusControlOptions, type ControlHandlers, createBusControl } from './control.ts';
import { controlApi } from './control-api.ts';
import { createLiveHub, type LiveHub } from './live.ts';
import { liveApi } from './live-api.ts';
import { pagesGroup } from './pages.ts';
import { BadRequestError } from './params.ts';
import { readApi, storeProblem } from './read-api.ts';
import {
  type AccessOptions,
  checkBind,
  hostGuard,
  problem,
  readGuard,
  resolveControlToken,
  securityHeaders,
} from './security.ts';

export type BuiltinGroup = 'read-api' | 'control-api' | 'live' | 'pages';

export interface DashboardOptions {
  readonly config: Config;
  readonly clock: Clock;
  readonly db?: Db;
  readonly bus?: Bus;
  readonly matchStore?: MatchStore;
  /** Default: the bus handlers of control.ts. */
  readonly control?: ControlHandlers;
  /** For the default handlers: the Redis halt key and who must confirm a halt/resume (see control.ts). */
  readonly killSwitch?: Pick<BusControlOptions, 'haltStore' | 'confirm'>;
  readonly role: ProcessInfo['role'];
  readonly feeds?: string;
  /** Name of this process (consumer group of the live subscriptions). */
  readonly instance: string;
  /** Where to listen; default config.dashboard.host / port. */
  readonly host?: string;
  readonly port?: number;
  /** Default: CONTROL_TOKEN, else DATA_DIR/control-token (created when missing). */
  readonly controlToken?: string;
  /** Route groups added after the built-in ones (e.g. /metrics, /healthz, /readyz). */
  readonly routes?: readonly RouteGroup[];
  /**
   * Which built-in groups to serve (default all): e.g. ['control-api'] for an agent process that only needs the
   * control endpoint beside its own `routes`.
   */
  readonly builtins?: readonly BuiltinGroup[];
  readonly alertCatalog?: readonly AlertCatalogEntry[];
  /** Live push period (default 250 ms: four updates a second at most). */
  readonly liveFlushMs?: number;
}

export interface Dashboard {
  readonly app: Hono;
  readonly live: LiveHub;
  readonly host: string;
  readonly port: number;
  readonly info: ProcessInfo;
  /** Starts listening; rejects with a DashboardListenError (port taken, address unavailable). */
  listen(): Promise<RunningDashboard>;
  /** Stops the live subscriptions (listen()'s close does it too). */
  close(): Promise<void>;
}

export interface RunningDashboard {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export class DashboardListenError extends Error {
  override name = 'DashboardListenError';
}

/** Builds the server (no socket yet). Throws UnsafeBindError for a non-loopback host without DASHBOARD_TOKEN. */
export function createDashboard(o: DashboardOptions): Dashboard {
  const host = o.host ?? o.config.dashboard.host;
  const port = o.port ?? o.config.dashboard.port;
  const readToken = o.config.dashboard.readToken;
  checkBind(host, readToken);
  const token =
    o.controlToken !== undefined
      ? { token: o.controlToken, source: 'CONTROL_TOKEN' as const }
      : resolveControlToken({ configured: o.config.dashboard.controlToken, dataDir: o.config.dataDir });
  const access: AccessOptions = { controlToken: token.token, readToken, host };
  const info: ProcessInfo = {
    role: o.role,
    ...(o.feeds ? { feeds: o.feeds } : {}),
    transport: o.bus?.transport ?? 'none',
    store: o.db ? `${o.db.backend === 'pglite' ? 'PGlite' : 'PostgreSQL'} ${o.db.location}` : 'none',
    controlTokenAt: 'path' in token && token.path ? token.path : 'CONTROL_TOKEN',
  };
  const live = createLiveHub({
    bus: o.bus,
    group: `dashboard@${o.instance}`,
    risk: o.config.risk,
    ...(o.liveFlushMs !== undefined ? { flushMs: o.liveFlushMs } : {}),
  });
  const strategies = async (): Promise<string[]> => {
    const names = new Set(defaultStrategies().map((s) => s.name));
    if (o.db) for (const b of await leaderboard(o.db)) names.add(b.strategy);
    return [...names].sort();
  };
  const control =
    o.control ??
    createBusControl({
      bus: o.bus,
      db: o.db,
      clock: o.clock,
      matchStore: o.matchStore,
      strategies,
      ...o.killSwitch,
      controlKey: o.config.signing?.controlKey,
      judgedRelation: async (a, b) => {
        const store = o.matchStore;
        if (!store) return undefined;
        const k = pairKey(a, b);
        const v = (await store.listVerdicts()).filter((x) => pairKey(x.a, x.b) === k).at(-1);
        return v?.relation;
      },
    });
  const ctx: DashboardContext = {
    config: o.config,
    clock: o.clock,
    db: o.db,
    bus: o.bus,
    matchStore: o.matchStore,
    control,
    live,
    access,
    info,
    alertCatalog: o.alertCatalog ?? DEFAULT_ALERT_CATALOG,
    strategies,
  };

  const builtins = [readApi, controlApi, liveApi, pagesGroup].filter(
    (g) => !o.builtins || (o.builtins as readonly string[]).includes(g.name),
  );
  const groups: RouteGroup[] = [...builtins, ...(o.routes ?? [])];
  const publicPaths = groups.flatMap((g) => g.publicPaths ?? []);
  const isPublic = (path: string): boolean =>
    publicPaths.some((p) => path === p || (p.endsWith('/') ? path.startsWith(p) : path.startsWith(`${p}/`)));

  const app = new Hono();
  app.use('*', securityHeaders());
  app.use('*', hostGuard(access));
  app.use('*', readGuard(access, isPublic));
  for (const g of groups) g.mount(app, ctx);
  app.notFound((c) =>
    c.req.path.startsWith('/api/')
      ? problem(c, 404, `no such endpoint: ${c.req.method} ${c.req.path}`)
      : c.text('Not found. The dashboard pages are listed at /.', 404),
  );
  app.onError((err, c) => {
    if (err instanceof BadRequestError || err instanceof BadCursorError) return problem(c, 400, err.message);
    const known = storeProblem(c, err);
    if (known) return known;
    // the message may name a table or a column, never a secret; the stack stays in the log
    process.stderr.write(`dashboard: ${c.req.method} ${c.req.path} failed: ${err.stack ?? err.message}\n`);
    return problem(c, 500, `internal error: ${err.message}`);
  });

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await live.close();
  };

  return {
    app,
    live,
    host,
    port,
    info,
    close,
    async listen() {
      const server = createAdaptorServer({ fetch: app.fetch }) as Server;
      await new Promise<void>((ok, fail) => {
        const onError = (err: NodeJS.ErrnoException): void => {
          server.off('listening', onListening);
          fail(listenError(err, host, port));
        };
        const onListening = (): void => {
          server.off('error', onError);
          ok();
        };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen(port, host);
      });
      const addr = server.address() as AddressInfo;
      const shown = host.includes(':') ? `[${host}]` : host;
      const url = `http://${shown}:${addr.port}`;
      return {
        url,
        port: addr.port,
        async close() {
          await close();
          server.closeAllConnections?.();
          await new Promise<void>((ok) => server.close(() => ok()));
        },
      };
    },
  };
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): DashboardListenError {
  if (err.code === 'EADDRINUSE') {
    return new DashboardListenError(
      `the dashboard cannot listen on ${host}:${port}: the port is taken (another pm-arb run?). ` +
        'Set DASHBOARD_PORT to a free port (DASHBOARD_PORT=0 picks one), or run with --no-dashboard.',
    );
  }
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
    return new DashboardListenError(
      `the dashboard cannot listen on ${host}: no such local address. Set DASHBOARD_HOST to an address of this ` +
        'machine (127.0.0.1 by default).',
    );
  }
  if (err.code === 'EACCES') {
    return new DashboardListenError(
      `the dashboard may not listen on port ${port} (ports below 1024 need privileges). Set DASHBOARD_PORT above 1023.`,
    );
  }
  return new DashboardListenError(`the dashboard cannot listen on ${host}:${port}: ${err.message}`);
}

/** Removes the endpoint file unless another process has written its own since. */
function removeIfOurs(path: string): void {
  try {
    if ((JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown }).pid === process.pid)
      rmSync(path, { force: true });
  } catch {
    // gone already, or not ours to judge
  }
}

export { ENDPOINT_FILE };

export interface StartedDashboard {
  readonly url: string;
  /** Lines for the start banner: the address and where the control token is (never the token). */
  readonly banner: string[];
  stop(): Promise<void>;
}

/**
 * Builds, listens and advertises the endpoint in DATA_DIR/control-endpoint.json (removed at stop). The one call
 * `pm-arb run` and `pm-arb dashboard` make.
 */
export async function startDashboard(o: DashboardOptions): Promise<StartedDashboard> {
  const d = createDashboard(o);
  let running: RunningDashboard;
  try {
    running = await d.listen();
  } catch (err) {
    await d.close();
    throw err;
  }
  const endpointPath = resolve(o.config.dataDir, ENDPOINT_FILE);
  let wroteEndpoint = false;
  try {
    writeFileSync(
      endpointPath,
      `${JSON.stringify({ url: running.url, pid: process.pid, role: o.role, controlTokenAt: d.info.controlTokenAt })}\n`,
    );
    wroteEndpoint = true;
  } catch {
    // DATA_DIR not writable: the CLI then falls back to DASHBOARD_HOST/PORT
  }
  const banner = [
    `dashboard: ${running.url}${o.config.dashboard.readToken ? ' (needs DASHBOARD_TOKEN to read)' : ''}`,
    `control token: ${d.info.controlTokenAt === 'CONTROL_TOKEN' ? 'CONTROL_TOKEN (from the environment)' : `in ${d.info.controlTokenAt}`}`,
  ];
  return {
    url: running.url,
    banner,
    async stop() {
      await running.close();
      if (wroteEndpoint) removeIfOurs(endpointPath);
    },
  };
}
