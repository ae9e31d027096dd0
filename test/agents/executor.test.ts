import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createExecutor } from '../../src/agents/executor.ts';
import { startAgents } from '../../src/core/agent.ts';
import { channels } from '../../src/core/channels.ts';
import type { Leg, RiskDecision, Venue } from '../../src/core/messages.ts';
import { constantLatency } from '../../src/execution/latency.ts';
import { createPaperClient } from '../../src/execution/paper-client.ts';
import type { ExecutionClient, OrderReport } from '../../src/execution/types.ts';
import { $, book, type Harness, harness, leg, market, sh } from '../risk/fixtures.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

let k = 0;
function decision(legs: Leg[], over: Partial<RiskDecision> = {}): RiskDecision {
  k++;
  return {
    type: 'risk_decision',
    id: `d-${k}`,
    requestId: `r-${k}`,
    strategy: 's1',
    verdict: 'approve',
    rule: 'ok',
    reason: '',
    legs,
    tif: 'IOC',
    decidedAt: 0,
    ...over,
  };
}

async function setup(latencyMs = 50) {
  h = await harness([createExecutor({ latencyMs, gtcTtlMs: 10_000 })]);
  const out = {
    fills: h.collect(channels.fills),
    orders: h.collect(channels.orders),
    reports: h.collect(channels.executions),
  };
  for (const id of ['m1', 'm2']) await h.publish(channels.markets('polymarket'), market('polymarket', id));
  await h.publish(
    channels.books('polymarket'),
    book(
      'polymarket',
      'm1',
      'm1-yes',
      [[0.4, 100]],
      [
        [0.45, 10],
        [0.5, 10],
      ],
    ),
  );
  await h.publish(
    channels.books('polymarket'),
    book('polymarket', 'm2', 'm2-yes', [[0.3, 100]], [[0.48, 4]]),
  );
  return { h, ...out };
}

