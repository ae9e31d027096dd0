/**
 * Capital allocator agent: the ledger and performance desk, and the tournament between strategies.
 *
 * It keeps a Ledger from fills (marks from books), tracks every strategy's performance, and on a clock timer
 * (settings.intervalMs) scores the strategies and moves allocation toward the leaders (src/allocator/score.ts),
 * publishing an Allocation (channels.allocations: the strategies and the risk guardian read it; each strategy's
 * inputs, weight and a one-line reason in `explanations`), one StrategyPerformance per strategy
 * (channels.performance: the bundle is the unit, src/ledger/bundles.ts) and an EquitySnapshot (channels.equity;
 * also every `equityIntervalMs`), and the positions that changed since the last round (channels.positions, with
 * the bundles holding each). A strategy
 * it has not seen before — named in `strategies`, or first met on a trade request or fill — starts on the
 * probation allocation, published at once.
 */

import { type AllocatorSettings, allocate, allocatorSettings } from '../allocator/score.ts';
import type { Agent, AgentRuntime, HealthDetails } from '../core/agent.ts';
import { channels } from '../core/channels.ts';
import type { TimerHandle } from '../core/clock.ts';
import type { AllocationExplanation, EquitySnapshot } from '../core/messages.ts';
import { VENUES } from '../core/messages.ts';
import type { Money } from '../core/money.ts';
import { BundleBook, type BundleSnapshot } from '../ledger/bundles.ts';
import { Ledger, type LedgerSnapshot, markFromBook } from '../ledger/ledger.ts';
import { PerformanceTracker } from '../ledger/performance.ts';

export interface CapitalAllocatorOptions {
  readonly name?: string;
  readonly settings?: Partial<AllocatorSettings>;
  /** Strategies to enter in the tournament from the start. */
  readonly strategies?: readonly string[];
  /** EquitySnapshot period, clock ms (default 1,000). */
  readonly equityIntervalMs?: number;
  readonly initial?: {
    ledger?: LedgerSnapshot;
    allocations?: Record<string, Money>;
    highWaterMark?: Money;
    /** The bundles (rebuilt from the stored fills); absent = none known. */
    bundles?: BundleSnapshot;
  };
}

export interface CapitalAllocator extends Agent {
  readonly ledger: Ledger | undefined;
  readonly performance: PerformanceTracker | undefined;
  allocations(): Record<string, Money>;
  /** Runs one allocation round now (sample, score, publish). */
  round(): void;
}

