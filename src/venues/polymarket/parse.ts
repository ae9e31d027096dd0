/**
 * Pure Polymarket parse step: wire JSON (wire.ts) → domain objects (core/messages.ts). No I/O, no clock: the
 * receive time is passed in. Functions throw `PolymarketParseError` with a reason on unusable input; the decoder
 * turns that into a rejected frame.
 *
 * Numbers: prices must be exact in micro-units (at most 6 decimals, else the input is rejected); sizes are
 * rounded half-up to 6 decimals when the venue sends more (seen only on legacy AMM data; CLOB sizes carry at most
 * 6). Token ids stay strings (P3). Books come best-LAST on the wire (P8) and leave here best-first.
 */
import { contentVersion } from '../../core/hash.ts';
import type {
  FeeSchedule,
  Level,
  Market,
  OrderBook,
  OutcomeToken,
  Resolution,
  SettlementFields,
  TradePrint,
} from '../../core/messages.ts';
import { ONE, parseE8, parseMicro } from '../../core/money.ts';
import { BookSide } from '../local-book.ts';
import { NO_FEES, polymarketFeesPending } from './fees.ts';
import type {
  ClobBook,
  ClobMarket,
  GammaEvent,
  GammaMarket,
  GammaSearchResponse,
  WireLevel,
  WsFeeSchedule,
  WsLastTradePrice,
  WsMarketResolved,
  WsNewMarket,
  WsSubscribe,
  WsSubscriptionUpdate,
} from './wire.ts';

export class PolymarketParseError extends Error {
  override name = 'PolymarketParseError';
}

const fail = (reason: string): never => {
  throw new PolymarketParseError(reason);
};

/** Default tick when a (legacy) market gives none: one cent. */
export const DEFAULT_TICK = 10_000;
/** Default minimum order when none is given: 5 shares (P11: every recorded market says 5). */
export const DEFAULT_MIN_SIZE = 5_000_000;
/** CLOB order sizes carry two decimals: a lot of 0.01 share. */
export const LOT_SIZE = 10_000;

// ---------------------------------------------------------------- numbers and times

const POW10 = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

/**
 * Hand-written decimal → micro-units for the hot path (a regex-free twin of `parseMicro(s, 'round')` for
 * non-negative decimals; a property test holds them equal). `exact`: more than 6 non-zero decimals → NaN.
 * Returns NaN for anything that is not a plain non-negative decimal.
 */
export function microOf(s: string, exact: boolean): number {
  return microOfRange(s, 0, s.length, exact);
}

/**
 * microOf of `s.slice(start, end)` without the slice: the capture read worker reads a price_change's prices and
 * sizes in place in the line (capture/price-change-scan.ts); the one body keeps both readings the same.
 */
export function microOfRange(s: string, start: number, end: number, exact: boolean): number {
  if (end - start === 0 || end - start > 40) return Number.NaN;
  let i = start;
  let int = 0;
  let intDigits = 0;
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) break;
    const d = c - 48;
    if (d < 0 || d > 9) return Number.NaN;
    int = int * 10 + d;
    intDigits++;
  }
  let frac = 0;
  let fd = 0;
  let bump = 0;
  if (i < end) {
    i++; // '.'
    let dropped = 0;
    for (; i < end; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return Number.NaN;
      if (fd < 6) {
        frac = frac * 10 + d;
        fd++;
      } else {
        if (dropped === 0 && d >= 5) bump = 1;
        if (d !== 0) {
          if (exact) return Number.NaN;
        }
        dropped++;
      }
    }
    if (intDigits === 0 && fd === 0) return Number.NaN;
  } else if (intDigits === 0) return Number.NaN;
  const v = int * 1_000_000 + frac * POW10[6 - fd]! + bump;
  return Number.isSafeInteger(v) ? v : Number.NaN;
}

