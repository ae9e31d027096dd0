/**
 * Each crypto market family → its structured settlement facts (issue 13): source, window, instants in UTC,
 * strike and comparison from the venue's structured fields first. Inputs go through the real venue parsers.
 */
import { describe, expect, it } from 'vitest';
import type { Market } from '../../src/core/messages.ts';
import { extractFacts, oracleLinkGap, oracleLinkOf } from '../../src/matcher/facts.ts';
import { toMarket } from '../../src/venues/kalshi/parse.ts';
import type { WireMarket } from '../../src/venues/kalshi/wire.ts';
import { PolymarketParseError, parseGammaMarket } from '../../src/venues/polymarket/parse.ts';
import type { GammaMarket } from '../../src/venues/polymarket/wire.ts';
import { fixtureJson } from '../helpers/fixtures.ts';

const E8 = 100_000_000;
const utc = (iso: string): number => Date.parse(iso);
const gamma = (f: string): Market => parseGammaMarket(fixtureJson<GammaMarket>(`polymarket/${f}`), 1);
const kalshi = (f: string): Market => {
  const m = toMarket(fixtureJson<{ market: WireMarket }>(`kalshi/${f}`).market, { receiveTime: 1 });
  if (typeof m === 'string') throw new Error(m);
  return m;
};

