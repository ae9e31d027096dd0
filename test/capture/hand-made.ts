/** A hand-made capture for replay tests, built from venue frames (owned fixtures, or recorded ones in test:recorded). */
import type { RawFrame } from '../../src/feeds/types.ts';

export interface HandMadeCapture {
  /** A Polymarket `book` frame. */
  readonly book: { asset_id: string; market: string };
  /** Its best bid (removed by the change) and best ask (given a new size). */
  readonly bestBid: string;
  readonly bestAsk: [price: string, size: string];
  /** The next bid after the best one goes. */
  readonly nextBid: string;
  /** Kalshi frames: subscribed ack, orderbook_snapshot, orderbook_delta. */
  readonly kalshi: readonly unknown[];
  readonly t0: number;
}

/**
 * A Polymarket snapshot + a price_change (best bid removed with size "0", best ask resized), a Kalshi snapshot +
 * delta (the delta through the `sim.` prefix), a frame no decoder takes and a malformed price_change.
 */
export function handMadeCapture(c: HandMadeCapture): RawFrame[] {
  const { book, t0 } = c;
  const change = (price: string, size: string, side: 'BUY' | 'SELL', hash: string) => ({
    asset_id: book.asset_id,
    price,
    size,
    side,
    hash,
    best_bid: c.nextBid,
    best_ask: c.bestAsk[0],
  });
  return [
    { ts: t0, source: 'polymarket.ws.market', data: book },
    {
      ts: t0 + 10,
      source: 'polymarket.ws.market',
      data: {
        event_type: 'price_change',
        market: book.market,
        timestamp: String(t0 + 9),
        price_changes: [change(c.bestBid, '0', 'BUY', 'a'), change(c.bestAsk[0], c.bestAsk[1], 'SELL', 'b')],
      },
    },
    { ts: t0 + 20, source: 'kalshi.ws', data: c.kalshi[0] }, // subscribed ack
    { ts: t0 + 30, source: 'kalshi.ws', data: c.kalshi[1] }, // orderbook_snapshot
    { ts: t0 + 40, source: 'sim.kalshi.ws', data: c.kalshi[2] }, // orderbook_delta, through the sim. prefix
    { ts: t0 + 50, source: 'nowhere.feed', data: {} },
    {
      ts: t0 + 60,
      source: 'polymarket.ws.market',
      data: { event_type: 'price_change', market: 'm', price_changes: 'x' },
    },
  ];
}

const M = 1_000_000;
/** A decimal price and size as a [micro, micro] level (prices on a cent grid). */
export const lv = (p: string, s: string): [number, number] => [
  Math.round(Number(p) * 100) * 10_000,
  Number(s) * M,
];
