/**
 * A websocket `price_change` frame checked and read into numbers off the main thread (the capture read worker,
 * src/capture/read-worker.ts), so that replay and backtest do not pay for JSON.parse of its ~1.7 KB (most of it
 * hashes and best-bid/ask strings the decoder never reads). Only a frame the decoder would apply whole is
 * prepared: each level passes the decoder's own rule (readPriceChangeLevel in parse.ts), so a prepared frame
 * changes the books exactly as its JSON would; any other frame reaches the decoder as JSON.
 */
import type { PreparedWriter } from '../../feeds/types.ts';
import { msOf, type PriceChangeLevel, parseWsTrade, readPriceChangeLevel } from './parse.ts';
import type { WsLastTradePrice } from './wire.ts';

/** What the decoder reads: entry i is `nums[off + 4i …]` = asset (index into `strings`), bid (1/0), price, size. */
export class PreparedPriceChange {
  constructor(
    readonly market: string,
    /** msOf(timestamp) ?? 0, as the decoder reads it */
    readonly eventTime: number,
    readonly count: number,
    readonly nums: Float64Array,
    readonly off: number,
    readonly strings: readonly string[],
  ) {}
}

/** The level being read (reused: no allocation per level). */
const level: PriceChangeLevel = { bid: false, price: 0, size: 0 };

/**
 * Writes `data` as market, eventTime, count, then 4 numbers per entry, if it is a current-schema price_change
 * that the decoder would apply without a rejection; otherwise writes nothing and returns false.
 */
export function preparePriceChange(data: unknown, w: PreparedWriter, scratch: number[]): boolean {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return false;
  const f = data as { event_type?: unknown; market?: unknown; timestamp?: unknown; price_changes?: unknown };
  if (f.event_type !== 'price_change') return false;
  const changes = f.price_changes;
  if (!Array.isArray(changes)) return false;
  // checked whole first, as the decoder does, so nothing is written for a frame it would reject
  scratch.length = 0;
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i] as { asset_id?: unknown; side?: unknown; price?: unknown; size?: unknown } | null;
    if (c === null || typeof c !== 'object') return false;
    if (readPriceChangeLevel(c.asset_id, c.side, c.price, c.size, level) !== undefined) return false;
    scratch.push(level.price, level.size);
  }
  w.str(typeof f.market === 'string' ? f.market : '');
  w.num(msOf(f.timestamp) ?? 0);
  w.num(changes.length);
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i] as { asset_id: string; side: string };
    w.str(c.asset_id);
    w.num(c.side === 'BUY' ? 1 : 0);
    w.num(scratch[2 * i]!);
    w.num(scratch[2 * i + 1]!);
  }
  return true;
}

/** A websocket `last_trade_price` checked and read off the main thread: the numbers of its TradePrint. */
export class PreparedLastTrade {
  constructor(
    readonly marketId: string,
    readonly tokenId: string,
    /** micro-dollars */
    readonly price: number,
    /** micro-shares */
    readonly size: number,
    readonly side: 'buy' | 'sell' | undefined,
    readonly eventTime: number | undefined,
  ) {}
}

/** side in a record: 0 none, 1 buy, 2 sell */
export const TRADE_SIDES = [undefined, 'buy', 'sell'] as const;

/**
 * Writes marketId, tokenId, price, size, side (TRADE_SIDES index), eventTime (NaN: none) if `data` is a
 * last_trade_price the decoder would emit (through parseWsTrade itself); otherwise writes nothing and returns false.
 */
export function prepareLastTrade(data: unknown, w: PreparedWriter): boolean {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return false;
  if ((data as { event_type?: unknown }).event_type !== 'last_trade_price') return false;
  let t: ReturnType<typeof parseWsTrade>;
  try {
    t = parseWsTrade(data as WsLastTradePrice, 0);
  } catch {
    return false; // the decoder rejects it, with its reason, from the JSON
  }
  w.str(t.marketId);
  w.str(t.tokenId);
  w.num(t.price);
  w.num(t.size);
  w.num(t.side === 'buy' ? 1 : t.side === 'sell' ? 2 : 0);
  w.num(t.eventTime ?? Number.NaN);
  return true;
}