/** A price string → micro-dollars in [0, 1]; throws on anything else. */
export function priceOf(v: unknown, what = 'price'): number {
  const p =
    typeof v === 'string' ? microOf(v, true) : typeof v === 'number' ? safeMicro(v, 'exact') : Number.NaN;
  if (!(p >= 0 && p <= ONE)) fail(`${what} is not a price in [0, 1]: ${JSON.stringify(v)}`);
  return p;
}

/** A size string → micro-shares (rounded half-up past 6 decimals); throws on anything else. */
export function sizeOf(v: unknown, what = 'size'): number {
  const s =
    typeof v === 'string' ? microOf(v, false) : typeof v === 'number' ? safeMicro(v, 'round') : Number.NaN;
  if (!(s >= 0)) fail(`${what} is not a non-negative decimal: ${JSON.stringify(v)}`);
  return s;
}

function safeMicro(v: number, r: 'exact' | 'round'): number {
  if (!Number.isFinite(v) || v < 0) return Number.NaN;
  try {
    return parseMicro(v, r);
  } catch {
    return Number.NaN;
  }
}

/** One `price_change` level as read: side, and price and size in micro units (the caller's object, reused). */
export interface PriceChangeLevel {
  bid: boolean;
  price: number;
  size: number;
}

/**
 * Reads one `price_change` level into `out`, or names what makes it unusable. The one rule for both the decoder and
 * the capture read worker's prepared path (prepared.ts), so the two accept exactly the same levels.
 */
export function readPriceChangeLevel(
  asset: unknown,
  side: unknown,
  price: unknown,
  size: unknown,
  out: PriceChangeLevel,
): 'asset' | 'side' | 'price' | 'size' | undefined {
  if (typeof asset !== 'string' || asset === '') return 'asset';
  if (side === 'BUY') out.bid = true;
  else if (side === 'SELL') out.bid = false;
  else return 'side';
  const p = typeof price === 'string' ? microOf(price, true) : Number.NaN;
  if (!(p >= 0 && p <= 1_000_000)) return 'price';
  const s = typeof size === 'string' ? microOf(size, false) : Number.NaN;
  if (!(s >= 0)) return 'size';
  out.price = p;
  out.size = s;
  return undefined;
}

/** Epoch-ms string (or number) → number; undefined when absent or not an integer. */
export function msOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > 16) return undefined;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return Number(v);
}

/**
 * Venue date-times, defensively (P6): ISO-8601 with Z or an offset, `"2026-05-09 02:07:01+00"` (space and a
 * bare-hour offset), or a date alone (midnight UTC). null when absent or unreadable.
 */
export function parseVenueTime(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  let s = v.trim();
  if (s === '') return null;
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) s += 'T00:00:00Z';
  s = s.replace(/^(\d{4}-\d{2}-\d{2}) (\d)/, '$1T$2');
  s = s.replace(/([+-]\d{2})$/, '$1:00');
  s = s.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  if (/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s)) s += 'Z';
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

/** A JSON-encoded string array (P1), or an actual array; throws when neither. */
export function stringArray(v: unknown, what: string): string[] {
  let arr: unknown = v;
  if (typeof v === 'string') {
    try {
      arr = JSON.parse(v);
    } catch {
      fail(`${what} is not a JSON array string: ${v.slice(0, 80)}`);
    }
  }
  if (!Array.isArray(arr)) return fail(`${what} is not an array`);
  return arr.map((x, i) => {
    if (typeof x === 'string') return x;
    if (typeof x === 'number' && Number.isFinite(x)) return String(x);
    return fail(`${what}[${i}] is not a string`);
  });
}

export function outcomeSide(label: string): 'yes' | 'no' | 'other' {
  const l = label.trim().toLowerCase();
  return l === 'yes' ? 'yes' : l === 'no' ? 'no' : 'other';
}

const PLACEHOLDER_LABEL = /^(other|others|another|any other|someone else|none of the above|field)\b/i;

// ---------------------------------------------------------------- fees

