import { afterEach, describe, expect, it } from 'vitest';
import {
  assertWithinRequest,
  createRiskGuardian,
  RiskInvariantError,
} from '../../src/agents/risk-guardian.ts';
import { startAgents } from '../../src/core/agent.ts';
import { channels } from '../../src/core/channels.ts';
import type { Config } from '../../src/core/config.ts';
import {
  $,
  book,
  config,
  type Harness,
  harness,
  leg,
  market,
  request,
  sh,
  wideLimits,
} from '../risk/fixtures.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function setup(opts: Parameters<typeof createRiskGuardian>[0] = {}, cfg: Config = config) {
  const guardian = createRiskGuardian(opts);
  h = await harness([guardian], cfg);
  const decisions = h.collect(channels.riskDecisions);
  await h.publish(channels.markets('polymarket'), market('polymarket', 'm1'));
  // the guardian judges freshness from the books it has seen itself
  await h.publish(
    channels.books('polymarket'),
    book('polymarket', 'm1', 'm1-yes', [[0.39, 100]], [[0.4, 100]]),
  );
  return { h, guardian, decisions };
}

// $10 at risk each: 25 shares at 0.40; edge $0.50 = 500 bps
const tenDollars = () => request([leg('polymarket', 'm1', 'buy', 0.4, 25)], { expectedEdge: $(0.5) });

describe('risk guardian agent', () => {
  it('decides every request once, with the rule and a reason', async () => {
    const { h, decisions } = await setup();
    const r = tenDollars();
    await h.publish(channels.tradeRequests, r);
    await h.publish(channels.tradeRequests, r); // redelivery
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ requestId: r.id, verdict: 'approve', rule: 'ok', strategy: 's1' });
    expect(decisions[0]!.legs[0]!.shares).toBe(sh(25));
  });

  it('a burst cannot exceed the per-market limit: approvals reserve exposure until their report', async () => {
    const { h, decisions } = await setup({}, wideLimits);
    const burst = Array.from({ length: 6 }, tenDollars);
    for (const r of burst) h.bus.publish(channels.tradeRequests, r);
    await h.settle();
    expect(decisions.map((d) => d.verdict)).toEqual([
      'approve',
      'approve',
      'approve',
      'approve',
      'approve',
      'reject',
    ]);
    expect(decisions[5]!.rule).toBe('position_limit');
    // the first request's report frees its reservation (nothing filled)
    await h.publish(channels.executions, {
      type: 'execution_report',
      id: 'e1',
      requestId: burst[0]!.id,
      strategy: 's1',
      status: 'failed',
      fills: 0,
      legRiskCost: 0,
      fees: 0,
      ts: 0,
    });
    await h.publish(channels.tradeRequests, tenDollars());
    expect(decisions.at(-1)!.verdict).toBe('approve');
  });

  it('HALT_ALL rejects everything until RESUME', async () => {
    const { h, decisions } = await setup();
    await h.publish(channels.system, {
      type: 'system',
      command: 'HALT_ALL',
      reason: 'test',
      issuedBy: 't',
      issuedAt: 0,
    });
    await h.publish(channels.tradeRequests, tenDollars());
    expect(decisions.at(-1)).toMatchObject({ verdict: 'reject', rule: 'kill_switch' });
    await h.publish(channels.system, {
      type: 'system',
      command: 'RESUME',
      reason: 'test',
      issuedBy: 't',
      issuedAt: 0,
    });
    await h.publish(channels.tradeRequests, tenDollars());
    expect(decisions.at(-1)).toMatchObject({ verdict: 'approve' });
  });

  it('caps a strategy at its allocation from channels.allocations', async () => {
    const { h, decisions } = await setup();
    await h.publish(channels.allocations, {
      type: 'allocation',
      allocations: { s1: $(4), s2: $(100) },
      scores: {},
      ts: 0,
    });
    // 25 at 0.40 is $10 of capital: cut to the $100 allocation's capital? no, within it; 25 shares swing $25
    await h.publish(
      channels.tradeRequests,
      request([leg('polymarket', 'm1', 'buy', 0.4, 25)], { strategy: 's2' }),
    );
    expect(decisions.at(-1)).toMatchObject({ verdict: 'approve', rule: 'ok' });
    // s1: $4 of capital is 10 shares at 0.40; a binary swings its share count ($10), so its allocation allows 4
    // shares, below the market's 5-share minimum
    await h.publish(channels.tradeRequests, tenDollars());
    expect(decisions.at(-1)).toMatchObject({ verdict: 'reject', rule: 'strategy_loss_budget' });
    expect(decisions.at(-1)!.reason).toMatch(/allocation \$4 bounds that swing; no size fits/);
  });

  it('a strategy on probation cannot spend the whole drawdown budget: a cheap binary swings its share count', async () => {
    // $25 probation of $500, 20% drawdown limit: before, 200 cheap shares ($26 of capital) could swing $200
    const { h, decisions } = await setup({ probationAllocation: $(25) });
    await h.publish(channels.markets('polymarket'), market('polymarket', 'm2'));
    await h.publish(
      channels.books('polymarket'),
      book('polymarket', 'm2', 'm2-yes', [[0.12, 500]], [[0.13, 500]]),
    );
    await h.publish(
      channels.books('polymarket'),
      book('polymarket', 'm2', 'm2-no', [[0.86, 500]], [[0.87, 500]]),
    );
    await h.publish(
      channels.tradeRequests,
      request([leg('polymarket', 'm2', 'buy', 0.13, 190)], { strategy: 'sniper', expectedEdge: $(20) }),
    );
    expect(decisions.at(-1)).toMatchObject({ verdict: 'reduce', rule: 'strategy_loss_budget' });
    expect(decisions.at(-1)!.legs[0]!.shares).toBe(sh(25));
    // another strategy still finds room in the book's drawdown budget
    await h.publish(
      channels.tradeRequests,
      request([leg('polymarket', 'm2', 'buy', 0.13, 10), leg('polymarket', 'm2', 'buy', 0.87, 10, 'no')], {
        strategy: 'arb',
        expectedEdge: $(0.1),
      }),
    );
    expect(decisions.at(-1)).toMatchObject({ verdict: 'approve', rule: 'ok' });
  });

  it('rejects garbage with a reason and keeps running', async () => {
    const { h, decisions, guardian } = await setup();
    await h.publish(channels.tradeRequests, {
      type: 'trade_request',
      id: 'bad',
      strategy: 's1',
      legs: [null],
    } as never);
    await h.publish(channels.tradeRequests, request([leg('polymarket', 'm1', 'buy', 1.2, 10)]));
    await h.publish(channels.tradeRequests, request([leg('kalshi', 'nope', 'buy', 0.5, 10)]));
    expect(decisions.map((d) => [d.verdict, d.rule])).toEqual([
      ['reject', 'invalid_request'],
      ['reject', 'invalid_request'],
      ['reject', 'unknown_market'],
    ]);
    await h.publish(channels.tradeRequests, tenDollars());
    expect(decisions.at(-1)!.verdict).toBe('approve');
    expect(guardian.health?.()).toMatchObject({ requests: 4, approved: 1, rejected: 3 });
  });

  it('restores from a snapshot', async () => {
    const first = await setup();
    await first.h.publish(channels.tradeRequests, tenDollars());
    const snap = JSON.parse(JSON.stringify(first.guardian.snapshot()));
    await first.h.stop();
    const second = await setup({ initial: snap });
    expect(second.guardian.portfolio!.marketExposure('polymarket', 'm1')).toBe($(10));
    expect(second.guardian.portfolio!.openOrders).toBe(1);
  });

  it('a halt restored from state holds until RESUME', async () => {
    const first = await setup();
    await first.h.publish(channels.system, {
      type: 'system',
      command: 'HALT_ALL',
      reason: 't',
      issuedBy: 't',
      issuedAt: 0,
    });
    const snap = JSON.parse(JSON.stringify(first.guardian.snapshot()));
    expect(snap.killSwitch).toBe(true);
    await first.h.stop();
    const second = await setup({ initial: snap });
    await second.h.publish(channels.tradeRequests, tenDollars());
    expect(second.decisions.at(-1)).toMatchObject({ verdict: 'reject', rule: 'kill_switch' });
    await second.h.publish(channels.system, {
      type: 'system',
      command: 'RESUME',
      reason: 't',
      issuedBy: 't',
      issuedAt: 0,
    });
    await second.h.publish(channels.tradeRequests, tenDollars());
    expect(second.decisions.at(-1)).toMatchObject({ verdict: 'approve' });
  });
});

