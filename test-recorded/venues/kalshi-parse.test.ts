import { describe, expect, it } from 'vitest';
import { tradeFee } from '../../src/core/fees.ts';
import { MarketSchema } from '../../src/core/messages.ts';
import {
  fixedMicro,
  marketsOf,
  parseRestOrderbook,
  parseRestTrade,
  parseTicker,
  parseWsTrade,
  subscribeCmd,
  tokenBooks,
  toMarket,
  unsubscribeCmd,
  updateSubscriptionCmd,
} from '../../src/venues/kalshi/parse.ts';
import type { WireMarket, WireRestTrade, WireTicker, WireWsTrade } from '../../src/venues/kalshi/wire.ts';
import { recordedJson, recordedJsonl } from '../shared.ts';

const K = (f: string) => `kalshi/${f}`;

describe('REST orderbook (K5, K6)', () => {
  it('reads orderbook_fp and implies asks from the other side (rest-orderbook-2026.json)', () => {
    const ob = parseRestOrderbook(recordedJson(K('rest-orderbook-2026.json')));
    if (typeof ob === 'string') throw new Error(ob);
    expect(ob.yes).toHaveLength(8);
    expect(ob.no).toHaveLength(18);
    // ascending on the wire, best last
    expect(ob.yes.at(-1)).toEqual([80_000, 444_320_000]);
    expect(ob.no.at(-1)).toEqual([880_000, 1_967_330_000]);
    const books = tokenBooks(ob.yes, ob.no, 20);
    // YES: best bid 0.08 × 444.32, best ask 1 − 0.88 = 0.12 × 1967.33
    expect(books.yes.bids[0]).toEqual([80_000, 444_320_000]);
    expect(books.yes.asks[0]).toEqual([120_000, 1_967_330_000]);
    expect(books.yes.asks[1]).toEqual([130_000, 118_850_000]);
    // NO: best bid 0.88 × 1967.33, best ask 1 − 0.08 = 0.92 × 444.32
    expect(books.no.bids[0]).toEqual([880_000, 1_967_330_000]);
    expect(books.no.asks[0]).toEqual([920_000, 444_320_000]);
    expect(books.no.asks.at(-1)).toEqual([990_000, 6_558_500_000]);
    expect(books.yes.asks).toHaveLength(18);
    // best first
    for (const side of [books.yes.bids, books.no.bids]) {
      for (let i = 1; i < side.length; i++) expect(side[i]![0]).toBeLessThan(side[i - 1]![0]);
    }
    for (const side of [books.yes.asks, books.no.asks]) {
      for (let i = 1; i < side.length; i++) expect(side[i]![0]).toBeGreaterThan(side[i - 1]![0]);
    }
  });

  it('agrees with the market object recorded alongside it (K6)', () => {
    const ob = parseRestOrderbook(recordedJson(K('rest-orderbook-2026.json')));
    if (typeof ob === 'string') throw new Error(ob);
    const m = (recordedJson(K('rest-market-single-2026.json')) as { market: WireMarket }).market;
    const books = tokenBooks(ob.yes, ob.no);
    expect(books.yes.asks[0]).toEqual([fixedMicro(m.yes_ask_dollars), fixedMicro(m.yes_ask_size_fp)]);
    expect(books.yes.bids[0]).toEqual([fixedMicro(m.yes_bid_dollars), fixedMicro(m.yes_bid_size_fp)]);
    expect(books.no.bids[0]![0]).toBe(fixedMicro(m.no_bid_dollars));
    expect(books.no.asks[0]![0]).toBe(fixedMicro(m.no_ask_dollars));
  });

  it('reads the documented example (rest-orderbook.doc-example.json)', () => {
    const ob = parseRestOrderbook(recordedJson(K('rest-orderbook.doc-example.json')));
    if (typeof ob === 'string') throw new Error(ob);
    const books = tokenBooks(ob.yes, ob.no, 3);
    expect(books.yes.bids).toEqual([
      [420_000, 13_000_000],
      [410_000, 10_000_000],
      [350_000, 11_000_000],
    ]);
    expect(books.yes.asks).toEqual([
      [440_000, 17_000_000],
      [550_000, 20_000_000],
      [560_000, 29_000_000],
    ]);
    expect(books.no.bids[0]).toEqual([560_000, 17_000_000]);
    expect(books.no.asks[0]).toEqual([580_000, 13_000_000]);
  });
});

