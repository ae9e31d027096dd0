import { describe, expect, it } from 'vitest';
import { Levels } from '../../src/venues/sim/levels.ts';
import { SimMarket } from '../../src/venues/sim/market.ts';

describe('simulated book side (Levels)', () => {
  it('holds contiguous levels from the best outward and answers by price', () => {
    const bids = new Levels(-1);
    expect(bids.bestPrice()).toBeUndefined();
    expect(bids.get(50)).toBeUndefined();
    bids.push(50, 100);
    bids.push(49, 200);
    bids.push(48, 300);
    expect(bids.size).toBe(3);
    expect(bids.bestPrice()).toBe(50);
    expect([bids.get(50), bids.get(49), bids.get(48), bids.get(47), bids.get(51)]).toEqual([
      100,
      200,
      300,
      undefined,
      undefined,
    ]);
    expect(bids.has(49)).toBe(true);
    expect(bids.has(47)).toBe(false);
    expect(bids.ascending()).toEqual([
      [48, 300],
      [49, 200],
      [50, 100],
    ]);
    // a YES bid at p is a NO ask at 100 − p: best first, rising
    const asks = bids.mirror();
    expect(asks.dir).toBe(1);
    expect(asks.ascending()).toEqual([
      [50, 100],
      [51, 200],
      [52, 300],
    ]);
  });

  it('refuses a level that is not the next one outward, and a sixth level', () => {
    const asks = new Levels(1);
    asks.push(10, 1);
    expect(() => asks.push(9, 1)).toThrow(/not next/);
    expect(() => asks.push(12, 1)).toThrow(/not next/);
    for (let p = 11; p <= 14; p++) asks.push(p, p);
    expect(asks.ascending().map(([p]) => p)).toEqual([10, 11, 12, 13, 14]);
    expect(() => asks.push(15, 1)).toThrow(/more than 5/);
  });
});

describe('simulated market keeps no resolved market', () => {
  it('drops a resolved pair and keeps its rolled-over successor', () => {
    const sim = new SimMarket({ seed: 3, markets: 6, tenorsMinutes: [15] });
    sim.advance(sim.start);
    const first = sim.describe().pairs.filter((p) => p.kind === 'crypto');
    expect(first).toHaveLength(6);
    const expiry = Math.max(...first.map((p) => p.expiry!));
    // past every first expiry, and a few seconds for the next re-quote to drop them
    sim.advance(expiry + 10_000);
    const after = sim.describe().pairs.filter((p) => p.kind === 'crypto');
    const ids = new Set(first.map((p) => p.polymarket.marketId));
    expect(after.filter((p) => ids.has(p.polymarket.marketId))).toEqual([]);
    expect(after).toHaveLength(6);
    expect(after.every((p) => p.expiry! > expiry)).toBe(true);
  });
});
