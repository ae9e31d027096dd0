/**
 * oracle_lag prices a market on what it settles on (issue 13): the settlement source's own ticks, over its
 * settlement window, with its strike sampled from that source — never another source's print, never a silent
 * fallback when the source is stale or has no feed.
 */
import { describe, expect, it } from 'vitest';
import type { OracleLink, OracleSource } from '../../src/core/messages.ts';
import { fairPrice, probAbove, probAboveWindow } from '../../src/scanner/fair.ts';
import { book, market, NO_FEES, scanner } from './build.ts';

const E8 = 100_000_000;
const MIN = 60_000;

const updown = (twap: boolean, start: number, strike?: number): OracleLink => ({
  type: 'oracle_link',
  market: { venue: 'polymarket', marketId: 'ud' },
  symbol: 'BTC/USD',
  asset: 'BTC',
  kind: 'up_down',
  start,
  expiry: start + 5 * MIN,
  ...(strike !== undefined ? { strike } : {}),
  settlementSource: twap ? 'chainlink twap60s' : 'chainlink stream',
  reference: {
    source: 'chainlink',
    feed: 'chainlink',
    window: twap ? 'twap' : 'point',
    seconds: twap ? 60 : 0,
    op: '>=',
    strikeFrom: strike !== undefined ? 'venue' : 'window',
  },
  yesToken: 'up',
  noToken: 'down',
});

const udMarket = () =>
  market('polymarket', 'ud', NO_FEES, {
    outcomes: [
      { tokenId: 'up', label: 'Up', side: 'other' },
      { tokenId: 'down', label: 'Down', side: 'other' },
    ],
  });

function ticker(s: ReturnType<typeof scanner>['s']) {
  return (source: OracleSource, usd: number, t: number, stale = false) =>
    s.onTick({
      type: 'tick',
      source,
      symbol: source === 'binance' ? 'BTC/USDT' : 'BTC/USD',
      price: Math.round(usd * E8),
      stale,
      eventTime: t,
      receiveTime: t,
    });
}

