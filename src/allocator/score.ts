/**
 * The capital-allocation tournament, as pure functions, with the reason for every allocation.
 *
 * Each round, for every strategy, over a window of the last W rounds (ALLOCATION_WINDOW_MINUTES of history):
 *
 *   evidence = min(1, bundles closed in the window / minBundles)
 *   score    = sharpe_W × evidence
 *
 * sharpe_W is the Sharpe ratio of the returns of the strategy's bundles closed in the window — each bundle's
 * P&L over the capital it committed, mean ÷ standard deviation, capped at ±3 — so a strategy scores by the return
 * it makes per unit of risk, bundle by bundle, not by how big its P&L is; the evidence factor discounts a
 * score resting on fewer than minBundles (ALLOCATION_MIN_BUNDLES) closed bundles.
 *
 * Allocation: a strategy with fewer than minBundles bundles closed in all is on probation and gets the fixed
 * probation amount (probationBps of the pool; the risk guardian uses the same amount for strategies no Allocation
 * names yet). The rest of the pool (equity minus probation amounts) is shared by softmax weights exp(score / T),
 * each target clamped to [minBps, maxBps] of the pool (and scaled down if the clamped targets overrun it). Each
 * round moves every allocation a fraction `rate` of the way from where it is to its target, so capital drifts
 * toward the leaders rather than jumping. Amounts are whole cents. Every allocation carries its inputs and a
 * one-line reason (AllocationExplanation).
 */
import type { Config } from '../core/config.ts';
import type { AllocationExplanation } from '../core/messages.ts';
import { CENT, type Money, mulDiv, toDecimal } from '../core/money.ts';
import type { StrategyStats } from '../ledger/performance.ts';

export interface AllocatorSettings {
  /** Allocation rounds, clock ms. */
  readonly intervalMs: number;
  /** Rounds in the scoring window. */
  readonly windowSamples: number;
  /** Bundles closed before a strategy leaves probation, and for full weight in the window. */
  readonly minBundles: number;
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
  minBundles: 5,
  temperature: 1,
  rate: 0.5,
  // 5% a strategy on probation: the four default strategies together then swing at most 20% of the bankroll
  // (strategy_loss_budget bounds each one's swing by its allocation), the default DRAWDOWN_LIMIT_PCT, so one
  // strategy's positions never use up the drawdown budget the others need. More would not make the demo trade
  // more often, only in larger sizes that starve the others; the runner slices it instead (each probation request
  // uses at most probation ÷ minBundles, src/strategies/runner.ts), so a strategy can hold the minBundles bundles
  // it must close at once.
  probationBps: 500,
  minBps: 100,
  maxBps: 5_000,
});

/** Settings from the configuration (window in minutes → rounds; minimum evidence), then `over`. */
export function allocatorSettings(
  config: Pick<Config, 'allocation'>,
  over: Partial<AllocatorSettings> = {},
): AllocatorSettings {
  const intervalMs = over.intervalMs ?? DEFAULT_ALLOCATOR.intervalMs;
  return {
    ...DEFAULT_ALLOCATOR,
    windowSamples: Math.max(1, Math.round((config.allocation.windowMinutes * 60_000) / intervalMs)),
    minBundles: config.allocation.minBundles,
    ...over,
  };
}

/** The allocation a strategy gets before it has a record (also the risk guardian's default cap). */
export function probationAmount(
  config: Pick<Config, 'risk'>,
  s: AllocatorSettings = DEFAULT_ALLOCATOR,
): Money {
  return toCents(mulDiv(config.risk.initialBankroll, s.probationBps, 10_000, 'floor'));
}

const toCents = (m: Money): Money => Math.max(0, Math.floor(m / CENT) * CENT);

export function evidenceOf(st: StrategyStats, s: AllocatorSettings): number {
  return Math.min(1, st.windowClosed / Math.max(1, s.minBundles));
}

export function scoreStrategy(st: StrategyStats, s: AllocatorSettings): number {
  return st.sharpe * evidenceOf(st, s);
}

export const onProbation = (st: StrategyStats, s: AllocatorSettings): boolean =>
  st.closedBundles < s.minBundles;

export interface AllocationRound {
  readonly allocations: Record<string, Money>;
  readonly scores: Record<string, number>;
  readonly explanations: Record<string, AllocationExplanation>;
}

