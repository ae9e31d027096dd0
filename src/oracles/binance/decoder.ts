/**
 * Binance decoder: raw frames → OracleTicks (source 'binance', symbols "BTC/USDT", prices in 1e-8 units).
 *
 * - `binance.ws`: combined-stream frames `{stream, data}` are dispatched by the stream NAME (spot bookTicker has
 *   no `e`, B5); bare payloads by `e`. trade/aggTrade → a tick at the trade price (event time T, else E) that
 *   also carries the last known bid/ask; bookTicker and partial depth → a tick at the mid with bid/ask;
 *   24hrTicker → last price with bid/ask. Diff depth (`depthUpdate`) and subscribe replies are accepted silently.
 *   `serverShutdown` and the feed's local `{type:"connection"}` frames re-emit every known symbol as stale.
 * - `binance.rest.ticker`: ticker/price (object or array), bookTicker, 24hr ticker.
 * - `binance.rest.depth`: the symbol comes from the request (`req.query.symbol`).
 * Malformed frames go to `sink.reject`; nothing here throws on input.
 */
import type { OracleTick } from '../../core/messages.ts';
import {
  baseSource,
  type Decoder,
  type FeedSink,
  type RawFrame,
  type SourceName,
} from '../../feeds/types.ts';
import {
  type LastPrice,
  mid,
  normalizeSymbol,
  parseAggTrade,
  parseBookTicker,
  parseDepth,
  parseRestBookTicker,
  parseRestPrices,
  parseRestTicker24h,
  parseTicker24h,
  parseTrade,
  type Quote,
  type SpotTrade,
  splitStream,
} from './parse.ts';
import { PreparedBinanceQuote, PreparedBinanceTrade } from './prepared.ts';
import type { WireCombined } from './wire.ts';

export interface BinanceDecoderStats {
  frames: number;
  rejected: number;
  ticks: number;
  shutdowns: number;
}

export interface BinanceDecoder extends Decoder {
  stats(): BinanceDecoderStats;
  /** Latest tick per symbol. */
  latest(): ReadonlyMap<string, OracleTick>;
}

interface SymState {
  last?: number;
  bid?: number;
  ask?: number;
  tick?: OracleTick;
}

const SOURCES: readonly SourceName[] = ['binance.ws', 'binance.rest.ticker', 'binance.rest.depth'];

