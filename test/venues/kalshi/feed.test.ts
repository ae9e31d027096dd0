import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { OrderBook } from '../../../src/core/messages.ts';
import type { RawFrame } from '../../../src/feeds/types.ts';
import { createKalshiDecoder } from '../../../src/venues/kalshi/decoder.ts';
import {
  createKalshiFeed,
  type KalshiFeed,
  type KalshiFeedOptions,
} from '../../../src/venues/kalshi/feed.ts';
import type { WireEvent, WireMarket } from '../../../src/venues/kalshi/wire.ts';
import { type KalshiFake, startKalshiFake } from '../../fakes/kalshi-server.ts';
import { waitFor } from '../../fakes/ws-fake.ts';
import { fixtureJson } from '../../helpers/fixtures.ts';
import { collect } from './collect.ts';

const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const KEY_ID = 'test-key';

const base = fixtureJson<WireMarket>('kalshi/rest-market-active.json');
const event = fixtureJson<WireEvent>('kalshi/rest-event.json');
const market = (ticker: string): WireMarket => ({ ...base, ticker });
const MARKETS = [market('KXA-1'), market('KXA-2'), market('KXA-3')];

let fake: KalshiFake | undefined;
let feed: KalshiFeed | undefined;
afterEach(async () => {
  await feed?.stop();
  await fake?.close();
  feed = undefined;
  fake = undefined;
});

async function setup(over: Partial<KalshiFeedOptions> = {}) {
  fake = await startKalshiFake({
    keyId: KEY_ID,
    publicKeyPem: keys.publicKey,
    markets: MARKETS,
    events: [event],
    pageSize: 2,
    books: {
      'KXA-1': {
        yes: [
          ['0.4000', '10.00'],
          ['0.4100', '5.00'],
        ],
        no: [['0.5500', '7.00']],
      },
      'KXA-2': { yes: [['0.1000', '1.00']], no: [] },
    },
  });
  const frames: RawFrame[] = [];
  const gapsSeen: number[] = [];
  const dec = createKalshiDecoder({ onGap: (g) => gapsSeen.push(g.sid) });
  const sink = collect();
  feed = createKalshiFeed({
    restUrl: fake.restUrl,
    wsUrl: fake.wsUrl,
    keyId: KEY_ID,
    privateKeyPem: keys.privateKey,
    now: () => Date.now(),
    maxBookMarkets: 2,
    marketPageLimit: 2,
    refreshMs: 0,
    backoff: { baseMs: 5, maxMs: 20 },
    wsBackoff: { baseMs: 10, maxMs: 50 },
    ...over,
  });
  await feed.start((f) => {
    frames.push(f);
    dec.decode(f, sink);
  });
  const book = (token: string): OrderBook | undefined => [...dec.books()].find((b) => b.tokenId === token);
  return { fake, feed, frames, dec, sink, book, gapsSeen };
}

