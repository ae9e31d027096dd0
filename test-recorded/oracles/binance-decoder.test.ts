import { describe, expect, it } from 'vitest';
import { OracleTickSchema } from '../../src/core/messages.ts';
import type { RawFrame } from '../../src/feeds/types.ts';
import { createBinanceDecoder } from '../../src/oracles/binance/decoder.ts';
import {
  parseDepth,
  parseDepthUpdate,
  parseRestAggTrades,
  parseRestTrades,
  subscribeRequest,
} from '../../src/oracles/binance/parse.ts';
import { collect } from '../../test/venues/kalshi/collect.ts';
import { recordedJson } from '../shared.ts';

const B = (f: string) => recordedJson(`binance/${f}`);

function decodeOne(frame: Omit<RawFrame, 'ts'> & { ts?: number }) {
  const dec = createBinanceDecoder();
  const sink = collect();
  dec.decode({ ts: 1_000, ...frame }, sink);
  for (const t of sink.ticks()) expect(OracleTickSchema.parse(t)).toBeTruthy();
  return { dec, sink };
}

describe('binance REST fixtures (B1)', () => {
  it('ticker/price for one symbol (rest-ticker-price-btcusdt.json)', () => {
    const { sink } = decodeOne({ source: 'binance.rest.ticker', data: B('rest-ticker-price-btcusdt.json') });
    expect(sink.ticks()).toEqual([
      {
        type: 'tick',
        source: 'binance',
        symbol: 'BTC/USDT',
        price: 6_074_000_000_000,
        stale: false,
        receiveTime: 1_000,
      },
    ]);
  });

  it('ticker/price doc example and multi-symbol array', () => {
    expect(
      decodeOne({ source: 'binance.rest.ticker', data: B('rest-ticker-price.doc-example.json') })
        .sink.ticks()
        .map((t) => [t.symbol, t.price]),
    ).toEqual([['LTC/BTC', 400_000_200]]);
    expect(
      decodeOne({ source: 'binance.rest.ticker', data: B('rest-ticker-price-multi.doc-example.json') })
        .sink.ticks()
        .map((t) => [t.symbol, t.price]),
    ).toEqual([
      ['LTC/BTC', 400_000_200],
      ['ETH/BTC', 7_946_600],
    ]);
  });

  it('bookTicker: bid/ask and the mid as price (rest-bookticker-btcusdt.json, doc example)', () => {
    const t = decodeOne({
      source: 'binance.rest.ticker',
      data: B('rest-bookticker-btcusdt.json'),
    }).sink.ticks()[0];
    expect(t).toMatchObject({
      symbol: 'BTC/USDT',
      bid: 6_074_167_000_000,
      ask: 6_074_168_000_000,
      price: 6_074_167_500_000,
    });
    const d = decodeOne({
      source: 'binance.rest.ticker',
      data: B('rest-bookticker.doc-example.json'),
    }).sink.ticks()[0];
    expect(d).toMatchObject({ symbol: 'LTC/BTC', bid: 400_000_000, ask: 400_000_200, price: 400_000_100 });
  });

  it('24hr ticker: last price, bid/ask, closeTime (rest-ticker-24hr.doc-example.json)', () => {
    const t = decodeOne({
      source: 'binance.rest.ticker',
      data: B('rest-ticker-24hr.doc-example.json'),
    }).sink.ticks()[0];
    expect(t).toEqual({
      type: 'tick',
      source: 'binance',
      symbol: 'BNB/BTC',
      price: 400_000_200,
      bid: 400_000_000,
      ask: 400_000_200,
      stale: false,
      eventTime: 1_499_869_899_040,
      receiveTime: 1_000,
    });
  });

  it('depth: symbol from the request, best first (rest-depth.doc-example.json)', () => {
    const data = B('rest-depth.doc-example.json');
    expect(parseDepth(data as never)).toEqual({
      bids: [[400_000_000, 43_100_000_000]],
      asks: [[400_000_200, 1_200_000_000]],
      lastUpdateId: 1_027_024,
    });
    const { sink } = decodeOne({
      source: 'binance.rest.depth',
      data,
      req: { method: 'GET', path: '/api/v3/depth', query: { symbol: 'LTCBTC', limit: '5' } },
    });
    expect(sink.ticks()[0]).toMatchObject({
      symbol: 'LTC/BTC',
      bid: 400_000_000,
      ask: 400_000_200,
      price: 400_000_100,
    });
    const noReq = decodeOne({ source: 'binance.rest.depth', data });
    expect(noReq.sink.rejects).toEqual([
      { source: 'binance.rest.depth', reason: 'depth response without a symbol in its request' },
    ]);
  });

  it('trades and aggTrades with the aggressor side (rest-trades-btcusdt.json, rest-aggtrades-btcusdt.json)', () => {
    const trades = parseRestTrades('BTCUSDT', B('rest-trades-btcusdt.json'));
    if (typeof trades === 'string') throw new Error(trades);
    expect(trades).toHaveLength(10);
    expect(trades[0]).toEqual({
      symbol: 'BTC/USDT',
      price: 6_065_000_000_000,
      qty: 2_924_000,
      time: 1_634_942_949_263,
      aggressor: 'sell',
    });
    expect(trades[1]).toMatchObject({ price: 6_065_001_000_000, qty: 82_000, aggressor: 'buy' });
    const agg = parseRestAggTrades('BTCUSDT', B('rest-aggtrades-btcusdt.json'));
    if (typeof agg === 'string') throw new Error(agg);
    expect(agg).toHaveLength(10);
    expect(agg[0]).toEqual({
      symbol: 'BTC/USDT',
      price: 6_075_960_000_000,
      qty: 841_000,
      time: 1_634_944_096_633,
      aggressor: 'buy',
    });
    expect(agg[2]).toMatchObject({ price: 6_075_959_000_000, qty: 37_000, aggressor: 'sell' });
  });
});

