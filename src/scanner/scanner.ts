/**
 * The opportunity scanner: keeps the latest markets, books, oracle ticks, market links and oracle links, and on
 * every update evaluates only what that update touches (the market of the book, its negRisk group, its links,
 * its oracle link; for a tick, the markets priced from that tick's source, below). Nothing is computed from stale data: a book
 * or tick flagged stale (the feed's verdict, src/feeds/staleness.ts) makes every opportunity that needs it
 * vanish. Age alone is not staleness: a quiet book on a live feed is current.
 *
 * Prices are executable: buys walk the asks, sells walk the bids; edges are net of the venue's exact fees
 * (depth.ts). The formulas, per kind (all per share set, sized by depth.ts):
 * - rebalancing/buy: buy YES + buy NO of one market, settles to 1: edge = n − cost(YES) − cost(NO) − fees.
 * - rebalancing/sell: sell YES + sell NO from inventory: edge = proceeds − fees − n (the pair is worth 1 at
 *   resolution). Emitted with note "needs inventory".
 * - rebalancing/group (negRisk): buy YES of every outcome of a mutually exclusive, exhaustive group: exactly one
 *   pays 1. Groups that contain a placeholder/augmented outcome (Market.placeholder) are skipped: their listed
 *   outcomes are not exhaustive, so a YES sum below 1 is expected and no arbitrage.
 * - cross_venue: identical markets A ≡ B: buy YES(A) + NO(B), or NO(A) + YES(B); inverted (YES(A) ≡ NO(B)):
 *   buy YES(A) + YES(B), or NO(A) + NO(B). Exactly one leg pays 1.
 * - combinatorial: A implies B: buy YES(B) + NO(A) — pays 1 if A (B too), ≥ 1 otherwise; A, B mutually exclusive:
 *   buy NO(A) + NO(B) — at least one pays. The stated edge is the guaranteed minimum.
 * - oracle_lag: fair value (fair.ts) against the book: buy YES while ask + fee < fair − margin, or NO while
 *   ask + fee < (1 − fair) − margin; the stated edge is the expected value at the fair price. The fair value is
 *   computed on the market's SETTLEMENT source only (OracleLink.reference: Chainlink stream, Binance candle …),
 *   over its settlement window (a point, or a TWAP/average whose observed part is fixed), with the volatility
 *   of that source's own ticks; an up/down strike is the venue's published price to beat or that source's
 *   value over the strike window. A market whose settlement source is stale or has no feed is not priced —
 *   unless `proxy` is configured, and then only with the measured basis between the proxy and the settlement
 *   source widening the fair value (never for a source we have no feed for: no basis can be measured). Every
 *   evaluation is counted per settlement source, priced or skipped with its reason (`pricingReport()`).
 * - oracle_lag's schedule: a book update re-prices its market; a tick re-prices only the markets it is a price input
 *   of: those that settle on the tick's source (their own feed, fresh or stale), and in proxy mode also those whose
 *   own feed is not fresh (or has not ticked yet), which any other source may price. Why: a market priced on its own
 *   fresh source reads nothing of another source's tick, so re-pricing it then changed only the time to expiry
 *   (and, inside an averaging window, how long the last print has lasted). It made the detector's output depend on
 *   the arrival rate of unrelated feeds (Binance ticks ~8× as often as Chainlink, and every one of them re-priced
 *   the Chainlink markets) and was most of oracle_lag's cost. A market is re-priced as time passes on its own
 *   source's ticks and its books' updates. A market with no feed of ours is priced by no tick (its 'no_feed' skip
 *   is counted on its book updates), and an up/down strike is still fixed by the first evaluation after the own
 *   source printed past the start: that print is an own tick, which re-prices the market (strikeOf).
 * Markets whose fee schedule is not known yet (FeeSchedule `unknown`) are never priced.
 *
 * Dedupe (ScannerOptions.dedupe, on by default): an opportunity (kind + legs) is published again only when a leg's
 * limit price, the share count or the edge changed since its last emission, or that emission has expired. An
 * update that changes none of them publishes nothing: downstream still holds the same opportunity.
 */
import type { IdGen } from '../core/agent.ts';
import { flat } from '../core/flat.ts';
import {
  instrumentKey,
  isLinkRelation,
  type Market,
  type MarketLink,
  type Opportunity,
  type OpportunityType,
  type OracleLink,
  type OracleTick,
  type OrderBook,
  oracleKey,
} from '../core/messages.ts';
import { MICRO, type Money, type Price, type Qty } from '../core/money.ts';
import { tokenSlot } from '../core/token-slots.ts';
import {
  type BundleFill,
  bundleLot,
  edgeBps,
  type LegInput,
  type OneLegSizing,
  prepareOneLeg,
  sizeBundle,
  sizeOneLeg,
} from './depth.ts';
import { EwmaVol, type FairKind, fairPriceOf, type VolEstimatorOptions } from './fair.ts';
import {
  F_MORE_LINKS,
  F_OPEN,
  F_ORACLE,
  FlatBooks,
  meta,
  NO_ASK,
  NO_BID,
  relCode,
  SIDE_MASK,
  SIDE_NO,
  SIDE_OTHER,
  SIDE_YES,
} from './flat.ts';

export interface ScannerOptions {
  readonly now: () => number;
  readonly ids: IdGen;
  /** How long an opportunity is valid after detection (default 2 s). */
  readonly ttlMs?: number;
  /** Cap on shares per opportunity (default: unlimited; strategies size within their allocation). */
  readonly maxShares?: Qty;
  /** Smallest edge worth emitting, micro-dollars (default 1). */
  readonly minEdge?: Money;
  /** oracle_lag: price must be this far inside fair before it is taken (model margin; default 0.02). */
  readonly oracleMargin?: Price;
  readonly vol?: VolEstimatorOptions;
  /**
   * Pricing on a proxy when the settlement source is stale or absent (default: undefined = never; such markets
   * are skipped). When set, the freshest other source prices the market only once a basis between it and the
   * settlement source was measured (both fresh at once): the fair value is computed at spot × (1 ± basis) and
   * the worse side is taken, plus `extraMargin` on the required edge.
   */
  readonly proxy?: { readonly extraMargin?: Price };
  /** Tick history kept per oracle source for settlement windows (default 15 minutes). */
  readonly historyMs?: number;
  /** A point-in-time strike is read from a print at most this far from the start (default 5 s). */
  readonly pointToleranceMs?: number;
  /**
   * Re-publish an unchanged opportunity only once its previous emission has expired (default true). An
   * opportunity is the same when its kind and legs (venue, token, side) are; it is unchanged when every leg's
   * limit price, the share count and the edge are equal to the last emission's. Updates that change none of
   * these (a tick that leaves the stated edge where it was, a book update deeper than the sized levels, the
   * other side of the book moving) then publish nothing: downstream already holds that opportunity, valid
   * until its expiresAt. Any change, or the expiry, publishes it again with a new id.
   */
  readonly dedupe?: boolean;
}

/** What was last published for an opportunity key (see ScannerOptions.dedupe). */
interface Emitted {
  expiresAt: number;
  shares: Qty;
  edge: Money;
  limits: Price[];
  /** dropped from the map by the prune (a LagLeg holding it looks the key up again) */
  gone: boolean;
}

/** What the detectors read of a MarketLink (not the link itself: its reasons and refs cost ~600 B a link). */
interface LinkEntry {
  readonly relation: MarketLink['relation'];
  /** the other market */
  readonly other: MarketState;
  /** true when this market is `a` of the link */
  readonly isA: boolean;
}

/**
 * A market as the detectors see it. Its YES and NO books and their cached tops live in the flat hot state
 * (flat.ts), in the records of its tokens' slots, with a copy of what a book update checks first (open, first
 * link, group).
 */
