import { describe, expect, it } from 'vitest';
import {
  allocate,
  allocatorSettings,
  DEFAULT_ALLOCATOR,
  probationAmount,
  scoreStrategy,
} from '../../src/allocator/score.ts';
import type { StrategyStats } from '../../src/ledger/performance.ts';
import { $, config } from '../risk/fixtures.ts';

function st(strategy: string, over: Partial<StrategyStats> = {}): StrategyStats {
  return {
    strategy,
    trades: 10,
    openBundles: 0,
    wins: 5,
    losses: 5,
    legWins: 5,
    legLosses: 5,
    pnl: 0,
    sharpe: 0,
    maxDrawdown: 0,
    windowPnl: 0,
    windowDrawdown: 0,
    windowTrades: 10,
    windowClosed: 10,
    closedBundles: 10,
    ...over,
  };
}

const S = DEFAULT_ALLOCATOR;

describe('allocator tournament', () => {
  it('probation is 5% of the bankroll: $25 of $500', () => {
    expect(probationAmount(config)).toBe($(25));
  });

  it('score = Sharpe of the bundles closed in the window × min(1, closed in window / minBundles)', () => {
    // 1.2 × min(1, 2/5) = 0.48; a drawdown does not enter the score (the loss budget bounds it)
    expect(scoreStrategy(st('a', { sharpe: 1.2, windowClosed: 2, windowDrawdown: $(5) }), S)).toBeCloseTo(
      0.48,
      12,
    );
    expect(scoreStrategy(st('a', { sharpe: -2, windowClosed: 9 }), S)).toBe(-2);
  });

  it('the window and the minimum evidence come from the configuration', () => {
    const s = allocatorSettings({ allocation: { windowMinutes: 30, minBundles: 8 } }, { intervalMs: 30_000 });
    expect(s).toMatchObject({ windowSamples: 60, minBundles: 8, intervalMs: 30_000 });
  });

  it('new strategies (fewer than minBundles closed bundles) get the probation amount, and say why', () => {
    const r = allocate([st('new', { trades: 6, openBundles: 2, closedBundles: 4 })], {}, $(500), S);
    expect(r.allocations).toEqual({ new: $(25) });
    expect(r.explanations.new).toMatchObject({ probation: true, bundles: 6, allocation: $(25) });
    expect(r.explanations.new!.reason).toBe(
      'probation: 4 of the 5 closed bundles needed (6 traded, 2 open) — fixed 5% of the pool, $25.00',
    );
  });

  it('moves half-way toward softmax targets, within the bounds', () => {
    // pool $500, one probation strategy ($25) → $475 shared by a (score 1) and b (score 0)
    const stats = [
      st('a', { sharpe: 1 }),
      st('b', { sharpe: 0 }),
      st('c', { trades: 0, closedBundles: 0, windowClosed: 0 }),
    ];
    const r = allocate(stats, { a: $(100), b: $(100) }, $(500), S);
    const wa = Math.E / (Math.E + 1);
    const ta = Math.min($(250), Math.floor($(475) * wa)); // capped at 50% = $250
    const tb = Math.floor($(475) * (1 - wa));
    expect(r.allocations.c).toBe($(25));
    expect(r.allocations.a).toBe(Math.floor(($(100) + Math.round(0.5 * (ta - $(100)))) / 10_000) * 10_000);
    expect(r.allocations.b).toBe(Math.floor(($(100) + Math.round(0.5 * (tb - $(100)))) / 10_000) * 10_000);
    expect(r.allocations.a!).toBeGreaterThan(r.allocations.b!);
    expect(r.scores).toMatchObject({ a: 1, b: 0 });
    expect(r.explanations.a).toMatchObject({
      probation: false,
      score: 1,
      target: ta,
      allocation: r.allocations.a,
    });
    expect(r.explanations.a!.weight).toBeCloseTo(wa, 12);
    expect(r.explanations.a!.reason).toBe(
      `score 1.00 = Sharpe 1.00 over 10 bundles closed in 60 min × evidence 1.00; weight 73.1% of $475.00 → ` +
        `target $250.00, capped at 50%; moved 50.0% of the way from $100.00 to $175.00`,
    );
  });

  it('repeated rounds converge on the leader and never pass the pool or the bounds', () => {
    let cur: Record<string, number> = {};
    const stats = [st('a', { sharpe: 3 }), st('b', { sharpe: -3 }), st('c', { sharpe: 0 })];
    for (let i = 0; i < 30; i++) cur = allocate(stats, cur, $(500), S).allocations;
    const total = Object.values(cur).reduce((x, y) => x + y, 0);
    expect(total).toBeLessThanOrEqual($(500));
    expect(cur.a!).toBeGreaterThanOrEqual($(249.9));
    expect(cur.a!).toBeLessThanOrEqual($(250));
    expect(cur.b!).toBeGreaterThanOrEqual($(5) - 10_000);
    expect(cur.a!).toBeGreaterThan(cur.c!);
    expect(cur.c!).toBeGreaterThan(cur.b!);
  });
});
