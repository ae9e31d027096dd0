/**
 * Depth walking and exact sizing of multi-leg bundles.
 *
 * Fill model (the one the scanner states edges in): a leg of `n` shares takes the book level by level, best
 * first; each level touched is one fill at that level's price, charged `tradeFee(schedule, price, qtyAtLevel)`.
 * So the fee of a leg is the sum of per-level fees — exact for both venues, including Kalshi's ceil-to-cent,
 * which makes fees non-linear in size. Share counts are multiples of the coarsest lot of the legs' markets
 * (Market.lotSize, set by each venue's parser; whole shares where a market states none).
 *
 * A bundle is a set of legs traded in equal share counts whose combined position settles to a known amount per
 * share set (`settlePerShare`): +1 for "buy YES and NO" style bundles (one leg always pays 1), −1 for selling
 * both sides of a market from inventory (we give up a position worth exactly 1 at resolution), or any fair
 * value for a one-leg model-priced trade. edge(n) = Σ sell notional − Σ buy notional − Σ fees + n × settle.
 * Sizing walks the union of every leg's level boundaries and keeps a segment only if it adds profit after fees
 * (the marginal level must pay for itself), stopping at the first one that does not.
 */
import { tradeFee } from '../core/fees.ts';
import type { FeeSchedule, OrderBook, Side, Venue } from '../core/messages.ts';
import { MICRO, type Money, mulDiv, type Price, type Qty } from '../core/money.ts';

/** Levels as they sit in an OrderBook: [price, size] best first. */
export type Levels = OrderBook['asks'];

/** The lot of a market that states none (hand-built markets): whole shares. No venue's number. */
export const DEFAULT_LOT: Qty = MICRO;
/** Levels considered per leg (deeper liquidity is not worth the walk). */
export const MAX_LEVELS = 32;

export interface LegInput {
  readonly venue: Venue;
  readonly marketId: string;
  readonly tokenId: string;
  readonly side: Side;
  /** Buy legs: asks ascending; sell legs: bids descending. Best first. */
  readonly levels: Levels;
  readonly fees: FeeSchedule;
  /** The market's minimum order size (checked by the scanner, not by sizing). */
  readonly minSize: Qty;
  /** The market's lot: sizes are multiples of it (DEFAULT_LOT when the market states none). */
  readonly lot?: Qty;
}

/** The coarsest lot of the legs (lots are powers of ten of a micro-share, so it is a multiple of every other). */
export function bundleLot(legs: readonly LegInput[]): Qty {
  let lot = 1;
  for (const l of legs) {
    const x = l.lot ?? DEFAULT_LOT;
    if (x > lot) lot = x;
  }
  return lot;
}

export interface LegFill {
  /** Worst price touched (the limit price for the order). */
  readonly limit: Price;
  readonly notional: Money;
  readonly fee: Money;
}

export interface BundleFill {
  readonly shares: Qty;
  readonly legs: readonly LegFill[];
  /** Σ buy notional + Σ fees: the capital the trade commits. */
  readonly cost: Money;
  readonly fees: Money;
  /** Σ sell notional. */
  readonly proceeds: Money;
  /** What the trade ties up: cost, plus the value of the inventory given up when it sells (settle < 0). */
  readonly capital: Money;
  readonly edge: Money;
}

/** Fills `shares` against `levels` best first; undefined when the book is too thin. */
export function fillLeg(
  levels: Levels,
  fees: FeeSchedule,
  shares: Qty,
  side: Side = 'buy',
): LegFill | undefined {
  let left = shares;
  let not = 0;
  let fee = 0;
  let limit = 0;
  for (let i = 0; i < levels.length && left > 0; i++) {
    const l = levels[i]!;
    const p = l[0]!;
    const s = l[1]!;
    const q = Math.min(s, left);
    not += mulDiv(p, q, MICRO, 'round');
    fee += tradeFee(fees, p, q, 'taker', side);
    limit = p;
    left -= q;
  }
  if (left > 0) return undefined;
  return { limit, notional: not, fee };
}

