import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatFixed,
  formatUsd,
  formatUsdChange,
  mulDiv,
  notional,
  parseE8,
  parseMicro,
  toDecimal,
} from '../../src/core/money.ts';

describe('money', () => {
  it('parses decimal strings exactly', () => {
    expect(parseMicro('0.4512')).toBe(451_200);
    expect(parseMicro('1967.33')).toBe(1_967_330_000);
    expect(parseMicro('-0.01')).toBe(-10_000);
    expect(parseMicro('.5')).toBe(500_000);
    expect(parseMicro(0.07)).toBe(70_000);
    expect(parseE8('97000.12345678')).toBe(9_700_012_345_678);
    expect(() => parseMicro('0.1234567')).toThrow(/more than 6 decimals/);
    expect(parseMicro('0.1234567', 'round')).toBe(123_457);
    expect(() => parseMicro('abc')).toThrow(/not a decimal/);
    expect(() => parseMicro('')).toThrow();
  });

  it('formats without floats', () => {
    expect(formatFixed(451_200, 6)).toBe('0.451200');
    expect(toDecimal(451_200)).toBe('0.4512');
    expect(toDecimal(-10_000)).toBe('-0.01');
    expect(toDecimal(5_000_000)).toBe('5');
  });

  it('mulDiv rounds as asked, also past 2^53', () => {
    expect(mulDiv(7, 1, 2, 'floor')).toBe(3);
    expect(mulDiv(7, 1, 2, 'ceil')).toBe(4);
    expect(mulDiv(7, 1, 2, 'round')).toBe(4);
    expect(mulDiv(-7, 1, 2, 'floor')).toBe(-4);
    expect(mulDiv(-7, 1, 2, 'trunc')).toBe(-3);
    // 450_000 micro-dollars × 10^9 shares (10^15 micro-shares) overflows a double's exact range
    expect(notional(450_000, 1_000_000_000_000_000)).toBe(450_000_000_000_000);
    expect(mulDiv(2 ** 52 + 1, 3, 2, 'floor')).toBe(Number((BigInt(2 ** 52 + 1) * 3n) / 2n));
  });

  it('mulDiv equals BigInt arithmetic (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1e12, max: 1e12 }),
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 1, max: 1e7 }),
        (a, b, d) => {
          const exact = BigInt(a) * BigInt(b);
          const fl = exact / BigInt(d) - (exact % BigInt(d) < 0n ? 1n : 0n);
          if (fl > BigInt(Number.MAX_SAFE_INTEGER) || fl < BigInt(Number.MIN_SAFE_INTEGER)) {
            expect(() => mulDiv(a, b, d, 'floor')).toThrow(/not an exact integer/);
            return;
          }
          expect(mulDiv(a, b, d, 'floor')).toBe(Number(fl));
        },
      ),
    );
  });
});

describe('formatUsd: the one money format for people', () => {
  it('groups thousands, puts the sign before the dollar sign and rounds half away from zero to cents', () => {
    expect(formatUsd(parseMicro('1234.56'))).toBe('$1,234.56');
    expect(formatUsd(parseMicro('-1.8561'))).toBe('-$1.86');
    expect(formatUsd(parseMicro('498.1438'))).toBe('$498.14');
    expect(formatUsd(parseMicro('0.005'))).toBe('$0.01');
    expect(formatUsd(parseMicro('-0.004'))).toBe('$0.00');
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(parseMicro('1000000'))).toBe('$1,000,000.00');
  });
  it('shows more decimals only when asked (fees)', () => {
    expect(formatUsd(parseMicro('0.0123'), 4)).toBe('$0.0123');
    expect(formatUsd(parseMicro('-3.85075'), 4)).toBe('-$3.8508');
    expect(formatUsd(parseMicro('12'), 0)).toBe('$12');
  });
  it('a change always carries its sign', () => {
    expect(formatUsdChange(parseMicro('1.2'))).toBe('+$1.20');
    expect(formatUsdChange(parseMicro('-0.35'))).toBe('-$0.35');
    expect(formatUsdChange(0)).toBe('$0.00');
  });
});