/** Dollars to the cent, for reasons: $26.60, $1,234.50. */
const usd = (m: Money): string => {
  const [whole, frac = ''] = toDecimal(Math.round(m / CENT) * CENT).split('.');
  return `$${Number(whole).toLocaleString('en-US')}.${frac.padEnd(2, '0')}`;
};
const pct = (x: number): string => `${(Math.round(x * 1000) / 10).toFixed(1)}%`;
const num = (x: number): string => (Math.round(x * 100) / 100).toFixed(2);

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
  const explanations: Record<string, AllocationExplanation> = {};
  const capital = Math.max(0, pool);
  const probation = toCents(mulDiv(capital, s.probationBps, 10_000, 'floor'));
  const sorted = [...stats].sort((a, b) => (a.strategy < b.strategy ? -1 : a.strategy > b.strategy ? 1 : 0));
  const ranked: StrategyStats[] = [];
  let rest = capital;
  const inputs = (st: StrategyStats) => ({
    pnl: st.pnl,
    windowPnl: st.windowPnl,
    bundles: st.trades,
    windowClosed: st.windowClosed,
    sharpe: st.sharpe,
    drawdown: st.windowDrawdown,
    evidence: evidenceOf(st, s),
    score: scoreStrategy(st, s),
  });
  for (const st of sorted) {
    scores[st.strategy] = scoreStrategy(st, s);
    if (onProbation(st, s)) {
      allocations[st.strategy] = probation;
      rest -= probation;
      explanations[st.strategy] = {
        ...inputs(st),
        probation: true,
        weight: 0,
        target: probation,
        allocation: probation,
        reason:
          `probation: ${st.closedBundles} of the ${s.minBundles} closed bundles needed ` +
          `(${st.trades} traded, ${st.openBundles} open) — fixed ${s.probationBps / 100}% of the pool, ${usd(probation)}`,
      };
    } else ranked.push(st);
  }
  if (ranked.length === 0) return { allocations, scores, explanations };
  rest = Math.max(0, rest);
  const lo = mulDiv(capital, s.minBps, 10_000, 'floor');
  const hi = mulDiv(capital, s.maxBps, 10_000, 'floor');
  const top = Math.max(...ranked.map((st) => scores[st.strategy]!));
  const weights = ranked.map((st) => Math.exp((scores[st.strategy]! - top) / s.temperature));
  const wsum = weights.reduce((a, b) => a + b, 0);
  const raw = ranked.map((_, i) => Math.floor((rest * weights[i]!) / wsum));
  let targets = raw.map((t) => Math.min(hi, Math.max(lo, t)));
  const tsum = targets.reduce((a, b) => a + b, 0);
  const scaled = tsum > rest && tsum > 0;
  if (scaled) targets = targets.map((t) => mulDiv(t, rest, tsum, 'floor'));
  const windowMin = Math.round((s.windowSamples * s.intervalMs) / 60_000);
  ranked.forEach((st, i) => {
    const cur = current[st.strategy] ?? probation;
    const target = targets[i]!;
    const next = toCents(Math.min(hi, Math.max(0, cur + Math.round(s.rate * (target - cur)))));
    allocations[st.strategy] = next;
    const x = inputs(st);
    const clamp =
      raw[i]! > hi
        ? `, capped at ${s.maxBps / 100}%`
        : raw[i]! < lo
          ? `, raised to the ${s.minBps / 100}% floor`
          : '';
    const fit = scaled ? ', scaled to fit the pool' : '';
    const move =
      next === cur
        ? `stays at ${usd(next)}`
        : `moved ${s.rate === 1 ? 'all the way' : `${pct(s.rate)} of the way`} from ${usd(cur)} to ${usd(next)}`;
    explanations[st.strategy] = {
      ...x,
      probation: false,
      weight: weights[i]! / wsum,
      target,
      allocation: next,
      reason:
        `score ${num(x.score)} = Sharpe ${num(st.sharpe)} over ${st.windowClosed} bundles closed in ${windowMin} min ` +
        `× evidence ${num(x.evidence)}; weight ${pct(weights[i]! / wsum)} of ${usd(rest)} → target ${usd(target)}${clamp}${fit}; ${move}`,
    };
  });
  return { allocations, scores, explanations };
}
