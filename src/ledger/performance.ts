/**
 * Per-strategy performance from the ledger: trades, wins, losses, P&L, Sharpe and maximum drawdown.
 *
 * - trades: execution reports of the strategy with at least one fill.
 * - wins/losses: each closing outcome — one per request for sales and unwinds, one per market for settlement —
 *   counts as a win when it realized more than zero and a loss when less (tallied at each sample).
 * - pnl: realized + unrealized (marked at best bid) from the ledger.
 * - sharpe: mean / sample standard deviation of the P&L change between samples over the rolling window (not
 *   annualized; 0 with fewer than two changes; ±3 when the deviation is zero), a float.
 * - maxDrawdown: the largest fall of the P&L curve from its running peak, all time, micro-dollars.
 */
import type { ExecutionReport, Fill } from '../core/messages.ts';
import type { Money } from '../core/money.ts';
import type { FillEffect, Ledger } from './ledger.ts';

export interface StrategyStats {
  readonly strategy: string;
  readonly trades: number;
  readonly wins: number;
  readonly losses: number;
  readonly pnl: Money;
  readonly sharpe: number;
  readonly maxDrawdown: Money;
  /** Over the rolling window: P&L change, max drawdown, trades. */
  readonly windowPnl: Money;
  readonly windowDrawdown: Money;
  readonly windowTrades: number;
}

interface Series {
  trades: number;
  wins: number;
  losses: number;
  /** P&L at each sample (window + 1 values) */
  pnl: Money[];
  /** trades count at each sample */
  tradesAt: number[];
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

  constructor(ledger: Ledger, opts: { windowSamples?: number } = {}) {
    this.ledger = ledger;
    this.window = opts.windowSamples ?? 60;
  }

  /** Registers a strategy (no-op when known). */
  add(strategy: string): boolean {
    if (this.series.has(strategy)) return false;
    const pnl = this.ledger.strategyPnl(strategy);
    this.series.set(strategy, {
      trades: 0,
      wins: 0,
      losses: 0,
      pnl: [pnl],
      tradesAt: [0],
      peak: pnl,
      maxDd: 0,
      open: new Map(),
    });
    return true;
  }

  strategies(): string[] {
    return [...this.series.keys()].sort();
  }

  onReport(r: ExecutionReport): void {
    this.add(r.strategy);
    if (r.fills > 0) this.series.get(r.strategy)!.trades++;
  }

  /** Feed each fill's effect on the ledger (Ledger.applyFill's return). */
  onFill(f: Fill, eff: FillEffect): void {
    this.add(f.strategy);
    if (eff.duplicate || !eff.closing) return;
    const s = this.series.get(f.strategy)!;
    const key = f.kind === 'settlement' ? `settle:${f.venue}:${f.marketId}` : f.requestId;
    s.open.set(key, (s.open.get(key) ?? 0) + eff.realized);
  }

  /** Takes a sample of every strategy's P&L (call on a clock timer). */
  sample(): void {
    for (const [name, s] of this.series) {
      for (const v of s.open.values()) {
        if (v > 0) s.wins++;
        else if (v < 0) s.losses++;
      }
      s.open.clear();
      const pnl = this.ledger.strategyPnl(name);
      s.pnl.push(pnl);
      s.tradesAt.push(s.trades);
      if (s.pnl.length > this.window + 1) {
        s.pnl.shift();
        s.tradesAt.shift();
      }
      if (pnl > s.peak) s.peak = pnl;
      else if (s.peak - pnl > s.maxDd) s.maxDd = s.peak - pnl;
    }
  }

  stats(strategy: string): StrategyStats {
    this.add(strategy);
    const s = this.series.get(strategy)!;
    const changes: number[] = [];
    for (let i = 1; i < s.pnl.length; i++) changes.push(s.pnl[i]! - s.pnl[i - 1]!);
    const pnl = this.ledger.strategyPnl(strategy);
    return {
      strategy,
      trades: s.trades,
      wins: s.wins,
      losses: s.losses,
      pnl,
      sharpe: sharpeOf(changes),
      maxDrawdown: Math.max(s.maxDd, s.peak - pnl),
      windowPnl: s.pnl[s.pnl.length - 1]! - s.pnl[0]!,
      windowDrawdown: maxDrawdownOf(s.pnl),
      windowTrades: s.trades - s.tradesAt[0]!,
    };
  }
}