describe('risk guardian invariant', () => {
  it('an approval larger than the request, on other legs or at a worse limit is a broken invariant', () => {
    const req = request([leg('polymarket', 'm1', 'buy', 0.5, 10), leg('kalshi', 'k1', 'sell', 0.4, 10)]);
    expect(() => assertWithinRequest(req, req.legs)).not.toThrow();
    const [a, b] = req.legs as [(typeof req.legs)[number], (typeof req.legs)[number]];
    expect(() => assertWithinRequest(req, [{ ...a, shares: sh(5) }, b])).not.toThrow();
    for (const bad of [
      [{ ...a, shares: sh(11) }, b],
      [{ ...a, limitPrice: $(0.51) }, b],
      [a, { ...b, limitPrice: $(0.39) }],
      [a, { ...b, tokenId: 'k1-no' }],
      [a],
    ])
      expect(() => assertWithinRequest(req, bad)).toThrow(RiskInvariantError);
  });
});

describe('a risk guardian started after the markets were published (a restart)', () => {
  it('knows them from the bus history: its requests are decided on the rules, not rejected as unknown', async () => {
    h = await harness([], wideLimits);
    // the feeds publish each market once, before this guardian's subscription exists
    await h.publish(channels.markets('polymarket'), market('polymarket', 'm1'));
    const decisions = h.collect(channels.riskDecisions);
    const guardian = createRiskGuardian();
    const started = await startAgents(h.kernel, [guardian], { heartbeatMs: 3_600_000 });
    try {
      await h.publish(
        channels.books('polymarket'),
        book('polymarket', 'm1', 'm1-yes', [[0.39, 100]], [[0.4, 100]]),
      );
      await h.publish(channels.tradeRequests, tenDollars());
      expect(decisions.at(-1)).toMatchObject({ verdict: 'approve', rule: 'ok' });
    } finally {
      await started.stop();
    }
  });
});
