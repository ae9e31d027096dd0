/**
 * `pm-arb dashboard [--host H] [--port P]`: the dashboard alone, for a distributed deployment. It reads the shared
 * store (PostgreSQL on DATABASE_URL; else the embedded database under DATA_DIR, when no other process holds it)
 * and listens on the Redis bus (REDIS_URL) for live updates and to send control commands. Without REDIS_URL it
 * still shows what is stored, but nothing live and no controls.
 */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import type { Bus } from '../../core/bus/types.ts';
import { loadConfig, loadDotEnv } from '../../core/config.ts';
import type { redisKillSwitch } from '../../core/halt.ts';
import type { StartedDashboard } from '../../dashboard/server.ts';
import { storeWhere } from '../../store/db.ts';
import { UsageError } from '../main.ts';

function portOpt(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535)
    throw new UsageError(`--port must be a TCP port from 0 to 65535, got "${v}"`);
  return n;
}

export function registerDashboardCommand(program: Command): void {
  program
    .command('dashboard')
    .description(
      'serve the dashboard alone: reads the store (DATABASE_URL), live updates and controls over Redis (REDIS_URL)',
    )
    .option('--host <address>', 'address to listen on (default DASHBOARD_HOST, 127.0.0.1)')
    .option('--port <n>', 'port (default DASHBOARD_PORT, 8787; 0 picks a free one)')
    .action(async (o: { host?: string; port?: string }) => {
      const port = portOpt(o.port);
      if (o.host !== undefined && o.host.trim() === '')
        throw new UsageError('--host needs an address, e.g. 127.0.0.1');
      loadDotEnv();
      const config = loadConfig();
      const instance = `dashboard-${hostname()}-${process.pid}`;
      // an exposed address without DASHBOARD_TOKEN is refused before anything is opened
      const { checkBind } = await import('../../dashboard/security.ts');
      checkBind(o.host ?? config.dashboard.host, config.dashboard.readToken);
      // the first line at once: the server, the drivers and the store take a second or more to load and open
      process.stderr.write(`pm-arb dashboard: opening the store (${storeWhere(config)})\n`);
      const [
        { onShutdownSignal },
        { wallClock },
        { redisKillSwitch },
        { createBus },
        { createLogger },
        { startDashboard },
        { opsRouteGroup },
        { createOpsMetrics },
        { opsRoutes },
        { createJsonMatchStore, matchFilePath },
        { openDbFromConfig },
        { migrate },
      ] = await Promise.all([
        import('../../core/agent.ts'),
        import('../../core/clock.ts'),
        import('../../core/halt.ts'),
        import('../../core/kernel.ts'),
        import('../../core/log.ts'),
        import('../../dashboard/server.ts'),
        import('../../dashboard/ops-routes.ts'),
        import('../../ops/metrics.ts'),
        import('../../ops/health.ts'),
        import('../../matcher/store.ts'),
        import('../../store/db.ts'),
        import('../../store/migrations.ts'),
      ]);
      const log = createLogger(process.env.LOG_LEVEL === undefined ? 'warn' : config.logLevel);
      const db = await openDbFromConfig(config);
      let bus: Bus | undefined;
      let killSwitch: ReturnType<typeof redisKillSwitch> | undefined;
      const close = async (): Promise<void> => {
        await bus?.close();
        await killSwitch?.haltStore.close();
        await db.close();
      };
      let dashboard: StartedDashboard;
      try {
        await migrate(db);
        const metrics = createOpsMetrics({ clock: wallClock(), labels: { service: 'dashboard' } });
        if (config.redisUrl) bus = metrics.instrument(await createBus(config, 'redis', instance, log));
        // /healthz and /readyz for the container's health check: this process is one "agent", the dashboard
        const ops = opsRoutes({
          metrics,
          health: { agents: () => [{ name: 'dashboard', state: 'running' }], ...(bus ? { bus } : {}) },
        });
        if (bus && config.redisUrl)
          killSwitch = redisKillSwitch({
            url: config.redisUrl,
            keyPrefix: config.redisKeyPrefix,
            bus,
            instance,
          });
        dashboard = await startDashboard({
          config,
          ...(killSwitch ? { killSwitch } : {}),
          clock: wallClock(),
          db,
          ...(bus ? { bus } : {}),
          matchStore: createJsonMatchStore(matchFilePath(config.dataDir)),
          role: 'dashboard',
          instance,
          routes: [opsRouteGroup(ops)],
          ...(o.host !== undefined ? { host: o.host } : {}),
          ...(port !== undefined ? { port } : {}),
        });
      } catch (err) {
        await close();
        throw err;
      }
      process.stderr.write(
        `pm-arb dashboard: store ${db.location}, ${bus ? 'bus Redis (REDIS_URL): live updates and controls' : 'no REDIS_URL: stored data only, nothing live, no controls'}\n` +
          dashboard.banner.map((l) => `pm-arb dashboard: ${l}\n`).join('') +
          'pm-arb dashboard: Ctrl-C to stop\n',
      );
      // runs until SIGINT/SIGTERM; onShutdownSignal exits once this resolves
      await new Promise<void>(() => {
        onShutdownSignal(async () => {
          await dashboard.stop();
          await close();
          process.stderr.write('pm-arb dashboard: stopped\n');
        });
      });
    });
}
