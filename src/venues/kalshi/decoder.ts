/**
 * Kalshi decoder: raw frames (REST responses and websocket messages) → Markets, OrderBooks, TradePrints and
 * Resolutions, with the local books that the websocket deltas update.
 *
 * Each market has one bid side per outcome (Kalshi books hold bids only, K5); after every change the decoder
 * emits two OrderBooks, one per token: YES bids = YES bids, YES asks = NO bids mirrored through 1 (K6), and the
 * reverse for NO. Sequence numbers are per subscription (K13): a gap marks every book of that sid stale (they
 * are emitted once with `stale: true`, then left alone) and calls `onGap`, so the live feed resubscribes for a
 * fresh snapshot, which clears the flag. Malformed frames go to `sink.reject`; nothing here throws on input.
 */
import type { FeeSchedule, Level, Market, OrderBook } from '../../core/messages.ts';
import { ONE } from '../../core/money.ts';
import { tokenSlot } from '../../core/token-slots.ts';
import {
  baseSource,
  type Decoder,
  type FeedSink,
  type RawFrame,
  type SourceName,
} from '../../feeds/types.ts';
import { BookSide, patchTop } from '../local-book.ts';
import { seriesFees, seriesOf } from './fees.ts';
import {
  deltaUsable,
  eventsOf,
  fixedMicro,
  isoMs,
  KALSHI,
  marketFieldsRead,
  marketsOf,
  noToken,
  parseLevels,
  parseRestOrderbook,
  parseTicker,
  parseWsTrade,
  SeqTracker,
  toMarket,
  tradePrint,
  yesToken,
} from './parse.ts';
import { PreparedKalshiDelta, PreparedKalshiTrade } from './prepared.ts';
import type {
  WireMarket,
  WireOrderbookDelta,
  WireOrderbookSnapshot,
  WireSeries,
  WireSubscribed,
  WireTicker,
  WireWsEnvelope,
  WireWsTrade,
} from './wire.ts';

export interface KalshiGap {
  sid: number;
  /** Markets whose books went stale. */
  tickers: string[];
  expected: number;
  got: number;
}

export interface KalshiDecoderOptions {
  /** Levels per side in emitted books (default 20). */
  depth?: number;
  /** Called on a sequence gap; the live feed resubscribes those markets. */
  onGap?: (gap: KalshiGap) => void;
}

export interface KalshiDecoderStats {
  frames: number;
  rejected: number;
  gaps: number;
  staleBooks: number;
  errors: number;
}

export interface KalshiDecoder extends Decoder {
  books(): Iterable<OrderBook>;
  stats(): KalshiDecoderStats;
  /** Markets last seen, by ticker. */
  markets(): ReadonlyMap<string, Market>;
  /** Sids that had a gap and not yet a fresh snapshot. */
  staleSids(): number[];
}

interface LocalBook {
  readonly ticker: string;
  readonly yesTok: string;
  readonly noTok: string;
  /** the tokens' slots (src/core/token-slots.ts), stamped on every book emitted */
  readonly yesSlot: number;
  readonly noSlot: number;
  readonly yes: BookSide;
  readonly no: BookSide;
  /** Websocket subscription id feeding this book; -1 for a REST snapshot. */
  sid: number;
  stale: boolean;
  seq: number | undefined;
  eventTime: number | undefined;
  receiveTime: number;
  /**
   * Emitted level arrays per side, rebuilt only when that side changes (a delta touches one side, so the other
   * side's arrays are shared with the previous emission; emitted books are readonly).
   */
  yesLevels: Level[] | undefined;
  yesMirror: Level[] | undefined;
  noLevels: Level[] | undefined;
  noMirror: Level[] | undefined;
}

