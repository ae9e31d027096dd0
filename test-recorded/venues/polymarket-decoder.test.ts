import { describe, expect, it } from 'vitest';
import type { Market, OrderBook, Resolution, TradePrint } from '../../src/core/messages.ts';
import { createPolymarketDecoder } from '../../src/venues/polymarket/decoder.ts';
import { collect, frame, wireBook } from '../../test/venues/polymarket/helpers.ts';
import { recordedJson, recordedJsonl, recordedText } from '../shared.ts';

const fx = (f: string) => recordedJson<Record<string, unknown>>(`polymarket/${f}`);

describe('Polymarket decoder: book', () => {
  it('ws-book.doc-example: replaces the book, best first, times from the frame', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    dec.decode(frame(fx('ws-book.doc-example.json'), 7_777), c.sink);
    expect(c.rejects).toEqual([]);
    const [b] = c.books();
    expect(b).toEqual({
      type: 'book',
      venue: 'polymarket',
      marketId: '0xbd31dc8a20211944f6b70f31557f1001557b59905b7738480ca09bd4532f84af',
      tokenId: '65818619657568813474341868652308942079804919287380422192892211131408793125422',
      bids: [
        [500_000, 15_000_000],
        [490_000, 20_000_000],
        [480_000, 30_000_000],
      ],
      asks: [
        [520_000, 25_000_000],
        [530_000, 60_000_000],
        [540_000, 10_000_000],
      ],
      stale: false,
      eventTime: 1_757_908_892_351,
      receiveTime: 7_777,
      // the token's slot in this process (src/core/token-slots.ts): a lookup hint for consumers
      slot: expect.any(Number),
    });
  });

  it('ws-book-2024: deep book trimmed to the configured depth', () => {
    const dec = createPolymarketDecoder({ depth: 5 });
    const c = collect();
    dec.decode(frame(fx('ws-book-2024.json')), c.sink);
    const [b] = c.books();
    expect(b!.tokenId).toBe('48331043336612883890938759509493159234755048973500640148014422747788308965732');
    expect(b!.bids).toHaveLength(5);
    expect(b!.bids[0]).toEqual([511_000, 1_304_720_000]);
    expect(b!.bids[1]).toEqual([510_000, 12_848_170_000]);
    expect(b!.asks[0]).toEqual([514_000, 20_230_870_000]);
    expect(b!.asks[1]).toEqual([515_000, 43_551_960_000]);
    expect(b!.eventTime).toBe(1_728_799_418_260);
    expect(createPolymarketDecoder().book(b!.tokenId)).toBeUndefined();
    expect(dec.book(b!.tokenId)?.asks).toHaveLength(5);
  });

  it('ws-book-2026-02.jsonl: every recorded frame, one at a time and as one array frame (P18)', () => {
    const lines = recordedJsonl<Record<string, unknown>>('polymarket/ws-book-2026-02.jsonl');
    const best = (b: OrderBook) => [b.bids[0] ?? null, b.asks[0] ?? null];
    const expected = [
      [
        [130_000, 167_000_000],
        [140_000, 189_000_000],
      ],
      [[999_000, 103_199_780_000], null],
      [
        [996_000, 119_637_810_000],
        [997_000, 116_890_140_000],
      ],
      [
        [460_000, 38_130_000],
        [470_000, 1_401_820_000],
      ],
      [
        [860_000, 3_150_000_000],
        [870_000, 5_768_340_000],
      ],
      [
        [991_000, 197_880_000],
        [994_000, 8_580_000],
      ],
      [
        [80_000, 3_794_440_000],
        [90_000, 9_539_120_000],
      ],
      [
        [18_000, 10_000_000],
        [21_000, 18_000_000],
      ],
      [
        [270_000, 6_757_000_000],
        [290_000, 242_000_000],
      ],
      [
        [910_000, 1_155_080_000],
        [920_000, 3_351_270_000],
      ],
    ];
    const one = createPolymarketDecoder();
    const c1 = collect();
    for (const l of lines) one.decode(frame(l), c1.sink);
    expect(c1.rejects).toEqual([]);
    expect(c1.books().map(best)).toEqual(expected);
    expect(c1.books()[0]!.eventTime).toBe(1_770_921_570_954);

    const arr = createPolymarketDecoder();
    const c2 = collect();
    arr.decode(frame(lines), c2.sink);
    expect(c2.books().map(best)).toEqual(expected);
    expect([...arr.books()]).toHaveLength(10);
  });

  it('a book frame with tick_size updates a known market', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    const line = recordedJsonl<Record<string, string>>('polymarket/ws-book-2026-02.jsonl')[1]!; // tick 0.001
    dec.decode(frame({ ...fx('ws-new-market.json'), market: line.market }), c.sink);
    expect(dec.market(line.market!)?.tickSize).toBe(10_000);
    dec.decode(frame(line), c.sink);
    expect(dec.market(line.market!)?.tickSize).toBe(1_000);
    expect(c.of('market').at(-1)?.tickSize).toBe(1_000);
  });
});

