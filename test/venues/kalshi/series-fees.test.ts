/**
 * Kalshi fees per series: a market's schedule is unknown until its series (`GET /series/{ticker}`) is read; the
 * series frame then republishes the series' markets with their schedule. Owned fixtures in the venue's format.
 */
import { describe, expect, it } from 'vitest';
import type { RawFrame } from '../../../src/feeds/types.ts';
import { createKalshiDecoder } from '../../../src/venues/kalshi/decoder.ts';
import { fixtureJson } from '../../helpers/fixtures.ts';
import { collect } from './collect.ts';

const rest = (source: string, f: string, path: string, ts = 10): RawFrame => ({
  ts,
  source,
  data: fixtureJson(`kalshi/${f}`),
  req: { method: 'GET', path },
});

describe('Kalshi series fee schedules', () => {
  it('a market listed before its series has unknown fees, then the series schedule', () => {
    const dec = createKalshiDecoder();
    const sink = collect();
    dec.decode(rest('kalshi.rest.markets', 'rest-market-kxbtcd-above.json', '/trade-api/v2/markets/x'), sink);
    expect(sink.markets()[0]!.fees.kind).toBe('unknown');
    expect(sink.markets()[0]!.settlement).toMatchObject({ series: 'KXBTCD', strikeType: 'greater' });
    dec.decode(
      rest('kalshi.rest.series', 'rest-series-kxbtcd.json', '/trade-api/v2/series/KXBTCD', 20),
      sink,
    );
    const again = sink.markets();
    expect(again).toHaveLength(2);
    expect(again[1]!.fees).toEqual({ kind: 'kalshi', takerCoeff: 70_000, makerCoeff: 0 });
    // later listings of the series carry it at once
    dec.decode(
      rest('kalshi.rest.markets', 'rest-market-kxbtcd-above.json', '/trade-api/v2/markets/x', 30),
      sink,
    );
    expect(sink.markets()[2]!.fees.kind).toBe('kalshi');
  });

  it('maker-fee, index and fee-free series; a type we cannot price is rejected with the reason', () => {
    const dec = createKalshiDecoder();
    const sink = collect();
    for (const f of [
      'rest-series-maker-fees.json',
      'rest-series-index-half.json',
      'rest-series-fee-free.json',
    ]) {
      dec.decode(rest('kalshi.rest.series', f, '/trade-api/v2/series/x'), sink);
    }
    expect(sink.rejects).toEqual([]);
    dec.decode(rest('kalshi.rest.series', 'rest-series-flat.json', '/trade-api/v2/series/KXFLAT'), sink);
    expect(sink.rejects).toEqual([
      { source: 'kalshi.rest.series', reason: 'series KXFLAT: fee_type "flat" is not one we can price' },
    ]);
  });
});