/** edge of a bundle at exactly `shares` per leg. */
export function evaluateBundle(
  legs: readonly LegInput[],
  settlePerShare: Price,
  shares: Qty,
): BundleFill | undefined {
  const fills: LegFill[] = [];
  let buy = 0;
  let sell = 0;
  let fees = 0;
  for (const leg of legs) {
    const f = fillLeg(leg.levels, leg.fees, shares, leg.side);
    if (!f) return undefined;
    fills.push(f);
    if (leg.side === 'buy') buy += f.notional;
    else sell += f.notional;
    fees += f.fee;
  }
  const settle = mulDiv(settlePerShare, shares, MICRO, 'floor');
  const cost = buy + fees;
  return {
    shares,
    legs: fills,
    cost,
    fees,
    proceeds: sell,
    capital: cost + (settle < 0 ? -settle : 0),
    edge: sell - buy - fees + settle,
  };
}

/**
 * Best size for a bundle: walks level boundaries while each added segment is profitable after fees.
 * Returns undefined when not even the first whole share is profitable. Cheap exit: when the top of book
 * already loses before fees, nothing else is computed.
 */
export function sizeBundle(
  legs: readonly LegInput[],
  settlePerShare: Price,
  maxShares: Qty = Number.MAX_SAFE_INTEGER,
): BundleFill | undefined {
  if (legs.length === 0) return undefined;
  // top-of-book pre-check (fees only lower the edge)
  let top = settlePerShare;
  let depth = maxShares;
  for (const leg of legs) {
    const best = leg.levels[0];
    if (!best) return undefined;
    top += leg.side === 'buy' ? -best[0]! : best[0]!;
    let d = 0;
    const n = Math.min(leg.levels.length, MAX_LEVELS);
    for (let i = 0; i < n; i++) d += leg.levels[i]![1]!;
    if (d < depth) depth = d;
  }
  if (top <= 0) return undefined;
  const LOT = bundleLot(legs);
  depth -= depth % LOT;
  if (depth <= 0) return undefined;
  // union of cumulative boundaries (floored to whole shares), up to the common depth
  const bounds = scratchBounds;
  bounds.length = 0;
  for (const leg of legs) {
    let c = 0;
    const n = Math.min(leg.levels.length, MAX_LEVELS);
    for (let i = 0; i < n; i++) {
      c += leg.levels[i]![1]!;
      const b = c - (c % LOT);
      if (b > 0 && b < depth) bounds.push(b);
      if (c >= depth) break;
    }
  }
  bounds.push(depth);
  // one leg's boundaries are already in order (cumulative sums, then the depth above them all)
  if (legs.length > 1) sortNumbers(bounds);
  // Walk the boundaries with one cursor per leg: fully taken levels are priced once, only the level in
  // progress is re-priced at each boundary (the same per-level fills as fillLeg, so results are identical).
  const k = legs.length;
  if (scratchLvl.length < k) {
    scratchLvl = new Int32Array(k * 2);
    scratchBefore = new Float64Array(k * 2);
    scratchNot = new Float64Array(k * 2);
    scratchFee = new Float64Array(k * 2);
  }
  // per-leg cursors in reused scratch arrays (sizeBundle is synchronous and not re-entrant)
  const lvl = scratchLvl; // index of the level in progress
  const before = scratchBefore; // shares in the levels before it
  const doneNot = scratchNot;
  const doneFee = scratchFee;
  lvl.fill(0, 0, k);
  before.fill(0, 0, k);
  doneNot.fill(0, 0, k);
  doneFee.fill(0, 0, k);
  // the best boundary so far, kept in scalars and scratch arrays: the result objects are built once, at the end
  // (this runs for every priced market on every tick; one object per boundary tried was a fifth of all allocation)
  if (scratchBestLimit.length < 2 * k) {
    scratchBestLimit = new Float64Array(k * 4);
    scratchBestNot = new Float64Array(k * 4);
    scratchBestFee = new Float64Array(k * 4);
  }
  const bestLimit = scratchBestLimit;
  const bestNot = scratchBestNot;
  const bestFee = scratchBestFee;
  let found = false;
  let bestShares = 0;
  let bestCost = 0;
  let bestFees = 0;
  let bestProceeds = 0;
  let bestCapital = 0;
  let prevEdge = 0;
  let prev = 0;
  for (const b of bounds) {
    if (b === prev) continue;
    // the segment (prev, b] costs the marginal prices at prev + 1: if they lose before fees, stop here
    let marginal = settlePerShare;
    for (let j = 0; j < k; j++) {
      const leg = legs[j]!;
      while (before[j]! + leg.levels[lvl[j]!]![1]! <= prev) {
        const l = leg.levels[lvl[j]!]!;
        doneNot[j] = doneNot[j]! + mulDiv(l[0]!, l[1]!, MICRO, 'round');
        doneFee[j] = doneFee[j]! + tradeFee(leg.fees, l[0]!, l[1]!, 'taker', leg.side);
        before[j] = before[j]! + l[1]!;
        lvl[j] = lvl[j]! + 1;
      }
      const p = leg.levels[lvl[j]!]![0]!;
      marginal += leg.side === 'buy' ? -p : p;
    }
    if (marginal <= 0) break;
    let buy = 0;
    let sell = 0;
    let fees = 0;
    for (let j = 0; j < k; j++) {
      const leg = legs[j]!;
      let i = lvl[j]!;
      let nb = before[j]!;
      let not = doneNot[j]!;
      let fee = doneFee[j]!;
      // levels fully inside (prev, b] are priced whole here and by later boundaries again: rare, cheap
      while (nb + leg.levels[i]![1]! < b) {
        const l = leg.levels[i]!;
        not += mulDiv(l[0]!, l[1]!, MICRO, 'round');
        fee += tradeFee(leg.fees, l[0]!, l[1]!, 'taker', leg.side);
        nb += l[1]!;
        i++;
      }
      const l = leg.levels[i]!;
      const q = b - nb;
      not += mulDiv(l[0]!, q, MICRO, 'round');
      fee += tradeFee(leg.fees, l[0]!, q, 'taker', leg.side);
      // this boundary's leg figures, in the candidate slots (k..2k) until it is known to add profit
      bestLimit[k + j] = l[0]!;
      bestNot[k + j] = not;
      bestFee[k + j] = fee;
      if (leg.side === 'buy') buy += not;
      else sell += not;
      fees += fee;
    }
    const settle = mulDiv(settlePerShare, b, MICRO, 'floor');
    const cost = buy + fees;
    const edge = sell - buy - fees + settle;
    if (edge - prevEdge <= 0) break;
    bestLimit.copyWithin(0, k, 2 * k);
    bestNot.copyWithin(0, k, 2 * k);
    bestFee.copyWithin(0, k, 2 * k);
    found = true;
    bestShares = b;
    bestCost = cost;
    bestFees = fees;
    bestProceeds = sell;
    bestCapital = cost + (settle < 0 ? -settle : 0);
    prevEdge = edge;
    prev = b;
  }
  if (!found) return undefined;
  const fills: LegFill[] = [];
  for (let j = 0; j < k; j++) fills.push({ limit: bestLimit[j]!, notional: bestNot[j]!, fee: bestFee[j]! });
  return {
    shares: bestShares,
    legs: fills,
    cost: bestCost,
    fees: bestFees,
    proceeds: bestProceeds,
    capital: bestCapital,
    edge: prevEdge,
  };
}