export function createCapitalAllocator(opts: CapitalAllocatorOptions = {}): CapitalAllocator {
  /** from the config (window, minimum evidence) and `opts.settings`, once started */
  let settings: AllocatorSettings;
  let rt: AgentRuntime | undefined;
  let ledger: Ledger | undefined;
  let perf: PerformanceTracker | undefined;
  let current: Record<string, Money> = { ...(opts.initial?.allocations ?? {}) };
  let scores: Record<string, number> = {};
  let explanations: Record<string, AllocationExplanation> | undefined;
  let hwm = 0;
  const counts = { rounds: 0, fills: 0, strategies: 0 };
  const timers: TimerHandle[] = [];

  function publishAllocation(): void {
    rt!.publish(channels.allocations, {
      type: 'allocation',
      allocations: { ...current },
      scores: { ...scores },
      ts: rt!.clock.now(),
      ...(explanations ? { explanations: { ...explanations } } : {}),
    });
  }

  function publishEquity(): void {
    const l = ledger!;
    const eq = l.equity();
    if (eq > hwm) hwm = eq;
    const snap: EquitySnapshot = {
      type: 'equity',
      cash: l.cash(),
      positionsValue: l.positionsValue(),
      equity: eq,
      realizedPnl: l.realizedPnl(),
      unrealizedPnl: l.unrealizedPnl(),
      highWaterMark: hwm,
      ts: rt!.clock.now(),
    };
    rt!.publish(channels.equity, snap);
  }

  function learn(strategy: string): void {
    if (!perf!.add(strategy)) return;
    counts.strategies++;
    if (current[strategy] === undefined) {
      const r = allocate([perf!.stats(strategy)], {}, Math.max(0, ledger!.equity()), settings);
      current = { ...current, [strategy]: r.allocations[strategy] ?? 0 };
      publishAllocation();
    }
  }

  const published = new Map<string, string>();
  /** Positions whose shares, basis, realized P&L or mark changed since the last round (channels.positions). */
  function publishPositions(ts: number): void {
    const l = ledger!;
    for (const p of l.allPositions()) {
      const mark = l.markOf(p.venue, p.tokenId) ?? 0;
      const key = `${p.strategy}|${p.venue}:${p.tokenId}`;
      const bundleIds = perf!.bundles.holding(p.strategy, p.venue, p.tokenId);
      const sig = `${p.shares}/${p.costBasis}/${p.realizedPnl}/${mark}/${bundleIds.join(',')}`;
      if (published.get(key) === sig) continue;
      published.set(key, sig);
      rt!.publish(channels.positions, {
        type: 'position',
        venue: p.venue,
        marketId: p.marketId,
        tokenId: p.tokenId,
        strategy: p.strategy,
        shares: p.shares,
        costBasis: p.costBasis,
        realizedPnl: p.realizedPnl,
        mark,
        unrealizedPnl: p.value - p.costBasis,
        ts,
        ...(bundleIds.length > 0 ? { bundleIds: [...bundleIds] } : {}),
      });
    }
  }

  function round(): void {
    const p = perf!;
    const ts = rt!.clock.now();
    p.sample(ts);
    counts.rounds++;
    const stats = p.strategies().map((s) => p.stats(s));
    const r = allocate(stats, current, Math.max(0, ledger!.equity()), settings);
    current = { ...current, ...r.allocations };
    scores = r.scores;
    explanations = r.explanations;
    publishAllocation();
    for (const st of stats) {
      rt!.publish(channels.performance, {
        type: 'strategy_performance',
        strategy: st.strategy,
        trades: st.trades,
        wins: st.wins,
        losses: st.losses,
        pnl: st.pnl,
        sharpe: st.sharpe,
        maxDrawdown: st.maxDrawdown,
        allocation: current[st.strategy] ?? 0,
        ts,
        openBundles: st.openBundles,
        legWins: st.legWins,
        legLosses: st.legLosses,
      });
    }
    publishPositions(ts);
    publishEquity();
  }

  return {
    name: opts.name ?? 'capital-allocator',
    trading: false,
    get ledger() {
      return ledger;
    },
    get performance() {
      return perf;
    },
    allocations: () => ({ ...current }),
    round: () => round(),
    start(runtime) {
      rt = runtime;
      settings = allocatorSettings(runtime.config, opts.settings);
      ledger = opts.initial?.ledger
        ? Ledger.restore(opts.initial.ledger)
        : new Ledger({ initialCash: runtime.config.risk.initialBankroll });
      hwm = opts.initial?.highWaterMark ?? ledger.equity();
      perf = new PerformanceTracker(ledger, {
        windowSamples: settings.windowSamples,
        bundles: opts.initial?.bundles ? BundleBook.restore(opts.initial.bundles) : undefined,
      });
      const l = ledger;
      const p = perf;
      for (const s of opts.strategies ?? []) learn(s);
      if ((opts.strategies ?? []).length === 0 && Object.keys(current).length > 0) {
        for (const s of Object.keys(current)) p.add(s);
        publishAllocation();
      }
      for (const v of VENUES) {
        runtime.subscribe(channels.books(v), (m) => markFromBook(l, m.body));
      }
      runtime.subscribe(channels.tradeRequests, (m) => {
        if (typeof m.body.strategy === 'string' && m.body.strategy !== '') learn(m.body.strategy);
      });
      runtime.subscribe(channels.fills, (m) => {
        learn(m.body.strategy);
        counts.fills++;
        p.onFill(m.body, l.applyFill(m.body));
      });
      runtime.subscribe(channels.executions, (m) => p.onReport(m.body));
      timers.push(runtime.clock.every(settings.intervalMs, round));
      timers.push(runtime.clock.every(opts.equityIntervalMs ?? 1_000, publishEquity));
    },
    stop() {
      for (const t of timers.splice(0)) t.cancel();
      // the positions table and the equity curve end where the process did (a restart starts from them)
      if (rt && ledger && perf) {
        publishPositions(rt.clock.now());
        publishEquity();
      }
    },
    health(): HealthDetails {
      return { ...counts, equity: ledger?.equity() ?? 0 };
    },
  };
}
