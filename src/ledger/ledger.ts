/**
 * The ledger: fills → positions (per strategy, venue, market and outcome token), cash per venue, realized and
 * unrealized P&L marked at executable prices (best bid: what selling a long would fetch), and equity.
 *
 * Everything is integer micro-units. Cost basis includes the buy fees; selling releases basis at average cost
 * (mulDiv, floor), so realized = proceeds − sell fee − released basis. Then, exactly:
 *   cash      = initialCash − open basis + realized
 *   equity    = cash + Σ positions at mark = initialCash + realized + unrealized
 * Settlement is a Fill of kind 'settlement' (a sale at 1 or 0 per share, no fee), published by the executor.
 *
 * Marks are kept per instrument and positions' values are updated incrementally, so a book update costs a map
 * lookup. A duplicate fill (same id, redelivered) is ignored. The state serializes to JSON exactly (snapshot()).
 */

import { InvariantError } from '../core/invariant.ts';
import type { Fill, Venue } from '../core/messages.ts';
import { instrumentKey, VENUES } from '../core/messages.ts';
import { type Money, mulDiv, notional, ONE, type Price, type Qty } from '../core/money.ts';

/** A fill the ledger cannot take without becoming wrong (a naked short, a non-positive size). */
export class LedgerInvariantError extends InvariantError {
  override name = 'LedgerInvariantError';
}

export interface LedgerPosition {
  readonly strategy: string;
  readonly venue: Venue;
  readonly marketId: string;
  readonly tokenId: string;
  shares: Qty;
  /** Cost of the open shares including buy fees. */
  costBasis: Money;
  realizedPnl: Money;
  /** shares × mark, floor. */
  value: Money;
}

export interface LedgerSnapshot {
  readonly version: 1;
  readonly initialCash: Record<string, Money>;
  readonly cashFlow: Record<string, Money>;
  readonly positions: readonly {
    strategy: string;
    venue: Venue;
    marketId: string;
    tokenId: string;
    shares: Qty;
    costBasis: Money;
    realizedPnl: Money;
  }[];
  /** instrument key → mark price */
  readonly marks: Record<string, Price>;
  readonly fees: Money;
  readonly realizedPnl: Money;
  /** strategy → realized P&L (includes positions since closed) */
  readonly strategyRealized: Record<string, Money>;
  readonly fillIds: readonly string[];
}

export interface LedgerOptions {
  /** Total starting cash, micro-dollars, split evenly across venues unless `cashByVenue` is given. */
  readonly initialCash: Money;
  readonly cashByVenue?: Partial<Record<Venue, Money>>;
  /** Remember fill ids for duplicate detection (default true). */
  readonly dedupe?: boolean;
}

/** What applying one fill changed, for performance tracking. */
export interface FillEffect {
  readonly duplicate: boolean;
  /** P&L realized by this fill (sales and settlements), micro-dollars. */
  readonly realized: Money;
  /** True when this fill reduced a position (a sale or settlement). */
  readonly closing: boolean;
}

interface Inst {
  mark: Price | undefined;
  positions: LedgerPosition[];
}

const markIn = (i: Inst | Price | undefined): Price | undefined =>
  i === undefined || typeof i === 'number' ? i : i.mark;

const DUP: FillEffect = Object.freeze({ duplicate: true, realized: 0, closing: false });

function posKey(strategy: string, venue: string, tokenId: string): string {
  return `${strategy}|${venue}:${tokenId}`;
}

export class Ledger {
  private readonly initial: Record<string, Money> = {};
  private readonly flows: Record<string, Money> = {};
  private readonly positionsByKey = new Map<string, LedgerPosition>();
  /**
   * venue → token → its mark alone (a number: a token nobody holds, most of them), or its mark and the positions
   * in it (nested maps: no key strings built per book update). Every ledger marks every token it sees a book of:
   * an object and an empty array per token cost ~70 B each, at 100,000 markets in three ledgers ~40 MB.
   */
  private readonly insts = new Map<string, Map<string, Inst | Price>>();
  private readonly stratRealized = new Map<string, Money>();
  private readonly seen: Set<string> | undefined;
  private readonly basisByMarket = new Map<string, Money>();
  private readonly basisByVenue = new Map<string, Money>();
  private readonly basisByStrategy = new Map<string, Money>();
  private totalValue = 0;
  private totalBasis = 0;
  private totalRealized = 0;
  private totalFees = 0;
  private initialTotal = 0;
  private fillCount = 0;
  private rev = 0;

