/**
 * The capital-allocation tournament, as pure functions.
 *
 * Score of a strategy over the rolling window (W samples of its P&L, one per allocation round):
 *
 *   score = sharpe_W × min(1, trades_W / minTrades) − ddPenalty × maxDD_W / max(allocation, probation)
 *
 * sharpe_W is the mean / standard deviation of the P&L changes in the window (capped at ±3), so a strategy is
 * rewarded for steady gains, discounted until it has traded `minTrades` times in the window, and charged for the
 * drawdown it caused relative to the capital it was given.
 *
 * Allocation: a strategy with fewer than `minTrades` trades in total is on probation and gets the fixed probation
 * amount. The rest of the pool (equity minus probation amounts) is shared by softmax weights exp(score / T),
 * each target clamped to [minBps, maxBps] of the pool (and scaled down if the clamped targets overrun the pool).
 * Each round moves every allocation a fraction `rate` of the way from where it is to its target, so capital
 * drifts toward the leaders rather than jumping. Amounts are whole cents.
 */
import type { Config } from '../core/config.ts';
import { CENT, type Money, mulDiv } from '../core/money.ts';
import type { StrategyStats } from '../ledger/performance.ts';

export interface AllocatorSettings {
  /** Allocation rounds, clock ms. */
  readonly intervalMs: number;
  /** Samples in the rolling window. */
  readonly windowSamples: number;
  readonly minTrades: number;
  readonly ddPenalty: number;
  /** Softmax temperature. */
  readonly temperature: number;
  /** Fraction of the way to the target moved per round, (0, 1]. */
  readonly rate: number;
  /** Basis points of the pool. */
  readonly probationBps: number;
  readonly minBps: number;
  readonly maxBps: number;
}

export const DEFAULT_ALLOCATOR: AllocatorSettings = Object.freeze({
  intervalMs: 60_000,
  windowSamples: 60,
  minTrades: 5,
  ddPenalty: 1,
  temperature: 1,
  rate: 0.5,
  probationBps: 500,
  minBps: 100,
  maxBps: 5_000,
});

/** The allocation a strategy gets before it has a record (also the risk guardian's default cap). */
export function probationAmount(
  config: Pick<Config, 'risk'>,
  s: AllocatorSettings = DEFAULT_ALLOCATOR,
): Money {
  return toCents(mulDiv(config.risk.initialBankroll, s.probationBps, 10_000, 'floor'));
}

const toCents = (m: Money): Money => Math.max(0, Math.floor(m / CENT) * CENT);

export function scoreStrategy(
  st: StrategyStats,
  allocation: Money,
  probation: Money,
  s: AllocatorSettings,
): number {
  const confidence = Math.min(1, st.windowTrades / Math.max(1, s.minTrades));
  const capital = Math.max(allocation, probation, 1);
  return st.sharpe * confidence - (s.ddPenalty * st.windowDrawdown) / capital;
}

export interface AllocationRound {
  readonly allocations: Record<string, Money>;
  readonly scores: Record<string, number>;
}

/**
 * One round of the tournament. `current` holds the allocations now (a strategy missing from it is new);
 * `stats` every strategy taking part; `pool` the capital to share (equity).
 */
export function allocate(
  stats: readonly StrategyStats[],
  current: Readonly<Record<string, Money>>,
  pool: Money,
  s: AllocatorSettings,
): AllocationRound {
  const allocations: Record<string, Money> = {};
  const scores: Record<string, number> = {};
  const probation = toCents(mulDiv(Math.max(0, pool), s.probationBps, 10_000, 'floor'));
  const sorted = [...stats].sort((a, b) => (a.strategy < b.strategy ? -1 : a.strategy > b.strategy ? 1 : 0));
  const ranked: StrategyStats[] = [];
  let rest = Math.max(0, pool);
  for (const st of sorted) {
    const cur = current[st.strategy] ?? probation;
    scores[st.strategy] = scoreStrategy(st, cur, probation, s);
    if (st.trades < s.minTrades) {
      allocations[st.strategy] = probation;
      rest -= probation;
    } else ranked.push(st);
  }
  if (ranked.length === 0) return { allocations, scores };
  rest = Math.max(0, rest);
  const lo = mulDiv(Math.max(0, pool), s.minBps, 10_000, 'floor');
  const hi = mulDiv(Math.max(0, pool), s.maxBps, 10_000, 'floor');
  const top = Math.max(...ranked.map((st) => scores[st.strategy]!));
  const weights = ranked.map((st) => Math.exp((scores[st.strategy]! - top) / s.temperature));
  const wsum = weights.reduce((a, b) => a + b, 0);
  let targets = ranked.map((_, i) => Math.min(hi, Math.max(lo, Math.floor((rest * weights[i]!) / wsum))));
  const tsum = targets.reduce((a, b) => a + b, 0);
  if (tsum > rest && tsum > 0) targets = targets.map((t) => mulDiv(t, rest, tsum, 'floor'));
  ranked.forEach((st, i) => {
    const cur = current[st.strategy] ?? probation;
    const next = cur + Math.round(s.rate * (targets[i]! - cur));
    allocations[st.strategy] = toCents(Math.min(hi, Math.max(0, next)));
  });
  return { allocations, scores };
}