/**
 * sizeBundle of one leg, split in two: what depends on the book only (the boundaries, and at each the marginal
 * price, limit, notional and fee) is prepared once per book, and `sizeOneLeg` then only compares edges for a
 * settlement. oracle_lag sizes the same book again on every tick with a new fair value: the book walk (mulDiv and
 * tradeFee per level) ran each time. The result is exactly sizeBundle([leg], settlePerShare, maxShares).
 */
export interface OneLegSizing {
  readonly buy: boolean;
  /** best price (sizeBundle's top-of-book pre-check); NaN when the side is empty */
  readonly top: number;
  readonly n: number;
  /**
   * Per boundary i, ONE_LEG_STRIDE float64s from i × ONE_LEG_STRIDE: shares, marginal (the price of the first share
   * after the previous boundary), limit, notional, fee. One array rather than five: a sizing is prepared for every
   * new book of a crossing oracle market, and each typed array is an allocation of its own.
   */
  readonly at: Float64Array;
}

/** The fields of a boundary in OneLegSizing.at, at these offsets from i × ONE_LEG_STRIDE. */
export const ONE_LEG_STRIDE = 5;
const OL_SHARES = 0;
const OL_MARGINAL = 1;
const OL_LIMIT = 2;
const OL_NOTIONAL = 3;
const OL_FEE = 4;

