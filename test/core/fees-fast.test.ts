/**
 * tradeFee takes a plain-number fast path when its products fit below 2^52; tradeFeeBig is the BigInt reference.
 * Both must agree exactly on every input, including the sizes where the fast path gives up.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tradeFee, tradeFeeBig, tradeFeeFast } from '../../src/core/fees.ts';
import type { FeeSchedule } from '../../src/core/messages.ts';
import { KALSHI_MAKER_FEES, KALSHI_STANDARD_FEES } from '../../src/venues/kalshi/fees.ts';

/** Micro amounts with many trailing zeros (as on the wire) as well as arbitrary ones. */
const micro = (max: number) =>
  fc.oneof(
    fc.integer({ min: 0, max }),
    fc
      .tuple(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 8 }))
      .map(([m, e]) => Math.min(max, m * 10 ** e)),
  );
const price = fc.oneof(
  fc.integer({ min: 0, max: 1_000_000 }),
  fc.integer({ min: 0, max: 100 }).map((c) => c * 10_000),
  fc.integer({ min: 0, max: 1_000 }).map((c) => c * 1_000),
);
const shares = fc.oneof(micro(Number.MAX_SAFE_INTEGER), micro(1e12), fc.integer({ min: -5, max: 5 }));
const schedule: fc.Arbitrary<FeeSchedule> = fc.oneof(
  fc.record({
    kind: fc.constant('polymarket' as const),
    rate: micro(1_000_000),
    exponent: fc.integer({ min: 0, max: 3 }),
    takerOnly: fc.boolean(),
    rebateRate: fc.constant(0),
  }),
  fc.record({
    kind: fc.constant('kalshi' as const),
    takerCoeff: micro(1_000_000),
    makerCoeff: micro(1_000_000),
  }),
  fc.constant(KALSHI_STANDARD_FEES),
  fc.constant(KALSHI_MAKER_FEES),
  fc.constant({ kind: 'none' as const }),
);
const liquidity = fc.constantFrom('taker' as const, 'maker' as const);

describe('tradeFee fast path', () => {
  it('equals the BigInt formulas on every input', () => {
    fc.assert(
      fc.property(schedule, price, shares, liquidity, (s, p, n, l) => {
        const big = tradeFeeBig(s, p, n, l);
        expect(tradeFee(s, p, n, l)).toBe(big);
        // a second call may be answered by the memo: still the same
        expect(tradeFee(s, p, n, l)).toBe(big);
        // the plain-number path on its own, where it applies (sizes > 0)
        if (n > 0) {
          const fast = tradeFeeFast(s, p, n, l);
          if (fast >= 0) expect(fast).toBe(big);
        }
      }),
      { numRuns: 20_000 },
    );
  });

  it('takes the plain-number path for the sizes books carry', () => {
    const pm: FeeSchedule = { kind: 'polymarket', rate: 70_000, exponent: 1, takerOnly: true, rebateRate: 0 };
    for (const [p, n] of [
      [940_000, 47_640_000],
      [941_200, 678_440_000],
      [500_000, 10_000_000_000],
    ] as const) {
      expect(tradeFeeFast(pm, p, n, 'taker')).toBe(tradeFeeBig(pm, p, n));
      expect(tradeFeeFast(KALSHI_STANDARD_FEES, p, n, 'taker')).toBe(tradeFeeBig(KALSHI_STANDARD_FEES, p, n));
    }
  });

  it('equals the BigInt formulas at the edges: rounding boundaries, huge sizes, prices 0 and 1', () => {
    const pm: FeeSchedule = { kind: 'polymarket', rate: 70_000, exponent: 1, takerOnly: true, rebateRate: 0 };
    const cases: [number, number][] = [];
    for (const p of [0, 1, 9_999, 10_000, 500_000, 999_999, 1_000_000])
      for (const n of [1, 7, 1_000_000, 123_456_789, 2 ** 52, Number.MAX_SAFE_INTEGER]) cases.push([p, n]);
    for (const [p, n] of cases) {
      expect(tradeFee(pm, p, n)).toBe(tradeFeeBig(pm, p, n));
      expect(tradeFee(KALSHI_STANDARD_FEES, p, n)).toBe(tradeFeeBig(KALSHI_STANDARD_FEES, p, n));
      expect(tradeFee(KALSHI_MAKER_FEES, p, n, 'maker')).toBe(tradeFeeBig(KALSHI_MAKER_FEES, p, n, 'maker'));
    }
    // exactly half a 10-micro step rounds up: 1 share × rate 0.00002 × 0.25 = 0.000005 → 0.00001
    const tie: FeeSchedule = { kind: 'polymarket', rate: 20, exponent: 1, takerOnly: true, rebateRate: 0 };
    expect(tradeFee(tie, 500_000, 1_000_000)).toBe(tradeFeeBig(tie, 500_000, 1_000_000));
    expect(tradeFee(tie, 500_000, 1_000_000)).toBe(10);
  });
});
