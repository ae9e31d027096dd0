/**
 * The opportunity scanner: keeps the latest markets, books, oracle ticks, market links and oracle links, and on
 * every update evaluates only what that update touches (the market of the book, its negRisk group, its links,
 * its oracle link; for a tick, the markets linked to that asset). Nothing is computed from stale data: a book
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
 * - oracle_lag: fair value from spot (fair.ts) against the book: buy YES while ask + fee < fair − margin, or
 *   NO while ask + fee < (1 − fair) − margin; the stated edge is the expected value at the fair price.
 *
 * Dedupe (ScannerOptions.dedupe, on by default): an opportunity (kind + legs) is published again only when a leg's
 * limit price, the share count or the edge changed since its last emission, or that emission has expired. An
 * update that changes none of them publishes nothing: downstream still holds the same opportunity.
 */
import type { IdGen } from '../core/agent.ts';
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
import { type BundleFill, edgeBps, type LegInput, resettle, sizeBundle } from './depth.ts';
import { EwmaVol, fairPrice, type VolEstimatorOptions } from './fair.ts';

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
}

interface LinkEntry {
  readonly link: MarketLink;
  /** the other market */
  readonly other: MarketState;
  /** true when this market is `a` of the link */
  readonly isA: boolean;
}

interface MarketState {
  readonly key: string;
  market: Market;
  yes: string | undefined;
  no: string | undefined;
  /** latest books of the YES and NO tokens (direct slots: no map lookups on the hot path) */
  yesBook: OrderBook | undefined;
  noBook: OrderBook | undefined;
  links: LinkEntry[];
  oracle: OracleLink | undefined;
  /** the oracle link's asset state and preferred source, resolved once */
  oracleAsset: AssetState | undefined;
  oracleSource: string | undefined;
  group: Set<MarketState> | undefined;
  groupKey: string | undefined;
  /** up/down reference open price seen from the oracle at the window start (1e-8) */
  refOpen: number | undefined;
  /** oracle_lag's legs (and dedupe key) per side, reused while the book and market objects stay the same */
  lagYes: LagLeg | undefined;
  lagNo: LagLeg | undefined;
}

interface LagLeg {
  readonly book: OrderBook;
  readonly market: Market;
  readonly token: string;
  readonly legs: LegInput[];
  readonly key: string;
}

interface SourceState {
  tick: OracleTick;
  vol: EwmaVol;
}

interface AssetState {
  /** per oracle source: sources quote slightly different prices, so neither the tick nor the vol are mixed */
  sources: Map<string, SourceState>;
  markets: Set<MarketState>;
}

const mkey = (venue: string, marketId: string): string => `${venue}|${marketId}`;

/** Base asset of a symbol: "BTC/USDT" → "BTC". */
export const assetOf = (symbol: string): string => (symbol.split('/')[0] ?? symbol).toUpperCase();

const bestAsk = (b: OrderBook): number => b.asks[0]?.[0] ?? Number.POSITIVE_INFINITY;
const bestBid = (b: OrderBook): number => b.bids[0]?.[0] ?? Number.NEGATIVE_INFINITY;

export class Scanner {
  private readonly o: Required<Omit<ScannerOptions, 'vol'>> & { vol: VolEstimatorOptions };
  private readonly markets = new Map<string, MarketState>();
  /** venue → tokenId → market state */
  private readonly tokens: Record<string, Map<string, MarketState>> = {
    polymarket: new Map(),
    kalshi: new Map(),
  };
  /** books that arrived before their market, venue → tokenId → book */
  private readonly early: Record<string, Map<string, OrderBook>> = {
    polymarket: new Map(),
    kalshi: new Map(),
  };
  private readonly groups = new Map<string, Set<MarketState>>();
  private readonly assets = new Map<string, AssetState>();
  /** tick symbol → its asset (assetOf once per symbol, not per tick) */
  private readonly bySymbol = new Map<string, AssetState>();
  /** last emission per opportunity key (kind + legs), for dedupe */
  private readonly emitted = new Map<string, Emitted>();
  /** `now` of the update being processed */
  private t = 0;
  /** counters for the heartbeat */
  readonly stats = { books: 0, ticks: 0, opportunities: 0, skippedStale: 0, unchanged: 0 };

  constructor(opts: ScannerOptions) {
    this.o = {
      ttlMs: 2_000,
      maxShares: Number.MAX_SAFE_INTEGER,
      minEdge: 1,
      oracleMargin: 20_000,
      vol: {},
      dedupe: true,
      ...opts,
    };
  }

  get marketCount(): number {
    return this.markets.size;
  }

  // ---------------------------------------------------------------- state updates

