/**
 * Binance's pure parse step: wire JSON (wire.ts) → normalized values. Prices and quantities become integer 1e-8
 * units (`parseE8`), symbols become "BTC/USDT" style, times stay epoch ms. Functions return a reason string
 * instead of throwing on bad input.
 */
import { parseE8 } from '../../core/money.ts';
import type {
  WireAggTrade,
  WireBookTicker,
  WireDepth,
  WireDepthUpdate,
  WireRestAggTrade,
  WireRestBookTicker,
  WireRestPrice,
  WireRestTicker24h,
  WireRestTrade,
  WireTicker24h,
  WireTrade,
  WireWsRequest,
} from './wire.ts';

/** Quote assets, longest first so FDUSD wins over USD and USDT over USD. */
const QUOTES = [
  'FDUSD',
  'USDT',
  'USDC',
  'TUSD',
  'BUSD',
  'USDP',
  'DAI',
  'USD',
  'EUR',
  'TRY',
  'BRL',
  'GBP',
  'JPY',
  'BTC',
  'ETH',
  'BNB',
];

/**
 * Remembered answers of a pure string function, for the few distinct names a feed repeats on every frame (symbols,
 * stream names): a Map lookup instead of upper-casing, slicing and concatenating per frame. Emptied when it grows
 * past `cap` (a feed of ever-new names costs what it did without the cache).
 */
function memo<T>(fn: (s: string) => T, cap = 1024): (s: string) => T {
  const seen = new Map<string, T>();
  return (s) => {
    let v = seen.get(s);
    if (v === undefined) {
      if (seen.size >= cap) seen.clear();
      v = fn(s);
      seen.set(s, v);
    }
    return v;
  };
}

/** "BTCUSDT" / "btcusdt" → "BTC/USDT"; unknown quotes are returned upper-cased as they are. */
export const normalizeSymbol: (raw: string) => string = memo(normalizeSymbolOnce);

function normalizeSymbolOnce(raw: string): string {
  const s = raw.toUpperCase();
  for (const q of QUOTES) {
    if (s.length > q.length && s.endsWith(q)) return `${s.slice(0, -q.length)}/${q}`;
  }
  return s;
}

/** "BTC/USDT" → "BTCUSDT" (REST `symbol=`), lower-cased for stream names by the caller. */
export const binanceSymbol = (normalized: string): string => normalized.replace('/', '').toUpperCase();

/** Decimal string → 1e-8 units, NaN when malformed (never throws). Extra decimals round half up. */
export function e8(v: unknown): number {
  if (typeof v !== 'string' && typeof v !== 'number') return Number.NaN;
  try {
    return parseE8(v, 'round');
  } catch {
    return Number.NaN;
  }
}

const ok = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

/**
 * `btcusdt@bookTicker` → { symbol: "BTCUSDT", kind: "bookTicker" }; `!serverShutdown` → kind "serverShutdown".
 * The answer is shared between calls with the same stream name: read it, do not change it.
 */
export const splitStream: (stream: string) => { readonly symbol?: string; readonly kind: string } =
  memo(splitStreamOnce);

function splitStreamOnce(stream: string): { symbol?: string; kind: string } {
  if (stream.startsWith('!')) return { kind: stream.slice(1) };
  const at = stream.indexOf('@');
  if (at < 0) return { kind: stream };
  return { symbol: stream.slice(0, at).toUpperCase(), kind: stream.slice(at + 1) };
}

export interface SpotTrade {
  symbol: string;
  price: number;
  qty: number;
  /** Trade time (T), epoch ms. */
  time?: number;
  /** Event time (E). */
  eventTime?: number;
  /** Side of the aggressor: `m` (buyer is maker) means the taker sold (B4). */
  aggressor: 'buy' | 'sell';
}

