import { describe, expect, it } from 'vitest';
import { OrderBookSchema } from '../../../src/core/messages.ts';
import { parseMicro } from '../../../src/core/money.ts';
import type { RawFrame } from '../../../src/feeds/types.ts';
import { createKalshiDecoder, type KalshiGap } from '../../../src/venues/kalshi/decoder.ts';
import { simulateFrames } from '../../../src/venues/sim/feed.ts';
import { fixtureJson, fixtureJsonl } from '../../helpers/fixtures.ts';
import { collect } from './collect.ts';

// Payloads written from Kalshi's documented REST and websocket schemas (test/fixtures/owned/kalshi).
const K = (f: string) => `kalshi/${f}`;
const ws = (data: unknown, ts = 100): RawFrame => ({ ts, source: 'kalshi.ws', data });
const T80 = 'KXHIGHNY-26MAY04-T80';
const EVENT = 'KXUCLGAME-26MAY05ARSPSG';
const ARS = `${EVENT}-ARS`;

describe('kalshi decoder: REST', () => {
  it('emits two token books from a REST orderbook, instrument from the request path', () => {
    const dec = createKalshiDecoder();
    const sink = collect();
    dec.decode(
      {
        ts: 50,
        source: 'kalshi.rest.orderbook',
        data: fixtureJson(K('rest-orderbook.json')),
        req: { method: 'GET', path: '/trade-api/v2/markets/KXFUSIONGRID-35/orderbook' },
      },
      sink,
    );
    expect(sink.rejects).toEqual([]);
    const [yes, no] = sink.books();
    expect(yes).toMatchObject({
      marketId: 'KXFUSIONGRID-35',
      tokenId: 'KXFUSIONGRID-35:yes',
      stale: false,
      receiveTime: 50,
    });
    expect(yes!.bids[0]).toEqual([180_000, 64_100_000]);
    expect(yes!.asks[0]).toEqual([210_000, 1_204_600_000]);
    expect(no).toMatchObject({ tokenId: 'KXFUSIONGRID-35:no' });
    expect(no!.bids[0]).toEqual([790_000, 1_204_600_000]);
    expect(no!.asks[0]).toEqual([820_000, 64_100_000]);
    expect(no!.bids).toHaveLength(9);
    expect(yes!.bids).toHaveLength(6);
    for (const b of sink.books()) expect(OrderBookSchema.parse(b)).toBeTruthy();
    expect([...dec.books()].map((b) => b.tokenId)).toEqual(['KXFUSIONGRID-35:yes', 'KXFUSIONGRID-35:no']);
  });

  it('limits emitted depth', () => {
    const dec = createKalshiDecoder({ depth: 2 });
    const sink = collect();
    dec.decode(
      {
        ts: 1,
        source: 'kalshi.rest.orderbook',
        data: fixtureJson(K('rest-orderbook.json')),
        req: { method: 'GET', path: '/markets/FUSION/orderbook' },
      },
      sink,
    );
    const [yes, no] = sink.books();
    expect(yes!.bids).toEqual([
      [180_000, 64_100_000],
      [170_000, 212_250_000],
    ]);
    expect(yes!.asks).toEqual([
      [210_000, 1_204_600_000],
      [220_000, 95_400_000],
    ]);
    expect(no!.asks).toEqual([
      [820_000, 64_100_000],
      [830_000, 212_250_000],
    ]);
    expect(yes!.marketId).toBe('FUSION');
  });

  it('emits markets, and re-emits them with the group once the mutually exclusive event is known', () => {
    const dec = createKalshiDecoder();
    const sink = collect();
    dec.decode(
      {
        ts: 1,
        source: 'kalshi.rest.markets',
        data: { market: fixtureJson(K('rest-market-active.json')) },
      },
      sink,
    );
    expect(sink.markets()).toHaveLength(1);
    expect(sink.markets()[0]!.negRiskGroup).toBeUndefined();
    dec.decode(
      {
        ts: 2,
        source: 'kalshi.rest.events',
        data: { events: [fixtureJson(K('rest-event.json'))], cursor: '' },
      },
      sink,
    );
    expect(sink.markets()).toHaveLength(2);
    const m = sink.markets()[1]!;
    expect(m.negRiskGroup).toBe(EVENT);
    expect(m.receiveTime).toBe(2);
    expect(m.version).not.toBe(sink.markets()[0]!.version);
    // once the event is known, later market pages carry the group directly
    dec.decode(
      {
        ts: 3,
        source: 'kalshi.rest.markets',
        data: { markets: [fixtureJson(K('rest-market-active.json'))], cursor: '' },
      },
      sink,
    );
    expect(sink.markets()[2]!.negRiskGroup).toBe(EVENT);
    expect(dec.markets().get(ARS)?.receiveTime).toBe(3);
  });

  it('emits markets nested in events and a resolution once per settled market', () => {
    const dec = createKalshiDecoder();
    const sink = collect();
    const event = fixtureJson<Record<string, unknown>>(K('rest-event.json'));
    const market = fixtureJson<Record<string, unknown>>(K('rest-market-active.json'));
    const settled = { ...market, status: 'finalized', result: 'no' };
    dec.decode({ ts: 5, source: 'kalshi.rest.events', data: { event, markets: [settled] } }, sink);
    dec.decode({ ts: 6, source: 'kalshi.rest.markets', data: { markets: [settled], cursor: '' } }, sink);
    expect(sink.markets().map((m) => [m.status, m.winner, m.negRiskGroup])).toEqual([
      ['resolved', `${ARS}:no`, EVENT],
      ['resolved', `${ARS}:no`, EVENT],
    ]);
    expect(sink.resolutions()).toEqual([
      {
        type: 'resolution',
        venue: 'kalshi',
        marketId: ARS,
        winner: `${ARS}:no`,
        // updated_time carries microseconds
        eventTime: Date.UTC(2026, 4, 4, 21, 14, 3, 552),
        receiveTime: 5,
      },
    ]);
    // a resolved market's listing is dropped; `resolved` keeps the resolution to once
    expect(dec.markets().has(ARS)).toBe(false);
  });

  it('emits every market of a list page (rest-markets-list.json)', () => {
    const dec = createKalshiDecoder();
    const sink = collect();
    dec.decode(
      { ts: 1, source: 'kalshi.rest.markets', data: fixtureJson(K('rest-markets-list.json')) },
      sink,
    );
    expect(sink.markets().map((m) => [m.marketId, m.tickSize])).toEqual([
      ['KXFUSIONGRID-35', 10_000],
      ['KXFUSIONGRID-40', 1_000],
    ]);
  });

  it('rejects malformed REST frames without throwing', () => {
    const dec = createKalshiDecoder();
    const sink = collect();
    dec.decode({ ts: 1, source: 'kalshi.rest.orderbook', data: fixtureJson(K('rest-orderbook.json')) }, sink);
    dec.decode(
      {
        ts: 1,
        source: 'kalshi.rest.orderbook',
        data: '<html>',
        req: { method: 'GET', path: '/markets/X/orderbook' },
      },
      sink,
    );
    dec.decode({ ts: 1, source: 'kalshi.rest.markets', data: { markets: [{ title: 'no ticker' }] } }, sink);
    dec.decode({ ts: 1, source: 'kalshi.rest.markets', data: null }, sink);
    dec.decode({ ts: 1, source: 'kalshi.rest.events', data: { events: [{}] } }, sink);
    dec.decode({ ts: 1, source: 'polymarket.ws.market', data: {} }, sink);
    expect(sink.events).toEqual([]);
    expect(sink.rejects.map((r) => r.reason)).toEqual([
      'orderbook response without a /markets/{ticker}/orderbook request path',
      'orderbook response is not an object',
      'market has no ticker',
      'markets response is not an object',
      'event has no event_ticker',
      'kalshi decoder does not handle source polymarket.ws.market',
    ]);
    expect(dec.stats().rejected).toBe(6);
  });
});