describe('up/down on the settlement source', () => {
  it('takes the strike from the Chainlink TWAP before the start, not from a Binance print', () => {
    const start = 10 * MIN;
    const { s, clock } = scanner(start - 2 * MIN);
    const tick = ticker(s);
    const m = udMarket();
    s.onMarket(m);
    s.onOracleLink(updown(true, start));
    // Chainlink sits at 100,060 through the strike window; Binance prints 99,900 (a different reference)
    for (let t = start - 2 * MIN; t <= start + 10_000; t += 1_000) {
      clock.t = t;
      tick('chainlink', 100_060, t);
      tick('binance', 99_900, t);
    }
    s.onBook(book(m, 'up', [['0.55', '100']], [], { receiveTime: clock.t }));
    const out = s.onBook(book(m, 'down', [['0.55', '100']], [], { receiveTime: clock.t }));
    // the reference equals the spot: fair ≈ 0.50, so neither side at 0.55 is bought
    expect(out).toEqual([]);
    const rep = s.pricingReport()['oracle_lag|chainlink']!;
    expect(rep.priced).toBeGreaterThan(0);
    // with the wrong reference (first Binance print, 99,900) "Up" would look worth far more than 0.55
    const wrong = fairPrice({
      kind: 'up_down',
      spot: 100_060 * E8,
      strike: 99_900 * E8,
      sigmaAnnual: 0.6,
      tauMs: 5 * MIN - 10_000,
      windowMs: 60_000,
    })!;
    expect(wrong).toBeGreaterThan(600_000);
  });

  it('prices on Chainlink when Binance and Chainlink diverge, and records what it priced on', () => {
    const start = 10 * MIN;
    const { s, clock } = scanner(start - MIN);
    const tick = ticker(s);
    const m = udMarket();
    s.onMarket(m);
    s.onOracleLink(updown(false, start, 100_000 * E8)); // the venue's published priceToBeat
    clock.t = start + MIN;
    tick('binance', 99_000, clock.t); // Binance says Down is likely …
    s.onBook(book(m, 'down', [['0.60', '50']], [], { receiveTime: clock.t }));
    expect(tick('chainlink', 100_500, clock.t)).toHaveLength(0); // … Chainlink says Up: Down at 0.60 is dear
    const out = s.onBook(book(m, 'up', [['0.60', '50']], [], { receiveTime: clock.t }));
    expect(out).toHaveLength(1);
    const o = out[0]!;
    expect(o.legs[0]!.tokenId).toBe('up');
    expect(o.pricing).toMatchObject({
      source: 'chainlink',
      feed: 'chainlink',
      window: 'point',
      reference: 100_000 * E8,
      spot: 100_500 * E8,
      basis: 0,
    });
    expect(o.data.map((d) => d.key)).toContain('oracle:chainlink:BTC/USD');
  });

  it('does not trade when the settlement source is stale, even with a fresh other source', () => {
    const start = 10 * MIN;
    const { s, clock } = scanner(start + MIN);
    const tick = ticker(s);
    const m = udMarket();
    s.onMarket(m);
    s.onOracleLink(updown(false, start, 100_000 * E8));
    tick('chainlink', 101_000, clock.t, true); // the settlement source went stale
    tick('binance', 101_000, clock.t);
    expect(s.onBook(book(m, 'up', [['0.50', '50']], [], { receiveTime: clock.t }))).toEqual([]);
    expect(s.pricingReport()['oracle_lag|chainlink']!.skipped.source_stale).toBeGreaterThan(0);
  });

  it('proxy mode without a measured basis prices nothing', () => {
    const start = 10 * MIN;
    const { s, clock } = scanner(start + MIN, { proxy: {} });
    const tick = ticker(s);
    const m = udMarket();
    s.onMarket(m);
    s.onOracleLink(updown(false, start, 100_000 * E8));
    tick('binance', 101_000, clock.t); // Chainlink never printed: no basis can be measured
    expect(s.onBook(book(m, 'up', [['0.30', '50']], [], { receiveTime: clock.t }))).toEqual([]);
    expect(s.pricingReport()['oracle_lag|chainlink']!.skipped.basis_unmeasured).toBeGreaterThan(0);
  });

  it('proxy mode: prices on another source only with a measured basis, which widens the fair value', () => {
    const start = 10 * MIN;
    const { s, clock } = scanner(start + MIN, { proxy: { extraMargin: 10_000 } });
    const tick = ticker(s);
    const m = udMarket();
    s.onMarket(m);
    s.onOracleLink(updown(false, start, 100_950 * E8));
    // both fresh: a 0.1% basis is measured
    tick('chainlink', 100_900, clock.t);
    tick('binance', 101_000, clock.t);
    clock.t += 10_000;
    tick('chainlink', 100_900, clock.t, true); // Chainlink's feed went stale (src/feeds/staleness.ts), Binance fresh
    tick('binance', 101_000, clock.t);
    const out = s.onBook(book(m, 'up', [['0.30', '50']], [], { receiveTime: clock.t }));
    expect(out).toHaveLength(1);
    expect(out[0]!.pricing!.feed).toBe('binance');
    expect(out[0]!.pricing!.basis).toBeGreaterThan(0);
  });
});

