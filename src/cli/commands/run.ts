/**
 * `pm-arb run [--feeds sim|live] [--seed N] [--bus inproc|redis]`: every agent of the system in one process.
 * `npm start` is `pm-arb run --feeds sim` (the simulated market, paper trading, in-process bus, embedded store).
 * Stops gracefully on SIGINT/SIGTERM (agents stop in reverse order) or after --duration.
 */
import type { Command } from 'commander';
import { createLiveCounters, renderLiveSummary } from '../../app/backtest.ts';
import { buildAgents } from '../../app/pipeline.ts';
import { type AgentRuntime, type Kernel, onShutdownSignal, startAgents } from '../../core/agent.ts';
import { channels } from '../../core/channels.ts';
import { loadConfig, loadDotEnv } from '../../core/config.ts';
import { combinedHaltSource, createRedisHaltStore, type HaltSource } from '../../core/halt.ts';
import { createKernel } from '../../core/kernel.ts';
import { createLogger } from '../../core/log.ts';
import { opsRouteGroup } from '../../dashboard/ops-routes.ts';
import type { DashboardOptions } from '../../dashboard/server.ts';
import { createJsonMatchStore, matchFilePath } from '../../matcher/store.ts';
import { createProcessOps } from '../../ops/process.ts';
import { type Db, openDbFromConfig } from '../../store/db.ts';
import { migrate } from '../../store/migrations.ts';
import { loadRecoveryState } from '../../store/queries.ts';
import { type RestoredStates, restoreStates } from '../../store/restore.ts';
import { storeHaltSource } from '../../store/system-state.ts';
import { UsageError } from '../main.ts';
import { parseDuration } from './record.ts';
import { parseIntOpt } from './simulate.ts';

/**
 * The kill switch of one `pm-arb run`: trading agents read the halt state from the store (and the Redis key on
 * the Redis bus) at start and on reconnect; a halt/resume through the control endpoint is recorded there and
 * waits for this process's trading agents to confirm.
 */
