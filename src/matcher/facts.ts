/**
 * Settlement facts read from a market's ids, question and rules text: for crypto markets a structured spec
 * (asset, threshold/range/up-down, strike, comparison, settlement instant), the settlement source and its
 * averaging window; for economic releases the metric, nominal vs real, threshold and period; and what the YES
 * token stands for. Anything that cannot be read is listed in `unread`, so the rules stage never mistakes
 * "not stated" for "equal".
 *
 * Shapes handled (see test/matcher/facts.test.ts):
 * - Polymarket: "Bitcoin Up or Down - March 12, 5:20AM-5:25AM ET"; "Will the price of Bitcoin be above $100,000
 *   on December 31?" with rules naming "Binance 1 minute candle for BTC/USDT 12:00 in the ET timezone";
 *   "… between $96,000 and $98,000 …"; "Bitcoin Up or Down on September 22?" (the 12:00 ET candle against the day
 *   before's); "Ethereum Up or Down - September 22, 12PM-4PM ET".
 * - Kalshi: tickers KXBTCD-26DEC3112-T100000 (threshold, date 2026-12-31, hour 12 ET; a minute may follow) and
 *   KXBTC-26DEC3112-B99750 (range bucket), with titles/rules such as "If the CF Benchmarks Real-Time Index (BRTI)
 *   … average of the 60 seconds prior to 12 PM EST … is above $100,000.00".
 */
import type { Market, OracleLink } from '../core/messages.ts';
import { parseE8 } from '../core/money.ts';
import { aliased } from './normalize.ts';
import { monthIndex, parseClock, zonedTime, zoneIn } from './time.ts';

export type Comparison = '>' | '>=' | '<' | '<=';

export interface CryptoSpec {
  readonly asset: string;
  readonly kind: 'above' | 'below' | 'range' | 'up_down';
  readonly op: Comparison | undefined;
  /** 1e-8 units */
  readonly strike: number | undefined;
  readonly upper: number | undefined;
  /** settlement instant, epoch ms */
  readonly expiry: number | undefined;
  /** where the expiry was read: the ticker, the text, or only the venue's end time */
  readonly expiryFrom: 'ticker' | 'text' | 'end_time' | 'none';
  /** up/down window start */
  readonly start: number | undefined;
  /** where the strike was read: the venue's structured field or the text (up/down: undefined until known) */
  readonly strikeFrom?: 'venue' | 'text';
}

export interface EconSpec {
  readonly metric: string;
  readonly units: 'nominal' | 'real' | undefined;
  /** "2.5" (percent), the lower bound of a range */
  readonly threshold: string | undefined;
  readonly op: Comparison | undefined;
  /** upper bound of a range ("between 2.0% and 2.5%", "2.1% to 2.5%") */
  readonly upper: string | undefined;
  /** 2026Q3, 2026-03, or 2026 (a whole year) */
  readonly period: string | undefined;
  /** country the statistic is of, when named (or implied by a national statistics agency) */
  readonly country: string | undefined;
}

/**
 * What event a market is about, as far as names in its title say: used only to tell events apart (two central
 * banks, two districts, two offices, two countries' statistics), never to call two markets the same.
 */
export interface ScopeFacts {
  /** central banks named: fed, ecb, boe, boj, boc, snb, rba, rbnz, pboc */
  readonly banks: readonly string[];
  /** US congressional districts: ga-6 */
  readonly districts: readonly string[];
  /** offices: president, vice president, prime minister, senate, house, governor, mayor, chancellor */
  readonly offices: readonly string[];
  /** a nomination, primary or runoff is named (a stage that may imply the office) */
  readonly stage: boolean;
  /** countries named */
  readonly countries: readonly string[];
  /** US states named */
  readonly states: readonly string[];
}

/**
 * How a crypto market settles, structured (see docs/settlement.md): the source, which of our oracle feeds quotes
 * it (none for an index we do not build), how it is sampled at the fixing (`window` over `seconds` ending at the
 * expiry) and, for up/down, how the strike is sampled at the window start.
 */
export interface SettlementRef {
  readonly source: string;
  readonly feed: 'binance' | 'chainlink' | undefined;
  readonly window: 'point' | 'twap' | 'average' | 'candle_open' | 'candle_close';
  readonly seconds: number;
}

export interface MarketFacts {
  readonly crypto: CryptoSpec | undefined;
  /** crypto markets: the settlement reference, when the source and its window were read */
  readonly reference: SettlementRef | undefined;
  readonly econ: EconSpec | undefined;
  /** normalized settlement source: chainlink, cf_brti, cf_ethusd_rti, binance:BTC/USDT, coinbase … */
  readonly source: string | undefined;
  /** averaging window / fixing: stream (a point of a data stream), avg60s, candle1m_close, candle1h_close */
  readonly window: string | undefined;
  /** label of the YES token ("Yes", "Up", …) */
  readonly yesLabel: string | undefined;
  readonly scope: ScopeFacts;
  readonly unread: readonly string[];
}