function fromSchedule(
  s: { exponent?: unknown; rate?: unknown; rebate?: unknown; takerOnly?: unknown },
  what: string,
): FeeSchedule {
  const rate = sizeOf(s.rate ?? 0, `${what}.rate`);
  const rebateRate = sizeOf(s.rebate ?? 0, `${what}.rebateRate`);
  const expRaw = s.exponent ?? 1;
  const exponent = typeof expRaw === 'number' ? expRaw : Number(expRaw);
  if (!Number.isInteger(exponent) || exponent < 0 || exponent > 4)
    fail(`${what}.exponent is not a small integer`);
  return { kind: 'polymarket', rate, exponent, takerOnly: s.takerOnly !== false, rebateRate };
}

/** Gamma fee fields → FeeSchedule (P13, P14). */
export function parseGammaFees(m: GammaMarket): FeeSchedule {
  if (m.feesEnabled !== true) return NO_FEES;
  const fs = m.feeSchedule;
  if (fs && typeof fs === 'object') {
    return fromSchedule(
      { exponent: fs.exponent, rate: fs.rate, rebate: fs.rebateRate, takerOnly: fs.takerOnly },
      'feeSchedule',
    );
  }
  // fees on, but no schedule: looked up (the next Gamma listing carries it), never charged a guessed rate
  return polymarketFeesPending(`fees enabled without a feeSchedule (feeType ${m.feeType ?? 'none'})`);
}

/** WS `fee_schedule` (snake_case, string numbers); a `new_market` without one has unknown fees until looked up. */
export function parseWsFees(fs: WsFeeSchedule | undefined): FeeSchedule {
  if (!fs || typeof fs !== 'object') return polymarketFeesPending('new_market without a fee_schedule');
  return fromSchedule(
    { exponent: fs.exponent, rate: fs.rate, rebate: fs.rebate_rate, takerOnly: fs.taker_only },
    'fee_schedule',
  );
}

// ---------------------------------------------------------------- markets

/** The fields that define what a market is about; its `version` hashes them (match-verdict cache key). */
export function marketVersion(
  m: Pick<Market, 'question' | 'rules' | 'outcomes' | 'endTime' | 'negRiskGroup' | 'settlement'>,
): string {
  return contentVersion({
    q: m.question,
    r: m.rules,
    o: m.outcomes.map((o) => [o.tokenId, o.label]),
    e: m.endTime,
    g: m.negRiskGroup ?? null,
    // settlement fields change what the market pays on (a strike published later); absent keeps old versions
    ...(m.settlement ? { s: m.settlement } : {}),
  });
}

/**
 * The outcome ids of a Gamma market by its protocol `version`: "v2" → `positionIds` (clobTokenIds must not be
 * used), "v1" → `clobTokenIds`. Without a `version` (every recording before the field existed) a market with
 * `clobTokenIds` and no `positionIds` is read as v1; anything else is rejected with the reason.
 */
/** The Gamma protocol version of a market: "v2" or "v1" (also when the field is absent). */
export function protocolOf(m: GammaMarket): 'v1' | 'v2' {
  return m.version === 'v2' || m.version === 'V2' ? 'v2' : 'v1';
}

export function outcomeIdsOf(m: GammaMarket, what: string): string[] {
  const v = m.version;
  if (v === 'v2' || v === 'V2') {
    if (m.positionIds === undefined) return fail(`${what}: version v2 without positionIds`);
    return stringArray(m.positionIds as string | readonly string[], `${what} positionIds`);
  }
  if (v === 'v1' || v === 'V1') return stringArray(m.clobTokenIds ?? '[]', `${what} clobTokenIds`);
  if (v === undefined) {
    if (m.positionIds !== undefined)
      return fail(`${what}: positionIds without a version (v1 or v2): outcome ids ambiguous`);
    return stringArray(m.clobTokenIds ?? '[]', `${what} clobTokenIds`);
  }
  return fail(`${what}: unknown protocol version ${JSON.stringify(v)} (expected v1 or v2)`);
}

