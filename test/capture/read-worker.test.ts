import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importBuilt } from '../../bench/built.ts';
import { formatCaptureLine } from '../../src/capture/writer.ts';
import { simulateFrames } from '../../src/venues/sim/feed.ts';
import { preparedCounts, preparedKinds, replayBothWays } from './worker-equivalence.ts';

const dir = mkdtempSync(join(tmpdir(), 'pmarb-read-worker-'));
const T = 1_795_701_600_000;

describe('capture read worker', () => {
  it('gives the decoders the same events, rejections and bad lines as reading in the main thread', async () => {
    const lines = [...simulateFrames({ seed: 3, minutes: 1, eventRate: 50 })].map(formatCaptureLine);
    const ticker = 'KXBTCD-26NOV260930-T100000';
    const delta = (msg: Record<string, unknown>, env: Record<string, unknown> = { sid: 1, seq: 999 }) =>
      formatCaptureLine({
        ts: T + 5,
        source: 'sim.kalshi.ws',
        data: { type: 'orderbook_delta', ...env, msg },
      });
    const pc = (changes: unknown) =>
      formatCaptureLine({
        ts: T + 6,
        source: 'polymarket.ws.market',
        data: {
          event_type: 'price_change',
          market: '0xm',
          timestamp: '1795701600006',
          price_changes: changes,
        },
      });
    const entry = { asset_id: '123', price: '0.5', size: '10', side: 'BUY' };
    const ltp = (trade: Record<string, unknown> | unknown[]) =>
      formatCaptureLine({ ts: T + 7, source: 'sim.polymarket.ws.market', data: trade });
    const kxTrade = (
      msg: Record<string, unknown> | null,
      env: Record<string, unknown> = { sid: 2, seq: 5 },
    ) => formatCaptureLine({ ts: T + 8, source: 'sim.kalshi.ws', data: { type: 'trade', ...env, msg } });
    const kxt = {
      market_ticker: ticker,
      yes_price_dollars: '0.3400',
      no_price_dollars: '0.6600',
      count_fp: '68.00',
      taker_side: 'no',
      ts: 1795701601,
      ts_ms: T + 8,
    };
    const trade = {
      asset_id: '123',
      event_type: 'last_trade_price',
      market: '0xm',
      price: '0.41',
      side: 'SELL',
      size: '12.5',
      timestamp: '1795701600007',
    };
    // frames the worker must not prepare, each handled by the decoders as without it
    const odd = [
      '{"ts":1795701600001,"source":"sim.kalshi.ws","data":',
      '',
      '   ',
      `${pc([entry])}\r`,
      pc([entry, { ...entry, side: 'HOLD' }]),
      pc([{ ...entry, price: '1.5' }]),
      pc([null]),
      pc('not an array'),
      pc([]),
      pc([{ ...entry, asset_id: '' }, entry]),
      // prepared: a trade without side, timestamp or market; not prepared: the malformed ones, an array of them
      ltp({ ...trade, side: undefined, timestamp: undefined, market: undefined }),
      ltp({ ...trade, price: '1.5' }),
      ltp({ ...trade, size: '-1' }),
      ltp({ ...trade, asset_id: '' }),
      ltp([trade, { ...trade, price: 'x' }]),
      // Kalshi trades: prepared without sid/seq, with ts in seconds, an odd taker side, a seq gap; the rest not
      kxTrade({ ...kxt, ts_ms: undefined }, {}),
      kxTrade({ ...kxt, taker_side: 'maybe', no_price_dollars: 'x' }),
      kxTrade(kxt, { sid: 2, seq: 99_999 }),
      kxTrade({ ...kxt, yes_price_dollars: '1.5000' }),
      kxTrade({ ...kxt, count_fp: '-1.00' }),
      kxTrade({ ...kxt, market_ticker: 7 }),
      kxTrade(null),
      delta({ market_ticker: ticker, price_dollars: '0.5000', delta_fp: '10.00', side: 'yes' }),
      delta({ market_ticker: ticker, price_dollars: '0.5000', delta_fp: '10.00', side: 'yes', ts_ms: T }, {}),
      delta({ market_ticker: ticker, price_dollars: '1.5000', delta_fp: '10.00', side: 'yes', ts_ms: T }),
      delta({ market_ticker: ticker, price_dollars: '0.5000', delta_fp: 'x', side: 'maybe', ts_ms: T }),
      delta({ market_ticker: 'KX-UNKNOWN', price_dollars: '0.5000', delta_fp: '1.00', side: 'no', ts_ms: T }),
      formatCaptureLine({ ts: T + 7, source: 'sim.kalshi.ws', data: { type: 'connection', state: 'down' } }),
      formatCaptureLine({
        ts: T + 8,
        source: 'polymarket.ws.market',
        data: { event_type: 'connection', state: 'down' },
      }),
      `{"ts":${T + 9},"source":"polymarket.ws.market","data":{"event_type":"price_change","x":"${'y'.repeat(3000)}"}}`,
    ];
    // the odd lines among the simulated ones, so that they hit books with history
    const mixed = [...lines.slice(0, 200), ...odd, ...lines.slice(200), ...odd];
    const path = join(dir, 'mixed.jsonl');
    writeFileSync(path, `${mixed.join('\n')}\n`);
    const [main, worker] = await replayBothWays(path, 2_000);
    expect(main.events.length).toBeGreaterThan(1000);
    expect(main.badLines.length).toBeGreaterThanOrEqual(4); // the cut line and the long ones, twice
    expect(Object.keys((main.rejected as { reasons: object }).reasons).length).toBeGreaterThan(3);
    expect(worker).toEqual(main);
    // the main-thread run parsed every line; the worker run got the hot frames prepared
    expect(preparedCounts[0]).toBe(0);
    expect(preparedCounts[1]).toBeGreaterThan(500);
    expect(preparedKinds[1]!.PreparedLastTrade).toBeGreaterThan(10);
    expect(preparedKinds[1]!.PreparedKalshiTrade).toBeGreaterThan(10);
    // the worker's smaller shares give the same as well
    const [, core] = await replayBothWays(path, 2_000, 'core');
    expect(core).toEqual(main);
    expect(Object.keys(preparedKinds.at(-1)!).sort()).toEqual(['PreparedKalshiDelta', 'PreparedPriceChange']);
    const [, none] = await replayBothWays(path, 2_000, 'none');
    expect(none).toEqual(main);
    expect(preparedCounts.at(-1)).toBe(0);
  }, 60_000);

  it('prepares Binance trades/bookTickers and Chainlink updates, and leaves every odd oracle frame to the main thread', async () => {
    const lines = [...simulateFrames({ seed: 4, minutes: 1, eventRate: 50 })].map(formatCaptureLine);
    const bn = (data: unknown, source = 'sim.binance.ws') => formatCaptureLine({ ts: T + 5, source, data });
    const trade = { e: 'trade', E: T + 4, s: 'BTCUSDT', t: 1, p: '99000.5', q: '0.1', T: T + 3, m: false };
    const quote = { u: 7, s: 'BTCUSDT', b: '99000.1', B: '1.5', a: '99000.9', A: '2' };
    const cl = (data: unknown) => formatCaptureLine({ ts: T + 6, source: 'sim.chainlink.ws', data });
    const point = { symbol: 'btc/usd', timestamp: T + 6, value: 99001.25 };
    const update = { topic: 'crypto_prices_chainlink', type: 'update', timestamp: T + 6, payload: point };
    const odd = [
      // prepared, in their less usual forms: aggTrade, a trade with E only, a bookTicker with E, bare symbol case
      bn({ stream: 'ethusdt@aggTrade', data: { ...trade, e: 'aggTrade', s: 'ETHUSDT', a: 5 } }),
      bn({ stream: 'btcusdt@trade', data: { ...trade, T: undefined } }),
      bn({ stream: 'btcusdt@bookTicker', data: { ...quote, E: T + 2 } }),
      cl({ ...update, payload: { ...point, full_accuracy_value: '99001.123456789' } }),
      cl({ ...update, payload: { symbol: 'eth/usd', value: 3400.5 } }), // the message's timestamp
      // not prepared: each reaches the decoder as JSON, rejected or taken there as without the worker
      bn({ stream: 'btcusdt@trade', data: { ...trade, p: 'x' } }),
      bn({ stream: 'btcusdt@trade', data: { ...trade, q: '-1' } }),
      bn({ stream: 'btcusdt@trade', data: { ...trade, s: '' } }),
      bn({ stream: 'btcusdt@trade', data: null }),
      bn({ stream: 'btcusdt@trade', data: [1] }),
      bn({ stream: 'btcusdt@bookTicker', data: { ...quote, a: undefined } }),
      bn({
        stream: 'btcusdt@depth5',
        data: { lastUpdateId: 1, bids: [['99000', '1']], asks: [['99001', '1']] },
      }),
      bn({ stream: 'btcusdt@kline_1m', data: { e: 'kline' } }),
      bn({ stream: 'btcusdt@trade', data: trade, type: 'connection', state: 'down' }),
      bn({ stream: 'btcusdt@trade', data: trade, result: null, id: 1 }),
      bn({ stream: 'btcusdt@trade', data: trade, code: 1, msg: 'no' }),
      bn(trade), // a bare payload
      bn('PING'),
      bn({ stream: 'btcusdt@trade', data: trade }, 'binance.rest.ticker'),
      cl([update, { ...update, payload: { ...point, timestamp: T + 7 } }]),
      cl({ ...update, payload: { ...point, value: 'x' } }),
      cl({ ...update, payload: { ...point, value: -1 } }),
      cl({ ...update, payload: { symbol: 'btc/usd', data: [{ timestamp: T, value: 1 }] } }),
      cl({ ...update, topic: 'crypto_prices' }),
      cl({ ...update, type: 'connection', state: 'up' }),
      cl({ topic: 'crypto_prices_chainlink' }),
      cl('pong'),
      `{"ts":${T + 8},"source":"sim.binance.ws","data":{"stream":"btcusdt@trade","data":{"s":"BTCUSDT",}}}`,
      `{"ts":${T + 8},"source":"chainlink.ws","data":{"topic":"crypto_prices_chainlink","payload":`,
    ];
    const mixed = [...lines.slice(0, 300), ...odd, ...lines.slice(300), ...odd];
    const path = join(dir, 'oracles.jsonl');
    writeFileSync(path, `${mixed.join('\n')}\n`);
    const [main, worker] = await replayBothWays(path);
    expect(main.events.filter((e) => e.includes('"type":"tick"')).length).toBeGreaterThan(100);
    expect(main.badLines.length).toBe(4);
    expect(worker).toEqual(main);
    const kinds = preparedKinds.at(-1)!;
    expect(kinds.PreparedBinanceTrade).toBeGreaterThan(50);
    expect(kinds.PreparedBinanceQuote).toBeGreaterThan(50);
    expect(kinds.PreparedChainlinkPoint).toBeGreaterThan(10);
  }, 60_000);

  it('hands over every frame in order to a consumer slower than the worker (the window fills and refills)', async () => {
    const lines = [...simulateFrames({ seed: 5, minutes: 1, eventRate: 50 })].map(formatCaptureLine);
    const path = join(dir, 'slow.jsonl');
    writeFileSync(path, `${lines.join('\n')}\n`);
    const { readCaptureBatches } =
      await importBuilt<typeof import('../../bench/replay-entry.ts')>('bench/replay-entry.ts');
    // batches of a line or two: hundreds of them, so the worker waits on the window and is woken many times
    const seen: number[] = [];
    let batches = 0;
    for await (const batch of readCaptureBatches(path, { worker: true, batchBytes: 512 })) {
      for (const f of batch) seen.push(f.ts);
      // slow now and then: the worker runs ahead until MAX_IN_FLIGHT and must be woken to go on
      if (++batches % 25 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    expect(batches).toBeGreaterThan(200);
    expect(seen).toEqual(lines.map((l) => (JSON.parse(l) as { ts: number }).ts));
  }, 60_000);
});