describe('markets (K2, K3, K7)', () => {
  it('normalizes a single market response (rest-market-single-2026.json)', () => {
    const r = marketsOf(recordedJson(K('rest-market-single-2026.json')));
    if (typeof r === 'string') throw new Error(r);
    const m = toMarket(r.markets[0]!, { receiveTime: 1_000 });
    if (typeof m === 'string') throw new Error(m);
    expect(MarketSchema.parse(m)).toBeTruthy();
    expect(m).toMatchObject({
      type: 'market',
      venue: 'kalshi',
      marketId: 'KXELONMARS-99',
      eventId: 'KXELONMARS-99',
      slug: 'KXELONMARS-99',
      question: 'Will Elon Musk visit Mars before Aug 1, 2099?',
      rules:
        'If Elon Musk visits Mars before the earlier of his death or Aug 1, 2099, then the market resolves to Yes.',
      outcomes: [
        { tokenId: 'KXELONMARS-99:yes', label: 'Yes', side: 'yes' },
        { tokenId: 'KXELONMARS-99:no', label: 'No', side: 'no' },
      ],
      tickSize: 10_000,
      minSize: 10_000, // fractional_trading_enabled
      // per-series fees: unknown until GET /series/KXELONMARS is read
      fees: { kind: 'unknown', reason: 'series KXELONMARS: fee schedule not loaded yet' },
      endTime: Date.UTC(2099, 7, 1, 4, 59, 0),
      status: 'open',
      eventTime: Date.parse('2026-04-09T09:31:16.616Z'),
      receiveTime: 1_000,
    });
    expect(m.negRiskGroup).toBeUndefined();
    expect(m.winner).toBeUndefined();
    expect(m.version).toMatch(/^[0-9a-f]{16}$/);
    // taker fee at the implied ask: ceil(0.07 × 100 × 0.12 × 0.88) = $0.74
    expect(tradeFee(m.fees, 120_000, 100_000_000)).toBe(740_000);
  });

  it('normalizes a markets page with a deci_cent market (rest-markets-list-2026.json)', () => {
    const r = marketsOf(recordedJson(K('rest-markets-list-2026.json')));
    if (typeof r === 'string') throw new Error(r);
    expect(r.cursor).toBe('');
    const ms = r.markets.map((w) => toMarket(w, { receiveTime: 5 }));
    expect(
      ms.map((m) => (typeof m === 'string' ? m : [m.marketId, m.tickSize, m.minSize, m.endTime, m.status])),
    ).toEqual([
      ['KXELONMARS-99', 10_000, 10_000, Date.UTC(2099, 7, 1, 4, 59), 'open'],
      ['KXCOLONIZEMARS-50', 1_000, 10_000, Date.UTC(2050, 0, 1, 4, 59), 'open'],
    ]);
    // the deci_cent market quotes 0.1630, a multiple of its 0.001 tick
    expect(fixedMicro(r.markets[1]!.yes_bid_dollars) % 1_000).toBe(0);
    expect(fixedMicro(r.markets[1]!.yes_bid_dollars)).toBe(163_000);
  });

  it('normalizes the 2026-07 market object with rules and an integer settlement timer', () => {
    const w = recordedJson<WireMarket>(K('rest-market-object-active-2026-07.json'));
    const m = toMarket(w, { receiveTime: 9, mutuallyExclusive: true });
    if (typeof m === 'string') throw new Error(m);
    expect(m.marketId).toBe('KXATPMATCH-26JUL13SANDAN-DAN');
    expect(m.eventId).toBe('KXATPMATCH-26JUL13SANDAN');
    expect(m.negRiskGroup).toBe('KXATPMATCH-26JUL13SANDAN');
    expect(m.minSize).toBe(1_000_000); // no fractional trading
    expect(m.tickSize).toBe(10_000);
    expect(m.endTime).toBe(Date.UTC(2026, 6, 27, 11, 30));
    expect(m.rules.startsWith('If Taro Daniel wins')).toBe(true);
    expect(m.rules).toContain('\n\nThe following market refers to');
    expect(m.status).toBe('open');
    // quotes on the object: yes 0.76 / 0.77, no 0.23 / 0.24 — complementary (K6)
    expect(fixedMicro(w.yes_ask_dollars) + fixedMicro(w.no_bid_dollars)).toBe(1_000_000);
    expect(fixedMicro(w.yes_bid_dollars) + fixedMicro(w.no_ask_dollars)).toBe(1_000_000);
    expect(fixedMicro(w.open_interest_fp)).toBe(850_640_000);
  });

  it('maps statuses, results and the version', () => {
    const base = recordedJson<WireMarket>(K('rest-market-object-active-2026-07.json'));
    const st = (status: string, result = '') => {
      const m = toMarket({ ...base, status, result }, { receiveTime: 0 });
      return typeof m === 'string' ? m : [m.status, m.winner];
    };
    expect(st('active')).toEqual(['open', undefined]);
    expect(st('closed')).toEqual(['closed', undefined]);
    expect(st('determined', 'yes')).toEqual(['closed', undefined]);
    expect(st('initialized')).toEqual(['closed', undefined]);
    expect(st('finalized', 'yes')).toEqual(['resolved', 'KXATPMATCH-26JUL13SANDAN-DAN:yes']);
    expect(st('settled', 'no')).toEqual(['resolved', 'KXATPMATCH-26JUL13SANDAN-DAN:no']);
    expect(st('finalized', '')).toEqual(['closed', undefined]);
    const a = toMarket(base, { receiveTime: 0 });
    const b = toMarket({ ...base, yes_bid_dollars: '0.5000', volume_fp: '1.00' }, { receiveTime: 1 });
    const c = toMarket({ ...base, rules_secondary: 'changed' }, { receiveTime: 0 });
    if (typeof a === 'string' || typeof b === 'string' || typeof c === 'string') throw new Error('parse');
    expect(b.version).toBe(a.version); // prices do not change the description
    expect(c.version).not.toBe(a.version);
    expect(toMarket({ title: 'x' }, { receiveTime: 0 })).toBe('market has no ticker');
  });
});