/** A price field (number or decimal string) → 1e-8 units; undefined when absent, null or malformed. */
function e8Of(v: unknown): number | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v <= 0) return undefined;
    v = String(v);
  }
  if (typeof v !== 'string' || !/^\d+(\.\d+)?$/.test(v.trim())) return undefined;
  try {
    return parseE8(v.trim(), 'round');
  } catch {
    return undefined;
  }
}

/** Structured settlement fields of a Gamma market (crypto markets): TWAP config, price to beat, window start. */
export function gammaSettlement(
  m: GammaMarket,
  event: GammaEvent | undefined,
  what: string,
): SettlementFields | undefined {
  const cfg = m.cryptoMarketConfig;
  let twapSeconds: number | undefined;
  if (cfg && typeof cfg === 'object' && cfg.twapEnabled === true) {
    const n = Number(cfg.twapLookbackSeconds);
    if (!Number.isInteger(n) || n <= 0)
      fail(`${what}: cryptoMarketConfig.twapLookbackSeconds is not a whole number`);
    twapSeconds = n;
  }
  const priceToBeat = e8Of(m.eventMetadata?.priceToBeat ?? event?.eventMetadata?.priceToBeat);
  const windowStart = parseVenueTime(m.eventStartTime) ?? parseVenueTime(event?.startTime) ?? undefined;
  const src =
    typeof m.resolutionSource === 'string' && m.resolutionSource.trim() !== ''
      ? m.resolutionSource.trim()
      : undefined;
  const out: SettlementFields = {
    ...(twapSeconds !== undefined ? { twapSeconds } : {}),
    ...(priceToBeat !== undefined ? { priceToBeat } : {}),
    ...(windowStart !== undefined ? { windowStart } : {}),
    ...(src ? { resolutionSource: src } : {}),
  };
  return Object.keys(out).length > 0 ? out : undefined;
}

function rulesText(description: string | undefined, source: string | undefined): string {
  const d = description ?? '';
  const src = (source ?? '').trim();
  return src !== '' && !d.includes(src) ? `${d}\n\nResolution source: ${src}` : d;
}

function tokensOf(labels: readonly string[], tokenIds: readonly string[], what: string): OutcomeToken[] {
  if (tokenIds.length === 0) fail(`${what}: no token ids`);
  if (labels.length !== tokenIds.length)
    fail(`${what}: ${labels.length} outcomes but ${tokenIds.length} token ids`);
  return tokenIds.map((tokenId, i) => {
    if (!/^\d+$/.test(tokenId)) fail(`${what}: token id ${JSON.stringify(tokenId)} is not a decimal integer`);
    const label = labels[i]!;
    return { tokenId, label, side: outcomeSide(label) };
  });
}

/** The winning token from final outcome prices: exactly one at 1 and the rest at 0 (P5); else undefined. */
export function winnerFromPrices(
  tokens: readonly OutcomeToken[],
  prices: readonly string[],
): string | undefined {
  if (prices.length !== tokens.length) return undefined;
  let winner: string | undefined;
  for (let i = 0; i < prices.length; i++) {
    const p = microOf(prices[i]!, false);
    if (p === ONE) {
      if (winner !== undefined) return undefined;
      winner = tokens[i]!.tokenId;
    } else if (p !== 0) return undefined;
  }
  return winner;
}

export interface GammaContext {
  /** The event a nested market came in (GET /events). */
  readonly event?: GammaEvent;
}

