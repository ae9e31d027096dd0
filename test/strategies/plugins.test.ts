import { describe, expect, it } from 'vitest';
import { createIds } from '../../src/core/agent.ts';
import type { Opportunity } from '../../src/core/messages.ts';
import {
  combinatorialArb,
  crossVenueArb,
  DEFAULT_SETTINGS,
  defaultStrategies,
  oracleSniper,
  rebalancingArb,
  sizeProposal,
} from '../../src/strategies/plugins.ts';
import { StrategyRunner } from '../../src/strategies/runner.ts';

const opp = (extra: Partial<Opportunity> = {}): Opportunity => ({
  type: 'opportunity',
  id: 'o',
  kind: 'rebalancing',
  legs: [
    {
      venue: 'kalshi',
      marketId: 'K',
      tokenId: 'K:yes',
      side: 'buy',
      limitPrice: 450_000,
      shares: 100_000_000,
    },
    {
      venue: 'kalshi',
      marketId: 'K',
      tokenId: 'K:no',
      side: 'buy',
      limitPrice: 500_000,
      shares: 100_000_000,
    },
  ],
  edge: 1_510_000,
  edgeBps: 155,
  cost: 98_490_000,
  fees: 3_490_000,
  shares: 100_000_000,
  signal: 0.15,
  detectedAt: 0,
  expiresAt: 2_000,
  data: [],
  ...extra,
});

const ctx = { now: 1_000, capital: 1_000_000_000 };

describe('sizeProposal', () => {
  it('keeps the opportunity as is when it fits', () => {
    expect(sizeProposal(opp(), DEFAULT_SETTINGS, ctx)).toEqual({ legs: opp().legs, expectedEdge: 1_510_000 });
  });

  it('caps shares (equal on every leg) and scales the edge down, floored', () => {
    const p = sizeProposal(opp(), { ...DEFAULT_SETTINGS, maxShares: 33_500_000 }, ctx)!;
    // 33.5 → 33 whole shares; 1.51 × 33/100 = 0.4983
    expect(p.legs.map((l) => l.shares)).toEqual([33_000_000, 33_000_000]);
    expect(p.expectedEdge).toBe(498_300);
  });

  it('fits the capital: cost × shares/opportunity shares ≤ capital', () => {
    const p = sizeProposal(opp(), DEFAULT_SETTINGS, { now: 1_000, capital: 10_000_000 })!;
    // 10 / 98.49 of 100 shares = 10.15 → 10
    expect(p.legs[0]!.shares).toBe(10_000_000);
    expect(sizeProposal(opp(), DEFAULT_SETTINGS, { now: 1_000, capital: 500_000 })).toBeUndefined();
  });

  it('never sizes below the markets’ minimum order size', () => {
    const o = opp({ minShares: 5_000_000 });
    expect(sizeProposal(o, { ...DEFAULT_SETTINGS, maxShares: 4_000_000 }, ctx)).toBeUndefined();
    expect(sizeProposal(o, { ...DEFAULT_SETTINGS, maxShares: 5_000_000 }, ctx)!.legs[0]!.shares).toBe(
      5_000_000,
    );
  });

  it('drops small, thin and expired opportunities', () => {
    expect(sizeProposal(opp(), { ...DEFAULT_SETTINGS, minEdgeBps: 200 }, ctx)).toBeUndefined();
    expect(sizeProposal(opp(), { ...DEFAULT_SETTINGS, minEdge: 2_000_000 }, ctx)).toBeUndefined();
    expect(sizeProposal(opp({ expiresAt: 999 }), DEFAULT_SETTINGS, ctx)).toBeUndefined();
  });
});

