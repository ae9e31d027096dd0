/**
 * The risk guardian's portfolio: the ledger (fills, marks), the markets it has seen, reservations for requests
 * approved but not yet finished, the equity high-water mark with its ratcheting drawdown stop, the daily-loss
 * window, the kill switch and the allocations. It implements the read-only PortfolioView the pure rules take.
 *
 * Reservations: approving a request reserves its buy cost (per market, venue and strategy), its sells (so two
 * approvals cannot sell the same shares) and one open order per leg. A fill moves the filled part from the
 * reservation into the ledger; the request's ExecutionReport releases what is left. So a burst of requests sees
 * every earlier approval, filled or not.
 *
 * The loss budgets read it too: the settlement graph (markets, links, resolutions: what settles with what), the
 * holdings grouped by it, and `exposure()` — worst equity, peak equity and carried swing of the book with its
 * reservations (src/risk/loss-budget.ts). Its `equity` is the risk equity: each component of positions held
 * between what it is sure to be paid and what it can be paid at settlement.
 *
 * `snapshot()` is plain JSON (and `restore()` takes it back) so the store can persist it across a restart.
 */
import type { Config } from '../core/config.ts';
import type {
  Allocation,
  ExecutionReport,
  Fill,
  Heartbeat,
  Leg,
  Market,
  MarketLink,
  OracleTick,
  OrderBook,
  Resolution,
  Venue,
} from '../core/messages.ts';
import { instrumentKey, oracleKey } from '../core/messages.ts';
import type { Money, Price, Qty } from '../core/money.ts';
import { mulDiv, ONE } from '../core/money.ts';
import { Ledger, type LedgerPosition, type LedgerSnapshot, markFromBook } from '../ledger/ledger.ts';
import {
  type BudgetLimits,
  byComponent,
  type ComponentValue,
  type Exposure,
  exposureBound,
  type HeldShares,
  legRange,
  type PendingLeg,
  SETTLEMENT_GRACE_MS,
  valueComponent,
} from './loss-budget.ts';
import { dailyLossLimit, dailyWindowStart, drawdownLimit, legCost, type PortfolioView } from './rules.ts';
import { type MarketKey, marketKey, SettlementGraph } from './settlement.ts';

interface ReservedLeg {
  venue: Venue;
  marketId: string;
  tokenId: string;
  side: 'buy' | 'sell';
  remaining: Qty;
  cost: Money;
  /** The approved limit (absent in snapshots from before loss budgets: the cost stands in for it). */
  limitPrice?: Price;
}

interface Reservation {
  requestId: string;
  strategy: string;
  orders: number;
  legs: ReservedLeg[];
}

/** A component of held positions, valued for the loss budget and the hedge credit. */
interface HeldComponent {
  /** the settlement graph's stamp of the component when it was valued (src/risk/settlement.ts, stampOf) */
  readonly stamp: number;
  readonly held: HeldShares[];
  readonly value: ComponentValue;
  /** the ledger's live positions in it (their `value` follows the marks) */
  readonly positions: LedgerPosition[];
  readonly markets: MarketKey[];
}

export interface RiskState {
  readonly version: 1;
  readonly ledger: LedgerSnapshot;
  readonly highWaterMark: Money;
  readonly drawdownHalted: boolean;
  readonly dailyWindowStart: number;
  readonly dailyStartEquity: Money;
  readonly killSwitch: boolean;
  /** strategy → allocation; null when no Allocation has been received */
  readonly allocations: Record<string, Money> | null;
  readonly reservations: readonly Reservation[];
}

export interface PortfolioOptions {
  readonly risk: Config['risk'];
  /** Allocation assumed for a strategy an Allocation message does not (yet) name; default none (no cap). */
  readonly probationAllocation?: Money;
  readonly initial?: RiskState;
  /**
   * Value this ledger (not a copy): its owner applies the fills through `onFill` and marks it itself. The
   * backtest's collector shares its own ledger this way, so each book marks one ledger, not two alike.
   */
  readonly ledger?: Ledger;
}