export function prepareOneLeg(leg: LegInput, maxShares: Qty = Number.MAX_SAFE_INTEGER): OneLegSizing {
  const levels = leg.levels;
  const buy = leg.side === 'buy';
  const best = levels[0];
  if (!best) return { buy, top: Number.NaN, n: 0, at: NO_F64 };
  // the same steps as sizeBundle with one leg, without the settlement
  let depth = maxShares;
  const m = Math.min(levels.length, MAX_LEVELS);
  let d = 0;
  for (let i = 0; i < m; i++) d += levels[i]![1]!;
  if (d < depth) depth = d;
  const LOT = bundleLot([leg]);
  depth -= depth % LOT;
  if (depth <= 0) return { buy, top: best[0]!, n: 0, at: NO_F64 };
  // the boundaries into the (reused) scratch array first: their count sizes the one result array
  const bounds = scratchBounds;
  bounds.length = 0;
  let c = 0;
  for (let i = 0; i < m; i++) {
    c += levels[i]![1]!;
    const b = c - (c % LOT);
    if (b > 0 && b < depth) bounds.push(b);
    if (c >= depth) break;
  }
  bounds.push(depth);
  const at = new Float64Array(bounds.length * ONE_LEG_STRIDE);
  let n = 0;
  let lvl = 0;
  let before = 0;
  let doneNot = 0;
  let doneFee = 0;
  let prev = 0;
  for (let k = 0; k < bounds.length; k++) {
    const b = bounds[k]!;
    if (b === prev) continue;
    while (before + levels[lvl]![1]! <= prev) {
      const l = levels[lvl]!;
      doneNot += mulDiv(l[0]!, l[1]!, MICRO, 'round');
      doneFee += tradeFee(leg.fees, l[0]!, l[1]!, 'taker', leg.side);
      before += l[1]!;
      lvl++;
    }
    let i = lvl;
    let nb = before;
    let not = doneNot;
    let fee = doneFee;
    while (nb + levels[i]![1]! < b) {
      const l = levels[i]!;
      not += mulDiv(l[0]!, l[1]!, MICRO, 'round');
      fee += tradeFee(leg.fees, l[0]!, l[1]!, 'taker', leg.side);
      nb += l[1]!;
      i++;
    }
    const l = levels[i]!;
    const q = b - nb;
    not += mulDiv(l[0]!, q, MICRO, 'round');
    fee += tradeFee(leg.fees, l[0]!, q, 'taker', leg.side);
    const o = n * ONE_LEG_STRIDE;
    at[o + OL_SHARES] = b;
    at[o + OL_MARGINAL] = levels[lvl]![0]!;
    at[o + OL_LIMIT] = l[0]!;
    at[o + OL_NOTIONAL] = not;
    at[o + OL_FEE] = fee;
    n++;
    // sizeBundle moves on from a boundary only once it was taken (any other outcome ends the walk)
    prev = b;
  }
  return { buy, top: best[0]!, n, at };
}

