import { describe, expect, it } from 'vitest';
import { tradeFee } from '../../../src/core/fees.ts';
import { MarketSchema } from '../../../src/core/messages.ts';
import { KALSHI_STANDARD_FEES } from '../../../src/venues/kalshi/fees.ts';
import {
  fixedMicro,
  marketFieldsRead,
  marketsOf,
  parseRestOrderbook,
  parseRestTrade,
  parseTicker,
  parseWsTrade,
  SeqTracker,
  subscribeCmd,
  tickSizeOf,
  tokenBooks,
  toMarket,
  unsubscribeCmd,
  updateSubscriptionCmd,
} from '../../../src/venues/kalshi/parse.ts';
import type { WireMarket, WireRestTrade, WireTicker, WireWsTrade } from '../../../src/venues/kalshi/wire.ts';
import { fixtureJson, fixtureJsonl } from '../../helpers/fixtures.ts';

// Payloads written from Kalshi's documented REST and websocket schemas (test/fixtures/owned/kalshi).
const K = (f: string) => `kalshi/${f}`;
const EVENT = 'KXUCLGAME-26MAY05ARSPSG';
const ARS = `${EVENT}-ARS`;

describe('fixedMicro', () => {
  it('parses Kalshi fixed-point strings exactly', () => {
    expect(fixedMicro('0.1200')).toBe(120_000);
    expect(fixedMicro('1967.33')).toBe(1_967_330_000);
    expect(fixedMicro('-10.00')).toBe(-10_000_000);
    expect(fixedMicro('+3')).toBe(3_000_000);
    expect(fixedMicro('0.0001')).toBe(100);
    expect(fixedMicro('.5')).toBe(500_000);
    expect(fixedMicro('1.00000000')).toBe(1_000_000);
    expect(fixedMicro(7)).toBe(7_000_000);
  });

  it('returns NaN for anything that is not a plain decimal', () => {
    for (const bad of [
      '',
      '-',
      '.',
      '1e3',
      '0.1.2',
      'abc',
      ' 1',
      '0.0000001',
      '1,5',
      null,
      undefined,
      0.5,
      {},
    ]) {
      expect(fixedMicro(bad), JSON.stringify(bad)).toBeNaN();
    }
  });
});

describe('REST orderbook (K5, K6)', () => {
  it('reads orderbook_fp and implies asks from the other side (rest-orderbook.json)', () => {
    const ob = parseRestOrderbook(fixtureJson(K('rest-orderbook.json')));
    if (typeof ob === 'string') throw new Error(ob);
    expect(ob.yes).toHaveLength(6);
    expect(ob.no).toHaveLength(9);
    // ascending on the wire, best last
    expect(ob.yes.at(-1)).toEqual([180_000, 64_100_000]);
    expect(ob.no.at(-1)).toEqual([790_000, 1_204_600_000]);
    const books = tokenBooks(ob.yes, ob.no, 20);
    // YES: best bid 0.18 × 64.10, best ask 1 − 0.79 = 0.21 × 1204.60
    expect(books.yes.bids[0]).toEqual([180_000, 64_100_000]);
    expect(books.yes.asks[0]).toEqual([210_000, 1_204_600_000]);
    expect(books.yes.asks[1]).toEqual([220_000, 95_400_000]);
    // NO: best bid 0.79 × 1204.60, best ask 1 − 0.18 = 0.82 × 64.10
    expect(books.no.bids[0]).toEqual([790_000, 1_204_600_000]);
    expect(books.no.asks[0]).toEqual([820_000, 64_100_000]);
    expect(books.no.asks.at(-1)).toEqual([990_000, 500_000_000]);
    expect(books.yes.asks).toHaveLength(9);
    expect(books.no.asks).toHaveLength(6);
    // best first
    for (const side of [books.yes.bids, books.no.bids]) {
      for (let i = 1; i < side.length; i++) expect(side[i]![0]).toBeLessThan(side[i - 1]![0]);
    }
    for (const side of [books.yes.asks, books.no.asks]) {
      for (let i = 1; i < side.length; i++) expect(side[i]![0]).toBeGreaterThan(side[i - 1]![0]);
    }
  });

  it('agrees with the quotes of its market object (K6)', () => {
    const ob = parseRestOrderbook(fixtureJson(K('rest-orderbook.json')));
    if (typeof ob === 'string') throw new Error(ob);
    const m = (fixtureJson(K('rest-market-single.json')) as { market: WireMarket }).market;
    const books = tokenBooks(ob.yes, ob.no);
    expect(books.yes.asks[0]).toEqual([fixedMicro(m.yes_ask_dollars), fixedMicro(m.yes_ask_size_fp)]);
    expect(books.yes.bids[0]).toEqual([fixedMicro(m.yes_bid_dollars), fixedMicro(m.yes_bid_size_fp)]);
    expect(books.no.bids[0]![0]).toBe(fixedMicro(m.no_bid_dollars));
    expect(books.no.asks[0]![0]).toBe(fixedMicro(m.no_ask_dollars));
  });

  it('limits the depth of both token books', () => {
    const ob = parseRestOrderbook(fixtureJson(K('rest-orderbook.json')));
    if (typeof ob === 'string') throw new Error(ob);
    const books = tokenBooks(ob.yes, ob.no, 3);
    expect(books.yes.bids).toEqual([
      [180_000, 64_100_000],
      [170_000, 212_250_000],
      [140_000, 35_500_000],
    ]);
    expect(books.yes.asks).toEqual([
      [210_000, 1_204_600_000],
      [220_000, 95_400_000],
      [230_000, 310_000_000],
    ]);
    expect(books.no.bids[0]).toEqual([790_000, 1_204_600_000]);
    expect(books.no.asks[0]).toEqual([820_000, 64_100_000]);
  });

  it('rejects legacy-only and malformed books', () => {
    expect(parseRestOrderbook({ orderbook: { yes: [[1, 200]], no: null } })).toBe(
      'orderbook response has no orderbook_fp',
    );
    expect(parseRestOrderbook({ orderbook_fp: { yes_dollars: [['1.5', '1.00']] } })).toBe(
      'orderbook_fp has a malformed level',
    );
    expect(parseRestOrderbook({ orderbook_fp: { yes_dollars: [['0.5', 'x']] } })).toBe(
      'orderbook_fp has a malformed level',
    );
    expect(parseRestOrderbook('nope')).toBe('orderbook response is not an object');
    expect(parseRestOrderbook({ orderbook_fp: {} })).toEqual({ yes: [], no: [] });
  });
});

