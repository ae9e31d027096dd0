/**
 * `pm-arb run [--feeds sim|live] [--seed N] [--bus inproc|redis] [--live [--yes]]`: every agent of the system in one
 * process. Live trading is asked for twice (PAPER_TRADING=false and --live) and confirmed at start.
 * `npm start` is `pm-arb run --feeds sim` (the simulated market, paper trading, in-process bus, embedded store).
 * Stops gracefully on SIGINT/SIGTERM (agents stop in reverse order) or after --duration.
 */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { createLiveCounters, renderLiveSummary } from '../../app/backtest.ts';
import { buildAgents } from '../../app/pipeline.ts';
import { type AgentRuntime, onShutdownSignal, startAgents } from '../../core/agent.ts';
import { channels } from '../../core/channels.ts';
import { type Config, loadConfig, loadDotEnv } from '../../core/config.ts';
import { createKernel } from '../../core/kernel.ts';
import { createLogger } from '../../core/log.ts';
import { opsRouteGroup } from '../../dashboard/ops-routes.ts';
import { createJsonMatchStore, matchFilePath } from '../../matcher/store.ts';
import { createProcessOps } from '../../ops/process.ts';
import { type Db, openDbFromConfig } from '../../store/db.ts';
import { migrate } from '../../store/migrations.ts';
import { loadRecoveryState } from '../../store/queries.ts';
import { type RestoredStates, restoreStates } from '../../store/restore.ts';
import type { LiveExecution } from '../../venues/live/live-execution.ts';
import { type FeedName, parseFeedNames } from '../../venues/registry.ts';
import { UsageError } from '../main.ts';
import { parseDuration } from './record.ts';
import { parseIntOpt } from './simulate.ts';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run every agent in one process (npm start = run --feeds sim)')
    .option('--feeds <kind>', 'sim (the seeded simulated market) or live (real venues, paper trading)', 'sim')
    .option('--seed <n>', 'simulator seed with --feeds sim', '1')
    .option(
      '--only <feeds>',
      'run only these feeds (comma-separated: polymarket,kalshi,binance,chainlink; or none)',
    )
    .option('--bus <transport>', 'inproc or redis (needs REDIS_URL)', 'inproc')
    .option('--duration <d>', 'stop after this long (30s, 10m); default: until Ctrl-C')
    .option('--no-store', 'keep nothing: no database, no restore from an earlier run')
    .option('--live', 'live trading: real orders (also needs PAPER_TRADING=false and --feeds live)')
    .option('--yes', 'with --live: start without the confirmation prompt (services)')
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
      let only: FeedName[] | undefined;
      try {
        // `none`: no feed at all (market data comes over the Redis bus from another process)
        only = o.only === undefined ? undefined : o.only === 'none' ? [] : parseFeedNames(String(o.only));
      } catch (e) {
        throw new UsageError(`--only: ${(e as Error).message}`);
      }
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
        if (o.feeds !== 'live')
          throw new UsageError('--live trades on the real venues: it needs --feeds live');
      }
      const liveExec = !config.paperTrading ? await startLive(config, o.yes === true) : undefined;
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
        ...(only ? { only } : {}),
        ...(restored ? { restored } : {}),
        ...(db ? { store: db } : {}),
        matchStore,
        ...(liveExec ? { execution: { clients: liveExec.clients } } : {}),
      });
      const dashboard =
        o.dashboard === false
          ? undefined
          : await startDashboard({
              ...kernel,
              db,
              matchStore,
              role: 'run',
              feeds: String(o.feeds),
              routes: [opsRouteGroup(ops.routes(() => runtimes))],
            }).catch(async (err: unknown) => {
              await kernel.bus.close();
              await liveExec?.close();
              await db?.close();
              throw err;
            });
      const store = !db
        ? 'none'
        : config.databaseUrl
          ? 'PostgreSQL (DATABASE_URL)'
          : `PGlite (${config.dataDir})`;
      process.stderr.write(
        `pm-arb run: mode ${liveExec ? `LIVE (${liveExec.venues.join(', ')})` : 'paper'}, feeds ${o.feeds}${o.feeds === 'sim' ? ` (seed ${seed})` : ''}, bus ${o.bus}, ` +
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
      const started = await startAgents(kernel, agents);
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
          await liveExec?.close();
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

/**
 * Builds the live venue clients and asks for confirmation: on a terminal the venues, masked accounts, balances and
 * caps are shown and "yes" must be typed; `--yes` skips the question (services); with neither it refuses.
 */
async function startLive(config: Config, yes: boolean): Promise<LiveExecution> {
  const { createLiveExecution } = await import('../../venues/live/live-execution.ts');
  if (!yes && !(process.stdin.isTTY && process.stderr.isTTY)) {
    throw new UsageError(
      'live trading asks for confirmation on a terminal; without one pass --yes (the venues, accounts and caps are printed either way)',
    );
  }
  const live = createLiveExecution(config, { now: Date.now });
  if (live.venues.length === 0) {
    await live.close();
    throw new UsageError(`no venue is configured for live trading:\n  ${live.problems.join('\n  ')}`);
  }
  const lines = await live.summary();
  process.stderr.write(`pm-arb run: LIVE TRADING with real money\n${lines.map((l) => `  ${l}\n`).join('')}`);
  if (yes) return live;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question('Type "yes" to start live trading: ').finally(() => rl.close());
  if (answer.trim().toLowerCase() !== 'yes') {
    await live.close();
    throw new UsageError('live trading not confirmed: nothing started');
  }
  return live;
}
