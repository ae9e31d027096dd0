/** The browser's money formatting (public/format.js): exact from decimal strings, one format everywhere. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toDecimal } from '../../src/core/money.ts';
import { decimal, duration, fee, pct, roundDecimal, usd } from '../../src/dashboard/public/format.js';

/** Reference: micro-dollars rounded half away from zero to cents with BigInt, then "$1,234.56". */
function reference(micro: number, decimals: number): string {
  const unit = 10n ** BigInt(6 - decimals);
  const neg = micro < 0;
  const abs = BigInt(Math.abs(micro));
  const q = (abs + unit / 2n) / unit;
  const s = q.toString().padStart(decimals + 1, '0');
  const int = s.slice(0, s.length - decimals);
  const frac = s.slice(s.length - decimals);
  const zero = q === 0n;
  return `${neg && !zero ? '-' : ''}$${int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${decimals > 0 ? `.${frac}` : ''}`;
}

describe('format.js', () => {
  it('money: sign before the dollar, thousands grouped, cents rounded half away from zero', () => {
    expect(usd('1234.5678')).toBe('$1,234.57');
    expect(usd('-1.8561')).toBe('-$1.86');
    expect(usd('0.005')).toBe('$0.01');
    expect(usd('-0.004')).toBe('$0.00');
    expect(usd('999.995')).toBe('$1,000.00');
    expect(usd('20.5', { signed: true })).toBe('+$20.50');
    expect(usd('0', { signed: true })).toBe('$0.00');
    expect(usd('1234567', { decimals: 0 })).toBe('$1,234,567');
    expect(usd(null)).toBe('—');
    expect(fee('0.012345')).toBe('$0.0123');
    expect(fee('1.26')).toBe('$1.2600');
  });

  it('matches an exact integer reference for any amount (never a float on the way)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
        fc.constantFrom(0, 2, 4),
        (m, d) => {
          expect(usd(toDecimal(m), { decimals: d })).toBe(reference(m, d));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('decimals, percentages from basis points and durations', () => {
    expect(decimal('1234.500000')).toBe('1,234.5');
    expect(decimal('0.4512')).toBe('0.4512');
    expect(decimal('2', 2)).toBe('2');
    expect(roundDecimal('abc', 2)).toBeNull();
    expect(pct(1404)).toBe('14.04%');
    expect(pct(-5)).toBe('-0.05%');
    expect(duration(850)).toBe('850 ms');
    expect(duration(7_200_000)).toBe('2 h 0 min');
    expect(duration(90_000_000)).toBe('1 d 1 h');
  });
});
