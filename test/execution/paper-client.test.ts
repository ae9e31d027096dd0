import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimClock } from '../../src/core/clock.ts';
import type { TradePrint } from '../../src/core/messages.ts';
import { constantLatency, logNormalLatency } from '../../src/execution/latency.ts';
import { createPaperClient, PAPER_CLOSED_ORDERS } from '../../src/execution/paper-client.ts';
import type { OrderReport, OrderRequest } from '../../src/execution/types.ts';
import { $, book, market, sh } from '../risk/fixtures.ts';

function setup(latencyMs = 0) {
  const clock = new SimClock(1_000);
  const client = createPaperClient({ venue: 'polymarket', clock, latency: constantLatency(latencyMs) });
  const reports: OrderReport[] = [];
  client.onReport((r) => reports.push(r));
  client.onMarketData!(market('polymarket', 'm1'));
  client.onMarketData!(
    book(
      'polymarket',
      'm1',
      'm1-yes',
      [
        [0.42, 30],
        [0.4, 100],
      ],
      [[0.45, 10]],
    ),
  );
  return { clock, client, reports };
}

let n = 0;
function order(over: Partial<OrderRequest> = {}): OrderRequest {
  n++;
  return {
    clientOrderId: `r${n}.0`,
    requestId: `r${n}`,
    legIndex: 0,
    strategy: 's1',
    purpose: 'trade',
    venue: 'polymarket',
    marketId: 'm1',
    tokenId: 'm1-yes',
    side: 'buy',
    limitPrice: $(0.42),
    shares: sh(10),
    type: 'GTC',
    ...over,
  };
}

const trade = (price: number, size: number, side?: 'buy' | 'sell'): TradePrint => ({
  type: 'trade',
  venue: 'polymarket',
  marketId: 'm1',
  tokenId: 'm1-yes',
  price: $(price),
  size: sh(size),
  ...(side ? { side } : {}),
  receiveTime: 0,
});

describe('paper execution client', () => {
  it('a resting order fills only after the volume queued ahead of it at its price has traded', async () => {
    const { client, reports } = setup();
    const o = order();
    await client.submit(o);
    expect(reports.map((r) => r.status)).toEqual(['acknowledged']);
    expect(reports[0]!.venueOrderId).toBeDefined();
    // 30 shares were bid at 0.42 before us: after sells of 25 and 4 at 0.42, 1 is still ahead
    client.onMarketData!(trade(0.42, 25, 'sell'));
    client.onMarketData!(trade(0.42, 4, 'sell'));
    expect(reports).toHaveLength(1);
    // a buyer lifting the ask does not touch the bid queue
    client.onMarketData!(trade(0.45, 50, 'buy'));
    expect(reports).toHaveLength(1);
    // 1 share still ahead: of a 4-share sell, 3 reach us, as maker at our price
    client.onMarketData!(trade(0.42, 4, 'sell'));
    expect(reports.at(-1)).toMatchObject({
      status: 'partially_filled',
      fill: { price: $(0.42), shares: sh(3), liquidity: 'maker' },
    });
    // a trade through our price means the queue at it is gone
    client.onMarketData!(trade(0.41, 20));
    expect(reports.at(-1)).toMatchObject({ status: 'filled', fill: { shares: sh(7) } });
    expect((await client.status(o.clientOrderId))?.filledShares).toBe(sh(10));
  });

  it('the queue ahead shrinks with the level (cancels ahead of us), and a crossing book fills at once', async () => {
    const { client, reports } = setup();
    await client.submit(order());
    client.onMarketData!(book('polymarket', 'm1', 'm1-yes', [[0.42, 8]], [[0.45, 10]]));
    client.onMarketData!(trade(0.42, 10, 'sell'));
    expect(reports.at(-1)).toMatchObject({ status: 'partially_filled', fill: { shares: sh(2) } });
    client.onMarketData!(book('polymarket', 'm1', 'm1-yes', [[0.4, 8]], [[0.42, 20]]));
    expect(reports.at(-1)).toMatchObject({ status: 'filled', fill: { shares: sh(8), price: $(0.42) } });
  });

  it('immediate orders end with typed codes: depth exhausted, no liquidity, FOK not fillable, rejected sizes', async () => {
    const { client, reports } = setup();
    await client.submit(order({ type: 'FAK', limitPrice: $(0.5), shares: sh(15) }));
    expect(reports.map((r) => [r.status, r.reason])).toEqual([
      ['partially_filled', undefined],
      ['cancelled', 'depth_exhausted'],
    ]);
    reports.length = 0;
    await client.submit(order({ type: 'FAK', limitPrice: $(0.44) }));
    expect(reports.map((r) => [r.status, r.reason])).toEqual([['cancelled', 'no_liquidity']]);
    reports.length = 0;
    await client.submit(order({ type: 'FOK', limitPrice: $(0.5), shares: sh(10) }));
    expect(reports.map((r) => [r.status, r.reason])).toEqual([['cancelled', 'fok_not_fillable']]);
    reports.length = 0;
    await client.submit(order({ type: 'FAK', shares: sh(1) }));
    expect(reports.map((r) => [r.status, r.reason])).toEqual([['rejected', 'below_min_size']]);
    reports.length = 0;
    await client.submit(order({ type: 'FAK', marketId: 'nope' }));
    expect(reports.map((r) => [r.status, r.reason])).toEqual([['rejected', 'unknown_market']]);
  });

  it('forgets the oldest terminal orders beyond PAPER_CLOSED_ORDERS, keeps the newest and the open ones', async () => {
    const { client } = setup();
    const resting = order(); // GTC below the ask: rests, never terminal here
    await client.submit(resting);
    const ids: string[] = [];
    for (let i = 0; i < PAPER_CLOSED_ORDERS + 5; i++) {
      const o = order({ type: 'FAK', marketId: 'nope' }); // rejected at once: terminal
      ids.push(o.clientOrderId);
      await client.submit(o);
    }
    for (const id of ids.slice(0, 5)) expect(await client.status(id)).toBeUndefined();
    expect(await client.status(ids[5]!)).toMatchObject({ status: 'rejected' });
    expect(await client.status(ids.at(-1)!)).toMatchObject({ status: 'rejected' });
    expect(await client.status(resting.clientOrderId)).toMatchObject({ status: 'acknowledged' });
    expect(client.openOrders()).toBe(1);
  });

  it('arrives after its latency against the book as it is then; a second submit of an id is no second order', async () => {
    const { clock, client, reports } = setup(40);
    const o = order({ type: 'FAK', limitPrice: $(0.5), shares: sh(5) });
    await client.submit(o);
    await client.submit(o);
    expect(reports).toHaveLength(0);
    client.onMarketData!(book('polymarket', 'm1', 'm1-yes', [[0.4, 100]], [[0.47, 50]]));
    clock.advanceTo(1_039);
    expect(reports).toHaveLength(0);
    clock.advanceTo(1_040);
    expect(reports).toMatchObject([{ status: 'filled', fill: { price: $(0.47), shares: sh(5) } }]);
  });

  it('GTD expires at its time; a cancel ends a resting or travelling order; resolution cancels', async () => {
    const { clock, client, reports } = setup(10);
    await client.submit(order({ type: 'GTD', expiresAt: 2_000 }));
    const b = order();
    await client.submit(b);
    await client.cancel(b.clientOrderId);
    clock.advanceTo(1_010);
    const c = order();
    await client.submit(c);
    clock.advanceTo(1_020);
    client.onMarketData!({
      type: 'resolution',
      venue: 'polymarket',
      marketId: 'm1',
      winner: 'm1-yes',
      receiveTime: 0,
    });
    clock.advanceTo(2_000);
    const last = (id: string) => reports.filter((r) => r.clientOrderId === id).at(-1);
    expect(last(b.clientOrderId)).toMatchObject({ status: 'cancelled', reason: 'cancel_requested' });
    expect(last(c.clientOrderId)).toMatchObject({ status: 'cancelled', reason: 'market_resolved' });
    expect(reports.filter((r) => r.status === 'cancelled' && r.reason === 'market_resolved')).toHaveLength(2);
    expect(client.openOrders()).toBe(0);
  });
});

