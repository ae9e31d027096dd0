/**
 * Formatting for people, in the browser (and in Node for the tests). Amounts arrive as exact decimal strings
 * ("-1234.5678"); they are rounded and grouped as text, never through a float. One money format everywhere:
 * "$1,234.56", the sign before the dollar ("-$3.85"), four decimals for fees (sub-cent matters there).
 */

const DECIMAL = /^([+-])?(\d+)(?:\.(\d+))?$/;

/** Adds one to a string of digits ("0999" → "1000"). */
function increment(digits) {
  const a = digits.split('');
  let i = a.length - 1;
  while (i >= 0) {
    if (a[i] === '9') {
      a[i] = '0';
      i--;
    } else {
      a[i] = String(Number(a[i]) + 1);
      return a.join('');
    }
  }
  return `1${a.join('')}`;
}

/**
 * Rounds a decimal string to `decimals` places, half away from zero. Returns { neg, int, frac } with int and frac
 * as digit strings (frac exactly `decimals` long), or null when the text is not a decimal number.
 */
export function roundDecimal(text, decimals) {
  const m = DECIMAL.exec(String(text).trim());
  if (!m) return null;
  const neg = m[1] === '-';
  let int = m[2].replace(/^0+(?=\d)/, '');
  let frac = (m[3] ?? '').padEnd(decimals + 1, '0');
  const up = Number(frac[decimals]) >= 5;
  frac = frac.slice(0, decimals);
  if (up) {
    const joined = increment(int + frac);
    int = joined.slice(0, joined.length - decimals) || '0';
    frac = decimals > 0 ? joined.slice(joined.length - decimals) : '';
  }
  const zero = /^0*$/.test(int + frac);
  return { neg: neg && !zero, int, frac };
}

const group = (int) => int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** "$1,234.56" / "-$3.85"; `signed` adds "+" to positive amounts; `decimals` (default 2). "—" for null. */
export function usd(text, opts = {}) {
  if (text === null || text === undefined || text === '') return '—';
  const decimals = opts.decimals ?? 2;
  const r = roundDecimal(text, decimals);
  if (!r) return String(text);
  const sign = r.neg ? '-' : opts.signed && !/^0*$/.test(r.int + r.frac) ? '+' : '';
  return `${sign}$${group(r.int)}${decimals > 0 ? `.${r.frac}` : ''}`;
}

/** Fees: always four decimals. */
export const fee = (text) => usd(text, { decimals: 4 });

/** A decimal string as it is, grouped, trailing zeros dropped ("1234.500000" → "1,234.5"). */
export function decimal(text, maxDecimals = 6) {
  if (text === null || text === undefined || text === '') return '—';
  const r = roundDecimal(text, maxDecimals);
  if (!r) return String(text);
  const frac = r.frac.replace(/0+$/, '');
  return `${r.neg ? '-' : ''}${group(r.int)}${frac ? `.${frac}` : ''}`;
}

/** Basis points (an integer) as a percentage with two decimals: 1234 → "12.34%". */
export function pct(bps) {
  if (bps === null || bps === undefined || !Number.isFinite(bps)) return '—';
  const neg = bps < 0;
  const a = Math.abs(Math.trunc(bps));
  return `${neg ? '-' : ''}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}%`;
}

/** A ratio (0..1, not money) as a percentage with one decimal. */
export const ratio = (x) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`);

/** A span of milliseconds for people: "850 ms", "4.2 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const neg = ms < 0;
  const a = Math.abs(ms);
  let s;
  if (a < 1_000) s = `${Math.round(a)} ms`;
  else if (a < 60_000) s = `${(a / 1_000).toFixed(1)} s`;
  else if (a < 3_600_000) s = `${Math.floor(a / 60_000)} min`;
  else if (a < 86_400_000) s = `${Math.floor(a / 3_600_000)} h ${Math.floor((a % 3_600_000) / 60_000)} min`;
  else s = `${Math.floor(a / 86_400_000)} d ${Math.floor((a % 86_400_000) / 3_600_000)} h`;
  return neg ? `-${s}` : s;
}

const two = (n) => String(n).padStart(2, '0');

/** "14:03:07" (UTC, as every time the system records). */
export function time(ts) {
  if (!ts && ts !== 0) return '—';
  const d = new Date(ts);
  return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/** "2026-11-26 14:03:07 UTC". */
export function dateTime(ts) {
  if (!ts && ts !== 0) return '—';
  const d = new Date(ts);
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${time(ts)} UTC`;
}

/** "2026-11-26". */
export function day(ts) {
  const d = new Date(ts);
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
}

/** A decimal string as a number for a chart axis (display only; never used for arithmetic on money). */
export const plot = (text) => (text === null || text === undefined ? null : Number(text));
