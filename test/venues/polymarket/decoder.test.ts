import { describe, expect, it } from 'vitest';
import type { Market, OrderBook, Resolution, TradePrint } from '../../../src/core/messages.ts';
import { parseMicro } from '../../../src/core/money.ts';
import { createPolymarketDecoder, type PolymarketDecoder } from '../../../src/venues/polymarket/decoder.ts';
import type { WireLevel } from '../../../src/venues/polymarket/wire.ts';
import { simulateFrames } from '../../../src/venues/sim/feed.ts';
import { fixtureJson, fixtureJsonl, fixtureText } from '../../helpers/fixtures.ts';
import { collect, frame, WS, wireBook } from './helpers.ts';

// Payloads written from the documented market-channel and CLOB schemas (test/fixtures/owned/polymarket).
const fx = (f: string) => fixtureJson<Record<string, unknown>>(`polymarket/${f}`);
const ECB = {
  market: '0x6677abb3b724f1d6f80792c657c0feeab97d7776b241bb6bcf74530aaa6a2fc1',
  yes: '39660154485844415470128041872978954960486297447743671445363068534965729499718',
  no: '79065870181926489022305351069913069291412742783622499678959150283380027119818',
};
const FED_YES = '9984124971120903764626562000144905411109116105435436173941783416183547994277';

describe('Polymarket decoder: book', () => {
  it('ws-book: replaces the book, best first, times from the frame', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    dec.decode(frame(fx('ws-book.json'), 7_777), c.sink);
    expect(c.rejects).toEqual([]);
    const [b] = c.books();
    expect(b).toEqual({
      type: 'book',
      venue: 'polymarket',
      marketId: ECB.market,
      tokenId: ECB.yes,
      bids: [
        [460_000, 12_500_000],
        [450_000, 80_000_000],
        [440_000, 250_000_000],
      ],
      asks: [
        [480_000, 60_000_000],
        [490_000, 150_000_000],
        [500_000, 40_000_000],
      ],
      stale: false,
      eventTime: 1_777_903_200_123,
      receiveTime: 7_777,
      // the token's slot in this process (src/core/token-slots.ts): a lookup hint for consumers
      slot: expect.any(Number),
    });
  });

  it('ws-book-deep: a deep book trimmed to the configured depth', () => {
    const dec = createPolymarketDecoder({ depth: 5 });
    const c = collect();
    dec.decode(frame(fx('ws-book-deep.json')), c.sink);
    const [b] = c.books();
    expect(b!.tokenId).toBe(FED_YES);
    expect(b!.bids).toHaveLength(5);
    expect(b!.bids[0]).toEqual([412_000, 112_000_000]);
    expect(b!.bids[1]).toEqual([410_000, 281_880_000]);
    expect(b!.asks[0]).toEqual([418_000, 14_975_000_000]);
    expect(b!.asks[1]).toEqual([421_000, 1_648_060_000]);
    expect(b!.eventTime).toBe(1_777_903_260_456);
    expect(createPolymarketDecoder().book(b!.tokenId)).toBeUndefined();
    expect(dec.book(b!.tokenId)?.asks).toHaveLength(5);
  });

  it('ws-book-snapshots.jsonl: every frame one at a time and as one array frame (P18); one-sided books, ".25" prices', () => {
    const lines = fixtureJsonl<Record<string, unknown>>('polymarket/ws-book-snapshots.jsonl');
    const best = (b: OrderBook) => [b.bids[0] ?? null, b.asks[0] ?? null];
    const expected = [
      [
        [260_000, 1_200_500_000],
        [280_000, 10_000_000],
      ],
      [[999_000, 10_320_400_000], null],
      [
        [60_000, 420_000_000],
        [80_000, 300_000_000],
      ],
      [
        [14_000, 600_000_000],
        [17_000, 90_000_000],
      ],
      [null, [950_000, 40_000_000]],
      [
        [710_000, 64_360_000],
        [730_000, 18_200_000],
      ],
    ];
    const one = createPolymarketDecoder();
    const c1 = collect();
    for (const l of lines) one.decode(frame(l), c1.sink);
    expect(c1.rejects).toEqual([]);
    expect(c1.books().map(best)).toEqual(expected);
    expect(c1.books().map((b) => b.eventTime)).toEqual(
      [0, 1, 2, 3, 4, 5].map((i) => 1_777_904_100_000 + 137 * i),
    );

    const arr = createPolymarketDecoder();
    const c2 = collect();
    arr.decode(frame(lines), c2.sink);
    expect(c2.books().map(best)).toEqual(expected);
    expect([...arr.books()]).toHaveLength(6);
  });

  it('a book frame with tick_size updates a known market', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    const line = fixtureJsonl<Record<string, string>>('polymarket/ws-book-snapshots.jsonl')[1]!; // tick 0.001
    dec.decode(frame({ ...fx('ws-new-market.json'), market: line.market }), c.sink);
    expect(dec.market(line.market!)?.tickSize).toBe(10_000);
    dec.decode(frame(line), c.sink);
    expect(dec.market(line.market!)?.tickSize).toBe(1_000);
    expect(c.of('market').at(-1)?.tickSize).toBe(1_000);
  });
});

