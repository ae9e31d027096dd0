import { describe, expect, it } from 'vitest';
import { MISPRICING_KINDS, SHOWCASE_EVERY_MS, SimMarket } from '../../src/venues/sim/market.ts';

describe('the demo showcase', () => {
  it('puts one mispricing of every kind on the books within the first minute, in turn', () => {
    const plain = new SimMarket({ seed: 1 });
    const start = plain.start;
    const sim = new SimMarket({ seed: 1, showcaseFrom: start + 5_000 });
    const seen: string[] = [];
    for (let t = start; t <= start + 5_000 + MISPRICING_KINDS.length * SHOWCASE_EVERY_MS; t += 1_000) {
      sim.advance(t);
      for (const k of Object.keys(sim.stats.mispricings)) if (!seen.includes(k)) seen.push(k);
    }
    expect(seen).toEqual([...MISPRICING_KINDS]);
    expect(5_000 + MISPRICING_KINDS.length * SHOWCASE_EVERY_MS).toBeLessThanOrEqual(60_000);
  });

  it('changes nothing when not asked for (same seed, same frames)', () => {
    const a = new SimMarket({ seed: 7 });
    const b = new SimMarket({ seed: 7 });
    expect(JSON.stringify(b.advance(b.start + 30_000))).toBe(JSON.stringify(a.advance(a.start + 30_000)));
  });
});