interface MarketState {
  readonly key: string;
  /** its index in Scanner.states (a token's binding names its market by it) */
  readonly idx: number;
  market: Market;
  yes: string | undefined;
  no: string | undefined;
  /** the token slots (src/core/token-slots.ts) of `yes` and `no`, −1 for none */
  yesSlot: number;
  noSlot: number;
  open: boolean;
  placeholder: boolean;
  links: LinkEntry[];
  oracle: OracleLink | undefined;
  /** its oracle record in Scanner.orc (−1: none), assigned on its first oracle link */
  oracleIdx: number;
  /** the oracle link's asset state, resolved once, and its set of markets of the same feed (AssetState.byFeed) */
  oracleAsset: AssetState | undefined;
  feedMarkets: Set<MarketState> | undefined;
  group: Group | undefined;
  groupKey: string | undefined;
  /** up/down reference (strike) sampled from the settlement source over its strike window (1e-8) */
  refOpen: number | undefined;
  /** the oracle link's settlement reference, resolved once: feed, window kind and length */
  ref: ResolvedRef | undefined;
  /** its priced/skipped counter (resolved once: no key built per evaluation) */
  count: PricingCount | undefined;
  /** oracle_lag's legs (and dedupe key) per side, reused while the book and market objects stay the same */
  lagYes: LagLeg | undefined;
  lagNo: LagLeg | undefined;
  /**
   * The oracle link's YES token and its NO token (link.noToken, else the market's other token), and which of this
   * market's slots each is in (SLOT_YES, SLOT_NO, or SLOT_NONE): resolved when the market or the link changes,
   * so that pricing compares no token ids (long strings, equal but rarely the same object) per evaluation.
   */
  oYesSlot: number;
  oNoToken: string | undefined;
  oNoSlot: number;
  /** the oracle link's settlement source state (ref.feed), resolved on first use: sources are never replaced */
  own: SourceState | undefined;
  /** the start of oracle_lag's note (`<kind> <asset> strike <strike> fair `) and the strike it was built for */
  notePrefix: string;
  noteStrike: number;
  /** the settlement window as stated (`point`, `twap 60s` …) and the note's middle (` on <source> <window> (spot `) */
  refLabel: string;
  noteMid: string;
}

/** A negRisk group: its members in the order they joined (the order of a group opportunity's legs). */
interface Group {
  readonly key: string;
  /** its index in the flat hot state */
  readonly idx: number;
  readonly members: Set<MarketState>;
  /** members dropped once resolved: the group stays unpriceable, as it was while they were closed members */
  resolved: number;
}

interface LagLeg {
  readonly book: OrderBook;
  readonly market: Market;
  readonly token: string;
  readonly legs: LegInput[];
  /** the dedupe key and the book's stamp key: per token, carried over to the next LagLeg of the same token */
  readonly key: string;
  readonly stampKey: string;
  /** the book walk of its one leg, prepared on first use: every tick re-sizes the same book at a new fair value */
  sizing: OneLegSizing | undefined;
  /**
   * The last sizing's inputs and result (the fill valued at fair, or undefined when nothing was sized): most
   * ticks leave a market's fair value where it was (clamped, or another source ticked), and the same book at
   * the same value sizes to the same fill.
   */
  value: number;
  limit: number;
  fill: BundleFill | undefined;
  /** this key's dedupe record, held so that the check needs no map lookup (re-read once `gone`) */
  rec: Emitted | undefined;
}

interface SourceState {
  tick: OracleTick;
  vol: EwmaVol;
  hist: TickHistory;
  /** oracle_lag's note and stamp parts for the latest tick and sigma, formatted once rather than per market */
  noteTick: OracleTick | undefined;
  noteSpot: string;
  noteSigma: number;
  noteSigmaStr: string;
  stampKey: string;
}

interface AssetState {
  /** per oracle source: sources quote slightly different prices, so neither the tick nor the vol are mixed */
  sources: Map<string, SourceState>;
  /**
   * The oracle-linked markets by their own settlement feed (ResolvedRef.feed), so that a tick visits only the
   * markets it may re-price (see the header). A market with no feed of ours is in none: no tick prices it.
   */
  byFeed: Map<string, Set<MarketState>>;
  /** measured relative basis between two sources (key `a|b`, sorted), EWMA of |a − b| / b; proxy mode only */
  basis: Map<string, number>;
}

/** How a market settles, as the scanner uses it. */
interface ResolvedRef {
  /** settlement source name for reports (`chainlink`, `binance:BTC/USDT`, `cf_brti` …) */
  readonly source: string;
  /** the oracle feed that quotes it; undefined when none of ours does */
  readonly feed: string | undefined;
  readonly window: 'point' | 'twap' | 'average' | 'candle_open' | 'candle_close';
  readonly windowMs: number;
}

/** The window as oracle_lag's note and pricing state it (`point`, `twap 60s` …). */
const windowLabel = (ref: ResolvedRef): string =>
  ref.windowMs > 0 ? `${ref.window} ${ref.windowMs / 1000}s` : ref.window;

/** Per settlement source and kind: evaluations priced, and skipped by reason. */
export interface PricingCount {
  priced: number;
  skipped: Record<string, number>;
}

/** Ticks of one source over the last minutes, for settlement windows (a step function between ticks). */
export class TickHistory {
  private t: number[] = [];
  private p: number[] = [];
  private head = 0;
  constructor(private readonly keepMs: number) {}

  push(t: number, price: number): void {
    const n = this.t.length;
    if (n > this.head && t < this.t[n - 1]!) return; // out of order: the step function keeps the later print
    this.t.push(t);
    this.p.push(price);
    // drop what is older than keepMs, keeping one entry at or before the cut (the value at the cut)
    const cut = t - this.keepMs;
    while (this.head + 1 < this.t.length && this.t[this.head + 1]! <= cut) this.head++;
    if (this.head > 1024 && this.head * 2 > this.t.length) {
      this.t = this.t.slice(this.head);
      this.p = this.p.slice(this.head);
      this.head = 0;
    }
  }

  /** Index of the last entry at or before t, or −1. */
  private at(t: number): number {
    let lo = this.head;
    let hi = this.t.length - 1;
    if (hi < lo || this.t[lo]! > t) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.t[mid]! <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The value at t (the last print at or before it) and when it was printed. */
  valueAt(t: number): { price: number; time: number } | undefined {
    const i = this.at(t);
    return i < 0 ? undefined : { price: this.p[i]!, time: this.t[i]! };
  }

  /** The first print at or after t. */
  firstFrom(t: number): { price: number; time: number } | undefined {
    const i = this.at(t);
    const j = i >= 0 && this.t[i] === t ? i : i < 0 ? this.head : i + 1;
    return j < this.t.length ? { price: this.p[j]!, time: this.t[j]! } : undefined;
  }

  /** Time-weighted average over [a, b]; undefined unless a print at or before `a` is held. */
  average(a: number, b: number): number | undefined {
    let i = this.at(a);
    if (i < 0) return undefined;
    if (b <= a) return this.p[i]!;
    let sum = 0;
    let from = a;
    while (i < this.t.length) {
      const next = i + 1 < this.t.length ? Math.min(this.t[i + 1]!, b) : b;
      if (next > from) sum += this.p[i]! * (next - from);
      from = next;
      if (from >= b) break;
      i++;
    }
    return sum / (b - a);
  }
}

/** A legacy link (no structured reference): the settlement source string as the matcher wrote it. */
function legacyRef(settlementSource: string): ResolvedRef {
  const [head = '', win = ''] = settlementSource.split(/\s+/);
  const name = head.split(':')[0] ?? '';
  const twap = /^twap(\d+)s$/.exec(win);
  switch (name) {
    case 'chainlink':
      return twap
        ? { source: head, feed: 'chainlink', window: 'twap', windowMs: Number(twap[1]) * 1000 }
        : { source: head, feed: 'chainlink', window: 'point', windowMs: 0 };
    case 'binance':
      return { source: head, feed: 'binance', window: 'candle_close', windowMs: 0 };
    case 'sim':
      return { source: head, feed: 'sim', window: 'point', windowMs: 0 };
    case 'cf_brti':
      return { source: head, feed: undefined, window: 'average', windowMs: 60_000 };
    default:
      if (name.startsWith('cf_'))
        return { source: head, feed: undefined, window: 'average', windowMs: 60_000 };
      return { source: head || 'unknown', feed: undefined, window: 'point', windowMs: 0 };
  }
}

function resolveRef(link: OracleLink): ResolvedRef {
  const r = link.reference;
  if (!r) return legacyRef(link.settlementSource);
  const averaged = r.window === 'twap' || r.window === 'average';
  return { source: r.source, feed: r.feed, window: r.window, windowMs: averaged ? r.seconds * 1000 : 0 };
}

const mkey = (venue: string, marketId: string): string => flat(venue, '|', marketId);

/** Base asset of a symbol: "BTC/USDT" → "BTC". */
export const assetOf = (symbol: string): string => (symbol.split('/')[0] ?? symbol).toUpperCase();

/** Which of a market's two token slots a token is in (MarketState.oYesSlot …). */
const SLOT_NONE = 0;
const SLOT_YES = 1;
const SLOT_NO = 2;
/** An ask or bid as cached: the price when it is a usable small integer, else the sentinel. */
/**
 * A token's binding in its slot's record (flat.ts): its market's index, its venue's code and its side (SIDE_*),
 * packed in one small integer.
 */
/** The fields of an oracle record (Scanner.orc); O_QUICK is 1 when oracleQuick may decide for the market. */
const ORC = 8;
const O_QUICK = 0;
const O_EXPIRY = 1;
const O_STRIKE = 2;
/** NaN: none */
const O_UPPER = 3;
const O_WINDOW = 4;
/** an index in KINDS */
const O_KIND = 5;
/** the link's YES and NO tokens as SLOT_* */
const O_YES = 6;
const O_NO = 7;
const KINDS: readonly FairKind[] = ['above', 'below', 'range', 'up_down'];

const SIDE_BITS = 2;
const VENUE_MASK = 15;
const BINDING_SHIFT = 6;
const binding = (idx: number, venue: number, side: number): number =>
  idx * (1 << BINDING_SHIFT) + (venue << SIDE_BITS) + side;

const topAsk = (b: OrderBook): number => {
  const p = b.asks[0]?.[0];
  return p !== undefined && p < NO_ASK ? p : NO_ASK;
};
const topBid = (b: OrderBook): number => {
  const p = b.bids[0]?.[0];
  return p !== undefined && p > NO_BID ? p : NO_BID;
};

export class Scanner {
  private readonly o: Required<Omit<ScannerOptions, 'vol' | 'proxy'>> & {
    vol: VolEstimatorOptions;
    proxy: ScannerOptions['proxy'];
  };
  private readonly markets = new Map<string, MarketState>();
  /** market states by MarketState.idx (undefined once resolved: no slot is bound to it any more) */
  private readonly states: (MarketState | undefined)[] = [];
  /**
   * The hot state (see flat.ts), indexed by token slot (src/core/token-slots.ts): a book stamped with its slot by
   * the decoder finds its market's tops by an array index, and the token id beside its book checks the hint.
   * Looking the token id up in a map of every token instead was a few cache misses per update at 100,000 markets,
   * more than the rest of the update's work.
   */
  private readonly flat = new FlatBooks();
  /**
   * Per oracle-linked market (MarketState.oracleIdx), ORC float64s: what oracleQuick reads (see writeOracle),
   * with its settlement source's state and pricing counter beside them.
   */
  private orc = new Float64Array(ORC * 64);
  private readonly orcOwn: (SourceState | undefined)[] = [];
  private readonly orcCount: PricingCount[] = [];
  /** oracle records of resolved markets, reused by the next oracle-linked market */
  private readonly orcFree: number[] = [];
  /** venue → tokenId → token slot, for every outcome token of a known market (any venue: created on first sight) */
  private readonly tokens = new Map<string, Map<string, number>>();
  /** venue names by the code a binding carries */
  private readonly venueCodes: string[] = [];
  /** books that arrived before their market, venue → tokenId → the book and when (scanner clock) it arrived */
  private readonly early = new Map<string, Map<string, { book: OrderBook; at: number }>>();
  /** oracle_lag evaluations per `kind|settlement source`: priced, or skipped with the reason */
  private readonly pricing = new Map<string, PricingCount>();
  private readonly groups = new Map<string, Group>();
  private readonly assets = new Map<string, AssetState>();
  /** tick symbol → its asset (assetOf once per symbol, not per tick) */
  private readonly bySymbol = new Map<string, AssetState>();
  /** last emission per opportunity key (kind + legs), for dedupe; expired ones are dropped every ttl */
  private readonly emitted = new Map<string, Emitted>();
  private nextPrune = 0;
  /** when `early` is next swept for books that waited longer than `historyMs` */
  private nextEarlyPrune = 0;
  /** `now` of the update being processed */
  private t = 0;
  /** counters for the heartbeat */
  readonly stats = { books: 0, ticks: 0, opportunities: 0, skippedStale: 0, unchanged: 0, feesUnknown: 0 };

