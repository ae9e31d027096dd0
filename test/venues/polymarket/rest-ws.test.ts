import { afterEach, describe, expect, it } from 'vitest';
import { createRateLimiter, POLYMARKET_RATE_RULES } from '../../../src/feeds/rate-limit.ts';
import type { RawFrame } from '../../../src/feeds/types.ts';
import { createPolymarketRest } from '../../../src/venues/polymarket/rest.ts';
import { PolymarketMarketWs } from '../../../src/venues/polymarket/ws.ts';
import { type HttpFake, startHttpFake } from '../../fakes/http-fake.ts';
import { startWsFake, type WsFake, waitFor } from '../../fakes/ws-fake.ts';

let t = 0;
const now = () => ++t;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function http(): Promise<HttpFake> {
  const f = await startHttpFake();
  closers.push(() => f.close());
  return f;
}

describe('Polymarket REST', () => {
  it('POST /books goes in chunks of at most 500 ids, each answer a clob.book frame', async () => {
    const clob = await http();
    clob.route('POST', '/books', (req) => ({
      body: req
        .json<Array<{ token_id: string }>>()
        .map((x) => ({ market: 'm', asset_id: x.token_id, bids: [], asks: [] })),
    }));
    const frames: RawFrame[] = [];
    const rest = createPolymarketRest({ clobUrl: clob.url, now, onFrame: (f) => frames.push(f) });
    closers.push(() => rest.close());
    const ids = Array.from({ length: 1_203 }, (_, i) => String(i + 1));
    const books = await rest.books(ids);
    expect(books.map((b) => b.asset_id)).toEqual(ids);
    expect(clob.requests.map((r) => r.json<unknown[]>().length)).toEqual([500, 500, 203]);
    expect(frames.map((f) => [f.source, f.req?.method, f.req?.path, (f.data as unknown[]).length])).toEqual([
      ['polymarket.clob.book', 'POST', '/books', 500],
      ['polymarket.clob.book', 'POST', '/books', 500],
      ['polymarket.clob.book', 'POST', '/books', 203],
    ]);
    // a smaller chunk is honoured, a larger one capped
    await rest.books(ids.slice(0, 10), 4);
    expect(clob.requests.slice(3).map((r) => r.json<unknown[]>().length)).toEqual([4, 4, 2]);
  });

  it('takes rate-limit tokens under the P12 endpoint keys', async () => {
    const gamma = await http();
    const clob = await http();
    gamma.route('GET', '/markets', (req) => ({
      body: req.query.offset === '0' ? [{}, {}] : req.query.offset === '2' ? [{}] : [],
    }));
    clob.route('GET', '/book', (req) => ({
      body: { market: 'm', asset_id: req.query.token_id, bids: [], asks: [] },
    }));
    const inner = createRateLimiter({ rules: POLYMARKET_RATE_RULES, now: () => 0 }); // frozen time: no refill
    const keys: string[] = [];
    const rest = createPolymarketRest({
      gammaUrl: gamma.url,
      clobUrl: clob.url,
      now,
      limiter: {
        bucket: inner.bucket,
        take: (k, c) => {
          keys.push(k);
          return inner.take(k, c);
        },
      },
    });
    closers.push(() => rest.close());
    expect(await rest.discoverMarkets({ pageSize: 2 })).toHaveLength(3);
    expect((await rest.book('77')).asset_id).toBe('77');
    expect(keys).toEqual(['gamma /markets', 'gamma /markets', 'gamma /markets', 'clob /book']);
    expect(inner.bucket('gamma /markets')!.available()).toBe(297);
    expect(inner.bucket('clob /book')!.available()).toBe(1_499);
  });

  it('a page shorter than asked (a server-side cap) does not end discovery', async () => {
    const gamma = await http();
    const all = Array.from({ length: 7 }, (_, i) => ({ id: String(i) }));
    // asked for 5 a page, the server caps at 3
    gamma.route('GET', '/markets', (req) => ({
      body: all.slice(Number(req.query.offset), Number(req.query.offset) + 3),
    }));
    const rest = createPolymarketRest({ gammaUrl: gamma.url, now });
    closers.push(() => rest.close());
    const got = await rest.discoverMarkets({ pageSize: 5 });
    expect(got.map((m) => m.id)).toEqual(['0', '1', '2', '3', '4', '5', '6']);
    expect(gamma.requests.map((r) => r.query.offset)).toEqual(['0', '3', '6', '7']);
  });

  it('a non-array Gamma page is an error, not a silent empty list', async () => {
    const gamma = await http();
    gamma.route('GET', '/markets', { body: { data: [] } });
    const rest = createPolymarketRest({ gammaUrl: gamma.url, now });
    closers.push(() => rest.close());
    await expect(rest.discoverMarkets()).rejects.toThrow(/expected a JSON array/);
  });
});

describe('Polymarket market-channel websocket', () => {
  it('spreads assets over connections of at most N, subscribes later assets on an open connection', async () => {
    const ws: WsFake = await startWsFake();
    closers.push(() => ws.close());
    const frames: RawFrame[] = [];
    const client = new PolymarketMarketWs({
      url: ws.url,
      now,
      onFrame: (f) => frames.push(f),
      maxAssetsPerConnection: 3,
    });
    closers.push(() => client.stop());
    client.subscribe(['1', '2', '3', '4', '5']);
    client.start();
    await client.opened();
    await ws.waitForConnection(2);
    await waitFor(() => ws.connections.every((c) => c.received.length > 0));
    const subs = ws.connections.map((c) => JSON.parse(c.received[0]!));
    expect(subs.map((s) => s.assets_ids)).toEqual([
      ['1', '2', '3'],
      ['4', '5'],
    ]);
    expect(subs.every((s) => s.type === 'market' && s.custom_feature_enabled === true)).toBe(true);
    client.subscribe(['5', '6', '7']); // 5 is known; 6 fills shard 2; 7 opens shard 3
    const c3 = await ws.waitForConnection(3);
    await waitFor(() => c3.received.length > 0);
    expect(JSON.parse(c3.received[0]!).assets_ids).toEqual(['7']);
    await waitFor(() => ws.connections[1]!.received.length > 1);
    expect(JSON.parse(ws.connections[1]!.received[1]!)).toEqual({
      operation: 'subscribe',
      assets_ids: ['6'],
      custom_feature_enabled: true,
    });
    expect(client.assetCount).toBe(7);

    ws.connections[0]!.send([{ event_type: 'book' }]);
    ws.connections[0]!.send('not json');
    await waitFor(() => frames.length >= 2);
    expect(frames[0]).toMatchObject({ source: 'polymarket.ws.market', data: [{ event_type: 'book' }] });
    expect(frames[1]!.data).toBe('not json');
    expect(client.health()).toMatchObject({ connected: true, shards: 3, shardsConnected: 3 });
  });
});