  constructor(opts: LedgerOptions) {
    const split = Math.floor(opts.initialCash / VENUES.length);
    let rest = opts.initialCash;
    VENUES.forEach((v, i) => {
      const amount = opts.cashByVenue?.[v] ?? (i === VENUES.length - 1 ? rest : split);
      rest -= amount;
      this.initial[v] = amount;
      this.flows[v] = 0;
      this.initialTotal += amount;
    });
    this.seen = opts.dedupe === false ? undefined : new Set();
  }

  static restore(s: LedgerSnapshot, opts: { dedupe?: boolean } = {}): Ledger {
    const l = new Ledger({ initialCash: 0, dedupe: opts.dedupe });
    l.initialTotal = 0;
    for (const [v, amount] of Object.entries(s.initialCash)) {
      l.initial[v] = amount;
      l.initialTotal += amount;
    }
    for (const [v, amount] of Object.entries(s.cashFlow)) l.flows[v] = amount;
    for (const [k, p] of Object.entries(s.marks)) {
      const i = k.indexOf(':');
      l.mark(k.slice(0, i) as Venue, k.slice(i + 1), p);
    }
    for (const p of s.positions) {
      const pos = l.position(p.strategy, p.venue, p.marketId, p.tokenId);
      pos.shares = p.shares;
      pos.realizedPnl = p.realizedPnl;
      l.addBasis(pos, p.costBasis);
      l.revalue(pos);
    }
    for (const [k, v] of Object.entries(s.strategyRealized)) l.stratRealized.set(k, v);
    l.totalFees = s.fees;
    l.totalRealized = s.realizedPnl;
    if (l.seen) for (const id of s.fillIds) l.seen.add(id);
    return l;
  }

  snapshot(): LedgerSnapshot {
    const positions = [...this.positionsByKey.values()]
      .filter((p) => p.shares > 0 || p.costBasis !== 0 || p.realizedPnl !== 0)
      .map((p) => ({
        strategy: p.strategy,
        venue: p.venue,
        marketId: p.marketId,
        tokenId: p.tokenId,
        shares: p.shares,
        costBasis: p.costBasis,
        realizedPnl: p.realizedPnl,
      }))
      // canonical order, so two ledgers holding the same positions snapshot identically whatever the fill order
      .sort((a, b) =>
        a.venue !== b.venue
          ? a.venue < b.venue
            ? -1
            : 1
          : a.marketId !== b.marketId
            ? a.marketId < b.marketId
              ? -1
              : 1
            : a.tokenId !== b.tokenId
              ? a.tokenId < b.tokenId
                ? -1
                : 1
              : a.strategy < b.strategy
                ? -1
                : a.strategy > b.strategy
                  ? 1
                  : 0,
      );
    return {
      version: 1,
      initialCash: { ...this.initial },
      cashFlow: { ...this.flows },
      positions,
      marks: this.marksRecord(),
      fees: this.totalFees,
      realizedPnl: this.totalRealized,
      strategyRealized: Object.fromEntries(this.stratRealized),
      fillIds: this.seen ? [...this.seen] : [],
    };
  }

  // ------------------------------------------------------------------ updates

