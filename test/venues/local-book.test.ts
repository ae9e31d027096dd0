import { describe, expect, it } from 'vitest';
import type { Level } from '../../src/core/messages.ts';
import { BookSide, patchTop } from '../../src/venues/local-book.ts';

/** A small seeded PRNG, so a failure replays. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('patchTop', () => {
  it('gives the top a rebuild would, for random updates on both sides and several depths', () => {
    for (const kind of ['bid', 'ask'] as const) {
      for (const depth of [1, 2, 3, 5, 20]) {
        const rnd = prng(depth * 7 + (kind === 'bid' ? 1 : 2));
        const side = new BookSide(kind);
        let top: Level[] | undefined = side.levels(depth);
        let patched = 0;
        for (let i = 0; i < 3000; i++) {
          const price = 1 + Math.floor(rnd() * 12) * 10_000;
          const size = rnd() < 0.35 ? 0 : 1 + Math.floor(rnd() * 500);
          side.set(price, size);
          const next: Level[] | undefined =
            top === undefined ? undefined : patchTop(top, price, size, depth, kind === 'bid');
          if (next !== undefined) patched++;
          top = next ?? side.levels(depth);
          expect(top).toEqual(side.levels(depth));
        }
        // most updates are patched, not rebuilt
        expect(patched).toBeGreaterThan(2000);
      }
    }
  });

  it('returns the same array when nothing shown changes, and never changes the array it was given', () => {
    const top: Level[] = [
      [50, 1],
      [40, 2],
    ];
    const copy = top.map((l) => [...l]);
    expect(patchTop(top, 30, 5, 2, true)).toBe(top); // below a full top
    expect(patchTop(top, 45, 0, 2, true)).toBe(top); // removal of a level the book does not have
    expect(patchTop(top, 40, 0, 2, true)).toBeUndefined(); // a level left a full top: rebuild
    expect(patchTop(top, 40, 0, 3, true)).toEqual([[50, 1]]);
    expect(patchTop(top, 45, 7, 2, true)).toEqual([
      [50, 1],
      [45, 7],
    ]);
    expect(top).toEqual(copy);
  });
});
