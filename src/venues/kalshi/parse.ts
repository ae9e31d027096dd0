/**
 * Kalshi's pure parse step: wire JSON (wire.ts) → domain objects (core/messages.ts). No I/O, no clock: the
 * receive time comes in with the frame.
 *
 * Prices are `*_dollars` strings with up to 4 decimals and counts are `*_fp` strings with 2 decimals (K1); both
 * become integer micro-units here through a hand-written scanner (this sits on the websocket hot path, so no
 * regex and no exceptions). Asks are implied from the other side's bids: YES ask = 1 − best NO bid, with that
 * bid's size (K6), which in micro-units is an exact integer subtraction.
 */

import { flat } from '../../core/flat.ts';
import { contentVersion } from '../../core/hash.ts';
import type {
  FeeSchedule,
  Level,
  Market,
  MarketStatus,
  SettlementFields,
  TradePrint,
} from '../../core/messages.ts';
import { MICRO, ONE, parseE8 } from '../../core/money.ts';
import { kalshiFeesPending, seriesOf } from './fees.ts';
import type {
  KalshiChannel,
  WireEvent,
  WireLevel,
  WireMarket,
  WireOrderbookResponse,
  WireRestTrade,
  WireTicker,
  WireWsCommand,
  WireWsTrade,
} from './wire.ts';

export const KALSHI = 'kalshi' as const;

export const yesToken = (ticker: string): string => flat(ticker, ':yes');
export const noToken = (ticker: string): string => flat(ticker, ':no');

/**
 * A decimal string → integer micro-units, exactly; NaN when it is not a plain decimal or has a nonzero digit
 * beyond the 6th decimal. Accepts a leading sign (orderbook `delta_fp` is signed). Integer JSON numbers pass too.
 */
export function fixedMicro(v: unknown): number {
  if (typeof v !== 'string') {
    return typeof v === 'number' && Number.isSafeInteger(v) && Math.abs(v) < 9_000_000_000
      ? v * MICRO
      : Number.NaN;
  }
  const n = v.length;
  let i = 0;
  let neg = false;
  if (n === 0) return Number.NaN;
  let c = v.charCodeAt(0);
  if (c === 45 /* - */ || c === 43 /* + */) {
    neg = c === 45;
    i = 1;
  }
  let whole = 0;
  let digits = 0;
  for (; i < n; i++) {
    c = v.charCodeAt(i);
    if (c < 48 || c > 57) break;
    whole = whole * 10 + (c - 48);
    digits++;
  }
  let frac = 0;
  let scale = MICRO;
  if (i < n) {
    if (c !== 46 /* . */) return Number.NaN;
    i++;
    for (; i < n; i++) {
      c = v.charCodeAt(i);
      if (c < 48 || c > 57) return Number.NaN;
      digits++;
      if (scale > 1) {
        scale /= 10;
        frac += (c - 48) * scale;
      } else if (c !== 48) {
        return Number.NaN; // a 7th+ decimal that is not zero: not representable exactly
      }
    }
  }
  if (digits === 0 || whole > 9_000_000_000) return Number.NaN;
  const out = whole * MICRO + frac;
  return neg ? -out : out;
}

/** A price must lie in [0, 1]; sizes must be ≥ 0. */
const isPriceMicro = (p: number): boolean => p >= 0 && p <= ONE;

/**
 * Wire levels `[[price, count], …]` (any order) → micro `[price, size][]`, or undefined when any level is
 * malformed. An absent/null side is an empty side (K14).
 */
export function parseLevels(levels: unknown): Array<[number, number]> | undefined {
  if (levels === undefined || levels === null) return [];
  if (!Array.isArray(levels)) return undefined;
  const out: Array<[number, number]> = new Array(levels.length);
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i] as WireLevel | undefined;
    if (!Array.isArray(l) || l.length < 2) return undefined;
    const p = fixedMicro(l[0]);
    const s = fixedMicro(l[1]);
    if (!isPriceMicro(p) || !(s >= 0)) return undefined;
    out[i] = [p, s];
  }
  return out;
}

export interface ParsedOrderbook {
  /** YES bids and NO bids as micro levels, in wire order (ascending). */
  yes: Array<[number, number]>;
  no: Array<[number, number]>;
}