export class Portfolio implements PortfolioView {
  /** Replaced only by `adopt` (a standby guardian taking over). */
  ledger: Ledger;
  private readonly risk: Config['risk'];
  private readonly probation: Money | undefined;
  private readonly markets = new Map<string, Market>();
  /**
   * The last `market()` asked for and its answer: one decision looks the same market up a dozen times (rules, costs,
   * reservation), and this spares building and hashing its `venue:marketId` key each time. Reset by `onMarket`.
   */
  private lastVenue: Venue | undefined;
  private lastMarketId: string | undefined;
  private lastMarket: Market | undefined;
  /** Changes with every market message (what `carried` reads). */
  private marketsVersion = 0;
  /** heldSwingOf's answer per strategy, with the ledger and `fills#settlement version` it was computed at */
  private readonly heldSwing = new Map<
    string,
    {
      ledger: Ledger;
      key: string;
      heldBy: Map<MarketKey, HeldShares[]>;
      byRoot: Map<MarketKey, Money>;
      total: Money;
      shares: Qty;
    }
  >();
  /**
   * Σ floor, Σ max and Σ carried swing over every held component, for `exposure`: it runs several times per
   * decision (the loss budget's bisection), and only the components a request touches change between the runs.
   */
  private heldTotals:
    | {
        held: Map<MarketKey, HeldComponent>;
        reset: number;
        mv: number;
        floor: Money;
        max: Money;
        swing: Money;
      }
    | undefined;
  /** instrument key → when (guardian clock) its last book arrived, and whether the feed marked it stale */
  private readonly booksSeen = new Map<string, { at: number; stale: boolean }>();
  private readonly reservations = new Map<string, Reservation>();
  private readonly resMarket = new Map<string, Money>();
  private readonly resVenue = new Map<string, Money>();
  private readonly resStrategy = new Map<string, Money>();
  private readonly resSells = new Map<string, Qty>();
  private allocs: Map<string, Money> | undefined;
  /** What settles with what: markets, links, resolutions (for the worst case at settlement). */
  readonly settlement = new SettlementGraph();
  /** `held` must be regrouped from scratch (a new or adopted ledger); fills alone mark `heldChanged` instead */
  private heldDirty = true;
  /**
   * Markets a fill changed the holdings of since the last regroup: only their components are valued again (a fill
   * touches one component; valuing every held component after each fill made fills the guardian's costliest message).
   */
  private readonly heldChanged = new Set<MarketKey>();
  private heldVersion = -1;
  private held = new Map<MarketKey, HeldComponent>();
  /** Σ shares of `held` (every strategy): what they can be paid at most, for `exposureBound` */
  private heldShares: Qty = 0;
  /** Components whose marked value can leave [floor, max]: hedges, resolved markets, several outcomes held. */
  private bounded: HeldComponent[] = [];
  /** Restored positions without a mark yet: their value is unknown, not zero (no drawdown stop on it). */
  private readonly unmarked = new Set<string>();
  /** Instrument/oracle keys whose latest book or tick its feed flagged stale. */
  private readonly staleKeys = new Set<string>();
  /** feed (venue or oracle source) → when (guardian clock) it was last heard: a book or tick, or its heartbeat */
  private readonly feedsHeard = new Map<string, number>();
  private open = 0;
  private hwm: Money;
  private ddHalted = false;
  private windowStart = Number.NEGATIVE_INFINITY;
  private windowEnd = Number.NEGATIVE_INFINITY;
  private dayStart: Money;
  killSwitch = false;
  /** `equity` as last computed, and the ledger revision and settlement version it was computed at */
  private eqValue: Money = 0;
  private eqRev = -1;
  private eqVersion = -1;
  /** drawdownLimit(ddLimitHwm): refresh runs on every book, the high-water mark seldom moves */
  private ddLimitHwm = Number.NaN;
  private ddLimit: Money = 0;
  /** dailyLossLimit(dayLimitStart): read on every book (the guardian's stop check) */
  private dayLimitStart = Number.NaN;
  private dayLimit: Money = 0;