  constructor(opts: ScannerOptions) {
    this.o = {
      ttlMs: 2_000,
      maxShares: Number.MAX_SAFE_INTEGER,
      minEdge: 1,
      oracleMargin: 20_000,
      vol: {},
      dedupe: true,
      historyMs: 15 * 60_000,
      pointToleranceMs: 5_000,
      ...opts,
      proxy: opts.proxy,
    };
  }

  get marketCount(): number {
    return this.markets.size;
  }

  // ---------------------------------------------------------------- state updates

  onMarket(m: Market): readonly Opportunity[] {
    // a resolved market trades no more: its state is dropped (a relisting roll-over would otherwise keep every
    // market ever listed), and a repeat of its resolution finds nothing to drop
    if (m.status === 'resolved') {
      const gone = this.markets.get(mkey(m.venue, m.marketId));
      if (gone) this.forget(gone, m);
      return NONE;
    }
    const st = this.ensure(mkey(m.venue, m.marketId));
    const yes =
      m.outcomes.find((x) => x.side === 'yes')?.tokenId ??
      (m.outcomes.length === 2 ? m.outcomes[0]!.tokenId : undefined);
    const no =
      m.outcomes.find((x) => x.side === 'no')?.tokenId ??
      (m.outcomes.length === 2 ? m.outcomes[1]!.tokenId : undefined);
    // a token that changes side (or is no longer listed) loses its book
    if (st.yes !== yes) this.unslot(st, SIDE_YES);
    if (st.no !== no) this.unslot(st, SIDE_NO);
    st.market = m;
    st.open = m.status === 'open';
    st.placeholder = m.placeholder === true;
    st.yes = yes;
    st.no = no;
    const toks = this.venueMap(this.tokens, m.venue);
    const early = this.venueMap(this.early, m.venue);
    const venue = this.venueCode(m.venue);
    for (const o of m.outcomes) {
      const slot = tokenSlot(m.venue, o.tokenId);
      toks.set(o.tokenId, slot);
      // YES before NO, as a book was put before (a market listing one token as both has it as YES)
      const side = o.tokenId === yes ? SIDE_YES : o.tokenId === no ? SIDE_NO : SIDE_OTHER;
      this.bindToken(slot, o.tokenId, binding(st.idx, venue, side));
      if (side === SIDE_YES) st.yesSlot = slot;
      else if (side === SIDE_NO) st.noSlot = slot;
    }
    this.flat.pair(st.yesSlot, st.noSlot);
    for (const o of m.outcomes) {
      const b = early.get(o.tokenId)?.book;
      if (b) {
        early.delete(o.tokenId);
        const slot = o.tokenId === yes ? st.yesSlot : o.tokenId === no ? st.noSlot : -1;
        if (slot >= 0) this.put(slot, b);
      }
    }
    this.joinGroup(st, m.negRiskGroup ? `${m.venue}|${m.negRiskGroup}` : undefined);
    this.sync(st);
    // the markets linked to this one hold one of its slots (and its open flag) in their records
    for (const e of st.links) this.sync(e.other);
    this.resolveOracleSlots(st);
    return NONE;
  }

  /**
   * Drops a resolved market: its slots (token and book), its links (on both sides), its group, its oracle record
   * (reused by the next oracle-linked market) and its index entry. The markets linked to it are synced as if the
   * link had never been: a closed market was never priced, so what they evaluate does not change.
   */
  private forget(st: MarketState, m: Market): void {
    for (const side of [SIDE_YES, SIDE_NO]) {
      const slot = side === SIDE_YES ? st.yesSlot : st.noSlot;
      const b = this.flat.binding(slot);
      if (slot >= 0 && b >> BINDING_SHIFT === st.idx) this.flat.unbind(slot);
    }
    st.yesSlot = -1;
    st.noSlot = -1;
    st.open = false;
    const links = st.links;
    st.links = NO_LINKS;
    for (const e of links) {
      const o = e.other;
      o.links = o.links.filter((x) => x.other !== st);
      if (o.links.length === 0) o.links = NO_LINKS;
      this.sync(o);
    }
    const g = st.group;
    if (g) {
      g.members.delete(st);
      g.resolved++;
      st.group = undefined;
      this.recount(g);
    }
    st.feedMarkets?.delete(st);
    st.feedMarkets = undefined;
    if (st.oracleIdx >= 0) {
      this.orcOwn[st.oracleIdx] = undefined;
      this.orcFree.push(st.oracleIdx);
    }
    const toks = this.tokens.get(m.venue);
    const early = this.early.get(m.venue);
    for (const o of st.market.outcomes) {
      // unless the token has moved to another market since
      if (toks?.get(o.tokenId) !== undefined && this.flat.binding(toks.get(o.tokenId)!) < 0)
        toks.delete(o.tokenId);
      early?.delete(o.tokenId);
    }
    this.markets.delete(st.key);
    this.states[st.idx] = undefined;
  }

  onLink(link: MarketLink): void {
    const sa = this.ensure(mkey(link.a.venue, link.a.marketId));
    const sb = this.ensure(mkey(link.b.venue, link.b.marketId));
    sa.links = sa.links.filter((e) => e.other !== sb);
    sb.links = sb.links.filter((e) => e.other !== sa);
    if (isLinkRelation(link.relation)) {
      sa.links.push({ relation: link.relation, other: sb, isA: true });
      sb.links.push({ relation: link.relation, other: sa, isA: false });
    }
    this.sync(sa);
    this.sync(sb);
  }