const SOURCES: readonly SourceName[] = [
  'kalshi.rest.markets',
  'kalshi.rest.events',
  'kalshi.rest.orderbook',
  'kalshi.rest.series',
  'kalshi.ws',
];
const ORDERBOOK_PATH = /\/markets\/([^/?#]+)\/orderbook\/?$/;

/** The emitted top-`depth` levels after a change (local-book.ts patchTop); undefined: rebuild when emitted. */
function patchLevels(
  levels: Level[] | undefined,
  price: number,
  size: number,
  depth: number,
  asc: boolean,
): Level[] | undefined {
  return levels === undefined ? undefined : patchTop(levels, price, size, depth, !asc);
}

export function createKalshiDecoder(opts: KalshiDecoderOptions = {}): KalshiDecoder {
  const depth = opts.depth ?? 20;
  const local = new Map<string, LocalBook>();
  const seqs = new SeqTracker();
  const staleSids = new Set<number>();
  const exclusive = new Map<string, boolean>(); // event ticker → mutually_exclusive
  const wireMarkets = new Map<string, WireMarket>();
  const byEvent = new Map<string, Set<string>>(); // event ticker → market tickers
  const seriesFeeMap = new Map<string, FeeSchedule>(); // series ticker → its fee schedule
  const bySeries = new Map<string, Set<string>>(); // series ticker → market tickers
  const lastMarkets = new Map<string, Market>();
  const resolved = new Set<string>();
  const st: KalshiDecoderStats = { frames: 0, rejected: 0, gaps: 0, staleBooks: 0, errors: 0 };

  const reject = (sink: FeedSink, source: string, reason: string): void => {
    st.rejected++;
    sink.reject(source, reason);
  };

  const bookOf = (ticker: string): LocalBook => {
    let b = local.get(ticker);
    if (!b) {
      b = {
        ticker,
        yesTok: yesToken(ticker),
        noTok: noToken(ticker),
        yesSlot: tokenSlot(KALSHI, yesToken(ticker)),
        noSlot: tokenSlot(KALSHI, noToken(ticker)),
        yes: new BookSide('bid'),
        no: new BookSide('bid'),
        sid: -1,
        stale: false,
        seq: undefined,
        eventTime: undefined,
        receiveTime: 0,
        yesLevels: undefined,
        yesMirror: undefined,
        noLevels: undefined,
        noMirror: undefined,
      };
      local.set(ticker, b);
    }
    return b;
  };

  const invalidate = (b: LocalBook): void => {
    b.yesLevels = undefined;
    b.yesMirror = undefined;
    b.noLevels = undefined;
    b.noMirror = undefined;
  };

  const tokenBook = (b: LocalBook, yesSide: boolean, receiveTime: number): OrderBook => {
    if (b.yesLevels === undefined) b.yesLevels = b.yes.levels(depth);
    if (b.noLevels === undefined) b.noLevels = b.no.levels(depth);
    if (yesSide) {
      if (b.noMirror === undefined) b.noMirror = b.no.mirrored(ONE, depth);
    } else if (b.yesMirror === undefined) b.yesMirror = b.yes.mirrored(ONE, depth);
    // Built field by field (no spreads): this runs twice per websocket delta.
    const out: { -readonly [K in keyof OrderBook]: OrderBook[K] } = {
      type: 'book',
      venue: KALSHI,
      marketId: b.ticker,
      tokenId: yesSide ? b.yesTok : b.noTok,
      bids: yesSide ? b.yesLevels : b.noLevels,
      asks: (yesSide ? b.noMirror : b.yesMirror)!,
      stale: b.stale,
      receiveTime,
      slot: yesSide ? b.yesSlot : b.noSlot,
    };
    if (b.seq !== undefined) out.seq = b.seq;
    if (b.eventTime !== undefined) out.eventTime = b.eventTime;
    return out;
  };

  const emitBook = (sink: FeedSink, b: LocalBook, receiveTime: number): void => {
    b.receiveTime = receiveTime;
    sink.emit(tokenBook(b, true, receiveTime));
    sink.emit(tokenBook(b, false, receiveTime));
  };

  const forget = (ticker: string, series: string | undefined, eventId: string | undefined): void => {
    local.delete(ticker);
    wireMarkets.delete(ticker);
    lastMarkets.delete(ticker);
    const drop = (index: Map<string, Set<string>>, key: string | undefined): void => {
      const set = key === undefined ? undefined : index.get(key);
      if (!set) return;
      set.delete(ticker);
      if (set.size === 0) index.delete(key!);
    };
    drop(bySeries, series);
    drop(byEvent, eventId);
  };

  const emitMarket = (sink: FeedSink, source: string, wm: WireMarket, receiveTime: number): void => {
    const ev = typeof wm?.event_ticker === 'string' ? exclusive.get(wm.event_ticker) : undefined;
    const series = typeof wm?.ticker === 'string' ? seriesOf(wm.event_ticker, wm.ticker) : undefined;
    const fees = series ? seriesFeeMap.get(series) : undefined;
    const m = toMarket(wm, {
      receiveTime,
      ...(ev !== undefined ? { mutuallyExclusive: ev } : {}),
      ...(fees ? { fees } : {}),
    });
    if (typeof m === 'string') {
      reject(sink, source, m);
      return;
    }
    // kept with the Market's own rules string, so the text is held once; copied again on a re-publish from the
    // kept copy too (toMarket may have made a new string of the same text for the new Market)
    wireMarkets.set(m.marketId, marketFieldsRead(wm, m.rules));
    if (series) {
      let set = bySeries.get(series);
      if (!set) {
        set = new Set();
        bySeries.set(series, set);
      }
      set.add(m.marketId);
    }
    if (m.eventId !== undefined) {
      let set = byEvent.get(m.eventId);
      if (!set) {
        set = new Set();
        byEvent.set(m.eventId, set);
      }
      set.add(m.marketId);
    }
    lastMarkets.set(m.marketId, m);
    sink.emit(m);
    // a resolved market trades no more: its book and listing are dropped (a roll-over relists markets all day);
    // `resolved` keeps its ticker, so that a later listing of it does not resolve it again
    if (m.status === 'resolved') forget(m.marketId, series, m.eventId);
    if (m.status === 'resolved' && m.winner && !resolved.has(m.marketId)) {
      resolved.add(m.marketId);
      sink.emit({
        type: 'resolution',
        venue: KALSHI,
        marketId: m.marketId,
        winner: m.winner,
        ...(m.eventTime !== undefined ? { eventTime: m.eventTime } : {}),
        receiveTime,
      });
    }
  };

  const markGap = (sink: FeedSink, sid: number, expected: number, got: number, receiveTime: number): void => {
    st.gaps++;
    staleSids.add(sid);
    const tickers: string[] = [];
    for (const b of local.values()) {
      if (b.sid !== sid || b.stale) continue;
      b.stale = true;
      tickers.push(b.ticker);
      emitBook(sink, b, receiveTime);
    }
    opts.onGap?.({ sid, tickers, expected, got });
  };

  const markAllStale = (sink: FeedSink, receiveTime: number): void => {
    for (const b of local.values()) {
      if (b.stale || b.sid < 0) continue;
      b.stale = true;
      emitBook(sink, b, receiveTime);
    }
    seqs.clear();
    staleSids.clear();
  };

  /** Checks seq; on a gap marks the sid's books stale. Returns false when the frame must not be applied. */
  const sequenced = (
    sink: FeedSink,
    env: { readonly sid?: unknown; readonly seq?: unknown },
    receiveTime: number,
  ): boolean => {
    if (typeof env.sid !== 'number' || typeof env.seq !== 'number') return true;
    if (seqs.check(env.sid, env.seq) === 'gap') {
      markGap(sink, env.sid, (seqs.previous ?? 0) + 1, env.seq, receiveTime);
      return false;
    }
    return true;
  };

  /** A checked orderbook_delta (from its JSON, or prepared by the capture read worker): sequence, apply, emit. */
  const applyDelta = (
    sink: FeedSink,
    source: string,
    env: { readonly sid?: unknown; readonly seq?: unknown },
    ticker: string,
    price: number,
    delta: number,
    yes: boolean,
    eventTime: number | undefined,
    ts: number,
  ): void => {
    if (!sequenced(sink, env, ts)) return;
    const b = local.get(ticker);
    if (!b) {
      reject(sink, source, `orderbook_delta before any snapshot for ${ticker}`);
      return;
    }
    if (b.stale || b.sid !== env.sid) return; // waiting for a fresh snapshot
    if (yes) {
      const size = b.yes.add(price, delta);
      b.yesLevels = patchLevels(b.yesLevels, price, size, depth, false);
      b.yesMirror =
        b.yesLevels === undefined ? undefined : patchLevels(b.yesMirror, ONE - price, size, depth, true);
    } else {
      const size = b.no.add(price, delta);
      b.noLevels = patchLevels(b.noLevels, price, size, depth, false);
      b.noMirror =
        b.noLevels === undefined ? undefined : patchLevels(b.noMirror, ONE - price, size, depth, true);
    }
    b.seq = env.seq as number | undefined;
    b.eventTime = eventTime;
    emitBook(sink, b, ts);
  };

  function decodeWs(frame: RawFrame, sink: FeedSink): void {
    if (frame.data instanceof PreparedKalshiDelta) {
      const p = frame.data;
      applyDelta(sink, frame.source, p, p.ticker, p.price, p.delta, p.yes, p.eventTime, frame.ts);
      return;
    }
    if (frame.data instanceof PreparedKalshiTrade) {
      // as the JSON trade below: sequenced (a gap is marked), and emitted all the same
      const t = frame.data;
      const tp = tradePrint(t.ticker, t.yesPrice, t.noPrice, t.count, t.takerSide, t.eventTime, frame.ts);
      if (typeof tp === 'string') {
        reject(sink, frame.source, tp); // (never: the worker prepared it because it is not)
        return;
      }
      sequenced(sink, t, frame.ts);
      sink.emit(tp);
      return;
    }
    const env = frame.data as WireWsEnvelope;
    if (!env || typeof env !== 'object' || typeof env.type !== 'string') {
      reject(
        sink,
        frame.source,
        typeof frame.data === 'string' ? 'websocket frame is not JSON' : 'frame has no type',
      );
      return;
    }
    const ts = frame.ts;
    switch (env.type) {
      case 'orderbook_delta': {
        const d = env.msg as WireOrderbookDelta;
        if (!d || typeof d.market_ticker !== 'string') {
          reject(sink, frame.source, 'orderbook_delta has no market_ticker');
          return;
        }
        const price = fixedMicro(d.price_dollars);
        const delta = fixedMicro(d.delta_fp);
        if (!deltaUsable(price, delta, d.side)) {
          reject(sink, frame.source, 'orderbook_delta has a malformed price, delta or side');
          return;
        }
        const eventTime = typeof d.ts_ms === 'number' ? d.ts_ms : isoMs(d.ts);
        applyDelta(sink, frame.source, env, d.market_ticker, price, delta, d.side === 'yes', eventTime, ts);
        return;
      }
      case 'orderbook_snapshot': {
        const s = env.msg as WireOrderbookSnapshot;
        if (!s || typeof s.market_ticker !== 'string' || s.market_ticker === '') {
          reject(sink, frame.source, 'orderbook_snapshot has no market_ticker');
          return;
        }
        const yes = parseLevels(s.yes_dollars_fp);
        const no = parseLevels(s.no_dollars_fp);
        if (!yes || !no) {
          reject(sink, frame.source, 'orderbook_snapshot has a malformed level');
          return;
        }
        sequenced(sink, env, ts); // a snapshot is applied even after a gap: it is the cure
        const b = bookOf(s.market_ticker);
        b.yes.replace(yes);
        b.no.replace(no);
        invalidate(b);
        b.sid = typeof env.sid === 'number' ? env.sid : -1;
        b.stale = false;
        b.seq = typeof env.seq === 'number' ? env.seq : undefined;
        b.eventTime = undefined;
        if (typeof env.sid === 'number') staleSids.delete(env.sid);
        emitBook(sink, b, ts);
        return;
      }
      case 'ticker': {
        const t = parseTicker(env.msg as WireTicker);
        if (typeof t === 'string') {
          reject(sink, frame.source, t);
          return;
        }
        const b = local.get(t.ticker);
        if (b && b.sid >= 0 && !b.stale) return; // the depth book is the better source
        // No depth subscription for this market: publish the ticker's top of book.
        const yesBids = t.yesBid ? [t.yesBid] : [];
        const noBids = t.yesAsk ? [[ONE - t.yesAsk[0], t.yesAsk[1]] as const] : [];
        const common = {
          type: 'book' as const,
          venue: KALSHI,
          marketId: t.ticker,
          stale: false,
          receiveTime: ts,
        };
        const ev = t.eventTime !== undefined ? { eventTime: t.eventTime } : {};
        sink.emit({
          ...common,
          tokenId: yesToken(t.ticker),
          bids: yesBids,
          asks: t.yesAsk ? [t.yesAsk] : [],
          ...ev,
        });
        sink.emit({
          ...common,
          tokenId: noToken(t.ticker),
          bids: noBids,
          asks: t.yesBid ? [[ONE - t.yesBid[0], t.yesBid[1]] as const] : [],
          ...ev,
        });
        return;
      }
      case 'trade': {
        const tp = parseWsTrade(env.msg as WireWsTrade, ts);
        if (typeof tp === 'string') {
          reject(sink, frame.source, tp);
          return;
        }
        sequenced(sink, env, ts);
        sink.emit(tp);
        return;
      }
      case 'subscribed': {
        const m = env.msg as WireSubscribed;
        if (typeof m?.sid === 'number') seqs.forget(m.sid);
        return;
      }
      case 'ok':
        sequenced(sink, env, ts);
        return;
      case 'unsubscribed':
        if (typeof env.sid === 'number') seqs.forget(env.sid);
        return;
      case 'error':
        st.errors++;
        return;
      case 'connection': {
        const state = (env as { state?: unknown }).state;
        if (state === 'down' || state === 'up') {
          markAllStale(sink, ts);
          return;
        }
        reject(sink, frame.source, 'connection frame without state');
        return;
      }
      default:
        reject(sink, frame.source, `unknown message type ${JSON.stringify(env.type)}`);
        return;
    }
  }

  return {
    sources: SOURCES,
    decode(frame, sink) {
      st.frames++;
      const source = baseSource(frame.source);
      switch (source) {
        case 'kalshi.ws':
          decodeWs(frame, sink);
          return;
        case 'kalshi.rest.markets': {
          const r = marketsOf(frame.data);
          if (typeof r === 'string') {
            reject(sink, frame.source, r);
            return;
          }
          for (const wm of r.markets) emitMarket(sink, frame.source, wm, frame.ts);
          return;
        }
        case 'kalshi.rest.events': {
          const r = eventsOf(frame.data);
          if (typeof r === 'string') {
            reject(sink, frame.source, r);
            return;
          }
          for (const ev of r.events) {
            if (!ev || typeof ev.event_ticker !== 'string') {
              reject(sink, frame.source, 'event has no event_ticker');
              continue;
            }
            const me = ev.mutually_exclusive === true;
            const before = exclusive.get(ev.event_ticker);
            exclusive.set(ev.event_ticker, me);
            if (Array.isArray(ev.markets)) {
              for (const wm of ev.markets) {
                emitMarket(
                  sink,
                  frame.source,
                  { ...wm, event_ticker: wm?.event_ticker ?? ev.event_ticker },
                  frame.ts,
                );
              }
            } else if (before !== me) {
              // Markets seen before their event: publish them again with the group now known.
              for (const t of byEvent.get(ev.event_ticker) ?? []) {
                const wm = wireMarkets.get(t);
                if (wm) emitMarket(sink, frame.source, wm, frame.ts);
              }
            }
          }
          return;
        }
        case 'kalshi.rest.series': {
          const ser = (frame.data as { series?: WireSeries } | null)?.series;
          const ticker = typeof ser?.ticker === 'string' && ser.ticker !== '' ? ser.ticker : undefined;
          if (!ticker) {
            reject(sink, frame.source, 'series response has no series.ticker');
            return;
          }
          const fees = seriesFees(ser);
          if (typeof fees === 'string') {
            // unreadable schedule: the series' markets keep unknown fees (never priced), with the reason
            reject(sink, frame.source, fees);
            return;
          }
          seriesFeeMap.set(ticker, fees);
          // markets listed before their series: publish them again with the schedule now known
          for (const t of bySeries.get(ticker) ?? []) {
            const wm = wireMarkets.get(t);
            if (wm) emitMarket(sink, frame.source, wm, frame.ts);
          }
          return;
        }
        case 'kalshi.rest.orderbook': {
          const m = frame.req?.path ? ORDERBOOK_PATH.exec(frame.req.path) : null;
          if (!m) {
            reject(
              sink,
              frame.source,
              'orderbook response without a /markets/{ticker}/orderbook request path',
            );
            return;
          }
          const ticker = decodeURIComponent(m[1]!);
          const ob = parseRestOrderbook(frame.data);
          if (typeof ob === 'string') {
            reject(sink, frame.source, ob);
            return;
          }
          const existing = local.get(ticker);
          if (existing && existing.sid >= 0 && !existing.stale) return; // the live websocket book is newer
          const b = bookOf(ticker);
          b.yes.replace(ob.yes);
          b.no.replace(ob.no);
          invalidate(b);
          b.sid = -1;
          b.stale = false;
          b.seq = undefined;
          b.eventTime = undefined;
          emitBook(sink, b, frame.ts);
          return;
        }
        default:
          reject(sink, frame.source, `kalshi decoder does not handle source ${frame.source}`);
          return;
      }
    },
    *books() {
      for (const b of local.values()) {
        yield tokenBook(b, true, b.receiveTime);
        yield tokenBook(b, false, b.receiveTime);
      }
    },
    stats() {
      let staleBooks = 0;
      for (const b of local.values()) if (b.stale) staleBooks++;
      return { ...st, staleBooks };
    },
    markets: () => lastMarkets,
    staleSids: () => [...staleSids],
  };
}
