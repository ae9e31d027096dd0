/**
 * Loss budgets: how much the portfolio can still lose, and whether a request fits in what the drawdown and
 * daily-loss limits leave. Pure arithmetic on exact integers; the guardian's Portfolio feeds it.
 *
 * For the open book (holdings across strategies, plus every leg approved and not yet finished) it computes:
 *
 * - worst equity  W = cash + Σ over components of the minimum, over every way the component can settle
 *   (src/risk/settlement.ts), of what its holdings pay plus the worst its pending legs can add. A binary bought at
 *   p pays nothing in the world it loses: its worst case is p per share plus fees. YES+NO of one market, an
 *   identical (or inverted) pair on two venues, every outcome of a complete negRisk group: paid at least one per
 *   set in every world, so their worst case is their net cost (often a gain).
 * - pending legs count their leg risk: a leg of a multi-leg request can fill alone and be unwound at any price,
 *   so until it has filled it counts its whole cost (a sell leg: the shares it may have to buy back less the
 *   proceeds); a single-leg order either fills (and then pays what its token pays) or does not. An unwind never
 *   beats the leg's limit (it trades into the other side of the book the leg just traded with).
 * - peak equity  P = cash + Σ over components of the largest payout over the ways it can settle (+ what pending
 *   legs could add): the highest the risk equity — and so the high-water mark — can climb before those positions
 *   settle (the risk equity holds each component's marked value between its least and largest payout).
 * - carried swing  S = Σ (highest − lowest value) over the components that may still be open at the next
 *   daily-loss reset (a market without an end time, or ending within SETTLEMENT_GRACE_MS of the reset).
 *
 * Between two approvals W never falls (fills land inside their reservation's worst case, settlements pay at least
 * the minimum, price moves do not touch it) and no equity or high-water mark can exceed max(HWM, P), so:
 *
 *   drawdown limit L:  max(HWM, P) − floor(L × max(HWM, P)) ≤ W   ⇒ drawdown from any future peak ≤ L
 *   daily limit D:     dayStart − floor(D × dayStart) ≤ W          ⇒ today's loss ≤ D
 *                      S ≤ floor(D × W)                            ⇒ a later day's loss on what it inherits ≤ D
 *
 * hold after every approval, up to the per-fill rounding of fees (a Kalshi fee is rounded up to the cent on each
 * fill, so a leg that fills in k pieces may pay up to k − 1 cents more than the fee on its total).
 */
import { tradeFee } from '../core/fees.ts';
import type { FeeSchedule, Side, Venue } from '../core/messages.ts';
import { type Money, mulDiv, notional, type Price, type Qty } from '../core/money.ts';
import { type MarketKey, marketKey, OTHER, type SettlementGraph } from './settlement.ts';

/** A market ending this long before a daily-loss reset is taken to have settled by then. */
export const SETTLEMENT_GRACE_MS = 3_600_000;

const BPS = 10_000;

export interface HeldShares {
  readonly venue: Venue;
  readonly marketId: string;
  readonly tokenId: string;
  readonly shares: Qty;
}

/** A leg approved and not yet finished (its remaining shares). */
export interface PendingLeg extends HeldShares {
  readonly side: Side;
  readonly limitPrice: Price;
  readonly fees: FeeSchedule | undefined;
  /** Part of a multi-leg request: may fill alone and be unwound at any price. */
  readonly grouped: boolean;
}

export interface Exposure {
  /** W: equity if everything settles the worst way it can. */
  readonly worstEquity: Money;
  /** P: the highest the equity can reach before the open positions settle. */
  readonly peakEquity: Money;
  /** S: highest minus lowest value of what may still be open at the next daily-loss reset. */
  readonly carriedSwing: Money;
}

export interface BudgetLimits {
  readonly highWaterMark: Money;
  readonly dailyStartEquity: Money;
  readonly drawdownLimitBps: number;
  readonly dailyLossLimitBps: number;
}

