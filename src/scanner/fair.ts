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
  /**
   * The settlement is an average (TWAP, simple average) over this many ms ending at the expiry; 0 or absent:
   * a point. Inside the window, `observedAvg` is the average of the part already seen (its length is
   * windowMs − tauMs): that part is fixed, only the rest is uncertain.
   */
  readonly windowMs?: number;
  readonly observedAvg?: number;
}

/**
 * P(A > K) where A is the settlement value: a point (windowMs 0) or the average over the last windowMs before
 * expiry. The average of a driftless diffusion over a window of length W has the variance of the point at
 * W/3 into the window, so before the window opens the uncertainty runs for (τ − W) + W/3; inside it, the seen
 * part e = W − τ is fixed and the unseen average has variance time τ/3, so A > K ⇔ F > (K·W − Aobs·e)/τ.
 * The average is approximated as lognormal with the same mean and variance time (the error is far below the
 * venues' tick over minutes-long windows).
 */
export function probAboveWindow(
  spot: number,
  strike: number,
  sigmaAnnual: number,
  tauMs: number,
  windowMs: number,
  observedAvg: number | undefined,
): number {
  if (!(windowMs > 0)) return probAbove(spot, strike, sigmaAnnual, tauMs);
  if (tauMs >= windowMs) return probAbove(spot, strike, sigmaAnnual, tauMs - windowMs + windowMs / 3);
  if (observedAvg === undefined || !(observedAvg > 0)) return Number.NaN;
  const seen = windowMs - Math.max(0, tauMs);
  if (tauMs <= 0) return observedAvg > strike ? 1 : 0;
  const k = (strike * windowMs - observedAvg * seen) / tauMs;
  if (k <= 0) return 1;
  return probAbove(spot, k, sigmaAnnual, tauMs / 3);
}

const FLOOR = 1_000;
const CAP = MICRO - 1_000;

/** Fair YES price in micro-dollars, or undefined when the inputs do not determine one. */
export function fairPrice(inp: FairInput): Price | undefined {
  return fairPriceOf(
    inp.kind,
    inp.spot,
    inp.strike,
    inp.upper,
    inp.sigmaAnnual,
    inp.tauMs,
    inp.windowMs ?? 0,
    inp.observedAvg,
  );
}

/**
 * fairPrice with positional arguments: the scanner prices every market on every tick of its source, and this form
 * allocates nothing (no input object, no closure).
 */
export function fairPriceOf(
  kind: FairKind,
  spot: number,
  strike: number,
  upper: number | undefined,
  sigmaAnnual: number,
  tauMs: number,
  windowMs: number,
  observedAvg: number | undefined,
): Price | undefined {
  let p: number;
  switch (kind) {
    case 'above':
    case 'up_down':
      p = probAboveWindow(spot, strike, sigmaAnnual, tauMs, windowMs, observedAvg);
      break;
    case 'below':
      p = 1 - probAboveWindow(spot, strike, sigmaAnnual, tauMs, windowMs, observedAvg);
      break;
    case 'range':
      if (upper === undefined || !(upper > strike)) return undefined;
      p =
        probAboveWindow(spot, strike, sigmaAnnual, tauMs, windowMs, observedAvg) -
        probAboveWindow(spot, upper, sigmaAnnual, tauMs, windowMs, observedAvg);
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
  /** sigma() as of the last update: read for every market priced on a tick, changed only by update() */
  private s: number;

  constructor(o: VolEstimatorOptions = {}) {
    this.lambda = o.lambda ?? 0.94;
    this.defaultSigma = o.defaultSigma ?? 0.6;
    this.minSamples = o.minSamples ?? 20;
    this.floor = o.floorSigma ?? 0.1;
    this.cap = o.capSigma ?? 3;
    this.s = this.defaultSigma;
  }

  update(t: number, price: number): void {
    if (!(price > 0)) return;
    if (Number.isFinite(this.lastT) && t > this.lastT) {
      const r = Math.log(price / this.lastP);
      const v = (r * r) / (t - this.lastT);
      this.varPerMs = this.n === 0 ? v : this.lambda * this.varPerMs + (1 - this.lambda) * v;
      this.n++;
      this.s =
        this.n < this.minSamples
          ? this.defaultSigma
          : Math.min(this.cap, Math.max(this.floor, Math.sqrt(this.varPerMs * MS_PER_YEAR)));
    }
    if (!Number.isFinite(this.lastT) || t >= this.lastT) {
      this.lastT = t;
      this.lastP = price;
    }
  }

  /** Annualized sigma. */
  sigma(): number {
    return this.s;
  }

  get samples(): number {
    return this.n;
  }
}
