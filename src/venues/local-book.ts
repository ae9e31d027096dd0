/**
 * One side of a local order book: price levels kept sorted best-first in parallel arrays, so the best level is
 * index 0, an update is a binary search plus (rarely) a short memmove, and a top-N snapshot is a slice.
 * Prices and sizes are micro-units (money.ts).
 */
import type { Level } from '../core/messages.ts';

export class BookSide {
  /** 'bid': descending prices; 'ask': ascending. */
  readonly kind: 'bid' | 'ask';
  private prices: number[] = [];
  private sizes: number[] = [];

  constructor(kind: 'bid' | 'ask') {
    this.kind = kind;
  }

  get depth(): number {
    return this.prices.length;
  }

  /** Index of `price`, or -(insertion point) - 1. */
  private find(price: number): number {
    const ps = this.prices;
    let lo = 0;
    let hi = ps.length - 1;
    const desc = this.kind === 'bid';
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const p = ps[mid]!;
      if (p === price) return mid;
      if (desc ? p > price : p < price) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }

  /** Sets the aggregate size at `price` (0 removes the level). */
  set(price: number, size: number): void {
    const i = this.find(price);
    if (i >= 0) {
      if (size <= 0) {
        this.prices.splice(i, 1);
        this.sizes.splice(i, 1);
      } else {
        this.sizes[i] = size;
      }
    } else if (size > 0) {
      const at = -i - 1;
      this.prices.splice(at, 0, price);
      this.sizes.splice(at, 0, size);
    }
  }

  /** Adds `delta` to the size at `price`; a result ≤ 0 removes the level. Returns the new size. */
  add(price: number, delta: number): number {
    const i = this.find(price);
    const next = (i >= 0 ? this.sizes[i]! : 0) + delta;
    this.set(price, next);
    return Math.max(next, 0);
  }

  sizeAt(price: number): number {
    const i = this.find(price);
    return i >= 0 ? this.sizes[i]! : 0;
  }

  clear(): void {
    this.prices = [];
    this.sizes = [];
  }

  /** Replaces every level (any order in, sorted on the way). */
  replace(levels: Iterable<readonly [number, number]>): void {
    this.clear();
    const pairs = [...levels].filter(([, s]) => s > 0);
    pairs.sort((a, b) => (this.kind === 'bid' ? b[0] - a[0] : a[0] - b[0]));
    for (const [p, s] of pairs) {
      const n = this.prices.length;
      if (n > 0 && this.prices[n - 1] === p) this.sizes[n - 1] = s;
      else {
        this.prices.push(p);
        this.sizes.push(s);
      }
    }
  }

  bestPrice(): number | undefined {
    return this.prices[0];
  }

  bestSize(): number | undefined {
    return this.sizes[0];
  }

  /** Top `n` levels best-first (all when n is omitted). */
  levels(n = Number.POSITIVE_INFINITY): Level[] {
    const k = Math.min(n, this.prices.length);
    const out: Level[] = new Array(k);
    for (let i = 0; i < k; i++) out[i] = [this.prices[i]!, this.sizes[i]!];
    return out;
  }

  /** Levels mirrored through 1: price p → ONE − p (Kalshi implied asks from the other side's bids). */
  mirrored(one: number, n = Number.POSITIVE_INFINITY): Level[] {
    const k = Math.min(n, this.prices.length);
    const out: Level[] = new Array(k);
    for (let i = 0; i < k; i++) out[i] = [one - this.prices[i]!, this.sizes[i]!];
    return out;
  }
}

/**
 * The top-`depth` levels (best first) after the size at `price` became `size` (≤ 0: the level went), given `top`,
 * the top before the change (BookSide.levels(depth)): the same array when the top is unchanged, else a new array
 * that shares the untouched levels (emitted books are readonly), or undefined when the new top needs a level the
 * old one does not hold (a level left a full top; rebuild from the BookSide). Rebuilding copied every level of
 * the top on every update inside it; this allocates one array and at most one level.
 * `desc`: descending prices (bids); ascending for asks and mirrored asks.
 */
export function patchTop(
  top: readonly Level[],
  price: number,
  size: number,
  depth: number,
  desc: boolean,
): Level[] | undefined {
  const n = top.length;
  let j = 0;
  for (; j < n; j++) {
    const p = top[j]![0];
    if (p === price) {
      if (size > 0) {
        const out = top.slice();
        out[j] = [price, size];
        return out;
      }
      // removed: a full top would need the next level from the book
      if (n >= depth) return undefined;
      const out: Level[] = [];
      for (let i = 0; i < n; i++) if (i !== j) out.push(top[i]!);
      return out;
    }
    if (desc ? p < price : p > price) break; // `price` would sit at j
  }
  // not in the top: below a full top, or a removal of a level the book does not have, changes nothing shown
  if ((j === n && n >= depth) || size <= 0) return top as Level[];
  // (copy loops, not splice: splice's generic path cost more than the copy on these short arrays)
  const m = n < depth ? n + 1 : depth;
  const out: Level[] = [];
  for (let i = 0; i < j; i++) out.push(top[i]!);
  out.push([price, size]);
  for (let i = j; out.length < m; i++) out.push(top[i]!);
  return out;
}