/** A Gamma market object → Market. */
export function parseGammaMarket(m: GammaMarket, receiveTime: number, ctx: GammaContext = {}): Market {
  if (!m || typeof m !== 'object') return fail('gamma market is not an object');
  const marketId = m.conditionId;
  if (typeof marketId !== 'string' || marketId === '')
    return fail(`gamma market ${m.id ?? '?'}: no conditionId`);
  const what = `gamma market ${marketId}`;
  const labels = stringArray(m.outcomes ?? '[]', `${what} outcomes`);
  const outcomes = tokensOf(labels, outcomeIdsOf(m, what), what);
  const event = ctx.event ?? m.events?.[0];
  const negRisk = m.negRisk === true || (m.negRisk === undefined && event?.negRisk === true);
  const groupId = m.negRiskMarketID || (event?.negRisk ? event.negRiskMarketID : undefined) || undefined;
  const negRiskGroup = negRisk && groupId ? groupId : undefined;

  const closed = m.closed === true || m.archived === true;
  let status: Market['status'] = closed ? 'closed' : m.active === false ? 'closed' : 'open';
  let winner: string | undefined;
  if (closed && m.outcomePrices !== undefined) {
    winner = winnerFromPrices(outcomes, stringArray(m.outcomePrices, `${what} outcomePrices`));
    if (winner !== undefined) status = 'resolved';
  }

  const tickSize =
    m.orderPriceMinTickSize === undefined ? DEFAULT_TICK : priceOf(m.orderPriceMinTickSize, `${what} tick`);
  if (tickSize <= 0) fail(`${what}: tick size must be positive`);
  const minSize =
    m.orderMinSize === undefined ? DEFAULT_MIN_SIZE : sizeOf(m.orderMinSize, `${what} orderMinSize`);
  const endTime = parseVenueTime(m.endDate) ?? parseVenueTime(m.endDateIso);
  const question = m.question ?? '';
  const rules = rulesText(m.description, m.resolutionSource);
  const settlement = gammaSettlement(m, event, what);
  const placeholder = negRisk
    ? m.negRiskOther === true ||
      m.negRiskAugmented === true ||
      PLACEHOLDER_LABEL.test((m.groupItemTitle ?? '').trim())
    : undefined;

  const out: Market = {
    type: 'market',
    venue: 'polymarket',
    marketId,
    ...(event?.id ? { eventId: String(event.id) } : {}),
    ...(m.slug ? { slug: m.slug } : {}),
    question,
    rules,
    // what YES stands for within the event, and the event's title: the matcher reads both
    ...(m.groupItemTitle?.trim() ? { subtitle: m.groupItemTitle.trim() } : {}),
    ...(event?.title?.trim() ? { eventTitle: event.title.trim() } : {}),
    outcomes,
    tickSize,
    minSize,
    lotSize: LOT_SIZE,
    fees: parseGammaFees(m),
    ...(settlement ? { settlement } : {}),
    endTime,
    status,
    ...(winner !== undefined ? { winner } : {}),
    ...(negRiskGroup ? { negRiskGroup } : {}),
    ...(placeholder !== undefined ? { placeholder } : {}),
    // only v2 is written: absent means v1, so records of v1 markets stay as they were (replay determinism)
    ...(protocolOf(m) === 'v2' ? { protocol: 'v2' as const } : {}),
    version: marketVersion({ question, rules, outcomes, endTime, negRiskGroup, settlement }),
    ...(parseVenueTime(m.updatedAt) !== null ? { eventTime: parseVenueTime(m.updatedAt)! } : {}),
    receiveTime,
  };
  return out;
}

