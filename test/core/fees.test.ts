import { describe, expect, it } from 'vitest';
import { tradeFee } from '../../src/core/fees.ts';
import type { FeeSchedule } from '../../src/core/messages.ts';
import { KALSHI_MAKER_FEES, KALSHI_STANDARD_FEES } from '../../src/venues/kalshi/fees.ts';

const pm = (rate: number): FeeSchedule => ({
  kind: 'polymarket',
  rate,
  exponent: 1,
  takerOnly: true,
  rebateRate: 250_000,
});

describe('fees', () => {
  it('Polymarket: shares × rate × p × (1 − p), taker only, 5 decimals', () => {
    // 100 shares at 0.50, rate 0.07: 100 × 0.07 × 0.25 = 1.75
    expect(tradeFee(pm(70_000), 500_000, 100_000_000)).toBe(1_750_000);
    // 10 shares at 0.30, rate 0.03: 10 × 0.03 × 0.21 = 0.063
    expect(tradeFee(pm(30_000), 300_000, 10_000_000)).toBe(63_000);
    // 1 share at 0.97, rate 0.04: 0.04 × 0.97 × 0.03 = 0.001164 → 0.00116 (5 dp)
    expect(tradeFee(pm(40_000), 970_000, 1_000_000)).toBe(1_160);
    expect(tradeFee(pm(70_000), 500_000, 100_000_000, 'maker')).toBe(0);
    expect(tradeFee(pm(0), 500_000, 100_000_000)).toBe(0);
  });

  it('Kalshi: ceil(0.07 × C × P × (1 − P)) to the cent', () => {
    // 100 contracts at 0.50: 0.07 × 100 × 0.25 = 1.75 exactly
    expect(tradeFee(KALSHI_STANDARD_FEES, 500_000, 100_000_000)).toBe(1_750_000);
    // 1 contract at 0.50: 0.0175 → 0.02
    expect(tradeFee(KALSHI_STANDARD_FEES, 500_000, 1_000_000)).toBe(20_000);
    // 10 contracts at 0.12: 0.07 × 10 × 0.12 × 0.88 = 0.07392 → 0.08
    expect(tradeFee(KALSHI_STANDARD_FEES, 120_000, 10_000_000)).toBe(80_000);
    expect(tradeFee(KALSHI_STANDARD_FEES, 500_000, 100_000_000, 'maker')).toBe(0);
    // maker 0.0175 × 100 × 0.25 = 0.4375 → 0.44
    expect(tradeFee(KALSHI_MAKER_FEES, 500_000, 100_000_000, 'maker')).toBe(440_000);
  });
});
