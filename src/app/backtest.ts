/**
 * The backtest: a capture (recorded or `pm-arb simulate`d) through the whole pipeline on a simulated clock, with
 * the paper executor, on the in-process bus, as fast as the machine goes.
 *
 *   const report = await runBacktest({ capturePath: 'sim.jsonl', seed: 1, onProgress: (p) => … });
 *
 * The agents come from the same assembly as `pm-arb run` (src/app/assemble.ts) with the capture as the feeds: the
 * capture's frames go to the venue watchers and oracle agents (decoding, staleness, disconnect markers as live),
 * then to the matcher (rules only, an in-memory verdict cache), scanner, strategy runner, risk guardian, executor
 * and capital allocator. A collector on the bus counts what happens and keeps its own ledger from the fills
 * and books, for P&L and the maximum drawdown. Same capture + same seed → the same report, apart from `timing`.
 *
 * Also here: the live counters and `renderLiveSummary`, a few lines `npm start` can print in place.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { DEFAULT_GTC_TTL_MS } from '../agents/executor.ts';
import { newReadStats } from '../capture/reader.ts';
import { openCapture } from '../capture/source.ts';
import { type Agent, createIds, type Kernel, startAgents } from '../core/agent.ts';
import { InProcBus } from '../core/bus/inproc.ts';
import type { Bus, Subscription } from '../core/bus/types.ts';
import { channels } from '../core/channels.ts';
import { type Config, loadConfig } from '../core/config.ts';
import { silentLogger } from '../core/log.ts';
import { type Allocation, type StrategyPerformance, VENUES } from '../core/messages.ts';
import { type Money, toDecimal } from '../core/money.ts';
import { maxPaperLatencyMs, paperMedianMs } from '../execution/latency.ts';
import { DrawdownTracker } from '../ledger/drawdown.ts';
import { Ledger, markFromBook } from '../ledger/ledger.ts';
import { Portfolio } from '../risk/portfolio.ts';
import type { Db } from '../store/db.ts';
import { assemble } from './assemble.ts';

// ------------------------------------------------------------------ live counters

/** Running counters of a pipeline, fed from the bus. */
export interface LiveCounters {
  events: number;
  opportunities: number;
  opportunitiesByKind: Record<string, number>;
  requests: number;
  decisions: number;
  byVerdict: Record<string, number>;
  byRule: Record<string, number>;
  executions: Record<string, number>;
  legRiskCost: Money;
  fills: number;
  fillsByKind: Record<string, number>;
  /** The collector's own ledger: P&L, equity, fees. */
  readonly ledger: Ledger;
  highWaterMark: Money;
  maxDrawdown: Money;
  /** Drawdown as a share of the mark then, and the daily loss (window opening at DAILY_LOSS_RESET_HOUR_UTC). */
  readonly drawdown: DrawdownTracker;
  /**
   * The same on the risk equity the limits are set on (the risk guardian's valuation: each hedged bundle held
   * between what it is sure to be paid and what it can be paid at settlement); present when `risk` was given.
   */
  readonly riskDrawdown: DrawdownTracker | undefined;
  /** Last StrategyPerformance per strategy, last Allocation. */
  readonly performance: Map<string, StrategyPerformance>;
  allocation: Allocation | undefined;
}

const bump = (r: Record<string, number>, k: string, by = 1): void => {
  r[k] = (r[k] ?? 0) + by;
};

/**
 * Subscribes counters to a bus (every channel the summary needs, in groups of its own). `events` counts feed
 * events (markets, books, trades, resolutions, ticks) unless the caller counts them itself (`countEvents: false`).
 */
