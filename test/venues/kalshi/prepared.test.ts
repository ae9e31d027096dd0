/**
 * A prepared Kalshi `trade` (what the capture read worker sends instead of JSON) gives the decoder's TradePrint and
 * sequence handling of its JSON; a trade the decoder would reject is not prepared (nothing written). The whole
 * path (file → worker → decoders) is tested in test/capture/read-worker.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { PreparedWriter, RawFrame } from '../../../src/feeds/types.ts';
import { createKalshiDecoder } from '../../../src/venues/kalshi/decoder.ts';
import { PreparedKalshiTrade, prepareKalshiTrade, TAKER_SIDES } from '../../../src/venues/kalshi/prepared.ts';
import { collect } from './collect.ts';

const T = 1_795_701_600_000;
const msg = {
  trade_id: 'x',
  market_ticker: 'KXBTCD-26NOV260930-T100000',
  yes_price_dollars: '0.3400',
  no_price_dollars: '0.6600',
  count_fp: '68.00',
  taker_side: 'no',
  ts: 1795701601,
  ts_ms: T + 1,
};
const env = (m: unknown, e: Record<string, unknown> = { sid: 2, seq: 1 }) => ({
  type: 'trade',
  ...e,
  msg: m,
});

/** The prepared trade of `data`, read back as the worker client does, or undefined (then nothing was written). */
function prepared(data: unknown): PreparedKalshiTrade | undefined {
  const out: (number | string)[] = [];
  const w: PreparedWriter = { num: (x) => out.push(x), str: (s) => out.push(s) };
  if (!prepareKalshiTrade(data, w)) {
    expect(out).toEqual([]);
    return undefined;
  }
  const [ticker, yes, no, count, side, time, sid, seq] = out as [string, ...number[]];
  const none = (x: number | undefined) => (Number.isNaN(x) ? undefined : x);
  return new PreparedKalshiTrade(
    ticker,
    yes!,
    no!,
    count!,
    TAKER_SIDES[side!],
    none(time),
    none(sid),
    none(seq),
  );
}

describe('kalshi prepared trade', () => {
  it('decodes to the TradePrint, and the sequence checks, of its JSON', () => {
    const frames = [
      env(msg),
      env({ ...msg, taker_side: 'yes', ts_ms: undefined }, { sid: 2, seq: 2 }),
      env({ ...msg, taker_side: 'maybe', no_price_dollars: 'x' }, { sid: 2, seq: 9 }), // a gap, emitted anyway
      env({ ...msg, taker_side: 'no', no_price_dollars: undefined, ts: undefined, ts_ms: undefined }, {}),
      env(msg, { sid: '2', seq: 10 }),
    ];
    const run = (prep: boolean) => {
      const dec = createKalshiDecoder();
      const sink = collect();
      for (const d of frames) {
        const data = prep ? prepared(d) : d;
        if (prep) expect(data).toBeInstanceOf(PreparedKalshiTrade);
        dec.decode({ ts: T + 5, source: 'kalshi.ws', data } satisfies RawFrame, sink);
      }
      return { events: sink.events, rejects: sink.rejects };
    };
    const json = run(false);
    expect(json.events.filter((e) => e.type === 'trade')).toHaveLength(5);
    expect(run(true)).toEqual(json);
  });

  it('leaves every trade the decoder would reject, and other frames, to the JSON path', () => {
    const odd = [
      null,
      [env(msg)],
      { ...env(msg), type: 'orderbook_delta' },
      env(null),
      env({ ...msg, market_ticker: undefined }),
      env({ ...msg, yes_price_dollars: '1.5000' }),
      env({ ...msg, yes_price_dollars: 'x' }),
      env({ ...msg, count_fp: '-1.00' }),
    ];
    for (const d of odd) expect(prepared(d)).toBeUndefined();
  });
});