function killSwitchFor(
  kernel: Kernel,
  db: Db | undefined,
  runtimes: () => readonly AgentRuntime[],
): {
  source: HaltSource | undefined;
  control: NonNullable<DashboardOptions['killSwitch']>;
  close(): Promise<void>;
} {
  const redisKey =
    kernel.bus.transport === 'redis' && kernel.config.redisUrl
      ? createRedisHaltStore({ url: kernel.config.redisUrl, keyPrefix: kernel.config.redisKeyPrefix })
      : undefined;
  const sources: HaltSource[] = [];
  if (db) sources.push(storeHaltSource(db));
  if (redisKey) sources.push(redisKey);
  return {
    source: sources.length > 0 ? combinedHaltSource(sources) : undefined,
    control: {
      ...(redisKey ? { haltStore: redisKey } : {}),
      confirm: {
        expected: () =>
          runtimes()
            .filter((rt) => rt.agent.trading && rt.state !== 'stopped')
            .map((rt) => `${rt.agent.name}@${kernel.instance}`),
        timeoutMs: 2_000,
        group: `halt-confirm@${kernel.instance}`,
      },
    },
    close: async () => {
      await redisKey?.close();
    },
  };
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run every agent in one process (npm start = run --feeds sim)')
    .option('--feeds <kind>', 'sim (the seeded simulated market) or live (real venues, paper trading)', 'sim')
    .option('--seed <n>', 'simulator seed with --feeds sim', '1')
    .option('--bus <transport>', 'inproc or redis (needs REDIS_URL)', 'inproc')
    .option('--duration <d>', 'stop after this long (30s, 10m); default: until Ctrl-C')
    .option('--no-store', 'keep nothing: no database, no restore from an earlier run')
    .option('--live', 'live trading (also needs PAPER_TRADING=false); not available in this version')
    .option('--summary-every <ms>', 'how often the live summary is redrawn', '1000')
    .option(
      '--no-dashboard',
      'do not serve the dashboard and control endpoint (DASHBOARD_HOST:DASHBOARD_PORT)',
    )
    .action(async (o: Record<string, string | boolean>) => {
      if (o.feeds !== 'sim' && o.feeds !== 'live')
        throw new UsageError(`--feeds must be sim or live, got "${o.feeds}"`);
      if (o.bus !== 'inproc' && o.bus !== 'redis')
        throw new UsageError(`--bus must be inproc or redis, got "${o.bus}"`);
      const seed = parseIntOpt('--seed', String(o.seed));
      const duration = o.duration === undefined ? undefined : parseDuration(String(o.duration));
      const summaryEvery = parseIntOpt('--summary-every', String(o.summaryEvery));
      loadDotEnv();
      const config = loadConfig();
      // Live trading must be asked for twice: PAPER_TRADING=false in the configuration and --live here.
      if (o.live === true || !config.paperTrading) {
        if (o.live !== true) {
          throw new UsageError(
            'PAPER_TRADING=false also needs --live; without it nothing trades for real. Set PAPER_TRADING=true for paper trading.',
          );
        }
        if (config.paperTrading) {
          throw new UsageError(
            '--live also needs PAPER_TRADING=false in the configuration (live trading is asked for twice)',
          );
        }
        throw new UsageError(
          'live execution is not available in this version: run paper trading (PAPER_TRADING=true, no --live)',
        );
      }
      const tty = process.stderr.isTTY === true;
      // On a terminal the summary redraws in place; keep the JSON logs to warnings unless LOG_LEVEL asks for more.
      const log = createLogger(tty && process.env.LOG_LEVEL === undefined ? 'warn' : config.logLevel);
      // metrics on an instrumented bus; the dashboard server mounts ops.routes(...) next to its pages
      const ops = createProcessOps(await createKernel({ config, transport: o.bus, log }), { service: 'run' });
      const kernel = ops.kernel;

      let db: Db | undefined;
      let restored: RestoredStates | undefined;
      let restoredFills: Parameters<typeof restoreStates>[0]['fills'] = [];
      if (o.store !== false) {
        db = await openDbFromConfig(config);
        await migrate(db);
        const rec = await loadRecoveryState(db);
        if (rec.fills.length > 0 || rec.halted || rec.allocations || rec.highWaterMark !== null) {
          restored = restoreStates(rec, config, kernel.clock.now());
          restoredFills = rec.fills;
        }
      }
      let runtimes: readonly AgentRuntime[] = []; // filled once the agents started; health reads it
      const matchStore = createJsonMatchStore(matchFilePath(config.dataDir));
      const { startDashboard } = await import('../../dashboard/server.ts'); // loaded by `run` only
      const agents = await buildAgents(kernel, {
        feeds: o.feeds,
        seed,
        ...(restored ? { restored } : {}),
        ...(db ? { store: db } : {}),
        matchStore,
      });
      const killSwitch = killSwitchFor(kernel, db, () => runtimes);
      const dashboard =
        o.dashboard === false
          ? undefined
          : await startDashboard({
              ...kernel,
              db,
              matchStore,
              killSwitch: killSwitch.control,
              role: 'run',
              feeds: String(o.feeds),
              routes: [opsRouteGroup(ops.routes(() => runtimes))],
            }).catch(async (err: unknown) => {
              await kernel.bus.close();
              await db?.close();
              throw err;
            });
      const store = !db
        ? 'none'
        : config.databaseUrl
          ? 'PostgreSQL (DATABASE_URL)'
          : `PGlite (${config.dataDir})`;
      process.stderr.write(
        `pm-arb run: mode paper, feeds ${o.feeds}${o.feeds === 'sim' ? ` (seed ${seed})` : ''}, bus ${o.bus}, ` +
          `store ${store}${restored ? ` (restored ${restoredFills.length} fills${restored.halt ? ', HALTED' : ''})` : ''}, ` +
          `${agents.length} agents: ${agents.map((a) => a.name).join(', ')}\n` +
          (dashboard?.banner ?? ['dashboard: off (--no-dashboard)'])
            .map((l) => `pm-arb run: ${l}\n`)
            .join(''),
      );
      const live = createLiveCounters(kernel.bus, {
        initialCash: config.risk.initialBankroll,
        group: `live-summary@${kernel.instance}`,
      });
      for (const f of restoredFills) live.counters.ledger.applyFill(f);
      const started = await startAgents(kernel, agents, { haltSource: killSwitch.source });
      const { stop } = started;
      runtimes = started.runtimes;
      const opsServer = await ops.serve(() => runtimes);
      // the runtime starts un-halted: a halt in force before the restart is put back
      if (restored?.halt) kernel.bus.publish(channels.system, restored.halt);

      const startedAt = Date.now();
      let drawn = 0;
      const draw = (final = false): void => {
        const secs = Math.max(0.001, (Date.now() - startedAt) / 1000);
        const lines = renderLiveSummary(live.counters, {
          eventsPerSec: live.counters.events / secs,
          clockMs: kernel.clock.now(),
        });
        if (tty && !final) {
          // move up over the previous summary and rewrite it in place
          process.stderr.write(
            (drawn > 0 ? `\x1b[${drawn}F` : '') + lines.map((l) => `\x1b[2K${l}`).join('\n') + '\n',
          );
          drawn = lines.length;
        } else {
          process.stderr.write(lines.map((l) => `  ${l}`).join('\n') + '\n');
        }
      };
      const summaryTimer = setInterval(() => draw(), tty ? summaryEvery : Math.max(summaryEvery, 10_000));
      let done: () => void = () => {};
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      let stopping: Promise<void> | undefined;
      const shutdown = (why: string): Promise<void> => {
        stopping ??= (async () => {
          clearInterval(summaryTimer);
          process.stderr.write(`pm-arb run: ${why}, stopping agents\n`);
          await dashboard?.stop();
          await stop();
          await opsServer?.close();
          await kernel.bus.flush();
          await live.close();
          draw(true);
          await kernel.bus.close();
          await killSwitch.close();
          await db?.close();
          process.stderr.write('pm-arb run: stopped\n');
          done();
        })();
        return stopping;
      };
      const offSignal = onShutdownSignal((sig) => shutdown(`${sig} received`));
      const keepAlive = setInterval(() => {}, 1 << 30);
      const timer =
        duration !== undefined
          ? setTimeout(() => void shutdown(`duration ${String(o.duration)} reached`), duration)
          : undefined;
      await finished;
      if (timer) clearTimeout(timer);
      clearInterval(keepAlive);
      offSignal();
    });
}