describe('plugins', () => {
  it('each trades its own kinds', () => {
    const kinds = defaultStrategies().map((s) => [s.name, s.kinds]);
    expect(kinds).toEqual([
      ['oracle-sniper', ['oracle_lag']],
      ['cross-venue-arb', ['cross_venue']],
      ['rebalancing-arb', ['rebalancing']],
      ['combinatorial-arb', ['combinatorial']],
    ]);
    expect(crossVenueArb().propose(opp(), ctx)).toBeUndefined();
    expect(rebalancingArb().propose(opp(), ctx)).toBeDefined();
    expect(combinatorialArb().propose(opp({ kind: 'combinatorial' }), ctx)).toBeDefined();
  });

  it('the oracle sniper wants a wider edge (200 bps by default)', () => {
    const o = opp({ kind: 'oracle_lag', legs: [opp().legs[0]!], edgeBps: 150 });
    expect(oracleSniper().propose(o, ctx)).toBeUndefined();
    expect(oracleSniper({ minEdgeBps: 100 }).propose(o, ctx)).toBeDefined();
  });

  it('rebalancing leaves sells (they need inventory) unless told otherwise', () => {
    const sell = opp({ legs: opp().legs.map((l) => ({ ...l, side: 'sell' as const })) });
    expect(rebalancingArb().propose(sell, ctx)).toBeUndefined();
    expect(rebalancingArb({ allowInventorySells: true }).propose(sell, ctx)).toBeDefined();
  });
});

describe('StrategyRunner', () => {
  it('uses the default allocation until an Allocation names the strategy, then that one', () => {
    let now = 1_000;
    const r = new StrategyRunner({
      strategies: [rebalancingArb()],
      defaultAllocation: 20_000_000,
      now: () => now,
      ids: createIds('x'),
    });
    expect(r.onOpportunity(opp(), false)[0]!.legs[0]!.shares).toBe(20_000_000);
    r.onAllocation({ type: 'allocation', allocations: { 'rebalancing-arb': 0 }, scores: {}, ts: 0 });
    now = 5_000;
    expect(r.onOpportunity(opp({ expiresAt: 9_000 }), false)).toEqual([]);
    expect(r.onOpportunity(opp({ expiresAt: 9_000 }), true)).toEqual([]);
    expect(r.stats.skippedHalted).toBe(1);
  });

  it('on probation a request uses at most allocation ÷ probationBundles, so the allocation holds that many bundles; full size once proven', () => {
    const r = new StrategyRunner({
      strategies: [rebalancingArb()],
      defaultAllocation: 100_000_000,
      now: () => 1_000,
      ids: createIds('x'),
      probationBundles: 5,
    });
    // $100 ÷ 5 = $20 a request: 20 sets at $0.9849
    const first = r.onOpportunity(opp(), false);
    expect(first[0]!.legs.map((l) => l.shares)).toEqual([20_000_000, 20_000_000]);
    const why = (probation: boolean) => ({
      pnl: 0,
      windowPnl: 0,
      bundles: 5,
      windowClosed: 5,
      sharpe: 0,
      drawdown: 0,
      probation,
      evidence: 1,
      score: 0,
      weight: 0,
      target: 100_000_000,
      allocation: 100_000_000,
      reason: '',
    });
    r.onAllocation({
      type: 'allocation',
      allocations: { 'rebalancing-arb': 100_000_000 },
      scores: {},
      ts: 0,
      explanations: { 'rebalancing-arb': why(false) },
    });
    // out of probation: what is left of the allocation ($100 − the $20 reserved by the first request)
    const other = opp({ legs: opp().legs.map((l) => ({ ...l, tokenId: `${l.tokenId}2` })) });
    expect(r.onOpportunity(other, false)[0]!.legs[0]!.shares).toBe(81_000_000);
  });

  it('ignores controls for strategies it does not host', () => {
    const r = new StrategyRunner({
      strategies: [rebalancingArb()],
      defaultAllocation: 1,
      now: () => 0,
      ids: createIds('x'),
    });
    expect(r.onControl({ type: 'strategy_control', strategy: 'nope', enabled: false, issuedAt: 0 })).toBe(
      false,
    );
    expect(
      r.onControl({ type: 'strategy_control', strategy: 'rebalancing-arb', enabled: false, issuedAt: 0 }),
    ).toBe(true);
    expect(r.isEnabled('rebalancing-arb')).toBe(false);
  });
});
