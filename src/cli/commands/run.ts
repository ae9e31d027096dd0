/**
 * `pm-arb run [--feeds sim|live] [--seed N] [--bus inproc|redis]`: every agent of the system in one process.
 * `npm start` is `pm-arb run --feeds sim` (the simulated market, paper trading, in-process bus, embedded store).
 * Stops gracefully on SIGINT/SIGTERM (agents stop in reverse order) or after --duration.
 */

import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { setFlagsFromString } from 'node:v8';
import type { Command } from 'commander';
import type { ReconcileRun } from '../../agents/live-reconciler.ts';
import type { AgentRuntime, Kernel } from '../../core/agent.ts';
import { type Config, loadConfig, loadDotEnv } from '../../core/config.ts';
import type { HaltSource } from '../../core/halt.ts';
import type { Logger } from '../../core/log.ts';
import type { Venue } from '../../core/messages.ts';
import { toDecimal } from '../../core/money.ts';
import { redactSecrets } from '../../core/redact.ts';
import type { DashboardOptions } from '../../dashboard/server.ts';
import type { LiveExecution } from '../../execution/live/live-execution.ts';
import type { Db } from '../../store/db.ts';
import type { RestoredStates } from '../../store/restore.ts';
import { type FeedName, parseFeedNames } from '../../venues/feed-names.ts';
import type { ShadowRecord } from '../../venues/live/shadow.ts';
import { requireDataDir } from '../files.ts';
import { UsageError } from '../main.ts';
import { parseDuration, parseIntOpt } from '../options.ts';

/**
 * The kill switch of one `pm-arb run`: trading agents read the halt state from the store (and the Redis key on
 * the Redis bus) at start and on reconnect; a halt/resume through the control endpoint is recorded there and
 * waits for this process's trading agents to confirm.
 */