/** sizeBundle([leg], settlePerShare, maxShares) from the leg's prepared sizing (prepareOneLeg). */
export function sizeOneLeg(t: OneLegSizing, settlePerShare: Price, valueAt?: Price): BundleFill | undefined {
  if (Number.isNaN(t.top)) return undefined;
  if (settlePerShare + (t.buy ? -t.top : t.top) <= 0) return undefined;
  const at = t.at;
  let best = -1;
  let prevEdge = 0;
  let bestCost = 0;
  let bestProceeds = 0;
  let bestCapital = 0;
  for (let i = 0; i < t.n; i++) {
    const o = i * ONE_LEG_STRIDE;
    const p = at[o + OL_MARGINAL]!;
    if (settlePerShare + (t.buy ? -p : p) <= 0) break;
    const not = at[o + OL_NOTIONAL]!;
    const buy = t.buy ? not : 0;
    const sell = t.buy ? 0 : not;
    const fees = at[o + OL_FEE]!;
    const settle = mulDiv(settlePerShare, at[o + OL_SHARES]!, MICRO, 'floor');
    const cost = buy + fees;
    const edge = sell - buy - fees + settle;
    if (edge - prevEdge <= 0) break;
    best = i;
    prevEdge = edge;
    bestCost = cost;
    bestProceeds = sell;
    bestCapital = cost + (settle < 0 ? -settle : 0);
  }
  if (best < 0) return undefined;
  const o = best * ONE_LEG_STRIDE;
  const legs = [{ limit: at[o + OL_LIMIT]!, notional: at[o + OL_NOTIONAL]!, fee: at[o + OL_FEE]! }];
  // = resettle(sizeOneLeg(t, settlePerShare), valueAt), without the fill in between (oracle_lag: every priced side)
  if (valueAt !== undefined)
    return valuedAt(at[o + OL_SHARES]!, legs, bestCost, at[o + OL_FEE]!, bestProceeds, valueAt);
  return {
    shares: at[o + OL_SHARES]!,
    legs,
    cost: bestCost,
    fees: at[o + OL_FEE]!,
    proceeds: bestProceeds,
    capital: bestCapital,
    edge: prevEdge,
  };
}

const NO_F64 = new Float64Array(0);

/**
 * The same fill valued at another settlement per share: exactly evaluateBundle(legs, settlePerShare, f.shares)
 * for the legs `f` was sized on (the fills do not depend on the settlement), without walking the book again.
 */
export function resettle(f: BundleFill, settlePerShare: Price): BundleFill {
  return valuedAt(f.shares, f.legs, f.cost, f.fees, f.proceeds, settlePerShare);
}

/** A fill's figures with its edge and capital at `settlePerShare` (resettle's rule, for sizeOneLeg's `valueAt` too). */
function valuedAt(
  shares: Qty,
  legs: readonly LegFill[],
  cost: Money,
  fees: Money,
  proceeds: Money,
  settlePerShare: Price,
): BundleFill {
  const settle = mulDiv(settlePerShare, shares, MICRO, 'floor');
  const buy = cost - fees;
  return {
    shares,
    legs,
    cost,
    fees,
    proceeds,
    capital: cost + (settle < 0 ? -settle : 0),
    edge: proceeds - buy - fees + settle,
  };
}

let scratchLvl = new Int32Array(8);
let scratchBefore = new Float64Array(8);
let scratchNot = new Float64Array(8);
let scratchFee = new Float64Array(8);
/** The best boundary's leg limit, notional and fee (0..k), and the boundary being tried (k..2k). */
let scratchBestLimit = new Float64Array(16);
let scratchBestNot = new Float64Array(16);
let scratchBestFee = new Float64Array(16);
const scratchBounds: number[] = [];

/**
 * Sorts a short array of numbers ascending in place (insertion sort): Array.prototype.sort copied the array into a
 * work array on every call, and sizeBundle sorts the boundaries of every crossing pair on every book update.
 */
function sortNumbers(a: number[]): void {
  for (let i = 1; i < a.length; i++) {
    const x = a[i]!;
    let j = i - 1;
    while (j >= 0 && a[j]! > x) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = x;
  }
}

/** Edge in basis points of the capital committed (BundleFill.capital). */
export function edgeBps(edge: Money, capital: Money): number {
  if (capital <= 0) return 0;
  return Math.trunc((edge * 10_000) / capital);
}