describe('binance websocket fixtures (B3–B7)', () => {
  it('combined trade, dispatched by stream name, ignoring removed b/a ids (ws-trade-combined-2021.json)', () => {
    const t = decodeOne({ source: 'binance.ws', data: B('ws-trade-combined-2021.json') }).sink.ticks();
    expect(t).toEqual([
      {
        type: 'tick',
        source: 'binance',
        symbol: 'ETH/USDT',
        price: 414_974_000_000,
        stale: false,
        eventTime: 1_639_351_062_243,
        receiveTime: 1_000,
      },
    ]);
  });

  it('bare trade (ws-trade.doc-example.json)', () => {
    const t = decodeOne({ source: 'binance.ws', data: B('ws-trade.doc-example.json') }).sink.ticks();
    expect(t.map((x) => [x.symbol, x.price, x.eventTime])).toEqual([['BNB/BTC', 100_000, 1_672_515_782_136]]);
  });

  it('aggTrade combined with an unknown extra key, and bare (ws-aggtrade-*.json)', () => {
    const c = decodeOne({ source: 'binance.ws', data: B('ws-aggtrade-combined-2023.json') }).sink.ticks();
    expect(c.map((x) => [x.symbol, x.price, x.eventTime])).toEqual([
      ['ETH/USDT', 163_246_000_000, 1_675_759_520_847],
    ]);
    const b = decodeOne({ source: 'binance.ws', data: B('ws-aggtrade.doc-example.json') }).sink.ticks();
    expect(b.map((x) => [x.symbol, x.price, x.eventTime])).toEqual([['BNB/BTC', 100_000, 1_672_515_782_136]]);
  });

  it('bookTicker without e/E/T (doc example) and with futures-style E/T (2022 capture)', () => {
    const bare = decodeOne({ source: 'binance.ws', data: B('ws-bookticker.doc-example.json') }).sink.ticks();
    expect(bare).toEqual([
      {
        type: 'tick',
        source: 'binance',
        symbol: 'BNB/USDT',
        price: 2_535_855_000,
        bid: 2_535_190_000,
        ask: 2_536_520_000,
        stale: false,
        receiveTime: 1_000,
      },
    ]);
    const comb = decodeOne({
      source: 'binance.ws',
      data: B('ws-bookticker-combined-2022.json'),
    }).sink.ticks();
    expect(comb[0]).toMatchObject({
      symbol: 'ETH/USDT',
      bid: 450_724_000_000,
      ask: 450_725_000_000,
      price: 450_724_500_000,
      eventTime: 1_646_199_228_123,
    });
  });

  it('24hrTicker (ws-24hrticker.doc-example.json)', () => {
    const t = decodeOne({ source: 'binance.ws', data: B('ws-24hrticker.doc-example.json') }).sink.ticks();
    expect(t.map((x) => [x.symbol, x.price, x.bid, x.ask, x.eventTime])).toEqual([
      ['BNB/BTC', 250_000, 240_000, 260_000, 123_456_789],
    ]);
  });

  it('partial depth needs its stream name for the symbol (ws-partial-depth.doc-example.json)', () => {
    const data = B('ws-partial-depth.doc-example.json');
    expect(parseDepth(data as never)).toEqual({
      bids: [[240_000, 1_000_000_000]],
      asks: [[260_000, 10_000_000_000]],
      lastUpdateId: 160,
    });
    const t = decodeOne({ source: 'binance.ws', data: { stream: 'bnbbtc@depth5@100ms', data } }).sink.ticks();
    expect(t.map((x) => [x.symbol, x.price, x.bid, x.ask])).toEqual([['BNB/BTC', 250_000, 240_000, 260_000]]);
    expect(decodeOne({ source: 'binance.ws', data }).sink.rejects).toHaveLength(1);
  });

  it('diff depth parses (U, u, levels) and is accepted without a tick (ws-depthupdate.doc-example.json)', () => {
    const data = B('ws-depthupdate.doc-example.json');
    expect(parseDepthUpdate(data as never)).toEqual({
      symbol: 'BNB/BTC',
      firstUpdateId: 157,
      finalUpdateId: 160,
      bids: [[240_000, 1_000_000_000]],
      asks: [[260_000, 10_000_000_000]],
      eventTime: 1_672_515_782_136,
    });
    const { sink } = decodeOne({ source: 'binance.ws', data: { stream: 'bnbbtc@depth', data } });
    expect(sink.events).toEqual([]);
    expect(sink.rejects).toEqual([]);
  });

  it('subscribe request and reply (ws-subscribe-*.doc-example.json)', () => {
    expect(subscribeRequest(1, ['btcusdt@aggTrade', 'btcusdt@depth'])).toEqual(
      B('ws-subscribe-request.doc-example.json'),
    );
    const { sink } = decodeOne({ source: 'binance.ws', data: B('ws-subscribe-response.doc-example.json') });
    expect(sink.events).toEqual([]);
    expect(sink.rejects).toEqual([]);
  });

  it('serverShutdown re-emits known symbols as stale (ws-combined-servershutdown.doc-example.json)', () => {
    const dec = createBinanceDecoder();
    const sink = collect();
    dec.decode({ ts: 1, source: 'binance.ws', data: B('ws-bookticker-combined-2022.json') }, sink);
    dec.decode({ ts: 2, source: 'binance.ws', data: B('ws-trade-combined-2021.json') }, sink);
    sink.clear();
    dec.decode({ ts: 3, source: 'binance.ws', data: B('ws-combined-servershutdown.doc-example.json') }, sink);
    // the trade tick carried the last bid/ask of ETH/USDT
    expect(sink.ticks()).toEqual([
      {
        type: 'tick',
        source: 'binance',
        symbol: 'ETH/USDT',
        price: 414_974_000_000,
        bid: 450_724_000_000,
        ask: 450_725_000_000,
        stale: true,
        eventTime: 1_639_351_062_243,
        receiveTime: 3,
      },
    ]);
    expect(dec.stats().shutdowns).toBe(1);
    // a fresh trade makes it live again
    sink.clear();
    dec.decode({ ts: 4, source: 'binance.ws', data: B('ws-trade-combined-2021.json') }, sink);
    expect(sink.ticks()[0]!.stale).toBe(false);
    expect(dec.latest().get('ETH/USDT')?.receiveTime).toBe(4);
  });
});