describe('Polymarket decoder: price_change', () => {
  const { yes: YES, no: NO, market: MKT } = ECB;

  function seeded() {
    const dec = createPolymarketDecoder();
    const c = collect();
    dec.decode(
      frame(
        wireBook(
          YES,
          MKT,
          [
            ['0.4', '100'],
            ['0.5', '50'],
          ],
          [
            ['0.8', '10'],
            ['0.7', '20'],
          ],
        ),
      ),
      c.sink,
    );
    dec.decode(
      frame(
        wireBook(
          NO,
          MKT,
          [
            ['0.2', '20'],
            ['0.3', '10'],
          ],
          [
            ['0.6', '50'],
            ['0.5', '100'],
          ],
        ),
      ),
      c.sink,
    );
    c.events.length = 0;
    return { dec, c };
  }

  it('ws-price-change (schema since 2025-09): several levels of one token; new aggregate sizes, inserts, "0" removes', () => {
    const { dec, c } = seeded();
    dec.decode(frame(fx('ws-price-change.json'), 9_000), c.sink);
    expect(c.rejects).toEqual([]);
    const books = c.books();
    expect(books).toHaveLength(1); // one token touched → one book
    expect(books[0]!.bids).toEqual([
      [550_000, 310_000_000],
      [500_000, 75_250_000],
    ]);
    expect(books[0]!.asks).toEqual([
      [650_000, 18_000_000],
      [700_000, 20_000_000],
      [800_000, 10_000_000],
    ]);
    expect(books[0]!.eventTime).toBe(1_777_903_320_000);
    expect(books[0]!.receiveTime).toBe(9_000);
    expect(dec.book(YES)?.bids[0]).toEqual([550_000, 310_000_000]);
    expect(dec.book(NO)?.bids[0]).toEqual([300_000, 10_000_000]);
  });

  it('ws-connection-down (our marker): the books it names go stale, a delta keeps them stale, the snapshot cures', () => {
    const { dec, c } = seeded();
    dec.decode(frame(fx('ws-connection-down.json'), 8_000), c.sink);
    expect(c.rejects).toEqual([]);
    expect(c.books().map((b) => [b.tokenId, b.stale, b.receiveTime])).toEqual([[YES, true, 8_000]]);
    // the first delta after the reconnect is applied but not fresh: no snapshot yet
    dec.decode(frame(fx('ws-price-change.json'), 9_000), c.sink);
    expect(c.books().at(-1)).toMatchObject({ tokenId: YES, stale: true });
    // the venue's snapshot after the reconnect makes it fresh again
    dec.decode(frame(wireBook(YES, MKT, [['0.5', '10']], [['0.6', '10']]), 10_000), c.sink);
    expect(c.books().at(-1)).toMatchObject({ tokenId: YES, stale: false });
    // a marker with malformed asset ids is rejected, not thrown
    dec.decode(frame({ event_type: 'connection', state: 'up', asset_ids: [7] }), c.sink);
    expect(c.rejects).toHaveLength(1);
  });

  it('routes entries for both tokens of a market by asset_id and emits one book per token; "0" deletes', () => {
    const { dec, c } = seeded();
    dec.decode(
      frame({
        event_type: 'price_change',
        market: MKT,
        timestamp: '2000',
        price_changes: [
          {
            asset_id: YES,
            price: '0.5',
            size: '0',
            side: 'BUY',
            hash: 'a',
            best_bid: '0.4',
            best_ask: '0.7',
          },
          {
            asset_id: NO,
            price: '0.5',
            size: '0',
            side: 'SELL',
            hash: 'b',
            best_bid: '0.3',
            best_ask: '0.6',
          },
          {
            asset_id: YES,
            price: '0.45',
            size: '7.5',
            side: 'BUY',
            hash: 'c',
            best_bid: '0.45',
            best_ask: '0.7',
          },
        ],
      }),
      c.sink,
    );
    const books = c.books();
    expect(books.map((b) => b.tokenId)).toEqual([YES, NO]);
    expect(books[0]!.bids).toEqual([
      [450_000, 7_500_000],
      [400_000, 100_000_000],
    ]);
    expect(books[1]!.asks).toEqual([[600_000, 50_000_000]]);
    expect(books.every((b) => b.eventTime === 2_000 && !b.stale)).toBe(true);
  });

  it('ws-price-change-legacy (pre-2025-09 schema): a top-level single level on a known book', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    dec.decode(frame(fx('ws-book-deep.json')), c.sink);
    dec.decode(frame(fx('ws-price-change-legacy.json')), c.sink);
    expect(c.rejects).toEqual([]);
    const last = c.books().at(-1)!;
    expect(last.tokenId).toBe(FED_YES);
    expect(last.asks[0]).toEqual([418_000, 9_120_550_000]);
    expect(last.asks[1]).toEqual([421_000, 1_648_060_000]);
    expect(last.marketId).toBe('0xbb1b3ad89952db44554572e0f73ba5e19a8e58cab3e74ac901a1b85665b592a2');
    expect(last.eventTime).toBe(1_777_903_265_789);
  });

  it('ws-price-change-before-snapshot: an update before any snapshot gives a stale book (best_ask "1": empty side)', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    dec.decode(frame(fx('ws-price-change-before-snapshot.json')), c.sink);
    const [b] = c.books();
    expect(b!.tokenId).toBe(NO);
    expect(b!.bids).toEqual([[520_000, 140_000_000]]);
    expect(b!.asks).toEqual([]);
    expect(b!.stale).toBe(true);
    expect(b!.eventTime).toBe(1_777_903_330_000);
  });

  it('a frame with one bad entry is rejected whole and changes nothing', () => {
    const { dec, c } = seeded();
    const before = dec.book(YES);
    dec.decode(
      frame({
        event_type: 'price_change',
        market: MKT,
        timestamp: '3000',
        price_changes: [
          { asset_id: YES, price: '0.55', size: '1', side: 'BUY' },
          { asset_id: YES, price: '0.56', size: '1', side: 'HOLD' },
        ],
      }),
      c.sink,
    );
    expect(c.rejects).toHaveLength(1);
    expect(c.rejects[0]!.reason).toContain('side');
    expect(c.books()).toEqual([]);
    expect(dec.book(YES)).toEqual(before);
    for (const bad of [
      { asset_id: YES, price: '1.5', size: '1', side: 'BUY' },
      { asset_id: YES, price: '0.5', size: '-1', side: 'BUY' },
      { asset_id: YES, price: 0.5, size: '1', side: 'BUY' },
      { price: '0.5', size: '1', side: 'BUY' },
      null,
    ]) {
      dec.decode(frame({ event_type: 'price_change', market: MKT, price_changes: [bad] }), c.sink);
    }
    dec.decode(frame({ event_type: 'price_change', market: MKT }), c.sink);
    expect(c.rejects).toHaveLength(7);
    expect(dec.book(YES)).toEqual(before);
  });
});