export interface ParsedList {
  readonly markets: Market[];
  /** One reason per element that could not be used. */
  readonly errors: string[];
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** GET /markets (a bare array, P4) or one market object → Markets; bad elements are listed, not fatal. */
export function parseGammaMarkets(data: unknown, receiveTime: number): ParsedList {
  const list = Array.isArray(data)
    ? data
    : data && typeof data === 'object'
      ? [data]
      : fail('not a market list');
  const markets: Market[] = [];
  const errors: string[] = [];
  for (const m of list as GammaMarket[]) {
    try {
      markets.push(parseGammaMarket(m, receiveTime));
    } catch (e) {
      errors.push(errText(e));
    }
  }
  return { markets, errors };
}

/** GET /events (a bare array), one event, or /public-search `{events}` → the nested Markets. */
export function parseGammaEvents(data: unknown, receiveTime: number): ParsedList {
  let events: unknown;
  if (Array.isArray(data)) events = data;
  else if (data && typeof data === 'object' && Array.isArray((data as GammaSearchResponse).events))
    events = (data as GammaSearchResponse).events;
  else if (data && typeof data === 'object') events = [data];
  else return fail('not an event list');
  const markets: Market[] = [];
  const errors: string[] = [];
  for (const ev of events as GammaEvent[]) {
    if (!ev || typeof ev !== 'object') {
      errors.push('event is not an object');
      continue;
    }
    for (const m of ev.markets ?? []) {
      try {
        markets.push(parseGammaMarket(m, receiveTime, { event: ev }));
      } catch (e) {
        errors.push(errText(e));
      }
    }
  }
  return { markets, errors };
}

/** CLOB GET /markets element (snake_case, P10) → Market. */
export function parseClobMarket(m: ClobMarket, receiveTime: number): Market {
  if (!m || typeof m !== 'object' || typeof m.condition_id !== 'string' || m.condition_id === '') {
    return fail('clob market: no condition_id');
  }
  const what = `clob market ${m.condition_id}`;
  const tokens = (m.tokens ?? []).filter((t) => t && typeof t.token_id === 'string' && t.token_id !== '');
  const outcomes = tokensOf(
    tokens.map((t) => String(t.outcome ?? '')),
    tokens.map((t) => t.token_id),
    what,
  );
  const closed = m.closed === true || m.archived === true;
  const winners = tokens.filter((t) => t.winner === true);
  const winner = closed && winners.length === 1 ? winners[0]!.token_id : undefined;
  const status: Market['status'] = winner ? 'resolved' : closed || m.active === false ? 'closed' : 'open';
  const negRiskGroup = m.neg_risk === true && m.neg_risk_market_id ? m.neg_risk_market_id : undefined;
  const question = m.question ?? '';
  const rules = m.description ?? '';
  const endTime = parseVenueTime(m.end_date_iso ?? undefined);
  return {
    type: 'market',
    venue: 'polymarket',
    marketId: m.condition_id,
    ...(m.market_slug ? { slug: m.market_slug } : {}),
    question,
    rules,
    outcomes,
    tickSize: m.minimum_tick_size === undefined ? DEFAULT_TICK : priceOf(m.minimum_tick_size, `${what} tick`),
    lotSize: LOT_SIZE,
    minSize:
      m.minimum_order_size === undefined
        ? DEFAULT_MIN_SIZE
        : sizeOf(m.minimum_order_size, `${what} min size`),
    // CLOB market objects carry only the legacy base fees; the schedule lives on Gamma (P13): unknown until read
    fees: polymarketFeesPending('CLOB market object: its fee schedule is on Gamma'),
    endTime,
    status,
    ...(winner ? { winner } : {}),
    ...(negRiskGroup ? { negRiskGroup } : {}),
    version: marketVersion({ question, rules, outcomes, endTime, negRiskGroup }),
    receiveTime,
  };
}

/** CLOB GET /markets page `{data, next_cursor}` → Markets, bad elements listed, and the next cursor. */
export function parseClobMarketsPage(
  data: unknown,
  receiveTime: number,
): ParsedList & { nextCursor?: string } {
  const page = data as { data?: unknown; next_cursor?: unknown } | null;
  if (!page || typeof page !== 'object' || !Array.isArray(page.data))
    return fail('clob markets page: no data[]');
  const markets: Market[] = [];
  const errors: string[] = [];
  for (const m of page.data as ClobMarket[]) {
    try {
      markets.push(parseClobMarket(m, receiveTime));
    } catch (e) {
      errors.push(errText(e));
    }
  }
  return {
    markets,
    errors,
    ...(typeof page.next_cursor === 'string' ? { nextCursor: page.next_cursor } : {}),
  };
}

/** WS `new_market` (custom feature) → Market. */
export function parseWsNewMarket(f: WsNewMarket, receiveTime: number): Market {
  const marketId = f.market || f.condition_id;
  if (typeof marketId !== 'string' || marketId === '') return fail('new_market: no market');
  const what = `new_market ${marketId}`;
  const ids = f.clob_token_ids ?? f.assets_ids ?? [];
  const outcomes = tokensOf(
    stringArray(f.outcomes ?? [], `${what} outcomes`),
    stringArray(ids, `${what} tokens`),
    what,
  );
  const question = f.question ?? '';
  const rules = f.description ?? '';
  const endTime = parseVenueTime(f.end_date);
  const negRiskGroup = f.neg_risk === true && f.neg_risk_market_id ? f.neg_risk_market_id : undefined;
  const eventTime = msOf(f.timestamp);
  return {
    type: 'market',
    venue: 'polymarket',
    marketId,
    ...(f.event_message?.id ? { eventId: String(f.event_message.id) } : {}),
    ...(f.slug ? { slug: f.slug } : {}),
    question,
    rules,
    outcomes,
    tickSize: f.order_price_min_tick_size
      ? priceOf(f.order_price_min_tick_size, `${what} tick`)
      : DEFAULT_TICK,
    minSize: f.order_min_size !== undefined ? sizeOf(f.order_min_size, `${what} min size`) : DEFAULT_MIN_SIZE,
    lotSize: LOT_SIZE,
    fees: parseWsFees(f.fee_schedule),
    endTime,
    status: f.active === false ? 'closed' : 'open',
    ...(negRiskGroup ? { negRiskGroup } : {}),
    ...(negRiskGroup ? { placeholder: PLACEHOLDER_LABEL.test((f.group_item_title ?? '').trim()) } : {}),
    version: marketVersion({ question, rules, outcomes, endTime, negRiskGroup }),
    ...(eventTime !== undefined ? { eventTime } : {}),
    receiveTime,
  };
}

// ---------------------------------------------------------------- books, trades, resolutions

/** Wire levels → [price, size] pairs (any order); throws on a bad level. */
export function levelsOf(levels: unknown, what: string): Array<[number, number]> {
  if (!Array.isArray(levels)) return fail(`${what} is not an array`);
  const out: Array<[number, number]> = new Array(levels.length);
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i] as WireLevel;
    if (!l || typeof l !== 'object') fail(`${what}[${i}] is not a level`);
    out[i] = [priceOf(l.price, `${what}[${i}].price`), sizeOf(l.size, `${what}[${i}].size`)];
  }
  return out;
}

