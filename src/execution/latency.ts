/**
 * Paper order latency: how long an order takes to reach its venue. Each venue client draws from its own seeded
 * stream, so the legs of one request arrive at their venues independently, and the same seed gives the same
 * arrival times (a backtest stays deterministic).
 *
 * The distribution is log-normal around the median (σ = 0.35: most orders within ±40%, a tail of slow ones),
 * capped at four times the median. A median of 0 means the order arrives at once (synchronously).
 */
import type { Venue } from '../core/messages.ts';
import { mulberry32 } from '../core/prng.ts';

export interface LatencyModel {
  /** Milliseconds for the next order (a whole number ≥ 0). */
  sample(): number;
  /** No sample exceeds this. */
  readonly maxMs: number;
}

const SIGMA = 0.35;
const CAP = 4;

/** The longest a paper order can travel with this median (what a backtest waits at its end for orders to land). */
export function maxPaperLatencyMs(medianMs: number): number {
  return Math.round(Math.max(0, medianMs) * CAP);
}

/** A venue's median paper latency: its own setting, else the common one. */
export function paperMedianMs(
  config: { readonly paperLatencyMs: number; readonly paperLatencyByVenue?: Partial<Record<Venue, number>> },
  venue: Venue,
): number {
  return config.paperLatencyByVenue?.[venue] ?? config.paperLatencyMs;
}

export function constantLatency(ms: number): LatencyModel {
  const v = Math.max(0, Math.round(ms));
  return { sample: () => v, maxMs: v };
}

/** FNV-1a of a text, for deriving one venue's seed from the run's. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function seedFrom(text: string): number {
  return hash32(text);
}

export function logNormalLatency(opts: { medianMs: number; seed: number; venue: Venue }): LatencyModel {
  const median = Math.max(0, opts.medianMs);
  if (median === 0) return constantLatency(0);
  const rand = mulberry32(hash32(`${opts.seed}:${opts.venue}`));
  const maxMs = maxPaperLatencyMs(median);
  return {
    maxMs,
    sample() {
      // Box–Muller; 1 − u keeps the log away from 0
      const u = 1 - rand();
      const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
      return Math.min(maxMs, Math.max(0, Math.round(median * Math.exp(SIGMA * z))));
    },
  };
}
