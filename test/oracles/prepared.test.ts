/**
 * The oracles' prepared frames (what the capture read worker sends instead of JSON): a prepared frame decodes to
 * exactly the ticks of its JSON, and a frame the decoder would not turn into a tick is not prepared (nothing
 * written). The worker's whole path (file → worker → decoders) is tested in test/capture/read-worker.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { PreparedWriter, RawFrame } from '../../src/feeds/types.ts';
import { createBinanceDecoder } from '../../src/oracles/binance/decoder.ts';
import {
  BINANCE_TRADE,
  PreparedBinanceQuote,
  PreparedBinanceTrade,
  prepareBinanceWs,
} from '../../src/oracles/binance/prepared.ts';
import { createChainlinkDecoder } from '../../src/oracles/chainlink/decoder.ts';
import { PreparedChainlinkPoint, prepareChainlink } from '../../src/oracles/chainlink/prepared.ts';
import { collect } from '../venues/kalshi/collect.ts';

const T = 1_795_701_600_000;

/** A writer that keeps what it is given, strings as themselves. */
function recorder(): PreparedWriter & { out: (number | string)[] } {
  const out: (number | string)[] = [];
  return { out, num: (x) => out.push(x), str: (s) => out.push(s) };
}

const none = (x: number | string): number | undefined => (Number.isNaN(x) ? undefined : (x as number));

/** The prepared object of a Binance frame, read back as the worker client does, or undefined. */
function binance(data: unknown): PreparedBinanceTrade | PreparedBinanceQuote | undefined {
  const w = recorder();
  const ok = prepareBinanceWs(data, w);
  if (!ok) {
    expect(w.out).toEqual([]);
    return undefined;
  }
  const [kind, symbol, a, b, c] = w.out as [number, string, number, number, number];
  return kind === BINANCE_TRADE
    ? new PreparedBinanceTrade(symbol, a, none(b))
    : new PreparedBinanceQuote(symbol, a, b, none(c));
}

function chainlink(data: unknown): PreparedChainlinkPoint | undefined {
  const w = recorder();
  if (!prepareChainlink(data, w)) {
    expect(w.out).toEqual([]);
    return undefined;
  }
  const [symbol, price, time] = w.out as [string, number, number];
  return new PreparedChainlinkPoint(symbol, price, time);
}

/** The events and rejections of a decoder fed `frames`, each as JSON and, where it can be, prepared. */
function bothWays(
  make: () => { decode(f: RawFrame, s: ReturnType<typeof collect>): void },
  frames: RawFrame[],
) {
  const run = (prep: (d: unknown) => object | undefined) => {
    const dec = make();
    const sink = collect();
    for (const f of frames) dec.decode({ ...f, data: prep(f.data) ?? f.data }, sink);
    return { events: sink.events, rejects: sink.rejects };
  };
  return [run(() => undefined), run((d) => (make === binanceDecoder ? binance(d) : chainlink(d)))] as const;
}
const binanceDecoder = () => createBinanceDecoder();
const chainlinkDecoder = () => createChainlinkDecoder();

const trade = { e: 'trade', E: T + 4, s: 'BTCUSDT', t: 1, p: '99000.12345678', q: '0.1', T: T + 3, m: false };
const quote = { u: 7, s: 'BTCUSDT', b: '99000.1', B: '1.5', a: '99000.9', A: '2' };

