import { describe, expect, it } from 'vitest';
import { OrderBookSchema } from '../../src/core/messages.ts';
import type { RawFrame } from '../../src/feeds/types.ts';
import { createKalshiDecoder, type KalshiGap } from '../../src/venues/kalshi/decoder.ts';
import { collect } from '../../test/venues/kalshi/collect.ts';
import { recordedJson, recordedJsonl } from '../shared.ts';

const K = (f: string) => `kalshi/${f}`;
const ws = (data: unknown, ts = 100): RawFrame => ({ ts, source: 'kalshi.ws', data });
const GOLD = 'KXGOLDH-26AUG2711-T4615.99';

describe('kalshi decoder: REST', () => {
  it('emits two token books from a REST orderbook, instrument from the request path', () => {
    const dec = createKalshiDecoder();
    const sink = collect();
    dec.decode(
      {
        ts: 50,
        source: 'kalshi.rest.orderbook',
        data: recordedJson(K('rest-orderbook-2026.json')),
        req: { method: 'GET', path: '/trade-api/v2/markets/KXELONMARS-99/orderbook' },
      },
      sink,
    );
    expect(sink.rejects).toEqual([]);
    const [yes, no] = sink.books();
    expect(yes).toMatchObject({
      marketId: 'KXELONMARS-99',
      tokenId: 'KXELONMARS-99:yes',
      stale: false,
      receiveTime: 50,
    });
    expect(yes!.bids[0]).toEqual([80_000, 444_320_000]);
    expect(yes!.asks[0]).toEqual([120_000, 1_967_330_000]);
    expect(no).toMatchObject({ tokenId: 'KXELONMARS-99:no' });
    expect(no!.bids[0]).toEqual([880_000, 1_967_330_000]);
    expect(no!.asks[0]).toEqual([920_000, 444_320_000]);
    expect(no!.bids).toHaveLength(18);
    for (const b of sink.books()) expect(OrderBookSchema.parse(b)).toBeTruthy();
    expect([...dec.books()].map((b) => b.tokenId)).toEqual(['KXELONMARS-99:yes', 'KXELONMARS-99:no']);
  });

  it('limits emitted depth', () => {
    const dec = createKalshiDecoder({ depth: 2 });
    const sink = collect();
    dec.decode(
      {
        ts: 1,
        source: 'kalshi.rest.orderbook',
        data: recordedJson(K('rest-orderbook.doc-example.json')),
        req: { method: 'GET', path: '/markets/DOC/orderbook' },
      },
      sink,
    );
    const [yes, no] = sink.books();
    expect(yes!.bids).toEqual([
      [420_000, 13_000_000],
      [410_000, 10_000_000],
    ]);
    expect(yes!.asks).toEqual([
      [440_000, 17_000_000],
      [550_000, 20_000_000],
    ]);
    expect(no!.asks[0]).toEqual([580_000, 13_000_000]);
  });

  it('emits markets, and re-emits them with the group once the mutually exclusive event is known', () => {
    const dec = createKalshiDecoder();
    const sink = collect();
    dec.decode(
      {
        ts: 1,
        source: 'kalshi.rest.markets',
        data: { market: recordedJson(K('rest-market-object-active-2026-07.json')) },
      },
      sink,
    );
    expect(sink.markets()).toHaveLength(1);
    expect(sink.markets()[0]!.negRiskGroup).toBeUndefined();
    dec.decode(
      {
        ts: 2,
        source: 'kalshi.rest.events',
        data: { events: [recordedJson(K('rest-event-object-2026-07.json'))], cursor: '' },
      },
      sink,
    );
    expect(sink.markets()).toHaveLength(2);
    const m = sink.markets()[1]!;
    expect(m.negRiskGroup).toBe('KXATPMATCH-26JUL13SANDAN');
    expect(m.receiveTime).toBe(2);
    expect(m.version).not.toBe(sink.markets()[0]!.version);
    // once the event is known, later market pages carry the group directly
    dec.decode(
      {
        ts: 3,
        source: 'kalshi.rest.markets',
        data: { markets: [recordedJson(K('rest-market-object-active-2026-07.json'))], cursor: '' },
      },
      sink,
    );
    expect(sink.markets()[2]!.negRiskGroup).toBe('KXATPMATCH-26JUL13SANDAN');
    expect(dec.markets().get('KXATPMATCH-26JUL13SANDAN-DAN')?.receiveTime).toBe(3);
  });

  it('emits markets nested in events and a resolution once per settled market', () => {
    const dec = createKalshiDecoder();
    const sink = collect();
    const event = recordedJson<Record<string, unknown>>(K('rest-event-object-2026-07.json'));
    const market = recordedJson<Record<string, unknown>>(K('rest-market-object-active-2026-07.json'));
    const settled = { ...market, status: 'finalized', result: 'no' };
    dec.decode({ ts: 5, source: 'kalshi.rest.events', data: { event, markets: [settled] } }, sink);
    dec.decode({ ts: 6, source: 'kalshi.rest.markets', data: { markets: [settled], cursor: '' } }, sink);
    expect(sink.markets().map((m) => [m.status, m.winner, m.negRiskGroup])).toEqual([
      ['resolved', 'KXATPMATCH-26JUL13SANDAN-DAN:no', 'KXATPMATCH-26JUL13SANDAN'],
      ['resolved', 'KXATPMATCH-26JUL13SANDAN-DAN:no', 'KXATPMATCH-26JUL13SANDAN'],
    ]);
    expect(sink.resolutions()).toEqual([
      {
        type: 'resolution',
        venue: 'kalshi',
        marketId: 'KXATPMATCH-26JUL13SANDAN-DAN',
        winner: 'KXATPMATCH-26JUL13SANDAN-DAN:no',
        eventTime: Date.parse('2026-07-12T15:35:00.073Z'),
        receiveTime: 5,
      },
    ]);
  });

  it('emits every market of a list page (rest-markets-list-2026.json)', () => {
    const dec = createKalshiDecoder();
    const sink = collect();
    dec.decode(
      { ts: 1, source: 'kalshi.rest.markets', data: recordedJson(K('rest-markets-list-2026.json')) },
      sink,
    );
    expect(sink.markets().map((m) => [m.marketId, m.tickSize])).toEqual([
      ['KXELONMARS-99', 10_000],
      ['KXCOLONIZEMARS-50', 1_000],
    ]);
  });
});