export type BudgetBreach =
  | { readonly limit: 'drawdown'; readonly peak: Money; readonly allowed: Money; readonly worst: Money }
  | { readonly limit: 'daily'; readonly start: Money; readonly allowed: Money; readonly worst: Money }
  | { readonly limit: 'daily_carry'; readonly swing: Money; readonly allowed: Money; readonly worst: Money };

/** Most the equity may fall from `peak` under a limit in basis points. */
export const limitOf = (peak: Money, bps: number): Money => mulDiv(Math.max(0, peak), bps, BPS, 'floor');

/** The first limit an exposure breaks, or undefined when it fits every one. */
export function breach(e: Exposure, l: BudgetLimits): BudgetBreach | undefined {
  const peak = Math.max(l.highWaterMark, e.peakEquity);
  const ddAllowed = limitOf(peak, l.drawdownLimitBps);
  if (peak - e.worstEquity > ddAllowed)
    return { limit: 'drawdown', peak, allowed: ddAllowed, worst: e.worstEquity };
  const dayAllowed = limitOf(l.dailyStartEquity, l.dailyLossLimitBps);
  if (l.dailyStartEquity - e.worstEquity > dayAllowed)
    return { limit: 'daily', start: l.dailyStartEquity, allowed: dayAllowed, worst: e.worstEquity };
  const carryAllowed = limitOf(e.worstEquity, l.dailyLossLimitBps);
  if (e.carriedSwing > carryAllowed)
    return { limit: 'daily_carry', swing: e.carriedSwing, allowed: carryAllowed, worst: e.worstEquity };
  return undefined;
}

/** True when `after` is no riskier than `before` on every measure (a pure exit may always go ahead). */
export function noRiskier(after: Exposure, before: Exposure): boolean {
  return (
    after.worstEquity >= before.worstEquity &&
    after.peakEquity <= before.peakEquity &&
    after.carriedSwing <= before.carriedSwing
  );
}

/** Most a buy leg can cost: notional at its limit (rounded up) plus the taker fee there. */
export function buyCostBound(leg: Pick<PendingLeg, 'limitPrice' | 'shares' | 'fees'>): Money {
  const fee = leg.fees ? tradeFee(leg.fees, leg.limitPrice, leg.shares, 'taker') : 0;
  return notional(leg.limitPrice, leg.shares, 'ceil') + fee;
}

/** Least a sell leg brings in: notional at its limit (rounded down) less the taker fee there. */
export function sellProceedsBound(leg: Pick<PendingLeg, 'limitPrice' | 'shares' | 'fees'>): Money {
  const fee = leg.fees ? tradeFee(leg.fees, leg.limitPrice, leg.shares, 'taker') : 0;
  return notional(leg.limitPrice, leg.shares, 'floor') - fee;
}

/**
 * What a pending leg can add to the component in a world where its token wins (`wins`) or not: at worst
 * (`best` false) and at best. A single-leg order fills or not. A leg of a group may also fill alone and be
 * unwound at any price — a bought leg sold back near 0, a sold leg bought back near $1 — so at worst it costs its
 * whole cost whatever the world. An unwind never beats the leg's own limit (it trades into the other side of the
 * book the leg just traded with), so at best a group's leg adds what a single order would.
 */
function legTerm(leg: PendingLeg, wins: boolean, best: boolean, bound: Money): Money {
  const payout = wins ? leg.shares : 0;
  if (leg.side === 'buy') {
    const cost = bound;
    if (best) return Math.max(0, payout - cost);
    return leg.grouped ? -cost : Math.min(0, payout - cost);
  }
  const proceeds = bound;
  // best: sold at up to $1 a token that then pays nothing
  if (best) return leg.shares - payout;
  return leg.grouped ? Math.min(0, proceeds - leg.shares) : Math.min(0, proceeds - payout);
}

/** A leg's buyCostBound (buy) or sellProceedsBound (sell): the same in every world, so computed once per leg. */
const boundOf = (leg: PendingLeg): Money => (leg.side === 'buy' ? buyCostBound(leg) : sellProceedsBound(leg));

/**
 * The least and most a pending leg can add to any component it is valued in, whichever way its market settles
 * and whatever settles with it: legTerm's worst over both outcomes, and its best over both (a buy loses its cost
 * at worst; a sell gives up at most the shares it may buy back less its proceeds; a won buy pays its shares).
 */
