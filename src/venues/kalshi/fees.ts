/**
 * Kalshi's fee schedule per series (docs/settlement.md, "Kalshi fees"). The venue publishes, per series
 * (`GET /series/{series_ticker}`), a `fee_type` and a `fee_multiplier`; the trade fee is
 * coeff × C × P × (1 − P) with coeff = 0.07 × multiplier for takers and, on series whose type charges makers,
 * 0.0175 × multiplier for makers (the formulas and rounding live in core/fees.ts). Until a market's series
 * schedule is known its fees are `unknown`, bounded by the standard schedule with maker fees.
 */
import type { FeeSchedule } from '../../core/messages.ts';

/** 0.07: the taker coefficient of the quadratic schedule, micro-units. */
const TAKER_COEFF = 70_000;
/** 0.0175: the maker coefficient on series that charge makers, micro-units. */
const MAKER_COEFF = 17_500;

/** The standard schedule: takers 0.07, makers free. */
export const KALSHI_STANDARD_FEES: FeeSchedule = { kind: 'kalshi', takerCoeff: TAKER_COEFF, makerCoeff: 0 };
/** Series whose type charges makers. */
export const KALSHI_MAKER_FEES: FeeSchedule = {
  kind: 'kalshi',
  takerCoeff: TAKER_COEFF,
  makerCoeff: MAKER_COEFF,
};
export const KALSHI_NO_FEES: FeeSchedule = { kind: 'kalshi', takerCoeff: 0, makerCoeff: 0 };

/** A market whose series schedule has not been read yet: priced on nothing, charged the highest schedule. */
export const kalshiFeesPending = (series: string | undefined): FeeSchedule => ({
  kind: 'unknown',
  reason: series ? `series ${series}: fee schedule not loaded yet` : 'no series ticker: fee schedule unknown',
  bound: KALSHI_MAKER_FEES as Extract<FeeSchedule, { kind: 'kalshi' }>,
});

/** `fee_multiplier`: a number, a decimal string or a fraction ("1/2"), ≥ 0; in micro-units, or NaN. */
export function multiplierMicro(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.round(v * 1_000_000) : Number.NaN;
  if (typeof v !== 'string') return Number.NaN;
  const f = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(v);
  if (f) {
    const d = Number(f[2]);
    return d > 0 ? Math.round((Number(f[1]) / d) * 1_000_000) : Number.NaN;
  }
  return /^\s*\d+(?:\.\d+)?\s*$/.test(v) ? Math.round(Number(v) * 1_000_000) : Number.NaN;
}

/** (coeff × multiplier) in micro-units, exact for multipliers with up to 6 decimals. */
const scaled = (coeff: number, mult: number): number => Math.round((coeff * mult) / 1_000_000);

/**
 * A series object (`GET /series/{ticker}` → `series`) → its FeeSchedule, or a reason it cannot be read. Types:
 * `quadratic` (takers only), `quadratic_with_maker_fees` (takers and makers), `fee_free`/`free` or multiplier 0
 * (nothing); `flat` is documented without a formula we could verify, so it stays unknown (never a guess).
 */
export function seriesFees(series: unknown): FeeSchedule | string {
  if (!series || typeof series !== 'object') return 'series is not an object';
  const s = series as { ticker?: unknown; fee_type?: unknown; fee_multiplier?: unknown };
  const type = typeof s.fee_type === 'string' ? s.fee_type : undefined;
  const mult = s.fee_multiplier === undefined ? 1_000_000 : multiplierMicro(s.fee_multiplier);
  if (!Number.isFinite(mult))
    return `series ${String(s.ticker)}: fee_multiplier ${JSON.stringify(s.fee_multiplier)}`;
  switch (type) {
    case 'quadratic':
      return { kind: 'kalshi', takerCoeff: scaled(TAKER_COEFF, mult), makerCoeff: 0 };
    case 'quadratic_with_maker_fees':
      return {
        kind: 'kalshi',
        takerCoeff: scaled(TAKER_COEFF, mult),
        makerCoeff: scaled(MAKER_COEFF, mult),
      };
    case 'fee_free':
    case 'free':
    case 'none':
      return KALSHI_NO_FEES;
    default:
      if (mult === 0) return KALSHI_NO_FEES;
      return `series ${String(s.ticker)}: fee_type ${JSON.stringify(s.fee_type)} is not one we can price`;
  }
}

/** The series ticker of a market: its event ticker's first segment (KXBTCD-26DEC3112 → KXBTCD). */
export function seriesOf(eventTicker: string | undefined, ticker: string): string | undefined {
  const base = eventTicker ?? ticker;
  const head = base.split('-')[0];
  return head && head !== '' ? head : undefined;
}
