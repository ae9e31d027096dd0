/** Seeded randomness for the simulator (never Math.random): mulberry32 plus a few helpers. */
import { mulberry32 } from '../../core/prng.ts';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number;
  /** Standard normal. */
  gauss(): number;
  /** Exponential inter-arrival with the given rate per unit. */
  exp(rate: number): number;
  pick<T>(xs: readonly T[]): T;
  /** `n` decimal digits, first non-zero (Polymarket token ids are 76–78 digit integers). */
  digits(n: number): string;
  hex(n: number): string;
}

const HEX = '0123456789abcdef';

export function createRng(seed: number): Rng {
  const u = mulberry32(seed);
  let spare: number | undefined;
  const rng: Rng = {
    next: u,
    int: (lo, hi) => lo + Math.floor(u() * (hi - lo + 1)),
    gauss() {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      let a = u();
      while (a <= 1e-12) a = u();
      const b = u();
      const r = Math.sqrt(-2 * Math.log(a));
      spare = r * Math.sin(2 * Math.PI * b);
      return r * Math.cos(2 * Math.PI * b);
    },
    exp(rate) {
      let a = u();
      while (a <= 1e-12) a = u();
      return -Math.log(a) / rate;
    },
    pick: (xs) => xs[Math.floor(u() * xs.length)]!,
    // Both build the string in one piece: `s +=` per character made a chain of ~n cons-string nodes (~2 KB for a
    // 77-digit token id, 25× its flat size) that every holder of the id kept (100,000 simulated markets).
    digits(n) {
      const cs = new Array<number>(n);
      cs[0] = 49 + Math.floor(u() * 9); // '1'..'9'
      for (let i = 1; i < n; i++) cs[i] = 48 + Math.floor(u() * 10);
      return String.fromCharCode(...cs);
    },
    hex(n) {
      const cs = new Array<number>(n);
      for (let i = 0; i < n; i++) cs[i] = HEX.charCodeAt(Math.floor(u() * 16));
      return String.fromCharCode(...cs);
    },
  };
  return rng;
}