export function createLiveCounters(
  bus: Bus,
  opts: {
    initialCash: Money;
    countEvents?: boolean;
    group?: string;
    dailyResetHourUtc?: number;
    /** Also track the risk equity's drawdown (the guardian's valuation under these limits). */
    risk?: Config['risk'];
    /** Start from this ledger (restart recovery) rather than an empty one of `initialCash`. */
    ledger?: Ledger;
  },
): { counters: LiveCounters; close: () => Promise<void> } {
  const group = opts.group ?? 'live-summary';
  const c: LiveCounters = {
    events: 0,
    opportunities: 0,
    opportunitiesByKind: {},
    requests: 0,
    decisions: 0,
    byVerdict: {},
    byRule: {},
    executions: {},
    legRiskCost: 0,
    fills: 0,
    fillsByKind: {},
    ledger: opts.ledger ?? new Ledger({ initialCash: opts.initialCash }),
    highWaterMark: opts.initialCash,
    maxDrawdown: 0,
    drawdown: new DrawdownTracker(opts.initialCash, opts.dailyResetHourUtc ?? 0),
    riskDrawdown: opts.risk
      ? new DrawdownTracker(opts.initialCash, opts.risk.dailyLossResetHourUtc)
      : undefined,
    performance: new Map(),
    allocation: undefined,
  };
  const subs: Subscription[] = [];
  const sub = <T>(ch: Parameters<Bus['subscribe']>[0], fn: (body: T) => void): void => {
    subs.push(bus.subscribe(ch as never, { group }, (m) => fn(m.body as T)));
  };
  // the risk valuation values the collector's own ledger (the same fills and marks): one ledger to mark per book
  const valuation = opts.risk ? new Portfolio({ risk: opts.risk, ledger: c.ledger }) : undefined;
  const track = (ts: number): void => {
    c.drawdown.observe(c.ledger.equity(), ts);
    c.highWaterMark = c.drawdown.highWaterMark;
    c.maxDrawdown = c.drawdown.maxDrawdown;
    if (valuation) c.riskDrawdown!.observe(valuation.equity, ts);
  };
  const countEvents = opts.countEvents !== false;
  for (const v of VENUES) {
    sub(
      channels.books(v),
      (b: {
        venue: (typeof VENUES)[number];
        tokenId: string;
        bids: readonly (readonly number[])[];
        receiveTime: number;
      }) => {
        if (countEvents) c.events++;
        // this marks the valuation's ledger too (the same one): only its equity is read here, and the mark is all
        // a book changes in it (the freshness bookkeeping and the drawdown stop of Portfolio.onBook are the guardian's)
        markFromBook(c.ledger, b);
        track(b.receiveTime);
      },
    );
    if (countEvents || valuation) {
      sub(channels.markets(v), (m: Parameters<Portfolio['onMarket']>[0]) => {
        if (countEvents) c.events++;
        valuation?.onMarket(m);
      });
    }
    if (countEvents) sub(channels.trades(v), () => c.events++);
  }
  if (countEvents || valuation) {
    sub(channels.resolutions, (r: Parameters<Portfolio['onResolution']>[0]) => {
      if (countEvents) c.events++;
      valuation?.onResolution(r);
    });
  }
  if (valuation) sub(channels.links, (l: Parameters<Portfolio['onLink']>[0]) => valuation.onLink(l));
  sub(channels.opportunities, (o: { kind: string }) => {
    c.opportunities++;
    bump(c.opportunitiesByKind, o.kind);
  });
  sub(channels.tradeRequests, () => c.requests++);
  sub(channels.riskDecisions, (d: { verdict: string; rule: string }) => {
    c.decisions++;
    bump(c.byVerdict, d.verdict);
    bump(c.byRule, d.rule);
  });
  sub(channels.executions, (r: { status: string; legRiskCost: number }) => {
    bump(c.executions, r.status);
    c.legRiskCost += r.legRiskCost;
  });
  sub(channels.fills, (f: Parameters<Ledger['applyFill']>[0]) => {
    c.fills++;
    bump(c.fillsByKind, f.kind);
    // the valuation applies the fill to the ledger it shares with the collector (and regroups its holdings)
    if (valuation) valuation.onFill(f, f.ts);
    else c.ledger.applyFill(f);
    track(f.ts);
  });
  sub(channels.performance, (p: StrategyPerformance) => c.performance.set(p.strategy, p));
  sub(channels.allocations, (a: Allocation) => {
    c.allocation = a;
  });
  return { counters: c, close: async () => void (await Promise.all(subs.map((s) => s.close()))) };
}

const usd = (m: Money): string => {
  const s = toDecimal(Math.abs(m));
  const [w, f = ''] = s.split('.');
  return `${m < 0 ? '-' : ''}$${w}.${f.padEnd(2, '0').slice(0, Math.max(2, Math.min(4, f.length)))}`;
};

