/**
 * Venue fee formulas, exact. Used by the scanner (edges net of fees) and the paper executor (fills), so both
 * always agree.
 *
 * Polymarket: fee = shares × rate × (p × (1 − p))^exponent, taker only where `takerOnly` (makers pay nothing),
 *   rounded to 5 decimals (10 micro-dollars), half up. `rate` comes from the market's feeSchedule.
 * Kalshi (docs.kalshi.com "Fee Rounding"; docs/settlement.md): per fill, trade fee = coeff × C × P × (1 − P)
 *   rounded UP to $0.0001; the balance change (revenue − trade fee) is then floored to the member's balance
 *   precision ($0.01 for non-direct members, the case modelled here), the difference being a rounding fee. So a
 *   buy of C at P pays ceil¢(C·P + fee) − C·P and a sell pays C·P − floor¢(C·P − fee): for whole contracts at a
 *   cent price that is the trade fee rounded up to the cent. Across the fills of ONE order, an accumulator
 *   collects the rounding fees and refunds a whole cent each time it exceeds $0.01 (`orderFees`). The coefficients
 *   (taker, maker) come per series from the venue's parser, never from here.
 * Unknown: a market whose schedule is not known yet is charged its `bound` (the venue's highest documented).
 *
 * This module holds the formulas only; every rate comes on the market's FeeSchedule from its venue's parser.
 */
import type { FeeSchedule, Side } from './messages.ts';
import { CENT, MICRO, type Money, type Price, type Qty } from './money.ts';

const M = BigInt(MICRO);

export type Liquidity = 'taker' | 'maker';

/** The member balance precision Kalshi rounds to for non-direct members: one cent. */
const KALSHI_BALANCE_STEP = CENT;
/** Kalshi rounds a trade fee up to $0.0001. */
const KALSHI_FEE_STEP = 100;

function ceilDiv(n: bigint, d: bigint): bigint {
  return n <= 0n ? -(-n / d) : (n + d - 1n) / d;
}

/** Fee in micro-dollars for trading `shares` at `price` under `schedule`. */
export function tradeFee(
  schedule: FeeSchedule,
  price: Price,
  shares: Qty,
  liquidity: Liquidity = 'taker',
  side: Side = 'buy',
): Money {
  if (shares <= 0) return 0;
  if (schedule.kind === 'unknown') return tradeFee(schedule.bound, price, shares, liquidity, side);
  // The scanner prices the same book levels again on every tick, so this is hot. A small direct-mapped memo
  // (exact key: the schedule object, price, shares, liquidity) answers repeats; otherwise exact integer math on
  // plain numbers when every intermediate stays below 2^52 (after cancelling powers of ten), else BigInt.
  const taker = (liquidity === 'taker' ? 1 : 2) + (side === 'buy' ? 0 : 4);
  const h = (Math.imul(price ^ shares ^ ((shares / 4294967296) | 0), 0x9e3779b1) ^ taker) >>> MEMO_SHIFT;
  if (memoSched[h] === schedule && memoPrice[h] === price && memoQty[h] === shares && memoLiq[h] === taker) {
    return memoFee[h]!;
  }
  let f = -1;
  if (price >= 0 && price <= MICRO && Number.isSafeInteger(price) && Number.isSafeInteger(shares)) {
    f = tradeFeeFast(schedule, price, shares, liquidity, side);
  }
  if (f < 0) f = tradeFeeBig(schedule, price, shares, liquidity, side);
  memoSched[h] = schedule;
  memoPrice[h] = price;
  memoQty[h] = shares;
  memoLiq[h] = taker;
  memoFee[h] = f;
  return f;
}

const MEMO_BITS = 12;
const MEMO_SHIFT = 32 - MEMO_BITS;
const memoSched: (FeeSchedule | undefined)[] = new Array(1 << MEMO_BITS).fill(undefined);
const memoPrice = new Float64Array(1 << MEMO_BITS).fill(-1);
const memoQty = new Float64Array(1 << MEMO_BITS);
const memoLiq = new Uint8Array(1 << MEMO_BITS);
const memoFee = new Float64Array(1 << MEMO_BITS);