function trade(s: unknown, p: unknown, q: unknown, T: unknown, E: unknown, m: unknown): SpotTrade | string {
  if (typeof s !== 'string' || s === '') return 'trade has no symbol';
  const price = e8(p);
  const qty = e8(q);
  if (!ok(price) || !ok(qty)) return 'trade has a malformed price or quantity';
  // the usual shape (T and E both there) as one literal: spreads of conditional objects cost more than the parse
  if (typeof T === 'number' && typeof E === 'number')
    return {
      symbol: normalizeSymbol(s),
      price,
      qty,
      time: T,
      eventTime: E,
      aggressor: m === true ? 'sell' : 'buy',
    };
  return {
    symbol: normalizeSymbol(s),
    price,
    qty,
    ...(typeof T === 'number' ? { time: T } : {}),
    ...(typeof E === 'number' ? { eventTime: E } : {}),
    aggressor: m === true ? 'sell' : 'buy',
  };
}

export const parseTrade = (d: WireTrade): SpotTrade | string =>
  d && typeof d === 'object' ? trade(d.s, d.p, d.q, d.T, d.E, d.m) : 'trade is not an object';

export const parseAggTrade = (d: WireAggTrade): SpotTrade | string =>
  d && typeof d === 'object' ? trade(d.s, d.p, d.q, d.T, d.E, d.m) : 'aggTrade is not an object';

export interface Quote {
  symbol: string;
  bid: number;
  bidQty: number;
  ask: number;
  askQty: number;
  eventTime?: number;
  updateId?: number;
}

function quote(s: unknown, b: unknown, B: unknown, a: unknown, A: unknown, time: unknown): Quote | string {
  if (typeof s !== 'string' || s === '') return 'quote has no symbol';
  const bid = e8(b);
  const ask = e8(a);
  const bidQty = e8(B);
  const askQty = e8(A);
  if (!ok(bid) || !ok(ask) || !ok(bidQty) || !ok(askQty)) return 'quote has a malformed price or quantity';
  // spot bookTicker has no time (B5): one literal, no spread
  if (time === undefined) return { symbol: normalizeSymbol(s), bid, bidQty, ask, askQty };
  return {
    symbol: normalizeSymbol(s),
    bid,
    bidQty,
    ask,
    askQty,
    ...(typeof time === 'number' ? { eventTime: time } : {}),
  };
}

/** Spot bookTicker has no E/T (B5); futures-style frames carry them, E preferred. */
export function parseBookTicker(d: WireBookTicker): Quote | string {
  if (!d || typeof d !== 'object') return 'bookTicker is not an object';
  const q = quote(d.s, d.b, d.B, d.a, d.A, d.E ?? d.T);
  if (typeof q !== 'string' && typeof d.u === 'number') q.updateId = d.u;
  return q;
}

export const parseRestBookTicker = (d: WireRestBookTicker): Quote | string =>
  d && typeof d === 'object'
    ? quote(d.symbol, d.bidPrice, d.bidQty, d.askPrice, d.askQty, undefined)
    : 'bookTicker is not an object';

export interface LastPrice {
  symbol: string;
  price: number;
  bid?: number;
  ask?: number;
  eventTime?: number;
}

/** REST ticker/price, one object or an array (B1). */
export function parseRestPrices(d: unknown): LastPrice[] | string {
  const items = Array.isArray(d) ? (d as WireRestPrice[]) : [d as WireRestPrice];
  const out: LastPrice[] = [];
  for (const it of items) {
    if (!it || typeof it !== 'object' || typeof it.symbol !== 'string')
      return 'ticker/price item has no symbol';
    const price = e8(it.price);
    if (!ok(price)) return `ticker/price ${it.symbol} has a malformed price`;
    out.push({ symbol: normalizeSymbol(it.symbol), price });
  }
  return out;
}

/** REST ticker/24hr: last price, best bid/ask, closeTime as the event time. */
export function parseRestTicker24h(d: WireRestTicker24h): LastPrice | string {
  if (!d || typeof d !== 'object' || typeof d.symbol !== 'string') return '24hr ticker has no symbol';
  const price = e8(d.lastPrice);
  const bid = e8(d.bidPrice);
  const ask = e8(d.askPrice);
  if (!ok(price)) return '24hr ticker has a malformed lastPrice';
  return {
    symbol: normalizeSymbol(d.symbol),
    price,
    ...(ok(bid) ? { bid } : {}),
    ...(ok(ask) ? { ask } : {}),
    ...(typeof d.closeTime === 'number' ? { eventTime: d.closeTime } : {}),
  };
}