describe('executor agent (paper)', () => {
  it('fills after the latency against the book as it is then', async () => {
    const { h, fills, reports, orders } = await setup();
    await h.publish(channels.riskDecisions, decision([leg('polymarket', 'm1', 'buy', 0.5, 15)]));
    expect(fills).toHaveLength(0);
    // the book moves during the 50 ms latency
    await h.publish(
      channels.books('polymarket'),
      book(
        'polymarket',
        'm1',
        'm1-yes',
        [[0.4, 100]],
        [
          [0.47, 5],
          [0.49, 20],
        ],
      ),
    );
    h.clock.advanceTo(h.clock.now() + 50);
    await h.settle();
    expect(fills.map((f) => [f.price, f.shares])).toEqual([
      [$(0.47), sh(5)],
      [$(0.49), sh(10)],
    ]);
    expect(orders.at(-1)).toMatchObject({ status: 'filled', filledShares: sh(15) });
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ status: 'filled', fills: 2, legRiskCost: 0, fees: 0 });
  });

  it('unwinds the excess of a leg when the other leg fills short, and records the leg-risk cost', async () => {
    const { h, fills, reports } = await setup(0);
    await h.publish(
      channels.riskDecisions,
      decision([leg('polymarket', 'm1', 'buy', 0.5, 10), leg('polymarket', 'm2', 'buy', 0.5, 10)]),
    );
    // leg 0: 10 @ 0.45; leg 1: only 4 @ 0.48; excess 6 of leg 0 sold into the 0.40 bid
    expect(fills.map((f) => [f.tokenId, f.side, f.price, f.shares, f.kind])).toEqual([
      ['m1-yes', 'buy', $(0.45), sh(10), 'trade'],
      ['m2-yes', 'buy', $(0.48), sh(4), 'trade'],
      ['m1-yes', 'sell', $(0.4), sh(6), 'unwind'],
    ]);
    expect(reports).toHaveLength(1);
    // 6 × 0.45 − 6 × 0.40 = 0.30
    expect(reports[0]).toMatchObject({ status: 'unwound', fills: 3, legRiskCost: $(0.3) });
  });

  it('FOK trades nothing unless every leg fills in full', async () => {
    const { h, fills, reports } = await setup(0);
    await h.publish(
      channels.riskDecisions,
      decision([leg('polymarket', 'm1', 'buy', 0.5, 10), leg('polymarket', 'm2', 'buy', 0.5, 10)], {
        tif: 'FOK',
      }),
    );
    expect(fills).toHaveLength(0);
    expect(reports[0]).toMatchObject({ status: 'rejected', fills: 0 });
    await h.publish(
      channels.riskDecisions,
      decision([leg('polymarket', 'm1', 'buy', 0.5, 20)], { tif: 'FOK' }),
    );
    expect(fills).toHaveLength(2);
    expect(reports[1]).toMatchObject({ status: 'filled' });
  });

  it('a redelivered decision never fills twice', async () => {
    const { h, fills, reports } = await setup(0);
    const d = decision([leg('polymarket', 'm1', 'buy', 0.5, 5)]);
    await h.publish(channels.riskDecisions, d);
    await h.publish(channels.riskDecisions, { ...d, id: 'again' });
    expect(fills).toHaveLength(1);
    expect(reports).toHaveLength(1);
  });

  it('sells need inventory: no naked short, a sell is cut to what is held', async () => {
    const { h, fills, reports } = await setup(0);
    await h.publish(channels.riskDecisions, decision([leg('polymarket', 'm1', 'sell', 0.3, 10)]));
    expect(fills).toHaveLength(0);
    expect(reports[0]).toMatchObject({ status: 'failed' });
    await h.publish(channels.riskDecisions, decision([leg('polymarket', 'm1', 'buy', 0.45, 6)]));
    await h.publish(channels.riskDecisions, decision([leg('polymarket', 'm1', 'sell', 0.3, 10)]));
    expect(fills.at(-1)).toMatchObject({ side: 'sell', shares: sh(6), price: $(0.4) });
    expect(reports.at(-1)).toMatchObject({ status: 'partial' });
  });

  it('GTC rests and fills as maker when a later book crosses it, then reports once', async () => {
    const { h, fills, reports, orders } = await setup(0);
    await h.publish(
      channels.riskDecisions,
      decision([leg('polymarket', 'm1', 'buy', 0.42, 10)], { tif: 'GTC' }),
    );
    expect(fills).toHaveLength(0);
    expect(reports).toHaveLength(0);
    expect(orders.at(-1)).toMatchObject({ status: 'acknowledged' });
    await h.publish(
      channels.books('polymarket'),
      book('polymarket', 'm1', 'm1-yes', [[0.4, 100]], [[0.41, 4]]),
    );
    expect(fills.at(-1)).toMatchObject({ price: $(0.42), shares: sh(4), liquidity: 'maker' });
    await h.publish(
      channels.books('polymarket'),
      book('polymarket', 'm1', 'm1-yes', [[0.4, 100]], [[0.42, 30]]),
    );
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ status: 'filled', fills: 2 });
  });

  it('GTC expires after its time to live', async () => {
    const { h, reports, orders } = await setup(0);
    await h.publish(
      channels.riskDecisions,
      decision([leg('polymarket', 'm1', 'buy', 0.42, 10)], { tif: 'GTC' }),
    );
    h.clock.advanceTo(h.clock.now() + 10_000);
    await h.settle();
    expect(orders.at(-1)).toMatchObject({ status: 'expired' });
    expect(reports[0]).toMatchObject({ status: 'failed' });
  });

  it('settles inventory when the market resolves', async () => {
    const { h, fills } = await setup(0);
    await h.publish(channels.riskDecisions, decision([leg('polymarket', 'm1', 'buy', 0.45, 10)]));
    await h.publish(channels.resolutions, {
      type: 'resolution',
      venue: 'polymarket',
      marketId: 'm1',
      winner: 'm1-yes',
      receiveTime: 0,
    });
    expect(fills.at(-1)).toMatchObject({
      kind: 'settlement',
      side: 'sell',
      price: $(1),
      shares: sh(10),
      fee: 0,
    });
  });

  it('stopping drops decisions still waiting out the latency', async () => {
    const { h, fills } = await setup(50);
    await h.publish(channels.riskDecisions, decision([leg('polymarket', 'm1', 'buy', 0.5, 5)]));
    await h.stop();
    expect(() => h.clock.advanceTo(h.clock.now() + 1_000)).not.toThrow();
    expect(fills).toHaveLength(0);
  });

  it('refuses a malformed decision without trading or failing', async () => {
    const { h, fills, reports } = await setup(0);
    await h.publish(channels.riskDecisions, decision([null as never]));
    await h.publish(
      channels.riskDecisions,
      decision([{ ...leg('polymarket', 'm1', 'buy', 0.5, 5), shares: -1 }]),
    );
    expect(fills).toHaveLength(0);
    expect(reports.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('HALT_ALL rejects new decisions', async () => {
    const { h, fills, reports } = await setup(0);
    await h.publish(channels.system, {
      type: 'system',
      command: 'HALT_ALL',
      reason: 't',
      issuedBy: 't',
      issuedAt: 0,
    });
    await h.publish(channels.riskDecisions, decision([leg('polymarket', 'm1', 'buy', 0.45, 10)]));
    expect(fills).toHaveLength(0);
    expect(reports[0]).toMatchObject({ status: 'rejected' });
  });
});

describe('executor: multi-leg property', () => {
  it('after a two-leg group the legs hold equal shares (the excess is unwound) and one report is sent', async () => {
    const depth = fc.array(fc.tuple(fc.integer({ min: 30, max: 60 }), fc.integer({ min: 1, max: 40 })), {
      maxLength: 4,
    });
    await fc.assert(
      fc.asyncProperty(depth, depth, fc.integer({ min: 5, max: 80 }), async (a1, a2, shares) => {
        const hh = await harness([createExecutor({ latencyMs: 0 })]);
        try {
          const fills = hh.collect(channels.fills);
          const reports = hh.collect(channels.executions);
          for (const id of ['m1', 'm2'])
            await hh.publish(channels.markets('polymarket'), market('polymarket', id));
          const asks = (ls: [number, number][]) =>
            [...new Map(ls).entries()]
              .sort((x, y) => x[0] - y[0])
              .map(([p, s]) => [p / 100, s] as [number, number]);
          await hh.publish(
            channels.books('polymarket'),
            book('polymarket', 'm1', 'm1-yes', [[0.2, 10_000]], asks(a1)),
          );
          await hh.publish(
            channels.books('polymarket'),
            book('polymarket', 'm2', 'm2-yes', [[0.2, 10_000]], asks(a2)),
          );
          await hh.publish(
            channels.riskDecisions,
            decision([
              leg('polymarket', 'm1', 'buy', 0.6, shares),
              leg('polymarket', 'm2', 'buy', 0.6, shares),
            ]),
          );
          const held = (tok: string) =>
            fills
              .filter((f) => f.tokenId === tok)
              .reduce((s, f) => s + (f.side === 'buy' ? f.shares : -f.shares), 0);
          expect(held('m1-yes')).toBe(held('m2-yes'));
          expect(held('m1-yes')).toBeLessThanOrEqual(sh(shares));
          expect(reports).toHaveLength(1);
          expect(reports[0]!.legRiskCost).toBeGreaterThanOrEqual(0);
        } finally {
          await hh.stop();
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('executor: venues, latency and faults', () => {
  async function twoVenues(seed: number) {
    const hh = await harness([createExecutor({ seed })]);
    const fills = hh.collect(channels.fills);
    const orders = hh.collect(channels.orders);
    const t0 = hh.clock.now();
    await hh.publish(channels.markets('polymarket'), market('polymarket', 'm1'));
    await hh.publish(channels.markets('kalshi'), market('kalshi', 'k1'));
    await hh.publish(
      channels.books('polymarket'),
      book('polymarket', 'm1', 'm1-yes', [[0.3, 50]], [[0.45, 50]]),
    );
    await hh.publish(channels.books('kalshi'), book('kalshi', 'k1', 'k1-yes', [[0.3, 50]], [[0.46, 50]]));
    await hh.publish(
      channels.riskDecisions,
      decision([leg('polymarket', 'm1', 'buy', 0.5, 5), leg('kalshi', 'k1', 'buy', 0.5, 5)]),
    );
    hh.clock.advanceTo(t0 + 1_000);
    await hh.settle();
    await hh.stop();
    return {
      fills: fills.map((f) => ({
        venue: f.venue,
        at: f.ts - t0,
        price: f.price,
        shares: f.shares,
        id: f.id,
      })),
      orders,
    };
  }

  it('legs reach their venues after independent seeded latencies; the same seed repeats exactly', async () => {
    const a = await twoVenues(3);
    const b = await twoVenues(3);
    const c = await twoVenues(4);
    expect(a.fills).toHaveLength(2);
    expect(b.fills.map(({ id, ...f }) => f)).toEqual(a.fills.map(({ id, ...f }) => f));
    const [p, q] = [
      a.fills.find((f) => f.venue === 'polymarket')!,
      a.fills.find((f) => f.venue === 'kalshi')!,
    ];
    expect(p.at).not.toBe(q.at);
    for (const f of [...a.fills, ...c.fills]) expect(f.at).toBeLessThanOrEqual(200);
    expect(c.fills.map((f) => f.at)).not.toEqual(a.fills.map((f) => f.at));
    // orders carry our client order id and, once the venue has it, the venue's id
    const done = a.orders.filter((o) => o.status === 'filled');
    expect(done.map((o) => o.id.replace(/^r-\d+/, 'r')).sort()).toEqual(['r.0', 'r.1']);
    expect(done.every((o) => typeof o.venueOrderId === 'string')).toBe(true);
  });

  it("records per leg how long it was exposed, from the injected clock: to the other leg's fill, or to the unwind fill", async () => {
    // the seeded latencies put the legs at their venues at different times; Kalshi has 3 of the 5 shares, so the
    // Polymarket leg's excess of 2 is unwound after both legs are done
    const hh = await harness([createExecutor({ seed: 3 })]);
    try {
      const fills = hh.collect(channels.fills);
      const reports = hh.collect(channels.executions);
      const t0 = hh.clock.now();
      await hh.publish(channels.markets('polymarket'), market('polymarket', 'm1'));
      await hh.publish(channels.markets('kalshi'), market('kalshi', 'k1'));
      await hh.publish(
        channels.books('polymarket'),
        book('polymarket', 'm1', 'm1-yes', [[0.3, 50]], [[0.45, 50]]),
      );
      await hh.publish(channels.books('kalshi'), book('kalshi', 'k1', 'k1-yes', [[0.3, 50]], [[0.46, 3]]));
      await hh.publish(
        channels.riskDecisions,
        decision([leg('polymarket', 'm1', 'buy', 0.5, 5), leg('kalshi', 'k1', 'buy', 0.5, 5)]),
      );
      hh.clock.advanceTo(t0 + 2_000);
      await hh.settle();
      const at = (venue: Venue, kind: 'trade' | 'unwind') =>
        fills.find((f) => f.venue === venue && f.kind === kind)!.ts;
      const [tp, tk, tu] = [at('polymarket', 'trade'), at('kalshi', 'trade'), at('polymarket', 'unwind')];
      expect(tp).not.toBe(tk);
      expect(tu).toBeGreaterThan(Math.max(tp, tk));
      expect(reports).toHaveLength(1);
      expect(reports[0]).toMatchObject({ status: 'unwound' });
      // leg 0 (Polymarket) was exposed until its excess was sold back; leg 1 (Kalshi) until both legs had filled
      expect(reports[0]!.legExposureMs).toEqual([tu - tp, Math.max(tp, tk) - tk]);
      expect(reports[0]!.legExposureMs![0]).toBeGreaterThan(0);

      // a leg that fills nothing held no risk: null; the other leg was exposed until its unwind filled
      await hh.publish(channels.books('kalshi'), book('kalshi', 'k1', 'k1-yes', [[0.3, 50]], [[0.9, 50]]));
      const t1 = hh.clock.now();
      await hh.publish(
        channels.riskDecisions,
        decision([leg('polymarket', 'm1', 'buy', 0.5, 5), leg('kalshi', 'k1', 'buy', 0.5, 5)]),
      );
      hh.clock.advanceTo(t1 + 2_000);
      await hh.settle();
      expect(reports).toHaveLength(2);
      const later = fills.filter((f) => f.ts >= t1 && f.venue === 'polymarket');
      const [bought, sold] = [
        later.find((f) => f.kind === 'trade')!,
        later.find((f) => f.kind === 'unwind')!,
      ];
      expect(reports[1]).toMatchObject({ status: 'unwound', legExposureMs: [sold.ts - bought.ts, null] });

      // a single leg has no leg risk: no field
      await hh.publish(channels.riskDecisions, decision([leg('polymarket', 'm1', 'buy', 0.5, 1)]));
      hh.clock.advanceTo(hh.clock.now() + 2_000);
      await hh.settle();
      expect(reports).toHaveLength(3);
      expect(reports[2]!.legExposureMs).toBeUndefined();
    } finally {
      await hh.stop();
    }
  });

  it('an execution report that breaks the order state machine faults the executor and halts trading', async () => {
    let listener: ((r: OrderReport) => void) | undefined;
    const evil: ExecutionClient = {
      venue: 'polymarket',
      mode: 'paper',
      submit(q) {
        // more shares filled than ordered: impossible
        listener?.({
          clientOrderId: q.clientOrderId,
          venue: 'polymarket',
          status: 'filled',
          fill: {
            fillId: 'x',
            price: q.limitPrice,
            shares: q.shares * 2,
            fee: 0,
            liquidity: 'taker',
            settlement: 'confirmed',
          },
          ts: 0,
        });
        return Promise.resolve();
      },
      cancel: () => Promise.resolve(),
      cancelAll: () => Promise.resolve(),
      status: () => Promise.resolve(undefined),
      onReport(l) {
        listener = l;
        return () => {};
      },
    };
    h = await harness([createExecutor({ clients: () => new Map([['polymarket', evil]]) })]);
    const system = h.collect(channels.system);
    const dead = h.collect(channels.deadLetter(channels.riskDecisions));
    const fills = h.collect(channels.fills);
    await h.publish(channels.riskDecisions, decision([leg('polymarket', 'm1', 'buy', 0.5, 5)]));
    expect(fills).toHaveLength(0);
    expect(dead).toMatchObject([
      { group: 'executor', error: expect.stringMatching(/^ExecutionInvariantError: .*fills of/) },
    ]);
    expect(system).toMatchObject([
      { command: 'HALT_ALL', reason: expect.stringMatching(/^fault in executor/) },
    ]);
  });
});

describe('executor: halts', () => {
  it('HALT_ALL cancels a resting order, and its group reports why', async () => {
    const { h, reports, orders } = await setup(0);
    await h.publish(
      channels.riskDecisions,
      decision([leg('polymarket', 'm1', 'buy', 0.42, 10)], { tif: 'GTC' }),
    );
    expect(orders.at(-1)).toMatchObject({ status: 'acknowledged' });
    await h.publish(channels.system, {
      type: 'system',
      command: 'HALT_ALL',
      reason: 't',
      issuedBy: 't',
      issuedAt: 0,
    });
    expect(orders.at(-1)).toMatchObject({ status: 'cancelled' });
    expect(reports).toMatchObject([{ status: 'failed', reason: 'HALT_ALL' }]);
  });

  it('a faulted executor cancels its own open orders (it ignores the HALT_ALL it sent)', async () => {
    let listener: ((r: OrderReport) => void) | undefined;
    const broken: ExecutionClient = {
      venue: 'kalshi',
      mode: 'paper',
      submit(q) {
        listener?.({ clientOrderId: q.clientOrderId, venue: 'kalshi', status: 'acknowledged', ts: 0 });
        listener?.({ clientOrderId: q.clientOrderId, venue: 'kalshi', status: 'rejected', ts: 0 });
        return Promise.resolve();
      },
      cancel: () => Promise.resolve(),
      cancelAll: () => Promise.resolve(),
      status: () => Promise.resolve(undefined),
      onReport(l) {
        listener = l;
        return () => {};
      },
    };
    h = await harness([
      createExecutor({
        clients: (rt) =>
          new Map<Venue, ExecutionClient>([
            [
              'polymarket',
              createPaperClient({ venue: 'polymarket', clock: rt.clock, latency: constantLatency(0) }),
            ],
            ['kalshi', broken],
          ]),
      }),
    ]);
    const orders = h.collect(channels.orders);
    const system = h.collect(channels.system);
    await h.publish(channels.markets('polymarket'), market('polymarket', 'm1'));
    await h.publish(
      channels.books('polymarket'),
      book('polymarket', 'm1', 'm1-yes', [[0.4, 100]], [[0.45, 10]]),
    );
    await h.publish(
      channels.riskDecisions,
      decision([leg('polymarket', 'm1', 'buy', 0.42, 10)], { tif: 'GTC' }),
    );
    expect(orders.at(-1)).toMatchObject({ venue: 'polymarket', status: 'acknowledged' });
    // acknowledged → rejected is impossible: the executor faults
    await h.publish(channels.riskDecisions, decision([leg('kalshi', 'k1', 'buy', 0.5, 1)]));
    expect(system).toMatchObject([
      { command: 'HALT_ALL', reason: expect.stringContaining('acknowledged to rejected') },
    ]);
    expect(orders.filter((o) => o.venue === 'polymarket').at(-1)).toMatchObject({ status: 'cancelled' });
  });
});

describe('an executor started after the markets were published (a restart, a standby taking over)', () => {
  it('knows them from the bus history and fills', async () => {
    h = await harness([]);
    await h.publish(channels.markets('polymarket'), market('polymarket', 'm1'));
    const fills = h.collect(channels.fills);
    const started = await startAgents(h.kernel, [createExecutor({ latencyMs: 0 })], {
      heartbeatMs: 3_600_000,
    });
    try {
      await h.publish(
        channels.books('polymarket'),
        book('polymarket', 'm1', 'm1-yes', [[0.4, 100]], [[0.45, 10]]),
      );
      await h.publish(channels.riskDecisions, decision([leg('polymarket', 'm1', 'buy', 0.5, 5)]));
      h.clock.advanceTo(h.clock.now() + 10);
      await h.settle();
      expect(fills.map((f) => [f.tokenId, f.shares])).toEqual([['m1-yes', sh(5)]]);
    } finally {
      await started.stop();
    }
  });
});
