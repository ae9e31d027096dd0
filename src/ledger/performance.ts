/**
 * Per-strategy performance, with the bundle as the unit (src/ledger/bundles.ts): a trade request's legs together
 * are one bundle, so an arbitrage is one trade and one win or loss, never one per leg.
 *
 * - trades: bundles the strategy opened (at least one leg filled); openBundles: those not yet closed.
 * - wins/losses: bundles closed (every leg sold or settled) with a gain / a loss, all legs together.
 * - legWins/legLosses (detail): each closing outcome per leg — one per request for sales and unwinds, one per
 *   market for settlement — a win when it realized more than zero (tallied at each sample), as counted before.
 * - pnl: realized + unrealized (marked at best bid) from the ledger.
 * - sharpe: mean / sample standard deviation of the returns (P&L ÷ capital committed) of the bundles closed in the
 *   rolling window (not annualized; 0 with fewer than two; ±3 when the deviation is zero), a float.
 * - maxDrawdown: the largest fall of the strategy's P&L curve (sampled each round) from its running peak.
 */
import type { ExecutionReport, Fill } from '../core/messages.ts';
import type { Money } from '../core/money.ts';
import { BundleBook } from './bundles.ts';
import type { FillEffect, Ledger } from './ledger.ts';

export interface StrategyStats {
  readonly strategy: string;
  /** Bundles opened, and those still open. */
  readonly trades: number;
  readonly openBundles: number;
  /** Bundles closed with a gain / a loss. */
  readonly wins: number;
  readonly losses: number;
  /** Detail: closing outcomes per leg. */
  readonly legWins: number;
  readonly legLosses: number;
  readonly pnl: Money;
  /** Sharpe ratio of the returns of the bundles closed in the window. */
  readonly sharpe: number;
  readonly maxDrawdown: Money;
  /** Over the rolling window: P&L change, max drawdown, bundles opened, bundles closed. */
  readonly windowPnl: Money;
  readonly windowDrawdown: Money;
  readonly windowTrades: number;
  readonly windowClosed: number;
  /** Bundles closed, all time. */
  readonly closedBundles: number;
}

interface Series {
  /** per-leg closing outcomes (detail) */
  wins: number;
  losses: number;
  /** P&L at each sample (window + 1 values) */
  pnl: Money[];
  peak: Money;
  maxDd: Money;
  open: Map<string, Money>;
}

export const SHARPE_CAP = 3;

export function sharpeOf(changes: readonly number[]): number {
  const n = changes.length;
  if (n < 2) return 0;
  let mean = 0;
  for (const c of changes) mean += c;
  mean /= n;
  let v = 0;
  for (const c of changes) v += (c - mean) ** 2;
  const sd = Math.sqrt(v / (n - 1));
  if (sd === 0) return mean > 0 ? SHARPE_CAP : mean < 0 ? -SHARPE_CAP : 0;
  return Math.max(-SHARPE_CAP, Math.min(SHARPE_CAP, mean / sd));
}

export function maxDrawdownOf(curve: readonly number[]): Money {
  let peak = Number.NEGATIVE_INFINITY;
  let dd = 0;
  for (const v of curve) {
    if (v > peak) peak = v;
    else if (peak - v > dd) dd = peak - v;
  }
  return dd;
}

export class PerformanceTracker {
  private readonly series = new Map<string, Series>();
  private readonly ledger: Ledger;
  private readonly window: number;
  /** The bundles of every strategy (fed by onFill). */
  readonly bundles: BundleBook;
  /** clock time of each sample in the window (window + 1 values); empty until the first timed sample */
  private readonly sampleTimes: number[] = [];

  constructor(ledger: Ledger, opts: { windowSamples?: number; bundles?: BundleBook } = {}) {
    this.ledger = ledger;
    this.window = opts.windowSamples ?? 60;
    this.bundles = opts.bundles ?? new BundleBook();
  }

  /** Registers a strategy (no-op when known). */
  add(strategy: string): boolean {
    if (this.series.has(strategy)) return false;
    const pnl = this.ledger.strategyPnl(strategy);
    this.series.set(strategy, {
      wins: 0,
      losses: 0,
      pnl: [pnl],
      peak: pnl,
      maxDd: 0,
      open: new Map(),
    });
    return true;
  }

  strategies(): string[] {
    return [...this.series.keys()].sort();
  }

  /** A strategy's execution report enters it in the table (its trades are counted from the fills' bundles). */
  onReport(r: ExecutionReport): void {
    this.add(r.strategy);
  }

  /** Feed each fill's effect on the ledger (Ledger.applyFill's return). */
  onFill(f: Fill, eff: FillEffect): void {
    this.add(f.strategy);
    if (eff.duplicate) return;
    this.bundles.applyFill(f);
    if (!eff.closing) return;
    const s = this.series.get(f.strategy)!;
    const key = f.kind === 'settlement' ? `settle:${f.venue}:${f.marketId}` : f.requestId;
    s.open.set(key, (s.open.get(key) ?? 0) + eff.realized);
  }

  /** Takes a sample of every strategy's P&L (call on a clock timer, with the clock's time). */
  sample(ts?: number): void {
    if (ts !== undefined) {
      this.sampleTimes.push(ts);
      if (this.sampleTimes.length > this.window + 1) this.sampleTimes.shift();
    }
    for (const [name, s] of this.series) {
      for (const v of s.open.values()) {
        if (v > 0) s.wins++;
        else if (v < 0) s.losses++;
      }
      s.open.clear();
      const pnl = this.ledger.strategyPnl(name);
      s.pnl.push(pnl);
      if (s.pnl.length > this.window + 1) s.pnl.shift();
      if (pnl > s.peak) s.peak = pnl;
      else if (s.peak - pnl > s.maxDd) s.maxDd = s.peak - pnl;
    }
  }

  stats(strategy: string): StrategyStats {
    this.add(strategy);
    const s = this.series.get(strategy)!;
    const pnl = this.ledger.strategyPnl(strategy);
    // the window opens at the oldest sample it holds (all history before the first timed sample)
    const from = this.sampleTimes.length > this.window ? this.sampleTimes[0]! : Number.NEGATIVE_INFINITY;
    let wins = 0;
    let losses = 0;
    let closed = 0;
    const returns: number[] = [];
    for (const c of this.bundles.closed()) {
      if (c.strategy !== strategy) continue;
      closed++;
      if (c.pnl > 0) wins++;
      else if (c.pnl < 0) losses++;
      if (c.closedAt >= from && c.cost > 0) returns.push(c.pnl / c.cost);
    }
    let trades = 0;
    let open = 0;
    let windowTrades = 0;
    for (const b of this.bundles.all(strategy)) {
      trades++;
      if (b.closedAt === undefined) open++;
      if (b.openedAt >= from) windowTrades++;
    }
    return {
      strategy,
      trades,
      openBundles: open,
      wins,
      losses,
      legWins: s.wins,
      legLosses: s.losses,
      pnl,
      sharpe: sharpeOf(returns),
      maxDrawdown: Math.max(s.maxDd, s.peak - pnl),
      windowPnl: s.pnl[s.pnl.length - 1]! - s.pnl[0]!,
      windowDrawdown: maxDrawdownOf(s.pnl),
      windowTrades,
      windowClosed: returns.length,
      closedBundles: closed,
    };
  }
}