/** WS `<symbol>@ticker` (24hrTicker event). */
export function parseTicker24h(d: WireTicker24h): LastPrice | string {
  if (!d || typeof d !== 'object' || typeof d.s !== 'string') return '24hrTicker has no symbol';
  const price = e8(d.c);
  const bid = e8(d.b);
  const ask = e8(d.a);
  if (!ok(price)) return '24hrTicker has a malformed last price';
  return {
    symbol: normalizeSymbol(d.s),
    price,
    ...(ok(bid) ? { bid } : {}),
    ...(ok(ask) ? { ask } : {}),
    ...(typeof d.E === 'number' ? { eventTime: d.E } : {}),
  };
}

export interface DepthLevels {
  bids: Array<[number, number]>;
  asks: Array<[number, number]>;
  lastUpdateId?: number;
}

function levels(ls: unknown): Array<[number, number]> | undefined {
  if (ls === undefined) return [];
  if (!Array.isArray(ls)) return undefined;
  const out: Array<[number, number]> = [];
  for (const l of ls) {
    if (!Array.isArray(l) || l.length < 2) return undefined;
    const p = e8(l[0]);
    const q = e8(l[1]);
    if (!ok(p) || !ok(q)) return undefined;
    out.push([p, q]);
  }
  return out;
}

/** REST depth and WS partial depth: best first — bids descending, asks ascending (B1). */
export function parseDepth(d: WireDepth): DepthLevels | string {
  if (!d || typeof d !== 'object') return 'depth is not an object';
  const bids = levels(d.bids);
  const asks = levels(d.asks);
  if (!bids || !asks) return 'depth has a malformed level';
  return { bids, asks, ...(typeof d.lastUpdateId === 'number' ? { lastUpdateId: d.lastUpdateId } : {}) };
}

export interface DepthDiff extends DepthLevels {
  symbol: string;
  firstUpdateId: number;
  finalUpdateId: number;
  eventTime?: number;
}

/** WS diff depth (B7): quantity 0 removes a level; continuity is `U == previous u + 1`. */
export function parseDepthUpdate(d: WireDepthUpdate): DepthDiff | string {
  if (!d || typeof d !== 'object' || typeof d.s !== 'string') return 'depthUpdate has no symbol';
  if (typeof d.U !== 'number' || typeof d.u !== 'number') return 'depthUpdate has no update ids';
  const bids = levels(d.b);
  const asks = levels(d.a);
  if (!bids || !asks) return 'depthUpdate has a malformed level';
  return {
    symbol: normalizeSymbol(d.s),
    firstUpdateId: d.U,
    finalUpdateId: d.u,
    bids,
    asks,
    ...(typeof d.E === 'number' ? { eventTime: d.E } : {}),
  };
}

/** REST `GET /api/v3/trades` (symbol from the request). */
export function parseRestTrades(symbol: string, d: unknown): SpotTrade[] | string {
  if (!Array.isArray(d)) return 'trades response is not an array';
  const out: SpotTrade[] = [];
  for (const t of d as WireRestTrade[]) {
    const r = trade(symbol, t?.price, t?.qty, t?.time, undefined, t?.isBuyerMaker);
    if (typeof r === 'string') return r;
    out.push(r);
  }
  return out;
}

/** REST `GET /api/v3/aggTrades` (symbol from the request). */
export function parseRestAggTrades(symbol: string, d: unknown): SpotTrade[] | string {
  if (!Array.isArray(d)) return 'aggTrades response is not an array';
  const out: SpotTrade[] = [];
  for (const t of d as WireRestAggTrade[]) {
    const r = trade(symbol, t?.p, t?.q, t?.T, undefined, t?.m);
    if (typeof r === 'string') return r;
    out.push(r);
  }
  return out;
}

/** Mid of bid and ask, rounded down to a whole 1e-8 unit. */
export const mid = (bid: number, ask: number): number => Math.floor((bid + ask) / 2);

/** `{"method":"SUBSCRIBE","params":[…],"id":n}` (B3). */
export const subscribeRequest = (id: number, streams: readonly string[]): WireWsRequest => ({
  method: 'SUBSCRIBE',
  params: [...streams],
  id,
});