describe('markets (K2, K3, K7)', () => {
  it('marketFieldsRead keeps what toMarket reads: the same Market, whatever the other fields hold', () => {
    const wires: WireMarket[] = [
      fixtureJson<{ market: WireMarket }>(K('rest-market-single.json')).market,
      ...(marketsOf(fixtureJson(K('rest-markets-list.json'))) as { markets: WireMarket[] }).markets,
      ...['active', 'kxbtcd-above', 'kxbtc-range', 'kxeth15m'].map((f) => {
        const j = fixtureJson<WireMarket & { market?: WireMarket }>(K(`rest-market-${f}.json`));
        return j.market ?? j;
      }),
    ];
    const ctxs = [
      { receiveTime: 5 },
      { receiveTime: 6, mutuallyExclusive: true, fees: KALSHI_STANDARD_FEES },
      { receiveTime: 7, mutuallyExclusive: false },
    ];
    for (const w of wires) {
      const kept = marketFieldsRead(w);
      expect(Object.keys(kept).length).toBeLessThan(Object.keys(w).length);
      // every field it drops changed: toMarket must not see the difference
      const scrambled: Record<string, unknown> = { ...w };
      for (const k of Object.keys(w)) if (!(k in kept)) scrambled[k] = 'scrambled';
      for (const ctx of ctxs) {
        expect(toMarket(kept, ctx)).toEqual(toMarket(w, ctx));
        expect(toMarket(scrambled as WireMarket, ctx)).toEqual(toMarket(w, ctx));
      }
    }
  });

  it('marketFieldsRead with the decoded rules: one rules text instead of two, and still the same Market', () => {
    const w = fixtureJson<{ market: WireMarket }>(K('rest-market-single.json')).market;
    const cases: WireMarket[] = [
      { ...w, rules_primary: 'Primary.', rules_secondary: 'Secondary.' },
      { ...w, rules_primary: 'Primary only.', rules_secondary: '' },
      { ...w, rules_primary: '', rules_secondary: 'Secondary only.' },
      { ...w, rules_primary: '', rules_secondary: '' },
    ];
    for (const wm of cases) {
      const ctx = { receiveTime: 5, fees: KALSHI_STANDARD_FEES };
      const m = toMarket(wm, ctx);
      if (typeof m === 'string') throw new Error(m);
      const kept = marketFieldsRead(wm, m.rules);
      expect(kept.rules_secondary).toBeUndefined();
      expect(kept.rules_primary).toBe(m.rules === '' ? undefined : m.rules);
      expect(toMarket(kept, ctx)).toEqual(m);
    }
  });

  it('normalizes a single market response (rest-market-single.json)', () => {
    const r = marketsOf(fixtureJson(K('rest-market-single.json')));
    if (typeof r === 'string') throw new Error(r);
    const m = toMarket(r.markets[0]!, { receiveTime: 1_000 });
    if (typeof m === 'string') throw new Error(m);
    expect(MarketSchema.parse(m)).toBeTruthy();
    expect(m).toMatchObject({
      type: 'market',
      venue: 'kalshi',
      marketId: 'KXFUSIONGRID-35',
      eventId: 'KXFUSIONGRID-35',
      slug: 'KXFUSIONGRID-35',
      question: 'Will a fusion power plant deliver electricity to the grid before 2035?',
      rules:
        'If a fusion power plant delivers electricity to a public grid before Jan 1, 2035, then the market resolves to Yes.\n\nDelivery must be confirmed by the plant operator and the grid operator.',
      outcomes: [
        { tokenId: 'KXFUSIONGRID-35:yes', label: 'Yes', side: 'yes' },
        { tokenId: 'KXFUSIONGRID-35:no', label: 'No', side: 'no' },
      ],
      tickSize: 10_000,
      minSize: 10_000, // fractional_trading_enabled
      // fees are per series: unknown (never priced) until GET /series/KXFUSIONGRID is read
      fees: {
        kind: 'unknown',
        reason: 'series KXFUSIONGRID: fee schedule not loaded yet',
        bound: { kind: 'kalshi', takerCoeff: 70_000, makerCoeff: 17_500 },
      },
      lotSize: 10_000,
      endTime: Date.UTC(2035, 0, 1, 4, 59, 0),
      status: 'open',
      eventTime: Date.UTC(2026, 4, 2, 11, 45, 9, 223),
      receiveTime: 1_000,
    });
    expect(m.negRiskGroup).toBeUndefined();
    expect(m.winner).toBeUndefined();
    expect(m.version).toMatch(/^[0-9a-f]{16}$/);
    // taker fee at the implied ask, rounded up to the cent: ceil(0.07 × 100 × 0.21 × 0.79 = 1.1613) = $1.17
    expect(tradeFee(m.fees, 210_000, 100_000_000)).toBe(1_170_000);
    // with the series schedule known, the market carries it
    const known = toMarket(fixtureJson<{ market: WireMarket }>(K('rest-market-single.json')).market, {
      receiveTime: 1_000,
      fees: KALSHI_STANDARD_FEES,
    });
    expect(typeof known !== 'string' && known.fees).toEqual(KALSHI_STANDARD_FEES);
  });

  it('normalizes a markets page with a deci_cent market (rest-markets-list.json)', () => {
    const r = marketsOf(fixtureJson(K('rest-markets-list.json')));
    if (typeof r === 'string') throw new Error(r);
    expect(r.cursor).toBe('');
    const ms = r.markets.map((w) => toMarket(w, { receiveTime: 5 }));
    expect(
      ms.map((m) => (typeof m === 'string' ? m : [m.marketId, m.tickSize, m.minSize, m.endTime, m.status])),
    ).toEqual([
      ['KXFUSIONGRID-35', 10_000, 10_000, Date.UTC(2035, 0, 1, 4, 59), 'open'],
      ['KXFUSIONGRID-40', 1_000, 10_000, Date.UTC(2040, 0, 1, 4, 59), 'open'],
    ]);
    // the deci_cent market quotes 0.2370, a multiple of its 0.001 tick and not of a cent
    expect(fixedMicro(r.markets[1]!.yes_bid_dollars) % 1_000).toBe(0);
    expect(fixedMicro(r.markets[1]!.yes_bid_dollars) % 10_000).not.toBe(0);
    expect(fixedMicro(r.markets[1]!.yes_bid_dollars)).toBe(237_000);
  });

  it('normalizes a market object of a mutually exclusive event: rules, group, integer settlement timer', () => {
    const w = fixtureJson<WireMarket>(K('rest-market-active.json'));
    const m = toMarket(w, { receiveTime: 9, mutuallyExclusive: true });
    if (typeof m === 'string') throw new Error(m);
    expect(m.marketId).toBe(ARS);
    expect(m.eventId).toBe(EVENT);
    expect(m.negRiskGroup).toBe(EVENT);
    expect(m.minSize).toBe(1_000_000); // no fractional trading
    expect(m.tickSize).toBe(10_000);
    // close_time is the settlement deadline, two weeks after the game (K4)
    expect(m.endTime).toBe(Date.UTC(2026, 4, 19, 19));
    expect(m.rules.startsWith('If Arsenal wins')).toBe(true);
    expect(m.rules).toContain('\n\nThis market refers to the result after regular time');
    expect(m.status).toBe('open');
    expect(w.settlement_timer_seconds).toBe(300);
    // quotes on the object: yes 0.44 / 0.45, no 0.55 / 0.56 — complementary (K6)
    expect(fixedMicro(w.yes_ask_dollars) + fixedMicro(w.no_bid_dollars)).toBe(1_000_000);
    expect(fixedMicro(w.yes_bid_dollars) + fixedMicro(w.no_ask_dollars)).toBe(1_000_000);
    expect(fixedMicro(w.open_interest_fp)).toBe(48_210_370_000);
  });

  it('maps statuses, results and the version', () => {
    const base = fixtureJson<WireMarket>(K('rest-market-active.json'));
    const st = (status: string, result = '') => {
      const m = toMarket({ ...base, status, result }, { receiveTime: 0 });
      return typeof m === 'string' ? m : [m.status, m.winner];
    };
    expect(st('active')).toEqual(['open', undefined]);
    expect(st('closed')).toEqual(['closed', undefined]);
    expect(st('determined', 'yes')).toEqual(['closed', undefined]);
    expect(st('initialized')).toEqual(['closed', undefined]);
    expect(st('finalized', 'yes')).toEqual(['resolved', `${ARS}:yes`]);
    expect(st('settled', 'no')).toEqual(['resolved', `${ARS}:no`]);
    expect(st('finalized', '')).toEqual(['closed', undefined]);
    const a = toMarket(base, { receiveTime: 0 });
    const b = toMarket({ ...base, yes_bid_dollars: '0.5000', volume_fp: '1.00' }, { receiveTime: 1 });
    const c = toMarket({ ...base, rules_secondary: 'changed' }, { receiveTime: 0 });
    if (typeof a === 'string' || typeof b === 'string' || typeof c === 'string') throw new Error('parse');
    expect(b.version).toBe(a.version); // prices do not change the description
    expect(c.version).not.toBe(a.version);
    expect(toMarket({ title: 'x' }, { receiveTime: 0 })).toBe('market has no ticker');
  });

  it('takes the tick from price_ranges, else from the structure name (K7)', () => {
    expect(tickSizeOf({ price_level_structure: 'tapered_deci_cent' })).toBe(1_000);
    expect(tickSizeOf({ price_level_structure: 'linear_cent' })).toBe(10_000);
    expect(
      tickSizeOf({
        price_level_structure: 'tapered_deci_cent',
        price_ranges: [
          { start: '0.0000', end: '0.1000', step: '0.0010' },
          { start: '0.1000', end: '0.9000', step: '0.0100' },
          { start: '0.9000', end: '1.0000', step: '0.0010' },
        ],
      }),
    ).toBe(1_000);
  });
});