describe('kalshi decoder: websocket', () => {
  it('replays the verbatim demo capture (ws-frames-demo-2026-08-verbatim.jsonl)', () => {
    const gaps: KalshiGap[] = [];
    const dec = createKalshiDecoder({ onGap: (g) => gaps.push(g) });
    const sink = collect();
    const frames = recordedJsonl(K('ws-frames-demo-2026-08-verbatim.jsonl'));
    // 1: subscribed → nothing
    dec.decode(ws(frames[0], 1), sink);
    expect(sink.events).toEqual([]);
    // 2: snapshot yes [0.01×1410], no [0.01×100, 0.02×2500]
    dec.decode(ws(frames[1], 2), sink);
    let [yes, no] = sink.books();
    expect(yes).toMatchObject({ tokenId: `${GOLD}:yes`, seq: 1, stale: false });
    expect(yes!.bids).toEqual([[10_000, 1_410_000_000]]);
    expect(yes!.asks).toEqual([
      [980_000, 2_500_000_000],
      [990_000, 100_000_000],
    ]);
    expect(no!.bids).toEqual([
      [20_000, 2_500_000_000],
      [10_000, 100_000_000],
    ]);
    expect(no!.asks).toEqual([[990_000, 1_410_000_000]]);
    // 3: delta +10 on yes 0.01
    sink.clear();
    dec.decode(ws(frames[2], 3), sink);
    [yes, no] = sink.books();
    expect(yes!.bids).toEqual([[10_000, 1_420_000_000]]);
    expect(yes!.eventTime).toBe(1_787_838_983_996);
    expect(yes!.seq).toBe(2);
    expect(no!.asks).toEqual([[990_000, 1_420_000_000]]);
    // 4: ticker — agrees with the implied ask (K6) and does not override the depth book
    sink.clear();
    dec.decode(ws(frames[3], 4), sink);
    expect(sink.events).toEqual([]);
    const t = frames[3] as { msg: { yes_ask_dollars: string; yes_ask_size_fp: string } };
    expect([t.msg.yes_ask_dollars, t.msg.yes_ask_size_fp]).toEqual(['0.9800', '2500.00']);
    expect(yes!.asks[0]).toEqual([980_000, 2_500_000_000]);
    // 5: an ok ack carrying seq 108 on sid 1 — a gap after seq 2: books go stale, onGap fires
    dec.decode(ws(frames[4], 5), sink);
    expect(sink.books().map((b) => [b.tokenId, b.stale])).toEqual([
      [`${GOLD}:yes`, true],
      [`${GOLD}:no`, true],
    ]);
    expect(gaps).toEqual([{ sid: 1, tickers: [GOLD], expected: 3, got: 108 }]);
    expect(dec.staleSids()).toEqual([1]);
    // 6: error reply → counted, nothing emitted
    sink.clear();
    dec.decode(ws(frames[5], 6), sink);
    expect(sink.events).toEqual([]);
    expect(dec.stats().errors).toBe(1);
    // 7: snapshot with neither side (K14) → two empty, fresh books
    dec.decode(ws(frames[6], 7), sink);
    expect(sink.books().map((b) => [b.tokenId, b.bids, b.asks, b.stale])).toEqual([
      ['KXBTCD-25AUG2617-T112999.99:yes', [], [], false],
      ['KXBTCD-25AUG2617-T112999.99:no', [], [], false],
    ]);
    expect(sink.rejects).toEqual([]);
    expect(dec.stats()).toMatchObject({ gaps: 1, staleBooks: 1, rejected: 0 });
  });

  it('marks every websocket book stale when the connection drops', () => {
    const dec = createKalshiDecoder();
    const sink = collect();
    const frames = recordedJsonl(K('ws-frames-demo-2026-08-verbatim.jsonl'));
    dec.decode(ws(frames[1]), sink);
    dec.decode(
      {
        ts: 1,
        source: 'kalshi.rest.orderbook',
        data: recordedJson(K('rest-orderbook.doc-example.json')),
        req: { method: 'GET', path: '/markets/DOC/orderbook' },
      },
      sink,
    );
    sink.clear();
    dec.decode(ws({ type: 'connection', state: 'down' }, 9), sink);
    expect(sink.books().map((b) => [b.tokenId, b.stale, b.receiveTime])).toEqual([
      [`${GOLD}:yes`, true, 9],
      [`${GOLD}:no`, true, 9],
    ]);
  });

  it('publishes tickers as top of book for markets without a depth subscription (ws-ticker-2026-02.jsonl)', () => {
    const dec = createKalshiDecoder();
    const sink = collect();
    for (const f of recordedJsonl(K('ws-ticker-2026-02.jsonl'))) dec.decode(ws(f, 3), sink);
    expect(sink.rejects).toEqual([]);
    const books = sink.books();
    expect(books).toHaveLength(20);
    expect(books[0]).toEqual({
      type: 'book',
      venue: 'kalshi',
      marketId: 'KXXRP-26FEB1317-B1.3899500',
      tokenId: 'KXXRP-26FEB1317-B1.3899500:yes',
      bids: [[40_000, 14_000_000]],
      asks: [[950_000, 84_000_000]],
      stale: false,
      eventTime: 1_770_897_976_000,
      receiveTime: 3,
    });
    expect(books[1]).toMatchObject({
      tokenId: 'KXXRP-26FEB1317-B1.3899500:no',
      bids: [[50_000, 84_000_000]],
      asks: [[960_000, 14_000_000]],
    });
    // yes_ask 1.0000 × 0.00 means no ask
    expect(books[2]).toMatchObject({
      tokenId: 'KXETHD-26FEB1217-T1819.99:yes',
      bids: [[980_000, 195_000_000]],
      asks: [],
    });
    expect(books[3]).toMatchObject({
      tokenId: 'KXETHD-26FEB1217-T1819.99:no',
      bids: [],
      asks: [[20_000, 195_000_000]],
    });
    for (const b of books) expect(OrderBookSchema.parse(b)).toBeTruthy();
  });

  it('emits trade prints and notices a gap on the trade subscription (ws-trade-2026-02.jsonl)', () => {
    const gaps: KalshiGap[] = [];
    const dec = createKalshiDecoder({ onGap: (g) => gaps.push(g) });
    const sink = collect();
    for (const f of recordedJsonl(K('ws-trade-2026-02.jsonl'))) dec.decode(ws(f, 4), sink);
    const trades = sink.trades();
    expect(trades).toHaveLength(10);
    expect(trades[0]).toEqual({
      type: 'trade',
      venue: 'kalshi',
      marketId: 'KXSOLD-26FEB1217-T79.9999',
      tokenId: 'KXSOLD-26FEB1217-T79.9999:yes',
      price: 770_000,
      size: 75_000_000,
      side: 'buy',
      eventTime: 1_770_897_981_000,
      receiveTime: 4,
    });
    expect(trades[1]).toMatchObject({ tokenId: 'KXBTCD-26FEB1217-T67749.99:no', price: 430_000 });
    // seq 10 → 48 on sid 2: a gap, but no book depends on the trade channel
    expect(gaps).toEqual([{ sid: 2, tickers: [], expected: 11, got: 48 }]);
  });

  it('accepts simulator-prefixed sources', () => {
    const dec = createKalshiDecoder();
    const sink = collect();
    dec.decode(
      { ts: 1, source: 'sim.kalshi.ws', data: recordedJsonl(K('ws-frames-demo-2026-08-verbatim.jsonl'))[1] },
      sink,
    );
    expect(sink.books()).toHaveLength(2);
  });
});