  constructor(opts: PortfolioOptions) {
    this.risk = opts.risk;
    this.probation = opts.probationAllocation;
    const s = opts.initial;
    this.ledger =
      opts.ledger ?? (s ? Ledger.restore(s.ledger) : new Ledger({ initialCash: opts.risk.initialBankroll }));
    for (const p of this.ledger.positions())
      if (this.ledger.markOf(p.venue, p.tokenId) === undefined)
        this.unmarked.add(instrumentKey(p.venue, p.tokenId));
    this.hwm = s?.highWaterMark ?? this.ledger.equity();
    this.dayStart = s?.dailyStartEquity ?? this.ledger.equity();
    if (s) {
      this.ddHalted = s.drawdownHalted;
      this.windowStart = s.dailyWindowStart;
      this.windowEnd = s.dailyWindowStart + 86_400_000;
      this.killSwitch = s.killSwitch;
      if (s.allocations) this.allocs = new Map(Object.entries(s.allocations));
      for (const r of s.reservations) this.addReservation(structuredClone(r));
    }
  }

  /**
   * Takes the account state of `s` (ledger, high-water mark, stops, kill switch, allocations, reservations) in place
   * of its own, keeping what it has seen of the markets (markets, books, feeds, links, resolutions): a standby
   * guardian taking over with the state the store holds, its view of the markets current.
   */
  adopt(s: RiskState): void {
    this.ledger = Ledger.restore(s.ledger);
    this.unmarked.clear();
    for (const p of this.ledger.positions())
      if (this.ledger.markOf(p.venue, p.tokenId) === undefined)
        this.unmarked.add(instrumentKey(p.venue, p.tokenId));
    this.hwm = s.highWaterMark;
    this.dayStart = s.dailyStartEquity;
    this.ddHalted = s.drawdownHalted;
    this.windowStart = s.dailyWindowStart;
    this.windowEnd = s.dailyWindowStart + 86_400_000;
    this.killSwitch = s.killSwitch;
    this.allocs = s.allocations ? new Map(Object.entries(s.allocations)) : undefined;
    this.reservations.clear();
    this.resMarket.clear();
    this.resVenue.clear();
    this.resStrategy.clear();
    this.resSells.clear();
    this.open = 0;
    for (const r of s.reservations) this.addReservation(structuredClone(r));
    this.heldDirty = true;
  }

  snapshot(): RiskState {
    return {
      version: 1,
      ledger: this.ledger.snapshot(),
      highWaterMark: this.hwm,
      drawdownHalted: this.ddHalted,
      dailyWindowStart: Number.isFinite(this.windowStart) ? this.windowStart : 0,
      dailyStartEquity: this.dayStart,
      killSwitch: this.killSwitch,
      allocations: this.allocs ? Object.fromEntries(this.allocs) : null,
      reservations: [...this.reservations.values()].map((r) => structuredClone(r)),
    };
  }

  // ------------------------------------------------------------------ PortfolioView