/**
 * A compact live summary: a few lines from running counters, for `npm start` to print in place (rewrite the
 * same lines each time: move the cursor up `lines.length` and clear).
 */
export function renderLiveSummary(
  c: LiveCounters,
  extra?: { eventsPerSec?: number; clockMs?: number },
): string[] {
  const l = c.ledger;
  const rate =
    extra?.eventsPerSec !== undefined ? ` (${Math.round(extra.eventsPerSec).toLocaleString('en-US')}/s)` : '';
  const at =
    extra?.clockMs !== undefined ? `  at ${new Date(extra.clockMs).toISOString().slice(11, 19)}Z` : '';
  const kinds = Object.entries(c.opportunitiesByKind)
    .sort()
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const verdicts = ['approve', 'reduce', 'reject'].map((v) => `${v} ${c.byVerdict[v] ?? 0}`).join(' · ');
  return [
    `events ${c.events.toLocaleString('en-US')}${rate}${at}`,
    `opportunities ${c.opportunities}${kinds ? ` (${kinds})` : ''}   requests ${c.requests}   decisions ${verdicts}`,
    `fills ${c.fills}   fees ${usd(l.fees())}   realized ${usd(l.realizedPnl())}   unrealized ${usd(l.unrealizedPnl())}`,
    `equity ${usd(l.equity())}   max drawdown ${usd(c.maxDrawdown)}`,
  ];
}

// ------------------------------------------------------------------ backtest

export interface BacktestProgress {
  readonly frames: number;
  readonly events: number;
  readonly eventsPerSec: number;
  /** 0..1 by bytes read */
  readonly fraction: number;
  /** Estimated seconds left. */
  readonly etaSec: number;
}

export interface BacktestOptions {
  readonly capturePath: string;
  readonly seed?: number;
  readonly onProgress?: (p: BacktestProgress) => void;
  /** Default: the environment's config with logging silenced. */
  readonly config?: Config;
  /** Replaces the agents after the feeds (tests, benchmarks); the feed agents are the assembly's. */
  readonly agents?: (kernel: Kernel) => Agent[] | Promise<Agent[]>;
  /**
   * Keep what the run did (fills, orders, decisions, positions, equity …) in a store of its own: the persister
   * writes it as in `pm-arb run`, so `pm-arb trades|decisions|positions|pnl` can read it. Never the live store.
   */
  readonly store?: Db;
}

export interface StrategyRow {
  strategy: string;
  /** Bundles traded (a request's legs together are one), those still open, and those closed with a gain / loss. */
  trades: number;
  openBundles: number;
  wins: number;
  losses: number;
  /** Detail: closing outcomes per leg. */
  legWins: number;
  legLosses: number;
  pnl: string;
  /** Sharpe ratio of the returns of the bundles closed in the allocator's window. */
  sharpe: number;
  maxDrawdown: string;
  allocation: string;
  /** The last allocation round: on probation or not, score, weight and why (one line). */
  probation: boolean;
  score: number;
  weight: number;
  reason: string;
}

export interface BacktestReport {
  capture: string;
  seed: number;
  simulated: { from: string | null; to: string | null; minutes: number };
  events: {
    frames: number;
    total: number;
    byType: Record<string, number>;
    rejected: number;
    badLines: number;
  };
  opportunities: { total: number; byKind: Record<string, number> };
  /**
   * Model-priced opportunities (oracle_lag) per settlement source: evaluations priced, and skipped by reason
   * (source_stale, no_feed, strike_pending, fees_unknown …); from the scanner agent when it is in the run.
   */
  pricing: Record<string, { priced: number; skipped: Record<string, number> }>;
  requests: number;
  decisions: { total: number; byVerdict: Record<string, number>; byRule: Record<string, number> };
  executions: { byStatus: Record<string, number>; legRiskCost: string };
  fills: { total: number; byKind: Record<string, number>; fees: string };
  pnl: {
    initialEquity: string;
    finalEquity: string;
    realized: string;
    unrealized: string;
    total: string;
    /**
     * Largest drawdown (as a % of the high-water mark it fell from, and the largest fall in dollars) and daily
     * loss (as a % of the day's starting equity), on the risk equity DRAWDOWN_LIMIT_PCT and DAILY_LOSS_LIMIT_PCT
     * bound: positions at the best bid, each hedged bundle held between what it is sure to be paid and what it
     * can be paid at settlement.
     */
    maxDrawdown: string;
    maxDrawdownPct: number;
    maxDailyLoss: string;
    maxDailyLossPct: number;
    /**
     * The same with every position at its best bid alone: a cross-venue pair marked at two lagging venues' bids
     * can dip far below the $1 a set it is paid, so this can exceed the limits without any loss at settlement.
     */
    atBestBids: {
      maxDrawdownPct: number;
      maxDrawdown: string;
      maxDailyLossPct: number;
      maxDailyLoss: string;
    };
  };
  strategies: StrategyRow[];
  allocations: Record<string, string>;
  timing: { wallMs: number; eventsPerSec: number };
}