/** GET /markets/{ticker}/orderbook body (K5). Only `orderbook_fp` is read; legacy `orderbook.yes/no` is ignored. */
export function parseRestOrderbook(data: unknown): ParsedOrderbook | string {
  if (!data || typeof data !== 'object') return 'orderbook response is not an object';
  const ob = (data as WireOrderbookResponse).orderbook_fp;
  if (!ob || typeof ob !== 'object') return 'orderbook response has no orderbook_fp';
  const yes = parseLevels(ob.yes_dollars);
  const no = parseLevels(ob.no_dollars);
  if (!yes || !no) return 'orderbook_fp has a malformed level';
  return { yes, no };
}

/** Best-first views of a two-sided Kalshi book: YES token asks are the NO bids mirrored through 1, and back. */
export interface TokenBooks {
  yes: { bids: Level[]; asks: Level[] };
  no: { bids: Level[]; asks: Level[] };
}

/** Builds best-first token books from bid levels of each side (any order), top `depth` levels. */
export function tokenBooks(
  yesBids: ReadonlyArray<readonly [number, number]>,
  noBids: ReadonlyArray<readonly [number, number]>,
  depth = 20,
): TokenBooks {
  const y = [...yesBids]
    .filter((l) => l[1] > 0)
    .sort((a, b) => b[0] - a[0])
    .slice(0, depth);
  const n = [...noBids]
    .filter((l) => l[1] > 0)
    .sort((a, b) => b[0] - a[0])
    .slice(0, depth);
  const mirror = (ls: Array<readonly [number, number]>): Level[] => ls.map(([p, s]) => [ONE - p, s] as const);
  return {
    yes: { bids: y.map(([p, s]) => [p, s] as const), asks: mirror(n) },
    no: { bids: n.map(([p, s]) => [p, s] as const), asks: mirror(y) },
  };
}

// ---------------------------------------------------------------- markets

/** Smallest valid price step in micro-dollars (K7): from price_ranges when given, else from the structure name. */
export function tickSizeOf(m: WireMarket): number {
  let best = Number.POSITIVE_INFINITY;
  if (Array.isArray(m.price_ranges)) {
    for (const r of m.price_ranges) {
      const step = fixedMicro(r?.step);
      if (step > 0 && step < best) best = step;
    }
  }
  if (Number.isFinite(best)) return best;
  switch (m.price_level_structure) {
    case 'deci_cent':
    case 'tapered_deci_cent':
      return 1_000;
    default:
      return CENT_TICK;
  }
}

/** One cent: the tick of `linear_cent` markets. */
export const CENT_TICK = 10_000;

/** One contract, or 0.01 where fractional trading is enabled. */
export const minSizeOf = (m: WireMarket): number => (m.fractional_trading_enabled === true ? 10_000 : MICRO);
/** One whole contract: the lot of a market without fractional trading. */
export const CONTRACT_LOT = MICRO;
/** Order sizes step by whole contracts, or by 0.01 where fractional trading is enabled (K1). */
export const lotSizeOf = (m: WireMarket): number =>
  m.fractional_trading_enabled === true ? 10_000 : CONTRACT_LOT;

/** A strike field (number or decimal string) → 1e-8 units; undefined when absent or malformed. */
function strikeE8(v: unknown): number | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return undefined;
    v = String(v);
  }
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  try {
    return parseE8(v.trim(), 'round');
  } catch {
    return undefined;
  }
}

