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
 * `snapshot()` is plain JSON (and `restore()` takes it back) so the store can persist it across a restart.
 */
import type { Config } from '../core/config.ts';
import type { Allocation, ExecutionReport, Fill, Leg, Market, OrderBook, Venue } from '../core/messages.ts';
import type { Money, Qty } from '../core/money.ts';
import { mulDiv } from '../core/money.ts';
import { Ledger, type LedgerSnapshot, markFromBook } from '../ledger/ledger.ts';
import { dailyWindowStart, drawdownLimit, legCost, type PortfolioView } from './rules.ts';

interface ReservedLeg {
  venue: Venue;
  marketId: string;
  tokenId: string;
  side: 'buy' | 'sell';
  remaining: Qty;
  cost: Money;
}

interface Reservation {
  requestId: string;
  strategy: string;
  orders: number;
  legs: ReservedLeg[];
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
}

export class Portfolio implements PortfolioView {
  readonly ledger: Ledger;
  private readonly risk: Config['risk'];
  private readonly probation: Money | undefined;
  private readonly markets = new Map<string, Market>();
  private readonly reservations = new Map<string, Reservation>();
  private readonly resMarket = new Map<string, Money>();
  private readonly resVenue = new Map<string, Money>();
  private readonly resStrategy = new Map<string, Money>();
  private readonly resSells = new Map<string, Qty>();
  private allocs: Map<string, Money> | undefined;
  private open = 0;
  private hwm: Money;
  private ddHalted = false;
  private windowStart = Number.NEGATIVE_INFINITY;
  private windowEnd = Number.NEGATIVE_INFINITY;
  private dayStart: Money;
  killSwitch = false;

  constructor(opts: PortfolioOptions) {
    this.risk = opts.risk;
    this.probation = opts.probationAllocation;
    const s = opts.initial;
    this.ledger = s ? Ledger.restore(s.ledger) : new Ledger({ initialCash: opts.risk.initialBankroll });
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
  get equity(): Money {
    return this.ledger.equity();
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
    return this.markets.get(`${venue}:${marketId}`);
  }
  marketExposure(venue: Venue, marketId: string): Money {
    const k = `${venue}:${marketId}`;
    return this.ledger.marketExposure(venue, marketId) + (this.resMarket.get(k) ?? 0);
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

  // ------------------------------------------------------------------ updates

  onMarket(m: Market): void {
    this.markets.set(`${m.venue}:${m.marketId}`, m);
  }

  onBook(b: OrderBook, now: number): void {
    markFromBook(this.ledger, b);
    this.refresh(now);
  }

  onFill(f: Fill, now: number): void {
    const eff = this.ledger.applyFill(f);
    if (!eff.duplicate && f.kind !== 'settlement') this.consume(f);
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
      })),
    });
  }

  /** Keeps the high-water mark, the drawdown stop (a ratchet) and the daily-loss window current. */
  refresh(now: number): void {
    const eq = this.ledger.equity();
    if (now >= this.windowEnd) {
      this.windowStart = dailyWindowStart(now, this.risk.dailyLossResetHourUtc);
      this.windowEnd = this.windowStart + 86_400_000;
      this.dayStart = eq;
    }
    if (eq > this.hwm) this.hwm = eq;
    if (!this.ddHalted && this.hwm - eq >= drawdownLimit(this.hwm, this.risk)) this.ddHalted = true;
  }

  /** Operator RESUME: lifts the drawdown stop and re-bases the high-water mark on today's equity. */
  resume(): void {
    this.killSwitch = false;
    this.ddHalted = false;
    this.hwm = this.ledger.equity();
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
      const mk = `${leg.venue}:${leg.marketId}`;
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