describe('Polymarket crypto families', () => {
  it('15-minute up/down on the Chainlink 60 s TWAP stream, protocol v2 ids, published price to beat', () => {
    const m = gamma('gamma-market-updown-15m-twap-v2.json');
    // v2: the outcome ids are positionIds, never clobTokenIds
    expect(m.outcomes.map((o) => o.tokenId)).toEqual([
      String(10n ** 75n + 7919n),
      String(10n ** 75n + 15838n),
    ]);
    expect(m.settlement).toMatchObject({
      twapSeconds: 60,
      priceToBeat: 10_006_025_000_000,
      windowStart: utc('2026-09-22T18:00:00Z'),
    });
    const link = oracleLinkOf(m)!;
    expect(link).toMatchObject({
      kind: 'up_down',
      asset: 'BTC',
      start: utc('2026-09-22T18:00:00Z'),
      expiry: utc('2026-09-22T18:15:00Z'),
      strike: 10_006_025_000_000,
      reference: { source: 'chainlink', feed: 'chainlink', window: 'twap', seconds: 60, strikeFrom: 'venue' },
    });
  });

  it('5-minute up/down on the Chainlink stream: a point, strike sampled at the window start', () => {
    const m = gamma('gamma-market-updown-5m.json');
    const link = oracleLinkOf(m)!;
    expect(link).toMatchObject({
      kind: 'up_down',
      start: utc('2026-05-04T18:15:00Z'),
      expiry: utc('2026-05-04T18:20:00Z'),
      reference: {
        source: 'chainlink',
        feed: 'chainlink',
        window: 'point',
        seconds: 0,
        strikeFrom: 'window',
      },
    });
    expect(link.strike).toBeUndefined();
  });

  it('hourly "above" on the close of the Binance 1-hour candle ending at the time in the title', () => {
    const m = gamma('gamma-market-btc-above-hourly.json');
    const link = oracleLinkOf(m)!;
    expect(link).toMatchObject({
      kind: 'above',
      strike: 66_000 * E8,
      // 9 AM ET in August is EDT: 13:00 UTC
      expiry: utc('2026-08-19T13:00:00Z'),
      symbol: 'BTC/USDT',
      reference: { source: 'binance:BTC/USDT', feed: 'binance', window: 'candle_close', seconds: 3600 },
    });
    expect(extractFacts(m).crypto?.op).toBe('>');
  });

  it('hourly up/down: close ≥ open of the Binance 1-hour candle that begins at the time in the title', () => {
    const m = gamma('gamma-market-updown-hourly.json');
    const link = oracleLinkOf(m)!;
    expect(link).toMatchObject({
      kind: 'up_down',
      // 6 PM ET on September 22 is EDT: 22:00 UTC, the candle runs to 23:00 UTC
      start: utc('2026-09-22T22:00:00Z'),
      expiry: utc('2026-09-22T23:00:00Z'),
      reference: { source: 'binance:BTC/USDT', feed: 'binance', window: 'candle_open', op: '>=' },
    });
  });

  it('daily range on the Binance 1-minute candle titled noon ET, which closes at 12:01 ET', () => {
    const m = gamma('gamma-market-eth-range-daily.json');
    const link = oracleLinkOf(m)!;
    expect(link).toMatchObject({
      kind: 'range',
      asset: 'ETH',
      strike: 4_200 * E8,
      upper: 4_300 * E8,
      // Binance titles a candle by its open time: the "12:00" candle's close is at 12:01 EDT, 16:01 UTC
      expiry: utc('2026-09-25T16:01:00Z'),
      reference: { source: 'binance:ETH/USDT', window: 'candle_close', seconds: 60, strikeFrom: 'text' },
    });
  });

  it('4-hour up/down on the Chainlink ETH/USD stream: a point at each end of the window in the title', () => {
    const m = gamma('gamma-market-updown-4h.json');
    const link = oracleLinkOf(m)!;
    expect(link).toMatchObject({
      kind: 'up_down',
      asset: 'ETH',
      symbol: 'ETH/USD',
      // "September 22, 12PM-4PM ET" in daylight saving time: 16:00–20:00 UTC
      start: utc('2026-09-22T16:00:00Z'),
      expiry: utc('2026-09-22T20:00:00Z'),
      reference: { source: 'chainlink', feed: 'chainlink', window: 'point', op: '>=', strikeFrom: 'window' },
    });
    expect(link.strike).toBeUndefined();
  });

  it("daily up/down: the close of the Binance 1-minute candle titled noon ET against the day before's", () => {
    const m = gamma('gamma-market-updown-daily.json');
    const link = oracleLinkOf(m)!;
    expect(link).toMatchObject({
      kind: 'up_down',
      asset: 'BTC',
      symbol: 'BTC/USDT',
      // the strike is the close of September 21's 12:00 EDT candle, the settlement September 22's: 12:01 EDT each
      start: utc('2026-09-21T16:01:00Z'),
      expiry: utc('2026-09-22T16:01:00Z'),
      // "higher than": a tie is Down
      reference: {
        source: 'binance:BTC/USDT',
        feed: 'binance',
        window: 'candle_close',
        seconds: 60,
        op: '>',
      },
    });
    expect(link.reference!.strikeFrom).toBe('window');
  });

  it('daily "above" on the Binance 1-minute candle titled noon ET, in winter time (EST)', () => {
    const m = gamma('gamma-market-btc-above-daily.json');
    const link = oracleLinkOf(m)!;
    expect(link).toMatchObject({
      kind: 'above',
      asset: 'BTC',
      strike: 110_000 * E8,
      // 12:00 EST is 17:00 UTC; the candle titled 12:00 closes at 17:01 UTC
      expiry: utc('2026-12-15T17:01:00Z'),
      symbol: 'BTC/USDT',
      reference: {
        source: 'binance:BTC/USDT',
        feed: 'binance',
        window: 'candle_close',
        seconds: 60,
        op: '>',
      },
    });
  });

  it('rejects a v2 market without positionIds and an unknown protocol version, with the reason', () => {
    expect(() => gamma('gamma-market-v2-no-position-ids.json')).toThrow(/version v2 without positionIds/);
    expect(() => gamma('gamma-market-version-unknown.json')).toThrow(PolymarketParseError);
    expect(() => gamma('gamma-market-version-unknown.json')).toThrow(/unknown protocol version "v3"/);
  });
});