  /**
   * Binds a token's slot to its market and side. A token that moves to another market (it should not) leaves the
   * old one: that market no longer has a book for it.
   */
  private bindToken(slot: number, tokenId: string, b: number): void {
    const old = this.flat.binding(slot);
    if (old >= 0 && old >> BINDING_SHIFT !== b >> BINDING_SHIFT) {
      const prev = this.states[old >> BINDING_SHIFT]!;
      if (prev.yesSlot === slot) prev.yesSlot = -1;
      if (prev.noSlot === slot) prev.noSlot = -1;
      this.flat.bind(slot, tokenId, b);
      this.flat.pair(prev.yesSlot, prev.noSlot);
      this.sync(prev);
      for (const e of prev.links) this.sync(e.other);
    } else this.flat.bind(slot, tokenId, b);
  }

  /**
   * Writes what a book update checks first about a market (open, oracle link, more than one link, its first link,
   * its group) into its YES and NO slots' records, and recounts its group. The link fields of its linked markets'
   * records hold its asks and slots: they are rewritten too.
   */
  private sync(st: MarketState): void {
    const e = st.links[0];
    const rel = e ? relCode(e.relation) : -1;
    const flags =
      (st.open ? F_OPEN : 0) | (st.oracle ? F_ORACLE : 0) | (st.links.length > 1 ? F_MORE_LINKS : 0);
    const word = meta(flags, Math.max(rel, 0), e?.isA ?? false, st.group ? st.group.idx : -1);
    const orc = st.oracle ? st.oracleIdx : -1;
    if (st.yesSlot >= 0) this.flat.setMeta(st.yesSlot, word, orc);
    if (st.noSlot >= 0) this.flat.setMeta(st.noSlot, word, orc);
    if (st.group) this.recount(st.group);
    this.syncLinks(st);
    for (const x of st.links) this.syncLinks(x.other);
  }

  /**
   * The link fields of a market's records (FlatBooks.setLinks): its first linked market's asks (NO_ASK unless that
   * market is open) and the slots of the markets whose first link it is. They depend on its links and on its
   * linked markets' slots, links and open flags only: sync() rewrites them for a market and its linked markets.
   */
  private syncLinks(st: MarketState): void {
    if (st.yesSlot < 0 && st.noSlot < 0) return;
    const e = st.links[0];
    const f = this.flat;
    const linked = e && relCode(e.relation) >= 0 && e.other.open ? e.other : undefined;
    const deps: number[] = [];
    const seen: MarketState[] = [];
    for (const x of st.links) {
      const d = x.other;
      const first = d.links[0];
      if (first?.other !== st || relCode(first.relation) < 0 || seen.includes(d)) continue;
      seen.push(d);
      deps.push(d.yesSlot, d.noSlot);
    }
    f.setLinks(
      st.yesSlot,
      st.noSlot,
      linked ? f.ask(linked.yesSlot) : NO_ASK,
      linked ? f.ask(linked.noSlot) : NO_ASK,
      deps,
    );
  }

  /** Moves a market to the negRisk group `key` (undefined: none); a new member goes last. The caller syncs it. */
  private joinGroup(st: MarketState, key: string | undefined): void {
    const old = st.group;
    if (old && old.key !== key) {
      old.members.delete(st);
      st.group = undefined;
      this.sync(st);
      this.recount(old);
    }
    st.groupKey = key;
    if (!key) return;
    let g = this.groups.get(key);
    if (!g) {
      g = { key, idx: this.flat.addGroup(), members: new Set(), resolved: 0 };
      this.groups.set(key, g);
    }
    g.members.add(st);
    st.group = g;
  }

  /** A group's size and members that cannot be priced, in the flat state (its YES-ask sum is kept as asks change). */
  private recount(g: Group): void {
    let bad = g.resolved;
    for (const st of g.members) if (st.placeholder || !st.open || !st.yes) bad++;
    this.flat.setGroupCounts(g.idx, g.members.size, bad);
  }

  onOracleLink(link: OracleLink): void {
    const st = this.ensure(mkey(link.market.venue, link.market.marketId));
    if (st.oracle && (st.oracle.start !== link.start || st.oracle.strike !== link.strike))
      st.refOpen = undefined;
    st.oracle = link;
    st.oracleAsset = this.asset(link.asset);
    st.ref = resolveRef(link);
    // (re)joins its feed's markets last, as a new link did in the one list of an asset's markets before
    st.feedMarkets?.delete(st);
    st.feedMarkets = st.ref.feed ? this.feedMarkets(st.oracleAsset, st.ref.feed) : undefined;
    st.feedMarkets?.add(st);
    st.refLabel = windowLabel(st.ref);
    st.noteMid = ` on ${st.ref.source} ${st.refLabel} (spot `;
    st.count = this.count(st.ref.source);
    st.own = undefined;
    st.noteStrike = Number.NaN;
    this.resolveOracleSlots(st);
    this.sync(st);
  }

  /** MarketState.oYesSlot / oNoToken / oNoSlot from the market's tokens and its oracle link. */
  private resolveOracleSlots(st: MarketState): void {
    const link = st.oracle;
    if (!link) return;
    const slotOf = (token: string | undefined): number =>
      !token ? SLOT_NONE : token === st.yes ? SLOT_YES : token === st.no ? SLOT_NO : SLOT_NONE;
    st.oYesSlot = slotOf(link.yesToken);
    st.oNoToken = link.noToken ?? (link.yesToken === st.yes ? st.no : st.yes);
    st.oNoSlot = slotOf(st.oNoToken);
    this.writeOracle(st, link);
  }

  /**
   * A market's oracle record (see Scanner.orc): the scalars oracleQuick reads, copied from its link, settlement
   * reference, fees and slots. Rewritten whenever any of them changes (a new link, a re-listed market).
   */
  private writeOracle(st: MarketState, link: OracleLink): void {
    if (st.oracleIdx < 0 && this.orcFree.length > 0) {
      st.oracleIdx = this.orcFree.pop()!;
      this.orcCount[st.oracleIdx] = st.count!;
    } else if (st.oracleIdx < 0) {
      st.oracleIdx = this.orcOwn.length;
      this.orcOwn.push(undefined);
      this.orcCount.push(st.count!);
      if (this.orc.length < this.orcOwn.length * ORC) {
        const bigger = new Float64Array(this.orc.length * 2);
        bigger.set(this.orc);
        this.orc = bigger;
      }
    }
    const k = st.oracleIdx;
    const q = k * ORC;
    const ref = st.ref!;
    const kind = KINDS.indexOf(link.kind);
    // what oracleQuick does not handle: oracleLag decides (and counts) these itself
    const quick =
      !this.o.proxy &&
      link.strike !== undefined &&
      ref.feed !== undefined &&
      st.market.fees.kind !== 'unknown' &&
      kind >= 0;
    this.orc[q + O_QUICK] = quick ? 1 : 0;
    this.orc[q + O_EXPIRY] = link.expiry;
    this.orc[q + O_STRIKE] = link.strike ?? Number.NaN;
    this.orc[q + O_UPPER] = link.upper ?? Number.NaN;
    this.orc[q + O_WINDOW] = ref.windowMs;
    this.orc[q + O_KIND] = kind;
    this.orc[q + O_YES] = st.oYesSlot;
    this.orc[q + O_NO] = st.oNoSlot;
    this.orcOwn[k] = st.own;
    this.orcCount[k] = st.count!;
  }

  /**
   * Keeps a book whose market has not been listed (yet). A book that waited longer than `historyMs` is dropped on
   * the next one kept: a late book of a resolved market's token has no market coming (the roll-over resolves a
   * quarter of the markets every 15 minutes), and a listing arrives moments after its first books, not minutes.
   */
  private keepEarly(book: OrderBook): void {
    const now = this.o.now();
    if (now >= this.nextEarlyPrune) {
      this.nextEarlyPrune = now + this.o.historyMs;
      for (const byToken of this.early.values())
        for (const [tok, e] of byToken) if (now - e.at > this.o.historyMs) byToken.delete(tok);
    }
    this.venueMap(this.early, book.venue).set(book.tokenId, { book, at: now });
  }

  /** Books waiting for their market (for tests and health). */
  get earlyCount(): number {
    let n = 0;
    for (const byToken of this.early.values()) n += byToken.size;
    return n;
  }

  /** Priced/skipped counts of oracle_lag per settlement source, e.g. `oracle_lag|chainlink`. */
  pricingReport(): Record<string, PricingCount> {
    const out: Record<string, PricingCount> = {};
    for (const [k, v] of this.pricing) out[k] = { priced: v.priced, skipped: { ...v.skipped } };
    return out;
  }