/** The scanner's priced/skipped counts per settlement source, when a scanner agent is among `agents`. */
function pricingOf(agents: readonly Agent[]): BacktestReport['pricing'] {
  for (const a of agents) {
    const s = (
      a as { scanner?: () => { pricingReport(): BacktestReport['pricing'] } | undefined }
    ).scanner?.();
    if (s) return s.pricingReport();
  }
  return {};
}

const sortRec = <T>(r: Record<string, T>): Record<string, T> =>
  Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export async function runBacktest(opts: BacktestOptions): Promise<BacktestReport> {
  const seed = opts.seed ?? 1;
  const config = opts.config ?? { ...loadConfig(process.env), logLevel: 'silent' as const };
  const started = performance.now();
  const size = statSync(opts.capturePath).size;
  const stats = newReadStats();
  // a read chunk of frames at a time (one await per chunk rather than one per frame); the clock starts at the
  // first frame, so clock timers do not replay the years before it
  const { hub, clock, empty } = await openCapture(opts.capturePath, {
    stats,
    // reading and JSON-parsing in a worker thread: the hot frames come in as numbers (capture/worker-client.ts),
    // every kind it can prepare (the agents make the main thread the slower one)
    worker: true,
    workerPrepares: 'all',
    ...(config.captureMaxLineBytes ? { maxLineBytes: config.captureMaxLineBytes } : {}),
  });
  const bus = new InProcBus({ name: `bt${seed}`, maxLen: 0, clock });
  const kernel: Kernel = {
    config,
    bus,
    clock,
    log: silentLogger(),
    ids: createIds(`bt${seed}`),
    instance: `bt${seed}`,
  };
  const live = createLiveCounters(bus, {
    initialCash: config.risk.initialBankroll,
    countEvents: false,
    group: 'backtest',
    dailyResetHourUtc: config.risk.dailyLossResetHourUtc,
    risk: config.risk,
  });
  // the same assembly as `pm-arb run`, the capture as its feeds, offline (rules-only matcher, no alerts)
  const assembly = await assemble(kernel, {
    feeds: 'capture',
    capture: hub,
    offline: true,
    executor: 'paper',
    agents: opts.agents ? 'feeds' : 'all',
    ...(opts.store ? { store: opts.store } : {}),
  });
  const agents = opts.agents ? [...(await opts.agents(kernel)), ...assembly.agents] : assembly.agents;
  const running = await startAgents(kernel, agents, { heartbeatMs: 3_600_000 });
  const feedEvents = (): number => {
    let n = 0;
    for (const f of assembly.feeds) for (const v of Object.values(f.stats().events)) n += v;
    return n;
  };
  const result = empty
    ? undefined
    : await hub.play({
        bus,
        // every frame handled completely, at its own time, before the next one (as the agents would live);
        // this also makes the report independent of how the reader chunks the file
        settleEachFrame: true,
        progressEvery: 20_000,
        onProgress: (p) => {
          if (!opts.onProgress) return;
          const secs = (performance.now() - started) / 1000;
          const fraction = size > 0 ? Math.min(1, stats.bytes / size) : 1;
          const events = feedEvents();
          const rate = secs > 0 ? events / secs : 0;
          opts.onProgress({
            frames: p.frames,
            events,
            eventsPerSec: rate,
            fraction,
            etaSec: fraction > 0 ? (secs / fraction) * (1 - fraction) : 0,
          });
        },
      });
  // let orders in flight arrive and fill (a leg, then its unwind), then one last allocation round and equity snapshot
  const last = result?.lastTs ?? clock.now();
  const slowest = Math.max(...VENUES.map((v) => maxPaperLatencyMs(paperMedianMs(config, v))));
  const travel = 2 * Math.max(1, slowest) + 1;
  clock.advanceTo(last + travel);
  await bus.idle();
  // resting GTC orders expire (each group gets its report); no market data moves meanwhile
  clock.advanceTo(last + DEFAULT_GTC_TTL_MS + travel);
  await bus.idle();
  const allocator = agents.find((a) => a.name === 'capital-allocator') as { round?: () => void } | undefined;
  allocator?.round?.();
  await bus.idle();
  await running.stop();
  await live.close();
  await bus.close();
  // what the feeds' decoders made of the capture, and what no feed took
  const byType: Record<string, number> = { market: 0, book: 0, trade: 0, resolution: 0, tick: 0 };
  let rejected = result?.unrouted.total ?? 0;
  for (const f of assembly.feeds) {
    const s = f.stats();
    for (const [k, v] of Object.entries(s.events)) byType[k] = (byType[k] ?? 0) + v;
    rejected += s.rejected.total;
  }

  const c = live.counters;
  const l = c.ledger;
  const risk = c.riskDrawdown ?? c.drawdown;
  const wallMs = performance.now() - started;
  const events = result ? Object.values(byType).reduce((a, b) => a + b, 0) : 0;
  const initial = l.initialCash();
  const allocations = c.allocation?.allocations ?? {};
  const names = new Set([...c.performance.keys(), ...Object.keys(allocations)]);
  const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;
  const strategies: StrategyRow[] = [...names].sort().map((s) => {
    const p = c.performance.get(s);
    const why = c.allocation?.explanations?.[s];
    return {
      strategy: s,
      trades: p?.trades ?? 0,
      openBundles: p?.openBundles ?? 0,
      wins: p?.wins ?? 0,
      losses: p?.losses ?? 0,
      legWins: p?.legWins ?? 0,
      legLosses: p?.legLosses ?? 0,
      pnl: toDecimal(p?.pnl ?? 0),
      sharpe: round4(p?.sharpe ?? 0),
      maxDrawdown: toDecimal(p?.maxDrawdown ?? 0),
      allocation: toDecimal(allocations[s] ?? 0),
      probation: why?.probation ?? true,
      score: round4(why?.score ?? 0),
      weight: round4(why?.weight ?? 0),
      reason: why?.reason ?? 'no allocation round has scored it yet',
    };
  });
  return {
    capture: basename(opts.capturePath),
    seed,
    simulated: {
      from: result?.firstTs !== undefined ? new Date(result.firstTs).toISOString() : null,
      to: result?.lastTs !== undefined ? new Date(result.lastTs).toISOString() : null,
      minutes:
        result?.firstTs !== undefined ? Math.round(((result.lastTs ?? 0) - result.firstTs) / 600) / 100 : 0,
    },
    events: {
      frames: result?.frames ?? 0,
      total: events,
      byType: sortRec(result ? byType : {}),
      rejected,
      badLines: stats.bad,
    },
    opportunities: { total: c.opportunities, byKind: sortRec(c.opportunitiesByKind) },
    pricing: sortRec(pricingOf(agents)),
    requests: c.requests,
    decisions: { total: c.decisions, byVerdict: sortRec(c.byVerdict), byRule: sortRec(c.byRule) },
    executions: { byStatus: sortRec(c.executions), legRiskCost: toDecimal(c.legRiskCost) },
    fills: { total: c.fills, byKind: sortRec(c.fillsByKind), fees: toDecimal(l.fees()) },
    pnl: {
      initialEquity: toDecimal(initial),
      finalEquity: toDecimal(l.equity()),
      realized: toDecimal(l.realizedPnl()),
      unrealized: toDecimal(l.unrealizedPnl()),
      total: toDecimal(l.equity() - initial),
      maxDrawdown: toDecimal(risk.maxDrawdown),
      maxDrawdownPct: risk.maxDrawdownPct,
      maxDailyLoss: toDecimal(risk.maxDailyLoss),
      maxDailyLossPct: risk.maxDailyLossPct,
      atBestBids: {
        maxDrawdownPct: c.drawdown.maxDrawdownPct,
        maxDrawdown: toDecimal(c.drawdown.maxDrawdown),
        maxDailyLossPct: c.drawdown.maxDailyLossPct,
        maxDailyLoss: toDecimal(c.drawdown.maxDailyLoss),
      },
    },
    strategies,
    allocations: sortRec(Object.fromEntries(Object.entries(allocations).map(([k, v]) => [k, toDecimal(v)]))),
    timing: { wallMs: Math.round(wallMs), eventsPerSec: Math.round(events / Math.max(1e-9, wallMs / 1000)) },
  };
}