describe('candle up/down (Binance 1-hour)', () => {
  const candle = (start: number): OracleLink => ({
    ...updown(false, start),
    symbol: 'BTC/USDT',
    expiry: start + 60 * MIN,
    settlementSource: 'binance:BTC/USDT candle1h_close',
    reference: {
      source: 'binance:BTC/USDT',
      feed: 'binance',
      window: 'candle_open',
      seconds: 3600,
      op: '>=',
      strikeFrom: 'window',
    },
  });

  it("the strike is the candle's first Binance print, not a Chainlink one", () => {
    const start = 60 * MIN;
    const { s, clock } = scanner(start - MIN);
    const tick = ticker(s);
    const m = udMarket();
    s.onMarket(m);
    s.onOracleLink(candle(start));
    tick('binance', 99_000, start - 1_000);
    tick('chainlink', 99_500, start + 500);
    tick('binance', 100_000, start + 1_000); // the candle's open
    clock.t = start + 2_000;
    tick('binance', 101_500, clock.t);
    const out = s.onBook(book(m, 'up', [['0.60', '10']], [], { receiveTime: clock.t }));
    expect(out).toHaveLength(1);
    expect(out[0]!.pricing).toMatchObject({
      reference: 100_000 * E8,
      feed: 'binance',
      window: 'candle_open',
    });
  });

  it('joined after the candle opened: the open is unknown, nothing is priced', () => {
    const start = 60 * MIN;
    const { s, clock } = scanner(start + 5 * MIN);
    const tick = ticker(s);
    const m = udMarket();
    s.onMarket(m);
    s.onOracleLink(candle(start));
    tick('binance', 101_500, clock.t - 1_000);
    tick('binance', 101_500, clock.t);
    expect(s.onBook(book(m, 'up', [['0.30', '10']], [], { receiveTime: clock.t }))).toEqual([]);
    expect(s.pricingReport()['oracle_lag|binance:BTC/USDT']!.skipped.strike_pending).toBeGreaterThan(0);
  });
});

describe('candle-close up/down (Binance daily)', () => {
  const daily = (start: number): OracleLink => ({
    ...updown(false, start),
    symbol: 'BTC/USDT',
    expiry: start + 24 * 60 * MIN,
    settlementSource: 'binance:BTC/USDT candle1m_close',
    reference: {
      source: 'binance:BTC/USDT',
      feed: 'binance',
      window: 'candle_close',
      seconds: 60,
      op: '>',
      strikeFrom: 'window',
    },
  });

  it("the strike is the close of the candle ending at the start (Binance's last print before it)", () => {
    const start = 60 * MIN;
    const { s, clock } = scanner(start - MIN);
    const tick = ticker(s);
    const m = udMarket();
    s.onMarket(m);
    s.onOracleLink(daily(start));
    tick('binance', 99_000, start - 30_000);
    tick('binance', 99_400, start - 1_000); // the candle's close
    tick('chainlink', 99_800, start - 500);
    tick('binance', 100_000, start); // the next candle's first print
    clock.t = start + 2_000;
    tick('binance', 101_500, clock.t);
    const out = s.onBook(book(m, 'up', [['0.05', '10']], [], { receiveTime: clock.t }));
    expect(out).toHaveLength(1);
    expect(out[0]!.pricing).toMatchObject({
      source: 'binance:BTC/USDT',
      feed: 'binance',
      window: 'candle_close',
      reference: 99_400 * E8,
    });
  });

  it('joined after the start: the close before it is unknown, nothing is priced', () => {
    const start = 60 * MIN;
    const { s, clock } = scanner(start + 5 * MIN);
    const tick = ticker(s);
    const m = udMarket();
    s.onMarket(m);
    s.onOracleLink(daily(start));
    tick('binance', 101_500, clock.t - 1_000);
    tick('binance', 101_500, clock.t);
    expect(s.onBook(book(m, 'up', [['0.05', '10']], [], { receiveTime: clock.t }))).toEqual([]);
    expect(s.pricingReport()['oracle_lag|binance:BTC/USDT']!.skipped.strike_pending).toBeGreaterThan(0);
  });
});

