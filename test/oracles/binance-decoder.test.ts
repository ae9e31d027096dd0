import { describe, expect, it } from 'vitest';
import { OracleTickSchema } from '../../src/core/messages.ts';
import { parseE8 } from '../../src/core/money.ts';
import type { RawFrame } from '../../src/feeds/types.ts';
import { createBinanceDecoder } from '../../src/oracles/binance/decoder.ts';
import {
  binanceSymbol,
  normalizeSymbol,
  parseDepth,
  parseDepthUpdate,
  parseRestAggTrades,
  parseRestTrades,
  subscribeRequest,
} from '../../src/oracles/binance/parse.ts';
import { simulateFrames } from '../../src/venues/sim/feed.ts';
import { fixtureJson } from '../helpers/fixtures.ts';
import { collect } from '../venues/kalshi/collect.ts';

const B = (f: string) => fixtureJson(`binance/${f}`);

function decodeOne(frame: Omit<RawFrame, 'ts'> & { ts?: number }) {
  const dec = createBinanceDecoder();
  const sink = collect();
  dec.decode({ ts: 1_000, ...frame }, sink);
  for (const t of sink.ticks()) expect(OracleTickSchema.parse(t)).toBeTruthy();
  return { dec, sink };
}

describe('binance symbols', () => {
  it('normalizes to BASE/QUOTE', () => {
    expect(normalizeSymbol('BTCUSDT')).toBe('BTC/USDT');
    expect(normalizeSymbol('ethusdt')).toBe('ETH/USDT');
    expect(normalizeSymbol('BNBBTC')).toBe('BNB/BTC');
    expect(normalizeSymbol('BTCFDUSD')).toBe('BTC/FDUSD');
    expect(normalizeSymbol('ETHUSDC')).toBe('ETH/USDC');
    expect(binanceSymbol('BTC/USDT')).toBe('BTCUSDT');
  });
});