describe('kalshi decoder: websocket', () => {
  it('replays a websocket session (ws-session.jsonl): snapshot, delta, ticker, a seq gap, an error, an empty book', () => {
    const gaps: KalshiGap[] = [];
    const dec = createKalshiDecoder({ onGap: (g) => gaps.push(g) });
    const sink = collect();
    const frames = fixtureJsonl(K('ws-session.jsonl'));
    // 1: subscribed → nothing
    dec.decode(ws(frames[0], 1), sink);
    expect(sink.events).toEqual([]);
    // 2: snapshot yes [0.03×40, 0.04×525], no [0.90×18, 0.94×730]: asks implied from the other side (K6)
    dec.decode(ws(frames[1], 2), sink);
    let [yes, no] = sink.books();
    expect(yes).toMatchObject({ tokenId: `${T80}:yes`, seq: 1, stale: false });
    expect(yes!.bids).toEqual([
      [40_000, 525_000_000],
      [30_000, 40_000_000],
    ]);
    expect(yes!.asks).toEqual([
      [60_000, 730_000_000],
      [100_000, 18_000_000],
    ]);
    expect(no!.bids).toEqual([
      [940_000, 730_000_000],
      [900_000, 18_000_000],
    ]);
    expect(no!.asks).toEqual([
      [960_000, 525_000_000],
      [970_000, 40_000_000],
    ]);
    // 3: delta +14.50 on yes 0.04 (added to the level)
    sink.clear();
    dec.decode(ws(frames[2], 3), sink);
    [yes, no] = sink.books();
    expect(yes!.bids).toEqual([
      [40_000, 539_500_000],
      [30_000, 40_000_000],
    ]);
    expect(yes!.eventTime).toBe(1_777_906_961_318);
    expect(yes!.seq).toBe(2);
    expect(no!.asks).toEqual([
      [960_000, 539_500_000],
      [970_000, 40_000_000],
    ]);
    // 4: ticker — agrees with the depth book (K6) and does not override it
    sink.clear();
    dec.decode(ws(frames[3], 4), sink);
    expect(sink.events).toEqual([]);
    const t = frames[3] as {
      msg: { yes_ask_dollars: string; yes_ask_size_fp: string; yes_bid_size_fp: string };
    };
    expect([t.msg.yes_ask_dollars, t.msg.yes_ask_size_fp]).toEqual(['0.0600', '730.00']);
    expect(yes!.asks[0]).toEqual([60_000, 730_000_000]);
    expect(yes!.bids[0]![1]).toBe(539_500_000);
    // 5: an ok ack carrying seq 57 on sid 1 — a gap after seq 2: books go stale, onGap fires
    dec.decode(ws(frames[4], 5), sink);
    expect(sink.books().map((b) => [b.tokenId, b.stale])).toEqual([
      [`${T80}:yes`, true],
      [`${T80}:no`, true],
    ]);
    expect(gaps).toEqual([{ sid: 1, tickers: [T80], expected: 3, got: 57 }]);
    expect(dec.staleSids()).toEqual([1]);
    // 6: error reply → counted, nothing emitted
    sink.clear();
    dec.decode(ws(frames[5], 6), sink);
    expect(sink.events).toEqual([]);
    expect(dec.stats().errors).toBe(1);
    // 7: snapshot with neither side (K14) → two empty, fresh books
    dec.decode(ws(frames[6], 7), sink);
    expect(sink.books().map((b) => [b.tokenId, b.bids, b.asks, b.stale])).toEqual([
      ['KXHIGHNY-26MAY04-T86:yes', [], [], false],
      ['KXHIGHNY-26MAY04-T86:no', [], [], false],
    ]);
    expect(sink.rejects).toEqual([]);
    expect(dec.stats()).toMatchObject({ gaps: 1, staleBooks: 1, rejected: 0 });
  });

  it('recovers from a gap: deltas are ignored until a fresh snapshot arrives', () => {
    const gaps: KalshiGap[] = [];
    const dec = createKalshiDecoder({ onGap: (g) => gaps.push(g) });
    const sink = collect();
    const snap = (sid: number, seq: number, yes: [string, string][], no: [string, string][]) => ({
      type: 'orderbook_snapshot',
      sid,
      seq,
      msg: { market_ticker: 'M', market_id: 'id', yes_dollars_fp: yes, no_dollars_fp: no },
    });
    const delta = (sid: number, seq: number, price: string, d: string, side: 'yes' | 'no') => ({
      type: 'orderbook_delta',
      sid,
      seq,
      msg: {
        market_ticker: 'M',
        market_id: 'id',
        price_dollars: price,
        delta_fp: d,
        side,
        ts: '2026-08-27T13:56:23.996443Z',
      },
    });
    dec.decode(ws(snap(1, 1, [['0.4000', '10.00']], [['0.5500', '5.00']])), sink);
    dec.decode(ws(delta(1, 2, '0.4100', '3.00', 'yes')), sink);
    dec.decode(ws(delta(1, 4, '0.4200', '1.00', 'yes')), sink); // seq 3 lost
    expect(gaps.map((g) => g.tickers)).toEqual([['M']]);
    sink.clear();
    dec.decode(ws(delta(1, 5, '0.4300', '1.00', 'yes')), sink);
    expect(sink.events).toEqual([]); // stale book, not applied
    expect([...dec.books()][0]!.stale).toBe(true);
    // resubscribed: new sid, fresh snapshot
    dec.decode(ws({ type: 'subscribed', id: 9, msg: { channel: 'orderbook_delta', sid: 3 } }), sink);
    dec.decode(
      ws(
        snap(
          3,
          1,
          [
            ['0.4100', '3.00'],
            ['0.4000', '10.00'],
          ],
          [['0.5500', '5.00']],
        ),
      ),
      sink,
    );
    dec.decode(ws(delta(3, 2, '0.5500', '-5.00', 'no')), sink);
    dec.decode(ws(delta(3, 3, '0.4000', '-4.00', 'yes')), sink);
    const [yes, no] = [...dec.books()];
    expect(yes).toMatchObject({ stale: false, seq: 3, eventTime: Date.parse('2026-08-27T13:56:23.996Z') });
    expect(yes!.bids).toEqual([
      [410_000, 3_000_000],
      [400_000, 6_000_000],
    ]);
    expect(yes!.asks).toEqual([]);
    expect(no!.bids).toEqual([]);
    expect(no!.asks).toEqual([
      [590_000, 3_000_000],
      [600_000, 6_000_000],
    ]);
    // late deltas of the old sid do not touch the new book
    sink.clear();
    dec.decode(ws(delta(1, 6, '0.4100', '100.00', 'yes')), sink);
    expect(sink.events).toEqual([]);
    expect(dec.staleSids()).toEqual([1]);
    // a level removed by a negative delta beyond its size
    dec.decode(ws(delta(3, 4, '0.4100', '-99.00', 'yes')), sink);
    expect(sink.books()[0]!.bids).toEqual([[400_000, 6_000_000]]);
  });

  it('marks every websocket book stale when the connection drops', () => {
    const dec = createKalshiDecoder();
    const sink = collect();
    const frames = fixtureJsonl(K('ws-session.jsonl'));
    dec.decode(ws(frames[1]), sink);
    dec.decode(
      {
        ts: 1,
        source: 'kalshi.rest.orderbook',
        data: fixtureJson(K('rest-orderbook.json')),
        req: { method: 'GET', path: '/markets/FUSION/orderbook' },
      },
      sink,
    );
    sink.clear();
    dec.decode(ws({ type: 'connection', state: 'down' }, 9), sink);
    expect(sink.books().map((b) => [b.tokenId, b.stale, b.receiveTime])).toEqual([
      [`${T80}:yes`, true, 9],
      [`${T80}:no`, true, 9],
    ]);
    // the REST book is not tied to the socket
    expect([...dec.books()].find((b) => b.tokenId === 'FUSION:yes')?.stale).toBe(false);
  });

  it('publishes tickers as top of book for markets without a depth subscription (ws-ticker.jsonl)', () => {
    const dec = createKalshiDecoder();
    const sink = collect();
    for (const f of fixtureJsonl(K('ws-ticker.jsonl'))) dec.decode(ws(f, 3), sink);
    expect(sink.rejects).toEqual([]);
    const books = sink.books();
    expect(books).toHaveLength(10);
    expect(books[0]).toEqual({
      type: 'book',
      venue: 'kalshi',
      marketId: 'KXBTCD-26MAY0417-T97499.99',
      tokenId: 'KXBTCD-26MAY0417-T97499.99:yes',
      bids: [[600_000, 250_000_000]],
      asks: [[630_000, 41_000_000]],
      stale: false,
      eventTime: 1_777_914_000_000,
      receiveTime: 3,
    });
    expect(books[1]).toMatchObject({
      tokenId: 'KXBTCD-26MAY0417-T97499.99:no',
      bids: [[370_000, 41_000_000]],
      asks: [[400_000, 250_000_000]],
    });
    // yes_ask 1.0000 × 0.00 means no ask
    expect(books[2]).toMatchObject({
      tokenId: 'KXETHD-26MAY0417-T3599.99:yes',
      bids: [[990_000, 1_200_000_000]],
      asks: [],
    });
    expect(books[3]).toMatchObject({
      tokenId: 'KXETHD-26MAY0417-T3599.99:no',
      bids: [],
      asks: [[10_000, 1_200_000_000]],
    });
    // yes_bid 0.0000 × 0.00 means no bid
    expect(books[4]).toMatchObject({
      tokenId: 'KXSOLD-26MAY0417-T149.99:yes',
      bids: [],
      asks: [[20_000, 310_000_000]],
    });
    expect(books[5]).toMatchObject({
      tokenId: 'KXSOLD-26MAY0417-T149.99:no',
      bids: [[980_000, 310_000_000]],
      asks: [],
    });
    // ts_ms, where given, is the event time
    expect(books[6]).toMatchObject({ tokenId: `${T80}:yes`, eventTime: 1_777_914_003_412 });
    for (const b of books) expect(OrderBookSchema.parse(b)).toBeTruthy();
  });

  it('emits trade prints and notices a gap on the trade subscription (ws-trade.jsonl)', () => {
    const gaps: KalshiGap[] = [];
    const dec = createKalshiDecoder({ onGap: (g) => gaps.push(g) });
    const sink = collect();
    for (const f of fixtureJsonl(K('ws-trade.jsonl'))) dec.decode(ws(f, 4), sink);
    const trades = sink.trades();
    expect(trades).toHaveLength(5);
    expect(trades[0]).toEqual({
      type: 'trade',
      venue: 'kalshi',
      marketId: 'KXBTCD-26MAY0417-T97499.99',
      tokenId: 'KXBTCD-26MAY0417-T97499.99:yes',
      price: 630_000,
      size: 41_000_000,
      side: 'buy',
      eventTime: 1_777_914_010_000,
      receiveTime: 4,
    });
    // a NO taker bought the NO token at no_price_dollars
    expect(trades[1]).toMatchObject({
      tokenId: 'KXETHD-26MAY0417-T3599.99:no',
      price: 10_000,
      size: 15_000_000,
    });
    expect(trades[3]).toMatchObject({ tokenId: `${T80}:no`, price: 960_000, size: 2_500_000 });
    // seq 23 → 61 on sid 4: a gap, but no book depends on the trade channel
    expect(gaps).toEqual([{ sid: 4, tickers: [], expected: 24, got: 61 }]);
    expect(sink.books()).toEqual([]);
  });

  it('rejects malformed websocket frames and never throws', () => {
    const dec = createKalshiDecoder();
    const sink = collect();
    const bad: unknown[] = [
      '{not json',
      { msg: {} },
      {
        type: 'orderbook_delta',
        sid: 1,
        seq: 1,
        msg: { market_ticker: 'M', price_dollars: '2.0000', delta_fp: '1.00', side: 'yes' },
      },
      {
        type: 'orderbook_delta',
        sid: 1,
        seq: 1,
        msg: { market_ticker: 'M', price_dollars: '0.5000', delta_fp: 'x', side: 'yes' },
      },
      {
        type: 'orderbook_delta',
        sid: 1,
        seq: 1,
        msg: { market_ticker: 'M', price_dollars: '0.5000', delta_fp: '1.00', side: 'maybe' },
      },
      {
        type: 'orderbook_delta',
        sid: 1,
        seq: 1,
        msg: { market_ticker: 'NEW', price_dollars: '0.5000', delta_fp: '1.00', side: 'yes' },
      },
      { type: 'orderbook_delta', sid: 1, seq: 2, msg: null },
      {
        type: 'orderbook_snapshot',
        sid: 1,
        seq: 1,
        msg: { market_ticker: 'M', yes_dollars_fp: [['0.5', 'many']] },
      },
      { type: 'orderbook_snapshot', sid: 1, seq: 1, msg: {} },
      { type: 'trade', sid: 2, seq: 1, msg: { market_ticker: 'M', yes_price: 50 } },
      { type: 'ticker', sid: 3, msg: 7 },
      { type: 'mystery' },
      { type: 'connection' },
      null,
      42,
    ];
    for (const d of bad) dec.decode(ws(d), sink);
    expect(sink.events).toEqual([]);
    expect(sink.rejects).toHaveLength(bad.length);
    expect(sink.rejects[0]!.reason).toBe('websocket frame is not JSON');
    expect(sink.rejects[5]!.reason).toBe('orderbook_delta before any snapshot for NEW');
    for (const r of sink.rejects) expect(r.source).toBe('kalshi.ws');
  });

  it('accepts simulator-prefixed sources', () => {
    const dec = createKalshiDecoder();
    const sink = collect();
    dec.decode({ ts: 1, source: 'sim.kalshi.ws', data: fixtureJsonl(K('ws-session.jsonl'))[1] }, sink);
    expect(sink.books()).toHaveLength(2);
  });
});