describe('Polymarket decoder: price_change', () => {
  const YES = '52114319501245915516055106046884209969926127482827954674443846427813813222426';
  const NO = '71321045679252212594626385532706912750332728571942532289631379312455583992563';
  const MKT = '0x5f65177b394277fd294cd75650044e32ba009a95022d88a0c1d565897d72f8f1';

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

  it('ws-price-change-v2: several levels of one token; size is the new aggregate, inserts in order', () => {
    const { dec, c } = seeded();
    dec.decode(frame(fx('ws-price-change-v2.json'), 9_000), c.sink);
    expect(c.rejects).toEqual([]);
    const books = c.books();
    expect(books).toHaveLength(1); // one token touched → one book
    expect(books[0]!.bids).toEqual([
      [700_000, 3_400_000_000],
      [600_000, 3_300_000_000],
      [500_000, 3_400_000_000],
      [400_000, 100_000_000],
    ]);
    expect(books[0]!.asks).toEqual([
      [700_000, 20_000_000],
      [800_000, 10_000_000],
    ]);
    expect(books[0]!.eventTime).toBe(1_729_084_877_448);
    expect(books[0]!.receiveTime).toBe(9_000);
    expect(dec.book(YES)?.bids[0]).toEqual([700_000, 3_400_000_000]);
  });

  it('ws-price-change-legacy-pre-2025-09: top-level single level on a known book', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    dec.decode(frame(fx('ws-book-2024.json')), c.sink);
    dec.decode(frame(fx('ws-price-change-legacy-pre-2025-09.json')), c.sink);
    expect(c.rejects).toEqual([]);
    const last = c.books().at(-1)!;
    expect(last.tokenId).toBe(
      '48331043336612883890938759509493159234755048973500640148014422747788308965732',
    );
    expect(last.asks[0]).toEqual([514_000, 21_574_080_000]);
    expect(last.marketId).toBe('0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917');
  });

  it('ws-price-change.doc-example: an update before any snapshot gives a stale book', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    dec.decode(frame(fx('ws-price-change.doc-example.json')), c.sink);
    const [b] = c.books();
    expect(b!.tokenId).toBe(NO);
    expect(b!.bids).toEqual([[500_000, 200_000_000]]);
    expect(b!.asks).toEqual([]);
    expect(b!.stale).toBe(true);
    expect(b!.eventTime).toBe(1_757_908_892_351);
  });
});