  onBook(book: OrderBook): readonly Opportunity[] {
    this.stats.books++;
    const s = this.slotOf(book);
    if (s < 0) {
      this.keepEarly(book);
      return NONE;
    }
    const flat = this.flat;
    const bound = flat.binding(s);
    const other = (bound & SIDE_MASK) === SIDE_OTHER;
    // another outcome's book is not kept (the detectors price YES and NO only)
    if (!other) this.put(s, book);
    this.t = this.o.now();
    if (!this.fresh(book)) {
      this.stats.skippedStale++;
      return NONE;
    }
    const states = this.states;
    let out: Opportunity[] | undefined;
    if (other) out = this.evaluate(states[bound >> BINDING_SHIFT]!, out);
    else {
      // each detector runs only when its check on the slot's record passes (a necessary condition of its edge):
      // an update that crosses nothing reads that record and the linked market's, not the market objects
      if (flat.mayRebalance(s)) out = this.rebalancing(states[bound >> BINDING_SHIFT]!, out);
      if (flat.mayGroup(s)) out = this.group(states[bound >> BINDING_SHIFT]!.group!, out);
      if (flat.linkMayCross(s)) {
        const st = states[bound >> BINDING_SHIFT]!;
        const e = st.links[0]!;
        out = this.linked(st, e.other, e.isA, e.relation, e, out);
      }
      const flags = flat.meta(s);
      if ((flags & F_MORE_LINKS) !== 0) {
        const st = states[bound >> BINDING_SHIFT]!;
        for (let k = 1; k < st.links.length; k++) {
          const e = st.links[k]!;
          out = this.linked(st, e.other, e.isA, e.relation, e, out);
        }
      }
      if ((flags & F_ORACLE) !== 0 && !this.oracleQuick(flat.oracle(s), s, flags))
        out = this.oracleLag(states[bound >> BINDING_SHIFT]!, out);
    }
    if (!out) return NONE;
    this.stats.opportunities += out.length;
    return out;
  }

  /** Every detector of a market, unchecked (a book of one of its other outcomes). */
  private evaluate(st: MarketState, out: Opportunity[] | undefined): Opportunity[] | undefined {
    out = this.rebalancing(st, out);
    if (st.group) out = this.group(st.group, out);
    for (const e of st.links) out = this.linked(st, e.other, e.isA, e.relation, e, out);
    if (st.oracle) out = this.oracleLag(st, out);
    return out;
  }

  /**
   * A book's token slot: the book's own slot when it has one (checked), else by token id; −1 when no market lists
   * the token.
   */
  private slotOf(book: OrderBook): number {
    const s = book.slot;
    if (s !== undefined) {
      // a hint only: it must be this book's token and venue (a copy of a book made for another token keeps the slot)
      const b = this.flat.bindingIf(s, book.tokenId);
      if (b >= 0 && this.venueCodes[(b >> SIDE_BITS) & VENUE_MASK] === book.venue) return s;
    }
    return this.tokens.get(book.venue)?.get(book.tokenId) ?? -1;
  }

  private venueCode(venue: string): number {
    let c = this.venueCodes.indexOf(venue);
    if (c < 0) {
      c = this.venueCodes.length;
      if (c > VENUE_MASK) throw new Error(`scanner: more than ${VENUE_MASK + 1} venues`);
      this.venueCodes.push(venue);
    }
    return c;
  }

  onTick(tick: OracleTick): readonly Opportunity[] {
    this.stats.ticks++;
    this.t = this.o.now();
    let a = this.bySymbol.get(tick.symbol);
    if (!a) {
      a = this.asset(assetOf(tick.symbol));
      this.bySymbol.set(tick.symbol, a);
    }
    const t = tick.eventTime ?? tick.receiveTime;
    let src = a.sources.get(tick.source);
    if (!src) {
      src = {
        tick,
        vol: new EwmaVol(this.o.vol),
        hist: new TickHistory(this.o.historyMs),
        noteTick: undefined,
        noteSpot: '',
        noteSigma: Number.NaN,
        noteSigmaStr: '',
        stampKey: '',
      };
      a.sources.set(tick.source, src);
    }
    if (!tick.stale) {
      src.vol.update(t, tick.price);
      src.hist.push(t, tick.price);
    }
    // keep the latest tick; a stale one replaces it so that nothing trades on it
    if ((src.tick.eventTime ?? src.tick.receiveTime) <= t || tick.stale) src.tick = tick;
    if (this.o.proxy && !tick.stale) this.measureBasis(a, tick);
    let out: Opportunity[] | undefined;
    // the markets this tick is a price input of (see the header): those that settle on its source, stale or
    // fresh (a stale tick stops their trading, or moves them to a proxy) ...
    const own = a.byFeed.get(tick.source);
    if (own) for (const st of own) out = this.oracleLag(st, out);
    // ... and in proxy mode those whose own source is not fresh: any other source may be their proxy
    if (this.o.proxy) {
      for (const [feed, markets] of a.byFeed) {
        if (feed === tick.source) continue;
        const s = a.sources.get(feed);
        if (s && this.freshTick(s.tick)) continue;
        for (const st of markets) out = this.oracleLag(st, out);
      }
    }
    if (!out) return NONE;
    this.stats.opportunities += out.length;
    return out;
  }

  // ---------------------------------------------------------------- detectors
  // Each detector first checks the top of book (no allocation) and builds legs only when an edge is possible.

  private rebalancing(st: MarketState, out: Opportunity[] | undefined): Opportunity[] | undefined {
    if (!st.open || !st.yes || !st.no) return out;
    const f = this.flat;
    const buy = f.ask(st.yesSlot) + f.ask(st.noSlot) < MICRO;
    const sell = f.bid(st.yesSlot) + f.bid(st.noSlot) > MICRO;
    if (!buy && !sell) return out;
    const m = st.market;
    const by = f.book(st.yesSlot)!;
    const bn = f.book(st.noSlot)!;
    if (buy) {
      const legs = [this.leg(m, st.yes, 'buy', by), this.leg(m, st.no, 'buy', bn)];
      out = this.emit('rebalancing', legs, MICRO, [by, bn], out, 'buy YES + NO: one of them pays 1');
    }
    if (sell) {
      const legs = [this.leg(m, st.yes, 'sell', by), this.leg(m, st.no, 'sell', bn)];
      out = this.emit(
        'rebalancing',
        legs,
        -MICRO,
        [by, bn],
        out,
        'sell YES + NO: needs inventory of both sides',
      );
    }
    return out;
  }

  private group(g: Group, out: Opportunity[] | undefined): Opportunity[] | undefined {
    const members = g.members;
    const groupKey = g.key;
    if (members.size < 2) return out;
    let top = 0;
    for (const st of members) {
      // augmented groups: the listed outcomes are not exhaustive (see header); NO_ASK when the book is not usable
      if (st.placeholder || !st.open || !st.yes) return out;
      top += this.flat.ask(st.yesSlot);
    }
    if (top >= MICRO) return out;
    const legs: LegInput[] = [];
    const books: OrderBook[] = [];
    for (const st of members) {
      const b = this.flat.book(st.yesSlot)!;
      legs.push(this.leg(st.market, st.yes!, 'buy', b));
      books.push(b);
    }
    return this.emit(
      'rebalancing',
      legs,
      MICRO,
      books,
      out,
      `buy YES of all ${legs.length} outcomes of group ${groupKey}`,
    );
  }

  /** `e` is only read when an opportunity is emitted (its relation goes in the note). */
  private linked(
    st: MarketState,
    other: MarketState,
    isA: boolean,
    relation: MarketLink['relation'],
    e: LinkEntry,
    out: Opportunity[] | undefined,
  ): Opportunity[] | undefined {
    const A = isA ? st : other;
    const B = isA ? other : st;
    if (!A.open || !B.open) return out;
    switch (relation) {
      case 'identical':
        out = this.pair(A, true, B, false, 'cross_venue', e, 'buy YES(A) + NO(B)', out);
        return this.pair(A, false, B, true, 'cross_venue', e, 'buy NO(A) + YES(B)', out);
      case 'inverted':
        out = this.pair(A, true, B, true, 'cross_venue', e, 'YES(A) = NO(B); buy YES(A) + YES(B)', out);
        return this.pair(A, false, B, false, 'cross_venue', e, 'YES(A) = NO(B); buy NO(A) + NO(B)', out);
      case 'implies':
        return this.pair(
          A,
          false,
          B,
          true,
          'combinatorial',
          e,
          'A implies B; buy NO(A) + YES(B), pays at least 1',
          out,
        );
      case 'exclusive':
        return this.pair(
          A,
          false,
          B,
          false,
          'combinatorial',
          e,
          'A, B exclusive; buy NO(A) + NO(B), pays at least 1',
          out,
        );
      default:
        return out;
    }
  }