describe('no feed, no price', () => {
  it('skips a CF Benchmarks (BRTI) market: no feed of ours quotes the index', () => {
    const { s } = scanner();
    const m = market('kalshi', 'KXBTCD-26AUG1909-T65999.99', NO_FEES);
    s.onMarket(m);
    s.onOracleLink({
      type: 'oracle_link',
      market: { venue: 'kalshi', marketId: m.marketId },
      symbol: 'BTC/USD',
      asset: 'BTC',
      kind: 'above',
      strike: 65_999.99 * E8,
      expiry: 1_000 + 3_600_000,
      settlementSource: 'cf_brti avg60s',
      reference: { source: 'cf_brti', window: 'average', seconds: 60, op: '>', strikeFrom: 'venue' },
      yesToken: `${m.marketId}:yes`,
      noToken: `${m.marketId}:no`,
    });
    ticker(s)('binance', 80_000, 1_000);
    ticker(s)('chainlink', 80_000, 1_000);
    expect(s.onBook(book(m, `${m.marketId}:yes`, [['0.50', '100']]))).toEqual([]);
    expect(s.pricingReport()['oracle_lag|cf_brti']!.skipped.no_feed).toBeGreaterThan(0);
  });

  it('never prices a market whose fee schedule is unknown', () => {
    const { s } = scanner();
    const m = market('kalshi', 'KX-U', {
      kind: 'unknown',
      reason: 'series KX: fee schedule not loaded yet',
      bound: { kind: 'kalshi', takerCoeff: 70_000, makerCoeff: 17_500 },
    });
    s.onMarket(m);
    s.onBook(book(m, `${m.marketId}:yes`, [['0.40', '100']]));
    expect(s.onBook(book(m, `${m.marketId}:no`, [['0.40', '100']]))).toEqual([]);
    expect(s.stats.feesUnknown).toBeGreaterThan(0);
  });
});

describe('averaging windows', () => {
  it('before the window, an average is less uncertain than the point', () => {
    const spot = 100_100;
    const k = 100_000;
    const point = probAbove(spot, k, 0.6, 120_000);
    const avg = probAboveWindow(spot, k, 0.6, 120_000, 60_000, undefined);
    // variance time 60 s + 20 s instead of 120 s: the same in-the-money spot is worth more
    expect(avg).toBeGreaterThan(point);
    expect(avg).toBeCloseTo(probAbove(spot, k, 0.6, 80_000), 12);
  });

  it('inside the window, the part already observed is fixed', () => {
    // 50 of 60 s seen averaging 100,300 against a 100,000 strike: the last 10 s cannot undo it
    expect(probAboveWindow(99_000, 100_000, 0.6, 10_000, 60_000, 100_300)).toBe(1);
    // seen average far below and spot below: nearly hopeless
    expect(probAboveWindow(99_000, 100_000, 0.6, 10_000, 60_000, 99_000)).toBeLessThan(1e-6);
    // without the observed part it cannot be priced
    expect(probAboveWindow(99_000, 100_000, 0.6, 10_000, 60_000, undefined)).toBeNaN();
  });

  it('a TWAP market inside its window is priced from the settlement source history', () => {
    const start = 10 * MIN;
    const expiry = start + 5 * MIN;
    const { s, clock } = scanner(expiry - 2 * MIN);
    const tick = ticker(s);
    const m = udMarket();
    s.onMarket(m);
    s.onOracleLink({ ...updown(true, start, 100_000 * E8) });
    // 50 s into the final 60 s, Chainlink has printed 100,400 throughout; now it dips to 99,990
    for (let t = expiry - 2 * MIN; t <= expiry - 10_000; t += 1_000) {
      clock.t = t;
      tick('chainlink', 100_400, t);
    }
    tick('chainlink', 99_990, clock.t);
    const out = s.onBook(book(m, 'up', [['0.80', '10']], [], { receiveTime: clock.t }));
    // a point model at 99,990 would say < 0.5; the window's observed part makes Up near-certain
    expect(out).toHaveLength(1);
    expect(out[0]!.pricing!.window).toBe('twap 60s');
    expect(out[0]!.pricing!.fair).toBeGreaterThan(990_000);
  });
});