// Payloads written from Binance's documented spot REST and websocket schemas (test/fixtures/owned/binance).
describe('binance REST (B1)', () => {
  it('ticker/price for one symbol (rest-ticker-price.json)', () => {
    const { sink } = decodeOne({ source: 'binance.rest.ticker', data: B('rest-ticker-price.json') });
    expect(sink.ticks()).toEqual([
      {
        type: 'tick',
        source: 'binance',
        symbol: 'BTC/USDT',
        price: 9_731_255_000_000,
        stale: false,
        receiveTime: 1_000,
      },
    ]);
  });

  it('ticker/price without a symbol: an array (rest-ticker-price-list.json)', () => {
    expect(
      decodeOne({ source: 'binance.rest.ticker', data: B('rest-ticker-price-list.json') })
        .sink.ticks()
        .map((t) => [t.symbol, t.price]),
    ).toEqual([
      ['ETH/USDT', 362_118_000_000],
      ['SOL/BTC', 154_300],
    ]);
  });

  it('bookTicker: bid/ask and the mid as price (rest-bookticker.json)', () => {
    const t = decodeOne({ source: 'binance.rest.ticker', data: B('rest-bookticker.json') }).sink.ticks()[0];
    expect(t).toMatchObject({
      symbol: 'ETH/USDT',
      bid: 362_117_000_000,
      ask: 362_118_000_000,
      price: 362_117_500_000,
    });
    expect(t!.eventTime).toBeUndefined();
  });

  it('24hr ticker: last price, bid/ask, closeTime (rest-ticker-24hr.json)', () => {
    const t = decodeOne({ source: 'binance.rest.ticker', data: B('rest-ticker-24hr.json') }).sink.ticks()[0];
    expect(t).toEqual({
      type: 'tick',
      source: 'binance',
      symbol: 'SOL/USDT',
      price: 14_912_000_000,
      bid: 14_911_000_000,
      ask: 14_912_000_000,
      stale: false,
      eventTime: 1_777_903_805_012,
      receiveTime: 1_000,
    });
  });

  it('depth: symbol from the request, best first (rest-depth.json)', () => {
    const data = B('rest-depth.json');
    expect(parseDepth(data as never)).toEqual({
      bids: [
        [9_731_254_000_000, 120_431_000],
        [9_731_250_000_000, 410_000],
        [9_731_190_000_000, 35_000_000],
      ],
      asks: [
        [9_731_255_000_000, 8_120_000],
        [9_731_300_000_000, 250_000_000],
        [9_731_512_000_000, 1_000_000],
      ],
      lastUpdateId: 88_451_902_211,
    });
    const { sink } = decodeOne({
      source: 'binance.rest.depth',
      data,
      req: { method: 'GET', path: '/api/v3/depth', query: { symbol: 'BTCUSDT', limit: '5' } },
    });
    expect(sink.ticks()[0]).toMatchObject({
      symbol: 'BTC/USDT',
      bid: 9_731_254_000_000,
      ask: 9_731_255_000_000,
      price: 9_731_254_500_000,
    });
    const noReq = decodeOne({ source: 'binance.rest.depth', data });
    expect(noReq.sink.rejects).toEqual([
      { source: 'binance.rest.depth', reason: 'depth response without a symbol in its request' },
    ]);
  });

  it('trades and aggTrades with the aggressor side (rest-trades.json, rest-aggtrades.json)', () => {
    const trades = parseRestTrades('BTCUSDT', B('rest-trades.json'));
    if (typeof trades === 'string') throw new Error(trades);
    expect(trades).toHaveLength(4);
    // isBuyerMaker: the seller was the aggressor
    expect(trades[0]).toEqual({
      symbol: 'BTC/USDT',
      price: 9_731_254_000_000,
      qty: 1_520_000,
      time: 1_777_903_801_115,
      aggressor: 'sell',
    });
    expect(trades[1]).toMatchObject({ price: 9_731_255_000_000, qty: 31_000, aggressor: 'buy' });
    const agg = parseRestAggTrades('BTCUSDT', B('rest-aggtrades.json'));
    if (typeof agg === 'string') throw new Error(agg);
    expect(agg).toHaveLength(3);
    expect(agg[0]).toEqual({
      symbol: 'BTC/USDT',
      price: 9_731_255_000_000,
      qty: 12_031_000,
      time: 1_777_903_801_207,
      aggressor: 'buy',
    });
    expect(agg[1]).toMatchObject({ price: 9_731_190_000_000, qty: 800_000, aggressor: 'sell' });
  });
});

