import { afterEach, describe, expect, it } from 'vitest';
import { OracleTickSchema } from '../../src/core/messages.ts';
import type { FrameSource, RawFrame } from '../../src/feeds/types.ts';
import { createChainlinkDecoder } from '../../src/oracles/chainlink/decoder.ts';
import { createChainlinkFeed } from '../../src/oracles/chainlink/feed.ts';
import { parseRtdsMessage, subscribeMessage } from '../../src/oracles/chainlink/parse.ts';
import { chainlinkReport } from '../../src/venues/sim/market.ts';
import { type ChainlinkFake, startChainlinkFake } from '../fakes/chainlink-server.ts';
import { waitFor } from '../fakes/ws-fake.ts';
import { fixtureJson } from '../helpers/fixtures.ts';
import { collect } from '../venues/kalshi/collect.ts';

// An RTDS update in the documented shape (topic crypto_prices_chainlink), with our own values.
const UPDATE = fixtureJson<{
  topic: string;
  type: string;
  timestamp: number;
  payload: Record<string, unknown>;
}>('chainlink/rtds-update.json');
const ws = (data: unknown, ts = 10): RawFrame => ({ ts, source: 'chainlink.ws', data });

describe('chainlink RTDS parse', () => {
  it('reads the documented update shape', () => {
    expect(parseRtdsMessage(UPDATE)).toEqual([
      { symbol: 'ETH/USD', price: 362_142_000_000, time: 1777903804490 },
    ]);
    // the simulator's reports have the same shape
    expect(
      parseRtdsMessage(chainlinkReport('SOL', 149.13, 5) as Parameters<typeof parseRtdsMessage>[0]),
    ).toEqual([{ symbol: 'SOL/USD', price: 14_913_000_000, time: 5 }]);
    // the JSON number is taken from its shortest decimal form, exactly
    const btc = { ...UPDATE, payload: { symbol: 'btc/usd', timestamp: 1, value: 66777.284797 } };
    expect(parseRtdsMessage(btc)).toEqual([{ symbol: 'BTC/USD', price: 6_677_728_479_700, time: 1 }]);
    // more than 8 decimals round half up; a plain-decimal full_accuracy_value wins
    const doge = { ...UPDATE, payload: { symbol: 'doge/usd', timestamp: 2, value: 0.089912345678 } };
    expect(parseRtdsMessage(doge)).toEqual([{ symbol: 'DOGE/USD', price: 8_991_235, time: 2 }]);
    const full = { ...UPDATE, payload: { ...UPDATE.payload, full_accuracy_value: '3621.421234567' } };
    expect(parseRtdsMessage(full)).toEqual([
      { symbol: 'ETH/USD', price: 362_142_123_457, time: 1777903804490 },
    ]);
  });

  it('reads an initial dump in time order, ignores other topics, rejects malformed payloads', () => {
    const dump = {
      topic: 'crypto_prices_chainlink',
      type: 'subscribe',
      timestamp: 5,
      payload: {
        symbol: 'btc/usd',
        data: [
          { timestamp: 3, value: 2 },
          { timestamp: 1, value: 1.5 },
        ],
      },
    };
    expect(parseRtdsMessage(dump)).toEqual([
      { symbol: 'BTC/USD', price: 150_000_000, time: 1 },
      { symbol: 'BTC/USD', price: 200_000_000, time: 3 },
    ]);
    expect(
      parseRtdsMessage({
        topic: 'crypto_prices',
        type: 'update',
        payload: { symbol: 'btcusdt', timestamp: 1, value: 2 },
      }),
    ).toBeNull();
    expect(parseRtdsMessage({ ...UPDATE, payload: { symbol: 'eth/usd', timestamp: 1, value: 'NaN' } })).toBe(
      'payload has a malformed value',
    );
    expect(parseRtdsMessage({ ...UPDATE, payload: { symbol: 'eth/usd', timestamp: 1, value: -3 } })).toBe(
      'payload has a malformed value',
    );
    expect(parseRtdsMessage({ ...UPDATE, payload: { timestamp: 1, value: 3 } })).toBe(
      'payload has no symbol',
    );
    expect(parseRtdsMessage({ type: 'update' })).toBe('message has no topic');
  });

  it('builds subscribe requests with the filter serialized into a string', () => {
    expect(subscribeMessage()).toEqual({
      action: 'subscribe',
      subscriptions: [{ topic: 'crypto_prices_chainlink', type: '*' }],
    });
    expect(JSON.stringify(subscribeMessage(['BTC/USD'], true))).toBe(
      '{"action":"subscribe","subscriptions":[{"topic":"crypto_prices_chainlink","type":"*","filters":"{\\"symbol\\":\\"btc/usd\\"}"}]}',
    );
  });
});