describe('kalshi feed against a fake Kalshi', () => {
  it('bootstraps over signed REST with cursor pagination, then streams signed websocket books', async () => {
    const { fake, feed, frames, sink, book } = await setup();
    // events, then markets over two pages (pageSize 2), the series' fee schedule, then two orderbooks
    const rest = frames.filter((f) => f.source.startsWith('kalshi.rest'));
    expect(rest.map((f) => [f.source, f.req?.path, f.req?.query?.cursor])).toEqual([
      ['kalshi.rest.events', '/events', undefined],
      ['kalshi.rest.markets', '/markets', undefined],
      ['kalshi.rest.markets', '/markets', '2'],
      ['kalshi.rest.series', '/series/KXA', undefined],
      ['kalshi.rest.orderbook', '/markets/KXA-1/orderbook', undefined],
      ['kalshi.rest.orderbook', '/markets/KXA-2/orderbook', undefined],
    ]);
    expect(fake.http.requests.every((r) => typeof r.headers['kalshi-access-signature'] === 'string')).toBe(
      true,
    );
    expect(fake.authFailures).toEqual({ rest: 0, ws: 0 });
    expect(sink.markets().map((m) => [m.marketId, m.negRiskGroup])).toEqual([
      ['KXA-1', 'KXUCLGAME-26MAY05ARSPSG'],
      ['KXA-2', 'KXUCLGAME-26MAY05ARSPSG'],
      ['KXA-3', 'KXUCLGAME-26MAY05ARSPSG'],
    ]);
    expect(feed.bookTickers()).toEqual(['KXA-1', 'KXA-2']);
    // websocket: one subscribe per channel, then snapshots
    await waitFor(() => feed.health().subscriptions === 3, 5_000, 'three subscriptions');
    const cmds = fake.commands(1);
    expect(cmds.map((c) => [c.cmd, c.params.channels, c.params.market_tickers])).toEqual([
      ['subscribe', ['orderbook_delta'], ['KXA-1', 'KXA-2']],
      ['subscribe', ['ticker'], ['KXA-1', 'KXA-2']],
      ['subscribe', ['trade'], ['KXA-1', 'KXA-2']],
    ]);
    await waitFor(() => book('KXA-1:yes')?.seq === 1 && book('KXA-2:yes')?.seq === 2, 5_000, 'ws snapshots');
    expect(book('KXA-1:yes')!.bids).toEqual([
      [410_000, 5_000_000],
      [400_000, 10_000_000],
    ]);
    expect(book('KXA-1:yes')!.asks).toEqual([[450_000, 7_000_000]]);
    // deltas and trades flow through
    fake.delta('KXA-1', 'no', '0.5600', '3.00');
    fake.trade('KXA-1', '0.4500', '2.00', 'yes');
    await waitFor(() => sink.trades().length === 1, 5_000, 'trade');
    expect(book('KXA-1:yes')!.asks).toEqual([
      [440_000, 3_000_000],
      [450_000, 7_000_000],
    ]);
    expect(sink.trades()[0]).toMatchObject({ tokenId: 'KXA-1:yes', price: 450_000, size: 2_000_000 });
    const h = feed.health();
    expect(h).toMatchObject({ connected: true, bookMarkets: 2, gaps: 0, restFailures: 0 });
  });

  it('resubscribes on a seq gap and ends with the correct book', async () => {
    const { fake, feed, book, gapsSeen } = await setup();
    await waitFor(() => book('KXA-1:yes')?.seq === 1 && book('KXA-2:yes')?.seq === 2, 5_000, 'ws snapshots');
    fake.delta('KXA-1', 'yes', '0.4100', '1.00');
    fake.delta('KXA-1', 'yes', '0.4200', '2.00', { skipSeq: true }); // seq jumps: gap
    await waitFor(() => feed.health().resubscribes === 1, 5_000, 'resubscribe');
    expect(gapsSeen).toEqual([1]);
    await waitFor(
      () => book('KXA-1:yes')?.stale === false && book('KXA-1:yes')?.bids[0]?.[0] === 420_000,
      5_000,
      'fresh book',
    );
    const cmds = fake.commands(1);
    expect(cmds.slice(3).map((c) => [c.cmd, c.params.sids ?? c.params.channels])).toEqual([
      ['unsubscribe', [1]],
      ['subscribe', ['orderbook_delta']],
    ]);
    // the fresh snapshot is the server's book, including the delta that the gap hid
    expect(book('KXA-1:yes')!.bids).toEqual([
      [420_000, 2_000_000],
      [410_000, 6_000_000],
      [400_000, 10_000_000],
    ]);
    fake.delta('KXA-1', 'yes', '0.4000', '-10.00');
    await waitFor(() => book('KXA-1:yes')!.bids.length === 2, 5_000, 'delta after resync');
    expect(book('KXA-1:no')!.asks).toEqual([
      [580_000, 2_000_000],
      [590_000, 6_000_000],
    ]);
    expect(feed.health().gaps).toBe(1);
  });

  it('streams markets added later, also after a reconnect', async () => {
    const { fake, feed, book } = await setup();
    await waitFor(() => feed.health().subscriptions === 3, 5_000, 'three subscriptions');
    fake.delta('KXA-3', 'yes', '0.3000', '4.00'); // server-side book before we subscribe
    feed.addMarkets(['KXA-3', 'KXA-1']);
    expect(feed.bookTickers()).toEqual(['KXA-1', 'KXA-2', 'KXA-3']);
    await waitFor(() => book('KXA-3:yes')?.bids[0]?.[0] === 300_000, 5_000, 'KXA-3 snapshot');
    expect(
      fake
        .commands(1)
        .slice(3)
        .map((c) => [c.params.channels, c.params.market_ticker]),
    ).toEqual([
      [['orderbook_delta'], 'KXA-3'],
      [['ticker'], 'KXA-3'],
      [['trade'], 'KXA-3'],
    ]);
    fake.ws.dropAll();
    await waitFor(
      () => fake.ws.connections.length === 2 && fake.commands(2).length === 3,
      5_000,
      'resubscribed',
    );
    expect(fake.commands(2)[0]!.params.market_tickers).toEqual(['KXA-1', 'KXA-2', 'KXA-3']);
  });

  it('reconnects after a dropped connection, marking books stale until new snapshots', async () => {
    const { fake, feed, book, frames } = await setup();
    await waitFor(() => book('KXA-1:yes')?.seq === 1 && book('KXA-2:yes')?.seq === 2, 5_000, 'ws snapshots');
    fake.ws.dropAll();
    await waitFor(
      () => frames.some((f) => (f.data as { state?: string })?.state === 'down'),
      5_000,
      'down frame',
    );
    await waitFor(
      () => fake.ws.connections.length === 2 && feed.health().subscriptions === 3,
      5_000,
      'reconnect',
    );
    await waitFor(() => book('KXA-1:yes')?.stale === false, 5_000, 'fresh book');
    expect(feed.health().reconnects).toBe(1);
    // sids restarted on the new connection
    expect(fake.commands(2).map((c) => c.cmd)).toEqual(['subscribe', 'subscribe', 'subscribe']);
    fake.delta('KXA-2', 'no', '0.8000', '4.00');
    await waitFor(() => book('KXA-2:yes')?.asks[0]?.[0] === 200_000, 5_000, 'delta on new connection');
  });

  it('passes malformed JSON on as a frame the decoder rejects, and keeps going', async () => {
    const { fake, sink, book } = await setup();
    await waitFor(() => book('KXA-1:yes')?.seq === 1 && book('KXA-2:yes')?.seq === 2, 5_000, 'ws snapshots');
    fake.raw('{"type":"orderbook_delta",');
    fake.delta('KXA-1', 'yes', '0.4100', '1.00');
    await waitFor(() => book('KXA-1:yes')?.bids[0]?.[1] === 6_000_000, 5_000, 'delta after junk');
    expect(sink.rejects).toEqual([{ source: 'kalshi.ws', reason: 'websocket frame is not JSON' }]);
  });

  it('reconnects a silent socket', async () => {
    const { fake, feed, book } = await setup({ silenceMs: 300, pingMs: 60_000 });
    await waitFor(() => book('KXA-1:yes')?.seq === 1 && book('KXA-2:yes')?.seq === 2, 5_000, 'ws snapshots');
    fake.ws.setSilent(true);
    await waitFor(() => Number(feed.health().silenceReconnects) >= 1, 5_000, 'silence reconnect');
    fake.ws.setSilent(false);
    await waitFor(() => feed.health().connected && fake.ws.connections.length >= 2, 5_000, 'reconnected');
  });

  it('retries 429 (no Retry-After), 500, slow and dropped answers with fresh signatures', async () => {
    fake = await startKalshiFake({
      keyId: KEY_ID,
      publicKeyPem: keys.publicKey,
      markets: MARKETS,
      pageSize: 5,
    });
    fake.http.script('GET', '/trade-api/v2/markets', [
      { status: 429, body: { error: 'too many requests' } },
      { status: 500, body: { error: 'internal' } },
      { raw: '{"markets": [', status: 200 },
      { drop: true },
      { delayMs: 1_000, body: { markets: [], cursor: '' } },
    ]);
    const frames: RawFrame[] = [];
    feed = createKalshiFeed({
      restUrl: fake.restUrl,
      wsUrl: fake.wsUrl,
      keyId: KEY_ID,
      privateKeyPem: keys.privateKey,
      now: () => Date.now(),
      eventQuery: null,
      tickers: [],
      refreshMs: 0,
      timeoutMs: 200,
      retries: 6,
      backoff: { baseMs: 5, maxMs: 20 },
    });
    await feed.start((f) => frames.push(f));
    expect(frames.map((f) => f.source)).toEqual(['kalshi.rest.markets']);
    expect((frames[0]!.data as { markets: unknown[] }).markets).toHaveLength(3);
    expect(feed.health()).toMatchObject({ rateLimited: 1, restRetries: 5, restFailures: 0 });
    expect(fake.http.count('GET', '/trade-api/v2/markets')).toBe(6);
    // every attempt was signed afresh and verified by the fake
    expect(fake.authFailures.rest).toBe(0);
  });

  it('is refused with a wrong key: REST 401 is not retried and the socket is closed', async () => {
    const other = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    fake = await startKalshiFake({ keyId: KEY_ID, publicKeyPem: keys.publicKey, markets: MARKETS });
    const errors: string[] = [];
    feed = createKalshiFeed({
      restUrl: fake.restUrl,
      wsUrl: fake.wsUrl,
      keyId: KEY_ID,
      privateKeyPem: other.privateKey,
      now: () => Date.now(),
      tickers: ['KXA-1'],
      refreshMs: 0,
      wsBackoff: { baseMs: 1_000, maxMs: 1_000 },
      onError: (e) => errors.push(e.message),
    });
    const frames: RawFrame[] = [];
    await feed.start((f) => frames.push(f));
    expect(frames.filter((f) => f.source.startsWith('kalshi.rest'))).toEqual([]);
    expect(errors.some((e) => e.includes('HTTP 401'))).toBe(true);
    expect(fake.authFailures.rest).toBe(4); // events, markets, series, orderbook: each once, no retry
    await waitFor(() => fake!.authFailures.ws === 1, 5_000, 'ws refused');
    await waitFor(() => feed!.health().connected === false, 5_000, 'closed by the server');
    expect(
      frames.filter((f) => f.source === 'kalshi.ws' && (f.data as { type?: string }).type !== 'connection'),
    ).toEqual([]);
  });
});