describe('Polymarket decoder: trades, ticks, markets, resolutions', () => {
  it('ws-last-trade-price.jsonl → TradePrints with the taker side and exact sizes', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    for (const l of fixtureJsonl('polymarket/ws-last-trade-price.jsonl')) dec.decode(frame(l, 13), c.sink);
    expect(c.rejects).toEqual([]);
    const trades = c.of('trade') as TradePrint[];
    expect(trades).toHaveLength(6);
    expect(trades[0]).toEqual({
      type: 'trade',
      venue: 'polymarket',
      marketId: ECB.market,
      tokenId: ECB.yes,
      price: 460_000,
      size: 85_500_000,
      side: 'sell',
      eventTime: 1_777_903_400_111,
      receiveTime: 13,
    });
    expect(trades[1]).toMatchObject({
      tokenId: FED_YES,
      price: 418_000,
      size: 219_417_293,
      side: 'buy',
      eventTime: 1_777_903_401_842,
    });
    expect(trades[2]).toMatchObject({ price: 270_000, size: 400_000, side: 'sell' });
    expect(trades[3]).toMatchObject({ price: 999_000, size: 1_500_000_000, side: 'buy' });
    expect(trades[5]).toMatchObject({
      price: 520_000,
      size: 7_692_307,
      side: 'buy',
      eventTime: 1_777_903_405_960,
    });
    expect(c.books()).toEqual([]);
  });

  it('ws-new-market → Market; ws-market-resolved → Resolution and the market marked resolved', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    dec.decode(frame(fx('ws-new-market.json'), 21), c.sink);
    const [m] = c.of('market') as Market[];
    const YES = '47960632567263622989316560088474350485718279288709639867226736842291549903695';
    const NO = '94260615692404193450125145560950483965743386709822689252978550140663094487000';
    expect(m).toMatchObject({
      marketId: '0x1a10ec3c243c7c2b79d6e1b9f37e79a8c2931658f7b976fdb1b773d3b843a756',
      eventId: '318842',
      slug: 'brent-above-80-on-june-30-2026',
      question: 'Will Brent crude settle above $80 on June 30, 2026?',
      tickSize: 10_000,
      minSize: 5_000_000,
      status: 'open',
      endTime: null,
      eventTime: 1_777_903_500_250,
      receiveTime: 21,
      // no fee_schedule on the frame: unknown (never priced) until a Gamma listing carries it, never zero
      fees: { kind: 'unknown', reason: 'new_market without a fee_schedule' },
    });
    expect(m!.rules).toContain('ICE Brent');
    expect(m!.negRiskGroup).toBeUndefined();
    expect(m!.outcomes).toEqual([
      { tokenId: YES, label: 'Yes', side: 'yes' },
      { tokenId: NO, label: 'No', side: 'no' },
    ]);

    const level = { asset_id: YES, side: 'BUY', price: '0.5', size: '10' };
    dec.decode(
      frame({ event_type: 'price_change', market: m!.marketId, price_changes: [level] }, 21),
      c.sink,
    );
    expect(dec.book(YES)?.bids).toEqual([[500_000, 10_000_000]]);
    dec.decode(frame(fx('ws-market-resolved.json'), 22), c.sink);
    const [r] = c.of('resolution') as Resolution[];
    expect(r).toEqual({
      type: 'resolution',
      venue: 'polymarket',
      marketId: m!.marketId,
      winner: NO,
      eventTime: 1_777_903_800_999,
      receiveTime: 22,
    });
    const updated = c.of('market').at(-1)!;
    expect(updated.status).toBe('resolved');
    expect(updated.winner).toBe(NO);
    // the resolved market's listing and its tokens' books are dropped; a repeat emits the Resolution alone
    expect(dec.market(m!.marketId)).toBeUndefined();
    expect(dec.book(YES)).toBeUndefined();
    expect(dec.book(NO)).toBeUndefined();
    const markets = c.of('market').length;
    dec.decode(frame(fx('ws-market-resolved.json'), 23), c.sink);
    expect(c.of('market')).toHaveLength(markets);
    expect(c.of('resolution')).toHaveLength(2);
  });

  it('new_market with the snake_case string fee_schedule (P14)', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    const fee_schedule = { exponent: '1', rate: '0.05', rebate_rate: '0.25', taker_only: true };
    dec.decode(frame({ ...(fx('ws-new-market.json') as object), fee_schedule }), c.sink);
    expect(c.of('market')[0]!.fees).toEqual({
      kind: 'polymarket',
      rate: 50_000,
      exponent: 1,
      takerOnly: true,
      rebateRate: 250_000,
    });
  });

  it('ws-tick-size-change: ignored for an unknown market, updates a known one', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    const change = fx('ws-tick-size-change.json') as { market: string };
    dec.decode(frame(change), c.sink);
    expect(c.events).toEqual([]);
    expect(c.rejects).toEqual([]);
    dec.decode(frame({ ...(fx('ws-new-market.json') as object), market: change.market }), c.sink);
    dec.decode(frame(change, 31), c.sink);
    const m = c.of('market').at(-1)!;
    expect(m.marketId).toBe(ECB.market);
    expect(m.tickSize).toBe(1_000);
    expect(m.eventTime).toBe(1_777_903_900_321);
    expect(m.receiveTime).toBe(31);
    expect(dec.market(ECB.market)?.tickSize).toBe(1_000);
  });

  it('ws-best-bid-ask is informational: counted as drift when it disagrees, never applied', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    const bba = fx('ws-best-bid-ask.json') as { asset_id: string; market: string };
    dec.decode(frame(bba), c.sink);
    expect(c.events).toEqual([]);
    dec.decode(
      frame(
        wireBook(
          bba.asset_id,
          bba.market,
          [
            ['0.30', '5'],
            ['0.31', '9'],
          ],
          [
            ['0.36', '1'],
            ['0.35', '3'],
          ],
        ),
      ),
      c.sink,
    );
    dec.decode(frame(bba), c.sink);
    expect(dec.stats().drift).toBe(0);
    dec.decode(frame({ ...bba, best_bid: '0.33' }), c.sink);
    expect(dec.stats().drift).toBe(1);
    expect(dec.book(bba.asset_id)?.bids[0]).toEqual([310_000, 9_000_000]);
    expect(c.books()).toHaveLength(1);
    expect(c.rejects).toEqual([]);
  });
});

