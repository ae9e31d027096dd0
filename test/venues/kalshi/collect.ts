/** A FeedSink that keeps what it gets, for decoder tests. */
import type { Market, OracleTick, OrderBook, Resolution, TradePrint } from '../../../src/core/messages.ts';
import type { FeedEvent, FeedSink } from '../../../src/feeds/types.ts';

export interface CollectingSink extends FeedSink {
  events: FeedEvent[];
  rejects: Array<{ source: string; reason: string }>;
  books(): OrderBook[];
  markets(): Market[];
  trades(): TradePrint[];
  ticks(): OracleTick[];
  resolutions(): Resolution[];
  clear(): void;
}

export function collect(): CollectingSink {
  const events: FeedEvent[] = [];
  const rejects: Array<{ source: string; reason: string }> = [];
  return {
    events,
    rejects,
    emit: (e) => events.push(e),
    reject: (source, reason) => rejects.push({ source, reason }),
    books: () => events.filter((e): e is OrderBook => e.type === 'book'),
    markets: () => events.filter((e): e is Market => e.type === 'market'),
    trades: () => events.filter((e): e is TradePrint => e.type === 'trade'),
    ticks: () => events.filter((e): e is OracleTick => e.type === 'tick'),
    resolutions: () => events.filter((e): e is Resolution => e.type === 'resolution'),
    clear() {
      events.length = 0;
      rejects.length = 0;
    },
  };
}