export function legRange(leg: PendingLeg): { readonly lo: Money; readonly hi: Money } {
  const bound = boundOf(leg);
  return leg.side === 'buy'
    ? { lo: -bound, hi: Math.max(0, leg.shares - bound) }
    : { lo: Math.min(0, bound - leg.shares), hi: leg.shares };
}

/**
 * A bound on `Portfolio.exposure` that needs no settlement worlds: every held share is paid between 0 and 1 and
 * every pending leg adds between its legRange's lo and hi. A component's least payout over its worlds (or over
 * its markets settled independently) is at least the sum of its parts' least, and its largest at most the sum of
 * their largest, so worstEquity ≤ the exact one, peakEquity ≥ it, and carriedSwing ≥ it (the swing of every
 * component, carried or not). `breach` only gets worse as the worst equity falls and the peak and swing grow, so
 * an exposure within this bound's limits is within them exactly: the loss budget enumerates worlds only near a
 * limit.
 */
export function exposureBound(cash: Money, heldShares: Qty, pending: readonly PendingLeg[]): Exposure {
  let lo = 0;
  let hi = heldShares;
  for (const l of pending) {
    const r = legRange(l);
    lo += r.lo;
    hi += r.hi;
  }
  return { worstEquity: cash + lo, peakEquity: cash + hi, carriedSwing: hi - lo };
}

export interface ComponentValue {
  readonly root: MarketKey;
  /** Least the component's holdings (and pending legs) are paid over every way it can settle. */
  readonly floor: Money;
  /**
   * Most they can be worth: the largest settlement payout over every way it can settle (what pending legs can add
   * included). Marks are held to [floor, max] in the risk equity, so no mark above what a position can ever pay
   * raises the high-water mark, and none below what a hedge is sure to pay lowers the equity.
   */
  readonly max: Money;
}

/**
 * Worst and best value of one component: holdings and pending legs whose markets belong to it. Enumerates the
 * component's worlds; falls back to independent markets when there are too many or the links contradict.
 */
export function valueComponent(
  graph: SettlementGraph,
  root: MarketKey,
  held: readonly HeldShares[],
  pending: readonly PendingLeg[],
): ComponentValue {
  // the markets touched, with the tokens held or traded in each
  const touched = new Map<MarketKey, Set<string>>();
  const heldKeys = held.map((x) => touch(touched, x));
  const legKeys = pending.map((x) => touch(touched, x));
  const c: Book = {
    held,
    heldKeys,
    pending,
    legKeys,
    heldAt: [],
    legAt: [],
    bounds: new Array(pending.length),
  };
  let extra: Map<MarketKey, readonly string[]> | undefined;
  for (const [k, toks] of touched) {
    if (graph.hasMarket(k)) continue;
    extra ??= new Map();
    extra.set(k, [...toks].sort());
  }
  const members = graph.membersOf(root);
  let keys = members;
  for (const k of touched.keys()) {
    if (members.includes(k)) continue;
    keys = [...new Set([...members, ...touched.keys()])].sort();
    break;
  }
  let worlds = graph.worlds(keys, extra);
  // too many to enumerate, or contradictory links: the touched markets alone (fewer constraints: conservative)
  if (worlds.worlds.length === 0 && keys.length > touched.size)
    worlds = graph.worlds([...touched.keys()].sort(), extra);
  let floor = 0;
  let max = 0;
  if (worlds.worlds.length > 0) {
    const index = worlds.index;
    // each holding's and leg's market as a position in a world (-1: not in it, OTHER wins), looked up once
    c.heldAt = heldKeys.map((k) => index.get(k) ?? -1);
    c.legAt = legKeys.map((k) => index.get(k) ?? -1);
    floor = Number.POSITIVE_INFINITY;
    max = Number.NEGATIVE_INFINITY;
    for (const w of worlds.worlds) {
      valueIn(c, w, undefined, '');
      if (acc.lo < floor) floor = acc.lo;
      if (acc.hi > max) max = acc.hi;
    }
  } else {
    // independent markets: each settles on whichever of its outcomes hurts (or helps) most
    for (const [k, toks] of touched) {
      let worst = Number.POSITIVE_INFINITY;
      let best = Number.NEGATIVE_INFINITY;
      for (const t of graph.domain(k, [...toks])) {
        valueIn(c, undefined, k, t);
        if (acc.lo < worst) worst = acc.lo;
        if (acc.hi > best) best = acc.hi;
      }
      floor += worst;
      max += best;
    }
  }
  return { root, floor, max };
}

