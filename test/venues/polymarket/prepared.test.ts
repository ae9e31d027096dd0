/**
 * A prepared `last_trade_price` (what the capture read worker sends instead of JSON) gives the decoder's TradePrint
 * of its JSON; a trade the decoder would reject is not prepared (nothing written). The whole path (file → worker →
 * decoders) is tested in test/capture/read-worker.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { PreparedWriter, RawFrame } from '../../../src/feeds/types.ts';
import { createPolymarketDecoder } from '../../../src/venues/polymarket/decoder.ts';
import { PreparedLastTrade, prepareLastTrade, TRADE_SIDES } from '../../../src/venues/polymarket/prepared.ts';
import { collect } from '../kalshi/collect.ts';

const T = 1_795_701_600_000;
const trade = {
  asset_id: '123',
  event_type: 'last_trade_price',
  fee_rate_bps: '0',
  market: '0xm',
  price: '0.41',
  side: 'SELL',
  size: '12.5',
  timestamp: String(T + 3),
};

/** The prepared trade of `data`, read back as the worker client does, or undefined (then nothing was written). */
function prepared(data: unknown): PreparedLastTrade | undefined {
  const out: (number | string)[] = [];
  const w: PreparedWriter = { num: (x) => out.push(x), str: (s) => out.push(s) };
  if (!prepareLastTrade(data, w)) {
    expect(out).toEqual([]);
    return undefined;
  }
  const [market, token, price, size, side, time] = out as [string, string, number, number, number, number];
  return new PreparedLastTrade(
    market,
    token,
    price,
    size,
    TRADE_SIDES[side],
    Number.isNaN(time) ? undefined : time,
  );
}

describe('polymarket prepared last_trade_price', () => {
  it('decodes to the TradePrint of its JSON', () => {
    const variants = [
      trade,
      { ...trade, side: 'BUY' },
      { ...trade, side: undefined, timestamp: undefined, market: undefined },
      { ...trade, side: 'HOLD', timestamp: 'soon' },
    ];
    for (const t of variants) {
      const frame: RawFrame = { ts: T + 5, source: 'polymarket.ws.market', data: t };
      const p = prepared(t);
      expect(p).toBeInstanceOf(PreparedLastTrade);
      const json = collect();
      const prep = collect();
      createPolymarketDecoder().decode(frame, json);
      createPolymarketDecoder().decode({ ...frame, data: p }, prep);
      expect(json.events).toHaveLength(1);
      expect(prep.events).toEqual(json.events);
    }
  });

  it('leaves every trade the decoder would reject, and other frames, to the JSON path', () => {
    const odd = [
      null,
      'PONG',
      [trade],
      { ...trade, event_type: 'price_change' },
      { ...trade, asset_id: '' },
      { ...trade, asset_id: 5 },
      { ...trade, price: '1.5' },
      { ...trade, price: 'x' },
      { ...trade, size: '-1' },
      { ...trade, size: undefined },
    ];
    for (const d of odd) expect(prepared(d)).toBeUndefined();
  });
});