describe('chainlink decoder', () => {
  it('emits ticks with source chainlink, BTC/USD style symbols and the price time', () => {
    const dec = createChainlinkDecoder();
    const sink = collect();
    dec.decode(ws(UPDATE, 77), sink);
    expect(sink.ticks()).toEqual([
      {
        type: 'tick',
        source: 'chainlink',
        symbol: 'ETH/USD',
        price: 362_142_000_000,
        stale: false,
        eventTime: 1777903804490,
        receiveTime: 77,
      },
    ]);
    expect(OracleTickSchema.parse(sink.ticks()[0])).toBeTruthy();
  });

  it('handles arrays, keepalives, duplicates, symbol filters and connection drops', () => {
    const dec = createChainlinkDecoder({ symbols: ['BTC/USD', 'eth/usd'] });
    const sink = collect();
    const upd = (symbol: string, timestamp: number, value: number) => ({
      topic: 'crypto_prices_chainlink',
      type: 'update',
      timestamp,
      payload: { symbol, timestamp, value },
    });
    dec.decode(ws([upd('btc/usd', 1_000, 100), upd('sol/usd', 1_000, 5), upd('eth/usd', 1_000, 10)]), sink);
    dec.decode(ws('PONG'), sink);
    dec.decode(ws(''), sink);
    dec.decode(ws(upd('btc/usd', 1_000, 100)), sink); // duplicate
    dec.decode(ws(upd('btc/usd', 900, 99)), sink); // older
    dec.decode(ws(upd('btc/usd', 2_000, 101.5)), sink);
    expect(sink.ticks().map((t) => [t.symbol, t.price, t.eventTime])).toEqual([
      ['BTC/USD', 10_000_000_000, 1_000],
      ['ETH/USD', 1_000_000_000, 1_000],
      ['BTC/USD', 10_150_000_000, 2_000],
    ]);
    expect(dec.stats()).toMatchObject({ duplicates: 2, rejected: 0 });
    sink.clear();
    dec.decode(ws({ type: 'connection', state: 'down' }, 50), sink);
    expect(sink.ticks().map((t) => [t.symbol, t.stale, t.receiveTime])).toEqual([
      ['BTC/USD', true, 50],
      ['ETH/USD', true, 50],
    ]);
    // after the reconnect the last point again revives the symbol
    sink.clear();
    dec.decode(ws(upd('btc/usd', 2_000, 101.5), 60), sink);
    expect(sink.ticks()).toHaveLength(1);
    expect(dec.latest().get('BTC/USD')?.stale).toBe(false);
  });

  it('rejects malformed frames without throwing', () => {
    const dec = createChainlinkDecoder();
    const sink = collect();
    for (const d of [
      '{"topic":',
      7,
      null,
      { type: 'connection' },
      { topic: 'crypto_prices_chainlink', payload: { symbol: 'x/usd' } },
    ])
      dec.decode(ws(d), sink);
    dec.decode({ ts: 1, source: 'binance.ws', data: {} }, sink);
    expect(sink.events).toEqual([]);
    expect(sink.rejects).toHaveLength(6);
  });
});