  /** Buys one token of A and one of B (YES when the flag is set, else NO); together they pay at least 1. */
  private pair(
    A: MarketState,
    yesA: boolean,
    B: MarketState,
    yesB: boolean,
    kind: OpportunityType,
    e: LinkEntry,
    what: string,
    out: Opportunity[] | undefined,
  ): Opportunity[] | undefined {
    const ta = yesA ? A.yes : A.no;
    const tb = yesB ? B.yes : B.no;
    // NO_ASK when a book is missing or stale
    const f = this.flat;
    const sa = yesA ? A.yesSlot : A.noSlot;
    const sb = yesB ? B.yesSlot : B.noSlot;
    if (!ta || !tb || f.ask(sa) + f.ask(sb) >= MICRO) return out;
    const ba = f.book(sa)!;
    const bb = f.book(sb)!;
    const ma = A.market;
    const mb = B.market;
    const legs = [this.leg(ma, ta, 'buy', ba), this.leg(mb, tb, 'buy', bb)];
    const sized = this.sized(kind, legs, MICRO);
    if (!sized) return out;
    // the note only for a pair that is published: most crossing updates are unchanged repeats (dedupe)
    const note = `${e.relation} ${ma.venue}:${ma.marketId} / ${mb.venue}:${mb.marketId}: ${what}`;
    return this.push(kind, legs, sized, [this.stamp(ba), this.stamp(bb)], out, note, undefined);
  }

  private oracleLag(st: MarketState, out: Opportunity[] | undefined): Opportunity[] | undefined {
    const link = st.oracle!;
    if (!st.open) return out;
    const tau = link.expiry - this.t;
    if (tau <= 0) return out;
    const m = st.market;
    const ref = st.ref!;
    const count = st.count!;
    if (m.fees.kind === 'unknown') return this.skip(count, 'fees_unknown', out);
    const yesSlot = st.oYesSlot;
    const noSlot = st.oNoSlot;
    const yesBook = this.usable(this.oracleBook(st, yesSlot));
    const noBook = this.usable(this.oracleBook(st, noSlot));
    if (!yesBook && !noBook) return out;
    const a = st.oracleAsset!;
    // the settlement source itself, or (proxy mode only) another source with a measured basis
    let own = st.own;
    if (own === undefined && ref.feed) {
      own = a.sources.get(ref.feed);
      st.own = own;
      this.orcOwn[st.oracleIdx] = own;
    }
    let src: SourceState | undefined;
    let basis = 0;
    if (own && this.freshTick(own.tick)) src = own;
    else if (!this.o.proxy) return this.skip(count, ref.feed ? 'source_stale' : 'no_feed', out);
    else {
      if (!ref.feed) return this.skip(count, 'no_feed', out);
      const p = this.freshestOther(a, ref.feed);
      const b = p ? a.basis.get(basisKey(p.tick.source, ref.feed)) : undefined;
      if (!p || b === undefined) return this.skip(count, 'basis_unmeasured', out);
      src = p;
      basis = b;
    }
    const strike = link.strike ?? this.strikeOf(st, link, ref, own);
    if (strike === undefined) return this.skip(count, 'strike_pending', out);
    // inside an averaging window the part already printed is fixed
    let observedAvg: number | undefined;
    if (ref.windowMs > 0 && tau < ref.windowMs) {
      observedAvg = src.hist.average(link.expiry - ref.windowMs, this.t);
      if (observedAvg === undefined) return this.skip(count, 'window_unobserved', out);
    }
    const tick = src.tick;
    const sigma = src.vol.sigma();
    // positional, no closure or input object: this runs for every market on every tick of its source
    const k0 = 1 - basis;
    const f0 = fairPriceOf(
      link.kind,
      tick.price * k0,
      strike,
      link.upper,
      sigma,
      tau,
      ref.windowMs,
      observedAvg !== undefined ? observedAvg * k0 : undefined,
    );
    const f1 =
      basis > 0
        ? fairPriceOf(
            link.kind,
            tick.price * (1 + basis),
            strike,
            link.upper,
            sigma,
            tau,
            ref.windowMs,
            observedAvg !== undefined ? observedAvg * (1 + basis) : undefined,
          )
        : f0;
    if (f0 === undefined || f1 === undefined) return this.skip(count, 'model', out);
    count.priced++;
    // with a basis the fair value is a band: each side takes its worse end
    const fairLo = Math.min(f0, f1);
    const fairHi = Math.max(f0, f1);
    const margin = this.o.oracleMargin + (basis > 0 ? (this.o.proxy?.extraMargin ?? 0) : 0);
    for (let side = 0; side < 2; side++) {
      const book = side === 0 ? yesBook : noBook;
      const value = side === 0 ? fairLo : MICRO - fairHi;
      // the token's cached best ask (NO_ASK when its book is missing, stale or empty): the book is not read
      const slot = side === 0 ? yesSlot : noSlot;
      const ask =
        slot === SLOT_YES ? this.flat.ask(st.yesSlot) : slot === SLOT_NO ? this.flat.ask(st.noSlot) : NO_ASK;
      if (!book || ask >= value - margin) continue;
      const token = side === 0 ? link.yesToken : st.oNoToken!;
      const lag = this.lagLeg(st, side === 0, m, token, book);
      let atFair: BundleFill | undefined;
      if (lag.value === value && lag.limit === value - margin) atFair = lag.fill;
      else {
        lag.sizing ??= prepareOneLeg(lag.legs[0]!, this.o.maxShares);
        // sized at the limit, the same fills valued at fair (evaluateBundle at those shares, no second walk)
        atFair = sizeOneLeg(lag.sizing, value - margin, value);
        lag.value = value;
        lag.limit = value - margin;
        lag.fill = atFair;
      }
      if (!atFair || !this.accept('oracle_lag', lag.legs, atFair, lag.key, lag)) continue;
      out = this.pushLag(
        st,
        lag,
        atFair,
        src,
        strike,
        value,
        fairLo,
        fairHi - fairLo,
        basis,
        sigma,
        tau,
        out,
      );
    }
    return out;
  }

  /**
   * oracle_lag on a book update of slot `s`, decided from compact copies when it can be: true when it was (no
   * edge at the top of either side, counted as oracleLag counts it), false when oracleLag must run. It reads the
   * market's oracle record, the slot's record and the settlement source's state, not the market, link, reference
   * and book objects: on 100,000 markets those were a handful of cache misses per update of an oracle market.
   * The same arithmetic as oracleLag's without a basis (no proxy) and outside an averaging window.
   */
  private oracleQuick(k: number, s: number, flags: number): boolean {
    const o = this.orc;
    const q = k * ORC;
    if (k < 0 || o[q + O_QUICK] !== 1 || (flags & F_OPEN) === 0) return false;
    const tau = o[q + O_EXPIRY]! - this.t;
    const windowMs = o[q + O_WINDOW]!;
    if (tau <= 0 || (windowMs > 0 && tau < windowMs)) return false;
    const f = this.flat;
    // the market's YES and NO tops and freshness, from this slot's record (its own and its sibling's)
    const isYes = (f.binding(s) & SIDE_MASK) === SIDE_YES;
    const yesAsk = isYes ? f.ask(s) : f.sibAsk(s);
    const noAsk = isYes ? f.sibAsk(s) : f.ask(s);
    const yesFresh = isYes ? f.fresh(s) : f.sibFresh(s);
    const noFresh = isYes ? f.sibFresh(s) : f.fresh(s);
    // the link's YES and NO tokens among them (SLOT_*)
    const ly = o[q + O_YES]!;
    const ln = o[q + O_NO]!;
    const aYes = ly === SLOT_YES ? yesAsk : ly === SLOT_NO ? noAsk : NO_ASK;
    const aNo = ln === SLOT_YES ? yesAsk : ln === SLOT_NO ? noAsk : NO_ASK;
    const fYes = ly === SLOT_YES ? yesFresh : ly === SLOT_NO && noFresh;
    const fNo = ln === SLOT_YES ? yesFresh : ln === SLOT_NO && noFresh;
    // as oracleLag: no usable book, nothing priced nor counted
    if (!fYes && !fNo) return true;
    const own = this.orcOwn[k];
    if (own === undefined || !this.freshTick(own.tick)) return false;
    const upper = o[q + O_UPPER]!;
    const fair = fairPriceOf(
      KINDS[o[q + O_KIND]!]!,
      own.tick.price,
      o[q + O_STRIKE]!,
      Number.isNaN(upper) ? undefined : upper,
      own.vol.sigma(),
      tau,
      windowMs,
      undefined,
    );
    if (fair === undefined) return false;
    const margin = this.o.oracleMargin;
    if ((fYes && aYes < fair - margin) || (fNo && aNo < MICRO - fair - margin)) return false;
    this.orcCount[k]!.priced++;
    return true;
  }

