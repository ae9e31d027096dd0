/**
 * Exact fixed-point numbers for prices, sizes, fees and P&L.
 *
 * Every amount is an integer count of micro-units (1e-6) held in a JS number and checked to be a safe integer:
 * a price of 0.4512 is 451_200, a size of 12.5 shares is 12_500_000, $3.20 is 3_200_000. Integers below 2^53 add
 * and subtract exactly in a double, and that covers ±9 billion dollars, so the hot path stays on plain numbers.
 * Products and quotients go through `mulDiv`, which falls back to BigInt when the intermediate would leave the
 * exact range, and always says how it rounds. Decimal strings are parsed and printed without passing through a
 * float. Spot prices of oracles use the same scheme with 1e-8 units (`E8`), because Binance quotes 8 decimals.
 */

/** A price in micro-dollars per share; prediction-market prices lie in [0, 1_000_000]. */
export type Price = number;
/** A quantity of shares (contracts) in micro-shares. */
export type Qty = number;
/** An amount of money in micro-dollars (USD or USDC; signed). */
export type Money = number;
/** A spot price in 1e-8 units (oracle ticks). */
export type SpotE8 = number;

export const MICRO = 1_000_000;
export const ONE: Price = MICRO;
export const E8 = 100_000_000;

export type Rounding = 'floor' | 'ceil' | 'round' | 'trunc';

export class MoneyInvariantError extends Error {
  override name = 'MoneyInvariantError';
}

function assertInt(n: number, what: string): void {
  if (!Number.isSafeInteger(n)) throw new MoneyInvariantError(`${what} is not an exact integer amount: ${n}`);
}

const DIGITS = /^([+-])?(\d*)(?:\.(\d*))?$/;

/**
 * parseFixed's common case, read digit by digit: "0.9400", "148", "1195.25" — digits, then optionally a point and
 * 1..scale digits, at most 15 characters. Every price and size of every feed frame goes through here, and the
 * regex, slices and padEnd of the general path cost more than the number. The arithmetic is the general path's
 * (integer part × 10^scale + the scaled fraction), so the result is the same; anything else returns undefined
 * and takes the general path (signs, spaces, rounding, errors).
 */
function plainDecimal(s: string, scale: number): number | undefined {
  const n = s.length;
  if (n === 0 || n > 15) return undefined;
  let int = 0;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    int = int * 10 + c;
  }
  if (i === 0) return undefined;
  let frac = 0;
  let digits = 0;
  if (i < n) {
    if (s.charCodeAt(i) !== 46) return undefined; // '.'
    for (i++; i < n; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return undefined;
      frac = frac * 10 + c;
      digits++;
    }
    if (digits === 0 || digits > scale) return undefined;
  }
  const units = int * 10 ** scale + (scale > 0 ? frac * 10 ** (scale - digits) : 0);
  if (!Number.isSafeInteger(units)) return undefined;
  return units;
}

/**
 * Parses a decimal string (or an integer-valued JSON number) into integer units of 10^-scale, exactly.
 * Extra decimals beyond the scale are rounded as asked (default: throw, because a silent cut loses money).
 */
export function parseFixed(
  input: string | number,
  scale: number,
  rounding: Rounding | 'exact' = 'exact',
): number {
  // a JSON number (oracle prices) takes the same fast path through its shortest decimal text
  const text = typeof input === 'number' ? numberToPlain(input) : input;
  const v = plainDecimal(text, scale);
  if (v !== undefined) return v;
  return parseFixedText(input, text.trim(), scale, rounding);
}

/** parseFixed's general path: `text` is the input as a decimal string (signs, rounding, errors). */
function parseFixedText(
  input: string | number,
  text: string,
  scale: number,
  rounding: Rounding | 'exact',
): number {
  const m = DIGITS.exec(text);
  if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) {
    throw new MoneyInvariantError(`not a decimal number: ${JSON.stringify(input)}`);
  }
  const neg = m[1] === '-';
  const intPart = m[2] || '0';
  let frac = m[3] ?? '';
  let bump = 0;
  if (frac.length > scale) {
    const dropped = frac.slice(scale);
    frac = frac.slice(0, scale);
    const nonzero = /[1-9]/.test(dropped);
    if (nonzero) {
      if (rounding === 'exact') {
        throw new MoneyInvariantError(`${JSON.stringify(input)} has more than ${scale} decimals`);
      }
      const half = dropped.charCodeAt(0) >= 53; // '5'
      const mag =
        rounding === 'round'
          ? half
            ? 1
            : 0
          : rounding === 'trunc'
            ? 0
            : rounding === 'ceil'
              ? neg
                ? 0
                : 1
              : neg
                ? 1
                : 0;
      bump = mag;
    }
  }
  frac = frac.padEnd(scale, '0');
  const units = Number(intPart) * 10 ** scale + (scale > 0 ? Number(frac) : 0) + bump;
  const out = neg ? -units : units;
  assertInt(out, `parsed ${JSON.stringify(input)}`);
  return out === 0 ? 0 : out;
}

/** Writes a JSON number without exponent notation so it can be parsed exactly as written. */
function numberToPlain(n: number): string {
  if (!Number.isFinite(n)) throw new MoneyInvariantError(`not a finite number: ${n}`);
  const s = String(n);
  // (String(n) writes an exponent only as 'e': no regex for the common case)
  if (!s.includes('e')) return s;
  return n.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
}

