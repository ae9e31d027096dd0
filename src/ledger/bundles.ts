/**
 * Bundles: a trade request's legs together are one bundle (its id is the request's `bundleId`, else the request
 * id), and the bundle — not the leg — is the unit of a strategy's record. A cross-venue arbitrage that buys YES on
 * one venue and NO on the other is one bundle: it is closed once every leg is sold or settled, and counts as one
 * win when, all legs together, it made money — however each leg did on its own.
 *
 * Fills → bundles (exact integers, the ledger's own conventions: a buy costs notional (rounded) + fee; a sale
 * releases basis at the bundle leg's average cost, floor):
 * - a buy adds shares and cost to its bundle;
 * - a sale or unwind takes shares from its own bundle when that bundle holds the token, else from the strategy's
 *   bundles holding it, oldest first (an exit request sells what earlier bundles bought);
 * - a settlement pays every bundle of the strategy holding the token, oldest first, for the shares each holds.
 * Proceeds shared by several bundles are split by shares (floor), the last taking the remainder, so the parts
 * always sum to the fill.
 */
import type { Fill, Venue } from '../core/messages.ts';
import { instrumentKey } from '../core/messages.ts';
import { type Money, mulDiv, notional, type Price, type Qty } from '../core/money.ts';

export interface BundleLeg {
  readonly venue: Venue;
  readonly marketId: string;
  readonly tokenId: string;
  shares: Qty;
  /** Cost of the open shares, fees included. */
  basis: Money;
}

export interface Bundle {
  readonly id: string;
  readonly strategy: string;
  readonly openedAt: number;
  /** instrument key → leg */
  readonly legs: Map<string, BundleLeg>;
  /** Capital committed: every buy's notional + fee. */
  cost: Money;
  /** Proceeds of sales and settlements less the basis they released. */
  realized: Money;
  fills: number;
  /** Set when every leg is back to zero shares. */
  closedAt: number | undefined;
}

export interface BundleSnapshot {
  readonly version: 1;
  readonly bundles: readonly {
    id: string;
    strategy: string;
    openedAt: number;
    cost: Money;
    realized: Money;
    fills: number;
    closedAt: number | null;
    legs: { venue: Venue; marketId: string; tokenId: string; shares: Qty; basis: Money }[];
  }[];
  readonly fillIds: readonly string[];
  /**
   * strategy|instrument → ids of the bundles holding it, in the order later sales take from them (a bundle that
   * reopened holds from its new buy on, not from where it first opened). Absent in older snapshots: bundle order.
   */
  readonly holders?: Readonly<Record<string, readonly string[]>>;
}

/** What a closed bundle made, and its return on the capital it committed. */
export interface ClosedBundle {
  readonly id: string;
  readonly strategy: string;
  readonly closedAt: number;
  readonly pnl: Money;
  readonly cost: Money;
}

export class BundleBook {
  private readonly bundles = new Map<string, Bundle>();
  /** strategy|instrument → ids of bundles holding it, oldest first */
  private readonly holders = new Map<string, string[]>();
  private readonly seen = new Set<string>();
  private readonly closedList: ClosedBundle[] = [];

  /** The bundles of a fill history (restart recovery replays the stored fills). */
  static fromFills(fills: Iterable<Fill>): BundleBook {
    const b = new BundleBook();
    for (const f of fills) b.applyFill(f);
    return b;
  }

  static restore(s: BundleSnapshot): BundleBook {
    const b = new BundleBook();
    for (const x of s.bundles) {
      const bundle: Bundle = {
        id: x.id,
        strategy: x.strategy,
        openedAt: x.openedAt,
        legs: new Map(),
        cost: x.cost,
        realized: x.realized,
        fills: x.fills,
        closedAt: x.closedAt ?? undefined,
      };
      for (const l of x.legs) {
        bundle.legs.set(instrumentKey(l.venue, l.tokenId), { ...l });
        if (l.shares > 0 && !s.holders) b.holdersOf(x.strategy, l.venue, l.tokenId).push(x.id);
      }
      b.bundles.set(x.id, bundle);
      if (bundle.closedAt !== undefined) b.recordClosed(bundle);
    }
    for (const [k, ids] of Object.entries(s.holders ?? {})) if (ids.length > 0) b.holders.set(k, [...ids]);
    for (const id of s.fillIds) b.seen.add(id);
    return b;
  }