const ASSETS: [RegExp, string][] = [
  [/\b(bitcoin|btc)\b/i, 'BTC'],
  [/\b(ethereum|eth|ether)\b/i, 'ETH'],
  [/\b(solana|sol)\b/i, 'SOL'],
  [/\b(xrp|ripple)\b/i, 'XRP'],
  [/\b(dogecoin|doge)\b/i, 'DOGE'],
];

// "$100,000", "$60", "100k", "63,600", "63599.99": Kalshi rules and Polymarket titles often omit the "$", so a
// number without one must look like a price (grouped, three digits or more, decimals, or a k); never a clock time,
// a percentage or a duration ("over the 60 seconds")
const NUM = String.raw`\$?\s?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<=\$\s?)\d+(?:\.\d+)?|\d{3,}(?:\.\d+)?|\d+\.\d+|\d+(?=\s?[kK]\b))\s?(k|K)?(?![\d,.]*\s*(?:%|am\b|pm\b|a\.m|p\.m|:\d|et\b|utc\b|seconds?\b|minutes?\b|hours?\b|days?\b))`;

/** "$100,000" / "100k" / "99,999.99" → 1e-8 units. */
export function parseAmountE8(num: string, k?: string): number | undefined {
  const plain = num.replace(/,/g, '');
  try {
    const v = parseE8(plain, 'round');
    return k ? v * 1000 : v;
  } catch {
    return undefined;
  }
}

function assetIn(text: string): string | undefined {
  const found = ASSETS.filter(([re]) => re.test(text)).map(([, a]) => a);
  return found.length === 1 ? found[0] : undefined;
}

const KALSHI_CRYPTO =
  /^KX(BTC|ETH|SOL|XRP|DOGE)(D|)-(\d{2})([A-Z]{3})(\d{2})(\d{2})?(\d{2})?-([TB])(\d+(?:\.\d+)?)$/;
/** Kalshi 15-minute crypto series (KXBTC15M-…): the asset from the series, the rest from structured fields. */
const KALSHI_CRYPTO_15M = /^KX(BTC|ETH|SOL|XRP|DOGE)15M-/;

/** Kalshi `strike_type` → kind and comparison (structured fields win over any text). */
function kalshiStrike(m: Market): Pick<CryptoSpec, 'kind' | 'op' | 'strike' | 'upper'> | undefined {
  const s = m.settlement;
  if (!s?.strikeType) return undefined;
  switch (s.strikeType) {
    case 'greater':
      return s.floorStrike === undefined
        ? undefined
        : { kind: 'above', op: '>', strike: s.floorStrike, upper: undefined };
    case 'greater_or_equal':
      return s.floorStrike === undefined
        ? undefined
        : { kind: 'above', op: '>=', strike: s.floorStrike, upper: undefined };
    case 'less': {
      const k = s.capStrike ?? s.floorStrike;
      return k === undefined ? undefined : { kind: 'below', op: '<', strike: k, upper: undefined };
    }
    case 'less_or_equal': {
      const k = s.capStrike ?? s.floorStrike;
      return k === undefined ? undefined : { kind: 'below', op: '<=', strike: k, upper: undefined };
    }
    case 'between':
      return s.floorStrike === undefined || s.capStrike === undefined || !(s.capStrike > s.floorStrike)
        ? undefined
        : { kind: 'range', op: undefined, strike: s.floorStrike, upper: s.capStrike };
    default:
      return undefined;
  }
}

interface TickerFacts {
  asset: string;
  expiry: number | undefined;
  kind: 'T' | 'B';
  value: number | undefined;
}

function kalshiTicker(ticker: string): TickerFacts | undefined {
  const m = KALSHI_CRYPTO.exec(ticker.toUpperCase());
  if (!m) return undefined;
  const year = 2000 + Number(m[3]);
  const month = monthIndex(m[4]!);
  const day = Number(m[5]);
  const hour = m[6] === undefined ? undefined : Number(m[6]);
  const minute = m[7] === undefined ? 0 : Number(m[7]);
  const expiry =
    month === undefined || hour === undefined ? undefined : zonedTime(year, month, day, hour, minute, 'ET');
  return { asset: m[1]!, expiry, kind: m[8] as 'T' | 'B', value: parseAmountE8(m[9]!) };
}