describe('binance prepared frames', () => {
  it('reads trades, aggTrades and bookTickers into the numbers the decoder uses', () => {
    expect(binance({ stream: 'btcusdt@trade', data: trade })).toEqual(
      new PreparedBinanceTrade('BTC/USDT', 9_900_012_345_678, T + 3),
    );
    expect(binance({ stream: 'btcusdt@trade', data: { ...trade, T: undefined } })).toEqual(
      new PreparedBinanceTrade('BTC/USDT', 9_900_012_345_678, T + 4),
    );
    expect(binance({ stream: 'btcusdt@aggTrade', data: { ...trade, T: 'x', E: undefined } })).toEqual(
      new PreparedBinanceTrade('BTC/USDT', 9_900_012_345_678, undefined),
    );
    expect(binance({ stream: 'ethusdt@bookTicker', data: { ...quote, s: 'ETHUSDT' } })).toEqual(
      new PreparedBinanceQuote('ETH/USDT', 9_900_010_000_000, 9_900_090_000_000, undefined),
    );
    expect(binance({ stream: 'btcusdt@bookTicker', data: { ...quote, T: T } })?.eventTime).toBe(T);
  });

  it('leaves every other frame to the decoder as JSON', () => {
    const odd = [
      null,
      'PING',
      [trade],
      trade, // a bare payload (no stream name)
      { stream: 'btcusdt@trade' },
      { stream: 'btcusdt@trade', data: 'x' },
      { stream: 'btcusdt@trade', data: { ...trade, p: '1e5' } },
      { stream: 'btcusdt@trade', data: { ...trade, q: '-0.1' } },
      { stream: 'btcusdt@trade', data: { ...trade, s: 7 } },
      { stream: 'btcusdt@bookTicker', data: { ...quote, B: undefined } },
      { stream: 'btcusdt@depth5', data: { lastUpdateId: 1, bids: [['1', '1']], asks: [['2', '1']] } },
      { stream: 'btcusdt@ticker', data: { e: '24hrTicker', s: 'BTCUSDT', c: '1' } },
      { stream: '!serverShutdown', data: {} },
      { stream: 'btcusdt@trade', data: trade, type: 'connection', state: 'down' },
      { stream: 'btcusdt@trade', data: trade, result: null, id: 1 },
      { stream: 'btcusdt@trade', data: trade, code: -1, msg: 'bad' },
    ];
    for (const d of odd) expect(binance(d)).toBeUndefined();
  });

  it('gives the same ticks and rejections as the JSON frames, bid/ask carried from quote to trade', () => {
    const ws = (data: unknown, ts: number): RawFrame => ({ ts, source: 'sim.binance.ws', data });
    const frames = [
      ws({ stream: 'btcusdt@trade', data: trade }, T + 5),
      ws({ stream: 'btcusdt@bookTicker', data: quote }, T + 6),
      ws({ stream: 'btcusdt@trade', data: { ...trade, T: undefined, p: '99000.5' } }, T + 7),
      ws({ stream: 'btcusdt@trade', data: { ...trade, p: 'x' } }, T + 8),
      ws({ type: 'connection', state: 'down' }, T + 9),
      ws({ stream: 'btcusdt@bookTicker', data: { ...quote, E: T + 9, b: '99000.3' } }, T + 10),
    ];
    const [json, prepared] = bothWays(binanceDecoder, frames);
    expect(json.events.length).toBe(5);
    expect(json.rejects.length).toBe(1);
    expect(prepared).toEqual(json);
  });
});

const point = { symbol: 'btc/usd', timestamp: T + 6, value: 99001.25 };
const update = { topic: 'crypto_prices_chainlink', type: 'update', timestamp: T + 6, payload: point };

describe('chainlink prepared frames', () => {
  it('reads a one-point message into symbol, price and time', () => {
    expect(chainlink(update)).toEqual(new PreparedChainlinkPoint('BTC/USD', 9_900_125_000_000, T + 6));
    const full = { ...update, payload: { ...point, full_accuracy_value: '99001.123456789' } };
    expect(chainlink(full)?.price).toBe(9_900_112_345_679);
    const noTime = { ...update, payload: { symbol: 'eth/usd', value: 3400.5 } };
    expect(chainlink(noTime)).toEqual(new PreparedChainlinkPoint('ETH/USD', 340_050_000_000, T + 6));
    // a dump of one point is that point
    const dump = { ...update, payload: { symbol: 'btc/usd', data: [{ timestamp: T, value: 1 }] } };
    expect(chainlink(dump)).toEqual(new PreparedChainlinkPoint('BTC/USD', 100_000_000, T));
  });

  it('leaves every other frame to the decoder as JSON', () => {
    const odd = [
      null,
      'ping',
      [update],
      { ...update, type: 'connection', state: 'down' },
      { ...update, topic: 'crypto_prices' },
      { ...update, payload: { ...point, value: 'x' } },
      { ...update, payload: { ...point, value: -1 } },
      { ...update, payload: { ...point, symbol: '' } },
      {
        ...update,
        payload: {
          symbol: 'btc/usd',
          data: [
            { timestamp: T, value: 1 },
            { timestamp: T + 1, value: 2 },
          ],
        },
      },
      { ...update, timestamp: undefined, payload: { symbol: 'btc/usd', value: 1 } },
      { topic: 'crypto_prices_chainlink' },
    ];
    for (const d of odd) expect(chainlink(d)).toBeUndefined();
  });

  it('gives the same ticks, duplicates dropped and stale symbols revived, as the JSON frames', () => {
    const ws = (data: unknown, ts: number): RawFrame => ({ ts, source: 'sim.chainlink.ws', data });
    const frames = [
      ws(update, T + 10),
      ws(update, T + 11), // a duplicate
      ws({ ...update, payload: { ...point, timestamp: T + 1 } }, T + 12), // older
      ws({ type: 'connection', state: 'down' }, T + 13),
      ws(update, T + 14), // the same point revives the stale symbol
      ws({ ...update, payload: { ...point, value: 'x' } }, T + 15),
      ws({ ...update, payload: { ...point, timestamp: T + 20, value: 99002 } }, T + 20),
    ];
    const [json, prepared] = bothWays(chainlinkDecoder, frames);
    expect(json.events.length).toBe(4);
    expect(json.rejects.length).toBe(1);
    expect(prepared).toEqual(json);
  });
});