  get drawdownHalted(): boolean {
    return this.ddHalted;
  }
  /**
   * Risk equity: the ledger's equity (positions at the best bid) with each component of positions valued no lower
   * than it is sure to be paid at settlement and no higher than it can ever be paid (src/risk/loss-budget.ts) —
   * YES+NO of a market counts $1 a set even when both bids sag, and a resolved market what it pays. The
   * high-water mark, the drawdown stop, the daily loss and the loss budgets all use it.
   */
  get equity(): Money {
    // cached: it is read on every book (refresh) and several times per decision, but changes only with the
    // ledger (a fill, a mark that moves a held position: its revision) or the settlement graph (its version)
    const rev = this.ledger.revision;
    if (
      rev !== this.eqRev ||
      this.settlement.version !== this.eqVersion ||
      this.heldDirty ||
      this.heldChanged.size > 0
    ) {
      this.eqValue = this.ledger.equity() + this.settlementAdjustment();
      this.eqRev = rev;
      this.eqVersion = this.settlement.version;
    }
    return this.eqValue;
  }
  get highWaterMark(): Money {
    return this.hwm;
  }
  get dailyStartEquity(): Money {
    return this.dayStart;
  }
  get openOrders(): number {
    return this.open;
  }
  market(venue: Venue, marketId: string): Market | undefined {
    if (marketId !== this.lastMarketId || venue !== this.lastVenue) {
      this.lastVenue = venue;
      this.lastMarketId = marketId;
      // the interned key (its hash kept with the string): no `venue:marketId` built and hashed per lookup
      this.lastMarket = this.markets.get(marketKey(venue, marketId));
    }
    return this.lastMarket;
  }
  marketExposure(venue: Venue, marketId: string): Money {
    return (
      this.ledger.marketExposure(venue, marketId) + (this.resMarket.get(marketKey(venue, marketId)) ?? 0)
    );
  }
  venueExposure(venue: Venue): Money {
    return this.ledger.venueExposure(venue) + (this.resVenue.get(venue) ?? 0);
  }
  strategyExposure(strategy: string): Money {
    return this.ledger.strategyExposure(strategy) + (this.resStrategy.get(strategy) ?? 0);
  }
  allocation(strategy: string): Money | undefined {
    if (!this.allocs) return this.probation;
    return this.allocs.get(strategy) ?? this.probation;
  }
  available(strategy: string, venue: Venue, tokenId: string): Qty {
    return (
      this.ledger.holding(strategy, venue, tokenId) -
      (this.resSells.get(`${strategy}|${venue}:${tokenId}`) ?? 0)
    );
  }

  bookState(venue: Venue, tokenId: string): { at: number; stale: boolean } | undefined {
    return this.booksSeen.get(instrumentKey(venue, tokenId));
  }

  // ------------------------------------------------------------------ updates

  onMarket(m: Market): void {
    this.markets.set(marketKey(m.venue, m.marketId), m);
    this.lastMarketId = undefined;
    this.marketsVersion++;
    this.settlement.onMarket(m);
    // a resolved market's books stop, and validateRequest refuses any leg on it before staleDataRule reads them:
    // their book state goes (a roll-over relisting markets would keep every token ever listed)
    if (m.status === 'resolved') {
      for (const o of m.outcomes) {
        const k = instrumentKey(m.venue, o.tokenId);
        this.booksSeen.delete(k);
        this.staleKeys.delete(k);
      }
    }
  }

  onLink(l: MarketLink): void {
    this.settlement.onLink(l);
  }

  onResolution(r: Resolution): void {
    this.settlement.onResolution(r);
  }

  onBook(b: OrderBook, now: number): void {
    this.heard(b.venue, now);
    const k = instrumentKey(b.venue, b.tokenId);
    // updated in place: one entry per instrument, not one object per book update
    const seen = this.booksSeen.get(k);
    if (seen) {
      seen.at = now;
      // only books write instrument keys into staleKeys: an unchanged flag leaves the set as it is (no hash per book)
      if (seen.stale !== b.stale) {
        seen.stale = b.stale;
        this.noteStale(k, b.stale);
      }
    } else if (this.market(b.venue, b.marketId)?.status !== 'resolved') {
      // (a first book only) one that reaches the guardian after its market's resolution is not kept either
      this.booksSeen.set(k, { at: now, stale: b.stale });
      this.noteStale(k, b.stale);
    }
    markFromBook(this.ledger, b);
    if (this.unmarked.size > 0 && b.bids.length > 0) this.unmarked.delete(k);
    this.refresh(now);
  }

  onTick(t: OracleTick, now?: number): void {
    if (now !== undefined) this.heard(t.source, now);
    this.noteStale(oracleKey(t.source, t.symbol), t.stale);
  }

  /**
   * A heartbeat of a feed agent (`details.feed`): the feed process is alive even when no book changes. One that
   * is stopping, faulted or reports its feed disconnected does not count (its books go stale by their flag).
   */
  onFeedHeartbeat(hb: Heartbeat, now: number): void {
    const feed = hb.details.feed;
    if (typeof feed !== 'string' || feed === '') return;
    if (hb.state === 'stopped' || hb.state === 'faulted' || hb.details.connected === false) return;
    this.heard(feed, now);
  }

  private heard(feed: string, now: number): void {
    if (now > (this.feedsHeard.get(feed) ?? Number.NEGATIVE_INFINITY)) this.feedsHeard.set(feed, now);
  }