describe('Polymarket decoder: REST sources, robustness', () => {
  const gammaList = () =>
    [
      'gamma-market-negrisk.json',
      'gamma-market-updown-5m.json',
      'gamma-market-sports-moneyline.json',
      'gamma-market-closed-resolved.json',
      'gamma-market-legacy-long-short.json',
    ].map(fx);

  it('gamma markets and events frames emit Markets', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    dec.decode(frame(gammaList(), 1, 'polymarket.gamma.markets'), c.sink);
    dec.decode(frame(fx('gamma-market-updown-5m.json'), 1, 'polymarket.gamma.markets'), c.sink);
    dec.decode(frame(fx('gamma-public-search.json'), 1, 'polymarket.gamma.events'), c.sink);
    expect(c.rejects).toEqual([]);
    expect(c.of('market')).toHaveLength(7);
    expect([...dec.markets()]).toHaveLength(6);
    dec.decode(
      frame([{ conditionId: 'x', outcomes: '[1', clobTokenIds: '[]' }], 1, 'polymarket.gamma.markets'),
      c.sink,
    );
    expect(c.rejects).toHaveLength(1);
    expect(c.rejects[0]!.source).toBe('polymarket.gamma.markets');
  });

  it('a Gamma protocol v2 market stays v2 when a websocket new_market (which does not say) lists it again', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    const v2 = fx('gamma-market-updown-15m-twap-v2.json');
    dec.decode(frame(v2, 1, 'polymarket.gamma.markets'), c.sink);
    const id = v2.conditionId as string;
    expect(dec.market(id)?.protocol).toBe('v2');
    dec.decode(frame({ ...fx('ws-new-market.json'), market: id }, 2), c.sink);
    expect(c.rejects).toEqual([]);
    expect(dec.market(id)?.receiveTime).toBe(2);
    expect(dec.market(id)?.protocol).toBe('v2');
    expect(c.of('market').at(-1)?.protocol).toBe('v2');
    // a market never read from Gamma has no protocol field: v1
    dec.decode(frame(fx('ws-new-market.json'), 3), c.sink);
    expect(dec.market(fx('ws-new-market.json').market as string)?.protocol).toBeUndefined();
  });

  it('clob book frames: one object (GET /book) or an array (POST /books); sim. prefix accepted', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    const book = fx('clob-book.json') as Record<string, unknown>;
    dec.decode(frame(book, 1, 'polymarket.clob.book'), c.sink);
    dec.decode(
      frame(
        [
          { ...book, asset_id: '1' },
          { ...book, asset_id: '2' },
        ],
        2,
        'sim.polymarket.clob.book',
      ),
      c.sink,
    );
    expect(c.rejects).toEqual([]);
    expect(c.books().map((b) => [b.tokenId, b.bids[0], b.asks[0]])).toEqual([
      [
        '97870774007291253166094937680403625256268168826329136019412557513486064408214',
        [110_000, 310_000_000],
        [140_000, 870_000_000],
      ],
      ['1', [110_000, 310_000_000], [140_000, 870_000_000]],
      ['2', [110_000, 310_000_000], [140_000, 870_000_000]],
    ]);
  });

  it('POST /books answers: a bad book is rejected alone; a tick_size updates the known market (P11)', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    const mkt = fx('ws-new-market.json') as { market: string; assets_ids: string[] };
    dec.decode(frame(mkt), c.sink);
    const [yes, no] = mkt.assets_ids;
    dec.decode(
      frame(
        [
          { ...wireBook(yes!, mkt.market, [['0.4', '1']], [['0.6', '1']]), tick_size: '0.001' },
          { market: mkt.market, asset_id: no, bids: [{ price: 'x', size: '1' }], asks: [] },
        ],
        40,
        'polymarket.clob.book',
      ),
      c.sink,
    );
    expect(c.rejects).toHaveLength(1);
    expect(c.books().map((b) => b.tokenId)).toEqual([yes]);
    expect(dec.market(mkt.market)?.tickSize).toBe(1_000);
    expect(c.of('market').at(-1)).toMatchObject({ tickSize: 1_000, receiveTime: 40 });
  });

  it('an older snapshot does not roll back newer updates', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    dec.decode(frame(wireBook('9', 'm', [['0.4', '1']], [['0.6', '1']], '1000')), c.sink);
    dec.decode(
      frame({
        event_type: 'price_change',
        market: 'm',
        timestamp: '1500',
        price_changes: [{ asset_id: '9', price: '0.45', size: '2', side: 'BUY' }],
      }),
      c.sink,
    );
    dec.decode(
      frame(wireBook('9', 'm', [['0.3', '1']], [['0.6', '1']], '1200'), 1, 'polymarket.clob.book'),
      c.sink,
    );
    expect(dec.book('9')?.bids).toEqual([
      [450_000, 2_000_000],
      [400_000, 1_000_000],
    ]);
    expect(dec.stats().staleSnapshots).toBe(1);
    dec.decode(frame(wireBook('9', 'm', [['0.3', '1']], [['0.6', '1']], '1600')), c.sink);
    expect(dec.book('9')?.bids).toEqual([[300_000, 1_000_000]]);
  });

  it('PONG is ignored; malformed JSON, unknown events and non-objects are rejected; decode never throws', () => {
    const dec: PolymarketDecoder = createPolymarketDecoder();
    const c = collect();
    dec.decode(frame('PONG'), c.sink);
    expect(c.events).toEqual([]);
    expect(c.rejects).toEqual([]);
    const bad: unknown[] = [
      '{"event_type": "book", "asset_id"',
      'hello',
      42,
      null,
      { event_type: 'mystery' },
      { no_type: true },
      { event_type: 'book', asset_id: '1', market: 'm', bids: 'x', asks: [] },
      { event_type: 'book', asset_id: '1', market: 'm', bids: [{ price: 'abc', size: '1' }], asks: [] },
      { event_type: 'last_trade_price', asset_id: '1', market: 'm', price: '2', size: '1' },
      { event_type: 'market_resolved', market: 'm' },
      { event_type: 'new_market', market: 'm', outcomes: ['Yes'], assets_ids: ['1', '2'] },
      { event_type: 'tick_size_change', asset_id: '1', market: 'm', new_tick_size: 'x' },
    ];
    for (const b of bad) dec.decode(frame(b), c.sink);
    expect(c.rejects).toHaveLength(bad.length);
    expect(c.rejects.every((r) => r.source === WS && r.reason.length > 0)).toBe(true);
    expect(c.rejects[0]!.reason).toContain('malformed JSON');
    expect(c.rejects[4]!.reason).toContain('mystery');
    dec.decode(frame({}, 1, 'kalshi.ws'), c.sink);
    expect(c.rejects.at(-1)!.reason).toContain('not a Polymarket source');
    expect(dec.stats().rejected).toBe(bad.length + 1);
  });

  it('a JSON string frame (as a capture may hold it) is parsed; an array keeps its good elements', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    dec.decode(frame(fixtureText('polymarket/ws-book.json')), c.sink);
    expect(c.books()).toHaveLength(1);
    const trade = fixtureJsonl('polymarket/ws-last-trade-price.jsonl')[0];
    dec.decode(frame([{ event_type: 'nope' }, trade]), c.sink);
    expect(c.rejects).toHaveLength(1);
    expect(c.of('trade')).toHaveLength(1);
  });

  it('markStale flags every held book until the next snapshot', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    dec.decode(frame(fx('ws-book.json')), c.sink);
    c.events.length = 0;
    dec.markStale(c.sink, 99);
    expect(c.books().map((b) => [b.stale, b.receiveTime])).toEqual([[true, 99]]);
    expect([...dec.books()][0]!.stale).toBe(true);
    dec.decode(frame(fx('ws-book.json'), 100), c.sink);
    expect(c.books().at(-1)!.stale).toBe(false);
  });
});