describe('chainlink feed against a fake RTDS', () => {
  let fake: ChainlinkFake | undefined;
  let feed: FrameSource | undefined;
  afterEach(async () => {
    await feed?.stop();
    await fake?.close();
    feed = undefined;
    fake = undefined;
  });

  async function setup(over: Partial<Parameters<typeof createChainlinkFeed>[0]> = {}) {
    fake = await startChainlinkFake();
    const dec = createChainlinkDecoder();
    const sink = collect();
    feed = createChainlinkFeed({
      url: fake.url,
      now: () => Date.now(),
      pingMs: 50,
      backoff: { baseMs: 10, maxMs: 40 },
      ...over,
    });
    await feed.start((f) => dec.decode(f, sink));
    await fake.ws.waitForConnection(1);
    await waitFor(() => fake!.requests().length === 1, 5_000, 'subscribe');
    return { fake, feed, dec, sink };
  }

  it('subscribes, heartbeats with PING, and delivers price ticks', async () => {
    const { fake, sink } = await setup();
    expect(fake.requests()[0]).toEqual({
      action: 'subscribe',
      subscriptions: [{ topic: 'crypto_prices_chainlink', type: '*' }],
    });
    fake.price('btc/usd', 66777.284797, 1_780_452_222_000);
    await waitFor(() => sink.ticks().length === 1, 5_000, 'tick');
    expect(sink.ticks()[0]).toMatchObject({
      source: 'chainlink',
      symbol: 'BTC/USD',
      price: 6_677_728_479_700,
      eventTime: 1_780_452_222_000,
    });
    await waitFor(() => fake.ws.connections[0]!.received.includes('PING'), 5_000, 'PING');
    expect(sink.rejects).toEqual([]); // PONG replies are not frames
  });

  it('with filters, receives the initial dump then updates', async () => {
    const fakeHistory = [
      { timestamp: 1_000, value: 100 },
      { timestamp: 2_000, value: 101 },
    ];
    fake = await startChainlinkFake();
    fake.setHistory('btc/usd', fakeHistory);
    const dec = createChainlinkDecoder();
    const sink = collect();
    feed = createChainlinkFeed({
      url: fake.url,
      now: () => Date.now(),
      symbols: ['BTC/USD'],
      filtered: true,
    });
    await feed.start((f) => dec.decode(f, sink));
    await waitFor(() => sink.ticks().length === 2, 5_000, 'dump');
    expect(fake.requests()[0]!.subscriptions[0]!.filters).toBe('{"symbol":"btc/usd"}');
    fake.price('btc/usd', 102, 3_000);
    await waitFor(() => sink.ticks().length === 3, 5_000, 'update');
    expect(sink.ticks().map((t) => t.price)).toEqual([10_000_000_000, 10_100_000_000, 10_200_000_000]);
  });

  it('resubscribes after a drop and marks ticks stale meanwhile; survives malformed JSON', async () => {
    const { fake, feed, sink } = await setup();
    fake.price('eth/usd', 3456.78, 1);
    await waitFor(() => sink.ticks().length === 1, 5_000, 'tick');
    fake.ws.broadcast('{"topic":');
    fake.ws.dropAll();
    await waitFor(() => fake.requests().length === 2, 5_000, 'resubscribe');
    expect(sink.ticks().some((t) => t.stale)).toBe(true);
    fake.price('eth/usd', 3460, 2);
    await waitFor(
      () => sink.ticks().at(-1)?.price === 346_000_000_000 && sink.ticks().at(-1)?.stale === false,
      5_000,
      'fresh tick',
    );
    expect(sink.rejects).toEqual([{ source: 'chainlink.ws', reason: 'websocket frame is not JSON' }]);
    expect(feed.health().reconnects).toBe(1);
  });

  it('reconnects a silent socket', async () => {
    const { fake, feed } = await setup({ silenceMs: 150, pingMs: 60_000 });
    fake.ws.setSilent(true);
    await waitFor(() => Number(feed.health().silenceReconnects) >= 1, 5_000, 'silence reconnect');
  });
});
