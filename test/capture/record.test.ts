import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readCaptureBatches } from '../../src/capture/reader.ts';
import { startRecording } from '../../src/capture/record.ts';
import { replay } from '../../src/capture/replay.ts';
import { createCaptureWriter } from '../../src/capture/writer.ts';
import { SimClock } from '../../src/core/clock.ts';
import type { OracleTick, OrderBook } from '../../src/core/messages.ts';
import type { FeedSink, RawFrame } from '../../src/feeds/types.ts';
import { createBinanceFeed } from '../../src/oracles/binance/feed.ts';
import { createKalshiFeed } from '../../src/venues/kalshi/feed.ts';
import type { WireEvent, WireMarket } from '../../src/venues/kalshi/wire.ts';
import { createPolymarketFeed } from '../../src/venues/polymarket/feed.ts';
import type { GammaMarket } from '../../src/venues/polymarket/wire.ts';
import { createDecoders } from '../../src/venues/registry.ts';
import { type BinanceFake, startBinanceFake } from '../fakes/binance-server.ts';
import { type KalshiFake, startKalshiFake } from '../fakes/kalshi-server.ts';
import { type FakePolymarket, startFakePolymarket } from '../fakes/polymarket-server.ts';
import { waitFor } from '../fakes/ws-fake.ts';
import { fixtureJson } from '../helpers/fixtures.ts';

const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const btc = fixtureJson<GammaMarket>('polymarket/gamma-market-updown-5m.json');
const negRisk = fixtureJson<GammaMarket>('polymarket/gamma-market-negrisk.json');
const kbase = fixtureJson<WireMarket>('kalshi/rest-market-active.json');
const kevent = fixtureJson<WireEvent>('kalshi/rest-event.json');
const dir = mkdtempSync(join(tmpdir(), 'pmarb-record-'));

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const key = (b: OrderBook): string => `${b.venue}:${b.tokenId}`;
const shape = (books: Iterable<OrderBook>) =>
  Object.fromEntries(
    [...books]
      .map((b) => [key(b), { bids: b.bids, asks: b.asks }])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
  );

