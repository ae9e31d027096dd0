/**
 * parseFixed's digit-by-digit path for plain decimals gives what its general path gives: a leading space sends
 * the same text down the general path (it trims), so both are compared on random decimals of every shape.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFixed } from '../../src/core/money.ts';

const outcome = (f: () => number): number | string => {
  try {
    return f();
  } catch (e) {
    return (e as Error).message.replace(/^" /, '"');
  }
};

describe('parseFixed fast path', () => {
  it('equals the general path on plain decimals, in range or not', () => {
    const decimal = fc
      .tuple(fc.stringMatching(/^\d{0,17}$/), fc.option(fc.stringMatching(/^\d{0,10}$/), { nil: undefined }))
      .map(([i, f]) => (f === undefined ? i : `${i}.${f}`));
    fc.assert(
      fc.property(decimal, fc.integer({ min: 0, max: 9 }), (s, scale) => {
        for (const r of ['exact', 'round', 'floor'] as const) {
          const fast = outcome(() => parseFixed(s, scale, r));
          const general = outcome(() => parseFixed(` ${s}`, scale, r));
          expect(typeof fast === 'string' ? fast.replace(`" ${s}"`, `"${s}"`) : fast).toEqual(
            typeof general === 'string' ? general.replace(`" ${s}"`, `"${s}"`) : general,
          );
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a JSON number as its shortest decimal text (oracle prices), fast path or not', () => {
    const num = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }),
      fc.integer({ min: 0, max: 10_000_000 }).map((c) => c / 100), // prices with cents, as the feeds send them
    );
    fc.assert(
      fc.property(num, fc.integer({ min: 0, max: 9 }), (n, scale) => {
        for (const r of ['exact', 'round', 'floor'] as const) {
          const text = String(n);
          const fast = outcome(() => parseFixed(n, scale, r));
          // the general path on the same text (a leading space skips the fast path); exponents have no such text
          if (text.includes('e')) continue;
          const general = outcome(() => parseFixed(` ${text}`, scale, r));
          expect(typeof fast).toBe(typeof general);
          if (typeof fast === 'number') expect(fast).toBe(general);
        }
      }),
      { numRuns: 2000 },
    );
    expect(parseFixed(99028.74, 8, 'round')).toBe(9_902_874_000_000);
    expect(parseFixed(0.089912345678, 8, 'round')).toBe(8_991_235);
  });

  it('reads the frames’ usual prices and sizes', () => {
    expect(parseFixed('0.9400', 6)).toBe(940_000);
    expect(parseFixed('148', 6)).toBe(148_000_000);
    expect(parseFixed('1195.25', 6)).toBe(1_195_250_000);
    expect(parseFixed('0.5', 2)).toBe(50);
    expect(parseFixed('7', 0)).toBe(7);
    expect(() => parseFixed('0.1234567', 6)).toThrow(/more than 6 decimals/);
  });
});