describe('binance websocket (B3–B7)', () => {
  it('combined trade, dispatched by stream name, ignoring the removed b/a ids (ws-trade-combined.json)', () => {
    const t = decodeOne({ source: 'binance.ws', data: B('ws-trade-combined.json') }).sink.ticks();
    expect(t).toEqual([
      {
        type: 'tick',
        source: 'binance',
        symbol: 'SOL/USDT',
        price: 14_913_000_000,
        stale: false,
        eventTime: 1_777_903_802_518,
        receiveTime: 1_000,
      },
    ]);
  });

  it('bare trade (ws-trade.json)', () => {
    const t = decodeOne({ source: 'binance.ws', data: B('ws-trade.json') }).sink.ticks();
    expect(t.map((x) => [x.symbol, x.price, x.eventTime])).toEqual([
      ['ETH/BTC', 3_721_000, 1_777_903_802_599],
    ]);
  });

  it('aggTrade combined with an unknown extra key, and bare (ws-aggtrade*.json)', () => {
    const c = decodeOne({ source: 'binance.ws', data: B('ws-aggtrade-combined.json') }).sink.ticks();
    expect(c.map((x) => [x.symbol, x.price, x.eventTime])).toEqual([
      ['BTC/USDT', 9_731_200_000_000, 1_777_903_802_411],
    ]);
    const b = decodeOne({ source: 'binance.ws', data: B('ws-aggtrade.json') }).sink.ticks();
    expect(b.map((x) => [x.symbol, x.price, x.eventTime])).toEqual([
      ['ETH/BTC', 3_722_000, 1_777_903_802_698],
    ]);
  });

  it('bookTicker without e/E/T (spot) and with futures-style E/T (B5)', () => {
    const bare = decodeOne({ source: 'binance.ws', data: B('ws-bookticker.json') }).sink.ticks();
    expect(bare).toEqual([
      {
        type: 'tick',
        source: 'binance',
        symbol: 'SOL/USDT',
        price: 14_913_000_000,
        bid: 14_912_000_000,
        ask: 14_914_000_000,
        stale: false,
        receiveTime: 1_000,
      },
    ]);
    const comb = decodeOne({ source: 'binance.ws', data: B('ws-bookticker-combined.json') }).sink.ticks();
    expect(comb[0]).toMatchObject({
      symbol: 'BTC/USDT',
      bid: 9_731_254_000_000,
      ask: 9_731_255_000_000,
      price: 9_731_254_500_000,
      eventTime: 1_777_903_802_803,
    });
  });

  it('24hrTicker (ws-24hrticker.json)', () => {
    const t = decodeOne({ source: 'binance.ws', data: B('ws-24hrticker.json') }).sink.ticks();
    expect(t.map((x) => [x.symbol, x.price, x.bid, x.ask, x.eventTime])).toEqual([
      ['SOL/BTC', 154_300, 154_200, 154_400, 1_777_903_803_000],
    ]);
  });

  it('partial depth needs its stream name for the symbol (ws-partial-depth.json)', () => {
    const data = B('ws-partial-depth.json');
    expect(parseDepth(data as never)).toEqual({
      bids: [
        [362_117_000_000, 431_200_000],
        [362_110_000_000, 50_000_000],
      ],
      asks: [
        [362_118_000_000, 95_230_000],
        [362_140_000_000, 1_200_000_000],
      ],
      lastUpdateId: 11_823_006_912,
    });
    const t = decodeOne({
      source: 'binance.ws',
      data: { stream: 'ethusdt@depth5@100ms', data },
    }).sink.ticks();
    expect(t.map((x) => [x.symbol, x.price, x.bid, x.ask])).toEqual([
      ['ETH/USDT', 362_117_500_000, 362_117_000_000, 362_118_000_000],
    ]);
    expect(decodeOne({ source: 'binance.ws', data }).sink.rejects).toHaveLength(1);
  });

  it('diff depth parses (U, u, levels; quantity 0 removes) and is accepted without a tick (ws-depthupdate.json)', () => {
    const data = B('ws-depthupdate.json');
    expect(parseDepthUpdate(data as never)).toEqual({
      symbol: 'ETH/USDT',
      firstUpdateId: 11_823_006_913,
      finalUpdateId: 11_823_006_917,
      bids: [
        [362_117_000_000, 390_000_000],
        [362_110_000_000, 0],
      ],
      asks: [[362_118_000_000, 102_000_000]],
      eventTime: 1_777_903_803_120,
    });
    const { sink } = decodeOne({ source: 'binance.ws', data: { stream: 'ethusdt@depth', data } });
    expect(sink.events).toEqual([]);
    expect(sink.rejects).toEqual([]);
  });

  it('subscribe request and reply (ws-subscribe-*.json)', () => {
    expect(subscribeRequest(7, ['solusdt@trade', 'solusdt@bookTicker'])).toEqual(
      B('ws-subscribe-request.json'),
    );
    const { sink } = decodeOne({ source: 'binance.ws', data: B('ws-subscribe-response.json') });
    expect(sink.events).toEqual([]);
    expect(sink.rejects).toEqual([]);
  });

  it('serverShutdown re-emits known symbols as stale (ws-servershutdown.json)', () => {
    const dec = createBinanceDecoder();
    const sink = collect();
    dec.decode({ ts: 1, source: 'binance.ws', data: B('ws-bookticker.json') }, sink);
    dec.decode({ ts: 2, source: 'binance.ws', data: B('ws-trade-combined.json') }, sink);
    sink.clear();
    dec.decode({ ts: 3, source: 'binance.ws', data: B('ws-servershutdown.json') }, sink);
    // the trade tick carried the last bid/ask of SOL/USDT
    expect(sink.ticks()).toEqual([
      {
        type: 'tick',
        source: 'binance',
        symbol: 'SOL/USDT',
        price: 14_913_000_000,
        bid: 14_912_000_000,
        ask: 14_914_000_000,
        stale: true,
        eventTime: 1_777_903_802_518,
        receiveTime: 3,
      },
    ]);
    expect(dec.stats().shutdowns).toBe(1);
    // a fresh trade makes it live again
    sink.clear();
    dec.decode({ ts: 4, source: 'binance.ws', data: B('ws-trade-combined.json') }, sink);
    expect(sink.ticks()[0]!.stale).toBe(false);
    expect(dec.latest().get('SOL/USDT')?.receiveTime).toBe(4);
  });

  it('rejects malformed frames without throwing', () => {
    const dec = createBinanceDecoder();
    const sink = collect();
    const bad: unknown[] = [
      '{"stream":',
      null,
      [1, 2],
      { stream: 'btcusdt@trade' },
      { stream: 'btcusdt@trade', data: { e: 'trade', s: 'BTCUSDT', p: 'abc', q: '1' } },
      { stream: 'btcusdt@bookTicker', data: { s: 'BTCUSDT', b: '1', B: '1', a: '-2', A: '1' } },
      { stream: 'btcusdt@kline_1m', data: { e: 'kline' } },
      { hello: 'world' },
      { code: -1121, msg: 'Invalid symbol.' },
      { type: 'connection' },
    ];
    for (const d of bad) dec.decode({ ts: 1, source: 'binance.ws', data: d }, sink);
    dec.decode({ ts: 1, source: 'binance.rest.ticker', data: 'oops' }, sink);
    dec.decode({ ts: 1, source: 'binance.rest.ticker', data: [{ symbol: 'BTCUSDT', price: '1.2.3' }] }, sink);
    dec.decode({ ts: 1, source: 'kalshi.ws', data: {} }, sink);
    expect(sink.events).toEqual([]);
    expect(sink.rejects).toHaveLength(bad.length + 3);
    expect(sink.rejects[0]!.reason).toBe('websocket frame is not JSON');
    expect(dec.stats().rejected).toBe(bad.length + 3);
  });
});

