/**
 * One side of a local order book: price levels kept sorted best-first in parallel arrays, so the best level is
 * index 0, an update is a binary search plus (rarely) a short memmove, and a top-N snapshot is a slice.
 * Prices and sizes are micro-units (money.ts).
 */
import type { Level } from '../core/messages.ts';

export class BookSide {
  /** 'bid': descending prices; 'ask': ascending. */
  readonly kind: 'bid' | 'ask';
  /**
   * Level i's price at 2i, its size at 2i + 1, exactly as long as the levels: one array per side, not two, and no
   * spare capacity (an array grown by push or splice keeps ~16 spare slots; at 100,000 markets the decoders hold
   * 400,000 sides, and two grown arrays per side cost ~300 B more than this). A level's size changes in place; a
   * level added or removed copies the side (a few levels: what splice did anyway).
   */
  private lv: number[] = EMPTY;

  constructor(kind: 'bid' | 'ask') {
    this.kind = kind;
  }

  get depth(): number {
    return this.lv.length >> 1;
  }

  /** Index (level number) of `price`, or -(insertion point) - 1. */
  private find(price: number): number {
    const lv = this.lv;
    let lo = 0;
    let hi = (lv.length >> 1) - 1;
    const desc = this.kind === 'bid';
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const p = lv[mid << 1]!;
      if (p === price) return mid;
      if (desc ? p > price : p < price) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }

  /** Sets the aggregate size at `price` (0 removes the level). */
  set(price: number, size: number): void {
    const i = this.find(price);
    const lv = this.lv;
    if (i >= 0) {
      if (size > 0) {
        lv[(i << 1) + 1] = size;
        return;
      }
      const n = lv.length - 2;
      if (n === 0) {
        this.lv = EMPTY;
        return;
      }
      const out: number[] = new Array(n);
      const at = i << 1;
      for (let k = 0; k < at; k++) out[k] = lv[k]!;
      for (let k = at; k < n; k++) out[k] = lv[k + 2]!;
      this.lv = out;
    } else if (size > 0) {
      const at = (-i - 1) << 1;
      const n = lv.length;
      const out: number[] = new Array(n + 2);
      for (let k = 0; k < at; k++) out[k] = lv[k]!;
      out[at] = price;
      out[at + 1] = size;
      for (let k = at; k < n; k++) out[k + 2] = lv[k]!;
      this.lv = out;
    }
  }

  /** Adds `delta` to the size at `price`; a result ≤ 0 removes the level. Returns the new size. */
  add(price: number, delta: number): number {
    const i = this.find(price);
    const next = (i >= 0 ? this.lv[(i << 1) + 1]! : 0) + delta;
    this.set(price, next);
    return Math.max(next, 0);
  }

  sizeAt(price: number): number {
    const i = this.find(price);
    return i >= 0 ? this.lv[(i << 1) + 1]! : 0;
  }

  clear(): void {
    this.lv = EMPTY;
  }

  /** Replaces every level (any order in, sorted on the way). */
  replace(levels: Iterable<readonly [number, number]>): void {
    const pairs = [...levels].filter(([, s]) => s > 0);
    pairs.sort((a, b) => (this.kind === 'bid' ? b[0] - a[0] : a[0] - b[0]));
    // a repeated price keeps its last size (counted first, so the array is built at its exact length)
    let n = 0;
    for (let k = 0; k < pairs.length; k++) if (k === 0 || pairs[k]![0] !== pairs[k - 1]![0]) n++;
    if (n === 0) {
      this.lv = EMPTY;
      return;
    }
    const out: number[] = new Array(n * 2);
    let j = -2;
    for (let k = 0; k < pairs.length; k++) {
      const [p, s] = pairs[k]!;
      if (j < 0 || out[j] !== p) j += 2;
      out[j] = p;
      out[j + 1] = s;
    }
    this.lv = out;
  }

  bestPrice(): number | undefined {
    return this.lv[0];
  }

  bestSize(): number | undefined {
    return this.lv[1];
  }

  /** Top `n` levels best-first (all when n is omitted). */
  levels(n = Number.POSITIVE_INFINITY): Level[] {
    const lv = this.lv;
    const k = Math.min(n, lv.length >> 1);
    const out: Level[] = new Array(k);
    for (let i = 0; i < k; i++) out[i] = [lv[i << 1]!, lv[(i << 1) + 1]!];
    return out;
  }

  /** Levels mirrored through 1: price p → ONE − p (Kalshi implied asks from the other side's bids). */
  mirrored(one: number, n = Number.POSITIVE_INFINITY): Level[] {
    const lv = this.lv;
    const k = Math.min(n, lv.length >> 1);
    const out: Level[] = new Array(k);
    for (let i = 0; i < k; i++) out[i] = [one - lv[i << 1]!, lv[(i << 1) + 1]!];
    return out;
  }
}

/** The levels of an empty side, shared (never written: a level added copies). */
const EMPTY: number[] = [];

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
      const out: Level[] = new Array(n - 1);
      for (let i = 0; i < j; i++) out[i] = top[i]!;
      for (let i = j + 1; i < n; i++) out[i - 1] = top[i]!;
      return out;
    }
    if (desc ? p < price : p > price) break; // `price` would sit at j
  }
  // not in the top: below a full top, or a removal of a level the book does not have, changes nothing shown
  if ((j === n && n >= depth) || size <= 0) return top as Level[];
  // (copy loops, not splice: splice's generic path cost more than the copy on these short arrays; built at its
  // exact length: consumers keep the last book of every token, and an array grown by push keeps ~16 spare slots)
  const m = n < depth ? n + 1 : depth;
  const out: Level[] = new Array(m);
  for (let i = 0; i < j; i++) out[i] = top[i]!;
  out[j] = [price, size];
  for (let i = j + 1; i < m; i++) out[i] = top[i - 1]!;
  return out;
}