describe('trades and tickers (K10, K15)', () => {
  it('reads REST trades on the token the taker bought (rest-trades.json)', () => {
    const body = fixtureJson<{ cursor: string; trades: WireRestTrade[] }>(K('rest-trades.json'));
    const t = body.trades.map((x) => parseRestTrade(x, 7));
    expect(t[0]).toEqual({
      type: 'trade',
      venue: 'kalshi',
      marketId: 'KXFUSIONGRID-35',
      tokenId: 'KXFUSIONGRID-35:yes',
      price: 210_000,
      size: 12_500_000,
      side: 'buy',
      eventTime: Date.UTC(2026, 4, 2, 11, 41, 52, 118),
      receiveTime: 7,
    });
    expect(t[1]).toMatchObject({ tokenId: 'KXFUSIONGRID-35:yes', price: 210_000, size: 750_000 });
    expect(t[2]).toMatchObject({ tokenId: 'KXFUSIONGRID-35:no', price: 820_000, size: 40_000_000 });
  });

  it('reads WS trades using only the dollar/fp fields (ws-trade.jsonl)', () => {
    const frames = fixtureJsonl<{ msg: Record<string, unknown> }>(K('ws-trade.jsonl'));
    const t = frames.map((f) => parseWsTrade(f.msg, 1));
    expect(t).toHaveLength(5);
    expect(t[0]).toMatchObject({
      marketId: 'KXBTCD-26MAY0417-T97499.99',
      tokenId: 'KXBTCD-26MAY0417-T97499.99:yes',
      price: 630_000,
      size: 41_000_000,
      eventTime: 1_777_914_010_000,
    });
    expect(t[1]).toMatchObject({
      tokenId: 'KXETHD-26MAY0417-T3599.99:no',
      price: 10_000,
      size: 15_000_000,
    });
    // a frame of the new form only (no legacy cent fields)
    expect(t[4]).toMatchObject({
      tokenId: 'KXFUSIONGRID-35:yes',
      price: 210_000,
      size: 12_500_000,
    });
    // the legacy cent fields are ignored: drop the new ones and the frame is rejected
    const legacyOnly = {
      market_ticker: 'X',
      yes_price: 63,
      no_price: 37,
      count: 41,
      taker_side: 'yes',
      ts: 1,
    };
    expect(parseWsTrade(legacyOnly as WireWsTrade, 1)).toBe('trade has no valid yes_price_dollars');
  });

  it('reads tickers, treating 0/1 quotes with size 0 as no quote (ws-ticker.jsonl)', () => {
    const frames = fixtureJsonl<{ msg: Record<string, unknown> }>(K('ws-ticker.jsonl'));
    const t = frames.map((f) => parseTicker(f.msg));
    expect(t[0]).toEqual({
      ticker: 'KXBTCD-26MAY0417-T97499.99',
      yesBid: [600_000, 250_000_000],
      yesAsk: [630_000, 41_000_000],
      last: 610_000,
      eventTime: 1_777_914_000_000,
    });
    expect(t[1]).toEqual({
      ticker: 'KXETHD-26MAY0417-T3599.99',
      yesBid: [990_000, 1_200_000_000],
      last: 990_000,
      eventTime: 1_777_914_000_000,
    });
    expect(t[2]).toEqual({
      ticker: 'KXSOLD-26MAY0417-T149.99',
      yesAsk: [20_000, 310_000_000],
      last: 10_000,
      eventTime: 1_777_914_001_000,
    });
    expect(t[3]).toMatchObject({
      yesBid: [40_000, 539_500_000],
      yesAsk: [60_000, 730_000_000],
      eventTime: 1_777_914_003_412,
    });
    expect(parseTicker({ market_ticker: 'X', yes_bid: 60, yes_ask: 63 } as WireTicker)).toBe(
      'ticker has a malformed price or size',
    );
  });
});