describe('Polymarket decoder: trades, ticks, markets, resolutions', () => {
  it('last_trade_price fixtures → TradePrints', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    dec.decode(frame(fx('ws-last-trade-price-2024.json'), 11), c.sink);
    dec.decode(frame(fx('ws-last-trade-price.doc-example.json'), 12), c.sink);
    for (const l of recordedJsonl('polymarket/ws-last-trade-price-2026-02.jsonl'))
      dec.decode(frame(l, 13), c.sink);
    expect(c.rejects).toEqual([]);
    const trades = c.of('trade') as TradePrint[];
    expect(trades).toHaveLength(12);
    expect(trades[0]).toEqual({
      type: 'trade',
      venue: 'polymarket',
      marketId: '0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917',
      tokenId: '21742633143463906290569050155826241533067272736897614950488156847949938836455',
      price: 491_000,
      size: 85_360_000,
      side: 'sell',
      eventTime: 1_724_564_136_087,
      receiveTime: 11,
    });
    expect(trades[1]).toMatchObject({
      price: 456_000,
      size: 219_217_767,
      side: 'buy',
      eventTime: 1_750_428_146_322,
    });
    expect(trades[2]).toMatchObject({
      price: 460_000,
      size: 200_000,
      side: 'sell',
      eventTime: 1_770_921_571_394,
    });
    expect(trades[10]).toMatchObject({ price: 470_000, size: 11_276_594, side: 'buy' });
    expect(c.books()).toEqual([]);
  });

  it('ws-new-market → Market; ws-market-resolved → Resolution and the market marked resolved', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    dec.decode(frame(fx('ws-new-market.json'), 21), c.sink);
    const [m] = c.of('market') as Market[];
    expect(m).toMatchObject({
      marketId: '0x311d0c4b6671ab54af4970c06fcf58662516f5168997bdda209ec3db5aa6b0c1',
      eventId: '125819',
      slug: 'nvda-above-240-on-january-30-2026',
      question: 'Will NVIDIA (NVDA) close above $240 end of January?',
      tickSize: 10_000,
      minSize: 5_000_000,
      status: 'open',
      endTime: null,
      eventTime: 1_766_790_415_550,
      receiveTime: 21,
      // the recorded new_market has no fee_schedule: unknown until a Gamma listing carries it, never zero
      fees: { kind: 'unknown', reason: 'new_market without a fee_schedule' },
    });
    expect(m!.outcomes).toEqual([
      {
        tokenId: '76043073756653678226373981964075571318267289248134717369284518995922789326425',
        label: 'Yes',
        side: 'yes',
      },
      {
        tokenId: '31690934263385727664202099278545688007799199447969475608906331829650099442770',
        label: 'No',
        side: 'no',
      },
    ]);

    dec.decode(frame(fx('ws-market-resolved.json'), 22), c.sink);
    const [r] = c.of('resolution') as Resolution[];
    expect(r).toEqual({
      type: 'resolution',
      venue: 'polymarket',
      marketId: '0x311d0c4b6671ab54af4970c06fcf58662516f5168997bdda209ec3db5aa6b0c1',
      winner: '76043073756653678226373981964075571318267289248134717369284518995922789326425',
      eventTime: 1_766_790_415_550,
      receiveTime: 22,
    });
    const updated = c.of('market').at(-1)!;
    expect(updated.status).toBe('resolved');
    expect(updated.winner).toBe(r!.winner);
  });

  it('new_market with the snake_case string fee_schedule (P14)', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    const fee_schedule = { exponent: '1', rate: '0.07', rebate_rate: '0.2', taker_only: true };
    dec.decode(frame({ ...(fx('ws-new-market.json') as object), fee_schedule }), c.sink);
    expect(c.of('market')[0]!.fees).toEqual({
      kind: 'polymarket',
      rate: 70_000,
      exponent: 1,
      takerOnly: true,
      rebateRate: 200_000,
    });
  });

  it('tick_size_change fixtures: updates a known market, ignores an unknown one', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    dec.decode(frame(fx('ws-tick-size-change.json')), c.sink);
    expect(c.events).toEqual([]);
    expect(c.rejects).toEqual([]);
    const doc = fx('ws-tick-size-change.doc-example.json') as { market: string };
    dec.decode(frame({ ...(fx('ws-new-market.json') as object), market: doc.market }), c.sink);
    dec.decode(frame(doc, 31), c.sink);
    const m = c.of('market').at(-1)!;
    expect(m.marketId).toBe(doc.market);
    expect(m.tickSize).toBe(1_000);
    expect(m.eventTime).toBe(1_757_908_892_351);
    expect(m.receiveTime).toBe(31);
    expect(dec.market(doc.market)?.tickSize).toBe(1_000);
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
            ['0.72', '5'],
            ['0.73', '9'],
          ],
          [
            ['0.78', '1'],
            ['0.77', '3'],
          ],
        ),
      ),
      c.sink,
    );
    dec.decode(frame(bba), c.sink);
    expect(dec.stats().drift).toBe(0);
    dec.decode(frame({ ...bba, best_bid: '0.74' }), c.sink);
    expect(dec.stats().drift).toBe(1);
    expect(dec.book(bba.asset_id)?.bids[0]).toEqual([730_000, 9_000_000]);
    expect(c.books()).toHaveLength(1);
    expect(c.rejects).toEqual([]);
  });
});

describe('Polymarket decoder: REST sources, robustness', () => {
  it('gamma markets and events frames emit Markets', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    dec.decode(frame(fx('gamma-markets-list.assembled.json'), 1, 'polymarket.gamma.markets'), c.sink);
    dec.decode(frame(fx('gamma-market-btc-updown-5m.json'), 1, 'polymarket.gamma.markets'), c.sink);
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

  it('clob book frames: one object (GET /book) or an array (POST /books); sim. prefix accepted', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    const book = fx('clob-book-2024.json') as Record<string, unknown>;
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
        '23360939988679364027624185518382759743328544433592111535569478055890815567848',
        [100_000, 125_000_000],
        [140_000, 705_000_000],
      ],
      ['1', [100_000, 125_000_000], [140_000, 705_000_000]],
      ['2', [100_000, 125_000_000], [140_000, 705_000_000]],
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

  it('a JSON string frame (as a capture may hold it) is parsed; an array keeps its good elements', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    dec.decode(frame(recordedText('polymarket/ws-book.doc-example.json')), c.sink);
    expect(c.books()).toHaveLength(1);
    dec.decode(frame([{ event_type: 'nope' }, fx('ws-last-trade-price-2024.json')]), c.sink);
    expect(c.rejects).toHaveLength(1);
    expect(c.of('trade')).toHaveLength(1);
  });

  it('markStale flags every held book until the next snapshot', () => {
    const dec = createPolymarketDecoder();
    const c = collect();
    dec.decode(frame(fx('ws-book.doc-example.json')), c.sink);
    c.events.length = 0;
    dec.markStale(c.sink, 99);
    expect(c.books().map((b) => [b.stale, b.receiveTime])).toEqual([[true, 99]]);
    expect([...dec.books()][0]!.stale).toBe(true);
    dec.decode(frame(fx('ws-book.doc-example.json'), 100), c.sink);
    expect(c.books().at(-1)!.stale).toBe(false);
  });
});
