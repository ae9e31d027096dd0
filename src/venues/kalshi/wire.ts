/**
 * Kalshi trade API v2 JSON as it is on the wire (API-NOTES K1–K15). Only the fixed-point fields are typed:
 * the integer-cent/count fields (`yes_bid`, `price`, `count`, `volume`, orderbook `yes`/`no` …) were removed on
 * 2026-03-12 (K1) and are deliberately ignored even where old captures still carry them.
 *
 * Every field is optional here: the parse step checks what it needs and rejects the frame otherwise.
 */

/** `"0.1200"`: dollars, up to 4 decimals. */
export type Dollars = string;
/** `"10.00"`: contracts, 2 decimals, fractional allowed. */
export type CountFp = string;
/** `[price_dollars, count_fp]`, ascending by price, best bid LAST (K5). */
export type WireLevel = [Dollars, CountFp];

export interface WirePriceRange {
  start?: Dollars;
  end?: Dollars;
  step?: Dollars;
}

export interface WireMarket {
  ticker?: string;
  event_ticker?: string;
  market_type?: string;
  title?: string;
  subtitle?: string;
  yes_sub_title?: string;
  no_sub_title?: string;
  status?: string;
  /** `""` until settled, then `"yes"` / `"no"` (scalar markets may carry other values). */
  result?: string;
  open_time?: string;
  close_time?: string;
  expected_expiration_time?: string;
  expiration_time?: string;
  latest_expiration_time?: string;
  occurrence_datetime?: string;
  updated_time?: string;
  created_time?: string;
  rules_primary?: string;
  rules_secondary?: string;
  yes_bid_dollars?: Dollars;
  yes_ask_dollars?: Dollars;
  no_bid_dollars?: Dollars;
  no_ask_dollars?: Dollars;
  last_price_dollars?: Dollars;
  yes_bid_size_fp?: CountFp;
  yes_ask_size_fp?: CountFp;
  volume_fp?: CountFp;
  volume_24h_fp?: CountFp;
  open_interest_fp?: CountFp;
  notional_value_dollars?: Dollars;
  price_level_structure?: 'linear_cent' | 'deci_cent' | 'tapered_deci_cent' | string;
  price_ranges?: WirePriceRange[];
  fractional_trading_enabled?: boolean;
  /** Integer in the docs; ccxt-derived captures show a string (K4). */
  settlement_timer_seconds?: number | string;
  can_close_early?: boolean;
  /** Strike fields of threshold/range markets: numbers in the docs (strings accepted). */
  floor_strike?: number | string;
  cap_strike?: number | string;
  /** greater, greater_or_equal, less, less_or_equal, between, structured, custom, functional … */
  strike_type?: string;
}

/** `GET /series/{series_ticker}` → `{series: {...}}`: the fee schedule of every market of the series. */
export interface WireSeries {
  ticker?: string;
  title?: string;
  /** quadratic, quadratic_with_maker_fees, flat, … */
  fee_type?: string;
  /** a number (docs); strings and fractions seen in third-party copies */
  fee_multiplier?: number | string;
  settlement_sources?: Array<{ name?: string; url?: string }>;
}

export interface WireEvent {
  event_ticker?: string;
  series_ticker?: string;
  title?: string;
  sub_title?: string;
  category?: string;
  mutually_exclusive?: boolean;
  /** Only with `with_nested_markets=true`. */
  markets?: WireMarket[];
}

/** GET /markets → `{markets, cursor}` (empty cursor = last page); GET /markets/{ticker} → `{market}` (K2). */
export interface WireMarketsResponse {
  markets?: WireMarket[];
  market?: WireMarket;
  cursor?: string;
}

/** GET /events → `{events, cursor}`; GET /events/{ticker} → `{event, markets?}`. */
export interface WireEventsResponse {
  events?: WireEvent[];
  event?: WireEvent;
  markets?: WireMarket[];
  cursor?: string;
}

/** GET /markets/{ticker}/orderbook (K5). The response does not name its market: the request path does. */
export interface WireOrderbookResponse {
  orderbook_fp?: { yes_dollars?: WireLevel[] | null; no_dollars?: WireLevel[] | null };
}

/** GET /markets/trades (K10). */
export interface WireRestTrade {
  trade_id?: string;
  ticker?: string;
  yes_price_dollars?: Dollars;
  no_price_dollars?: Dollars;
  count_fp?: CountFp;
  taker_side?: 'yes' | 'no';
  created_time?: string;
}

// ---------------------------------------------------------------- websocket (K11–K15)

/** Envelope `{type, sid, seq?, msg}`; seq is per subscription (sid), not per market (K13). */
export interface WireWsEnvelope<T = unknown> {
  type?: string;
  id?: number;
  sid?: number;
  seq?: number;
  msg?: T;
}

/** Side keys are omitted when that side is empty (K14). */
export interface WireOrderbookSnapshot {
  market_ticker?: string;
  market_id?: string;
  yes_dollars_fp?: WireLevel[];
  no_dollars_fp?: WireLevel[];
}

export interface WireOrderbookDelta {
  market_ticker?: string;
  market_id?: string;
  price_dollars?: Dollars;
  /** Signed change to ADD to the level; a result ≤ 0 removes it. */
  delta_fp?: CountFp;
  side?: 'yes' | 'no';
  /** ISO string on deltas. */
  ts?: string;
  ts_ms?: number;
}

export interface WireTicker {
  market_ticker?: string;
  market_id?: string;
  price_dollars?: Dollars;
  yes_bid_dollars?: Dollars;
  yes_ask_dollars?: Dollars;
  yes_bid_size_fp?: CountFp;
  yes_ask_size_fp?: CountFp;
  volume_fp?: CountFp;
  open_interest_fp?: CountFp;
  last_trade_size_fp?: CountFp;
  /** Seconds. */
  ts?: number;
  ts_ms?: number;
}

export interface WireWsTrade {
  trade_id?: string;
  market_ticker?: string;
  yes_price_dollars?: Dollars;
  no_price_dollars?: Dollars;
  count_fp?: CountFp;
  taker_side?: 'yes' | 'no';
  /** Seconds. */
  ts?: number;
  ts_ms?: number;
}

/** `{"type":"subscribed","id":1,"msg":{"channel":"orderbook_delta","sid":1}}` */
export interface WireSubscribed {
  channel?: string;
  sid?: number;
}

/** `{"type":"error","id":3,"msg":{"code":8,"msg":"Unknown channel name"}}` */
export interface WireWsError {
  code?: number;
  msg?: string;
}

export type KalshiChannel = 'orderbook_delta' | 'ticker' | 'trade';

/** Commands sent to the socket (K12). */
export type WireWsCommand =
  | {
      id: number;
      cmd: 'subscribe';
      params: { channels: KalshiChannel[]; market_ticker?: string; market_tickers?: string[] };
    }
  | { id: number; cmd: 'unsubscribe'; params: { sids: number[] } }
  | {
      id: number;
      cmd: 'update_subscription';
      params: { sids: number[]; action: 'add_markets' | 'delete_markets'; market_tickers: string[] };
    };

/**
 * Not a Kalshi message: the live feed inserts `{"type":"connection","state":"down"|"up"}` frames (source
 * `kalshi.ws`) when its socket drops or reconnects, so the decoder — live or in a replay of the capture — marks
 * the books stale until fresh snapshots arrive. Kalshi restarts sids at 1 on every connection (K13).
 */
export interface LocalConnectionFrame {
  type: 'connection';
  state: 'down' | 'up';
}