  /**
   * Applies a fill. Checks come first and change nothing: a fill that breaks an invariant throws
   * `LedgerInvariantError` and is not remembered, so its redelivery throws again rather than passing as a duplicate.
   */
  applyFill(f: Fill): FillEffect {
    if (this.seen?.has(f.id)) return DUP;
    if (!Number.isSafeInteger(f.shares) || f.shares <= 0)
      throw new LedgerInvariantError(`fill ${f.id}: bad shares ${f.shares}`);
    if (!Number.isSafeInteger(f.price) || f.price < 0 || f.price > ONE || !Number.isSafeInteger(f.fee))
      throw new LedgerInvariantError(`fill ${f.id}: bad price ${f.price} or fee ${f.fee}`);
    if (f.side === 'sell') {
      const held = this.holding(f.strategy, f.venue, f.tokenId);
      if (f.shares > held) {
        throw new LedgerInvariantError(
          `fill ${f.id}: sells ${f.shares} of ${f.venue}:${f.tokenId} but ${f.strategy} holds ${held} (no naked shorts)`,
        );
      }
    }
    this.seen?.add(f.id);
    this.fillCount++;
    this.rev++;
    const pos = this.position(f.strategy, f.venue, f.marketId, f.tokenId);
    const gross = notional(f.price, f.shares, 'round');
    this.totalFees += f.fee;
    if (f.side === 'buy') {
      const cost = gross + f.fee;
      this.flows[f.venue] = (this.flows[f.venue] ?? 0) - cost;
      pos.shares += f.shares;
      this.addBasis(pos, cost);
      this.revalue(pos);
      return { duplicate: false, realized: 0, closing: false };
    }
    const released =
      f.shares === pos.shares ? pos.costBasis : mulDiv(pos.costBasis, f.shares, pos.shares, 'floor');
    const proceeds = gross - f.fee;
    const realized = proceeds - released;
    this.flows[f.venue] = (this.flows[f.venue] ?? 0) + proceeds;
    pos.shares -= f.shares;
    this.addBasis(pos, -released);
    pos.realizedPnl += realized;
    this.totalRealized += realized;
    this.stratRealized.set(f.strategy, (this.stratRealized.get(f.strategy) ?? 0) + realized);
    this.revalue(pos);
    return { duplicate: false, realized, closing: true };
  }

  /** Sets the executable mark of an instrument (best bid; 0 when nobody bids). */
  mark(venue: Venue, tokenId: string, price: Price): void {
    const byToken = this.byToken(venue);
    const inst = byToken.get(tokenId);
    if (inst === undefined || typeof inst === 'number') {
      if (inst !== price) byToken.set(tokenId, price);
      return;
    }
    if (inst.mark === price) return;
    inst.mark = price;
    for (const p of inst.positions) this.revalue(p);
  }

  // ------------------------------------------------------------------ reads

  get fills(): number {
    return this.fillCount;
  }
  /**
   * Changes whenever a fill or a mark changes what the ledger is worth (cash, basis, a position's value): readers
   * that derive figures from it (the risk equity) recompute only then, not on every book.
   */
  get revision(): number {
    return this.rev;
  }
  cash(): Money {
    let c = 0;
    for (const v of Object.keys(this.initial)) c += this.initial[v]! + (this.flows[v] ?? 0);
    return c;
  }
  cashByVenue(): Record<string, Money> {
    const out: Record<string, Money> = {};
    for (const v of Object.keys(this.initial)) out[v] = this.initial[v]! + (this.flows[v] ?? 0);
    return out;
  }
  initialCash(): Money {
    return this.initialTotal;
  }
  positionsValue(): Money {
    return this.totalValue;
  }
  equity(): Money {
    return this.initialTotal - this.totalBasis + this.totalRealized + this.totalValue;
  }
  realizedPnl(): Money {
    return this.totalRealized;
  }
  unrealizedPnl(): Money {
    return this.totalValue - this.totalBasis;
  }
  fees(): Money {
    return this.totalFees;
  }
  openCostBasis(): Money {
    return this.totalBasis;
  }
  /** Open cost basis in one market (all strategies). */
  marketExposure(venue: Venue, marketId: string): Money {
    return this.basisByMarket.get(`${venue}:${marketId}`) ?? 0;
  }
  venueExposure(venue: Venue): Money {
    return this.basisByVenue.get(venue) ?? 0;
  }
  strategyExposure(strategy: string): Money {
    return this.basisByStrategy.get(strategy) ?? 0;
  }
  markOf(venue: Venue, tokenId: string): Price | undefined {
    return markIn(this.insts.get(venue)?.get(tokenId));
  }

  positions(): LedgerPosition[] {
    return [...this.positionsByKey.values()].filter((p) => p.shares > 0);
  }

  /** Every position ever opened, closed ones included (shares 0), in opening order. */
  allPositions(): readonly LedgerPosition[] {
    return [...this.positionsByKey.values()];
  }