describe('sequence tracking (K13)', () => {
  it('flags gaps per sid and restarts at seq 1', () => {
    const s = new SeqTracker();
    expect(s.check(1, 1)).toBe('ok');
    expect(s.check(1, 2)).toBe('ok');
    expect(s.check(2, 40)).toBe('ok');
    expect(s.check(2, 41)).toBe('ok');
    expect(s.check(1, 4)).toBe('gap');
    expect(s.check(1, 5)).toBe('ok');
    expect(s.check(1, 1)).toBe('ok');
    expect(s.check(1, undefined)).toBe('none');
  });
});

describe('websocket commands (K12)', () => {
  it('matches the documented command shapes (ws-commands.jsonl)', () => {
    const doc = fixtureJsonl<Record<string, unknown>>(K('ws-commands.jsonl'));
    expect(subscribeCmd(1, ['orderbook_delta', 'ticker'], ['KXHIGHNY-26MAY04-T80'])).toEqual(doc[0]);
    expect(unsubscribeCmd(2, [3, 4])).toEqual(doc[1]);
    expect(
      updateSubscriptionCmd(3, 3, 'add_markets', ['KXHIGHNY-26MAY04-T82', 'KXHIGHNY-26MAY04-T84']),
    ).toEqual(doc[2]);
    expect(updateSubscriptionCmd(4, 3, 'delete_markets', ['KXHIGHNY-26MAY04-T82'])).toEqual(doc[3]);
    expect(subscribeCmd(5, ['trade'], ['A', 'B'])).toEqual({
      id: 5,
      cmd: 'subscribe',
      params: { channels: ['trade'], market_tickers: ['A', 'B'] },
    });
  });
});