/** The reference: the same formulas in BigInt, exact for any size (tradeFee falls back to it). */
export function tradeFeeBig(
  schedule: FeeSchedule,
  price: Price,
  shares: Qty,
  liquidity: Liquidity = 'taker',
  side: Side = 'buy',
): Money {
  if (shares <= 0) return 0;
  switch (schedule.kind) {
    case 'none':
      return 0;
    case 'unknown':
      return tradeFeeBig(schedule.bound, price, shares, liquidity, side);
    case 'polymarket': {
      if (liquidity === 'maker' && schedule.takerOnly) return 0;
      if (schedule.rate === 0) return 0;
      const p = BigInt(price);
      const q = M - p;
      // shares × rate × (p(1−p))^e with every factor in micro-units → divide by MICRO^(2 + 2e)
      let num = BigInt(shares) * BigInt(schedule.rate);
      let den = M * M; // shares, rate → micro-dollars need one MICRO left
      for (let i = 0; i < schedule.exponent; i++) {
        num *= p * q;
        den *= M * M;
      }
      // micro-dollars = num / den × MICRO; round to 10 micro (5 decimals), half up
      const step = 10n;
      const scaledDen = den * step;
      const micros10 = (num * M * 2n + scaledDen) / (2n * scaledDen);
      return Number(micros10 * step);
    }
    case 'kalshi': {
      const coeff = liquidity === 'taker' ? schedule.takerCoeff : schedule.makerCoeff;
      const p = BigInt(price);
      // coeff × C × P × (1 − P): four micro factors → micro-dollars after dividing by MICRO^3, up to $0.0001
      const num = BigInt(coeff) * BigInt(shares) * p * (M - p);
      const stepDen = M * M * M * BigInt(KALSHI_FEE_STEP);
      const fee = Number(ceilDiv(num, stepDen)) * KALSHI_FEE_STEP;
      return kalshiNet(fee, price, shares, side);
    }
  }
}

/** Floor of n / d toward −∞ (d > 0). */
const floorDiv = (n: number, d: number): number => Math.floor(n / d);

/**
 * Kalshi's rounding fee for one fill (fresh accumulator): the balance change revenue − fee floored to the
 * balance step; returns trade fee + rounding fee. Revenue is the fill's notional, exact in micro-dollars.
 */
function kalshiNet(fee: Money, price: Price, shares: Qty, side: Side): Money {
  // cent prices × whole contracts (the common case): the revenue is cent-aligned, the fee rounds up to the cent
  if (price % KALSHI_BALANCE_STEP === 0 && shares % MICRO === 0) {
    return Math.ceil(fee / KALSHI_BALANCE_STEP) * KALSHI_BALANCE_STEP;
  }
  const notional = kalshiNotional(price, shares);
  if (side === 'buy') {
    const paid = notional + fee;
    return -floorDiv(-paid, KALSHI_BALANCE_STEP) * KALSHI_BALANCE_STEP - notional;
  }
  const got = notional - fee;
  return notional - floorDiv(got, KALSHI_BALANCE_STEP) * KALSHI_BALANCE_STEP;
}

/** C × P in micro-dollars (exact for Kalshi's 4-decimal prices and 2-decimal counts; else rounded half up). */
function kalshiNotional(price: Price, shares: Qty): Money {
  const n = price * shares;
  if (Number.isSafeInteger(n)) {
    const q = Math.floor(n / MICRO);
    const r = n - q * MICRO;
    return 2 * r >= MICRO ? q + 1 : q;
  }
  return Number((BigInt(price) * BigInt(shares) * 2n + M) / (2n * M));
}

export interface OrderFill {
  readonly price: Price;
  readonly shares: Qty;
  readonly liquidity: Liquidity;
}

/**
 * The fees of the fills of ONE order, in order. Polymarket: each fill's fee. Kalshi: each fill pays its trade
 * fee plus its rounding fee, and the order's accumulator refunds a whole cent whenever the rounding fees paid
 * so far exceed a cent (docs.kalshi.com "Fee Rounding": the accumulator spans taker and maker fills of the
 * order), so many small fills cost about what one equivalent fill would. "Exceeds" is read strictly and a
 * fill's net fee stays ≥ 0, both as documented; where the page is silent we err toward the higher fee.
 */
export function orderFees(schedule: FeeSchedule, side: Side, fills: readonly OrderFill[]): Money[] {
  const s = schedule.kind === 'unknown' ? schedule.bound : schedule;
  if (s.kind !== 'kalshi') return fills.map((f) => tradeFee(s, f.price, f.shares, f.liquidity, side));
  let acc = 0;
  return fills.map((f) => {
    if (f.shares <= 0) return 0;
    const coeff = f.liquidity === 'taker' ? s.takerCoeff : s.makerCoeff;
    const p = BigInt(f.price);
    const num = BigInt(coeff) * BigInt(f.shares) * p * (M - p);
    const trade = Number(ceilDiv(num, M * M * M * BigInt(KALSHI_FEE_STEP))) * KALSHI_FEE_STEP;
    const net = kalshiNet(trade, f.price, f.shares, side);
    acc += net - trade;
    // a fill's net fee never goes below zero (docs: "always >= $0.00"): a cent is refunded only from a fill
    // that paid at least one; the rest of the accumulator waits for a later fill of the order
    let rebate = 0;
    while (acc > KALSHI_BALANCE_STEP && rebate + KALSHI_BALANCE_STEP <= net) {
      acc -= KALSHI_BALANCE_STEP;
      rebate += KALSHI_BALANCE_STEP;
    }
    return net - rebate;
  });
}

