/**
 * Polymarket decoder: raw frames (Gamma markets/events, CLOB books, the websocket market channel) → Markets,
 * OrderBooks, TradePrints and Resolutions, with a local book per token.
 *
 * - `book` (WS or REST) replaces the token's book; a snapshot older than what the book already reflects is
 *   skipped (a slow REST answer must not roll back websocket updates);
 * - `price_change` sets the new aggregate size of each level (`"0"` deletes), routed by each entry's asset_id
 *   (current schema) or the top-level asset_id (pre-2025-09 schema); a frame is checked whole before any of it
 *   is applied, so a bad frame changes nothing;
 * - after each frame, one OrderBook (top `depth` levels) per token the frame touched; a book that has had
 *   updates but no snapshot yet is emitted `stale: true`;
 * - `tick_size_change` updates the market's tick (an updated Market when the market is known);
 * - `best_bid_ask` is informational: compared with the local book and counted as drift, never applied;
 * - `connection` (our marker, written by feed.ts when a socket drops or reopens: `state`, `asset_ids`) makes
 *   those books stale until the venue's next snapshot (a delta after a reconnect does not make them fresh);
 * - anything malformed or unknown → `sink.reject(source, reason)`; decode never throws on bad input.
 *
 * The price_change path is hand-written (no zod, no regex): it is the hot path (bench/parse-polymarket.bench.ts).
 */
import type { Level, Market, OrderBook } from '../../core/messages.ts';
import { tokenSlot } from '../../core/token-slots.ts';
import {
  baseSource,
  type Decoder,
  type FeedSink,
  type RawFrame,
  type SourceName,
} from '../../feeds/types.ts';
import { BookSide, patchTop } from '../local-book.ts';
import {
  checkBook,
  levelsOf,
  msOf,
  PolymarketParseError,
  type PriceChangeLevel,
  parseClobBook,
  parseGammaEvents,
  parseGammaMarkets,
  parseWsNewMarket,
  parseWsResolved,
  parseWsTrade,
  priceOf,
  readPriceChangeLevel,
  wsTradePrint,
} from './parse.ts';
import { PreparedLastTrade, PreparedPriceChange } from './prepared.ts';
import type {
  ClobBook,
  WsBestBidAsk,
  WsMarketResolved,
  WsNewMarket,
  WsPriceChange,
  WsPriceChangeEntry,
  WsTickSizeChange,
} from './wire.ts';

export const POLYMARKET_SOURCES = [
  'polymarket.gamma.markets',
  'polymarket.gamma.events',
  'polymarket.clob.book',
  'polymarket.ws.market',
] as const satisfies readonly SourceName[];

export interface PolymarketDecoderOptions {
  /** Levels per side in emitted books (default 20). */
  readonly depth?: number;
}

interface TokenBook {
  readonly tokenId: string;
  /** its slot (src/core/token-slots.ts), stamped on every book emitted */
  readonly slot: number;
  marketId: string;
  readonly bids: BookSide;
  readonly asks: BookSide;
  /** Newest venue time applied, ms (0 before any). */
  eventTime: number;
  /** A full snapshot has been applied since the last reset. */
  snapshot: boolean;
  /** Frame counter value when last touched (dedupes emits within a frame). */
  touched: number;
  /** Receive time of the last frame that touched it. */
  receiveTime: number;
  /** Top-`depth` levels last emitted per side, reused while an update cannot have changed them (null: rebuild). */
  bidsTop: Level[] | null;
  asksTop: Level[] | null;
}

export interface PolymarketDecoderStats {
  frames: number;
  rejected: number;
  booksEmitted: number;
  /** best_bid_ask frames that disagreed with the local book. */
  drift: number;
  /** Snapshots skipped because the book already reflected newer data. */
  staleSnapshots: number;
}

export interface PolymarketDecoder extends Decoder {
  books(): Iterable<OrderBook>;
  /** The book of one token (top `depth`), if held. */
  book(tokenId: string): OrderBook | undefined;
  markets(): Iterable<Market>;
  market(marketId: string): Market | undefined;
  /**
   * Marks books stale (all, or those of `tokenIds`: e.g. the websocket connection that carried them dropped) and
   * emits them; the next snapshot makes each fresh again.
   */
  markStale(sink: FeedSink, receiveTime: number, tokenIds?: Iterable<string>): void;
  stats(): Readonly<PolymarketDecoderStats>;
}