  onMarket(m: Market): readonly Opportunity[] {
    const st = this.ensure(mkey(m.venue, m.marketId));
    const yes =
      m.outcomes.find((x) => x.side === 'yes')?.tokenId ??
      (m.outcomes.length === 2 ? m.outcomes[0]!.tokenId : undefined);
    const no =
      m.outcomes.find((x) => x.side === 'no')?.tokenId ??
      (m.outcomes.length === 2 ? m.outcomes[1]!.tokenId : undefined);
    const groupKey = m.negRiskGroup ? `${m.venue}|${m.negRiskGroup}` : undefined;
    if (st.group && st.groupKey !== groupKey) st.group.delete(st);
    if (st.yes !== yes) st.yesBook = undefined;
    if (st.no !== no) st.noBook = undefined;
    st.market = m;
    st.yes = yes;
    st.no = no;
    st.groupKey = groupKey;
    const toks = this.tokens[m.venue]!;
    const early = this.early[m.venue]!;
    for (const o of m.outcomes) {
      toks.set(o.tokenId, st);
      const b = early.get(o.tokenId);
      if (b) {
        early.delete(o.tokenId);
        this.slot(st, b);
      }
    }
    if (groupKey) {
      let g = this.groups.get(groupKey);
      if (!g) {
        g = new Set();
        this.groups.set(groupKey, g);
      }
      g.add(st);
      st.group = g;
    } else st.group = undefined;
    return NONE;
  }

  onLink(link: MarketLink): void {
    const sa = this.ensure(mkey(link.a.venue, link.a.marketId));
    const sb = this.ensure(mkey(link.b.venue, link.b.marketId));
    sa.links = sa.links.filter((e) => e.other !== sb);
    sb.links = sb.links.filter((e) => e.other !== sa);
    if (!isLinkRelation(link.relation)) return;
    sa.links.push({ link, other: sb, isA: true });
    sb.links.push({ link, other: sa, isA: false });
  }

  onOracleLink(link: OracleLink): void {
    const st = this.ensure(mkey(link.market.venue, link.market.marketId));
    if (st.oracleAsset) st.oracleAsset.markets.delete(st);
    st.oracle = link;
    st.oracleAsset = this.asset(link.asset);
    st.oracleAsset.markets.add(st);
    st.oracleSource = link.settlementSource.split(/[\s:]/)[0] || undefined;
  }