describe('trades and tickers (K10, K15)', () => {
  it('reads REST trades on the token the taker bought (rest-trades-2026.json)', () => {
    const body = recordedJson<{ cursor: string; trades: WireRestTrade[] }>(K('rest-trades-2026.json'));
    const t = body.trades.map((x) => parseRestTrade(x, 7));
    expect(t[0]).toEqual({
      type: 'trade',
      venue: 'kalshi',
      marketId: 'KXELONMARS-99',
      tokenId: 'KXELONMARS-99:yes',
      price: 100_000,
      size: 9_400_000,
      side: 'buy',
      eventTime: Date.parse('2026-06-12T17:11:11.927Z'),
      receiveTime: 7,
    });
    expect(t[1]).toMatchObject({ tokenId: 'KXELONMARS-99:yes', price: 100_000, size: 940_000 });
    expect(t[2]).toMatchObject({ tokenId: 'KXELONMARS-99:no', price: 920_000, size: 9_400_000 });
  });

  it('reads WS trades using only the dollar/fp fields (ws-trade-2026-02.jsonl)', () => {
    const frames = recordedJsonl<{ msg: Record<string, unknown> }>(K('ws-trade-2026-02.jsonl'));
    const t = frames.map((f) => parseWsTrade(f.msg, 1));
    expect(t).toHaveLength(10);
    expect(t[0]).toMatchObject({
      marketId: 'KXSOLD-26FEB1217-T79.9999',
      tokenId: 'KXSOLD-26FEB1217-T79.9999:yes',
      price: 770_000,
      size: 75_000_000,
      eventTime: 1_770_897_981_000,
    });
    expect(t[1]).toMatchObject({
      tokenId: 'KXBTCD-26FEB1217-T67749.99:no',
      price: 430_000,
      size: 90_000_000,
    });
    expect(t[9]).toMatchObject({
      tokenId: 'KXBTCMINMON-BTC-26FEB28-5750000:yes',
      price: 280_000,
      size: 167_000_000,
    });
    // the legacy cent fields are ignored: drop the new ones and the frame is rejected
    const legacyOnly = {
      market_ticker: 'X',
      yes_price: 77,
      no_price: 23,
      count: 75,
      taker_side: 'yes',
      ts: 1,
    };
    expect(parseWsTrade(legacyOnly as WireWsTrade, 1)).toBe('trade has no valid yes_price_dollars');
  });

  it('reads tickers, treating 0/1 quotes with size 0 as no quote (ws-ticker-2026-02.jsonl)', () => {
    const frames = recordedJsonl<{ msg: Record<string, unknown> }>(K('ws-ticker-2026-02.jsonl'));
    const t = frames.map((f) => parseTicker(f.msg));
    expect(t[0]).toEqual({
      ticker: 'KXXRP-26FEB1317-B1.3899500',
      yesBid: [40_000, 14_000_000],
      yesAsk: [950_000, 84_000_000],
      last: 140_000,
      eventTime: 1_770_897_976_000,
    });
    expect(t[1]).toEqual({
      ticker: 'KXETHD-26FEB1217-T1819.99',
      yesBid: [980_000, 195_000_000],
      last: 970_000,
      eventTime: 1_770_897_976_000,
    });
    expect(t[9]).toMatchObject({ yesBid: [20_000, 2_000_000], yesAsk: [70_000, 100_000_000] });
    expect(parseTicker({ market_ticker: 'X', yes_bid: 4, yes_ask: 95 } as WireTicker)).toBe(
      'ticker has a malformed price or size',
    );
  });
});

describe('websocket commands (K12)', () => {
  it('matches the documented command shapes (ws-commands.doc-example.jsonl)', () => {
    const doc = recordedJsonl<Record<string, unknown>>(K('ws-commands.doc-example.jsonl'));
    expect(subscribeCmd(1, ['orderbook_delta', 'ticker'], ['MARKET-TICKER'])).toEqual(doc[0]);
    expect(unsubscribeCmd(2, [1, 2])).toEqual(doc[1]);
    expect(updateSubscriptionCmd(3, 1, 'add_markets', ['MARKET-2', 'MARKET-3'])).toEqual(doc[2]);
    expect(updateSubscriptionCmd(4, 1, 'delete_markets', ['MARKET-2'])).toEqual(doc[3]);
    expect(subscribeCmd(5, ['trade'], ['A', 'B'])).toEqual({
      id: 5,
      cmd: 'subscribe',
      params: { channels: ['trade'], market_tickers: ['A', 'B'] },
    });
  });
});