describe('paper latency', () => {
  it('each venue draws from its own seeded stream: the same seed repeats, venues differ, all within the cap', () => {
    const draw = (venue: 'polymarket' | 'kalshi', seed: number) => {
      const m = logNormalLatency({ medianMs: 50, seed, venue });
      return Array.from({ length: 200 }, () => m.sample());
    };
    const a = draw('polymarket', 7);
    expect(draw('polymarket', 7)).toEqual(a);
    expect(draw('kalshi', 7)).not.toEqual(a);
    expect(draw('polymarket', 8)).not.toEqual(a);
    expect(Math.max(...a)).toBeLessThanOrEqual(200);
    expect(new Set(a).size).toBeGreaterThan(20);
    const sorted = [...a].sort((x, y) => x - y);
    expect(sorted[100]).toBeGreaterThan(35);
    expect(sorted[100]).toBeLessThan(70);
    expect(logNormalLatency({ medianMs: 0, seed: 1, venue: 'kalshi' }).sample()).toBe(0);
  });
});

describe('paper queue position (property)', () => {
  it('a resting order fills exactly the traded volume beyond the queue ahead of it, never more than its size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 5, max: 40 }),
        fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 8 }),
        (ahead, size, trades) => {
          const clock = new SimClock(0);
          const client = createPaperClient({ venue: 'polymarket', clock, latency: constantLatency(0) });
          const reports: OrderReport[] = [];
          client.onReport((r) => reports.push(r));
          client.onMarketData!(market('polymarket', 'm1'));
          client.onMarketData!(
            book('polymarket', 'm1', 'm1-yes', ahead > 0 ? [[0.42, ahead]] : [[0.4, 10]], [[0.45, 10]]),
          );
          void client.submit(order({ shares: sh(size) }));
          for (const t of trades) client.onMarketData!(trade(0.42, t, 'sell'));
          const filled = reports.reduce((s, r) => s + (r.fill?.shares ?? 0), 0);
          const traded = trades.reduce((s, t) => s + t, 0);
          expect(filled).toBe(sh(Math.min(size, Math.max(0, traded - ahead))));
          expect(reports.every((r) => !r.fill || r.fill.price === $(0.42))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
