import { afterEach, describe, expect, it } from 'vitest';
import { createVenueWatcher } from '../../src/agents/venue-watcher.ts';
import { AgentRuntime, type Kernel } from '../../src/core/agent.ts';
import { channels } from '../../src/core/channels.ts';
import type { Market, OrderBook, TradePrint } from '../../src/core/messages.ts';
import { createKalshiDecoder } from '../../src/venues/kalshi/decoder.ts';
import { createPolymarketDecoder } from '../../src/venues/polymarket/decoder.ts';
import { createSimHub } from '../../src/venues/sim/feed.ts';
import { fixtureJson, fixtureJsonl } from '../helpers/fixtures.ts';
import { scriptedSource, simKernel } from './feed-helpers.ts';

const KALSHI = fixtureJsonl<Record<string, unknown>>('kalshi/ws-session.jsonl');
const T0 = 1_777_906_960_000;
const TICKER = 'KXHIGHNY-26MAY04-T80';

let kernel: Kernel | undefined;
afterEach(async () => {
  await kernel?.bus.close();
  kernel = undefined;
});

function collect(k: Kernel) {
  const books: OrderBook[] = [];
  const markets: Market[] = [];
  const trades: TradePrint[] = [];
  k.bus.subscribe(channels.books('kalshi'), { group: 'test' }, (m) => {
    books.push(m.body);
  });
  k.bus.subscribe(channels.books('polymarket'), { group: 'test' }, (m) => {
    books.push(m.body);
  });
  k.bus.subscribe(channels.markets('polymarket'), { group: 'test' }, (m) => {
    markets.push(m.body);
  });
  k.bus.subscribe(channels.markets('kalshi'), { group: 'test' }, (m) => {
    markets.push(m.body);
  });
  k.bus.subscribe(channels.trades('polymarket'), { group: 'test' }, (m) => {
    trades.push(m.body);
  });
  return { books, markets, trades };
}

