/** resettle(sizeBundle(...), v) is exactly evaluateBundle(legs, v, shares): the scanner relies on it for oracle_lag. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FeeSchedule } from '../../src/core/messages.ts';
import {
  evaluateBundle,
  type LegInput,
  prepareOneLeg,
  resettle,
  sizeBundle,
  sizeOneLeg,
} from '../../src/scanner/depth.ts';

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

describe('sizeOneLeg', () => {
  it('equals sizeBundle of the one leg for any book, lot, share cap and settlement', () => {
    const lotted = fc
      .tuple(leg, fc.constantFrom(undefined, 10_000, 1_000_000))
      .map(([l, lot]): LegInput => (lot === undefined ? l : { ...l, lot }));
    fc.assert(
      fc.property(
        lotted,
        fc.option(fc.integer({ min: 1, max: 600_000_000 }), { nil: undefined }),
        fc.array(fc.integer({ min: -1_000_000, max: 1_000_000 }), { minLength: 1, maxLength: 5 }),
        (l, cap, settles) => {
          // prepared once, sized at several settlements (as a book is at each tick)
          const prepared = prepareOneLeg(l, cap);
          for (const settle of settles)
            expect(sizeOneLeg(prepared, settle)).toEqual(sizeBundle([l], settle, cap));
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it('gives nothing for an empty side, as sizeBundle does', () => {
    const empty: LegInput = {
      venue: 'kalshi',
      marketId: 'm',
      tokenId: 't',
      side: 'buy',
      levels: [],
      fees: { kind: 'none' },
      minSize: 0,
    };
    expect(sizeOneLeg(prepareOneLeg(empty), 900_000)).toBeUndefined();
    expect(sizeBundle([empty], 900_000)).toBeUndefined();
  });
});
