/**
 * The execution engine and provisional fills (Polymarket MATCHED / MINED before CONFIRMED): a request whose order
 * is terminal with its fills still provisional is not finished. It used to be, and its runs were forgotten, so
 * the CONFIRMED report that followed found no order and the Fill was never published (a live fill lost).
 */
import { describe, expect, it } from 'vitest';
import { createIds } from '../../src/core/agent.ts';
import { wallClock } from '../../src/core/clock.ts';
import type { ExecutionReport, Fill, Order, RiskDecision } from '../../src/core/messages.ts';
import { createExecutionEngine } from '../../src/execution/engine.ts';
import { applyReport, isDone, newOrderState } from '../../src/execution/order-state.ts';
import type { ExecutionClient, FillReport, OrderReport, OrderRequest } from '../../src/execution/types.ts';

const fill = (settlement: FillReport['settlement']): FillReport => ({
  fillId: 'trade-1',
  price: 440_000,
  shares: 5_000_000,
  fee: 0,
  liquidity: 'taker',
  settlement,
});

function scripted() {
  let listener: ((r: OrderReport) => void) | undefined;
  const sent: OrderRequest[] = [];
  const client: ExecutionClient = {
    venue: 'polymarket',
    mode: 'live',
    submit(q) {
      sent.push(q);
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
  const report = (q: OrderRequest, over: Partial<OrderReport>): void =>
    listener!({ clientOrderId: q.clientOrderId, venue: 'polymarket', status: 'filled', ts: 1, ...over });
  return { client, sent, report };
}

const decision: RiskDecision = {
  type: 'risk_decision',
  id: 'rd-1',
  requestId: 'req-1',
  strategy: 's1',
  verdict: 'approve',
  rule: 'ok',
  reason: 'test',
  legs: [
    {
      venue: 'polymarket',
      marketId: 'm1',
      tokenId: 't1',
      side: 'buy',
      limitPrice: 450_000,
      shares: 5_000_000,
    },
  ],
  tif: 'IOC',
  decidedAt: 1,
};

describe('execution engine: provisional fills', () => {
  it('publishes the Fill when a provisional fill of a filled order is confirmed, and only then reports the request', () => {
    const s = scripted();
    const fills: Fill[] = [];
    const orders: Order[] = [];
    const reports: ExecutionReport[] = [];
    const engine = createExecutionEngine({
      clients: new Map([['polymarket', s.client]]),
      clock: wallClock(),
      ids: createIds('t'),
      sink: { fill: (f) => fills.push(f), order: (o) => orders.push(o), report: (r) => reports.push(r) },
    });
    engine.decide(decision, false);
    const q = s.sent[0]!;
    // the submit reply: filled at once (an IOC that matched), the trade still only MATCHED
    s.report(q, { venueOrderId: '0xhash', filledShares: 5_000_000 });
    s.report(q, { venueOrderId: '0xhash', fill: fill('provisional') });
    s.report(q, { venueOrderId: '0xhash', fill: fill('provisional') }); // MINED: the same again
    expect(fills).toEqual([]);
    expect(reports).toEqual([]);
    expect(engine.openOrders()).toBe(0);
    // CONFIRMED: the Fill goes out, then the request's report
    s.report(q, { venueOrderId: '0xhash', fill: fill('confirmed') });
    expect(fills).toMatchObject([
      { orderId: q.clientOrderId, price: 440_000, shares: 5_000_000, kind: 'trade' },
    ]);
    expect(reports).toMatchObject([{ requestId: 'req-1', status: 'filled', fills: 1 }]);
    expect(orders.at(-1)).toMatchObject({ status: 'filled', filledShares: 5_000_000 });
  });

  it('a provisional fill that fails on chain: the request is reported failed with no fill, nothing left open', () => {
    const s = scripted();
    const fills: Fill[] = [];
    const reports: ExecutionReport[] = [];
    const engine = createExecutionEngine({
      clients: new Map([['polymarket', s.client]]),
      clock: wallClock(),
      ids: createIds('t'),
      sink: { fill: (f) => fills.push(f), order: () => {}, report: (r) => reports.push(r) },
    });
    engine.decide(decision, false);
    const q = s.sent[0]!;
    // the venue matched the whole order (its size_matched stays 5), then the trade failed on chain
    s.report(q, { venueOrderId: '0xhash', filledShares: 5_000_000 });
    s.report(q, { venueOrderId: '0xhash', fill: fill('provisional') });
    expect(reports).toEqual([]);
    s.report(q, { venueOrderId: '0xhash', fill: fill('failed') });
    expect(fills).toEqual([]);
    expect(reports).toMatchObject([{ requestId: 'req-1', status: 'failed', fills: 0 }]);
    expect(engine.openOrders()).toBe(0);
  });

  it('an order with a provisional fill is not done; confirmed, it is', () => {
    const req: OrderRequest = {
      clientOrderId: 'r.0',
      requestId: 'r',
      legIndex: 0,
      strategy: 's1',
      purpose: 'trade',
      venue: 'polymarket',
      marketId: 'm1',
      tokenId: 't1',
      side: 'buy',
      limitPrice: 450_000,
      shares: 5_000_000,
      type: 'FAK',
    };
    const r = (over: Partial<OrderReport>): OrderReport => ({
      clientOrderId: 'r.0',
      venue: 'polymarket',
      status: 'filled',
      ts: 1,
      ...over,
    });
    const filled = applyReport(newOrderState(req, 0), r({ filledShares: 5_000_000 }));
    expect(isDone(filled)).toBe(false);
    const matched = applyReport(filled, r({ fill: fill('provisional') }));
    expect(isDone(matched)).toBe(false);
    expect(isDone(applyReport(matched, r({ fill: fill('confirmed') })))).toBe(true);
  });
});