/** The structured settlement fields of a market: strikes and strike type from the venue, never from text. */
export function settlementOf(m: WireMarket, series: string | undefined): SettlementFields | undefined {
  const floorStrike = strikeE8(m.floor_strike);
  const capStrike = strikeE8(m.cap_strike);
  const strikeType = typeof m.strike_type === 'string' && m.strike_type !== '' ? m.strike_type : undefined;
  const out: SettlementFields = {
    ...(floorStrike !== undefined ? { floorStrike } : {}),
    ...(capStrike !== undefined ? { capStrike } : {}),
    ...(strikeType ? { strikeType } : {}),
    ...(series ? { series } : {}),
  };
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Parses an ISO-8601 time to epoch ms; undefined when absent or unparseable. */
export function isoMs(s: unknown): number | undefined {
  if (typeof s !== 'string' || s === '') return undefined;
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : undefined;
}

/** Status strings (K3) → our three states; `winner` once the result is settled. */
export function statusOf(m: WireMarket): { status: MarketStatus; winner?: string } {
  const ticker = m.ticker ?? '';
  switch (m.status) {
    case 'active':
    case 'open':
      return { status: 'open' };
    case 'finalized':
    case 'settled':
      if (m.result === 'yes') return { status: 'resolved', winner: yesToken(ticker) };
      if (m.result === 'no') return { status: 'resolved', winner: noToken(ticker) };
      return { status: 'closed' };
    default:
      // initialized, inactive, closed, determined, disputed, amended, and anything new: not tradable
      return { status: 'closed' };
  }
}

export interface MarketContext {
  receiveTime: number;
  /** The event's mutually_exclusive flag when the event is known. */
  mutuallyExclusive?: boolean;
  /** The series' fee schedule once read (`GET /series/{ticker}`); until then the fees are unknown. */
  fees?: FeeSchedule;
}

/** The WireMarket fields toMarket (with tickSizeOf, minSizeOf, lotSizeOf, settlementOf, statusOf) reads. */
const MARKET_FIELDS_READ = [
  'ticker',
  'event_ticker',
  'title',
  'yes_sub_title',
  'no_sub_title',
  'status',
  'result',
  'close_time',
  'updated_time',
  'rules_primary',
  'rules_secondary',
  'price_level_structure',
  'price_ranges',
  'fractional_trading_enabled',
  'floor_strike',
  'cap_strike',
  'strike_type',
] as const satisfies readonly (keyof WireMarket)[];

/**
 * A copy of a market object holding only what toMarket reads (toMarket of it is the same Market): the decoder
 * keeps one per listed market to publish it again when its series or event arrives, and the venue's ~35 fields
 * (times, prices, volumes) cost ~0.5 KB a market at 100,000 markets.
 *
 * With `rules` (the `rules` of toMarket of `m`): the copy holds that string as its whole rules text instead of
 * rules_primary and rules_secondary, which toMarket joins into it, so the text is kept once, shared with the
 * decoded Market, not twice (~35 MB at 100,000 markets).
 */
export function marketFieldsRead(m: WireMarket, rules?: string): WireMarket {
  const out: Record<string, unknown> = {};
  for (const k of MARKET_FIELDS_READ) {
    // toMarket of the copy: [rules].join('\n\n') is `rules` again (an empty text is left out, as toMarket does);
    // the keys are skipped, not deleted after, which would turn the object into a slower, larger dictionary
    if (rules !== undefined && (k === 'rules_primary' || k === 'rules_secondary')) continue;
    if (m[k] !== undefined) out[k] = m[k];
  }
  if (rules !== undefined && rules !== '') out.rules_primary = rules;
  return out as WireMarket;
}

/** A market object → domain Market, or a reason why it cannot be used. */
export function toMarket(m: WireMarket, ctx: MarketContext): Market | string {
  if (!m || typeof m !== 'object') return 'market is not an object';
  const ticker = m.ticker;
  if (typeof ticker !== 'string' || ticker === '') return 'market has no ticker';
  const eventTicker =
    typeof m.event_ticker === 'string' && m.event_ticker !== '' ? m.event_ticker : undefined;
  const { status, winner } = statusOf(m);
  const rules = [m.rules_primary, m.rules_secondary]
    .filter((r): r is string => typeof r === 'string' && r !== '')
    .join('\n\n');
  const question = typeof m.title === 'string' ? m.title : '';
  const endTime = isoMs(m.close_time) ?? null;
  const tickSize = tickSizeOf(m);
  const minSize = minSizeOf(m);
  const negRiskGroup = ctx.mutuallyExclusive === true && eventTicker ? eventTicker : undefined;
  const series = seriesOf(eventTicker, ticker);
  const settlement = settlementOf(m, series);
  // The version covers what describes the market (text, terms, state), not its prices or volumes.
  const version = contentVersion([
    ticker,
    eventTicker ?? null,
    question,
    m.yes_sub_title ?? null,
    m.no_sub_title ?? null,
    rules,
    m.close_time ?? null,
    m.status ?? null,
    m.result ?? null,
    tickSize,
    minSize,
    negRiskGroup ?? null,
    settlement?.floorStrike ?? null,
    settlement?.capStrike ?? null,
    settlement?.strikeType ?? null,
  ]);
  const eventTime = isoMs(m.updated_time);
  const market: Market = {
    type: 'market',
    venue: KALSHI,
    marketId: ticker,
    ...(eventTicker ? { eventId: eventTicker } : {}),
    slug: ticker,
    question,
    rules,
    // what YES stands for within the event ("$63,600 or above", a candidate's name): the matcher reads it
    ...(typeof m.yes_sub_title === 'string' && m.yes_sub_title.trim() !== ''
      ? { subtitle: m.yes_sub_title.trim() }
      : {}),
    outcomes: [
      { tokenId: yesToken(ticker), label: 'Yes', side: 'yes' },
      { tokenId: noToken(ticker), label: 'No', side: 'no' },
    ],
    tickSize,
    minSize,
    lotSize: lotSizeOf(m),
    fees: ctx.fees ?? kalshiFeesPending(series),
    ...(settlement ? { settlement } : {}),
    endTime,
    status,
    ...(winner ? { winner } : {}),
    ...(negRiskGroup ? { negRiskGroup } : {}),
    version,
    ...(eventTime !== undefined ? { eventTime } : {}),
    receiveTime: ctx.receiveTime,
  };
  return market;
}

/** Lists the markets of a `/markets` or `/markets/{ticker}` response (K2), or a reason. */
export function marketsOf(data: unknown): { markets: WireMarket[]; cursor: string } | string {
  if (!data || typeof data !== 'object') return 'markets response is not an object';
  const d = data as { markets?: unknown; market?: unknown; cursor?: unknown };
  const cursor = typeof d.cursor === 'string' ? d.cursor : '';
  if (Array.isArray(d.markets)) return { markets: d.markets as WireMarket[], cursor };
  if (d.market && typeof d.market === 'object') return { markets: [d.market as WireMarket], cursor };
  return 'markets response has neither markets[] nor market';
}

/** Lists the events of an `/events` or `/events/{ticker}` response, each with its nested markets where given. */
export function eventsOf(data: unknown): { events: WireEvent[]; cursor: string } | string {
  if (!data || typeof data !== 'object') return 'events response is not an object';
  const d = data as { events?: unknown; event?: unknown; markets?: unknown; cursor?: unknown };
  const cursor = typeof d.cursor === 'string' ? d.cursor : '';
  if (Array.isArray(d.events)) return { events: d.events as WireEvent[], cursor };
  if (d.event && typeof d.event === 'object') {
    const ev = { ...(d.event as WireEvent) };
    if (Array.isArray(d.markets) && !ev.markets) ev.markets = d.markets as WireMarket[];
    return { events: [ev], cursor };
  }
  return 'events response has neither events[] nor event';
}

// ---------------------------------------------------------------- trades and tickers

/**
 * A trade's TradePrint (the decoder's, and the capture read worker's prepared trade's: prepared.ts). Its price is
 * on the YES token; the domain TradePrint is quoted on the token the taker bought.
 */
export function tradePrint(
  ticker: string,
  yesPrice: number,
  noPrice: number,
  count: number,
  takerSide: unknown,
  eventTime: number | undefined,
  receiveTime: number,
): TradePrint | string {
  if (!isPriceMicro(yesPrice)) return 'trade has no valid yes_price_dollars';
  if (!(count >= 0)) return 'trade has no valid count_fp';
  const onNo = takerSide === 'no';
  const price = onNo ? (isPriceMicro(noPrice) ? noPrice : ONE - yesPrice) : yesPrice;
  return {
    type: 'trade',
    venue: KALSHI,
    marketId: ticker,
    tokenId: onNo ? noToken(ticker) : yesToken(ticker),
    price,
    size: count,
    ...(takerSide === 'yes' || takerSide === 'no' ? { side: 'buy' as const } : {}),
    ...(eventTime !== undefined ? { eventTime } : {}),
    receiveTime,
  };
}

/** A websocket message's event time (K15): `ts` is in seconds; `ts_ms` when present wins. */
export function wsEventTime(m: { readonly ts?: unknown; readonly ts_ms?: unknown }): number | undefined {
  return typeof m.ts_ms === 'number' ? m.ts_ms : typeof m.ts === 'number' ? m.ts * 1000 : undefined;
}

/** WS `trade.msg` (K15). */
export function parseWsTrade(t: WireWsTrade, receiveTime: number): TradePrint | string {
  if (!t || typeof t !== 'object' || typeof t.market_ticker !== 'string') return 'trade has no market_ticker';
  const eventTime = wsEventTime(t);
  return tradePrint(
    t.market_ticker,
    fixedMicro(t.yes_price_dollars),
    fixedMicro(t.no_price_dollars),
    fixedMicro(t.count_fp),
    t.taker_side,
    eventTime,
    receiveTime,
  );
}

/** REST `GET /markets/trades` item (K10). */
export function parseRestTrade(t: WireRestTrade, receiveTime: number): TradePrint | string {
  if (!t || typeof t !== 'object' || typeof t.ticker !== 'string') return 'trade has no ticker';
  return tradePrint(
    t.ticker,
    fixedMicro(t.yes_price_dollars),
    fixedMicro(t.no_price_dollars),
    fixedMicro(t.count_fp),
    t.taker_side,
    isoMs(t.created_time),
    receiveTime,
  );
}

export interface TickerTop {
  ticker: string;
  /** Undefined where the side has no quote (`"0.0000"` bid / `"1.0000"` ask, size 0 — K3). */
  yesBid?: readonly [number, number];
  yesAsk?: readonly [number, number];
  last: number;
  eventTime?: number;
}

/** WS `ticker.msg` (K15) → top of book on the YES side. */
export function parseTicker(t: WireTicker): TickerTop | string {
  if (!t || typeof t !== 'object' || typeof t.market_ticker !== 'string')
    return 'ticker has no market_ticker';
  const bid = fixedMicro(t.yes_bid_dollars);
  const ask = fixedMicro(t.yes_ask_dollars);
  const bidSize = fixedMicro(t.yes_bid_size_fp ?? '0');
  const askSize = fixedMicro(t.yes_ask_size_fp ?? '0');
  const last = fixedMicro(t.price_dollars ?? '0');
  if (!isPriceMicro(bid) || !isPriceMicro(ask) || !(bidSize >= 0) || !(askSize >= 0) || !isPriceMicro(last)) {
    return 'ticker has a malformed price or size';
  }
  const eventTime = wsEventTime(t);
  return {
    ticker: t.market_ticker,
    ...(bid > 0 && bidSize > 0 ? { yesBid: [bid, bidSize] as const } : {}),
    ...(ask < ONE && askSize > 0 ? { yesAsk: [ask, askSize] as const } : {}),
    last,
    ...(eventTime !== undefined ? { eventTime } : {}),
  };
}

// ---------------------------------------------------------------- sequence numbers

/**
 * Sequence numbers per subscription id (K13). `check` returns 'ok', 'gap' (a missed message: the books of that
 * sid are no longer trustworthy) or 'none' (frame without seq). A message with seq 1 always starts afresh,
 * because sids and seqs restart with every subscription and connection.
 */
export class SeqTracker {
  /** One mutable cell per sid: a lookup, no Map write, per message. */
  private readonly last = new Map<number, { seq: number }>();
  /** The seq seen before the last `check` (for gap reports). */
  previous: number | undefined;

  check(sid: number, seq: number | undefined): 'ok' | 'gap' | 'none' {
    if (seq === undefined) return 'none';
    const cell = this.last.get(sid);
    if (cell === undefined) {
      this.previous = undefined;
      this.last.set(sid, { seq });
      return 'ok';
    }
    const prev = cell.seq;
    this.previous = prev;
    cell.seq = seq;
    return seq === 1 || seq === prev + 1 ? 'ok' : 'gap';
  }

  /** Last seq seen on `sid`. */
  lastOf(sid: number): number | undefined {
    return this.last.get(sid)?.seq;
  }

  forget(sid: number): void {
    this.last.delete(sid);
  }

  clear(): void {
    this.last.clear();
  }
}

// ---------------------------------------------------------------- websocket commands (K12)

export function subscribeCmd(
  id: number,
  channels: KalshiChannel[],
  tickers: readonly string[],
): WireWsCommand {
  return {
    id,
    cmd: 'subscribe',
    params:
      tickers.length === 1
        ? { channels, market_ticker: tickers[0]! }
        : { channels, market_tickers: [...tickers] },
  };
}

export function unsubscribeCmd(id: number, sids: readonly number[]): WireWsCommand {
  return { id, cmd: 'unsubscribe', params: { sids: [...sids] } };
}

export function updateSubscriptionCmd(
  id: number,
  sid: number,
  action: 'add_markets' | 'delete_markets',
  tickers: readonly string[],
): WireWsCommand {
  return { id, cmd: 'update_subscription', params: { sids: [sid], action, market_tickers: [...tickers] } };
}

/**
 * An `orderbook_delta`'s price (micro, 0..1), signed size change and side are usable: the decoder's rule, and the
 * capture worker's (prepared.ts).
 */
export function deltaUsable(price: number, delta: number, side: unknown): boolean {
  return isPriceMicro(price) && !Number.isNaN(delta) && (side === 'yes' || side === 'no');
}