/** The report as text, for people. */
export function formatBacktestReport(r: BacktestReport): string {
  const lines: string[] = [];
  const kv = (o: Record<string, number | string>) =>
    Object.entries(o)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  lines.push(
    `backtest of ${r.capture} (seed ${r.seed}): ${r.simulated.from ?? '-'} → ${r.simulated.to ?? '-'} (${r.simulated.minutes} min)`,
  );
  lines.push(
    `events        ${r.events.total.toLocaleString('en-US')} from ${r.events.frames.toLocaleString('en-US')} frames ` +
      `(${kv(r.events.byType)}), ${r.events.rejected} frames rejected, ${r.timing.eventsPerSec.toLocaleString('en-US')} events/s`,
  );
  lines.push(`opportunities ${r.opportunities.total} (${kv(r.opportunities.byKind)})`);
  for (const [k, v] of Object.entries(r.pricing)) {
    lines.push(`  priced on   ${k}: ${v.priced} priced, skipped ${kv(v.skipped) || '0'}`);
  }
  lines.push(`requests      ${r.requests}`);
  lines.push(`decisions     ${r.decisions.total} (${kv(r.decisions.byVerdict)})`);
  lines.push(`  by rule     ${kv(r.decisions.byRule)}`);
  lines.push(`executions    ${kv(r.executions.byStatus)}; leg-risk cost $${r.executions.legRiskCost}`);
  lines.push(`fills         ${r.fills.total} (${kv(r.fills.byKind)}), fees $${r.fills.fees}`);
  lines.push(
    `P&L           realized $${r.pnl.realized}, unrealized $${r.pnl.unrealized}, total $${r.pnl.total} ` +
      `(equity $${r.pnl.initialEquity} → $${r.pnl.finalEquity})`,
  );
  lines.push(
    `max drawdown  ${r.pnl.maxDrawdownPct}% of the high-water mark ($${r.pnl.maxDrawdown}), max daily loss ` +
      `${r.pnl.maxDailyLossPct}% ($${r.pnl.maxDailyLoss}): risk equity, what the limits bound`,
  );
  lines.push(
    `  at best bids ${r.pnl.atBestBids.maxDrawdownPct}% ($${r.pnl.atBestBids.maxDrawdown}) and ` +
      `${r.pnl.atBestBids.maxDailyLossPct}% ($${r.pnl.atBestBids.maxDailyLoss}), hedged bundles marked leg by leg`,
  );
  lines.push('');
  const head = [
    'strategy',
    'bundles',
    'open',
    'wins',
    'losses',
    'legs +/-',
    'P&L',
    'Sharpe',
    'max DD',
    'allocation',
  ];
  const rows = r.strategies.map((s) => [
    s.strategy,
    String(s.trades),
    String(s.openBundles),
    String(s.wins),
    String(s.losses),
    `${s.legWins}/${s.legLosses}`,
    s.pnl,
    s.sharpe.toFixed(2),
    s.maxDrawdown,
    s.allocation,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  lines.push(fmt(head));
  for (const row of rows) lines.push(fmt(row));
  if (rows.length === 0) lines.push('(no strategy traded)');
  else {
    lines.push('');
    lines.push("allocation, last round (bundles = a request's legs together; wins/losses = bundles closed):");
    for (const s of r.strategies) lines.push(`  ${s.strategy}: ${s.reason}`);
  }
  lines.push(`wall time ${(r.timing.wallMs / 1000).toFixed(2)} s`);
  return `${lines.join('\n')}\n`;
}