async function killSwitchFor(
  kernel: Kernel,
  db: Db | undefined,
  runtimes: () => readonly AgentRuntime[],
): Promise<{
  source: HaltSource | undefined;
  control: NonNullable<DashboardOptions['killSwitch']>;
  close(): Promise<void>;
}> {
  const [{ combinedHaltSource, createRedisHaltStore }, { storeHaltSource }] = await Promise.all([
    import('../../core/halt.ts'),
    import('../../store/system-state.ts'),
  ]);
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
    .option('--sim-markets <n>', 'crypto threshold markets per venue with --feeds sim (default 12)')
    .option('--bus <transport>', 'inproc or redis (needs REDIS_URL)', 'inproc')
    .option('--duration <d>', 'stop after this long (30s, 10m); default: until Ctrl-C')
    .option('--no-store', 'keep nothing: no database, no restore from an earlier run')
    .option('--live', 'live trading: real orders (also needs PAPER_TRADING=false and --feeds live)')
    .option('--yes', 'with --live: start without the confirmation prompt (services)')
    .option(
      '--shadow',
      'shadow mode with --feeds live: orders built and signed as live would send them, recorded, not sent; paper fills',
    )
    .option(
      '--only <feeds>',
      'run only these feeds (comma-separated: polymarket,kalshi,binance,chainlink; or none)',
    )
    .option('--summary-every <ms>', 'how often the live summary is redrawn', '1000')
    .option(
      '--no-dashboard',
      'do not serve the dashboard and control endpoint (DASHBOARD_HOST:DASHBOARD_PORT)',
    )
    .action(async (o: Record<string, string | boolean>) => {
      limitHeapGrowth();
      if (o.feeds !== 'sim' && o.feeds !== 'live')
        throw new UsageError(`--feeds must be sim or live, got "${o.feeds}"`);
      if (o.bus !== 'inproc' && o.bus !== 'redis')
        throw new UsageError(`--bus must be inproc or redis, got "${o.bus}"`);
      const seed = parseIntOpt('--seed', String(o.seed));
      const simMarkets =
        o.simMarkets === undefined ? undefined : parseIntOpt('--sim-markets', String(o.simMarkets));
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
      // the in-process bus uses no Redis: its settings are not read (a bad REDIS_URL does not block the demo)
      const config = loadConfig(
        o.bus === 'inproc'
          ? Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REDIS_')))
          : process.env,
      );
      // Live trading must be asked for twice: PAPER_TRADING=false in the configuration and --live here.
      if (o.live === true || !config.paperTrading) {
        if (o.live !== true) {
          throw new UsageError(
            `PAPER_TRADING=${process.env.PAPER_TRADING ?? 'false'} turns paper trading off, which also needs --live; ` +
              'without it nothing trades for real. Set PAPER_TRADING=true (or unset it) for paper trading.',
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
      if (o.shadow === true) {
        if (o.live === true)
          throw new UsageError('--shadow sends no order: it cannot be combined with --live');
        if (o.feeds !== 'live') throw new UsageError('--shadow shadows live trading: it needs --feeds live');
      }
      // The logger starts after the confirmation; errors of the live clients before then go to stderr.
      let liveLog: Logger | undefined;
      const onLiveError = (venue: Venue, err: Error): void => {
        const why = redactSecrets(err.message);
        if (liveLog) liveLog.warn({ venue, err: why }, 'live execution error');
        else process.stderr.write(`pm-arb run: ${venue} live execution error: ${why}\n`);
      };
      const liveExec = !config.paperTrading
        ? await startLive(config, o.yes === true, onLiveError)
        : undefined;
      const shadowExec = o.shadow === true ? await startShadow(config) : undefined;
      if (o.store !== false || o.dashboard !== false) requireDataDir(config);
      // the first line before the system's modules load (≈ 0.3 s of CPU: the agents, drivers, schemas, the server)
      process.stderr.write(
        `pm-arb run: starting (${liveExec ? 'LIVE trading' : shadowExec ? 'SHADOW: paper fills, live orders signed and recorded, not sent' : 'paper trading'}, feeds ${o.feeds}); Ctrl-C to stop\n`,
      );
      const [
        { assemble },
        { createLiveCounters },
        { onShutdownSignal, startAgents },
        { channels },
        { createKernel, IN_PROC_YIELD_MS },
        { createLogger },
        { opsRouteGroup },
        { Ledger },
        { createJsonMatchStore, matchFilePath },
        { createProcessOps },
        { openDbFromConfig },
        { migrate },
        { loadRecoveryState },
        { restoreStates },
        { defaultStrategies },
        { createRateMeter, createSummaryFeed, createSummaryScreen, pack, renderSummary, renderSummaryLine },
        { startDashboard },
      ] = await Promise.all([
        import('../../app/assemble.ts'),
        import('../../app/backtest.ts'),
        import('../../core/agent.ts'),
        import('../../core/channels.ts'),
        import('../../core/kernel.ts'),
        import('../../core/log.ts'),
        import('../../dashboard/ops-routes.ts'),
        import('../../ledger/ledger.ts'),
        import('../../matcher/store.ts'),
        import('../../ops/process.ts'),
        import('../../store/db.ts'),
        import('../../store/migrations.ts'),
        import('../../store/queries.ts'),
        import('../../store/restore.ts'),
        import('../../strategies/plugins.ts'),
        import('../summary.ts'),
        import('../../dashboard/server.ts'),
      ]);
      const screen = createSummaryScreen({ stream: process.stderr });
      const say = (line: string): void => screen.note(`pm-arb run: ${line}`);
      // On a terminal the summary redraws in place: the JSON logs go to a file beside the data, not across it.
      const logFile = screen.inPlace ? resolve(config.dataDir, 'run.log') : undefined;
      const log = createLogger(config.logLevel, 'pm-arb', logFile);
      liveLog = log;
      shadowExec?.onRecord((r) =>
        log.info(
          {
            shadow: true,
            venue: r.venue,
            clientOrderId: r.clientOrderId,
            requestId: r.requestId,
            ...(r.prepared ? { path: r.prepared.path, venueOrderId: r.prepared.venueOrderId } : {}),
            ...(r.refused ? { refused: r.refused.reason, why: r.refused.message } : {}),
          },
          'shadow order (not sent)',
        ),
      );
      // a signal during start-up (the store migrating, a live feed taking seconds to connect) is kept and honoured
      // once the agents are up, so everything stops in order; a second one exits at once
      let earlySignal: string | undefined;
      const early = (sig: NodeJS.Signals): void => {
        if (earlySignal) process.exit(130);
        earlySignal = sig;
        say(`${sig} received while starting; stopping once the agents are up`);
      };
      process.on('SIGINT', early);
      process.on('SIGTERM', early);
      // metrics on an instrumented bus; the dashboard server mounts ops.routes(...) next to its pages
      const ops = createProcessOps(await createKernel({ config, transport: o.bus, log }), { service: 'run' });
      const kernel = ops.kernel;

      let db: Db | undefined;
      let restored: RestoredStates | undefined;
      let restoredFills = 0;
      if (o.store !== false) {
        say(
          `opening the store: ${config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${resolve(config.dataDir)} (DATA_DIR)`}`,
        );
        db = await openDbFromConfig(config);
        await migrate(db);
        const rec = await loadRecoveryState(db);
        if (rec.fillCount > 0 || rec.halted || rec.allocations || rec.highWaterMark !== null) {
          restored = restoreStates(rec, config, kernel.clock.now());
          restoredFills = rec.fillCount;
          if (rec.snapshotFallback) say(`store: ${rec.snapshotFallback}`);
        }
      }
      let runtimes: readonly AgentRuntime[] = []; // filled once the agents started; health reads it
      // looks for another process's write (a `pm-arb matches --approve`) at most once a second, not on every read:
      // the overrides are re-read every 10 s anyway, and a flush always looks first
      const matchStore = createJsonMatchStore(matchFilePath(config.dataDir), { recheckMs: 1_000 });
      const { agents } = await assemble(kernel, {
        feeds: o.feeds,
        seed,
        // the demo shows every kind of mispricing in its first minute (then the seeded random ones)
        sim: {
          showcaseFrom: kernel.clock.now() + 8_000,
          // the listing of a large simulated market is handed out in slices, as the bus drains its consumers
          yieldAfterMs: IN_PROC_YIELD_MS,
          ...(simMarkets === undefined ? {} : { markets: simMarkets }),
        },
        ...(only ? { only } : {}),
        ...(restored ? { restored } : {}),
        ...(db ? { store: db } : {}),
        ...(liveExec ? { executor: { kind: 'live' as const, clients: liveExec.clients } } : {}),
        ...(shadowExec ? { executor: { kind: 'shadow' as const, wrap: shadowExec.exec.wrap } } : {}),
        matchStore,
      });
      // live: reconciliation (venue vs our books) at start and every RECONCILE_INTERVAL_MS; it starts first so
      // no fill is published before it listens, and it books the orders re-adopted from the live journal
      const reconciler = liveExec
        ? (await import('../../agents/live-reconciler.ts')).createReconciler({
            live: liveExec,
            ...(restored
              ? { restored: { positions: restored.ledger.positions, fillIds: restored.ledger.fillIds } }
              : {}),
            onRun: reconcileReporter(say),
          })
        : undefined;
      if (reconciler) agents.unshift(reconciler);
      const killSwitch = await killSwitchFor(kernel, db, () => runtimes);
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
              await liveExec?.close();
              await shadowExec?.exec.close();
              await db?.close();
              throw err;
            });
      const store = !db
        ? 'none'
        : config.databaseUrl
          ? 'PostgreSQL (DATABASE_URL)'
          : `PGlite (${config.dataDir})`;
      const banner = [
        `pm-arb run: mode ${liveExec ? `LIVE (${liveExec.venues.join(', ')})` : shadowExec ? `SHADOW (signing for ${shadowExec.exec.venues.join(', ')}; records in ${shadowExec.path})` : 'paper'}, feeds ${o.feeds}${o.feeds === 'sim' ? ` (seed ${seed})` : ''}, bus ${o.bus}`,
        `pm-arb run: store ${store}${restored ? ` (restored ${restoredFills} fills${restored.halt ? ', HALTED' : ''})` : ''}`,
        ...pack(
          `pm-arb run: ${agents.length} agents:`,
          agents.map((a) => a.name),
          screen.inPlace ? screen.width() : Number.POSITIVE_INFINITY,
          ', ',
        ),
        ...(dashboard?.banner ?? ['dashboard: off (--no-dashboard)']).map((l) => `pm-arb run: ${l}`),
        ...(logFile ? [`pm-arb run: log: ${logFile}`] : []),
      ];
      screen.note(banner.join('\n'));
      const live = createLiveCounters(kernel.bus, {
        initialCash: config.risk.initialBankroll,
        ...(restored ? { ledger: Ledger.restore(restored.ledger) } : {}),
        group: `live-summary@${kernel.instance}`,
      });
      const feed = createSummaryFeed(kernel.bus, {
        group: `run-summary@${kernel.instance}`,
        ...(restored?.halt
          ? {
              halted: {
                reason: restored.halt.reason,
                by: restored.halt.issuedBy,
                at: restored.halt.issuedAt,
              },
            }
          : {}),
      });
      const started = await startAgents(kernel, agents, { haltSource: killSwitch.source });
      const { stop } = started;
      runtimes = started.runtimes;
      const opsServer = await ops.serve(() => runtimes);
      // the runtime starts un-halted: a halt in force before the restart is put back
      if (restored?.halt) kernel.bus.publish(channels.system, restored.halt);
      // the first reconciliation, once the executor started the live clients (and they re-adopted their orders)
      void reconciler?.runOnce();

      const startedAt = Date.now();
      const meter = createRateMeter();
      meter.sample(0, startedAt);
      const strategies = defaultStrategies().map((x) => x.name);
      const draw = (final = false): void => {
        const at = Date.now();
        const input = {
          counters: live.counters,
          feed: feed.state,
          eventsPerSec: meter.sample(live.counters.events, at),
          clockMs: kernel.clock.now(),
          upMs: at - startedAt,
          initialCash: config.risk.initialBankroll,
          strategies,
          mode: `paper · ${o.feeds === 'sim' ? `sim seed ${seed}` : `feeds ${o.feeds}`}`,
          final,
        };
        const lines = renderSummary(input, screen.width());
        // the closing summary is printed in full, on a terminal or not
        screen.draw(lines, final ? lines.join('\n') : renderSummaryLine(input));
      };
      draw();
      const summaryTimer = setInterval(
        () => draw(),
        screen.inPlace ? summaryEvery : Math.max(summaryEvery, 10_000),
      );
      let done: () => void = () => {};
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      let stopping: Promise<void> | undefined;
      const shutdown = (why: string): Promise<void> => {
        stopping ??= (async () => {
          clearInterval(summaryTimer);
          say(`${why}, stopping agents`);
          await dashboard?.stop();
          await stop();
          await opsServer?.close();
          await kernel.bus.flush();
          await live.close();
          await feed.close();
          draw(true);
          screen.release();
          await kernel.bus.close();
          await killSwitch.close();
          await liveExec?.close();
          await shadowExec?.exec.close();
          await db?.close();
          process.stderr.write('pm-arb run: stopped\n');
          done();
        })();
        return stopping;
      };
      const offSignal = onShutdownSignal((sig) => shutdown(`${sig} received`));
      process.off('SIGINT', early);
      process.off('SIGTERM', early);
      if (earlySignal) void shutdown(`${earlySignal} received`).then(() => process.exit(0));
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

/** Heap growth per full GC of a `run` process, percent (see limitHeapGrowth). */
const RUN_HEAP_GROWING_PERCENT = 20;

/**
 * A long-running process holding every market's state: V8 would let its heap grow to ~3× the live data before
 * the next full GC (at 100,000 markets ~1 GB live, ~3 GB resident). Growth capped at RUN_HEAP_GROWING_PERCENT per
 * GC: more frequent full GCs (+11% CPU, medians of 8 interleaved backtests of a 4,000-market capture), a heap near
 * its live size. Only `run` (paced by the clock, not by throughput); a node flag given by the user wins.
 */
function limitHeapGrowth(): void {
  if (process.execArgv.some((a) => a.startsWith('--heap-growing-percent'))) return;
  setFlagsFromString(`--heap-growing-percent=${RUN_HEAP_GROWING_PERCENT}`);
}

/**
 * Shadow mode: the live venue clients sign each order (so credentials are needed, no order is sent); records go to
 * DATA_DIR/shadow-orders.jsonl. With no venue able to sign it refuses, saying what to set.
 */
async function startShadow(config: Config) {
  const { createShadowExecution } = await import('../../execution/live/shadow-execution.ts');
  const path = resolve(config.dataDir, 'shadow-orders.jsonl');
  let sink: ((r: ShadowRecord) => void) | undefined;
  const exec = createShadowExecution(config, { now: Date.now, path, onRecord: (r) => sink?.(r) });
  if (exec.venues.length === 0) {
    await exec.close();
    throw new UsageError(
      `--shadow signs orders with the live credentials; none is set:\n  ${exec.problems.join('\n  ')}`,
    );
  }
  return {
    exec,
    path,
    onRecord(l: (r: ShadowRecord) => void): void {
      sink = l;
    },
  };
}

/**
 * What the operator sees of reconciliation: each venue's first run, and every change of outcome after it (a
 * mismatch appearing, changing, or clearing), one line each. The events themselves go on the bus.
 */
function reconcileReporter(say: (line: string) => void): (r: ReconcileRun) => void {
  const last = new Map<string, string>();
  return (r) => {
    const what = r.error
      ? `venue not read (${r.error})`
      : r.mismatches.length === 0
        ? 'ok'
        : `${r.mismatches.length} mismatch${r.mismatches.length === 1 ? '' : 'es'}${r.halting.length > 0 ? ', HALTING' : r.haltWorthy.length > 0 ? ', halts if seen again' : ''}: ${r.mismatches
            .map(
              (m) =>
                `${m.kind} ${m.tokenId ?? m.clientOrderId ?? ''} venue ${m.venueValue} ours ${m.ourValue} (${m.unit})`,
            )
            .join('; ')}`;
    if (last.get(r.venue) === what) return;
    last.set(r.venue, what);
    say(
      `reconciliation ${r.venue}: ${what}${r.error ? '' : ` (positions ${r.positions}, open orders ${r.openOrders}, balance $${toDecimal(r.cash)})`}`,
    );
  };
}

/**
 * Builds the live venue clients and asks for confirmation: on a terminal the venues, masked accounts, balances and
 * caps are shown and "yes" must be typed; `--yes` skips the question (services); with neither it refuses.
 */
async function startLive(
  config: Config,
  yes: boolean,
  onError: (venue: Venue, err: Error) => void,
): Promise<LiveExecution> {
  const { createLiveExecution } = await import('../../execution/live/live-execution.ts');
  if (!yes && !(process.stdin.isTTY && process.stderr.isTTY)) {
    throw new UsageError(
      'live trading asks for confirmation on a terminal; without one pass --yes (the venues, accounts and caps are printed either way)',
    );
  }
  const live = createLiveExecution(config, {
    now: Date.now,
    journalPath: resolve(config.dataDir, 'live-orders.jsonl'),
    // user-channel and polling errors: counted in health, and logged here so an operator sees why
    onError,
  });
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