/** Comparison and strike from text: "above $100,000", "$100,000 or above", "at least 2.5%" … */
function comparisonIn(text: string): { op: Comparison; value: string; k?: string } | undefined {
  const after = new RegExp(
    String.raw`\b(greater than or equal to|at least|or above|above|higher than|greater than|more than|over|below|less than or equal to|at most|lower than|less than|under)\s+(?:the\s+)?` +
      NUM,
    'i',
  ).exec(text);
  const before = new RegExp(
    NUM + String.raw`\s+or\s+(above|higher|more|greater|below|lower|less)\b`,
    'i',
  ).exec(text);
  // "X or above" is explicit about the tie, so it wins when both are present
  if (before) {
    const w = before[3]!.toLowerCase();
    const up = ['above', 'higher', 'more', 'greater'].includes(w);
    return { op: up ? '>=' : '<=', value: before[1]!, k: before[2] };
  }
  if (after) {
    const w = after[1]!.toLowerCase();
    const ops: Record<string, Comparison> = {
      'greater than or equal to': '>=',
      'at least': '>=',
      'or above': '>=',
      above: '>',
      'higher than': '>',
      'greater than': '>',
      'more than': '>',
      over: '>',
      below: '<',
      'lower than': '<',
      'less than': '<',
      under: '<',
      'less than or equal to': '<=',
      'at most': '<=',
    };
    return { op: ops[w]!, value: after[2]!, k: after[3] };
  }
  return undefined;
}

function rangeIn(text: string): [number, number] | undefined {
  const m =
    new RegExp(String.raw`between\s+` + NUM + String.raw`\s+and\s+` + NUM, 'i').exec(text) ??
    new RegExp(NUM + String.raw`\s+to\s+` + NUM, 'i').exec(text);
  if (!m) return undefined;
  const lo = parseAmountE8(m[1]!, m[2]);
  const hi = parseAmountE8(m[3]!, m[4]);
  return lo !== undefined && hi !== undefined && hi > lo ? [lo, hi] : undefined;
}