export function createBinanceDecoder(): BinanceDecoder {
  const state = new Map<string, SymState>();
  const latest = new Map<string, OracleTick>();
  const st: BinanceDecoderStats = { frames: 0, rejected: 0, ticks: 0, shutdowns: 0 };

  const reject = (sink: FeedSink, source: string, reason: string): undefined => {
    st.rejected++;
    sink.reject(source, reason);
  };
  const sym = (s: string): SymState => {
    let x = state.get(s);
    if (!x) {
      x = {};
      state.set(s, x);
    }
    return x;
  };
  const emit = (
    sink: FeedSink,
    symbol: string,
    price: number,
    eventTime: number | undefined,
    ts: number,
  ): undefined => {
    const s = sym(symbol);
    // the usual ticks (bid and ask known; a trade's event time, a spot bookTicker's none) as one literal each, in
    // the key order of the general one: spreads of conditional objects cost more than the parse
    const tick: OracleTick =
      s.bid === undefined || s.ask === undefined
        ? general(symbol, price, s, eventTime, ts)
        : eventTime !== undefined
          ? {
              type: 'tick',
              source: 'binance',
              symbol,
              price,
              bid: s.bid,
              ask: s.ask,
              stale: false,
              eventTime,
              receiveTime: ts,
            }
          : {
              type: 'tick',
              source: 'binance',
              symbol,
              price,
              bid: s.bid,
              ask: s.ask,
              stale: false,
              receiveTime: ts,
            };
    s.tick = tick;
    latest.set(symbol, tick);
    st.ticks++;
    sink.emit(tick);
  };
  const general = (
    symbol: string,
    price: number,
    s: SymState,
    eventTime: number | undefined,
    ts: number,
  ): OracleTick => {
    return {
      type: 'tick',
      source: 'binance',
      symbol,
      price,
      ...(s.bid !== undefined ? { bid: s.bid } : {}),
      ...(s.ask !== undefined ? { ask: s.ask } : {}),
      stale: false,
      ...(eventTime !== undefined ? { eventTime } : {}),
      receiveTime: ts,
    };
  };
  const onTrade = (sink: FeedSink, source: string, t: SpotTrade | string, ts: number): undefined => {
    if (typeof t === 'string') return reject(sink, source, t);
    sym(t.symbol).last = t.price;
    emit(sink, t.symbol, t.price, t.time ?? t.eventTime, ts);
  };
  const onQuote = (sink: FeedSink, source: string, q: Quote | string, ts: number): undefined => {
    if (typeof q === 'string') return reject(sink, source, q);
    const s = sym(q.symbol);
    s.bid = q.bid;
    s.ask = q.ask;
    emit(sink, q.symbol, mid(q.bid, q.ask), q.eventTime, ts);
  };
  const onLast = (sink: FeedSink, l: LastPrice, ts: number): undefined => {
    const s = sym(l.symbol);
    s.last = l.price;
    if (l.bid !== undefined) s.bid = l.bid;
    if (l.ask !== undefined) s.ask = l.ask;
    emit(sink, l.symbol, l.price, l.eventTime, ts);
  };
  const onDepth = (sink: FeedSink, source: string, symbol: string, data: unknown, ts: number): undefined => {
    const d = parseDepth(data as never);
    if (typeof d === 'string') return reject(sink, source, d);
    const b = d.bids[0];
    const a = d.asks[0];
    if (!b || !a) return reject(sink, source, `depth for ${symbol} has an empty side`);
    const s = sym(symbol);
    s.bid = b[0];
    s.ask = a[0];
    emit(sink, symbol, mid(b[0], a[0]), undefined, ts);
  };
  const allStale = (sink: FeedSink, ts: number): undefined => {
    for (const [symbol, s] of state) {
      if (!s.tick || s.tick.stale) continue;
      const t: OracleTick = { ...s.tick, stale: true, receiveTime: ts };
      s.tick = t;
      latest.set(symbol, t);
      sink.emit(t);
    }
  };

  function decodeWs(frame: RawFrame, sink: FeedSink): undefined {
    const src = frame.source;
    const raw = frame.data;
    // read by the capture read worker (prepared.ts): applied as onTrade/onQuote apply the parsed frame
    if (raw instanceof PreparedBinanceTrade) {
      sym(raw.symbol).last = raw.price;
      return emit(sink, raw.symbol, raw.price, raw.eventTime, frame.ts);
    }
    if (raw instanceof PreparedBinanceQuote) {
      const s = sym(raw.symbol);
      s.bid = raw.bid;
      s.ask = raw.ask;
      return emit(sink, raw.symbol, mid(raw.bid, raw.ask), raw.eventTime, frame.ts);
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      return reject(
        sink,
        src,
        typeof raw === 'string' ? 'websocket frame is not JSON' : 'frame is not an object',
      );
    }
    const obj = raw as Record<string, unknown>;
    if (obj.type === 'connection') {
      if (obj.state === 'down' || obj.state === 'up') return allStale(sink, frame.ts);
      return reject(sink, src, 'connection frame without state');
    }
    if ('result' in obj && 'id' in obj) return; // reply to SUBSCRIBE/UNSUBSCRIBE (B3)
    if ('code' in obj && 'msg' in obj)
      return reject(sink, src, `binance error ${String(obj.code)}: ${String(obj.msg)}`);
    let kind: string;
    let symbol: string | undefined;
    let data: Record<string, unknown>;
    if (typeof obj.stream === 'string') {
      const c = obj as WireCombined<Record<string, unknown>>;
      if (!c.data || typeof c.data !== 'object') return reject(sink, src, `stream ${obj.stream} has no data`);
      ({ kind, symbol } = splitStream(obj.stream));
      data = c.data;
    } else {
      data = obj;
      if (typeof obj.e === 'string') kind = obj.e;
      else if ('u' in obj && 'b' in obj && 'a' in obj) kind = 'bookTicker';
      else if ('lastUpdateId' in obj)
        return reject(sink, src, 'partial depth without a stream name has no symbol');
      else return reject(sink, src, 'frame has neither a stream name nor an event type');
    }
    const ts = frame.ts;
    switch (kind) {
      case 'trade':
        return onTrade(sink, src, parseTrade(data), ts);
      case 'aggTrade':
        return onTrade(sink, src, parseAggTrade(data), ts);
      case 'bookTicker':
        return onQuote(sink, src, parseBookTicker(data), ts);
      case 'ticker':
      case '24hrTicker': {
        const l = parseTicker24h(data);
        if (typeof l === 'string') return reject(sink, src, l);
        return onLast(sink, l, ts);
      }
      case 'serverShutdown':
        st.shutdowns++;
        return allStale(sink, ts);
      case 'depthUpdate':
        return; // diff depth: the oracle publishes top of book from bookTicker instead
      default:
        if (kind.startsWith('depth')) {
          // `<symbol>@depth5`, `@depth10@100ms` … partial books; `@depth`/`@depth@100ms` diffs carry e=depthUpdate
          if (data.e === 'depthUpdate') return;
          if (!symbol) return reject(sink, src, 'depth frame without a symbol');
          return onDepth(sink, src, normalizeSymbol(symbol), data, ts);
        }
        return reject(sink, src, `unknown stream kind ${JSON.stringify(kind)}`);
    }
  }

  return {
    sources: SOURCES,
    decode(frame, sink) {
      st.frames++;
      switch (baseSource(frame.source)) {
        case 'binance.ws':
          return decodeWs(frame, sink);
        case 'binance.rest.ticker': {
          const d = frame.data;
          const first = Array.isArray(d) ? d[0] : d;
          if (!first || typeof first !== 'object') {
            if (Array.isArray(d) && d.length === 0) return;
            return reject(sink, frame.source, 'ticker response is not an object or array');
          }
          const items = Array.isArray(d) ? d : [d];
          for (const it of items as Array<Record<string, unknown>>) {
            if (it && 'lastPrice' in it) {
              const l = parseRestTicker24h(it);
              if (typeof l === 'string') reject(sink, frame.source, l);
              else onLast(sink, l, frame.ts);
            } else if (it && 'bidPrice' in it) {
              onQuote(sink, frame.source, parseRestBookTicker(it), frame.ts);
            } else {
              const ps = parseRestPrices(it);
              if (typeof ps === 'string') reject(sink, frame.source, ps);
              else for (const p of ps) onLast(sink, p, frame.ts);
            }
          }
          return;
        }
        case 'binance.rest.depth': {
          const s = frame.req?.query?.symbol;
          if (!s) return reject(sink, frame.source, 'depth response without a symbol in its request');
          return onDepth(sink, frame.source, normalizeSymbol(s), frame.data, frame.ts);
        }
        default:
          return reject(sink, frame.source, `binance decoder does not handle source ${frame.source}`);
      }
    },
    stats: () => ({ ...st }),
    latest: () => latest,
  };
}
