import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { replay } from '../../src/capture/replay.ts';
import { formatCaptureLine } from '../../src/capture/writer.ts';
import { SimClock } from '../../src/core/clock.ts';
import type { Market, OrderBook } from '../../src/core/messages.ts';
import { ONE } from '../../src/core/money.ts';
import type { FeedEvent } from '../../src/feeds/types.ts';
import { createDecoders } from '../../src/venues/registry.ts';
import { simulateFrames } from '../../src/venues/sim/feed.ts';
import { SimMarket } from '../../src/venues/sim/market.ts';
import { createRng } from '../../src/venues/sim/prng.ts';

const text = (opts: Parameters<typeof simulateFrames>[0]): string => {
  let s = '';
  for (const f of simulateFrames(opts)) s += `${formatCaptureLine(f)}\n`;
  return s;
};

describe('seeded PRNG', () => {
  it('is a pure function of the seed', () => {
    const a = createRng(42);
    const b = createRng(42);
    const xs = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(createRng(43).next()).not.toBe(xs[0]);
    expect(createRng(1).digits(77)).toMatch(/^[1-9]\d{76}$/);
  });
});

describe('simulated market', () => {
  it('gives byte-identical captures for the same seed and different ones for another', () => {
    const a = text({ seed: 7, minutes: 2 });
    const b = text({ seed: 7, minutes: 2 });
    expect(a.length).toBeGreaterThan(10_000);
    expect(b).toBe(a);
    expect(text({ seed: 8, minutes: 2 })).not.toBe(a);
    // the step used to drive the generator does not change the output
    expect(text({ seed: 7, minutes: 2, stepMs: 137 })).toBe(a);
  });

  it('gives the same frames when advance stops after a budget of frames and goes on in the next call', () => {
    const opts = { seed: 5, markets: 300, start: Date.UTC(2026, 10, 26, 14, 7, 0) };
    const whole = new SimMarket(opts);
    const sliced = new SimMarket(opts);
    const a: string[] = [];
    const b: string[] = [];
    let calls = 0;
    for (let t = whole.start; t <= whole.start + 20 * 60_000; t += 5_000) {
      for (const f of whole.advance(t)) a.push(JSON.stringify(f));
      do {
        for (const f of sliced.advance(t, 7)) b.push(JSON.stringify(f));
        calls++;
      } while (sliced.due(t));
      expect(sliced.time).toBe(whole.time);
    }
    // the 15-minute roll-over relists dozens of markets: many calls at one time
    expect(calls).toBeGreaterThan(240 + 50);
    expect(b.length).toBe(a.length);
    expect(b.join('\n')).toBe(a.join('\n'));
  });

  it('frames are those of the scan-based scheduler and strike probing (golden hash across roll-overs)', () => {
    // the event heap, the strike probe's jumps and the group index replaced linear scans (O(N²) at 100k markets):
    // the frames must stay byte for byte those of the original code, through the 15- and 30-minute roll-overs
    const sim = new SimMarket({ seed: 5, markets: 300, start: Date.UTC(2026, 10, 26, 14, 7, 0) });
    const h = createHash('sha256');
    let n = 0;
    for (let t = sim.start; t <= sim.start + 40 * 60_000; t += 1000) {
      for (const f of sim.advance(t)) {
        h.update(JSON.stringify(f));
        n++;
      }
    }
    expect(sim.stats.resolutions).toBeGreaterThan(0);
    // 89,254: the 600 first book snapshots come in two frames of at most 500 (listing pages); with the two
    // re-merged into one, the stream hashes to the original golden value 23d6e067…a52e (89,253 frames)
    expect(n).toBe(89_254);
    expect(h.digest('hex')).toBe('16e697580ad693e2f480f209249f5816d318d7a2ac17535e156e96c87de9788d');
  });

  it('emits the real wire formats under sim. sources', () => {
    const frames = [...simulateFrames({ seed: 3, minutes: 1 })];
    const sources = new Set(frames.map((f) => f.source));
    for (const s of [
      'sim.polymarket.gamma.markets',
      'sim.polymarket.gamma.events',
      'sim.polymarket.ws.market',
      'sim.kalshi.rest.markets',
      'sim.kalshi.rest.events',
      'sim.kalshi.ws',
      'sim.binance.ws',
      'sim.chainlink.ws',
    ]) {
      expect(sources.has(s), s).toBe(true);
    }
    const gamma = frames.find((f) => f.source === 'sim.polymarket.gamma.markets')!.data as Record<
      string,
      unknown
    >[];
    const g = gamma[0]!;
    // P1: JSON-encoded string arrays; P13: feeSchedule
    expect(typeof g.outcomes).toBe('string');
    expect(JSON.parse(g.clobTokenIds as string)).toHaveLength(2);
    expect(JSON.parse(g.outcomePrices as string)).toHaveLength(2);
    expect(g.feeSchedule).toMatchObject({ exponent: 1, takerOnly: true });
    expect(g.question).toMatch(
      /^Will the price of (Bitcoin|Ethereum) be (above|below) \$[\d,]+ on \w+ \d+, 2026 at \d+:\d\d [AP]M ET\?$/,
    );
    const kalshi = (
      frames.find((f) => f.source === 'sim.kalshi.rest.markets')!.data as {
        markets: Record<string, unknown>[];
      }
    ).markets[0]!;
    expect(kalshi.ticker).toMatch(/^KX(BTC|ETH)D-\d\d[A-Z]{3}\d{4,6}-T\d+$/);
    expect(kalshi.yes_bid_dollars).toMatch(/^\d\.\d{4}$/);
    expect(kalshi.yes_bid_size_fp).toMatch(/^\d+\.\d\d$/);
    // P8: Polymarket books list bids ascending and asks descending (best last)
    const snap = (
      frames.find((f) => f.source === 'sim.polymarket.ws.market')!.data as {
        bids: { price: string }[];
        asks: { price: string }[];
      }[]
    )[0]!;
    const bids = snap.bids.map((l) => Number(l.price));
    const asks = snap.asks.map((l) => Number(l.price));
    expect([...bids].sort((x, y) => x - y)).toEqual(bids);
    expect([...asks].sort((x, y) => y - x)).toEqual(asks);
    // Kalshi WS seq increases by one per orderbook message of sid 1
    const seqs = frames
      .filter((f) => f.source === 'sim.kalshi.ws' && (f.data as { sid: number }).sid === 1)
      .map((f) => (f.data as { seq: number }).seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    // timestamps never go backwards
    expect(frames.every((f, i) => i === 0 || f.ts >= frames[i - 1]!.ts)).toBe(true);
  });

  it('replays through the real decoders with no rejections: markets on both venues, books, trades, resolutions', async () => {
    const sim = new SimMarket({ seed: 5, mispricingRate: 12 });
    const frames = [...simulateFrames({ seed: 5, minutes: 31, mispricingRate: 12 })];
    const decoders = createDecoders();
    const markets = new Map<string, Market>();
    const books = new Map<string, OrderBook>();
    const resolutions: string[] = [];
    // mispricings seen in the decoded books
    const seen = new Set<string>();
    const info = (() => {
      sim.advance(sim.start);
      return sim.describe();
    })();
    const best = (tok: string, side: 'bids' | 'asks'): number | undefined => books.get(tok)?.[side][0]?.[0];
    const check = (): void => {
      for (const p of info.pairs) {
        if (p.inverted) continue;
        const pmBid = best(`polymarket:${p.polymarket.yesToken}`, 'bids');
        const pmAsk = best(`polymarket:${p.polymarket.yesToken}`, 'asks');
        const kxBid = best(`kalshi:${p.kalshi.yesToken}`, 'bids');
        const kxAsk = best(`kalshi:${p.kalshi.yesToken}`, 'asks');
        if (
          (pmBid !== undefined && kxAsk !== undefined && pmBid > kxAsk) ||
          (kxBid !== undefined && pmAsk !== undefined && kxBid > pmAsk)
        ) {
          seen.add('cross_venue');
        }
        const noAsk = best(`polymarket:${p.polymarket.noToken}`, 'asks');
        if (pmAsk !== undefined && noAsk !== undefined && pmAsk + noAsk < ONE) seen.add('rebalancing');
      }
      const asks = info.negRisk.map((m) => best(`polymarket:${m.yesToken}`, 'asks'));
      if (asks.every((a) => a !== undefined) && asks.reduce((s, a) => s! + a!, 0)! < ONE) seen.add('negrisk');
      const crypto = info.pairs.filter((p) => p.kind === 'crypto' && !p.inverted);
      for (const lo of crypto) {
        for (const hi of crypto) {
          if (lo.group !== hi.group || hi.strike! <= lo.strike!) continue;
          const hiBid = best(`polymarket:${hi.polymarket.yesToken}`, 'bids');
          const loAsk = best(`polymarket:${lo.polymarket.yesToken}`, 'asks');
          if (hiBid !== undefined && loAsk !== undefined && hiBid > loAsk) seen.add('combinatorial');
        }
      }
    };
    let n = 0;
    let crossed = 0;
    const result = await replay({
      frames,
      clock: new SimClock(),
      decoders,
      publish: (e: FeedEvent) => {
        if (e.type === 'market') markets.set(`${e.venue}:${e.marketId}`, e);
        if (e.type === 'book') {
          books.set(`${e.venue}:${e.tokenId}`, e);
          const bid = e.bids[0]?.[0];
          const ask = e.asks[0]?.[0];
          if (bid !== undefined && ask !== undefined && bid >= ask) crossed++;
        }
        if (e.type === 'resolution') resolutions.push(`${e.venue}:${e.marketId}`);
        if (e.type === 'book' && ++n % 25 === 0) check();
      },
    });
    // a single book is never crossed or locked (mispricings are between books)
    expect(crossed).toBe(0);
    // every simulated frame, venues and oracles, parses with the real decoders
    expect(result.rejected).toEqual({ total: 0, reasons: {} });
    expect(result.events.tick).toBeGreaterThan(1000);
    expect([...markets.values()].filter((m) => m.venue === 'polymarket').length).toBeGreaterThanOrEqual(
      12 + 3 + 5,
    );
    expect([...markets.values()].filter((m) => m.venue === 'kalshi').length).toBeGreaterThanOrEqual(12 + 3);
    expect(result.events.book).toBeGreaterThan(1000);
    expect(result.events.trade).toBeGreaterThan(10);
    // the 15- and 30-minute markets resolved on both venues (and rolled over)
    expect(resolutions.filter((r) => r.startsWith('polymarket:')).length).toBeGreaterThanOrEqual(6);
    expect(resolutions.filter((r) => r.startsWith('kalshi:')).length).toBeGreaterThanOrEqual(6);
    // the pairs describe the same asset, strike and expiry on both venues
    for (const p of info.pairs.filter((q) => q.kind === 'crypto')) {
      const pm = markets.get(`polymarket:${p.polymarket.marketId}`)!;
      const kx = markets.get(`kalshi:${p.kalshi.marketId}`)!;
      expect(pm.endTime).toBe(kx.endTime);
      const strike = p.strike!.toLocaleString('en-US');
      expect(pm.question).toContain(`$${strike}`);
      expect(kx.rules).toContain(`$${strike}.00`);
      expect(pm.question).toContain(p.inverted ? 'below' : 'above');
      const source = p.settlement === 'binance' ? 'Binance' : 'Chainlink';
      expect(pm.rules).toContain(source);
      expect(kx.rules).toContain(source);
    }
    // the negRisk event: one group, with a placeholder "Other"
    const group = [...markets.values()].filter((m) => m.negRiskGroup !== undefined);
    expect(group).toHaveLength(5);
    expect(new Set(group.map((m) => m.negRiskGroup)).size).toBe(1);
    expect(group.filter((m) => m.placeholder === true).map((m) => m.question)).toEqual([
      'Will another person win the 2028 Democratic presidential nomination?',
    ]);
    // injected mispricings show up in the decoded books
    expect([...seen].sort()).toEqual(['combinatorial', 'cross_venue', 'negrisk', 'rebalancing']);
  });
});