  onBook(book: OrderBook): readonly Opportunity[] {
    this.stats.books++;
    const st = this.tokens[book.venue]?.get(book.tokenId);
    if (!st) {
      this.early[book.venue]?.set(book.tokenId, book);
      return NONE;
    }
    this.slot(st, book);
    this.t = this.o.now();
    if (!this.fresh(book)) {
      this.stats.skippedStale++;
      return NONE;
    }
    let out: Opportunity[] | undefined;
    out = this.rebalancing(st, out);
    if (st.group) out = this.group(st.group, st.groupKey!, out);
    for (let i = 0; i < st.links.length; i++) out = this.linked(st, st.links[i]!, out);
    if (st.oracle) out = this.oracleLag(st, out);
    if (!out) return NONE;
    this.stats.opportunities += out.length;
    return out;
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
      src = { tick, vol: new EwmaVol(this.o.vol) };
      a.sources.set(tick.source, src);
    }
    if (!tick.stale) src.vol.update(t, tick.price);
    // keep the latest tick; a stale one replaces it so that nothing trades on it
    if ((src.tick.eventTime ?? src.tick.receiveTime) <= t || tick.stale) src.tick = tick;
    let out: Opportunity[] | undefined;
    for (const st of a.markets) {
      const l = st.oracle;
      if (!l) continue;
      // up/down without a known open: the first good tick at or after the window start is the reference
      if (l.kind === 'up_down' && l.strike === undefined && st.refOpen === undefined && !tick.stale) {
        if (l.start !== undefined && t >= l.start) st.refOpen = tick.price;
      }
      out = this.oracleLag(st, out);
    }
    if (!out) return NONE;
    this.stats.opportunities += out.length;
    return out;
  }

  // ---------------------------------------------------------------- detectors
  // Each detector first checks the top of book (no allocation) and builds legs only when an edge is possible.

  private rebalancing(st: MarketState, out: Opportunity[] | undefined): Opportunity[] | undefined {
    const m = st.market;
    if (m.status !== 'open' || !st.yes || !st.no) return out;
    const by = this.usable(st.yesBook);
    const bn = this.usable(st.noBook);
    if (!by || !bn) return out;
    if (bestAsk(by) + bestAsk(bn) < MICRO) {
      const legs = [this.leg(m, st.yes, 'buy', by), this.leg(m, st.no, 'buy', bn)];
      out = this.emit('rebalancing', legs, MICRO, [by, bn], out, 'buy YES + NO: one of them pays 1');
    }
    if (bestBid(by) + bestBid(bn) > MICRO) {
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

  private group(
    members: Set<MarketState>,
    groupKey: string,
    out: Opportunity[] | undefined,
  ): Opportunity[] | undefined {
    if (members.size < 2) return out;
    let top = 0;
    for (const st of members) {
      const m = st.market;
      // augmented groups: the listed outcomes are not exhaustive (see header)
      if (m.placeholder || m.status !== 'open' || !st.yes) return out;
      const b = this.usable(st.yesBook);
      if (!b) return out;
      top += bestAsk(b);
    }
    if (top >= MICRO) return out;
    const legs: LegInput[] = [];
    const books: OrderBook[] = [];
    for (const st of members) {
      legs.push(this.leg(st.market, st.yes!, 'buy', st.yesBook!));
      books.push(st.yesBook!);
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

  private linked(st: MarketState, e: LinkEntry, out: Opportunity[] | undefined): Opportunity[] | undefined {
    const A = e.isA ? st : e.other;
    const B = e.isA ? e.other : st;
    if (A.market.status !== 'open' || B.market.status !== 'open') return out;
    switch (e.link.relation) {
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
    const ba = this.usable(yesA ? A.yesBook : A.noBook);
    const bb = this.usable(yesB ? B.yesBook : B.noBook);
    if (!ta || !tb || !ba || !bb || bestAsk(ba) + bestAsk(bb) >= MICRO) return out;
    const ma = A.market;
    const mb = B.market;
    const note = `${e.link.relation} ${ma.venue}:${ma.marketId} / ${mb.venue}:${mb.marketId}: ${what}`;
    return this.emit(
      kind,
      [this.leg(ma, ta, 'buy', ba), this.leg(mb, tb, 'buy', bb)],
      MICRO,
      [ba, bb],
      out,
      note,
    );
  }

  private oracleLag(st: MarketState, out: Opportunity[] | undefined): Opportunity[] | undefined {
    const link = st.oracle!;
    const m = st.market;
    if (m.status !== 'open') return out;
    const tau = link.expiry - this.t;
    if (tau <= 0) return out;
    const yesBook = this.usable(this.bookOfToken(st, link.yesToken));
    const noToken = link.noToken ?? (link.yesToken === st.yes ? st.no : st.yes);
    const noBook = noToken ? this.usable(this.bookOfToken(st, noToken)) : undefined;
    if (!yesBook && !noBook) return out;
    const src = this.sourceFor(st.oracleAsset!, st.oracleSource);
    if (!src) return out;
    const strike = link.kind === 'up_down' && link.strike === undefined ? st.refOpen : link.strike;
    if (strike === undefined) return out;
    const tick = src.tick;
    const sigma = src.vol.sigma();
    const fair = fairPrice({
      kind: link.kind,
      spot: tick.price,
      strike,
      upper: link.upper,
      sigmaAnnual: sigma,
      tauMs: tau,
    });
    if (fair === undefined) return out;
    const margin = this.o.oracleMargin;
    for (let side = 0; side < 2; side++) {
      const token = side === 0 ? link.yesToken : noToken;
      const book = side === 0 ? yesBook : noBook;
      const value = side === 0 ? fair : MICRO - fair;
      if (!token || !book || bestAsk(book) >= value - margin) continue;
      // ticks re-price the same books: their legs are built once per book
      let lag = side === 0 ? st.lagYes : st.lagNo;
      if (!lag || lag.book !== book || lag.market !== m || lag.token !== token) {
        const legs = [this.leg(m, token, 'buy', book)];
        lag = { book, market: m, token, legs, key: this.keyOf('oracle_lag', legs) };
        if (side === 0) st.lagYes = lag;
        else st.lagNo = lag;
      }
      const legs = lag.legs;
      const sized = sizeBundle(legs, value - margin, this.o.maxShares);
      if (!sized) continue;
      // the same fills valued at fair (evaluateBundle at sized.shares, without walking the book again)
      const atFair = resettle(sized, value);
      if (!this.accept('oracle_lag', legs, atFair, lag.key)) continue;
      const stamps = [
        this.stamp(book),
        {
          key: oracleKey(tick.source, tick.symbol),
          eventTime: tick.eventTime,
          receiveTime: tick.receiveTime,
        },
      ];
      const note = `${link.kind} ${link.asset} strike ${strike} fair ${value} (spot ${tick.price} ${tick.source}, sigma ${sigma.toFixed(3)}, tau ${tau} ms)`;
      const strength = Math.min(1, (value - atFair.legs[0]!.limit) / 200_000);
      out = this.push('oracle_lag', legs, atFair, stamps, out, note, strength);
    }
    return out;
  }

  /** Sets the reference open price of an up/down market (1e-8 units). */
  setReferenceOpen(venue: string, marketId: string, price: number): void {
    const st = this.markets.get(mkey(venue, marketId));
    if (st) st.refOpen = price;
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
    const sized = sizeBundle(legs, settle, this.o.maxShares);
    if (!sized || !this.accept(kind, legs, sized)) return out;
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

  /** Whether a sized bundle is published: edge and minimum sizes met, and not an unchanged repeat (dedupe). */
  private accept(kind: OpportunityType, legs: readonly LegInput[], f: BundleFill, key?: string): boolean {
    if (f.edge < this.o.minEdge) return false;
    // every leg must meet its market's minimum order size
    for (const l of legs) if (f.shares < l.minSize) return false;
    if (this.o.dedupe && this.unchanged(key ?? this.keyOf(kind, legs), f, this.t)) {
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
  ): Opportunity[] | undefined {
    let minShares = 0;
    for (const l of legs) minShares = Math.max(minShares, l.minSize);
    const now = this.t;
    const bps = edgeBps(f.edge, f.capital);
    const list = out ?? [];
    list.push({
      type: 'opportunity',
      id: this.o.ids.next('opp'),
      kind,
      legs: legs.map((l, i) => ({
        venue: l.venue,
        marketId: l.marketId,
        tokenId: l.tokenId,
        side: l.side,
        limitPrice: f.legs[i]!.limit,
        shares: f.shares,
      })),
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
    });
    return list;
  }

  /** True when the same opportunity was published unchanged and has not expired; else records this one. */
  private keyOf(kind: OpportunityType, legs: readonly LegInput[]): string {
    let key: string = kind;
    for (let i = 0; i < legs.length; i++) {
      const l = legs[i]!;
      key += `|${l.venue}|${l.tokenId}|${l.side}`;
    }
    return key;
  }

  private unchanged(key: string, f: BundleFill, now: number): boolean {
    const last = this.emitted.get(key);
    if (last && now < last.expiresAt && last.shares === f.shares && last.edge === f.edge) {
      let same = true;
      for (let i = 0; i < f.legs.length; i++) {
        if (last.limits[i] !== f.legs[i]!.limit) {
          same = false;
          break;
        }
      }
      if (same) return true;
    }
    const limits = f.legs.map((x) => x.limit);
    if (last) {
      last.expiresAt = now + this.o.ttlMs;
      last.shares = f.shares;
      last.edge = f.edge;
      last.limits = limits;
    } else this.emitted.set(key, { expiresAt: now + this.o.ttlMs, shares: f.shares, edge: f.edge, limits });
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
    };
  }

  private stamp(b: OrderBook): Opportunity['data'][number] {
    return { key: instrumentKey(b.venue, b.tokenId), eventTime: b.eventTime, receiveTime: b.receiveTime };
  }

  /** Puts a book in its market's YES/NO slot. */
  private slot(st: MarketState, b: OrderBook): void {
    if (b.tokenId === st.yes) st.yesBook = b;
    else if (b.tokenId === st.no) st.noBook = b;
  }

  private bookOfToken(st: MarketState, token: string): OrderBook | undefined {
    return token === st.yes ? st.yesBook : token === st.no ? st.noBook : undefined;
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

  /** The oracle the market settles on when its tick is fresh, else the freshest other fresh source. */
  private sourceFor(a: AssetState, want: string | undefined): SourceState | undefined {
    const pref = want ? a.sources.get(want) : undefined;
    if (pref && this.freshTick(pref.tick)) return pref;
    let best: SourceState | undefined;
    for (const s of a.sources.values()) {
      if (!this.freshTick(s.tick)) continue;
      if (!best || s.tick.receiveTime > best.tick.receiveTime) best = s;
    }
    return best;
  }

  private ensure(key: string): MarketState {
    let st = this.markets.get(key);
    if (!st) {
      // a link or oracle link may arrive before its market: hold a shell (closed) until the market comes
      st = {
        key,
        market: SHELL,
        yes: undefined,
        no: undefined,
        yesBook: undefined,
        noBook: undefined,
        links: [],
        oracle: undefined,
        oracleAsset: undefined,
        oracleSource: undefined,
        group: undefined,
        groupKey: undefined,
        refOpen: undefined,
        lagYes: undefined,
        lagNo: undefined,
      };
      this.markets.set(key, st);
    }
    return st;
  }

  private asset(name: string): AssetState {
    const k = name.toUpperCase();
    let a = this.assets.get(k);
    if (!a) {
      a = { sources: new Map(), markets: new Set() };
      this.assets.set(k, a);
    }
    return a;
  }
}

const NONE: readonly Opportunity[] = Object.freeze([]);

/** Placeholder market state until the real market arrives (closed, so nothing trades on it). */
const SHELL: Market = {
  type: 'market',
  venue: 'polymarket',
  marketId: '-',
  question: '',
  rules: '',
  outcomes: [{ tokenId: '-', label: '', side: 'other' }],
  tickSize: 10_000,
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