/** Integer units of 10^-scale → canonical decimal string with exactly `scale` decimals ("0.451200"). */
export function formatFixed(units: number, scale: number, decimals = scale): string {
  assertInt(units, 'formatted amount');
  const neg = units < 0;
  const abs = Math.abs(units);
  const base = 10 ** scale;
  const whole = Math.floor(abs / base);
  let frac = String(abs - whole * base).padStart(scale, '0');
  if (decimals < scale) frac = frac.slice(0, decimals);
  return (neg ? '-' : '') + whole + (decimals > 0 ? '.' + frac : '');
}

/** Shortest exact decimal string (trailing zeros dropped): 451200 → "0.4512". */
export function toDecimal(units: number, scale = 6): string {
  const s = formatFixed(units, scale);
  return scale === 0 ? s : s.replace(/0+$/, '').replace(/\.$/, '');
}

export const parseMicro = (v: string | number, r: Rounding | 'exact' = 'exact'): number =>
  parseFixed(v, 6, r);
export const parseE8 = (v: string | number, r: Rounding | 'exact' = 'exact'): number => parseFixed(v, 8, r);
export const microToString = (v: number): string => toDecimal(v, 6);

function roundDiv(num: bigint, den: bigint, mode: Rounding): bigint {
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const q = num / den; // truncates toward zero
  const r = num % den;
  if (r === 0n) return q;
  switch (mode) {
    case 'trunc':
      return q;
    case 'floor':
      return num < 0n ? q - 1n : q;
    case 'ceil':
      return num > 0n ? q + 1n : q;
    case 'round': {
      // half rounds toward +infinity, as the fast path in mulDiv does
      const fl = num < 0n ? q - 1n : q;
      const rem = num - fl * den;
      return rem * 2n >= den ? fl + 1n : fl;
    }
  }
}

/** a × b ÷ d (d > 0), exactly, rounded as asked. */
export function mulDiv(a: number, b: number, d: number, mode: Rounding): number {
  if (!(d > 0) || !Number.isSafeInteger(d))
    throw new MoneyInvariantError(`mulDiv divisor must be a positive integer: ${d}`);
  const p = a * b + 0; // + 0 turns -0 into 0
  if (Number.isSafeInteger(p)) {
    // Float quotient, corrected with an exact integer remainder so the floor is exact.
    let fl = Math.floor(p / d);
    let rem = p - fl * d;
    if (rem < 0) {
      fl -= 1;
      rem += d;
    } else if (rem >= d) {
      fl += 1;
      rem -= d;
    }
    if (rem === 0) return fl;
    switch (mode) {
      case 'floor':
        return fl;
      case 'ceil':
        return fl + 1;
      case 'trunc':
        return p < 0 ? fl + 1 : fl;
      case 'round':
        return rem * 2 >= d ? fl + 1 : fl;
    }
  }
  const out = Number(roundDiv(BigInt(a) * BigInt(b), BigInt(d), mode));
  assertInt(out, 'mulDiv result');
  return out;
}

/** Notional of `qty` micro-shares at `price` micro-dollars, in micro-dollars. */
export function notional(price: Price, qty: Qty, mode: Rounding = 'round'): Money {
  return mulDiv(price, qty, MICRO, mode);
}

/** Rounds micro-units to a multiple of `step` (e.g. a cent is 10_000 micro-dollars). */
export function roundToStep(v: number, step: number, mode: Rounding): number {
  return mulDiv(v, 1, step, mode) * step;
}

export const CENT: Money = 10_000;

export function isPrice(p: number): boolean {
  return Number.isSafeInteger(p) && p > 0 && p < ONE;
}

export function assertQty(q: number, what = 'quantity'): void {
  if (!Number.isSafeInteger(q) || q < 0)
    throw new MoneyInvariantError(`${what} must be a non-negative integer amount: ${q}`);
}

export function sum(values: Iterable<number>): number {
  let s = 0;
  for (const v of values) s += v;
  assertInt(s, 'sum');
  return s;
}

/**
 * Money for people, the one format every command prints: "$1,234.56", "-$1.86" (sign before the dollar sign),
 * rounded half away from zero to `decimals` places (2 by default; 4 where sub-cent amounts matter, such as fees,
 * and then for every figure of that column). JSON output carries exact decimal strings instead (`toDecimal`).
 */
export function formatUsd(m: Money, decimals = 2): string {
  assertInt(m, 'formatted amount');
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 6)
    throw new MoneyInvariantError(`decimals must be 0..6: ${decimals}`);
  const step = 10 ** (6 - decimals);
  const abs = mulDiv(Math.abs(m), 1, step, 'round');
  const scale = 10 ** decimals;
  const whole = Math.floor(abs / scale);
  const frac = decimals > 0 ? `.${String(abs - whole * scale).padStart(decimals, '0')}` : '';
  return `${m < 0 && abs > 0 ? '-' : ''}$${whole.toLocaleString('en-US')}${frac}`;
}

/** A change of money with its sign always shown: "+$1.20", "-$0.35", "$0.00". */
export function formatUsdChange(m: Money, decimals = 2): string {
  const s = formatUsd(m, decimals);
  return s.startsWith('-') || /^\$0(\.0*)?$/.test(s) ? s : `+${s}`;
}
