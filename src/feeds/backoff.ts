/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): the n-th delay
 * is uniform in [0, min(cap, base × factor^n)]. Full jitter spreads a herd of reconnecting clients best.
 * `random` is injectable so tests are deterministic (`seededRandom`).
 */
import { mulberry32 } from '../core/prng.ts';

export interface BackoffOptions {
  /** First ceiling, ms (default 250). */
  readonly baseMs?: number;
  /** Upper bound of any delay, ms (default 30 s). */
  readonly maxMs?: number;
  /** Growth per attempt (default 2). */
  readonly factor?: number;
  /** Smallest delay returned, ms (default 0): keeps a tight reconnect loop from spinning. */
  readonly minMs?: number;
  /** Uniform [0, 1) source (default Math.random). */
  readonly random?: () => number;
}

export class Backoff {
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly minMs: number;
  private readonly random: () => number;
  private n = 0;

  constructor(opts: BackoffOptions = {}) {
    this.baseMs = opts.baseMs ?? 250;
    this.maxMs = opts.maxMs ?? 30_000;
    this.factor = opts.factor ?? 2;
    this.minMs = opts.minMs ?? 0;
    this.random = opts.random ?? Math.random;
    if (!(this.baseMs >= 0) || !(this.maxMs >= this.baseMs) || !(this.factor >= 1)) {
      throw new Error(
        `backoff needs 0 ≤ baseMs ≤ maxMs and factor ≥ 1 (got ${this.baseMs}, ${this.maxMs}, ${this.factor})`,
      );
    }
  }

  /** Failures since the last reset. */
  get attempts(): number {
    return this.n;
  }

  /** The ceiling of the next delay (before jitter). */
  ceiling(): number {
    return Math.min(this.maxMs, this.baseMs * this.factor ** this.n);
  }

  /** Delay before the next attempt; counts one more failure. */
  next(): number {
    const cap = this.ceiling();
    this.n++;
    const d = Math.floor(this.random() * cap);
    return Math.max(this.minMs, Math.min(cap, d));
  }

  /** After a success: the next failure starts again from baseMs. */
  reset(): void {
    this.n = 0;
  }
}

export function createBackoff(opts: BackoffOptions = {}): Backoff {
  return new Backoff(opts);
}

/** A seedable PRNG for deterministic jitter in tests (mulberry32). */
export const seededRandom = mulberry32;

/** A real-timer sleep for transport plumbing; rejects with the signal's reason when aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason ?? new Error('aborted'));
      return;
    }
    const t = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