  /** The book in one of a market's slots as oracle_lag names them (SLOT_YES, SLOT_NO, SLOT_NONE). */
  private oracleBook(st: MarketState, slot: number): OrderBook | undefined {
    return slot === SLOT_YES
      ? this.flat.book(st.yesSlot)
      : slot === SLOT_NO
        ? this.flat.book(st.noSlot)
        : undefined;
  }

  /** oracle_lag's leg for one side of a market: built once per book (ticks re-price the same books). */
  private lagLeg(st: MarketState, yes: boolean, m: Market, token: string, book: OrderBook): LagLeg {
    const prev = yes ? st.lagYes : st.lagNo;
    // keyed on the book object: a published book is never changed in place (decoders emit new level arrays)
    if (prev && prev.book === book && prev.market === m && prev.token === token) return prev;
    const legs = [this.leg(m, token, 'buy', book)];
    // the keys depend on the token only (a market state's venue never changes): kept from the previous leg
    const same = prev !== undefined && prev.token === token;
    const lag: LagLeg = {
      book,
      market: m,
      token,
      legs,
      key: same ? prev.key : this.keyOf('oracle_lag', legs),
      stampKey: same ? prev.stampKey : instrumentKey(book.venue, book.tokenId),
      sizing: undefined,
      value: Number.NaN,
      limit: Number.NaN,
      fill: undefined,
      rec: same ? prev.rec : undefined,
    };
    if (yes) st.lagYes = lag;
    else st.lagNo = lag;
    return lag;
  }

  /** Publishes an oracle_lag opportunity (the note's parts are formatted once per market, tick and sigma). */
  private pushLag(
    st: MarketState,
    lag: LagLeg,
    atFair: BundleFill,
    src: SourceState,
    strike: number,
    value: Price,
    fairLo: Price,
    basisTerm: number,
    basis: number,
    sigma: number,
    tau: number,
    out: Opportunity[] | undefined,
  ): Opportunity[] | undefined {
    const link = st.oracle!;
    const tick = src.tick;
    const book = lag.book;
    if (src.noteTick !== tick) {
      src.noteTick = tick;
      src.noteSpot = `${tick.price} ${tick.source}`;
      src.stampKey = oracleKey(tick.source, tick.symbol);
    }
    if (src.noteSigma !== sigma) {
      src.noteSigma = sigma;
      src.noteSigmaStr = `, sigma ${sigma.toFixed(3)}, tau `;
    }
    if (st.noteStrike !== strike) {
      st.noteStrike = strike;
      st.notePrefix = `${link.kind} ${link.asset} strike ${strike} fair `;
    }
    const stamps = [
      { key: lag.stampKey, eventTime: book.eventTime, receiveTime: book.receiveTime },
      { key: src.stampKey, eventTime: tick.eventTime, receiveTime: tick.receiveTime },
    ];
    // the same text as `${kind} ${asset} strike ${strike} fair ${value} on ${source} ${window} (spot ${price}
    // ${feed}[ proxy, basis …], sigma ${sigma.toFixed(3)}, tau ${tau} ms)`
    const note =
      st.notePrefix +
      value +
      st.noteMid +
      src.noteSpot +
      (basis > 0 ? ` proxy, basis ${basis.toExponential(2)}` : '') +
      src.noteSigmaStr +
      tau +
      ' ms)';
    const strength = Math.min(1, (value - atFair.legs[0]!.limit) / 200_000);
    const pricing = {
      source: st.ref!.source,
      feed: tick.source,
      window: st.refLabel,
      reference: strike,
      spot: tick.price,
      fair: fairLo,
      basis: basisTerm,
    };
    return this.push('oracle_lag', lag.legs, atFair, stamps, out, note, strength, pricing);
  }

  /**
   * The up/down strike from the settlement source itself (never another source): its TWAP/average over the
   * window before the start, its value at the start (a point), the first print of the candle (a candle open) or
   * the close of the candle ending at the start (a candle close). Undefined until it can be known; once known it is kept.
   */
  private strikeOf(
    st: MarketState,
    link: OracleLink,
    ref: ResolvedRef,
    own: SourceState | undefined,
  ): number | undefined {
    if (link.kind !== 'up_down') return undefined;
    if (st.refOpen !== undefined) return st.refOpen;
    const start = link.start;
    if (start === undefined || this.t < start || !own) return undefined;
    // fixed only once the source printed after the start: a print stamped at the start may still be on its way
    const after = own.hist.firstFrom(start + 1);
    if (!after) return undefined;
    let v: number | undefined;
    switch (ref.window) {
      case 'twap':
      case 'average':
        v = own.hist.average(start - ref.windowMs, start);
        break;
      case 'point': {
        const at = own.hist.valueAt(start);
        if (at && start - at.time <= this.o.pointToleranceMs) v = at.price;
        else {
          const next = own.hist.firstFrom(start);
          if (next && next.time - start <= this.o.pointToleranceMs) v = next.price;
        }
        break;
      }
      case 'candle_close': {
        // the close of the candle ending at the start (a daily up/down: the day before's candle): the last print
        // before the start, known only when the history reaches back to it
        const at = own.hist.valueAt(start - 1);
        if (at) v = at.price;
        break;
      }
      default:
        // the candle's first print, known only when the history reaches back to before the start
        if (own.hist.valueAt(start)) v = own.hist.firstFrom(start)?.price;
    }
    if (v !== undefined) st.refOpen = Math.round(v);
    return st.refOpen;
  }

  private count(source: string): PricingCount {
    const k = `oracle_lag|${source}`;
    let c = this.pricing.get(k);
    if (!c) {
      c = { priced: 0, skipped: {} };
      this.pricing.set(k, c);
    }
    return c;
  }

  private skip(c: PricingCount, reason: string, out: Opportunity[] | undefined): Opportunity[] | undefined {
    c.skipped[reason] = (c.skipped[reason] ?? 0) + 1;
    return out;
  }

  /** The freshest fresh source of an asset other than `not`. */
  private freshestOther(a: AssetState, not: string): SourceState | undefined {
    let best: SourceState | undefined;
    for (const [name, s] of a.sources) {
      if (name === not || !this.freshTick(s.tick)) continue;
      if (!best || s.tick.receiveTime > best.tick.receiveTime) best = s;
    }
    return best;
  }

  /** Proxy mode: the relative basis between this tick's source and every other fresh source of the asset. */
  private measureBasis(a: AssetState, tick: OracleTick): void {
    for (const [name, s] of a.sources) {
      if (name === tick.source || !this.freshTick(s.tick) || !(s.tick.price > 0)) continue;
      const rel = Math.abs(tick.price - s.tick.price) / s.tick.price;
      const k = basisKey(tick.source, name);
      const prev = a.basis.get(k);
      // an EWMA that rises at once and decays slowly: the band errs wide
      a.basis.set(k, prev === undefined || rel > prev ? rel : 0.95 * prev + 0.05 * rel);
    }
  }

  // ---------------------------------------------------------------- helpers

  private emit(
    kind: OpportunityType,
    legs: LegInput[],
    settle: Price,
    books: readonly OrderBook[],
    out: Opportunity[] | undefined,
    note: string,
  ): Opportunity[] | undefined {
    const sized = this.sized(kind, legs, settle);
    if (!sized) return out;
    return this.push(
      kind,
      legs,
      sized,
      books.map((b) => this.stamp(b)),
      out,
      note,
      undefined,
    );
  }

  /** The bundle of `legs` sized by depth, when it is published (accept); undefined when not. */
  private sized(kind: OpportunityType, legs: LegInput[], settle: Price): BundleFill | undefined {
    const sized = sizeBundle(legs, settle, this.o.maxShares);
    return sized && this.accept(kind, legs, sized) ? sized : undefined;
  }

  /** Whether a sized bundle is published: edge and minimum sizes met, and not an unchanged repeat (dedupe). */
  private accept(
    kind: OpportunityType,
    legs: readonly LegInput[],
    f: BundleFill,
    key?: string,
    lag?: LagLeg,
  ): boolean {
    if (f.edge < this.o.minEdge) return false;
    // a market whose fee schedule is not known yet is never priced (its fee would be a guess)
    for (const l of legs) {
      if (l.fees.kind === 'unknown') {
        this.stats.feesUnknown++;
        return false;
      }
    }
    // every leg must meet its market's minimum order size
    for (const l of legs) if (f.shares < l.minSize) return false;
    if (this.o.dedupe && this.unchanged(key ?? this.keyOf(kind, legs), f, this.t, lag)) {
      this.stats.unchanged++;
      return false;
    }
    return true;
  }