  feedHeardAt(feed: string): number | undefined {
    return this.feedsHeard.get(feed);
  }

  isStale(key: string): boolean {
    return this.staleKeys.has(key);
  }

  private noteStale(key: string, stale: boolean): void {
    if (stale) this.staleKeys.add(key);
    else this.staleKeys.delete(key);
  }

  onFill(f: Fill, now: number): void {
    if (f.kind === 'settlement') this.settlement.onSettlementFill(f);
    const eff = this.ledger.applyFill(f);
    if (!eff.duplicate) {
      this.heldChanged.add(marketKey(f.venue, f.marketId));
      if (f.kind !== 'settlement') this.consume(f);
    }
    this.refresh(now);
  }

  onReport(r: ExecutionReport): void {
    const res = this.reservations.get(r.requestId);
    if (!res) return;
    for (const leg of res.legs) this.release(res, leg, leg.remaining);
    this.open -= res.orders;
    this.reservations.delete(r.requestId);
  }

  onAllocation(a: Allocation): void {
    this.allocs = new Map(Object.entries(a.allocations));
  }

  /** Reserves an approved request's exposure and orders until its ExecutionReport. */
  reserve(requestId: string, strategy: string, legs: readonly Leg[]): void {
    if (this.reservations.has(requestId)) return;
    this.addReservation({
      requestId,
      strategy,
      orders: legs.length,
      legs: legs.map((l) => ({
        venue: l.venue,
        marketId: l.marketId,
        tokenId: l.tokenId,
        side: l.side,
        remaining: l.shares,
        cost: legCost(l, this.market(l.venue, l.marketId)),
        limitPrice: l.limitPrice,
      })),
    });
  }

  /** Keeps the high-water mark, the drawdown stop (a ratchet) and the daily-loss window current. */
  refresh(now: number): void {
    const eq = this.equity;
    if (now >= this.windowEnd) {
      this.windowStart = dailyWindowStart(now, this.risk.dailyLossResetHourUtc);
      this.windowEnd = this.windowStart + 86_400_000;
      this.dayStart = eq;
    }
    if (eq > this.hwm) this.hwm = eq;
    // a restored position without a mark yet is not worth zero: no stop on a drawdown that may not exist
    if (this.ddHalted || this.unmarked.size > 0) return;
    if (this.hwm !== this.ddLimitHwm) {
      this.ddLimitHwm = this.hwm;
      this.ddLimit = drawdownLimit(this.hwm, this.risk);
    }
    if (this.hwm - eq >= this.ddLimit) this.ddHalted = true;
  }

  /** The daily-loss limit is reached (today's loss from the day-start equity). */
  get dailyLossReached(): boolean {
    if (this.unmarked.size > 0) return false;
    if (this.dayStart !== this.dayLimitStart) {
      this.dayLimitStart = this.dayStart;
      this.dayLimit = dailyLossLimit(this.dayStart, this.risk);
    }
    return this.dayStart - this.equity >= this.dayLimit;
  }

  /** Start of the next daily-loss window (epoch ms). */
  get nextDailyReset(): number {
    return this.windowEnd;
  }

  // ------------------------------------------------------------------ loss budget

  budgetLimits(): BudgetLimits {
    return {
      highWaterMark: this.hwm,
      dailyStartEquity: this.dayStart,
      drawdownLimitBps: this.risk.drawdownLimitBps,
      dailyLossLimitBps: this.risk.dailyLossLimitBps,
    };
  }

  /** Legs as the loss budget sees them (a request's legs; grouped when there are several). */
  pendingLegs(legs: readonly Leg[]): PendingLeg[] {
    const grouped = legs.length > 1;
    return legs.map((l) => ({
      venue: l.venue,
      marketId: l.marketId,
      tokenId: l.tokenId,
      side: l.side,
      shares: l.shares,
      limitPrice: l.limitPrice,
      fees: this.market(l.venue, l.marketId)?.fees,
      grouped,
    }));
  }

