import { describe, expect, it } from 'vitest';
import { SimClock } from '../../src/core/clock.ts';
import type { RawFrame } from '../../src/feeds/types.ts';
import { createSimHub } from '../../src/venues/sim/feed.ts';

const MINUTE = Date.UTC(2026, 10, 26, 14, 0, 0);

async function run(startOffset: number, until: number, prefixes: string[]): Promise<RawFrame[]> {
  const clock = new SimClock(MINUTE + startOffset);
  const hub = createSimHub({ seed: 6, clock });
  const frames: RawFrame[] = [];
  const src = hub.source('test', prefixes);
  await src.start((f) => frames.push(f));
  for (let t = clock.now(); t <= MINUTE + until; t += 100) clock.advanceTo(t);
  await src.stop();
  return frames;
}

describe('sim hub', () => {
  it('routes frames by source prefix and stops cleanly', async () => {
    const clock = new SimClock(MINUTE);
    const hub = createSimHub({ seed: 6, clock });
    const pm: RawFrame[] = [];
    const oracles: RawFrame[] = [];
    const a = hub.source('pm', ['polymarket.']);
    const b = hub.source('oracles', ['binance.', 'chainlink.']);
    await a.start((f) => pm.push(f));
    await b.start((f) => oracles.push(f));
    for (let t = MINUTE; t <= MINUTE + 5_000; t += 100) clock.advanceTo(t);
    expect(pm.length).toBeGreaterThan(0);
    expect(pm.every((f) => f.source.startsWith('sim.polymarket.'))).toBe(true);
    expect(new Set(oracles.map((f) => f.source))).toEqual(new Set(['sim.binance.ws', 'sim.chainlink.ws']));
    expect(a.health()).toMatchObject({ connected: true, reconnects: 0, frames: pm.length });
    await a.stop();
    await b.stop();
    const n = pm.length;
    clock.advanceTo(MINUTE + 10_000);
    expect(pm.length).toBe(n);
    expect(a.health().connected).toBe(false);
  });

  it('gives processes started within the same minute the same world', async () => {
    const early = await run(2_000, 40_000, ['kalshi.', 'binance.']);
    const late = await run(31_000, 40_000, ['kalshi.', 'binance.']);
    expect(late.length).toBeGreaterThan(100);
    expect(JSON.stringify(late)).toBe(JSON.stringify(early));
  });
});