describe('binance decoder: frames the simulator produces', () => {
  it('combined trade and bookTicker streams become ticks: the trade price, or the mid of a quote, with the last bid/ask', () => {
    const dec = createBinanceDecoder();
    const sink = collect();
    const frames = [...simulateFrames({ seed: 4, minutes: 1 })].filter((f) => f.source === 'sim.binance.ws');
    for (const f of frames) dec.decode(f, sink);
    expect(sink.rejects).toEqual([]);
    expect(sink.ticks()).toHaveLength(frames.length);
    // a plain replay of the wire: last price (trade, or mid of a bookTicker) and last quote per symbol
    const last = new Map<string, { price?: number; bid?: number; ask?: number }>();
    for (const f of frames) {
      const { stream, data } = f.data as { stream: string; data: Record<string, string> };
      const sym = normalizeSymbol(data.s!);
      const l = last.get(sym) ?? {};
      if (stream.endsWith('@trade')) l.price = parseE8(data.p!);
      else {
        l.bid = parseE8(data.b!);
        l.ask = parseE8(data.a!);
        l.price = (l.bid + l.ask) / 2;
      }
      last.set(sym, l);
    }
    expect([...last.keys()].sort()).toEqual(['BTC/USDT', 'ETH/USDT']);
    for (const [sym, l] of last) expect(dec.latest().get(sym)).toMatchObject(l);
  });
});