describe('Polymarket decoder: frames the simulator produces', () => {
  it('array-wrapped snapshots and price_change frames ("0" removes) rebuild the books a plain replay of the wire gives', () => {
    type Side = Map<string, string>;
    const wire = new Map<string, { bids: Side; asks: Side }>();
    let arrays = 0;
    let removals = 0;
    const dec = createPolymarketDecoder({ depth: 1_000 });
    const c = collect();
    for (const f of simulateFrames({ seed: 9, minutes: 3 })) {
      if (f.source !== 'sim.polymarket.ws.market') continue;
      dec.decode(f, c.sink);
      if (Array.isArray(f.data)) arrays++;
      for (const e of (Array.isArray(f.data) ? f.data : [f.data]) as Record<string, unknown>[]) {
        if (e.event_type === 'book') {
          const lv = (l: unknown) => new Map((l as WireLevel[]).map((x) => [x.price, x.size]));
          wire.set(e.asset_id as string, { bids: lv(e.bids), asks: lv(e.asks) });
        } else if (e.event_type === 'price_change') {
          for (const ch of e.price_changes as Array<WireLevel & { asset_id: string; side: string }>) {
            const side = wire.get(ch.asset_id)![ch.side === 'BUY' ? 'bids' : 'asks'];
            if (parseMicro(ch.size) === 0) {
              side.delete(ch.price);
              removals++;
            } else side.set(ch.price, ch.size);
          }
        }
      }
    }
    expect(c.rejects).toEqual([]);
    expect(arrays).toBeGreaterThan(0);
    expect(removals).toBeGreaterThan(0);
    expect(wire.size).toBeGreaterThanOrEqual(20);
    const levels = (s: Side, dir: 1 | -1) =>
      [...s].map(([p, q]) => [parseMicro(p), parseMicro(q)]).sort((a, b) => dir * (a[0]! - b[0]!));
    for (const [asset, b] of wire) {
      const held = dec.book(asset)!;
      expect(held.bids, asset).toEqual(levels(b.bids, -1));
      expect(held.asks, asset).toEqual(levels(b.asks, 1));
    }
    expect(c.of('trade').length).toBeGreaterThan(0);
  });
});