describe('kalshi decoder: frames the simulator produces', () => {
  it('snapshots and signed deltas rebuild the books a plain replay of the wire gives, asks implied (K6)', () => {
    const wire = new Map<string, { yes: Map<number, number>; no: Map<number, number> }>();
    let deltas = 0;
    const dec = createKalshiDecoder({ depth: 1_000 });
    const sink = collect();
    for (const f of simulateFrames({ seed: 9, minutes: 3 })) {
      if (f.source !== 'sim.kalshi.ws') continue;
      dec.decode(f, sink);
      const { type, msg } = f.data as { type: string; msg: Record<string, unknown> };
      const ticker = msg.market_ticker as string;
      if (type === 'orderbook_snapshot') {
        const side = (l: unknown) =>
          new Map(((l ?? []) as [string, string][]).map(([p, q]) => [parseMicro(p), parseMicro(q)]));
        wire.set(ticker, { yes: side(msg.yes_dollars_fp), no: side(msg.no_dollars_fp) });
      } else if (type === 'orderbook_delta') {
        deltas++;
        const side = wire.get(ticker)![msg.side as 'yes' | 'no'];
        const price = parseMicro(msg.price_dollars as string);
        const size = (side.get(price) ?? 0) + parseMicro(msg.delta_fp as string);
        if (size > 0) side.set(price, size);
        else side.delete(price);
      }
    }
    expect(sink.rejects).toEqual([]);
    expect(deltas).toBeGreaterThan(0);
    expect(wire.size).toBeGreaterThanOrEqual(10);
    const bids = (s: Map<number, number>) => [...s].sort((a, b) => b[0] - a[0]);
    const implied = (s: Map<number, number>) =>
      [...s].map(([p, q]) => [1_000_000 - p, q]).sort((a, b) => a[0]! - b[0]!);
    const book = (token: string) => [...dec.books()].find((b) => b.tokenId === token)!;
    for (const [ticker, w] of wire) {
      expect(book(`${ticker}:yes`).bids, ticker).toEqual(bids(w.yes));
      expect(book(`${ticker}:yes`).asks, ticker).toEqual(implied(w.no));
      expect(book(`${ticker}:no`).bids, ticker).toEqual(bids(w.no));
      expect(book(`${ticker}:no`).asks, ticker).toEqual(implied(w.yes));
    }
    expect(sink.trades().length).toBeGreaterThan(0);
  });
});
