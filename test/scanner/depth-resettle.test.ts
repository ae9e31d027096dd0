/** resettle(sizeBundle(...), v) is exactly evaluateBundle(legs, v, shares): the scanner relies on it for oracle_lag. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FeeSchedule } from '../../src/core/messages.ts';
import { evaluateBundle, type LegInput, resettle, sizeBundle } from '../../src/scanner/depth.ts';

const fees = fc.constantFrom<FeeSchedule>(
  { kind: 'none' },
  { kind: 'polymarket', rate: 40_000, exponent: 1, takerOnly: true, rebateRate: 0 },
  { kind: 'kalshi', takerCoeff: 70_000, makerCoeff: 0 },
);
const levels = (ascending: boolean) =>
  fc
    .uniqueArray(fc.integer({ min: 1, max: 99 }), { minLength: 1, maxLength: 6 })
    .chain((cents) =>
      fc.tuple(
        fc.constant(cents.sort((a, b) => (ascending ? a - b : b - a))),
        fc.array(fc.integer({ min: 1, max: 50_000 }), { minLength: cents.length, maxLength: cents.length }),
      ),
    )
    .map(([cents, sizes]) => cents.map((c, i) => [c * 10_000, sizes[i]! * 10_000] as [number, number]));
const leg = fc.tuple(fc.boolean(), fees).chain(([buy, f]) =>
  levels(buy).map(
    (lv): LegInput => ({
      venue: 'kalshi',
      marketId: 'm',
      tokenId: 't',
      side: buy ? 'buy' : 'sell',
      levels: lv,
      fees: f,
      minSize: 0,
    }),
  ),
);

describe('resettle', () => {
  it('equals evaluateBundle at the sized share count for any other settlement', () => {
    fc.assert(
      fc.property(
        fc.array(leg, { minLength: 1, maxLength: 3 }),
        fc.integer({ min: -1_000_000, max: 1_000_000 }),
        fc.integer({ min: -1_000_000, max: 1_000_000 }),
        (legs, settle, other) => {
          const sized = sizeBundle(legs, settle);
          if (!sized) return;
          expect(resettle(sized, settle)).toEqual(sized);
          expect(resettle(sized, other)).toEqual(evaluateBundle(legs, other, sized.shares));
        },
      ),
      { numRuns: 3_000 },
    );
  });
});
