import { describe, expect, it } from 'vitest';
import { createStrategyRunnerAgent } from '../../src/agents/strategy-runner.ts';
import { startAgents } from '../../src/core/agent.ts';
import { channels } from '../../src/core/channels.ts';
import type { Opportunity } from '../../src/core/messages.ts';
import { record, testKernel } from '../scanner/kernel.ts';

const opp = (id: string, extra: Partial<Opportunity> = {}): Opportunity => ({
  type: 'opportunity',
  id,
  kind: 'cross_venue',
  legs: [
    {
      venue: 'polymarket',
      marketId: 'pmA',
      tokenId: 'pmA-Y',
      side: 'buy',
      limitPrice: 400_000,
      shares: 100_000_000,
    },
    {
      venue: 'kalshi',
      marketId: 'KXB',
      tokenId: 'KXB:no',
      side: 'buy',
      limitPrice: 550_000,
      shares: 100_000_000,
    },
  ],
  edge: 2_300_000,
  edgeBps: 241,
  cost: 97_700_000,
  fees: 2_700_000,
  shares: 100_000_000,
  signal: 0.24,
  detectedAt: 1_000,
  expiresAt: 3_000,
  data: [{ key: 'polymarket:pmA-Y', receiveTime: 1_000 }],
  ...extra,
});

async function setup() {
  const k = testKernel();
  const reqs = record(k, channels.tradeRequests);
  // sizing against the allocation; the probation slices (allocation ÷ bundles needed) are tested in plugins.test.ts
  const run = await startAgents(k, [createStrategyRunnerAgent({ probationBundles: 1 })]);
  return { k, reqs, run };
}