/** Checks the fields every CLOB/WS book carries. */
export function checkBook(b: unknown): asserts b is ClobBook {
  if (!b || typeof b !== 'object') fail('book is not an object');
  const x = b as ClobBook;
  if (typeof x.asset_id !== 'string' || x.asset_id === '') fail('book: no asset_id');
  if (typeof x.market !== 'string') fail(`book ${x.asset_id}: no market`);
  if (!Array.isArray(x.bids) || !Array.isArray(x.asks)) fail(`book ${x.asset_id}: bids/asks missing`);
}

/** CLOB GET /book, a POST /books element or a WS `book` → OrderBook, best first, top `depth` levels. */
export function parseClobBook(b: ClobBook, receiveTime: number, depth = Number.POSITIVE_INFINITY): OrderBook {
  checkBook(b);
  const bids = new BookSide('bid');
  const asks = new BookSide('ask');
  bids.replace(levelsOf(b.bids, 'bids'));
  asks.replace(levelsOf(b.asks, 'asks'));
  const eventTime = msOf(b.timestamp);
  return {
    type: 'book',
    venue: 'polymarket',
    marketId: b.market,
    tokenId: b.asset_id,
    bids: bids.levels(depth) as Level[],
    asks: asks.levels(depth) as Level[],
    stale: false,
    ...(eventTime !== undefined ? { eventTime } : {}),
    receiveTime,
  };
}

