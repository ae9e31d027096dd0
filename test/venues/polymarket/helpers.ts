/** Helpers shared by the Polymarket decoder tests (npm test) and their recorded twins (npm run test:recorded). */
import type { OrderBook } from '../../../src/core/messages.ts';
import type { FeedEvent, FeedSink, RawFrame } from '../../../src/feeds/types.ts';

export const WS = 'polymarket.ws.market';

export function collect() {
  const events: FeedEvent[] = [];
  const rejects: Array<{ source: string; reason: string }> = [];
  const sink: FeedSink = {
    emit: (e) => events.push(e),
    reject: (source, reason) => rejects.push({ source, reason }),
  };
  const of = <T extends FeedEvent['type']>(t: T) =>
    events.filter((e) => e.type === t) as Extract<FeedEvent, { type: T }>[];
  return { sink, events, rejects, books: () => of('book') as OrderBook[], of };
}

export const frame = (data: unknown, ts = 5_000, source = WS): RawFrame => ({ ts, source, data });

/** A wire book with the venue's ordering: bids ascending, asks descending (best last). */
export function wireBook(
  asset: string,
  market: string,
  bids: Array<[string, string]>,
  asks: Array<[string, string]>,
  ts = '1000',
) {
  return {
    event_type: 'book',
    asset_id: asset,
    market,
    bids: bids.map(([price, size]) => ({ price, size })),
    asks: asks.map(([price, size]) => ({ price, size })),
    timestamp: ts,
    hash: 'h',
  };
}
