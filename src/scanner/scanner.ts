/**
 * The opportunity scanner: keeps the latest markets, books, oracle ticks, market links and oracle links, and on
 * every update evaluates only what that update touches (the market of the book, its negRisk group, its links,
 * its oracle link; for a tick, the markets linked to that asset). Nothing is computed from stale data: a book
 * flagged stale, or one older than `staleAfterMs` by the clock, makes every opportunity that needs it vanish.
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
 */
import type { IdGen } from '../core/agent.ts';
import {
  instrumentKey,
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
import { type BundleFill, edgeBps, evaluateBundle, type LegInput, sizeBundle } from './depth.ts';
import { EwmaVol, fairPrice, type VolEstimatorOptions } from './fair.ts';

export interface ScannerOptions {
  readonly now: () => number;
  readonly ids: IdGen;
  /** Data older than this (by the clock) is stale. */
  readonly staleAfterMs: number;
  /** How long an opportunity is valid after detection (default 2 s). */
  readonly ttlMs?: number;
  /** Cap on shares per opportunity (default: unlimited; strategies size within their allocation). */
  readonly maxShares?: Qty;
  /** Smallest edge worth emitting, micro-dollars (default 1). */
  readonly minEdge?: Money;
  /** oracle_lag: price must be this far inside fair before it is taken (model margin; default 0.02). */
  readonly oracleMargin?: Price;
  readonly vol?: VolEstimatorOptions;
}

interface LinkEntry {
  readonly link: MarketLink;
  /** key of the other market */
  readonly other: string;
  /** true when this market is `a` of the link */
  readonly isA: boolean;
}

interface MarketState {
  readonly key: string;
  market: Market;
  yes: string | undefined;
  no: string | undefined;
  links: LinkEntry[];
  oracle: OracleLink | undefined;
  groupKey: string | undefined;
  /** up/down reference open price seen from the oracle at the window start (1e-8) */
  refOpen: number | undefined;
}

interface SourceState {
  tick: OracleTick;
  vol: EwmaVol;
}

interface AssetState {
  /** per oracle source: sources quote slightly different prices, so neither the tick nor the vol are mixed */
  sources: Map<string, SourceState>;
  markets: Set<string>;
}

const mkey = (venue: string, marketId: string): string => `${venue}|${marketId}`;
const pairKey = (a: string, b: string): string => (a < b ? `${a}#${b}` : `${b}#${a}`);

/** Base asset of a symbol: "BTC/USDT" → "BTC". */
export const assetOf = (symbol: string): string => (symbol.split('/')[0] ?? symbol).toUpperCase();

export class Scanner {
  private readonly o: Required<Omit<ScannerOptions, 'vol'>> & { vol: VolEstimatorOptions };
  private readonly markets = new Map<string, MarketState>();
  private readonly books = new Map<string, OrderBook>();
  private readonly tokenMarket = new Map<string, string>();
  private readonly groups = new Map<string, Set<string>>();
  private readonly assets = new Map<string, AssetState>();
  private readonly linkKeys = new Map<string, MarketLink>();
  /** counters for the heartbeat */
  readonly stats = { books: 0, ticks: 0, opportunities: 0, skippedStale: 0 };

  constructor(opts: ScannerOptions) {
    this.o = {
      ttlMs: 2_000,
      maxShares: Number.MAX_SAFE_INTEGER,
      minEdge: 1,
      oracleMargin: 20_000,
      vol: {},
      ...opts,
    };
  }

  get marketCount(): number {
    return this.markets.size;
  }

  // ---------------------------------------------------------------- state updates

  onMarket(m: Market): Opportunity[] {
    const key = mkey(m.venue, m.marketId);
    let st = this.markets.get(key);
    const yes =
      m.outcomes.find((x) => x.side === 'yes')?.tokenId ??
      (m.outcomes.length === 2 ? m.outcomes[0]!.tokenId : undefined);
    const no =
      m.outcomes.find((x) => x.side === 'no')?.tokenId ??
      (m.outcomes.length === 2 ? m.outcomes[1]!.tokenId : undefined);
    const groupKey = m.negRiskGroup ? `${m.venue}|${m.negRiskGroup}` : undefined;
    if (!st) {
      st = { key, market: m, yes, no, links: [], oracle: undefined, groupKey, refOpen: undefined };
      this.markets.set(key, st);
    } else {
      if (st.groupKey && st.groupKey !== groupKey) this.groups.get(st.groupKey)?.delete(key);
      st.market = m;
      st.yes = yes;
      st.no = no;
      st.groupKey = groupKey;
    }
    for (const t of m.outcomes) this.tokenMarket.set(instrumentKey(m.venue, t.tokenId), key);
    if (groupKey) {
      let g = this.groups.get(groupKey);
      if (!g) {
        g = new Set();
        this.groups.set(groupKey, g);
      }
      g.add(key);
    }
    return [];
  }

  onLink(link: MarketLink): void {
    const ka = mkey(link.a.venue, link.a.marketId);
    const kb = mkey(link.b.venue, link.b.marketId);
    const pk = pairKey(ka, kb);
    const sa = this.ensure(ka);
    const sb = this.ensure(kb);
    sa.links = sa.links.filter((e) => e.other !== kb);
    sb.links = sb.links.filter((e) => e.other !== ka);
    if (link.relation === 'different') {
      this.linkKeys.delete(pk);
      return;
    }
    this.linkKeys.set(pk, link);
    sa.links.push({ link, other: kb, isA: true });
    sb.links.push({ link, other: ka, isA: false });
  }

  onOracleLink(link: OracleLink): void {
    const key = mkey(link.market.venue, link.market.marketId);
    const st = this.ensure(key);
    st.oracle = link;
    const a = this.asset(link.asset);
    a.markets.add(key);
  }

  onBook(book: OrderBook): Opportunity[] {
    this.stats.books++;
    const ik = instrumentKey(book.venue, book.tokenId);
    this.books.set(ik, book);
    const key = this.tokenMarket.get(ik);
    if (!key) return [];
    const st = this.markets.get(key);
    if (!st) return [];
    if (!this.fresh(book)) {
      this.stats.skippedStale++;
      return [];
    }
    const out: Opportunity[] = [];
    this.rebalancing(st, out);
    if (st.groupKey) this.group(st.groupKey, out);
    for (const e of st.links) this.linked(st, e, out);
    if (st.oracle) this.oracleLag(st, out);
    this.stats.opportunities += out.length;
    return out;
  }

  onTick(tick: OracleTick): Opportunity[] {
    this.stats.ticks++;
    const a = this.asset(assetOf(tick.symbol));
    const t = tick.eventTime ?? tick.receiveTime;
    let src = a.sources.get(tick.source);
    if (!src) {
      src = { tick, vol: new EwmaVol(this.o.vol) };
      a.sources.set(tick.source, src);
    }
    if (!tick.stale) src.vol.update(t, tick.price);
    // keep the latest tick; a stale one replaces it so that nothing trades on it
    if ((src.tick.eventTime ?? src.tick.receiveTime) <= t || tick.stale) src.tick = tick;
    const out: Opportunity[] = [];
    for (const key of a.markets) {
      const st = this.markets.get(key);
      if (!st?.oracle) continue;
      const l = st.oracle;
      // up/down without a known open: the first good tick at or after the window start is the reference
      if (l.kind === 'up_down' && l.strike === undefined && st.refOpen === undefined && !tick.stale) {
        if (l.start !== undefined && t >= l.start) st.refOpen = tick.price;
      }
      this.oracleLag(st, out);
    }
    this.stats.opportunities += out.length;
    return out;
  }

  // ---------------------------------------------------------------- detectors

  private rebalancing(st: MarketState, out: Opportunity[]): void {
    const m = st.market;
    if (m.status !== 'open' || !st.yes || !st.no) return;
    const by = this.bookOf(m.venue, st.yes);
    const bn = this.bookOf(m.venue, st.no);
    if (!by || !bn) return;
    const buy: LegInput[] = [this.leg(m, st.yes, 'buy', by), this.leg(m, st.no, 'buy', bn)];
    this.emit('rebalancing', buy, MICRO, [by, bn], out, 'buy YES + NO: one of them pays 1');
    const sell: LegInput[] = [this.leg(m, st.yes, 'sell', by), this.leg(m, st.no, 'sell', bn)];
    this.emit('rebalancing', sell, -MICRO, [by, bn], out, 'sell YES + NO: needs inventory of both sides');
  }

  private group(groupKey: string, out: Opportunity[]): void {
    const members = this.groups.get(groupKey);
    if (!members || members.size < 2) return;
    const legs: LegInput[] = [];
    const books: OrderBook[] = [];
    for (const k of members) {
      const st = this.markets.get(k)!;
      const m = st.market;
      // augmented groups: the listed outcomes are not exhaustive (see header)
      if (m.placeholder || m.status !== 'open' || !st.yes) return;
      const b = this.bookOf(m.venue, st.yes);
      if (!b) return;
      legs.push(this.leg(m, st.yes, 'buy', b));
      books.push(b);
    }
    this.emit(
      'rebalancing',
      legs,
      MICRO,
      books,
      out,
      `buy YES of all ${legs.length} outcomes of group ${groupKey}`,
    );
  }

  private linked(st: MarketState, e: LinkEntry, out: Opportunity[]): void {
    const os = this.markets.get(e.other);
    if (!os) return;
    const A = e.isA ? st : os;
    const B = e.isA ? os : st;
    const ma = A.market;
    const mb = B.market;
    if (ma.status !== 'open' || mb.status !== 'open' || !A.yes || !A.no || !B.yes || !B.no) return;
    const rel = e.link.relation;
    const pair = (ta: string, tb: string, kind: OpportunityType, note: string): void => {
      const ba = this.bookOf(ma.venue, ta);
      const bb = this.bookOf(mb.venue, tb);
      if (!ba || !bb) return;
      this.emit(kind, [this.leg(ma, ta, 'buy', ba), this.leg(mb, tb, 'buy', bb)], MICRO, [ba, bb], out, note);
    };
    const tag = `${rel} ${ma.venue}:${ma.marketId} / ${mb.venue}:${mb.marketId}`;
    switch (rel) {
      case 'identical':
        pair(A.yes, B.no, 'cross_venue', `${tag}: buy YES(A) + NO(B)`);
        pair(A.no, B.yes, 'cross_venue', `${tag}: buy NO(A) + YES(B)`);
        break;
      case 'inverted':
        pair(A.yes, B.yes, 'cross_venue', `${tag}: YES(A) = NO(B); buy YES(A) + YES(B)`);
        pair(A.no, B.no, 'cross_venue', `${tag}: YES(A) = NO(B); buy NO(A) + NO(B)`);
        break;
      case 'implies':
        pair(A.no, B.yes, 'combinatorial', `${tag}: A implies B; buy NO(A) + YES(B), pays at least 1`);
        break;
      case 'exclusive':
        pair(A.no, B.no, 'combinatorial', `${tag}: A, B exclusive; buy NO(A) + NO(B), pays at least 1`);
        break;
      default:
        break;
    }
  }

  private oracleLag(st: MarketState, out: Opportunity[]): void {
    const link = st.oracle!;
    const m = st.market;
    if (m.status !== 'open') return;
    const a = this.assets.get(link.asset.toUpperCase());
    const src = a && this.sourceFor(a, link);
    if (!src) return;
    const tick = src.tick;
    const vol = src.vol;
    const now = this.o.now();
    const tau = link.expiry - now;
    if (tau <= 0) return;
    let strike = link.strike;
    if (link.kind === 'up_down' && strike === undefined) {
      strike = st.refOpen;
      if (strike === undefined) return;
    }
    if (strike === undefined) return;
    const fair = fairPrice({
      kind: link.kind,
      spot: tick.price,
      strike,
      upper: link.upper,
      sigmaAnnual: vol.sigma(),
      tauMs: tau,
    });
    if (fair === undefined) return;
    const noToken = link.noToken ?? (link.yesToken === st.yes ? st.no : st.yes);
    const sides: [string | undefined, Price][] = [
      [link.yesToken, fair],
      [noToken, MICRO - fair],
    ];
    for (const [token, value] of sides) {
      if (!token) continue;
      const book = this.bookOf(m.venue, token);
      if (!book) continue;
      const legs = [this.leg(m, token, 'buy', book)];
      const sized = sizeBundle(legs, value - this.o.oracleMargin, this.o.maxShares);
      if (!sized) continue;
      const atFair = evaluateBundle(legs, value, sized.shares);
      if (!atFair) continue;
      const stamps = [
        this.stamp(book),
        {
          key: oracleKey(tick.source, tick.symbol),
          eventTime: tick.eventTime,
          receiveTime: tick.receiveTime,
        },
      ];
      const note = `${link.kind} ${link.asset} strike ${strike} fair ${value} (spot ${tick.price} ${tick.source}, sigma ${vol.sigma().toFixed(3)}, tau ${tau} ms)`;
      const strength = Math.min(1, (value - atFair.legs[0]!.limit) / 200_000);
      this.push('oracle_lag', legs, atFair, stamps, out, note, strength);
    }
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
    out: Opportunity[],
    note: string,
  ): void {
    const sized = sizeBundle(legs, settle, this.o.maxShares);
    if (!sized) return;
    this.push(
      kind,
      legs,
      sized,
      books.map((b) => this.stamp(b)),
      out,
      note,
      undefined,
    );
  }

  private push(
    kind: OpportunityType,
    legs: readonly LegInput[],
    f: BundleFill,
    data: Opportunity['data'],
    out: Opportunity[],
    note: string,
    strength: number | undefined,
  ): void {
    if (f.edge < this.o.minEdge) return;
    const now = this.o.now();
    const capital = f.cost > 0 ? f.cost : f.shares;
    const bps = edgeBps(f.edge, capital);
    out.push({
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
    });
  }

  private leg(m: Market, tokenId: string, side: 'buy' | 'sell', b: OrderBook): LegInput {
    return {
      venue: m.venue,
      marketId: m.marketId,
      tokenId,
      side,
      levels: side === 'buy' ? b.asks : b.bids,
      fees: m.fees,
    };
  }

  private stamp(b: OrderBook): Opportunity['data'][number] {
    return { key: instrumentKey(b.venue, b.tokenId), eventTime: b.eventTime, receiveTime: b.receiveTime };
  }

  private bookOf(venue: Market['venue'], tokenId: string): OrderBook | undefined {
    const b = this.books.get(instrumentKey(venue, tokenId));
    return b && this.fresh(b) ? b : undefined;
  }

  private fresh(b: OrderBook): boolean {
    return !b.stale && this.o.now() - b.receiveTime <= this.o.staleAfterMs;
  }

  private freshTick(t: OracleTick): boolean {
    return !t.stale && this.o.now() - t.receiveTime <= this.o.staleAfterMs;
  }

  /** The oracle the market settles on when its tick is fresh, else the freshest other fresh source. */
  private sourceFor(a: AssetState, link: OracleLink): SourceState | undefined {
    const want = link.settlementSource.split(/[\s:]/)[0];
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
      // a link or oracle link may arrive before its market: hold a shell until the market comes
      st = {
        key,
        market: SHELL,
        yes: undefined,
        no: undefined,
        links: [],
        oracle: undefined,
        groupKey: undefined,
        refOpen: undefined,
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
