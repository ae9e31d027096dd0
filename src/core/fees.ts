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

export const POLYMARKET_NO_FEES: FeeSchedule = {
  kind: 'polymarket',
  rate: 0,
  exponent: 1,
  takerOnly: true,
  rebateRate: 0,
};
export const KALSHI_STANDARD_FEES: FeeSchedule = { kind: 'kalshi', takerCoeff: 70_000, makerCoeff: 0 };
export const KALSHI_MAKER_FEES: FeeSchedule = { kind: 'kalshi', takerCoeff: 70_000, makerCoeff: 17_500 };