  /** Builds the opportunity; the caller has checked it with accept(). */
  private push(
    kind: OpportunityType,
    legs: readonly LegInput[],
    f: BundleFill,
    data: Opportunity['data'],
    out: Opportunity[] | undefined,
    note: string,
    strength: number | undefined,
    pricing?: Opportunity['pricing'],
  ): Opportunity[] | undefined {
    let minShares = 0;
    for (const l of legs) minShares = Math.max(minShares, l.minSize);
    const lotShares = bundleLot(legs);
    const now = this.t;
    const bps = edgeBps(f.edge, f.capital);
    // the legs by map (an array of their exact length: a push()ed empty array reserves 17 slots, per opportunity)
    const oppLegs = legs.map((l, i): Opportunity['legs'][number] => ({
      venue: l.venue,
      marketId: l.marketId,
      tokenId: l.tokenId,
      side: l.side,
      limitPrice: f.legs[i]!.limit,
      shares: f.shares,
    }));
    const o: { -readonly [K in keyof Opportunity]: Opportunity[K] } = {
      type: 'opportunity',
      id: this.o.ids.next('opp'),
      kind,
      legs: oppLegs,
      edge: f.edge,
      edgeBps: bps,
      cost: f.cost,
      fees: f.fees,
      shares: f.shares,
      signal: strength ?? Math.min(1, Math.max(0, bps / 1_000)),
      detectedAt: now,
      expiresAt: now + this.o.ttlMs,
      data,
      note,
      minShares,
      lotShares,
    };
    // assigned rather than spread in: the spread copied the object (pricing stays the last key)
    if (pricing) o.pricing = pricing;
    // most updates find one opportunity: a one-element list (an empty one that is pushed to reserves 17 slots)
    if (!out) return [o];
    out.push(o);
    return out;
  }

  /** The dedupe key of an opportunity: its kind and legs. */
  private keyOf(kind: OpportunityType, legs: readonly LegInput[]): string {
    let key: string = kind;
    for (let i = 0; i < legs.length; i++) {
      const l = legs[i]!;
      key += `|${l.venue}|${l.tokenId}|${l.side}`;
    }
    return key;
  }

  /** True when the same opportunity was published unchanged and has not expired; else records this one. */
  private unchanged(key: string, f: BundleFill, now: number, lag?: LagLeg): boolean {
    // an expired emission dedupes nothing: forget them, or the map grows with every key ever seen
    if (now >= this.nextPrune) {
      this.nextPrune = now + this.o.ttlMs;
      for (const [k, e] of this.emitted) {
        if (e.expiresAt <= now) {
          e.gone = true;
          this.emitted.delete(k);
        }
      }
    }
    // an oracle_lag leg holds its key's record (no lookup) until the prune drops it
    let last = lag?.rec;
    if (last === undefined || last.gone) last = this.emitted.get(key);
    if (last && now < last.expiresAt && last.shares === f.shares && last.edge === f.edge) {
      let same = true;
      for (let i = 0; i < f.legs.length; i++) {
        if (last.limits[i] !== f.legs[i]!.limit) {
          same = false;
          break;
        }
      }
      if (same) {
        if (lag) lag.rec = last;
        return true;
      }
    }
    if (last) {
      last.expiresAt = now + this.o.ttlMs;
      last.shares = f.shares;
      last.edge = f.edge;
      // the record's own array, refilled: nothing else holds it
      const limits = last.limits;
      limits.length = f.legs.length;
      for (let i = 0; i < f.legs.length; i++) limits[i] = f.legs[i]!.limit;
    } else {
      const limits: Price[] = [];
      for (let i = 0; i < f.legs.length; i++) limits.push(f.legs[i]!.limit);
      last = { expiresAt: now + this.o.ttlMs, shares: f.shares, edge: f.edge, limits, gone: false };
      this.emitted.set(key, last);
    }
    if (lag) lag.rec = last;
    return false;
  }

  private leg(m: Market, tokenId: string, side: 'buy' | 'sell', b: OrderBook): LegInput {
    return {
      venue: m.venue,
      marketId: m.marketId,
      tokenId,
      side,
      levels: side === 'buy' ? b.asks : b.bids,
      fees: m.fees,
      minSize: m.minSize,
      // always present (undefined: DEFAULT_LOT), so every leg has one shape and no spread copies an object in
      lot: m.lotSize,
    };
  }

  private stamp(b: OrderBook): Opportunity['data'][number] {
    return { key: instrumentKey(b.venue, b.tokenId), eventTime: b.eventTime, receiveTime: b.receiveTime };
  }

  /** Puts a book in its slot, with its tops (NO_ASK / NO_BID unless usable). */
  private put(s: number, b: OrderBook): void {
    const usable = this.fresh(b);
    this.flat.setBook(s, b, usable ? topAsk(b) : NO_ASK, usable ? topBid(b) : NO_BID, usable);
  }

  /** Empties a market's YES (or NO) slot: its token is no longer that side (it stays bound to the market). */
  private unslot(st: MarketState, side: number): void {
    const slot = side === SIDE_YES ? st.yesSlot : st.noSlot;
    if (slot < 0) return;
    const b = this.flat.binding(slot);
    // unless the token has moved to another market since
    if (b >> BINDING_SHIFT === st.idx && (b & SIDE_MASK) === side)
      this.flat.bind(slot, this.flat.tokenAt(slot)!, b - side + SIDE_OTHER);
    if (side === SIDE_YES) st.yesSlot = -1;
    else st.noSlot = -1;
  }

  /** The book when it is fresh, else undefined. */
  private usable(b: OrderBook | undefined): OrderBook | undefined {
    return b && this.fresh(b) ? b : undefined;
  }

  private fresh(b: OrderBook): boolean {
    return !b.stale;
  }

  private freshTick(t: OracleTick): boolean {
    return !t.stale;
  }

  private venueMap<T>(maps: Map<string, Map<string, T>>, venue: string): Map<string, T> {
    let m = maps.get(venue);
    if (!m) {
      m = new Map();
      maps.set(venue, m);
    }
    return m;
  }

  private ensure(key: string): MarketState {
    let st = this.markets.get(key);
    if (!st) {
      // a link or oracle link may arrive before its market: hold a shell (closed) until the market comes
      st = {
        // what oracle_lag reads on every update of an oracle-linked market first, together (fewer cache lines)
        oracle: undefined,
        oracleIdx: -1,
        open: false,
        market: SHELL,
        ref: undefined,
        count: undefined,
        oYesSlot: SLOT_NONE,
        oNoSlot: SLOT_NONE,
        yesSlot: -1,
        noSlot: -1,
        oracleAsset: undefined,
        own: undefined,
        refOpen: undefined,
        idx: this.states.length,
        yes: undefined,
        no: undefined,
        group: undefined,
        placeholder: false,
        key,
        feedMarkets: undefined,
        groupKey: undefined,
        lagYes: undefined,
        lagNo: undefined,
        oNoToken: undefined,
        notePrefix: '',
        noteStrike: Number.NaN,
        refLabel: '',
        noteMid: '',
        links: NO_LINKS,
      };
      this.states.push(st);
      this.markets.set(key, st);
    }
    return st;
  }

  private asset(name: string): AssetState {
    const k = name.toUpperCase();
    let a = this.assets.get(k);
    if (!a) {
      a = { sources: new Map(), byFeed: new Map(), basis: new Map() };
      this.assets.set(k, a);
    }
    return a;
  }

  /** The markets of an asset that settle on `feed` (created empty). */
  private feedMarkets(a: AssetState, feed: string): Set<MarketState> {
    let m = a.byFeed.get(feed);
    if (!m) {
      m = new Set();
      a.byFeed.set(feed, m);
    }
    return m;
  }
}

const NONE: readonly Opportunity[] = Object.freeze([]);
/** The links of a market that has none (shared: most markets; onLink gives a market its own array). */
const NO_LINKS: LinkEntry[] = [];

const basisKey = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);

/** Placeholder market state until the real market arrives (closed, so nothing trades on it). */
const SHELL: Market = {
  type: 'market',
  venue: 'polymarket',
  marketId: '-',
  question: '',
  rules: '',
  outcomes: [{ tokenId: '-', label: '', side: 'other' }],
  tickSize: 1,
  minSize: 0,
  fees: { kind: 'none' },
  endTime: null,
  status: 'closed',
  version: '',
  receiveTime: 0,
};

export function createScanner(opts: ScannerOptions): Scanner {
  return new Scanner(opts);
}
