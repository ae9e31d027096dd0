/**
 * The Polymarket feed against the fake venue, serving recorded Gamma market objects and a recorded CLOB book:
 * discovery, negRisk groups, fee schedules and the books the client converges to come from real payloads.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createPolymarketDecoder } from '../../src/venues/polymarket/decoder.ts';
import { createPolymarketFeed, type PolymarketFeed } from '../../src/venues/polymarket/feed.ts';
import type { ClobBook, GammaMarket } from '../../src/venues/polymarket/wire.ts';
import { type FakePolymarket, startFakePolymarket } from '../../test/fakes/polymarket-server.ts';
import { waitFor } from '../../test/fakes/ws-fake.ts';
import { recordedJson } from '../shared.ts';

const newsom = recordedJson<GammaMarket>('polymarket/gamma-market-negrisk-newsom-2028.json');
const btc = recordedJson<GammaMarket>('polymarket/gamma-market-btc-updown-5m.json');
const closed = recordedJson<GammaMarket>('polymarket/gamma-market-closed-resolved.json');
const book = recordedJson<ClobBook>('polymarket/clob-book-2024.json');
const tokens = (m: GammaMarket) => JSON.parse(m.clobTokenIds!) as string[];
const levels = (ls: ClobBook['bids']): Array<[string, string]> => ls.map((l) => [l.price, l.size]);

let server: FakePolymarket | undefined;
let feed: PolymarketFeed | undefined;
afterEach(async () => {
  await feed?.stop();
  await server?.close();
});

describe('Polymarket feed on recorded payloads', () => {
  it('follows the recorded open markets, their negRisk group and fees, and converges to a recorded book', async () => {
    const [newsomYes] = tokens(newsom);
    server = await startFakePolymarket({
      markets: [newsom, btc, closed],
      books: { [newsomYes!]: { bids: levels(book.bids), asks: levels(book.asks) } },
    });
    const dec = createPolymarketDecoder();
    const rejects: string[] = [];
    let t = 1_900_000_000_000;
    feed = createPolymarketFeed({
      gammaUrl: server.gammaUrl,
      clobUrl: server.clobUrl,
      wsUrl: server.wsUrl,
      now: () => ++t,
      http: { backoff: { baseMs: 5, maxMs: 30 } },
      ws: { backoff: { baseMs: 5, maxMs: 30 } },
    });
    await feed.start((f) => dec.decode(f, { emit: () => {}, reject: (_s, why) => rejects.push(why) }));
    // the closed, resolved market is not followed
    expect([...feed.tokens()].sort()).toEqual([...tokens(newsom), ...tokens(btc)].sort());
    await waitFor(() => dec.book(newsomYes!)?.bids.length === book.bids.length, 5_000, 'the recorded book');
    const held = dec.book(newsomYes!)!;
    expect(held.bids[0]).toEqual([100_000, 125_000_000]);
    expect(held.asks[0]).toEqual([140_000, 705_000_000]);
    expect(held.asks.at(-1)).toEqual([980_000, 5_000_000_000]);
    server.setLevel(newsomYes!, 'BUY', '0.11', '42.5');
    await waitFor(() => dec.book(newsomYes!)?.bids[0]?.[0] === 110_000, 5_000, 'a price change');
    expect(dec.book(newsomYes!)!.bids[0]).toEqual([110_000, 42_500_000]);
    const m = dec.market(newsom.conditionId!)!;
    expect(m.negRiskGroup).toBe(newsom.negRiskMarketID);
    expect(m.negRiskGroup).toBe('0x2c3d7e0eee6f058be3006baabf0d54a07da254ba47fe6e3e095e7990c7814700');
    expect(m.fees).toMatchObject({ rate: 40_000, rebateRate: 250_000 });
    // fees enabled but no feeSchedule on the recorded market: unknown (never priced), charged at the highest
    // published rate as a bound (docs/settlement.md)
    expect(dec.market(btc.conditionId!)!.fees).toMatchObject({
      kind: 'unknown',
      reason: expect.stringContaining('without a feeSchedule'),
    });
    expect(rejects).toEqual([]);
  });
});
