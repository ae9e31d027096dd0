/**
 * Kalshi fees exactly as the venue documents them (docs/settlement.md): the published table (1¢…99¢ × 1 and 100
 * contracts, takers and makers), the index series at half the multiplier, fee-free series, and the fee rounding
 * of subpenny and fractional fills with the per-order accumulator.
 */
import { describe, expect, it } from 'vitest';
import { orderFees, tradeFee } from '../../src/core/fees.ts';
import type { FeeSchedule } from '../../src/core/messages.ts';
import { KALSHI_MAKER_FEES, KALSHI_STANDARD_FEES, seriesFees } from '../../src/venues/kalshi/fees.ts';

const CENT = 10_000;
const C = (n: number): number => n * 1_000_000;

/** The reference: ceil(coeff‰ × C × p × (100 − p) / 100,000) cents, in integers (p in cents, coeff in 0.01%). */
const refCents = (coeffBp: number, contracts: number, p: number): number =>
  Math.ceil((coeffBp * contracts * p * (100 - p)) / 1_000_000);

describe('Kalshi published fee table', () => {
  it('takers, 1 and 100 contracts, every cent price', () => {
    for (let p = 1; p <= 99; p++) {
      for (const n of [1, 100]) {
        expect(tradeFee(KALSHI_STANDARD_FEES, p * CENT, C(n), 'taker')).toBe(refCents(700, n, p) * CENT);
      }
    }
  });

  it('makers on series that charge them, 1 and 100 contracts, every cent price', () => {
    for (let p = 1; p <= 99; p++) {
      for (const n of [1, 100]) {
        expect(tradeFee(KALSHI_MAKER_FEES, p * CENT, C(n), 'maker')).toBe(refCents(175, n, p) * CENT);
      }
    }
    // makers pay nothing on the standard schedule
    expect(tradeFee(KALSHI_STANDARD_FEES, 50 * CENT, C(100), 'maker')).toBe(0);
  });

  it('matches the spot values of the published table', () => {
    const t = (p: number, n: number) => tradeFee(KALSHI_STANDARD_FEES, p * CENT, C(n), 'taker') / CENT;
    const m = (p: number, n: number) => tradeFee(KALSHI_MAKER_FEES, p * CENT, C(n), 'maker') / CENT;
    expect([t(5, 1), t(5, 100), t(25, 100), t(50, 1), t(50, 100), t(90, 100)]).toEqual([
      1, 34, 132, 2, 175, 63,
    ]);
    expect([m(5, 100), m(10, 100), m(25, 100), m(50, 100)]).toEqual([9, 16, 33, 44]);
  });

  it('index series pay half (0.035), fee-free series nothing', () => {
    const half = seriesFees({ ticker: 'KXINXU', fee_type: 'quadratic', fee_multiplier: 0.5 }) as FeeSchedule;
    expect(half).toEqual({ kind: 'kalshi', takerCoeff: 35_000, makerCoeff: 0 });
    // 0.035 × 100 × 0.25 = 0.875 → 0.88
    expect(tradeFee(half, 50 * CENT, C(100))).toBe(88 * CENT);
    const free = seriesFees({ ticker: 'KXFREE', fee_type: 'quadratic', fee_multiplier: 0 }) as FeeSchedule;
    expect(tradeFee(free, 50 * CENT, C(100))).toBe(0);
    expect(seriesFees({ ticker: 'KXFED', fee_type: 'quadratic_with_maker_fees', fee_multiplier: 1 })).toEqual(
      KALSHI_MAKER_FEES,
    );
    // a fraction written as text, as some copies show it
    expect(seriesFees({ ticker: 'X', fee_type: 'quadratic', fee_multiplier: '1/2' })).toEqual(half);
    // a type without a formula we could verify stays unknown: a reason, never a guess
    expect(typeof seriesFees({ ticker: 'KXFLAT', fee_type: 'flat', fee_multiplier: 1 })).toBe('string');
  });
});

describe('Kalshi fee rounding', () => {
  it('a subpenny fill: trade fee up to $0.0001, balance floored to the cent', () => {
    // buy 3 at $0.055: revenue −0.165, fee 0.07×3×0.055×0.945 = 0.01091… → 0.0110; −0.1760 → −0.18: net 0.015
    expect(tradeFee(KALSHI_STANDARD_FEES, 55_000, C(3), 'taker', 'buy')).toBe(15_000);
    // sell 3 at $0.055: +0.165 − 0.0110 = 0.1540 → 0.15: net 0.015
    expect(tradeFee(KALSHI_STANDARD_FEES, 55_000, C(3), 'taker', 'sell')).toBe(15_000);
    // a fractional count at a cent price: buy 2.5 at $0.50 → fee 0.04375 → 0.0438; 1.25 + 0.0438 → 1.30
    expect(tradeFee(KALSHI_STANDARD_FEES, 500_000, 2_500_000, 'taker', 'buy')).toBe(50_000);
  });

  it('the accumulator of one order refunds whole cents of rounding, so many fills cost about one', () => {
    const threes = Array.from({ length: 3 }, () => ({
      price: 55_000,
      shares: C(3),
      liquidity: 'taker' as const,
    }));
    const fees = orderFees(KALSHI_STANDARD_FEES, 'buy', threes);
    // each 3-lot at $0.055 pays 0.0110 + 0.0040 rounding = 0.015; after the third the rounding (0.012) exceeds
    // a cent: one is refunded
    expect(fees).toEqual([15_000, 15_000, 5_000]);
    // … which is exactly one fill of 9: 0.495 + 0.0328 → 0.53: 0.035
    expect(fees.reduce((a, b) => a + b, 0)).toBe(
      tradeFee(KALSHI_STANDARD_FEES, 55_000, C(9), 'taker', 'buy'),
    );
    // a fill's net fee never goes negative: 1-lots (0.005 each) cannot carry a cent's refund
    const ones = Array.from({ length: 8 }, () => ({
      price: 55_000,
      shares: C(1),
      liquidity: 'taker' as const,
    }));
    expect(orderFees(KALSHI_STANDARD_FEES, 'buy', ones).every((f) => f === 5_000)).toBe(true);
  });

  it('an unknown schedule is charged its bound', () => {
    const unknown: FeeSchedule = {
      kind: 'unknown',
      reason: 'series not loaded',
      bound: { kind: 'kalshi', takerCoeff: 70_000, makerCoeff: 17_500 },
    };
    expect(tradeFee(unknown, 50 * CENT, C(100), 'maker')).toBe(44 * CENT);
  });
});