describe('strategy runner agent on the in-process bus', () => {
  it('turns an opportunity into one equal-share group request', async () => {
    const { k, reqs, run } = await setup();
    k.bus.publish(channels.opportunities, opp('o1'));
    await k.bus.idle();
    expect(reqs).toHaveLength(1);
    expect(reqs[0]).toMatchObject({
      type: 'trade_request',
      id: 'req-t-1',
      strategy: 'cross-venue-arb',
      opportunityId: 'o1',
      kind: 'cross_venue',
      tif: 'FOK',
      expectedEdge: 2_300_000,
      createdAt: 1_000,
    });
    expect(reqs[0]!.legs.map((l) => l.shares)).toEqual([100_000_000, 100_000_000]);
    await run.stop();
  });

  it('sizes down to the allocation, keeping legs equal and scaling the edge', async () => {
    const { k, reqs, run } = await setup();
    k.bus.publish(channels.allocations, {
      type: 'allocation',
      allocations: { 'cross-venue-arb': 48_850_000 },
      scores: {},
      ts: 1_000,
    });
    k.bus.publish(channels.opportunities, opp('o2'));
    await k.bus.idle();
    // 48.85 / 97.70 of 100 shares = 50 shares; edge 2.30 × 50/100
    expect(reqs[0]!.legs.map((l) => l.shares)).toEqual([50_000_000, 50_000_000]);
    expect(reqs[0]!.expectedEdge).toBe(1_150_000);
    await run.stop();
  });

  it('counts open positions of the strategy against its allocation', async () => {
    const { k, reqs, run } = await setup();
    k.bus.publish(channels.allocations, {
      type: 'allocation',
      allocations: { 'cross-venue-arb': 100_000_000 },
      scores: {},
      ts: 1_000,
    });
    const pos = (shares: number, costBasis: number) => ({
      type: 'position' as const,
      venue: 'kalshi' as const,
      marketId: 'KXOTHER',
      tokenId: 'KXOTHER:yes',
      strategy: 'cross-venue-arb',
      shares,
      costBasis,
      realizedPnl: 0,
      mark: 500_000,
      unrealizedPnl: 0,
      ts: 1_000,
    });
    k.bus.publish(channels.positions, pos(102_300_000, 51_150_000));
    k.bus.publish(channels.opportunities, opp('p1'));
    await k.bus.idle();
    // 100 − 51.15 = 48.85 left: 50 shares
    expect(reqs[0]!.legs.map((l) => l.shares)).toEqual([50_000_000, 50_000_000]);
    // the request in flight holds its capital (50 × 0.977 = 48.85) until the ledger shows it
    k.bus.publish(channels.positions, pos(0, 0));
    k.clock.advanceTo(2_100);
    k.bus.publish(channels.opportunities, opp('p2', { expiresAt: 9_000 }));
    await k.bus.idle();
    expect(reqs[1]!.legs.map((l) => l.shares)).toEqual([52_000_000, 52_000_000]); // 51.15 / 0.977
    k.bus.publish(channels.executions, {
      type: 'execution_report',
      id: 'x1',
      requestId: reqs[0]!.id,
      strategy: 'cross-venue-arb',
      status: 'filled',
      fills: 2,
      legRiskCost: 0,
      fees: 0,
      ts: 2_200,
    });
    k.bus.publish(channels.riskDecisions, {
      type: 'risk_decision',
      id: 'd2',
      requestId: reqs[1]!.id,
      strategy: 'cross-venue-arb',
      verdict: 'reject',
      rule: 'min_edge',
      reason: 'test',
      legs: [],
      tif: 'FOK',
      decidedAt: 2_200,
    });
    k.bus.publish(channels.positions, { ...pos(0, 0), ts: 2_300 });
    k.clock.advanceTo(4_000);
    k.bus.publish(channels.opportunities, opp('p3', { expiresAt: 9_000 }));
    await k.bus.idle();
    expect(reqs[2]!.legs.map((l) => l.shares)).toEqual([100_000_000, 100_000_000]);
    await run.stop();
  });

  it('honours the cooldown, StrategyControl, expiry and HALT_ALL', async () => {
    const { k, reqs, run } = await setup();
    k.bus.publish(channels.opportunities, opp('o3'));
    k.bus.publish(channels.opportunities, opp('o4')); // same instruments inside the cooldown
    await k.bus.idle();
    expect(reqs.map((r) => r.opportunityId)).toEqual(['o3']);
    k.bus.publish(channels.strategyControl, {
      type: 'strategy_control',
      strategy: 'cross-venue-arb',
      enabled: false,
      issuedAt: 1_000,
    });
    k.clock.advanceTo(2_500);
    k.bus.publish(channels.opportunities, opp('o5', { expiresAt: 9_000 }));
    await k.bus.idle();
    expect(reqs).toHaveLength(1);
    k.bus.publish(channels.strategyControl, {
      type: 'strategy_control',
      strategy: 'cross-venue-arb',
      enabled: true,
      issuedAt: 2_500,
    });
    k.bus.publish(channels.opportunities, opp('o6', { expiresAt: 2_000 })); // expired
    k.bus.publish(channels.opportunities, opp('o7', { expiresAt: 9_000 }));
    await k.bus.idle();
    expect(reqs.map((r) => r.opportunityId)).toEqual(['o3', 'o7']);
    k.bus.publish(channels.system, {
      type: 'system',
      command: 'HALT_ALL',
      reason: 'test',
      issuedBy: 'test',
      issuedAt: 2_500,
    });
    await k.bus.idle();
    k.clock.advanceTo(5_000);
    k.bus.publish(channels.opportunities, opp('o8', { expiresAt: 9_000 }));
    await k.bus.idle();
    expect(reqs).toHaveLength(2);
    await run.stop();
  });

  it('leaves sell-side rebalancing (needs inventory) alone and routes by kind', async () => {
    const { k, reqs, run } = await setup();
    const sell = opp('s1', {
      kind: 'rebalancing',
      legs: opp('x').legs.map((l) => ({ ...l, side: 'sell' as const })),
    });
    k.bus.publish(channels.opportunities, sell);
    k.bus.publish(channels.opportunities, opp('r1', { kind: 'rebalancing' }));
    k.bus.publish(
      channels.opportunities,
      opp('c1', {
        kind: 'combinatorial',
        legs: opp('x').legs.map((l) => ({ ...l, tokenId: `${l.tokenId}-c` })),
      }),
    );
    await k.bus.idle();
    expect(reqs.map((r) => [r.opportunityId, r.strategy])).toEqual([
      ['r1', 'rebalancing-arb'],
      ['c1', 'combinatorial-arb'],
    ]);
    await run.stop();
  });
});