/** WS `last_trade_price` → TradePrint (side is the taker's). */
export function parseWsTrade(f: WsLastTradePrice, receiveTime: number): TradePrint {
  if (typeof f.asset_id !== 'string' || f.asset_id === '') fail('last_trade_price: no asset_id');
  return wsTradePrint(
    typeof f.market === 'string' ? f.market : '',
    f.asset_id,
    priceOf(f.price, 'last_trade_price.price'),
    sizeOf(f.size, 'last_trade_price.size'),
    f.side === 'BUY' ? 'buy' : f.side === 'SELL' ? 'sell' : undefined,
    msOf(f.timestamp),
    receiveTime,
  );
}

/** The TradePrint of a checked `last_trade_price` (parseWsTrade, and the capture read worker's prepared trade). */
export function wsTradePrint(
  marketId: string,
  tokenId: string,
  price: number,
  size: number,
  side: 'buy' | 'sell' | undefined,
  eventTime: number | undefined,
  receiveTime: number,
): TradePrint {
  return {
    type: 'trade',
    venue: 'polymarket',
    marketId,
    tokenId,
    price,
    size,
    ...(side ? { side } : {}),
    ...(eventTime !== undefined ? { eventTime } : {}),
    receiveTime,
  };
}

/** WS `market_resolved` → Resolution. */
export function parseWsResolved(f: WsMarketResolved, receiveTime: number): Resolution {
  if (typeof f.market !== 'string' || f.market === '') fail('market_resolved: no market');
  if (typeof f.winning_asset_id !== 'string' || f.winning_asset_id === '')
    fail('market_resolved: no winning_asset_id');
  const eventTime = msOf(f.timestamp);
  return {
    type: 'resolution',
    venue: 'polymarket',
    marketId: f.market,
    winner: f.winning_asset_id,
    ...(eventTime !== undefined ? { eventTime } : {}),
    receiveTime,
  };
}

// ---------------------------------------------------------------- small CLOB responses

/** GET /fee-rate → base fee in basis points (P15: not the per-category rate). */
export function parseFeeRate(data: unknown): number {
  const v = (data as { base_fee?: unknown } | null)?.base_fee;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0)
    fail(`fee-rate: base_fee is not a whole number: ${JSON.stringify(v)}`);
  return n;
}

/** POST /midpoints → token → micro price. Also accepts single GET /midpoint `{mid}` / `{mid_price}` (P9). */
export function parseMidpoints(data: unknown): Map<string, number> {
  if (!data || typeof data !== 'object' || Array.isArray(data)) fail('midpoints: not an object');
  const out = new Map<string, number>();
  for (const [k, v] of Object.entries(data as Record<string, unknown>))
    out.set(k, priceOf(v, `midpoint ${k}`));
  return out;
}

/** POST /prices → token → {buy?, sell?} micro prices (numbers on the wire, P9). */
export function parsePrices(data: unknown): Map<string, { buy?: number; sell?: number }> {
  if (!data || typeof data !== 'object' || Array.isArray(data)) fail('prices: not an object');
  const out = new Map<string, { buy?: number; sell?: number }>();
  for (const [k, v] of Object.entries(data as Record<string, Record<string, unknown>>)) {
    if (!v || typeof v !== 'object') fail(`prices ${k}: not an object`);
    out.set(k, {
      ...(v.BUY !== undefined ? { buy: priceOf(v.BUY, `price ${k} BUY`) } : {}),
      ...(v.SELL !== undefined ? { sell: priceOf(v.SELL, `price ${k} SELL`) } : {}),
    });
  }
  return out;
}

// ---------------------------------------------------------------- websocket requests

/** First message on the market channel (P16); custom features bring best_bid_ask, new_market, market_resolved. */
export function subscribeMessage(assetIds: readonly string[], customFeatures = true): WsSubscribe {
  return {
    assets_ids: [...assetIds],
    type: 'market',
    ...(customFeatures ? { custom_feature_enabled: true } : {}),
  };
}

export function subscriptionUpdate(
  operation: 'subscribe' | 'unsubscribe',
  assetIds: readonly string[],
): WsSubscriptionUpdate {
  return { operation, assets_ids: [...assetIds], custom_feature_enabled: true };
}
