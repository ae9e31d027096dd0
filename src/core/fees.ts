/**
 * Venue fee formulas, exact. Used by the scanner (edges net of fees) and the paper executor (fills), so both
 * always agree.
 *
 * Polymarket: fee = shares × rate × (p × (1 − p))^exponent, taker only where `takerOnly` (makers pay nothing),
 *   rounded to 5 decimals (10 micro-dollars), half up. `rate` comes from the market's feeSchedule.
 * Kalshi: fee = ceil(coeff × C × P × (1 − P)) to the next cent, taker coeff 0.07; maker coeff 0.0175 on markets
 *   that charge makers, else 0.
 */
import type { FeeSchedule } from './messages.ts';
import { CENT, MICRO, type Money, type Price, type Qty } from './money.ts';

const M = BigInt(MICRO);

export type Liquidity = 'taker' | 'maker';

function ceilDiv(n: bigint, d: bigint): bigint {
  return n <= 0n ? -(-n / d) : (n + d - 1n) / d;
}

/** Fee in micro-dollars for trading `shares` at `price` under `schedule`. */
export function tradeFee(
  schedule: FeeSchedule,
  price: Price,
  shares: Qty,
  liquidity: Liquidity = 'taker',
): Money {
  if (shares <= 0) return 0;
  // The scanner prices the same book levels again on every tick, so this is hot. A small direct-mapped memo
  // (exact key: the schedule object, price, shares, liquidity) answers repeats; otherwise exact integer math on
  // plain numbers when every intermediate stays below 2^52 (after cancelling powers of ten), else BigInt.
  const taker = liquidity === 'taker' ? 1 : 2;
  const h = (Math.imul(price ^ shares ^ ((shares / 4294967296) | 0), 0x9e3779b1) ^ taker) >>> MEMO_SHIFT;
  if (memoSched[h] === schedule && memoPrice[h] === price && memoQty[h] === shares && memoLiq[h] === taker) {
    return memoFee[h]!;
  }
  let f = -1;
  if (price >= 0 && price <= MICRO && Number.isSafeInteger(price) && Number.isSafeInteger(shares)) {
    f = tradeFeeFast(schedule, price, shares, liquidity);
  }
  if (f < 0) f = tradeFeeBig(schedule, price, shares, liquidity);
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
): Money {
  if (shares <= 0) return 0;
  switch (schedule.kind) {
    case 'none':
      return 0;
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
      if (coeff === 0) return 0;
      const p = BigInt(price);
      // coeff × C × P × (1 − P): four micro factors → micro-dollars after dividing by MICRO^3
      const num = BigInt(coeff) * BigInt(shares) * p * (M - p);
      const centDen = M * M * M * BigInt(CENT);
      return Number(ceilDiv(num, centDen)) * CENT;
    }
  }
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
): number {
  switch (schedule.kind) {
    case 'none':
      return 0;
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
      if (coeff === 0) return 0;
      if (coeff < 0 || !Number.isSafeInteger(coeff)) return -1;
      if (price === 0 || price === MICRO) return 0;
      exp10 = 0;
      let n = strip10(shares);
      const c = strip10(coeff);
      if (n > LIMIT / c) return -1;
      n *= c;
      const ab = strip10(price) * strip10(MICRO - price);
      if (n > LIMIT / ab) return -1;
      n *= ab;
      // cents = ceil(n × 10^exp10 / 10^22)
      const k = 22 - exp10;
      let cents: number;
      if (k <= 0) cents = n * 10 ** -k;
      else if (k > 15)
        cents = 1; // 0 < n < 2^52 < 10^k
      else {
        cents = divPow10(n, k);
        if (rem > 0) cents++;
      }
      return cents * CENT <= Number.MAX_SAFE_INTEGER ? cents * CENT : -1;
    }
  }
}

export const POLYMARKET_NO_FEES: FeeSchedule = {
  kind: 'polymarket',
  rate: 0,
  exponent: 1,
  takerOnly: true,
  rebateRate: 0,
};
export const KALSHI_STANDARD_FEES: FeeSchedule = { kind: 'kalshi', takerCoeff: 70_000, makerCoeff: 0 };
export const KALSHI_MAKER_FEES: FeeSchedule = { kind: 'kalshi', takerCoeff: 70_000, makerCoeff: 17_500 };
