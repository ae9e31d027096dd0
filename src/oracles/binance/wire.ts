/**
 * Binance spot JSON as it is on the wire (API-NOTES B1–B7). Prices and quantities are strings with up to 8
 * decimals; times are epoch ms numbers. Every field is optional here: the parse step checks what it needs.
 */

/** `wss://…/stream?streams=a/b` wraps every payload (B3); stream names are lower-case, `s` upper-case. */
export interface WireCombined<T = unknown> {
  stream?: string;
  data?: T;
}

/** `<symbol>@trade` (B4). `b`/`a` order ids were removed 2024-06-18 and are ignored. */
export interface WireTrade {
  e?: 'trade';
  E?: number;
  s?: string;
  t?: number;
  p?: string;
  q?: string;
  T?: number;
  /** Buyer is the maker ⇒ the aggressor sold. */
  m?: boolean;
  M?: boolean;
}

/** `<symbol>@aggTrade` (B4); captures may carry unknown keys such as `st`. */
export interface WireAggTrade {
  e?: 'aggTrade';
  E?: number;
  s?: string;
  a?: number;
  p?: string;
  q?: string;
  f?: number;
  l?: number;
  T?: number;
  m?: boolean;
  M?: boolean;
}

/** `<symbol>@bookTicker`: spot has no `e`/`E`/`T` (B5); futures-style captures add `E`/`T`. */
export interface WireBookTicker {
  u?: number;
  s?: string;
  b?: string;
  B?: string;
  a?: string;
  A?: string;
  E?: number;
  T?: number;
}

/** `<symbol>@ticker` (24-hour rolling window): `c` last price, `b`/`a` best bid/ask. */
export interface WireTicker24h {
  e?: '24hrTicker';
  E?: number;
  s?: string;
  c?: string;
  b?: string;
  a?: string;
  C?: number;
}

/** `<symbol>@depth` diff (B7). */
export interface WireDepthUpdate {
  e?: 'depthUpdate';
  E?: number;
  s?: string;
  U?: number;
  u?: number;
  b?: Array<[string, string]>;
  a?: Array<[string, string]>;
}

/** `<symbol>@depth5|10|20` partial book and REST `GET /api/v3/depth` (B1): best first. */
export interface WireDepth {
  lastUpdateId?: number;
  bids?: Array<[string, string]>;
  asks?: Array<[string, string]>;
}

/** `{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":…}}` precedes planned disconnects (B6). */
export interface WireServerShutdown {
  e?: 'serverShutdown';
  E?: number;
}

/** REST `GET /api/v3/ticker/price`: an object with `symbol`, an array without or with `symbols` (B1). */
export interface WireRestPrice {
  symbol?: string;
  price?: string;
}

/** REST `GET /api/v3/ticker/bookTicker`. */
export interface WireRestBookTicker {
  symbol?: string;
  bidPrice?: string;
  bidQty?: string;
  askPrice?: string;
  askQty?: string;
}

/** REST `GET /api/v3/ticker/24hr`. */
export interface WireRestTicker24h extends WireRestBookTicker {
  lastPrice?: string;
  closeTime?: number;
}

/** REST `GET /api/v3/trades`. */
export interface WireRestTrade {
  id?: number;
  price?: string;
  qty?: string;
  time?: number;
  isBuyerMaker?: boolean;
}

/** REST `GET /api/v3/aggTrades`. */
export interface WireRestAggTrade {
  a?: number;
  p?: string;
  q?: string;
  T?: number;
  m?: boolean;
}

/** `{"method":"SUBSCRIBE","params":[…],"id":1}` → `{"result":null,"id":1}` (B3). */
export interface WireWsRequest {
  method: 'SUBSCRIBE' | 'UNSUBSCRIBE' | 'LIST_SUBSCRIPTIONS';
  params: string[];
  id: number;
}

/**
 * Not a Binance message: the live feed inserts `{"type":"connection","state":"down"|"up"}` (source `binance.ws`)
 * when its socket drops or reopens, so the decoder marks ticks stale live and in replays.
 */
export interface LocalConnectionFrame {
  type: 'connection';
  state: 'down' | 'up';
}
