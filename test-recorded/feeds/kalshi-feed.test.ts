/**
 * The Kalshi feed against the fake Kalshi, serving recorded market, event and order book objects over signed REST
 * and websocket: the mutually exclusive event groups its markets, and the recorded book (K5, K6) arrives intact.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createKalshiDecoder } from '../../src/venues/kalshi/decoder.ts';
import { createKalshiFeed, type KalshiFeed } from '../../src/venues/kalshi/feed.ts';
import type { WireEvent, WireMarket } from '../../src/venues/kalshi/wire.ts';
import { type KalshiFake, startKalshiFake } from '../../test/fakes/kalshi-server.ts';
import { waitFor } from '../../test/fakes/ws-fake.ts';
import { collect } from '../../test/venues/kalshi/collect.ts';
import { recordedJson } from '../shared.ts';

const base = recordedJson<WireMarket>('kalshi/rest-market-object-active-2026-07.json');
const event = recordedJson<WireEvent>('kalshi/rest-event-object-2026-07.json');
const single = recordedJson<{ market: WireMarket }>('kalshi/rest-market-single-2026.json').market;
const ob = recordedJson<{
  orderbook_fp: { yes_dollars: [string, string][]; no_dollars: [string, string][] };
}>('kalshi/rest-orderbook-2026.json').orderbook_fp;
const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

let fake: KalshiFake | undefined;
let feed: KalshiFeed | undefined;
afterEach(async () => {
  await feed?.stop();
  await fake?.close();
});

describe('Kalshi feed on recorded payloads', () => {
  it('groups the markets of the recorded mutually exclusive event and streams the recorded order book', async () => {
    fake = await startKalshiFake({
      keyId: 'k',
      publicKeyPem: keys.publicKey,
      markets: [single, { ...base, ticker: 'KXA-1' }, { ...base, ticker: 'KXA-2' }],
      events: [event],
      books: { [single.ticker!]: { yes: ob.yes_dollars, no: ob.no_dollars } },
    });
    const dec = createKalshiDecoder();
    const sink = collect();
    feed = createKalshiFeed({
      restUrl: fake.restUrl,
      wsUrl: fake.wsUrl,
      keyId: 'k',
      privateKeyPem: keys.privateKey,
      now: () => Date.now(),
      maxBookMarkets: 1,
      refreshMs: 0,
      backoff: { baseMs: 5, maxMs: 20 },
      wsBackoff: { baseMs: 10, maxMs: 50 },
    });
    await feed.start((f) => dec.decode(f, sink));
    // a market is published again once its series' fee schedule is known: the latest of each, in first-seen order
    const latest = new Map(sink.markets().map((m) => [m.marketId, m]));
    expect([...latest.values()].map((m) => [m.marketId, m.negRiskGroup])).toEqual([
      ['KXELONMARS-99', undefined],
      ['KXA-1', 'KXATPMATCH-26JUL13SANDAN'],
      ['KXA-2', 'KXATPMATCH-26JUL13SANDAN'],
    ]);
    expect(feed.bookTickers()).toEqual(['KXELONMARS-99']);
    const book = (token: string) => [...dec.books()].find((b) => b.tokenId === token);
    await waitFor(() => book('KXELONMARS-99:yes')?.seq === 1, 5_000, 'the websocket snapshot');
    // K6 on the recorded book, after REST and websocket: YES ask = 1 − best NO bid
    expect(book('KXELONMARS-99:yes')!.bids[0]).toEqual([80_000, 444_320_000]);
    expect(book('KXELONMARS-99:yes')!.asks[0]).toEqual([120_000, 1_967_330_000]);
    expect(book('KXELONMARS-99:no')!.bids[0]).toEqual([880_000, 1_967_330_000]);
    expect(book('KXELONMARS-99:no')!.bids).toHaveLength(18);
    fake.delta('KXELONMARS-99', 'no', '0.8800', '-1967.33');
    await waitFor(() => book('KXELONMARS-99:yes')?.asks[0]?.[0] !== 120_000, 5_000, 'the delta');
    expect(book('KXELONMARS-99:yes')!.asks[0]).toEqual([130_000, 118_850_000]);
    expect(sink.rejects).toEqual([]);
  });
});
