import { afterEach, describe, expect, it } from 'vitest';
import { wallClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { RawFrame } from '../../src/feeds/types.ts';
import { createBinanceDecoder } from '../../src/oracles/binance/decoder.ts';
import {
  type BinanceFeed,
  type BinanceFeedOptions,
  createBinanceFeed,
} from '../../src/oracles/binance/feed.ts';
import { createLiveFeed } from '../../src/venues/live-feeds.ts';
import { type BinanceFake, startBinanceFake } from '../fakes/binance-server.ts';
import { waitFor } from '../fakes/ws-fake.ts';
import { collect } from '../venues/kalshi/collect.ts';

let fake: BinanceFake | undefined;
let feed: BinanceFeed | undefined;
afterEach(async () => {
  await feed?.stop();
  await fake?.close();
  feed = undefined;
  fake = undefined;
});

async function setup(over: Partial<BinanceFeedOptions> = {}) {
  fake = await startBinanceFake();
  fake.setPrice('BTCUSDT', '60740.00000000');
  fake.setPrice('ETHUSDT', '4149.74000000');
  const frames: RawFrame[] = [];
  const dec = createBinanceDecoder();
  const sink = collect();
  feed = createBinanceFeed({
    wsUrl: fake.wsUrl,
    restUrl: fake.restUrl,
    symbols: ['BTC/USDT', 'ETHUSDT'],
    now: () => Date.now(),
    pollMs: 50,
    wsBackoff: { baseMs: 10, maxMs: 40 },
    backoff: { baseMs: 200, maxMs: 200 },
    ...over,
  });
  await feed.start((f) => {
    frames.push(f);
    dec.decode(f, sink);
  });
  await fake.ws.waitForConnection(1);
  await waitFor(() => feed!.health().connected, 5_000, 'connected');
  return { fake, feed, frames, dec, sink };
}

describe('binance feed against a fake Binance', () => {
  it('streams combined trade and bookTicker frames into ticks', async () => {
    const { fake, sink } = await setup();
    const conn = fake.ws.connections[0]!;
    expect(conn.path).toBe(
      '/stream?streams=btcusdt@trade/btcusdt@bookTicker/ethusdt@trade/ethusdt@bookTicker',
    );
    fake.bookTicker('BTCUSDT', '60741.67000000', '60741.68000000');
    fake.trade('BTCUSDT', '60741.68000000', '0.01000000', 1_700_000_000_000);
    await waitFor(() => sink.ticks().length === 2, 5_000, 'two ticks');
    expect(sink.ticks()[0]).toMatchObject({
      symbol: 'BTC/USDT',
      price: 6_074_167_500_000,
      bid: 6_074_167_000_000,
      ask: 6_074_168_000_000,
    });
    expect(sink.ticks()[1]).toMatchObject({
      symbol: 'BTC/USDT',
      price: 6_074_168_000_000,
      eventTime: 1_700_000_000_000,
      stale: false,
    });
    expect(sink.rejects).toEqual([]);
  });

  it('sends added streams as SUBSCRIBE requests under the outgoing message limit (B6)', async () => {
    const { fake, feed, sink } = await setup({ outgoingPerSecond: 2 });
    feed.addStreams(['solusdt@trade']);
    feed.addStreams(['xrpusdt@trade']);
    feed.addStreams(['dogeusdt@trade']);
    feed.addStreams(['bnbusdt@trade']);
    feed.addStreams(['btcusdt@trade']); // already there: nothing to send
    // the bucket holds 2: two went out at once, two wait their turn
    expect(feed.health().subscribesSent).toBe(2);
    expect(feed.pendingSends()).toBe(2);
    await waitFor(() => fake.subscribes().length === 4, 5_000, 'all subscribes');
    expect(fake.subscribes().map((s) => s.params)).toEqual([
      ['solusdt@trade'],
      ['xrpusdt@trade'],
      ['dogeusdt@trade'],
      ['bnbusdt@trade'],
    ]);
    expect(fake.subscribes().map((s) => s.id)).toEqual([1, 2, 3, 4]);
    fake.trade('SOLUSDT', '150.12000000', '1.00000000', 5);
    await waitFor(() => sink.ticks().some((t) => t.symbol === 'SOL/USDT'), 5_000, 'sol tick');
    expect(sink.rejects).toEqual([]); // {"result":null,"id":n} replies are accepted
    expect(feed.streams()).toHaveLength(8);
  });

  it('polls REST while the socket is down, then goes back to the socket', async () => {
    const { fake, feed, sink, frames } = await setup();
    fake.ws.setRefusing(true);
    fake.ws.dropAll();
    await waitFor(() => frames.some((f) => f.source === 'binance.rest.ticker'), 5_000, 'REST poll');
    const rest = frames.find((f) => f.source === 'binance.rest.ticker')!;
    expect(rest.req).toEqual({
      method: 'GET',
      path: '/api/v3/ticker/price',
      query: { symbols: '["BTCUSDT","ETHUSDT"]' },
    });
    const restTicks = sink.ticks().filter((t) => !t.stale);
    expect(restTicks.map((t) => [t.symbol, t.price])).toEqual([
      ['BTC/USDT', 6_074_000_000_000],
      ['ETH/USDT', 414_974_000_000],
    ]);
    fake.ws.setRefusing(false);
    await waitFor(() => feed.health().connected && fake.ws.connections.length >= 2, 5_000, 'reconnected');
    fake.trade('ETHUSDT', '4150.00000000', '1.00000000', 9);
    await waitFor(() => sink.ticks().at(-1)?.price === 415_000_000_000, 5_000, 'ws tick after reconnect');
    expect(feed.health().restPolls).toBeGreaterThan(0);
  });

  it('drops a REST answer that lands after the socket came back (older than what the socket sends)', async () => {
    const { fake, feed, sink } = await setup();
    // the next poll answers late, with a price the socket never sends
    fake.http.script('GET', '/api/v3/ticker/price', [
      {
        delayMs: 2_500,
        body: [
          { symbol: 'BTCUSDT', price: '60000.00000000' },
          { symbol: 'ETHUSDT', price: '4000.00000000' },
        ],
      },
    ]);
    fake.ws.setRefusing(true);
    fake.ws.dropAll();
    await waitFor(() => Number(feed.health().restPolls) > 0, 5_000, 'a poll in flight');
    const reconnectFrom = Date.now();
    fake.ws.setRefusing(false);
    await waitFor(() => feed.health().connected && fake.ws.connections.length >= 2, 5_000, 'reconnected');
    const reconnectMs = Date.now() - reconnectFrom;
    fake.trade('ETHUSDT', '4150.00000000', '1.00000000', 9);
    await waitFor(() => sink.ticks().some((t) => t.price === 415_000_000_000), 5_000, 'ws tick');
    await new Promise((r) => setTimeout(r, 2_700)); // past the late answer
    // the check means something only if the socket was back before the late answer (2.5 s)
    expect(reconnectMs).toBeLessThan(2_500);
    expect(sink.ticks().some((t) => t.price === 400_000_000_000)).toBe(false);
    expect(sink.ticks().at(-1)?.price).toBe(415_000_000_000);
  });

  it('pauses polling after 429 and 418 answers', async () => {
    const { fake, feed } = await setup({ symbols: ['BTCUSDT'] });
    fake.http.script('GET', '/api/v3/ticker/price', [
      { status: 429, body: { code: -1003, msg: 'Too many requests' }, headers: { 'retry-after': '0' } },
      { status: 418, body: { code: -1003, msg: 'banned' }, headers: { 'retry-after': '600' } },
    ]);
    fake.ws.setRefusing(true);
    fake.ws.dropAll();
    await waitFor(() => feed.health().bans === 1, 5_000, '418');
    const h = feed.health();
    expect(h.rateLimited).toBe(1);
    expect(Number(h.pausedUntil)).toBeGreaterThan(Date.now() + 500_000);
    // banned: no further polls reach the server
    const polls = fake.http.count('GET', '/api/v3/ticker/price');
    const skipped = Number(feed.health().pollsPaused);
    await waitFor(() => Number(feed.health().pollsPaused) >= skipped + 3, 5_000, 'paused polls');
    expect(fake.http.count('GET', '/api/v3/ticker/price')).toBe(polls);
  });

  it('keeps polling through 500s, slow answers and dropped connections', async () => {
    const { fake, feed, frames } = await setup({ symbols: ['BTCUSDT'], timeoutMs: 150 });
    fake.http.script('GET', '/api/v3/ticker/price', [
      { status: 500, body: { code: -1000, msg: 'internal' } },
      { delayMs: 1_000, body: { symbol: 'BTCUSDT', price: '1.00000000' } },
      { drop: true },
      { raw: '{"symbol":' },
    ]);
    fake.ws.setRefusing(true);
    fake.ws.dropAll();
    await waitFor(() => frames.some((f) => f.source === 'binance.rest.ticker'), 5_000, 'a good poll');
    const h = feed.health();
    expect(h.restFailures).toBe(4);
    expect(h.rateLimited).toBe(0);
    // only the good answer became a frame; the slow one was abandoned at the timeout
    expect(frames.filter((f) => f.source === 'binance.rest.ticker').map((f) => f.data)[0]).toEqual({
      symbol: 'BTCUSDT',
      price: '60740.00000000',
    });
  });

  it('reconnects at once on serverShutdown, marking ticks stale meanwhile', async () => {
    const { fake, feed, sink } = await setup();
    fake.trade('BTCUSDT', '60000.00000000', '1.00000000', 1);
    await waitFor(() => sink.ticks().length === 1, 5_000, 'tick');
    fake.shutdown();
    await waitFor(
      () => fake.ws.connections.length === 2 && feed.health().connected,
      5_000,
      'reconnect after shutdown',
    );
    expect(feed.health().shutdowns).toBe(1);
    expect(sink.ticks().some((t) => t.stale && t.symbol === 'BTC/USDT')).toBe(true);
  });

  it('reconnects before the maximum connection age and on silence', async () => {
    const { fake, feed } = await setup({ maxConnectionAgeMs: 150 });
    await waitFor(
      () => Number(feed.health().ageReconnects) >= 1 && fake.ws.connections.length >= 2,
      5_000,
      'age reconnect',
    );
    await feed.stop();
    await fake.close();
    const s = await setup({ silenceMs: 150, pingMs: 60_000 });
    await waitFor(() => Number(s.feed.health().silenceReconnects) >= 1, 5_000, 'silence reconnect');
  });

  it('passes malformed JSON to the decoder, which rejects it, and keeps streaming', async () => {
    const { fake, sink } = await setup();
    fake.ws.broadcast('{"stream":"btcusdt@trade","data":');
    fake.trade('BTCUSDT', '61000.00000000', '1.00000000', 2);
    await waitFor(() => sink.ticks().length === 1, 5_000, 'tick after junk');
    expect(sink.rejects).toEqual([{ source: 'binance.ws', reason: 'websocket frame is not JSON' }]);
  });
});

describe('the live binance feed of the registry', () => {
  it('connects to BINANCE_WS_URL (a local fake here) and streams its trades', async () => {
    fake = await startBinanceFake();
    const config = loadConfig({ BINANCE_WS_URL: fake.wsUrl, BINANCE_API_URL: fake.restUrl });
    const source = createLiveFeed('binance', { config, clock: wallClock(), log: silentLogger() });
    feed = source as BinanceFeed;
    const dec = createBinanceDecoder();
    const sink = collect();
    await source.start((f) => dec.decode(f, sink));
    await fake.ws.waitForConnection(1);
    fake.trade('BTCUSDT', '60741.68000000', '0.01000000', 1_700_000_000_000);
    await waitFor(() => sink.ticks().length === 1, 5_000, 'a tick');
    expect(sink.ticks()[0]).toMatchObject({ symbol: 'BTC/USDT', price: 6_074_168_000_000 });
  });
});