/** Holdings and pending legs of a component, with the market key of each. */
interface Book {
  readonly held: readonly HeldShares[];
  readonly heldKeys: readonly MarketKey[];
  readonly pending: readonly PendingLeg[];
  readonly legKeys: readonly MarketKey[];
  /** With worlds: the index of each holding's / leg's market in a world (-1 when it is not one of them). */
  heldAt: readonly number[];
  legAt: readonly number[];
  /** boundOf each pending leg, once it was needed */
  readonly bounds: (Money | undefined)[];
}

function touch(touched: Map<MarketKey, Set<string>>, x: HeldShares): MarketKey {
  const k = marketKey(x.venue, x.marketId);
  let s = touched.get(k);
  if (!s) {
    s = new Set();
    touched.set(k, s);
  }
  s.add(x.tokenId);
  return k;
}

function winnerOf(world: readonly string[] | undefined, at: number, token: string): string {
  return world === undefined ? token : (world[at] ?? OTHER);
}

/** valueIn's result: worst and best value (reused, so the hot loop allocates nothing). */
const acc = { lo: 0, hi: 0 };

/**
 * Worst and best value of a book in one world — `world[c.heldAt[i]]` / `world[c.legAt[i]]` wins each market — or,
 * with `only` (and no world), of market `only` alone when `token` wins it. The result is left in `acc`.
 */
function valueIn(
  c: Book,
  world: readonly string[] | undefined,
  only: MarketKey | undefined,
  token: string,
): void {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < c.held.length; i++) {
    if (only !== undefined && c.heldKeys[i]! !== only) continue;
    if (winnerOf(world, c.heldAt[i]!, token) === c.held[i]!.tokenId) {
      lo += c.held[i]!.shares;
      hi += c.held[i]!.shares;
    }
  }
  for (let i = 0; i < c.pending.length; i++) {
    if (only !== undefined && c.legKeys[i]! !== only) continue;
    const l = c.pending[i]!;
    const wins = winnerOf(world, c.legAt[i]!, token) === l.tokenId;
    let bound = c.bounds[i];
    if (bound === undefined) {
      bound = boundOf(l);
      c.bounds[i] = bound;
    }
    lo += legTerm(l, wins, false, bound);
    hi += legTerm(l, wins, true, bound);
  }
  acc.lo = lo;
  acc.hi = hi;
}

/** Groups holdings and pending legs by component. */
export function byComponent<T extends HeldShares>(
  graph: SettlementGraph,
  xs: readonly T[],
): Map<MarketKey, T[]> {
  const out = new Map<MarketKey, T[]>();
  for (const x of xs) {
    const root = graph.componentOf(marketKey(x.venue, x.marketId));
    let list = out.get(root);
    if (!list) {
      list = [];
      out.set(root, list);
    }
    list.push(x);
  }
  return out;
}

/**
 * Largest size (shares of the first leg, in steps of `unit`, at most `maxShares`) for which `fits` holds, given
 * that `knownFit` does (0 when none is known). `fits` must be monotone: true up to some size, false beyond (worst case and peak only grow
 * with size). Exact integer bisection.
 */
export function largestFitting(
  maxShares: Qty,
  unit: Qty,
  fits: (shares: Qty) => boolean,
  knownFit: Qty = 0,
): Qty {
  let lo = Math.floor(knownFit / unit);
  let hi = Math.floor(maxShares / unit);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid * unit)) lo = mid;
    else hi = mid - 1;
  }
  return lo * unit;
}