  snapshot(): BundleSnapshot {
    return {
      version: 1,
      bundles: [...this.bundles.values()].map((b) => ({
        id: b.id,
        strategy: b.strategy,
        openedAt: b.openedAt,
        cost: b.cost,
        realized: b.realized,
        fills: b.fills,
        closedAt: b.closedAt ?? null,
        legs: [...b.legs.values()].map((l) => ({ ...l })),
      })),
      fillIds: [...this.seen],
      holders: Object.fromEntries(
        [...this.holders].filter(([, ids]) => ids.length > 0).map(([k, ids]) => [k, [...ids]]),
      ),
    };
  }

  applyFill(f: Fill): void {
    if (this.seen.has(f.id)) return;
    this.seen.add(f.id);
    const own = f.bundleId ?? f.requestId;
    if (f.side === 'buy') {
      let b = this.bundles.get(own);
      if (!b) {
        b = {
          id: own,
          strategy: f.strategy,
          openedAt: f.ts,
          legs: new Map(),
          cost: 0,
          realized: 0,
          fills: 0,
          closedAt: undefined,
        };
        this.bundles.set(own, b);
      }
      const k = instrumentKey(f.venue, f.tokenId);
      let leg = b.legs.get(k);
      if (!leg) {
        leg = { venue: f.venue, marketId: f.marketId, tokenId: f.tokenId, shares: 0, basis: 0 };
        b.legs.set(k, leg);
      }
      const cost = notional(f.price, f.shares, 'round') + f.fee;
      if (leg.shares === 0) this.holdersOf(b.strategy, f.venue, f.tokenId).push(b.id);
      leg.shares += f.shares;
      leg.basis += cost;
      b.cost += cost;
      b.fills++;
      b.closedAt = undefined;
      return;
    }
    // a sale, unwind or settlement: from its own bundle if it holds the token, else the holders, oldest first
    const k = instrumentKey(f.venue, f.tokenId);
    const holders = this.holdersOf(f.strategy, f.venue, f.tokenId);
    const order =
      f.kind !== 'settlement' && this.bundles.get(own)?.legs.get(k)?.shares
        ? [own, ...holders.filter((id) => id !== own)]
        : [...holders];
    const proceeds = notional(f.price, f.shares, 'round') - f.fee;
    let left = f.shares;
    let paid = 0;
    for (const id of order) {
      if (left <= 0) break;
      const b = this.bundles.get(id)!;
      const leg = b.legs.get(k);
      if (!leg || leg.shares <= 0) continue;
      const take = Math.min(left, leg.shares);
      left -= take;
      const part = left === 0 ? proceeds - paid : mulDiv(proceeds, take, f.shares, 'floor');
      paid += part;
      const released = take === leg.shares ? leg.basis : mulDiv(leg.basis, take, leg.shares, 'floor');
      leg.shares -= take;
      leg.basis -= released;
      b.realized += part - released;
      b.fills++;
      if (leg.shares === 0) {
        const i = holders.indexOf(id);
        if (i >= 0) holders.splice(i, 1);
      }
      if ([...b.legs.values()].every((l) => l.shares === 0)) {
        b.closedAt = f.ts;
        this.recordClosed(b);
      }
    }
  }

  get(id: string): Bundle | undefined {
    return this.bundles.get(id);
  }

  /** Bundles of a strategy (or all), in the order they opened. */
  all(strategy?: string): Bundle[] {
    const out: Bundle[] = [];
    for (const b of this.bundles.values()) if (strategy === undefined || b.strategy === strategy) out.push(b);
    return out;
  }

  /** Ids of a strategy's bundles holding shares of an instrument, oldest first. */
  holding(strategy: string, venue: Venue, tokenId: string): readonly string[] {
    return this.holders.get(`${strategy}|${instrumentKey(venue, tokenId)}`) ?? [];
  }

  /** Bundles closed, in the order they closed (a bundle reopened by a later buy counts again when it closes). */
  closed(): readonly ClosedBundle[] {
    return this.closedList;
  }

  /** Marked P&L of a bundle: realized + open shares at `markOf` (floor) − their basis. */
  pnl(b: Bundle, markOf: (venue: Venue, tokenId: string) => Price | undefined): Money {
    let v = b.realized;
    for (const l of b.legs.values())
      if (l.shares > 0) v += notional(markOf(l.venue, l.tokenId) ?? 0, l.shares, 'floor') - l.basis;
    return v;
  }

  private recordClosed(b: Bundle): void {
    this.closedList.push({
      id: b.id,
      strategy: b.strategy,
      closedAt: b.closedAt!,
      pnl: b.realized,
      cost: b.cost,
    });
  }

  private holdersOf(strategy: string, venue: Venue, tokenId: string): string[] {
    const k = `${strategy}|${instrumentKey(venue, tokenId)}`;
    let list = this.holders.get(k);
    if (!list) {
      list = [];
      this.holders.set(k, list);
    }
    return list;
  }
}
