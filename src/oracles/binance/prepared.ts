/**
 * Binance websocket trade/aggTrade and bookTicker frames checked and read into numbers off the main thread (the
 * capture read worker, src/capture/read-worker.ts): replay and backtest skip their JSON.parse and the decimal
 * parsing. Only a combined-stream frame the decoder would turn into a tick is prepared, through the decoder's own
 * path (the same early branches of decodeWs, splitStream, parseTrade/parseAggTrade/parseBookTicker), so a
 * prepared frame gives the tick its JSON would; any other frame reaches the decoder as JSON.
 */
import type { PreparedWriter } from '../../feeds/types.ts';
import { parseAggTrade, parseBookTicker, parseTrade, splitStream } from './parse.ts';
import type { WireAggTrade, WireBookTicker, WireTrade } from './wire.ts';

/** A trade or aggTrade: what onTrade in the decoder reads of it. */
export class PreparedBinanceTrade {
  constructor(
    /** normalized ("BTC/USDT") */
    readonly symbol: string,
    /** 1e-8 units */
    readonly price: number,
    /** trade time T, else event time E, else undefined (as the decoder picks it) */
    readonly eventTime: number | undefined,
  ) {}
}

/** A bookTicker: what onQuote in the decoder reads of it. */
export class PreparedBinanceQuote {
  constructor(
    readonly symbol: string,
    readonly bid: number,
    readonly ask: number,
    readonly eventTime: number | undefined,
  ) {}
}

/** The first number written: which of the two follows. */
export const BINANCE_TRADE = 0;
export const BINANCE_QUOTE = 1;

/**
 * Writes a trade as BINANCE_TRADE, symbol, price, eventTime (NaN: none), or a bookTicker as BINANCE_QUOTE, symbol,
 * bid, ask, eventTime, if `data` is a combined-stream frame the decoder would take as one; otherwise writes nothing
 * and returns false. (NaN is free as "none": a JSON number is never NaN.)
 */
export function prepareBinanceWs(data: unknown, w: PreparedWriter): boolean {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return false;
  const obj = data as Record<string, unknown>;
  // the frames decodeWs takes before it looks at the stream (connection, subscribe reply, error) stay JSON
  if (obj.type === 'connection' || ('result' in obj && 'id' in obj) || ('code' in obj && 'msg' in obj))
    return false;
  if (typeof obj.stream !== 'string') return false; // a bare payload: rare, the JSON path
  const d = obj.data;
  if (!d || typeof d !== 'object') return false;
  const { kind } = splitStream(obj.stream);
  if (kind === 'trade' || kind === 'aggTrade') {
    const t = kind === 'trade' ? parseTrade(d as WireTrade) : parseAggTrade(d as WireAggTrade);
    if (typeof t === 'string') return false;
    w.num(BINANCE_TRADE);
    w.str(t.symbol);
    w.num(t.price);
    w.num(t.time ?? t.eventTime ?? Number.NaN);
    return true;
  }
  if (kind === 'bookTicker') {
    const q = parseBookTicker(d as WireBookTicker);
    if (typeof q === 'string') return false;
    w.num(BINANCE_QUOTE);
    w.str(q.symbol);
    w.num(q.bid);
    w.num(q.ask);
    w.num(q.eventTime ?? Number.NaN);
    return true;
  }
  return false;
}
