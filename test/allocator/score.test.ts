import { describe, expect, it } from 'vitest';
import { allocate, DEFAULT_ALLOCATOR, probationAmount, scoreStrategy } from '../../src/allocator/score.ts';
import type { StrategyStats } from '../../src/ledger/performance.ts';
import { $, config } from '../risk/fixtures.ts';

function st(strategy: string, over: Partial<StrategyStats> = {}): StrategyStats {
  return {
    strategy,
    trades: 10,
    wins: 5,
    losses: 5,
    pnl: 0,
    sharpe: 0,
    maxDrawdown: 0,
    windowPnl: 0,
    windowDrawdown: 0,
    windowTrades: 10,
    ...over,
  };
}

const S = DEFAULT_ALLOCATOR;

describe('allocator tournament', () => {
  it('probation is 5% of the bankroll: $25 of $500', () => {
    expect(probationAmount(config)).toBe($(25));
  });

  it('score = sharpe × min(1, trades/minTrades) − ddPenalty × drawdown / allocation', () => {
    // 1.2 × min(1, 2/5) − 1 × $5 / $50 = 0.48 − 0.1
    expect(
      scoreStrategy(st('a', { sharpe: 1.2, windowTrades: 2, windowDrawdown: $(5) }), $(50), $(25), S),
    ).toBeCloseTo(0.38, 12);
    // allocation below probation: divides by the probation amount
    expect(scoreStrategy(st('a', { sharpe: 0, windowDrawdown: $(5) }), $(10), $(25), S)).toBeCloseTo(
      -0.2,
      12,
    );
  });

  it('new strategies (fewer than minTrades trades) get the probation amount', () => {
    const r = allocate([st('new', { trades: 4 })], {}, $(500), S);
    expect(r.allocations).toEqual({ new: $(25) });
  });

  it('moves half-way toward softmax targets, within the bounds', () => {
    // pool $500, one probation strategy ($25) → $475 shared by a (score 1) and b (score 0)
    const stats = [st('a', { sharpe: 1 }), st('b', { sharpe: 0 }), st('c', { trades: 0 })];
    const r = allocate(stats, { a: $(100), b: $(100) }, $(500), S);
    const wa = Math.E / (Math.E + 1);
    const ta = Math.min($(250), Math.floor($(475) * wa)); // capped at 50% = $250
    const tb = Math.floor($(475) * (1 - wa));
    expect(r.allocations.c).toBe($(25));
    expect(r.allocations.a).toBe(Math.floor(($(100) + Math.round(0.5 * (ta - $(100)))) / 10_000) * 10_000);
    expect(r.allocations.b).toBe(Math.floor(($(100) + Math.round(0.5 * (tb - $(100)))) / 10_000) * 10_000);
    expect(r.allocations.a!).toBeGreaterThan(r.allocations.b!);
    expect(r.scores).toMatchObject({ a: 1, b: 0 });
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