describe('venue watcher', () => {
  it('publishes books; a feed silent for STALE_AFTER_MS (no frame, no heartbeat) flags them stale once; the next update is fresh', async () => {
    const sk = simKernel(T0);
    kernel = sk.kernel;
    const { clock } = sk;
    const out = collect(kernel);
    const source = scriptedSource();
    const watcher = createVenueWatcher({
      venue: 'kalshi',
      source,
      decoder: createKalshiDecoder(),
      checkEveryMs: 500,
    });
    const rt = new AgentRuntime(kernel, watcher);
    await rt.start();

    source.push({ ts: T0, source: 'kalshi.ws', data: KALSHI[1] });
    await kernel.bus.idle();
    expect(out.books.map((b) => [b.tokenId, b.stale])).toEqual([
      [`${TICKER}:yes`, false],
      [`${TICKER}:no`, false],
    ]);
    expect(watcher.health!()).toMatchObject({ connected: true, books: 2, framesRejected: 0, reconnects: 0 });

    // 4.9 s later nothing is stale yet
    clock.advanceTo(T0 + 4_900);
    await kernel.bus.idle();
    expect(out.books).toHaveLength(2);
    // past 5 s of silence (config.risk.staleAfterMs; this source reports no heartbeat) both are republished, stale
    clock.advanceTo(T0 + 5_500);
    await kernel.bus.idle();
    expect(out.books.slice(2).map((b) => [b.tokenId, b.stale, b.receiveTime])).toEqual([
      [`${TICKER}:yes`, true, T0 + 5_000],
      [`${TICKER}:no`, true, T0 + 5_000],
    ]);
    expect(out.books[2]!.bids).toEqual(out.books[0]!.bids);
    clock.advanceTo(T0 + 20_000);
    await kernel.bus.idle();
    expect(out.books).toHaveLength(4);
    expect(watcher.health!()).toMatchObject({ stale: 2, lastMessageAgeMs: 20_000 });

    // the next update makes the book fresh
    source.push({ ts: T0 + 20_000, source: 'kalshi.ws', data: KALSHI[2] });
    await kernel.bus.idle();
    const fresh = out.books.slice(4);
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh.every((b) => !b.stale)).toBe(true);
    await rt.stop();
  });

  it('a quiet book on a heartbeating feed stays fresh: nobody trading is not staleness', async () => {
    const sk = simKernel(T0);
    kernel = sk.kernel;
    const { clock } = sk;
    const out = collect(kernel);
    const inner = scriptedSource();
    // the transport hears the venue (pongs) although no data frame comes
    const source = { ...inner, health: () => ({ ...inner.health(), lastAliveAt: clock.now() }) };
    const watcher = createVenueWatcher({
      venue: 'kalshi',
      source,
      decoder: createKalshiDecoder(),
      checkEveryMs: 500,
    });
    const rt = new AgentRuntime(kernel, watcher);
    await rt.start();
    inner.push({ ts: T0, source: 'kalshi.ws', data: KALSHI[1] });
    for (let t = T0; t <= T0 + 600_000; t += 10_000) {
      clock.advanceTo(t);
      await kernel.bus.idle();
    }
    expect(out.books.map((b) => b.stale)).toEqual([false, false]);
    expect(watcher.health!()).toMatchObject({ stale: 0 });
    await rt.stop();
  });

  it('after a reconnect a delta is not fresh: the book waits for the venue snapshot', async () => {
    const sk = simKernel(T0);
    kernel = sk.kernel;
    const out = collect(kernel);
    const source = scriptedSource();
    const watcher = createVenueWatcher({ venue: 'polymarket', source, decoder: createPolymarketDecoder() });
    const rt = new AgentRuntime(kernel, watcher);
    await rt.start();
    const pm = (f: string) => fixtureJson<Record<string, unknown>>(`polymarket/${f}`);
    const ws = (data: unknown) => source.push({ ts: T0, source: 'polymarket.ws.market', data });
    ws(pm('ws-book.json'));
    ws(pm('ws-connection-down.json')); // the live feed's marker: the socket carrying this asset dropped
    ws({ ...pm('ws-connection-down.json'), state: 'up' });
    ws(pm('ws-price-change.json')); // first delta on the new connection
    await kernel.bus.idle();
    expect(out.books.map((b) => b.stale)).toEqual([false, true, true]);
    expect(watcher.health!()).toMatchObject({ stale: 1 });
    ws(pm('ws-book.json')); // the snapshot
    await kernel.bus.idle();
    expect(out.books.at(-1)!.stale).toBe(false);
    expect(watcher.health!()).toMatchObject({ stale: 0 });
    await rt.stop();
  });

  it('marks every book stale on a disconnect and counts rejected frames', async () => {
    const sk = simKernel(T0);
    kernel = sk.kernel;
    const { clock } = sk;
    const out = collect(kernel);
    const source = scriptedSource();
    const watcher = createVenueWatcher({
      venue: 'kalshi',
      source,
      decoder: createKalshiDecoder(),
      checkEveryMs: 100,
    });
    const rt = new AgentRuntime(kernel, watcher);
    await rt.start();
    source.push({ ts: T0, source: 'kalshi.ws', data: KALSHI[1] });
    source.push({
      ts: T0,
      source: 'kalshi.ws',
      data: { type: 'orderbook_delta', sid: 1, seq: 2, msg: { nonsense: true } },
    });
    source.push({ ts: T0, source: 'polymarket.ws.market', data: {} });
    await kernel.bus.idle();
    expect(watcher.health!().framesRejected).toBe(2);

    source.setConnected(false);
    source.reconnects = 1;
    clock.advanceTo(T0 + 100);
    await kernel.bus.idle();
    const stale = out.books.filter((b) => b.stale);
    expect(stale.map((b) => b.tokenId).sort()).toEqual([`${TICKER}:no`, `${TICKER}:yes`]);
    expect(watcher.health!()).toMatchObject({ connected: false, reconnects: 1, stale: 2 });
    await rt.stop();
  });

  it('runs the simulated market end to end on a SimClock: markets, books and trades from the sim hub', async () => {
    const start = Date.UTC(2026, 10, 26, 14, 0, 0);
    const sk = simKernel(start);
    kernel = sk.kernel;
    const { clock } = sk;
    const out = collect(kernel);
    const hub = createSimHub({ seed: 2, clock, intervalMs: 100 });
    const pm = createVenueWatcher({
      venue: 'polymarket',
      source: hub.source('sim-pm', ['polymarket.']),
      decoder: createPolymarketDecoder(),
    });
    const kx = createVenueWatcher({
      venue: 'kalshi',
      source: hub.source('sim-kx', ['kalshi.']),
      decoder: createKalshiDecoder(),
    });
    const rts = [new AgentRuntime(kernel, pm), new AgentRuntime(kernel, kx)];
    for (const rt of rts) await rt.start();
    for (let t = start; t <= start + 60_000; t += 1000) {
      clock.advanceTo(t);
      await kernel.bus.idle();
    }
    expect(out.markets.filter((m) => m.venue === 'polymarket').length).toBeGreaterThanOrEqual(20);
    expect(out.markets.filter((m) => m.venue === 'kalshi').length).toBeGreaterThanOrEqual(15);
    expect(out.books.filter((b) => !b.stale).length).toBeGreaterThan(100);
    expect(out.trades.length).toBeGreaterThan(0);
    expect(pm.health!()).toMatchObject({ connected: true, framesRejected: 0 });
    expect(kx.health!()).toMatchObject({ connected: true, framesRejected: 0 });
    expect(pm.frames).toBeGreaterThan(0);
    for (const rt of rts) await rt.stop();
    expect(pm.health!().connected).toBe(false);
  });

  it('survives a source that fails to start: reports it and retries on the clock', async () => {
    const sk = simKernel(T0);
    kernel = sk.kernel;
    const { clock } = sk;
    const out = collect(kernel);
    const inner = scriptedSource();
    let attempts = 0;
    const flaky = {
      ...inner,
      async start(cb: Parameters<typeof inner.start>[0]) {
        attempts++;
        if (attempts < 3) throw new Error('venue unreachable');
        await inner.start(cb);
      },
    };
    const watcher = createVenueWatcher({ venue: 'kalshi', source: flaky, decoder: createKalshiDecoder() });
    const rt = new AgentRuntime(kernel, watcher);
    await rt.start();
    expect(rt.state).toBe('running');
    expect(watcher.health!()).toMatchObject({ connected: false, startFailures: 1 });
    const settle = () => new Promise<void>((r) => setImmediate(r));
    clock.advanceTo(T0 + 5_000); // second attempt (jittered, within 5 s) fails, the next within 10 s
    await settle();
    expect(attempts).toBe(2);
    clock.advanceTo(T0 + 15_000);
    await settle();
    expect(attempts).toBe(3);
    expect(watcher.health!()).toMatchObject({ connected: true, startFailures: 2 });
    inner.push({ ts: T0 + 15_000, source: 'kalshi.ws', data: KALSHI[1] });
    await kernel.bus.idle();
    expect(out.books).toHaveLength(2);
    await rt.stop();
  });

  it('markStale(keys) flags only the instruments a transport lost', async () => {
    const sk = simKernel(T0);
    kernel = sk.kernel;
    const out = collect(kernel);
    const source = scriptedSource();
    const watcher = createVenueWatcher({ venue: 'kalshi', source, decoder: createKalshiDecoder() });
    const rt = new AgentRuntime(kernel, watcher);
    await rt.start();
    source.push({ ts: T0, source: 'kalshi.ws', data: KALSHI[1] });
    await kernel.bus.idle();
    watcher.markStale([`kalshi:${TICKER}:yes`]);
    watcher.markStale([`kalshi:${TICKER}:yes`]); // once only
    await kernel.bus.idle();
    expect(out.books.slice(2).map((b) => [b.tokenId, b.stale])).toEqual([[`${TICKER}:yes`, true]]);
    expect(watcher.health!()).toMatchObject({ stale: 1 });
    await rt.stop();
  });
});

