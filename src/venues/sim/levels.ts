/**
 * One side of a simulated book: up to LEVELS price levels in whole cents, contiguous from the best price outward
 * (bids fall from the best, asks rise), each with a size in centi-shares. The simulator's quotes always have this
 * shape, so a side is a best price, a count and five small-integer sizes in one object: a Map per side took
 * ~300 B, and 100,000 simulated markets hold 300,000 sides (the real venues' books are the decoders', not these).
 */
export const LEVELS = 5;

export class Levels {
  /** Price of level 0 (the best), cents; meaningless while `size` is 0. */
  private best = 0;
  private n = 0;
  // the sizes as fields, not an array: no second object per side
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private s4 = 0;

  /** -1 for bids (level i is at best − i), +1 for asks (best + i). */
  constructor(readonly dir: 1 | -1) {}

  get size(): number {
    return this.n;
  }

  /** The best price: the highest bid or the lowest ask; undefined when the side is empty. */
  bestPrice(): number | undefined {
    return this.n > 0 ? this.best : undefined;
  }

  /** Price of level `i` (0 = best). */
  priceAt(i: number): number {
    return this.best + this.dir * i;
  }

  /** Size of level `i` (0 = best). */
  sizeAt(i: number): number {
    switch (i) {
      case 0:
        return this.s0;
      case 1:
        return this.s1;
      case 2:
        return this.s2;
      case 3:
        return this.s3;
      default:
        return this.s4;
    }
  }

  /** The size at price `p`, or undefined when no level is at `p`. */
  get(p: number): number | undefined {
    const i = (p - this.best) * this.dir;
    return this.n > 0 && i >= 0 && i < this.n ? this.sizeAt(i) : undefined;
  }

  has(p: number): boolean {
    return this.get(p) !== undefined;
  }

  /** Adds the next level outward (the first one is the best); a price that is not the next one throws. */
  push(p: number, s: number): void {
    if (this.n === 0) this.best = p;
    else if (p !== this.priceAt(this.n))
      throw new Error(`level ${p} is not next to ${this.priceAt(this.n - 1)}`);
    switch (this.n) {
      case 0:
        this.s0 = s;
        break;
      case 1:
        this.s1 = s;
        break;
      case 2:
        this.s2 = s;
        break;
      case 3:
        this.s3 = s;
        break;
      case 4:
        this.s4 = s;
        break;
      default:
        throw new Error(`more than ${LEVELS} levels`);
    }
    this.n++;
  }

  /** The same levels on the other side of 1: a YES bid at p is a NO ask at 100 − p (and the reverse). */
  mirror(): Levels {
    const out = new Levels(this.dir === 1 ? -1 : 1);
    for (let i = 0; i < this.n; i++) out.push(100 - this.priceAt(i), this.sizeAt(i));
    return out;
  }

  /** [price, size] pairs by ascending price. */
  ascending(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.n; i++) out.push([this.priceAt(i), this.sizeAt(i)]);
    return this.dir === 1 ? out : out.reverse();
  }
}
