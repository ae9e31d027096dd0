/**
 * Fair value of crypto threshold, range and up/down markets from the oracle spot.
 *
 * Model: the spot follows a driftless lognormal diffusion (Black–Scholes with zero rates, which is right over the
 * minutes-to-days horizons of these markets). A digital "S_T > K" is worth N(d2) with
 * d2 = (ln(S/K) − σ²τ/2) / (σ√τ), τ in years; "below K" is 1 − N(d2); a range [L, U) is N(d2(L)) − N(d2(U));
 * up/down is "above the reference open price". σ comes from an EWMA of squared log returns between ticks,
 * each scaled by the time between them (variance per millisecond, λ = 0.94 per tick), floored and capped, with a
 * default until enough ticks arrived. Floats are fine here (a model, not money); the fair price is rounded to
 * micro-dollars and clamped to [0.001, 0.999] so the model never claims certainty.
 */
import { MICRO, type Price } from '../core/money.ts';
import { normCdf } from '../core/normal.ts';

export const MS_PER_YEAR = 365.25 * 24 * 3600 * 1000;

export { normCdf };

/** P(S_T > K) under the lognormal model; spot and strike in any common unit, sigma annualized, tau in ms. */
export function probAbove(spot: number, strike: number, sigmaAnnual: number, tauMs: number): number {
  if (!(spot > 0) || !(strike > 0)) return Number.NaN;
  if (tauMs <= 0 || sigmaAnnual <= 0) return spot > strike ? 1 : 0;
  const tau = tauMs / MS_PER_YEAR;
  const sd = sigmaAnnual * Math.sqrt(tau);
  const d2 = (Math.log(spot / strike) - (sd * sd) / 2) / sd;
  return normCdf(d2);
}

export type FairKind = 'above' | 'below' | 'range' | 'up_down';

export interface FairInput {
  readonly kind: FairKind;
  /** spot, strike and upper share a unit (1e-8 units from OracleTick/OracleLink). */
  readonly spot: number;
  readonly strike: number;
  readonly upper?: number;
  readonly sigmaAnnual: number;
  readonly tauMs: number;
}

const FLOOR = 1_000;
const CAP = MICRO - 1_000;

/** Fair YES price in micro-dollars, or undefined when the inputs do not determine one. */
export function fairPrice(inp: FairInput): Price | undefined {
  let p: number;
  switch (inp.kind) {
    case 'above':
    case 'up_down':
      p = probAbove(inp.spot, inp.strike, inp.sigmaAnnual, inp.tauMs);
      break;
    case 'below':
      p = 1 - probAbove(inp.spot, inp.strike, inp.sigmaAnnual, inp.tauMs);
      break;
    case 'range':
      if (inp.upper === undefined || !(inp.upper > inp.strike)) return undefined;
      p =
        probAbove(inp.spot, inp.strike, inp.sigmaAnnual, inp.tauMs) -
        probAbove(inp.spot, inp.upper, inp.sigmaAnnual, inp.tauMs);
      break;
  }
  if (!Number.isFinite(p)) return undefined;
  const micro = Math.round(p * MICRO);
  return Math.min(CAP, Math.max(FLOOR, micro));
}

export interface VolEstimatorOptions {
  /** EWMA decay per observation (RiskMetrics 0.94). */
  readonly lambda?: number;
  /** Annualized vol used until `minSamples` returns were seen. */
  readonly defaultSigma?: number;
  readonly minSamples?: number;
  readonly floorSigma?: number;
  readonly capSigma?: number;
}

/** EWMA realized volatility from a stream of (time, price) observations. */
export class EwmaVol {
  private readonly lambda: number;
  private readonly defaultSigma: number;
  private readonly minSamples: number;
  private readonly floor: number;
  private readonly cap: number;
  private varPerMs = 0;
  private n = 0;
  private lastT = Number.NaN;
  private lastP = Number.NaN;

  constructor(o: VolEstimatorOptions = {}) {
    this.lambda = o.lambda ?? 0.94;
    this.defaultSigma = o.defaultSigma ?? 0.6;
    this.minSamples = o.minSamples ?? 20;
    this.floor = o.floorSigma ?? 0.1;
    this.cap = o.capSigma ?? 3;
  }

  update(t: number, price: number): void {
    if (!(price > 0)) return;
    if (Number.isFinite(this.lastT) && t > this.lastT) {
      const r = Math.log(price / this.lastP);
      const v = (r * r) / (t - this.lastT);
      this.varPerMs = this.n === 0 ? v : this.lambda * this.varPerMs + (1 - this.lambda) * v;
      this.n++;
    }
    if (!Number.isFinite(this.lastT) || t >= this.lastT) {
      this.lastT = t;
      this.lastP = price;
    }
  }

  /** Annualized sigma. */
  sigma(): number {
    if (this.n < this.minSamples) return this.defaultSigma;
    const s = Math.sqrt(this.varPerMs * MS_PER_YEAR);
    return Math.min(this.cap, Math.max(this.floor, s));
  }

  get samples(): number {
    return this.n;
  }
}