describe('record → replay of a fake-server session', () => {
  it('replaying the recorded frames gives the same books (and ticks) as decoding them live', async () => {
    const pm: FakePolymarket = await startFakePolymarket({ markets: [btc, negRisk] });
    cleanup.push(() => pm.close());
    const kx: KalshiFake = await startKalshiFake({
      keyId: 'k',
      publicKeyPem: keys.publicKey,
      markets: [
        { ...kbase, ticker: 'KXA-1' },
        { ...kbase, ticker: 'KXA-2' },
      ],
      events: [kevent],
      books: {
        'KXA-1': { yes: [['0.4000', '10.00']], no: [['0.5500', '7.00']] },
        'KXA-2': { yes: [['0.1000', '1.00']] },
      },
    });
    cleanup.push(() => kx.close());
    const bn: BinanceFake = await startBinanceFake();
    cleanup.push(() => bn.close());

    const now = () => Date.now();
    const sources = [
      createPolymarketFeed({ gammaUrl: pm.gammaUrl, clobUrl: pm.clobUrl, wsUrl: pm.wsUrl, now }),
      createKalshiFeed({
        restUrl: kx.restUrl,
        wsUrl: kx.wsUrl,
        keyId: 'k',
        privateKeyPem: keys.privateKey,
        now,
        refreshMs: 0,
      }),
      createBinanceFeed({ wsUrl: bn.wsUrl, restUrl: bn.restUrl, symbols: ['BTCUSDT'], now }),
    ];
    // the live side: the same decoders a watcher runs, fed as frames arrive
    const live = createDecoders();
    const liveTicks: OracleTick[] = [];
    const sink: FeedSink = {
      emit: (e) => {
        if (e.type === 'tick') liveTicks.push(e);
      },
      reject: () => {},
    };
    const path = join(dir, 'session.jsonl');
    const rec = await startRecording({
      sources,
      writer: createCaptureWriter({ path }),
      tee: (f) => live.route(f, sink),
    });
    cleanup.push(async () => {
      await rec.stop();
    });

    const [yes] = JSON.parse(btc.clobTokenIds!) as string[];
    const liveBook = (k: string) => live.books().find((b) => key(b) === k);
    await waitFor(() => liveBook(`polymarket:${yes}`) !== undefined, 5_000, 'polymarket snapshot');
    await waitFor(() => liveBook('kalshi:KXA-1:yes') !== undefined, 5_000, 'kalshi snapshot');
    await waitFor(() => bn.ws.openConnections().length > 0, 5_000, 'binance connection');
    // a session: book changes on both venues, trades and quotes on Binance
    pm.setLevel(yes!, 'BUY', '0.45', '120');
    pm.setLevel(yes!, 'SELL', '0.55', '0');
    await waitFor(() => kx.commands().length >= 3, 5_000, 'kalshi subscriptions');
    kx.delta('KXA-1', 'yes', '0.4100', '25.00');
    kx.delta('KXA-1', 'no', '0.5500', '-7.00');
    bn.trade('BTCUSDT', '100000.10000000', '0.01000000', Date.now());
    bn.bookTicker('BTCUSDT', '100000.00000000', '100000.20000000');
    await waitFor(
      () => {
        const b = liveBook(`polymarket:${yes}`);
        return b !== undefined && JSON.stringify(b.bids) === JSON.stringify(pm.expected(yes!).bids);
      },
      5_000,
      'polymarket change applied',
    );
    await waitFor(
      () => liveBook('kalshi:KXA-1:yes')?.bids[0]?.[0] === 410_000,
      5_000,
      'kalshi delta applied',
    );
    await waitFor(() => liveTicks.length >= 2, 5_000, 'binance ticks');
    const summary = await rec.stop();
    expect(summary.frames).toBeGreaterThan(5);
    expect(Object.keys(summary.bySource).sort()).toEqual(
      expect.arrayContaining([
        'binance.ws',
        'kalshi.rest.markets',
        'kalshi.ws',
        'polymarket.gamma.markets',
        'polymarket.ws.market',
      ]),
    );

    // replay the file on a simulated clock: the same books, the same ticks
    const replayed = createDecoders();
    const ticks: OracleTick[] = [];
    const result = await replay({
      frames: readCaptureBatches(path),
      clock: new SimClock(),
      decoders: replayed,
      publish: (e) => {
        if (e.type === 'tick') ticks.push(e);
      },
    });
    expect(result.frames).toBe(summary.frames);
    expect(shape(replayed.books())).toEqual(shape(live.books()));
    expect(Object.keys(shape(live.books())).length).toBeGreaterThanOrEqual(6);
    expect(ticks).toEqual(liveTicks);
    expect(shape(replayed.books())[`polymarket:${yes}`]).toEqual(pm.expected(yes!));
  });

  it('records the sources that start when another cannot, and fails only when none can', async () => {
    const broken = {
      name: 'broken',
      start: async () => {
        throw new Error('unreachable');
      },
      stop: async () => {},
      health: () => ({ connected: false }),
    };
    let push: ((f: RawFrame) => void) | undefined;
    const ok = {
      name: 'ok',
      start: async (cb: (f: RawFrame) => void) => {
        push = cb;
      },
      stop: async () => {
        push = undefined;
      },
      health: () => ({ connected: push !== undefined }),
    };
    const errors: string[] = [];
    const path = join(dir, 'partial.jsonl');
    const rec = await startRecording({
      sources: [broken, ok],
      writer: createCaptureWriter({ path }),
      onStartError: (name) => errors.push(name),
    });
    push!({ ts: 1, source: 'binance.ws', data: { x: 1 } });
    const s = await rec.stop();
    expect(errors).toEqual(['broken']);
    expect(rec.failed).toEqual([{ source: 'broken', error: 'unreachable' }]);
    expect(s.frames).toBe(1);
    await expect(
      startRecording({ sources: [broken], writer: createCaptureWriter({ path: join(dir, 'none.jsonl') }) }),
    ).rejects.toThrow(/no feed could start: broken: unreachable/);
  });

  it('writes a disconnect marker when a source goes down, and none twice for a source that marks itself', async () => {
    const clock = new SimClock(5_000);
    let up = false;
    let push: ((f: RawFrame) => void) | undefined;
    const src = (name: string) => ({
      name,
      start: async (cb: (f: RawFrame) => void) => {
        push = cb;
        up = true;
      },
      stop: async () => {},
      health: () => ({ connected: up }),
    });
    const path = join(dir, 'markers.jsonl');
    const rec = await startRecording({
      sources: [src('kalshi')],
      writer: createCaptureWriter({ path, flushIntervalMs: 0 }),
      watchEveryMs: 5,
      clock,
    });
    push!({ ts: 4_000, source: 'kalshi.ws', data: { type: 'subscribed', id: 1 } });
    up = false;
    await waitFor(() => rec.frames === 2, 5_000, 'the marker');
    // the transport's own marker: the watcher adds none
    up = true;
    push!({ ts: 5_100, source: 'kalshi.ws', data: { type: 'ok', id: 2 } });
    await new Promise((r) => setTimeout(r, 30));
    push!({ ts: 5_200, source: 'kalshi.ws', data: { type: 'connection', state: 'down' } });
    up = false;
    rec.disconnected('polymarket.ws.market', ['tok-1']);
    await new Promise((r) => setTimeout(r, 30));
    await rec.stop();
    const frames: RawFrame[] = [];
    for await (const b of readCaptureBatches(path)) frames.push(...b);
    expect(frames.map((f) => [f.source, f.data])).toEqual([
      ['kalshi.ws', { type: 'subscribed', id: 1 }],
      ['kalshi.ws', { type: 'connection', state: 'down' }],
      ['kalshi.ws', { type: 'ok', id: 2 }],
      ['kalshi.ws', { type: 'connection', state: 'down' }],
      ['polymarket.ws.market', { event_type: 'connection', state: 'down', asset_ids: ['tok-1'] }],
    ]);
    expect(frames[1]!.ts).toBe(5_000);
  });
});