  /**
   * Worst equity, peak equity and carried swing of the book: holdings, every reservation still open, and
   * `extra` (a request being decided) — see src/risk/loss-budget.ts.
   */
  exposure(extra: readonly PendingLeg[] = []): Exposure {
    this.refreshHeld();
    const pending = this.reservedLegs(undefined);
    for (const l of extra) pending.push(l);
    const byComp = byComponent(this.settlement, pending);
    const reset = this.windowEnd;
    let t = this.heldTotals;
    if (!t || t.held !== this.held || t.reset !== reset || t.mv !== this.marketsVersion) {
      t = { held: this.held, reset, mv: this.marketsVersion, floor: 0, max: 0, swing: 0 };
      for (const c of this.held.values()) {
        t.floor += c.value.floor;
        t.max += c.value.max;
        if (this.carried(c.markets, reset)) t.swing += c.value.max - c.value.floor;
      }
      this.heldTotals = t;
    }
    // every held component as it stands, then those with pending legs replaced by their value with the legs
    // (exact: integer sums)
    const cash = this.ledger.cash();
    let worst = cash + t.floor;
    let peak = cash + t.max;
    let swing = t.swing;
    for (const [root, legs] of byComp) {
      const c = this.held.get(root);
      if (c) {
        worst -= c.value.floor;
        peak -= c.value.max;
        if (this.carried(c.markets, reset)) swing -= c.value.max - c.value.floor;
      }
      const v = valueComponent(this.settlement, root, c?.held ?? [], legs);
      worst += v.floor;
      peak += v.max;
      const markets = [
        ...new Set([...(c?.markets ?? []), ...legs.map((l) => marketKey(l.venue, l.marketId))]),
      ];
      if (this.carried(markets, reset)) swing += v.max - v.floor;
    }
    return { worstEquity: worst, peakEquity: peak, carriedSwing: swing };
  }

  /**
   * A bound on `exposure(extra)` that enumerates no settlement worlds (loss-budget.ts, exposureBound): worst equity
   * no higher, peak and swing no lower. A request within the limits on it is within them on the exact exposure.
   */
  exposureBound(extra: readonly PendingLeg[] = []): Exposure {
    this.refreshHeld();
    const pending = this.reservedLegs(undefined);
    for (const l of extra) pending.push(l);
    return exposureBound(this.ledger.cash(), this.heldShares, pending);
  }

  /** A bound on `strategySwing(strategy, extra)` on the same terms: its held shares plus each pending leg's range. */
  strategySwingBound(strategy: string, extra: readonly PendingLeg[] = []): Money {
    let swing = this.heldSwingOf(strategy).shares;
    for (const l of this.reservedLegs(strategy)) {
      const r = legRange(l);
      swing += r.hi - r.lo;
    }
    for (const l of extra) {
      const r = legRange(l);
      swing += r.hi - r.lo;
    }
    return swing;
  }

  /** The unfinished legs of every reservation (of `strategy` only, when given), as the loss budget sees them. */
  private reservedLegs(strategy: string | undefined): PendingLeg[] {
    const pending: PendingLeg[] = [];
    for (const r of this.reservations.values()) {
      if (strategy !== undefined && r.strategy !== strategy) continue;
      const grouped = r.legs.length > 1;
      for (const l of r.legs) {
        if (l.remaining <= 0) continue;
        pending.push({
          venue: l.venue,
          marketId: l.marketId,
          tokenId: l.tokenId,
          side: l.side,
          shares: l.remaining,
          // a snapshot without the limit: the reserved cost per share stands in (buys), else the price floor
          limitPrice: l.limitPrice ?? (l.side === 'buy' ? mulDiv(l.cost, ONE, l.remaining, 'ceil') : 1),
          fees: this.market(l.venue, l.marketId)?.fees,
          grouped,
        });
      }
    }
    return pending;
  }

