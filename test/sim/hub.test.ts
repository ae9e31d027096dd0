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

  it('hands out the same frames in slices of the event loop with yieldAfterMs, the loop turning between them', async () => {
    const frames = async (yieldAfterMs?: number): Promise<{ frames: RawFrame[]; turns: number }> => {
      const clock = new SimClock(MINUTE);
      // 3,000 markets a venue: a listing of several pages and a roll-over of hundreds at the 15-minute mark
      const hub = createSimHub({
        seed: 6,
        clock,
        markets: 3_000,
        ...(yieldAfterMs !== undefined ? { yieldAfterMs } : {}),
      });
      const out: RawFrame[] = [];
      const src = hub.source('all', ['polymarket.', 'kalshi.', 'binance.', 'chainlink.']);
      await src.start((f) => out.push(f));
      let turns = 0;
      for (let t = MINUTE; t <= MINUTE + 16 * 60_000; t += 1_000) {
        clock.advanceTo(t);
        // what a slice left for later is handed out on the next turns of the loop
        for (;;) {
          const before = out.length;
          await new Promise((r) => setImmediate(r));
          turns++;
          if (out.length === before && !hub.market.due(t)) break;
        }
      }
      await src.stop();
      return { frames: out, turns };
    };
    const whole = await frames();
    const sliced = await frames(0);
    expect(whole.frames.length).toBeGreaterThan(10_000);
    expect(sliced.frames.length).toBe(whole.frames.length);
    expect(JSON.stringify(sliced.frames)).toBe(JSON.stringify(whole.frames));
    // handed out one frame a turn (yieldAfterMs 0): far more turns of the loop than the 961 clock steps
    expect(sliced.turns).toBeGreaterThan(whole.turns + 10_000);
  });
});
