/**
 * The simulator's stress options: an oracle crash, wider spreads, a venue that goes silent — and the same frames
 * as without stress until the stress begins.
 */
import { describe, expect, it } from 'vitest';
import { formatCaptureLine } from '../../src/capture/writer.ts';
import { parseStress } from '../../src/cli/commands/simulate.ts';
import { UsageError } from '../../src/cli/main.ts';
import type { RawFrame } from '../../src/feeds/types.ts';
import { simulateFrames } from '../../src/venues/sim/feed.ts';
import { DEFAULT_SIM_START, stressPreset } from '../../src/venues/sim/market.ts';

const MIN = 60_000;
/** Binance BTC trade prices, in time order. */
const btc = (frames: readonly RawFrame[]) =>
  frames
    .filter((f) => f.source === 'sim.binance.ws' && (f.data as { stream: string }).stream === 'btcusdt@trade')
    .map((f) => ({ ts: f.ts, price: Number((f.data as { data: { p: string } }).data.p) }));
/** Best bid/ask spread (cents) of Polymarket book snapshots and price changes, per frame. */
const spreads = (frames: readonly RawFrame[]) =>
  frames
    .filter((f) => f.source === 'sim.polymarket.ws.market' && !Array.isArray(f.data))
    .flatMap((f) =>
      ((f.data as { price_changes?: { best_bid: string; best_ask: string }[] }).price_changes ?? []).map(
        (c) => ({ ts: f.ts, cents: Math.round((Number(c.best_ask) - Number(c.best_bid)) * 100) }),
      ),
    );

describe('simulator stress', () => {
  it('crashes the oracle 30% in a minute, widens spreads, drops a venue — and is the same world before', () => {
    const stress = {
      crashAtMs: 2 * MIN,
      crashPct: 30,
      crashMs: MIN,
      spreadMult: 4,
      spreadAtMs: 2 * MIN,
      dropVenue: 'kalshi' as const,
      dropAtMs: 4 * MIN,
    };
    const calm = [...simulateFrames({ seed: 7, minutes: 5 })];
    const hit = [...simulateFrames({ seed: 7, minutes: 5, stress })];
    const upToStress = (fs: RawFrame[]) =>
      fs.filter((f) => f.ts <= DEFAULT_SIM_START + 2 * MIN).map(formatCaptureLine);
    expect(upToStress(hit)).toEqual(upToStress(calm));

    const prices = btc(hit);
    const at = (t: number) => prices.filter((p) => p.ts <= DEFAULT_SIM_START + t).at(-1)!.price;
    const fall = at(3 * MIN) / at(2 * MIN);
    expect(fall).toBeGreaterThan(0.66);
    expect(fall).toBeLessThan(0.74);
    const calmFall =
      btc(calm)
        .filter((p) => p.ts <= DEFAULT_SIM_START + 3 * MIN)
        .at(-1)!.price / at(2 * MIN);
    expect(calmFall).toBeGreaterThan(0.95);

    const wide = spreads(hit).filter((s) => s.ts > DEFAULT_SIM_START + 2 * MIN);
    const narrow = spreads(calm).filter((s) => s.ts > DEFAULT_SIM_START + 2 * MIN);
    const mean = (xs: { cents: number }[]) => xs.reduce((a, x) => a + x.cents, 0) / xs.length;
    expect(mean(wide)).toBeGreaterThan(2.5 * mean(narrow));

    const kalshiAfter = (fs: RawFrame[]) =>
      fs.filter((f) => f.source.startsWith('sim.kalshi.') && f.ts >= DEFAULT_SIM_START + 4 * MIN);
    expect(kalshiAfter(calm).length).toBeGreaterThan(0);
    expect(kalshiAfter(hit)).toEqual([]);
    expect(
      hit.some((f) => f.source.startsWith('sim.polymarket.') && f.ts >= DEFAULT_SIM_START + 4 * MIN),
    ).toBe(true);
  });

  it('pm-arb simulate flags: the preset, finer flags on top, and what is wrong with a bad one', () => {
    expect(parseStress({}, 30)).toBeUndefined();
    expect(parseStress({ stress: true }, 30)).toEqual(stressPreset(30));
    expect(stressPreset(30)).toMatchObject({
      crashAtMs: 10 * MIN,
      crashPct: 30,
      spreadMult: 4,
      dropVenue: 'kalshi',
      dropAtMs: 20 * MIN,
    });
    expect(parseStress({ stress: true, crashPct: '50', dropVenue: 'polymarket' }, 30)).toMatchObject({
      crashPct: 50,
      dropVenue: 'polymarket',
      crashAtMs: 10 * MIN,
    });
    expect(parseStress({ crashAt: '2.5' }, 10)).toEqual({ crashAtMs: 150_000 });
    expect(() => parseStress({ dropVenue: 'binance' }, 10)).toThrow(UsageError);
    expect(() => parseStress({ dropVenue: 'binance' }, 10)).toThrow(
      '--drop-venue must be polymarket or kalshi, got "binance"',
    );
    expect(() => parseStress({ crashPct: '120' }, 10)).toThrow('--crash-pct must lie between 0 and 100');
    expect(() => parseStress({ spreadMult: '0.5' }, 10)).toThrow('--spread-mult must be 1 or more');
  });
});