/** Date named in text ("March 12", "Dec 31, 2026"), with the year from `fallbackYear` when absent. */
function dateIn(text: string, fallbackYear: number | undefined): [number, number, number] | undefined {
  const m =
    /\b(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?/i.exec(
      text,
    );
  if (!m) return undefined;
  const month = monthIndex(m[1]!);
  const year = m[3] ? Number(m[3]) : fallbackYear;
  if (month === undefined || year === undefined) return undefined;
  return [year, month, Number(m[2])];
}

/** Settlement instant named in the text: date + clock + zone ("… 12:00 in the ET timezone (noon) on …"). */
function instantIn(text: string, endTime: number | null): number | undefined {
  const zone = zoneIn(text);
  const clock = parseClock(text);
  if (!zone || !clock) return undefined;
  const fallbackYear = endTime === null ? undefined : new Date(endTime).getUTCFullYear();
  const date =
    dateIn(text, fallbackYear) ??
    (endTime === null
      ? undefined
      : ([
          new Date(endTime).getUTCFullYear(),
          new Date(endTime).getUTCMonth(),
          new Date(endTime).getUTCDate(),
        ] as [number, number, number]));
  if (!date) return undefined;
  return zonedTime(date[0], date[1], date[2], clock[0], clock[1], zone);
}

/**
 * Length of a Binance 1-minute candle the rules name by its time (Polymarket's daily markets: "the Binance 1
 * minute candle for BTC/USDT 12:00 in the ET timezone", "… titled 2022/12/30 12:00"): Binance titles a candle by
 * its open time, so it closes one minute after the time named. Undefined for a candle named by where it ends or
 * begins ("the 1 hour candle that ends on the time …") and for hour candles named by a time (no venue text of
 * that form is known; the time is read as the instant).
 */
export function titledCandleMs(rules: string): number | undefined {
  return /\b(1|one)[- ]?minute candle for [A-Z0-9]{2,10}\/[A-Z]{3,5}\s+(?:titled\s+)?(?:\d{4}\/\d{1,2}\/\d{1,2}\s+)?\d{1,2}:\d{2}\b/i.test(
    rules,
  )
    ? 60_000
    : undefined;
}

/** Settlement source and window from the rules text. */
export function sourceIn(text: string, asset: string | undefined): { source?: string; window?: string } {
  const t = text.toLowerCase();
  let source: string | undefined;
  let window: string | undefined;
  if (/chainlink/.test(t)) {
    source = 'chainlink';
    window = 'stream';
  } else if (/cf benchmarks|\bbrti\b|real-time index/.test(t)) {
    // the index named (BRTI for bitcoin, ETHUSD_RTI for ether …), else the asset's: two assets' indices differ
    const named =
      /\b([a-z]{2,6})usd_rti\b/.exec(t)?.[1] ??
      (/\bether(eum)? real-time index\b/.test(t)
        ? 'eth'
        : /\bbrti\b|bitcoin real-time index/.test(t)
          ? 'btc'
          : asset?.toLowerCase());
    source = !named || named === 'btc' ? 'cf_brti' : `cf_${named}usd_rti`;
  } else if (/binance/.test(t)) {
    const pair = /\b([A-Z]{2,6})\/(USDT|USDC|USD)\b/.exec(text);
    source = `binance:${pair ? `${pair[1]}/${pair[2]}` : `${asset ?? '?'}/USDT`}`;
  } else if (/coinbase/.test(t)) {
    source = 'coinbase';
  } else if (/bureau of economic analysis|\bbea\b/.test(t)) {
    source = 'bea';
  } else if (/bureau of labor statistics|\bbls\b/.test(t)) {
    source = 'bls';
  }
  if (/\btwap\b|twap-60s/.test(t)) window = 'twap60s';
  else if (/(60|sixty)[- ]second|one[- ]minute average|1[- ]minute average/.test(t) && /average/.test(t))
    window = 'avg60s';
  else if (/(1|one)[- ]?minute candle|1m candle/.test(t)) window = 'candle1m_close';
  else if (/(1|one)[- ]?hour candle|hourly candle|1h candle/.test(t)) window = 'candle1h_close';
  return { source, window };
}

function yesLabel(m: Market): string | undefined {
  return (
    m.outcomes.find((o) => o.side === 'yes')?.label ??
    (m.outcomes.length === 2 ? m.outcomes[0]!.label : undefined)
  );
}

export function cryptoSpec(m: Market): CryptoSpec | undefined {
  const tk = m.venue === 'kalshi' ? kalshiTicker(m.marketId) : undefined;
  const k15 = m.venue === 'kalshi' ? KALSHI_CRYPTO_15M.exec(m.marketId.toUpperCase()) : null;
  const q = m.question;
  const asset = tk?.asset ?? k15?.[1] ?? assetIn(q);
  if (!asset) return undefined;
  // touch/barrier markets ("reach", "hit", "dip to") are not digitals at expiry
  if (/\b(reach|hit|dip to|touch|all[- ]time high)\b/i.test(q)) return undefined;
  // a candle the rules name by its time ("the Binance 1 minute candle for BTC/USDT 12:00") is Binance's title of
  // the candle, its open time: it settles on the close, one candle later (12:01)
  const candle = titledCandleMs(m.rules);
  const qInstant = instantIn(q, m.endTime);
  const rulesInstant = qInstant === undefined ? instantIn(m.rules, m.endTime) : undefined;
  const textInstant = qInstant ?? (rulesInstant === undefined ? undefined : rulesInstant + (candle ?? 0));
  // Kalshi: strikes and comparison from floor_strike / cap_strike / strike_type, the expiry from the ticker
  // (hourly/daily series) or the close time (15-minute series)
  const ks = m.venue === 'kalshi' ? kalshiStrike(m) : undefined;
  if (ks) {
    const expiry = tk?.expiry ?? m.endTime ?? undefined;
    return {
      asset,
      ...ks,
      expiry,
      expiryFrom: tk?.expiry !== undefined ? 'ticker' : m.endTime !== null ? 'end_time' : 'none',
      start: undefined,
      strikeFrom: 'venue',
    };
  }
  if (
    /up or down/i.test(q) &&
    !/[-–]\s*\d{1,2}(?::\d{2})?\s*[ap]m/i.test(q) &&
    /\b(1|one)[- ]?hour candle\b/i.test(m.rules)
  ) {
    // "Bitcoin Up or Down - September 22, 6PM ET": close ≥ open of the 1-hour candle that BEGINS at that time
    const fallbackYear = m.endTime === null ? undefined : new Date(m.endTime).getUTCFullYear();
    const date = dateIn(q, fallbackYear);
    const clock = parseClock(q);
    const zone = zoneIn(q) ?? 'ET';
    const start = date && clock ? zonedTime(date[0], date[1], date[2], clock[0], clock[1], zone) : undefined;
    return {
      asset,
      kind: 'up_down',
      op: '>=',
      strike: m.settlement?.priceToBeat,
      upper: undefined,
      expiry: start === undefined ? undefined : start + 3_600_000,
      expiryFrom: start === undefined ? 'none' : 'text',
      start,
      ...(m.settlement?.priceToBeat !== undefined ? { strikeFrom: 'venue' as const } : {}),
    };
  }
  if (/up or down/i.test(q)) {
    const w = /(\d{1,2}(?::\d{2})?\s*[ap]m)\s*-\s*(\d{1,2}(?::\d{2})?\s*[ap]m)\s*(ET|EST|EDT|UTC)?/i.exec(q);
    let start: number | undefined;
    let end: number | undefined;
    const fallbackYear = m.endTime === null ? undefined : new Date(m.endTime).getUTCFullYear();
    const date = dateIn(q, fallbackYear);
    if (w && date) {
      const zone = w[3] ?? 'ET';
      const c1 = parseClock(w[1]!);
      const c2 = parseClock(w[2]!);
      if (c1 && c2) {
        start = zonedTime(date[0], date[1], date[2], c1[0], c1[1], zone);
        end = zonedTime(date[0], date[1], date[2], c2[0], c2[1], zone);
        if (end <= start) end += 86_400_000;
      }
    } else if (
      !w &&
      date &&
      candle !== undefined &&
      /\b(day before|previous day|prior day)\b/i.test(m.rules)
    ) {
      // "Bitcoin Up or Down on September 22?": the close of the candle titled 12:00 ET on that day against the
      // close of the one titled 12:00 ET the day before (each a calendar day in ET, so DST is kept)
      const clock = parseClock(m.rules);
      const zone = zoneIn(m.rules) ?? 'ET';
      if (clock) {
        end = zonedTime(date[0], date[1], date[2], clock[0], clock[1], zone) + candle;
        start = zonedTime(date[0], date[1], date[2] - 1, clock[0], clock[1], zone) + candle;
      }
    }
    // the venue's window start (Gamma eventStartTime) and published strike (priceToBeat) win over the title
    if (m.settlement?.windowStart !== undefined) start = m.settlement.windowStart;
    const expiry = end ?? m.endTime ?? undefined;
    const ptb = m.settlement?.priceToBeat;
    return {
      asset,
      kind: 'up_down',
      op: /greater than or equal|or equal to/i.test(m.rules)
        ? '>='
        : /\b(higher|greater) than\b/i.test(m.rules)
          ? '>'
          : undefined,
      strike: ptb,
      upper: undefined,
      expiry,
      expiryFrom: end !== undefined ? 'text' : m.endTime !== null ? 'end_time' : 'none',
      start,
      ...(ptb !== undefined ? { strikeFrom: 'venue' as const } : {}),
    };
  }
  const expiry = tk?.expiry ?? textInstant ?? m.endTime ?? undefined;
  const expiryFrom =
    tk?.expiry !== undefined
      ? 'ticker'
      : textInstant !== undefined
        ? 'text'
        : m.endTime !== null
          ? 'end_time'
          : 'none';
  const range = rangeIn(q) ?? (tk?.kind === 'B' || !comparisonIn(q) ? rangeIn(m.rules) : undefined);
  if (range && tk?.kind !== 'T') {
    return {
      asset,
      kind: 'range',
      op: undefined,
      strike: range[0],
      upper: range[1],
      expiry,
      expiryFrom,
      start: undefined,
      strikeFrom: 'text',
    };
  }
  // the rules are authoritative on the tie ("$100,000 or below"), the title only summarizes
  const cmp = comparisonIn(m.rules) ?? comparisonIn(q);
  if (!cmp) return undefined;
  const strike = parseAmountE8(cmp.value, cmp.k);
  const kind = cmp.op === '>' || cmp.op === '>=' ? 'above' : 'below';
  return {
    asset,
    kind,
    op: cmp.op,
    strike,
    upper: undefined,
    expiry,
    expiryFrom,
    start: undefined,
    strikeFrom: 'text',
  };
}

const COUNTRIES: readonly [RegExp, string][] = [
  [/\b(us|american?)\b/, 'us'],
  [/\buk\b/, 'uk'],
  [/\b(mexico|mexican)\b/, 'mexico'],
  [/\b(canada|canadian)\b/, 'canada'],
  [/\b(germany|german)\b/, 'germany'],
  [/\b(france|french)\b/, 'france'],
  [/\b(japan|japanese)\b/, 'japan'],
  [/\b(china|chinese)\b/, 'china'],
  [/\b(india|indian)\b/, 'india'],
  [/\b(brazil|brazilian)\b/, 'brazil'],
  [/\b(italy|italian)\b/, 'italy'],
  [/\b(spain|spanish)\b/, 'spain'],
  [/\b(australia|australian)\b/, 'australia'],
  [/\b(russia|russian)\b/, 'russia'],
  [/\b(israel|israeli)\b/, 'israel'],
  [/\b(south korea|korean)\b/, 'south korea'],
  [/\b(eurozone|euro area)\b/, 'euro area'],
  [/\b(turkey|turkish)\b/, 'turkey'],
  [/\b(argentina|argentine|argentinian)\b/, 'argentina'],
  [/\b(colombia|colombian)\b/, 'colombia'],
  [/\b(chile|chilean)\b/, 'chile'],
  [/\b(poland|polish)\b/, 'poland'],
  [/\b(netherlands|dutch)\b/, 'netherlands'],
  [/\b(ukraine|ukrainian)\b/, 'ukraine'],
  [/\b(switzerland|swiss)\b/, 'switzerland'],
  [/\b(sweden|swedish)\b/, 'sweden'],
  [/\b(portugal|portuguese)\b/, 'portugal'],
  [/\b(south africa|south african)\b/, 'south africa'],
];

const BANKS = /\b(fed|ecb|boe|boj|boc|snb|rba|rbnz|rbi|pboc)\b/g;

const OFFICES: readonly [RegExp, string][] = [
  [/\b(vice[- ]president|vp)\b/, 'vice president'],
  [/\b(president|presidential|presidency)\b/, 'president'],
  [/\bprime minister\b|\bpremier(ship)?\b/, 'prime minister'],
  [/\b(senate|senator|senatorial)\b/, 'senate'],
  [
    /(?<!white )\bhouse (race|seat|seats|district|election|majority|control)\b|\b(control|win|hold|flip)s? (of )?the house\b|\bcongressional district\b|\bhouse of representatives\b/,
    'house',
  ],
  [/\b(governor|governorship|gubernatorial)\b/, 'governor'],
  [/\b(mayor|mayoral)\b/, 'mayor'],
  [/\bchancellor\b/, 'chancellor'],
];

// longest names first, so "West Virginia" is not also "Virginia"
const STATE_NAMES = (
  'north carolina|south carolina|north dakota|south dakota|west virginia|new hampshire|new jersey|new mexico|' +
  'new york|rhode island|washington state|alabama|alaska|arizona|arkansas|california|colorado|connecticut|' +
  'delaware|florida|georgia|hawaii|idaho|illinois|indiana|iowa|kansas|kentucky|louisiana|maine|maryland|' +
  'massachusetts|michigan|minnesota|mississippi|missouri|montana|nebraska|nevada|ohio|oklahoma|oregon|' +
  'pennsylvania|tennessee|texas|utah|vermont|virginia|wisconsin|wyoming'
).split('|');

// one pass, longest names first in the alternation
const STATE_RE = new RegExp(`\\b(${STATE_NAMES.join('|')})\\b`, 'g');

const STATES = new Set(
  'al ak az ar ca co ct de fl ga hi id il in ia ks ky la me md ma mi mn ms mo mt ne nv nh nj nm ny nc nd oh ok or pa ri sc sd tn tx ut vt va wa wv wi wy'.split(
    ' ',
  ),
);

/** The names in a market's title (question, subtitle, event title) that say which event it is about. */
export function scopeFacts(m: Market): ScopeFacts {
  const t = aliased([m.question, m.subtitle ?? '', m.eventTitle ?? ''].join(' \n '));
  // "vice president" must not also count as "president"
  const offices: string[] = [];
  let rest = t;
  for (const [re, name] of OFFICES) {
    if (re.test(rest)) {
      offices.push(name);
      rest = rest.replace(new RegExp(re.source, 'g'), ' ');
    }
  }
  const districts = new Set<string>();
  for (const d of t.matchAll(/\b([a-z]{2})-(\d{1,2})\b/g)) {
    if (STATES.has(d[1]!)) districts.add(`${d[1]}-${Number(d[2])}`);
  }
  const states = [...new Set([...t.matchAll(STATE_RE)].map((x) => x[1]!))];
  const banks = [...new Set([...t.matchAll(BANKS)].map((b) => b[1]!))];
  const stage = /\b(nominee|nomination|nominated|primary|primaries|runoff|run-off|caucus(es)?)\b/.test(t);
  const countries = COUNTRIES.filter(([re]) => re.test(t)).map(([, c]) => c);
  // most markets (every crypto one) name none of these: they share one frozen scope (the matcher keeps the facts
  // of every open market, and six arrays each cost ~150 bytes a market at 100,000 markets)
  if (!stage && banks.length + states.length + districts.size + offices.length + countries.length === 0)
    return NO_SCOPE;
  return {
    banks: orNone(banks),
    states: orNone(states),
    districts: districts.size === 0 ? NONE : [...districts],
    offices: orNone(offices),
    stage,
    countries: orNone(countries),
  };
}

/** The one empty list facts share (frozen: readonly by type, and by value too). */
const NONE: readonly string[] = Object.freeze([]);
const orNone = (xs: readonly string[]): readonly string[] => (xs.length === 0 ? NONE : xs);

/** The scope of a market that names no bank, state, district, office, stage or country. */
export const NO_SCOPE: ScopeFacts = Object.freeze({
  banks: NONE,
  states: NONE,
  districts: NONE,
  offices: NONE,
  stage: false,
  countries: NONE,
});

const ECON_OPS: Record<string, Comparison> = {
  above: '>',
  'greater than': '>',
  'more than': '>',
  'higher than': '>',
  over: '>',
  exceed: '>',
  exceeds: '>',
  'at least': '>=',
  'or more': '>=',
  'or higher': '>=',
  'or above': '>=',
  below: '<',
  'less than': '<',
  'lower than': '<',
  under: '<',
  'at most': '<=',
  'or less': '<=',
  'or lower': '<=',
  'or below': '<=',
};

const PCT = String.raw`(-?\d+(?:\.\d+)?)\s?%`;

/** Threshold or range of a percentage statistic, from the title text. */
function econThreshold(t: string): Pick<EconSpec, 'threshold' | 'op' | 'upper'> {
  const range =
    new RegExp(String.raw`between\s+` + PCT + String.raw`\s+and\s+` + PCT).exec(t) ??
    new RegExp(PCT + String.raw`\s*(?:to|-|–)\s*` + PCT).exec(t) ??
    new RegExp(String.raw`(-?\d+(?:\.\d+)?)\s*(?:to|-|–)\s*` + PCT).exec(t);
  if (range) return { threshold: range[1], op: undefined, upper: range[2] };
  const before = new RegExp(
    String.raw`\b(above|greater than|more than|higher than|over|exceeds?|at least|below|less than|lower than|under|at most)\s+(?:the\s+)?` +
      PCT,
  ).exec(t);
  if (before) return { threshold: before[2], op: ECON_OPS[before[1]!], upper: undefined };
  const after = new RegExp(
    PCT + String.raw`\s+(or more|or higher|or above|or less|or lower|or below)\b`,
  ).exec(t);
  if (after) return { threshold: after[1], op: ECON_OPS[after[2]!], upper: undefined };
  return { threshold: undefined, op: undefined, upper: undefined };
}

function econSpec(m: Market, scope: ScopeFacts): EconSpec | undefined {
  const title = aliased([m.question, m.subtitle ?? ''].join(' \n '));
  const all = `${title}\n${aliased(m.rules)}`;
  const core = /\bcore\b/.test(title);
  const metric = /\bgdp\b|gross domestic product/.test(all)
    ? 'gdp'
    : /\bpce\b|personal consumption expenditure/.test(all)
      ? core
        ? 'core pce'
        : 'pce'
      : /\bcpi\b|consumer price index|inflation/.test(all)
        ? core
          ? 'core cpi'
          : 'cpi'
        : /unemployment rate/.test(all)
          ? 'unemployment'
          : undefined;
  if (!metric) return undefined;
  const hasReal = /\breal\b|inflation[- ]adjusted|chained/.test(all);
  const hasNominal = /\bnominal\b|current[- ]dollar/.test(all);
  const units = hasReal && !hasNominal ? 'real' : hasNominal && !hasReal ? 'nominal' : undefined;
  const q1 = /\bq([1-4])\s*(?:of\s*)?(20\d\d)\b/.exec(all);
  const q2 = /\b(20\d\d)\s*q([1-4])\b/.exec(all);
  const quarter = q1 ? `${q1[2]}Q${q1[1]}` : q2 ? `${q2[1]}Q${q2[2]}` : undefined;
  const mon =
    /\b(january|february|march|april|may|june|july|august|september|october|november|december)\s+(20\d\d)\b/.exec(
      all,
    );
  const monthNo = mon ? monthIndex(mon[1]!) : undefined;
  // "Q3" without a year names no period; a bare year is the whole year
  const quarterOnly = /\bq[1-4]\b/.test(title);
  const year = /\b(20\d\d)\b/.exec(title)?.[1];
  const period =
    quarter ??
    (mon && monthNo !== undefined
      ? `${mon[2]}-${String(monthNo + 1).padStart(2, '0')}`
      : !quarterOnly && year
        ? year
        : undefined);
  const src = sourceIn(m.rules, undefined).source;
  const country =
    scope.countries.length === 1
      ? scope.countries[0]
      : scope.countries.length === 0 && (src === 'bea' || src === 'bls')
        ? 'us'
        : undefined;
  return { metric, units, ...econThreshold(title), period, country };
}

export function extractFacts(m: Market): MarketFacts {
  const crypto = cryptoSpec(m);
  const scope = scopeFacts(m);
  const econ = crypto ? undefined : econSpec(m, scope);
  const read = sourceIn(`${m.rules}\n${m.settlement?.resolutionSource ?? ''}`, crypto?.asset);
  const source = read.source;
  // the venue's structured TWAP config wins over any text
  const window = m.settlement?.twapSeconds !== undefined ? `twap${m.settlement.twapSeconds}s` : read.window;
  const unread: string[] = [];
  if (crypto) {
    if (crypto.expiry === undefined) unread.push('settlement time');
    if (crypto.kind !== 'up_down' && crypto.strike === undefined) unread.push('strike');
    if ((crypto.kind === 'above' || crypto.kind === 'below') && crypto.op === undefined)
      unread.push('comparison');
    if (!source) unread.push('settlement source');
    if (source && source !== 'chainlink' && !window) unread.push('averaging window');
  }
  if (econ) {
    // nominal vs real matters for output measures (GDP); a price index or a rate has no such variant
    if (econ.metric === 'gdp' && !econ.units) unread.push('nominal or real');
    if (!econ.period) unread.push('period');
    if (!econ.threshold) unread.push('threshold');
    if (!econ.country) unread.push('country');
  }
  const reference = crypto ? sharedRef(referenceOf(crypto, source, window)) : undefined;
  if (crypto && source && !reference) unread.push(`settlement window of ${source}`);
  return { crypto, econ, source, window, reference, yesLabel: yesLabel(m), scope, unread: orNone(unread) };
}

/**
 * One SettlementRef object per distinct value (a handful: sources × windows), not one per market: the matcher
 * keeps the facts of every open market.
 */
const refs = new Map<string, SettlementRef>();
function sharedRef(r: SettlementRef | undefined): SettlementRef | undefined {
  if (!r) return undefined;
  const k = `${r.source}|${r.feed}|${r.window}|${r.seconds}`;
  const had = refs.get(k);
  if (had) return had;
  const frozen = Object.freeze(r);
  refs.set(k, frozen);
  return frozen;
}

/**
 * The structured settlement reference from the normalized source and window. Chainlink: a point of the data
 * stream, or its TWAP over N s where the venue says so; CF Benchmarks RTI: the simple average of the 60 s before
 * the instant; Binance: the close of the candle ending at the instant (an up/down strike: the open of the candle
 * starting at the window start). Undefined when the window is not read: never a guess.
 */
export function referenceOf(
  c: CryptoSpec,
  source: string | undefined,
  window: string | undefined,
): SettlementRef | undefined {
  if (!source) return undefined;
  const twap = window ? /^twap(\d+)s$/.exec(window) : null;
  if (source === 'chainlink') {
    if (twap) return { source, feed: 'chainlink', window: 'twap', seconds: Number(twap[1]) };
    return { source, feed: 'chainlink', window: 'point', seconds: 0 };
  }
  if (source.startsWith('cf_')) {
    // CF Benchmarks real-time indices: Kalshi settles on the simple average of the 60 s before the instant
    return window === 'avg60s' || window === undefined
      ? { source, feed: undefined, window: 'average', seconds: 60 }
      : undefined;
  }
  if (source.startsWith('binance:')) {
    if (window === 'candle1h_close')
      return {
        source,
        feed: 'binance',
        window: c.kind === 'up_down' ? 'candle_open' : 'candle_close',
        seconds: 3600,
      };
    if (window === 'candle1m_close') return { source, feed: 'binance', window: 'candle_close', seconds: 60 };
    return undefined;
  }
  return undefined;
}

/** Oracle symbol a settlement source quotes: Binance pairs keep their quote; indexes and streams are USD. */
function symbolFor(asset: string, source: string | undefined): string {
  if (source?.startsWith('binance:')) return source.slice('binance:'.length);
  return `${asset}/USD`;
}

/** Why a crypto market gets no OracleLink (undefined: it gets one, or it is not a crypto market). */
export function oracleLinkGap(m: Market, facts: MarketFacts = extractFacts(m)): string | undefined {
  const c = facts.crypto;
  if (!c) return undefined;
  if (c.expiry === undefined) return 'settlement time not read';
  if (c.kind !== 'up_down' && c.strike === undefined) return 'strike not read';
  if (c.kind === 'range' && c.upper === undefined) return 'upper strike not read';
  if (c.kind === 'up_down' && c.start === undefined && c.strike === undefined) return 'window start not read';
  if (!facts.source) return 'settlement source not read';
  if (!facts.reference) return `settlement window of ${facts.source} not read`;
  const yes =
    m.outcomes.find((o) => o.side === 'yes') ?? (m.outcomes.length === 2 ? m.outcomes[0] : undefined);
  if (!yes) return 'no YES outcome';
  return undefined;
}

/** The OracleLink of a crypto market, when its spec and settlement reference are complete enough to price. */
export function oracleLinkOf(m: Market, facts: MarketFacts = extractFacts(m)): OracleLink | undefined {
  const c = facts.crypto;
  if (!c || c.expiry === undefined || oracleLinkGap(m, facts) !== undefined) return undefined;
  const ref = facts.reference!;
  const yes =
    m.outcomes.find((o) => o.side === 'yes') ?? (m.outcomes.length === 2 ? m.outcomes[0] : undefined);
  if (!yes) return undefined;
  const no = m.outcomes.find((o) => o.side === 'no') ?? (m.outcomes.length === 2 ? m.outcomes[1] : undefined);
  return {
    type: 'oracle_link',
    market: { venue: m.venue, marketId: m.marketId },
    symbol: symbolFor(c.asset, facts.source),
    asset: c.asset,
    kind: c.kind,
    strike: c.strike,
    upper: c.upper,
    expiry: c.expiry,
    start: c.start,
    settlementSource: [facts.source ?? 'unknown', facts.window].filter(Boolean).join(' '),
    reference: {
      source: ref.source,
      ...(ref.feed ? { feed: ref.feed } : {}),
      window: ref.window,
      seconds: ref.seconds,
      ...(c.op ? { op: c.op } : {}),
      strikeFrom: c.strike === undefined ? 'window' : (c.strikeFrom ?? 'text'),
    },
    yesToken: yes.tokenId,
    noToken: no?.tokenId,
  };
}