const WS = 'polymarket.ws.market';
const BOOK = 'polymarket.clob.book';
const MARKETS = 'polymarket.gamma.markets';
const EVENTS = 'polymarket.gamma.events';

/** Thrown inside a frame's handling, caught at the frame boundary and turned into a rejection. */
class Reject extends Error {}

export function createPolymarketDecoder(opts: PolymarketDecoderOptions = {}): PolymarketDecoder {
  const depth = opts.depth ?? 20;
  const tokens = new Map<string, TokenBook>();
  const markets = new Map<string, Market>();
  const stats: PolymarketDecoderStats = {
    frames: 0,
    rejected: 0,
    booksEmitted: 0,
    drift: 0,
    staleSnapshots: 0,
  };
  let frameNo = 0;
  // tokens touched by the current frame
  const touched: TokenBook[] = [];
  // scratch for validating a price_change frame before applying it
  let scratchBooks: TokenBook[] = [];
  let scratchBid: boolean[] = [];
  let scratchPrice: number[] = [];
  let scratchSize: number[] = [];

  const tokenBook = (tokenId: string, marketId: string): TokenBook => {
    let t = tokens.get(tokenId);
    if (!t) {
      t = {
        tokenId,
        slot: tokenSlot('polymarket', tokenId),
        marketId,
        bids: new BookSide('bid'),
        asks: new BookSide('ask'),
        eventTime: 0,
        snapshot: false,
        touched: 0,
        receiveTime: 0,
        bidsTop: null,
        asksTop: null,
      };
      tokens.set(tokenId, t);
    } else if (marketId !== '' && t.marketId !== marketId) t.marketId = marketId;
    return t;
  };

  const touch = (t: TokenBook): void => {
    if (t.touched !== frameNo) {
      t.touched = frameNo;
      touched.push(t);
    }
  };

  /** Top-N of both sides; emitted level arrays are shared between books (they are readonly messages). */
  const snapshotOf = (t: TokenBook, receiveTime: number): OrderBook => {
    if (t.bidsTop === null) t.bidsTop = t.bids.levels(depth);
    if (t.asksTop === null) t.asksTop = t.asks.levels(depth);
    const bids = t.bidsTop;
    const asks = t.asksTop;
    if (t.eventTime > 0) {
      return {
        type: 'book',
        venue: 'polymarket',
        marketId: t.marketId,
        tokenId: t.tokenId,
        bids,
        asks,
        stale: !t.snapshot,
        eventTime: t.eventTime,
        receiveTime,
        slot: t.slot,
      };
    }
    return {
      type: 'book',
      venue: 'polymarket',
      marketId: t.marketId,
      tokenId: t.tokenId,
      bids,
      asks,
      stale: !t.snapshot,
      receiveTime,
      slot: t.slot,
    };
  };

  /** Sets a level and patches the cached top-N (null: rebuild it when next emitted). */
  const setLevel = (t: TokenBook, bid: boolean, price: number, size: number): void => {
    if (bid) {
      t.bids.set(price, size);
      if (t.bidsTop !== null) t.bidsTop = patchTop(t.bidsTop, price, size, depth, true) ?? null;
    } else {
      t.asks.set(price, size);
      if (t.asksTop !== null) t.asksTop = patchTop(t.asksTop, price, size, depth, false) ?? null;
    }
  };

  const putMarket = (m: Market, sink: FeedSink): void => {
    // a listing without a fee schedule never replaces a schedule already read for the market
    const before = markets.get(m.marketId);
    if (m.fees.kind === 'unknown' && before && before.fees.kind !== 'unknown')
      m = { ...m, fees: before.fees };
    // nor does one that does not say the protocol (WS new_market, CLOB) forget a Gamma "v2" already read
    if (m.protocol === undefined && before?.protocol !== undefined) m = { ...m, protocol: before.protocol };
    markets.set(m.marketId, m);
    for (const o of m.outcomes) {
      const t = tokens.get(o.tokenId);
      if (t && t.marketId === '') t.marketId = m.marketId;
    }
    sink.emit(m);
  };

  /** Replaces a token's book from a CLOB/WS snapshot. */
  const applySnapshot = (b: unknown): void => {
    checkBook(b);
    const ts = msOf(b.timestamp) ?? 0;
    const bids = levelsOf(b.bids, 'bids');
    const asks = levelsOf(b.asks, 'asks');
    const t = tokenBook(b.asset_id, b.market);
    if (t.snapshot && ts > 0 && ts < t.eventTime) {
      stats.staleSnapshots++;
      return;
    }
    t.bids.replace(bids);
    t.asks.replace(asks);
    t.bidsTop = null;
    t.asksTop = null;
    t.snapshot = true;
    if (ts > t.eventTime) t.eventTime = ts;
    touch(t);
  };

  const applyPriceChange = (f: WsPriceChange): void => {
    const market = typeof f.market === 'string' ? f.market : '';
    const ts = msOf(f.timestamp) ?? 0;
    const changes = f.price_changes;
    let n = 0;
    if (Array.isArray(changes)) {
      n = changes.length;
      if (n > scratchPrice.length) {
        scratchBooks = new Array(n);
        scratchBid = new Array(n);
        scratchPrice = new Array(n);
        scratchSize = new Array(n);
      }
      // consecutive entries mostly name the same token (about 2 in 3 on the simulator's frames): its book is
      // reused without hashing the 77-digit id again (a string compare, not a Map lookup)
      let lastAsset = '';
      let lastBook: TokenBook | undefined;
      for (let i = 0; i < n; i++) {
        const c = changes[i] as WsPriceChangeEntry;
        if (c === null || typeof c !== 'object')
          throw new Reject(`price_change: entry ${i} is not an object`);
        checkEntry(c.asset_id, c.side, c.price, c.size, i);
        if (lastBook === undefined || c.asset_id !== lastAsset) {
          lastAsset = c.asset_id;
          lastBook = tokenBook(lastAsset, market);
        }
        scratchBooks[i] = lastBook;
      }
    } else if (f.asset_id !== undefined) {
      // pre-2025-09 schema: one level at top level
      n = 1;
      if (scratchPrice.length === 0) {
        scratchBooks = new Array(1);
        scratchBid = new Array(1);
        scratchPrice = new Array(1);
        scratchSize = new Array(1);
      }
      checkEntry(f.asset_id, f.side, f.price, f.size, 0);
      scratchBooks[0] = tokenBook(f.asset_id, market);
    } else throw new Reject('price_change: neither price_changes nor asset_id');
    applyScratch(n, ts);
  };

  /** Applies the `n` checked levels in the scratch arrays (venue time `ts`). */
  const applyScratch = (n: number, ts: number): void => {
    for (let i = 0; i < n; i++) {
      const t = scratchBooks[i]!;
      setLevel(t, scratchBid[i]!, scratchPrice[i]!, scratchSize[i]!);
      if (ts > t.eventTime) t.eventTime = ts;
      touch(t);
    }
  };

  /** A price_change checked and read by the capture read worker (prepared.ts): applied as applyPriceChange would. */
  const applyPrepared = (f: PreparedPriceChange): void => {
    const n = f.count;
    if (n > scratchPrice.length) {
      scratchBooks = new Array(n);
      scratchBid = new Array(n);
      scratchPrice = new Array(n);
      scratchSize = new Array(n);
    }
    const nums = f.nums;
    let lastAsset = '';
    let lastBook: TokenBook | undefined;
    for (let i = 0, at = f.off; i < n; i++, at += 4) {
      const asset = f.strings[nums[at]!]!;
      if (lastBook === undefined || asset !== lastAsset) {
        lastAsset = asset;
        lastBook = tokenBook(asset, f.market);
      }
      scratchBooks[i] = lastBook;
      scratchBid[i] = nums[at + 1] === 1;
      scratchPrice[i] = nums[at + 2]!;
      scratchSize[i] = nums[at + 3]!;
    }
    applyScratch(n, f.eventTime);
  };

  const level: PriceChangeLevel = { bid: false, price: 0, size: 0 };
  function checkEntry(asset: unknown, side: unknown, price: unknown, size: unknown, i: number): void {
    switch (readPriceChangeLevel(asset, side, price, size, level)) {
      case 'asset':
        throw new Reject(`price_change[${i}]: no asset_id`);
      case 'side':
        throw new Reject(`price_change[${i}]: side ${JSON.stringify(side)} is not BUY or SELL`);
      case 'price':
        throw new Reject(`price_change[${i}]: bad price ${JSON.stringify(price)}`);
      case 'size':
        throw new Reject(`price_change[${i}]: bad size ${JSON.stringify(size)}`);
    }
    scratchBid[i] = level.bid;
    scratchPrice[i] = level.price;
    scratchSize[i] = level.size;
  }

  const applyTick = (f: WsTickSizeChange, receiveTime: number, sink: FeedSink): void => {
    const tick = priceOf(f.new_tick_size, 'tick_size_change.new_tick_size');
    if (tick <= 0) throw new Reject('tick_size_change: tick must be positive');
    const m = markets.get(f.market);
    if (!m || m.tickSize === tick) return;
    const eventTime = msOf(f.timestamp);
    putMarket({ ...m, tickSize: tick, receiveTime, ...(eventTime !== undefined ? { eventTime } : {}) }, sink);
  };

  const checkBestBidAsk = (f: WsBestBidAsk): void => {
    const bid = priceOf(f.best_bid, 'best_bid_ask.best_bid');
    const ask = priceOf(f.best_ask, 'best_bid_ask.best_ask');
    const t = tokens.get(f.asset_id);
    if (!t?.snapshot) return;
    // "0" / "1" stand for an empty side (P20)
    const myBid = t.bids.bestPrice() ?? 0;
    const myAsk = t.asks.bestPrice() ?? 1_000_000;
    if (myBid !== bid || myAsk !== ask) stats.drift++;
  };

  const resolve = (f: WsMarketResolved, receiveTime: number, sink: FeedSink): void => {
    const r = parseWsResolved(f, receiveTime);
    const m = markets.get(r.marketId);
    if (m) {
      putMarket(
        {
          ...m,
          status: 'resolved',
          winner: r.winner,
          receiveTime,
          ...(r.eventTime !== undefined ? { eventTime: r.eventTime } : {}),
        },
        sink,
      );
    }
    sink.emit(r);
    // a resolved market trades no more: its tokens' books and its listing are dropped (a roll-over relists
    // markets all day); a repeated resolution then emits the Resolution alone
    markets.delete(r.marketId);
    for (const o of m?.outcomes ?? []) tokens.delete(o.tokenId);
    for (const id of f.assets_ids ?? []) tokens.delete(id);
  };

  const wsEvent = (e: unknown, receiveTime: number, sink: FeedSink): void => {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) throw new Reject('event is not an object');
    const type = (e as { event_type?: unknown }).event_type;
    switch (type) {
      case 'price_change':
        applyPriceChange(e as WsPriceChange);
        return;
      case 'book':
        bookWithTick(e, receiveTime, sink);
        return;
      case 'last_trade_price':
        sink.emit(parseWsTrade(e as never, receiveTime));
        return;
      case 'tick_size_change':
        applyTick(e as WsTickSizeChange, receiveTime, sink);
        return;
      case 'best_bid_ask':
        checkBestBidAsk(e as WsBestBidAsk);
        return;
      case 'new_market':
        putMarket(parseWsNewMarket(e as WsNewMarket, receiveTime), sink);
        return;
      case 'market_resolved':
        resolve(e as WsMarketResolved, receiveTime, sink);
        return;
      case 'connection': {
        // our own marker (feed.ts): the socket carrying these assets dropped or reopened; their books wait for
        // the venue's next snapshot, and no delta before it makes them fresh
        const ids = (e as { asset_ids?: unknown }).asset_ids;
        if (ids !== undefined && !(Array.isArray(ids) && ids.every((x) => typeof x === 'string')))
          throw new Reject('connection marker with malformed asset_ids');
        decoder.markStale(sink, receiveTime, ids as string[] | undefined);
        return;
      }
      default:
        throw new Reject(`unknown event_type ${JSON.stringify(type)}`);
    }
  };

  const decodeWs = (frame: RawFrame, sink: FeedSink): void => {
    let data = frame.data;
    if (data instanceof PreparedPriceChange) {
      applyPrepared(data);
      return;
    }
    if (data instanceof PreparedLastTrade) {
      const t = data;
      sink.emit(wsTradePrint(t.marketId, t.tokenId, t.price, t.size, t.side, t.eventTime, frame.ts));
      return;
    }
    if (typeof data === 'string') {
      const s = data.trim();
      if (s === 'PONG' || s === 'PING' || s === '') return;
      const c = s.charCodeAt(0);
      if (c !== 123 && c !== 91) throw new Reject(`not JSON: ${s.slice(0, 60)}`);
      try {
        data = JSON.parse(s);
      } catch {
        throw new Reject(`malformed JSON: ${s.slice(0, 60)}`);
      }
    }
    // an array frame (P18): each element stands alone
    eachAlone(data, frame, sink, wsEvent);
  };

  /** Applies `fn` to each element of an array payload, rejecting a bad one while the rest still apply. */
  const eachAlone = (
    data: unknown,
    frame: RawFrame,
    sink: FeedSink,
    fn: (item: unknown, receiveTime: number, sink: FeedSink) => void,
  ): void => {
    if (!Array.isArray(data)) {
      fn(data, frame.ts, sink);
      return;
    }
    for (const item of data) {
      try {
        fn(item, frame.ts, sink);
      } catch (err) {
        rejectErr(frame.source, err, sink);
      }
    }
  };

  /** A snapshot, then the tick it carries (newer CLOB and WS books have `tick_size`, P11/P19). */
  const bookWithTick = (b: unknown, receiveTime: number, sink: FeedSink): void => {
    applySnapshot(b);
    const x = b as ClobBook;
    if (x.tick_size === undefined || x.tick_size === '') return;
    applyTick(
      {
        event_type: 'tick_size_change',
        asset_id: x.asset_id,
        market: x.market,
        old_tick_size: '',
        new_tick_size: String(x.tick_size),
        timestamp: x.timestamp,
      },
      receiveTime,
      sink,
    );
  };

  const decodeBooks = (frame: RawFrame, sink: FeedSink): void => {
    // POST /books answers an array: each book stands alone
    eachAlone(frame.data, frame, sink, bookWithTick);
  };

  const decodeGamma = (frame: RawFrame, events: boolean, sink: FeedSink): void => {
    const { markets: ms, errors } = events
      ? parseGammaEvents(frame.data, frame.ts)
      : parseGammaMarkets(frame.data, frame.ts);
    for (const m of ms) putMarket(m, sink);
    for (const e of errors) {
      stats.rejected++;
      sink.reject(frame.source, e);
    }
  };

  const rejectErr = (source: string, err: unknown, sink: FeedSink): void => {
    if (err instanceof Reject || err instanceof PolymarketParseError) {
      stats.rejected++;
      sink.reject(source, err.message);
      return;
    }
    if (err instanceof Error) {
      // an invariant broke inside our own code path with outside data: still a rejection, with the error named
      stats.rejected++;
      sink.reject(source, `${err.name}: ${err.message}`);
      return;
    }
    throw err;
  };

  const decoder: PolymarketDecoder = {
    sources: POLYMARKET_SOURCES,
    decode(frame, sink) {
      stats.frames++;
      frameNo++;
      touched.length = 0;
      const source = baseSource(frame.source);
      try {
        switch (source) {
          case WS:
            decodeWs(frame, sink);
            break;
          case BOOK:
            decodeBooks(frame, sink);
            break;
          case MARKETS:
            decodeGamma(frame, false, sink);
            break;
          case EVENTS:
            decodeGamma(frame, true, sink);
            break;
          default:
            throw new Reject(`not a Polymarket source: ${frame.source}`);
        }
      } catch (err) {
        rejectErr(frame.source, err, sink);
      }
      for (let i = 0; i < touched.length; i++) {
        const t = touched[i]!;
        t.receiveTime = frame.ts;
        stats.booksEmitted++;
        sink.emit(snapshotOf(t, frame.ts));
      }
      touched.length = 0;
    },
    *books() {
      for (const t of tokens.values()) yield snapshotOf(t, t.receiveTime);
    },
    book(tokenId) {
      const t = tokens.get(tokenId);
      return t ? snapshotOf(t, t.receiveTime) : undefined;
    },
    markets: () => markets.values(),
    market: (id) => markets.get(id),
    markStale(sink, receiveTime, tokenIds) {
      const which: Iterable<TokenBook | undefined> = tokenIds
        ? [...tokenIds].map((id) => tokens.get(id))
        : tokens.values();
      for (const t of which) {
        if (!t?.snapshot) continue;
        t.snapshot = false;
        t.receiveTime = receiveTime;
        stats.booksEmitted++;
        sink.emit(snapshotOf(t, receiveTime));
      }
    },
    stats: () => ({ ...stats }),
  };
  return decoder;
}

/** Re-exported for callers that parse single REST books without a decoder. */
export { parseClobBook };