  /** Shares a strategy holds of a token. */
  holding(strategy: string, venue: Venue, tokenId: string): Qty {
    return this.positionsByKey.get(posKey(strategy, venue, tokenId))?.shares ?? 0;
  }

  /** Realized + unrealized P&L of one strategy. */
  strategyPnl(strategy: string): Money {
    let pnl = this.stratRealized.get(strategy) ?? 0;
    for (const p of this.positionsByKey.values()) if (p.strategy === strategy) pnl += p.value - p.costBasis;
    return pnl;
  }

  strategies(): string[] {
    const s = new Set<string>(this.stratRealized.keys());
    for (const p of this.positionsByKey.values()) s.add(p.strategy);
    return [...s].sort();
  }

  // ------------------------------------------------------------------ internals

  private position(strategy: string, venue: Venue, marketId: string, tokenId: string): LedgerPosition {
    const key = posKey(strategy, venue, tokenId);
    let p = this.positionsByKey.get(key);
    if (!p) {
      p = { strategy, venue, marketId, tokenId, shares: 0, costBasis: 0, realizedPnl: 0, value: 0 };
      this.positionsByKey.set(key, p);
      const byToken = this.byToken(venue);
      const inst = byToken.get(tokenId);
      // the first position in a token: its bare mark becomes an Inst (same map entry, same iteration order)
      if (inst === undefined || typeof inst === 'number')
        byToken.set(tokenId, { mark: inst, positions: [p] });
      else inst.positions.push(p);
    }
    return p;
  }

  private byToken(venue: string): Map<string, Inst | Price> {
    let byToken = this.insts.get(venue);
    if (!byToken) {
      byToken = new Map();
      this.insts.set(venue, byToken);
    }
    return byToken;
  }

  private marksRecord(): Record<string, Price> {
    const out: Record<string, Price> = {};
    for (const [venue, byToken] of this.insts) {
      for (const [tokenId, i] of byToken) {
        const mark = markIn(i);
        if (mark !== undefined) out[instrumentKey(venue as Venue, tokenId)] = mark;
      }
    }
    return out;
  }

  private addBasis(p: LedgerPosition, delta: Money): void {
    if (delta === 0) return;
    p.costBasis += delta;
    this.totalBasis += delta;
    const mk = `${p.venue}:${p.marketId}`;
    this.basisByMarket.set(mk, (this.basisByMarket.get(mk) ?? 0) + delta);
    this.basisByVenue.set(p.venue, (this.basisByVenue.get(p.venue) ?? 0) + delta);
    this.basisByStrategy.set(p.strategy, (this.basisByStrategy.get(p.strategy) ?? 0) + delta);
  }

  private revalue(p: LedgerPosition): void {
    const mark = markIn(this.insts.get(p.venue)?.get(p.tokenId)) ?? 0;
    const v = p.shares === 0 ? 0 : notional(mark, p.shares, 'floor');
    if (v !== p.value) this.rev++;
    this.totalValue += v - p.value;
    p.value = v;
  }
}

/**
 * Marks a book's instrument at its best bid. A book that shows no bid keeps the last bid as the mark: a side
 * flickering empty between two updates should not wipe a position's value (and trip the drawdown stop).
 */
export function markFromBook(
  l: Ledger,
  b: {
    venue: Venue;
    tokenId: string;
    bids: readonly (readonly number[])[];
    asks?: readonly (readonly number[])[];
  },
): void {
  const best = b.bids[0]?.[0];
  // an impossible book (price outside 0..1, crossed) never values a position
  if (best === undefined || best < 0 || best > ONE) return;
  const ask = b.asks?.[0]?.[0];
  if (ask !== undefined && best > ask) return;
  l.mark(b.venue, b.tokenId, best);
}

/** Recomputes equity from scratch (cash + Σ shares × mark): the invariant the incremental figures must meet. */
export function recomputeEquity(l: Ledger): Money {
  let value = 0;
  for (const p of l.positions()) value += notional(l.markOf(p.venue, p.tokenId) ?? 0, p.shares, 'floor');
  return l.cash() + value;
}