describe('Kalshi crypto families', () => {
  it('KXBTCD hourly above: floor_strike and strike_type, BRTI 60 s average, 9 AM EDT', () => {
    const m = kalshi('rest-market-kxbtcd-above.json');
    expect(m.settlement).toMatchObject({
      floorStrike: 6_599_999_000_000,
      strikeType: 'greater',
      series: 'KXBTCD',
    });
    const link = oracleLinkOf(m)!;
    expect(link).toMatchObject({
      kind: 'above',
      strike: 6_599_999_000_000,
      expiry: utc('2026-08-19T13:00:00Z'),
      reference: { source: 'cf_brti', window: 'average', seconds: 60, op: '>', strikeFrom: 'venue' },
    });
    // no feed of ours quotes BRTI: the link says so, and the scanner will not price it
    expect(link.reference!.feed).toBeUndefined();
  });

  it('KXETH range: floor and cap strikes from the venue, on the Ether index (not BRTI)', () => {
    const m = kalshi('rest-market-kxeth-range.json');
    const link = oracleLinkOf(m)!;
    expect(link).toMatchObject({
      kind: 'range',
      asset: 'ETH',
      strike: 4_250 * E8,
      upper: 429_999_000_000,
      expiry: utc('2026-08-19T21:00:00Z'),
      reference: { source: 'cf_ethusd_rti', window: 'average', seconds: 60 },
    });
  });

  it('15-minute series: asset from the series, target from floor_strike, expiry from the close time', () => {
    const m = kalshi('rest-market-kxbtc15m.json');
    const link = oracleLinkOf(m)!;
    expect(link).toMatchObject({
      kind: 'above',
      asset: 'BTC',
      strike: 10_006_025_000_000,
      expiry: utc('2026-08-19T18:15:00Z'),
      reference: { op: '>=', strikeFrom: 'venue', window: 'average' },
    });
  });

  it('KXETHD hourly above: the Ether index (ETHUSD_RTI) 60 s average, 10 AM EDT', () => {
    const link = oracleLinkOf(kalshi('rest-market-kxethd-above.json'))!;
    expect(link).toMatchObject({
      kind: 'above',
      asset: 'ETH',
      symbol: 'ETH/USD',
      strike: 189_999_000_000,
      expiry: utc('2026-08-19T14:00:00Z'),
      reference: { source: 'cf_ethusd_rti', window: 'average', seconds: 60, op: '>', strikeFrom: 'venue' },
    });
    expect(link.reference!.feed).toBeUndefined();
  });

  it('KXBTC hourly range: floor and cap strikes from the venue', () => {
    const link = oracleLinkOf(kalshi('rest-market-kxbtc-range.json'))!;
    expect(link).toMatchObject({
      kind: 'range',
      asset: 'BTC',
      strike: 66_000 * E8,
      upper: 6_649_999_000_000,
      expiry: utc('2026-08-19T14:00:00Z'),
      reference: { source: 'cf_brti', window: 'average', seconds: 60, strikeFrom: 'venue' },
    });
  });

  it('KXBTCD daily (5 PM) above in winter time: 5 PM EST is 22:00 UTC', () => {
    const link = oracleLinkOf(kalshi('rest-market-kxbtcd-daily.json'))!;
    expect(link).toMatchObject({
      kind: 'above',
      asset: 'BTC',
      strike: 10_999_999_000_000,
      expiry: utc('2026-12-15T22:00:00Z'),
      reference: { source: 'cf_brti', window: 'average', seconds: 60, op: '>' },
    });
  });

  it('KXETH15M: ETH from the series, target from floor_strike, at least the target', () => {
    const link = oracleLinkOf(kalshi('rest-market-kxeth15m.json'))!;
    expect(link).toMatchObject({
      kind: 'above',
      asset: 'ETH',
      strike: 427_155_000_000,
      expiry: utc('2026-08-19T18:30:00Z'),
      reference: { source: 'cf_ethusd_rti', window: 'average', seconds: 60, op: '>=', strikeFrom: 'venue' },
    });
  });

  it('an unread market gets no link, with the reason', () => {
    const base = kalshi('rest-market-kxbtcd-above.json');
    const m: Market = { ...base, rules: 'Settles on a price from a source we do not name here.' };
    expect(oracleLinkOf(m)).toBeUndefined();
    expect(oracleLinkGap(m)).toBe('settlement source not read');
  });
});