  /**
   * The strategy's own swing: Σ over the components of its positions, reservations and `extra` of (most − least
   * they can be worth at settlement). What the strategy alone can move the equity between a peak and a trough:
   * a naked binary swings its whole share count, a filled hedge almost nothing.
   */
  strategySwing(strategy: string, extra: readonly PendingLeg[] = []): Money {
    const h = this.heldSwingOf(strategy);
    const pending = this.reservedLegs(strategy);
    for (const l of extra) pending.push(l);
    const pendBy = byComponent(this.settlement, pending);
    // the components of its holdings alone as they stand, then those with pending legs valued with the legs
    let swing = h.total;
    for (const [root, legs] of pendBy) {
      swing -= h.byRoot.get(root) ?? 0;
      const v = valueComponent(this.settlement, root, h.heldBy.get(root) ?? [], legs);
      swing += v.max - v.floor;
    }
    return swing;
  }

  /**
   * A strategy's holdings by component, each component's swing on the holdings alone, and their sum: the loss
   * budget asks for the strategy's swing several times per decision with only the request's size changing. Kept
   * until a fill (shares change only with fills), a restored ledger or a settlement change.
   */
  private heldSwingOf(strategy: string): {
    heldBy: Map<MarketKey, HeldShares[]>;
    byRoot: Map<MarketKey, Money>;
    total: Money;
    shares: Qty;
  } {
    const key = `${this.ledger.fills}#${this.settlement.version}`;
    let h = this.heldSwing.get(strategy);
    if (h && h.ledger === this.ledger && h.key === key) return h;
    const held = this.ledger
      .allPositions()
      .filter((p) => p.strategy === strategy && p.shares > 0)
      .map((p) => ({ venue: p.venue, marketId: p.marketId, tokenId: p.tokenId, shares: p.shares }));
    const heldBy = byComponent(this.settlement, held);
    const byRoot = new Map<MarketKey, Money>();
    let total = 0;
    let shares = 0;
    for (const x of held) shares += x.shares;
    for (const [root, hs] of heldBy) {
      const v = valueComponent(this.settlement, root, hs, []);
      byRoot.set(root, v.max - v.floor);
      total += v.max - v.floor;
    }
    h = { ledger: this.ledger, key, heldBy, byRoot, total, shares };
    this.heldSwing.set(strategy, h);
    return h;
  }

  /** Open positions (per strategy) outside any hedge: what DRAWDOWN_ACTION=flatten sells. */
  unhedgedPositions(): LedgerPosition[] {
    this.refreshHeld();
    const out: LedgerPosition[] = [];
    for (const c of this.held.values()) if (c.value.floor <= 0) for (const p of c.positions) out.push(p);
    return out;
  }

  /** May a component still be open at the next daily reset? (no end time known, or ending near it) */
  private carried(markets: readonly MarketKey[], reset: number): boolean {
    for (const k of markets) {
      const m = this.markets.get(k);
      if (m?.status === 'resolved') continue;
      if (!m || m.endTime === null || m.endTime + SETTLEMENT_GRACE_MS >= reset) return true;
    }
    return false;
  }

  /** Σ over components of (marked value held to [floor, max]) − marked value. */
  private settlementAdjustment(): Money {
    this.refreshHeld();
    let adj = 0;
    for (const c of this.bounded) {
      let marked = 0;
      for (const p of c.positions) marked += p.value;
      if (marked < c.value.floor) adj += c.value.floor - marked;
      else if (marked > c.value.max) adj += c.value.max - marked;
    }
    return adj;
  }