describe('venue watcher: roll-overs', () => {
  it("forgets a resolved market's books (and their staleness): what it tracks stays within the live markets", async () => {
    const start = Date.UTC(2026, 10, 26, 14, 0, 0);
    const sk = simKernel(start);
    kernel = sk.kernel;
    const { clock } = sk;
    const out = collect(kernel);
    const hub = createSimHub({ seed: 3, clock, intervalMs: 1000 });
    const pm = createVenueWatcher({
      venue: 'polymarket',
      source: hub.source('sim-pm', ['polymarket.']),
      decoder: createPolymarketDecoder(),
    });
    const rt = new AgentRuntime(kernel, pm);
    await rt.start();
    const sizes: number[] = [];
    for (let t = start; t <= start + 40 * 60_000; t += 1000) {
      clock.advanceTo(t);
      await kernel.bus.idle();
      if ((t - start) % (10 * 60_000) === 0) {
        const last = new Map<string, Market>();
        for (const m of out.markets) last.set(m.marketId, m);
        const live = new Set<string>();
        for (const m of last.values())
          if (m.status !== 'resolved') for (const o of m.outcomes) live.add(o.tokenId);
        const tracked = pm.health!().books as number;
        // every tracked book is a live market's token
        expect(tracked).toBeLessThanOrEqual(live.size);
        sizes.push(tracked);
      }
    }
    // markets did resolve (and relist) meanwhile
    expect(out.markets.some((m) => m.status === 'resolved')).toBe(true);
    const everListed = new Set(out.markets.flatMap((m) => m.outcomes.map((o) => o.tokenId))).size;
    expect(sizes.at(-1)!).toBeLessThan(everListed);
    await rt.stop();
  }, 120_000);
});