// ---------------------------------------------------------------- fast path
// Every divisor above is a power of ten (MICRO^k × 10, MICRO^3 × CENT), so the factors' trailing zeros cancel
// against it; what is left is multiplied while it stays below 2^52 and divided exactly (quotient corrected by
// its remainder). Returns −1 when a product would not fit: the caller then uses the BigInt formulas.

const LIMIT = 2 ** 52;
/** powers of ten stripped by strip10 since the last reset (a scratch register: no allocation per call) */
let exp10 = 0;
const strip10 = (x: number): number => {
  while (x !== 0 && x % 10 === 0) {
    x /= 10;
    exp10++;
  }
  return x;
};
let rem = 0;
/** floor(n / 10^k) for 0 ≤ n < 2^52, 1 ≤ k ≤ 15, remainder in `rem`. */
const divPow10 = (n: number, k: number): number => {
  const d = 10 ** k;
  let q = Math.floor(n / d);
  let r = n - q * d;
  if (r < 0) {
    q--;
    r += d;
  } else if (r >= d) {
    q++;
    r -= d;
  }
  rem = r;
  return q;
};

/** The plain-number path alone (exported for its property test): −1 when the products do not fit. */
export function tradeFeeFast(
  schedule: FeeSchedule,
  price: number,
  shares: number,
  liquidity: Liquidity,
  side: Side = 'buy',
): number {
  switch (schedule.kind) {
    case 'none':
      return 0;
    case 'unknown':
      return -1;
    case 'polymarket': {
      if (liquidity === 'maker' && schedule.takerOnly) return 0;
      const rate = schedule.rate;
      if (rate === 0) return 0;
      const e = schedule.exponent;
      if (rate < 0 || !Number.isSafeInteger(rate) || e < 0 || !Number.isInteger(e)) return -1;
      exp10 = 0;
      let n = strip10(shares);
      const r = strip10(rate);
      if (n > LIMIT / r) return -1;
      n *= r;
      if (e > 0) {
        if (price === 0 || price === MICRO) return 0;
        const e0 = exp10;
        const a = strip10(price);
        const b = strip10(MICRO - price);
        const ab = a * b; // < 10^12
        exp10 += (exp10 - e0) * (e - 1);
        for (let i = 0; i < e; i++) {
          if (n > LIMIT / ab) return -1;
          n *= ab;
        }
      }
      // micros10 = round half up (n × 10^exp10 / 10^(6(1 + 2e) + 1))
      const k = 6 * (1 + 2 * e) + 1 - exp10;
      let q: number;
      if (k <= 0) q = n * 10 ** -k;
      else if (k > 15) q = 2 * n >= 10 ** k ? 1 : 0;
      else {
        q = divPow10(n, k);
        if (2 * rem >= 10 ** k) q++;
      }
      return q * 10 <= Number.MAX_SAFE_INTEGER ? q * 10 : -1;
    }
    case 'kalshi': {
      const coeff = liquidity === 'taker' ? schedule.takerCoeff : schedule.makerCoeff;
      if (coeff === 0 || price === 0 || price === MICRO) return kalshiNet(0, price, shares, side);
      if (coeff < 0 || !Number.isSafeInteger(coeff)) return -1;
      exp10 = 0;
      let n = strip10(shares);
      const c = strip10(coeff);
      if (n > LIMIT / c) return -1;
      n *= c;
      const ab = strip10(price) * strip10(MICRO - price);
      if (n > LIMIT / ab) return -1;
      n *= ab;
      // the trade fee before the balance rounding, in $0.0001 steps: ceil(n × 10^exp10 / 10^20)
      const k = 20 - exp10;
      let steps: number;
      if (k <= 0) steps = n * 10 ** -k;
      else if (k > 15)
        steps = 1; // 0 < n < 2^52 < 10^k
      else {
        steps = divPow10(n, k);
        if (rem > 0) steps++;
      }
      return steps * KALSHI_FEE_STEP <= Number.MAX_SAFE_INTEGER
        ? kalshiNet(steps * KALSHI_FEE_STEP, price, shares, side)
        : -1;
    }
  }
}