  /**
   * Regroups holdings (all strategies) by component and values each, after a fill or a settlement change. After
   * fills alone (the same graph) a component none of them touched keeps its value: the same shares in the same
   * markets, valued on the same graph, value the same.
   */
  private refreshHeld(): void {
    const full = this.heldDirty;
    // a listing or a link elsewhere changes the graph's version, not a held component: nothing to regroup
    if (!full && this.heldChanged.size === 0 && this.heldVersion === this.settlement.version) return;
    if (!full && this.heldChanged.size === 0 && this.heldStands()) {
      this.heldVersion = this.settlement.version;
      return;
    }
    const changedRoots = new Set<MarketKey>();
    if (!full) for (const k of this.heldChanged) changedRoots.add(this.settlement.componentOf(k));
    const before = this.held;
    const agg = new Map<string, { venue: Venue; marketId: string; tokenId: string; shares: Qty }>();
    const positions = this.ledger.allPositions().filter((p) => p.shares > 0);
    for (const p of positions) {
      const k = instrumentKey(p.venue, p.tokenId);
      const a = agg.get(k);
      if (a) a.shares += p.shares;
      else agg.set(k, { venue: p.venue, marketId: p.marketId, tokenId: p.tokenId, shares: p.shares });
    }
    const heldBy = byComponent(this.settlement, [...agg.values()]);
    const posBy = byComponent(this.settlement, positions);
    this.held = new Map();
    this.bounded = [];
    this.heldShares = 0;
    for (const [root, held] of heldBy) {
      const stamp = this.settlement.stampOf(root);
      let kept = full || changedRoots.has(root) ? undefined : before.get(root);
      if (kept?.stamp !== stamp) kept = undefined;
      const c: HeldComponent = {
        stamp,
        held,
        value: kept?.value ?? valueComponent(this.settlement, root, held, []),
        positions: posBy.get(root) ?? [],
        markets: kept?.markets ?? [...new Set(held.map((h) => marketKey(h.venue, h.marketId)))],
      };
      this.held.set(root, c);
      // a lone unresolved token (floor 0, max = its shares) is always within bounds: marks are ≤ $1
      let shares = 0;
      for (const h of held) shares += h.shares;
      this.heldShares += shares;
      if (c.value.floor > 0 || c.value.max < shares) this.bounded.push(c);
    }
    this.heldDirty = false;
    this.heldChanged.clear();
    this.heldVersion = this.settlement.version;
  }

  /** Is every held component still a component, unchanged since it was valued? (then so is the grouping) */
  private heldStands(): boolean {
    for (const [root, c] of this.held)
      if (this.settlement.componentOf(root) !== root || this.settlement.stampOf(root) !== c.stamp)
        return false;
    return true;
  }

  /** Operator RESUME: lifts the drawdown stop and re-bases the high-water mark on today's equity. */
  resume(): void {
    this.killSwitch = false;
    this.ddHalted = false;
    this.hwm = this.equity;
  }

  reservedRequests(): number {
    return this.reservations.size;
  }

  // ------------------------------------------------------------------ internals

  private addReservation(r: Reservation): void {
    this.reservations.set(r.requestId, r);
    this.open += r.orders;
    for (const leg of r.legs) this.adjust(r, leg, leg.cost, leg.side === 'sell' ? leg.remaining : 0);
  }

  private adjust(r: Reservation, leg: ReservedLeg, cost: Money, sells: Qty): void {
    if (cost !== 0) {
      const mk = marketKey(leg.venue, leg.marketId);
      this.resMarket.set(mk, (this.resMarket.get(mk) ?? 0) + cost);
      this.resVenue.set(leg.venue, (this.resVenue.get(leg.venue) ?? 0) + cost);
      this.resStrategy.set(r.strategy, (this.resStrategy.get(r.strategy) ?? 0) + cost);
    }
    if (sells !== 0) {
      const k = `${r.strategy}|${leg.venue}:${leg.tokenId}`;
      this.resSells.set(k, (this.resSells.get(k) ?? 0) + sells);
    }
  }

  /** Releases `shares` of a reserved leg (cost pro rata). */
  private release(r: Reservation, leg: ReservedLeg, shares: Qty): void {
    if (shares <= 0 || leg.remaining <= 0) return;
    const take = Math.min(shares, leg.remaining);
    const keep = leg.remaining - take;
    const newCost = keep === 0 ? 0 : mulDiv(leg.cost, keep, leg.remaining, 'ceil');
    this.adjust(r, leg, newCost - leg.cost, leg.side === 'sell' ? -take : 0);
    leg.cost = newCost;
    leg.remaining = keep;
  }

  private consume(f: Fill): void {
    const r = this.reservations.get(f.requestId);
    if (!r) return;
    const leg = r.legs.find(
      (l) => l.tokenId === f.tokenId && l.venue === f.venue && l.side === f.side && l.remaining > 0,
    );
    if (leg) this.release(r, leg, f.shares);
  }
}
