import { describe, expect, it } from 'vitest';
import { MarketSchema, OrderBookSchema } from '../../src/core/messages.ts';
import { oracleLinkOf } from '../../src/matcher/facts.ts';
import {
  parseClobBook,
  parseClobMarket,
  parseClobMarketsPage,
  parseFeeRate,
  parseGammaEvents,
  parseGammaMarket,
  parseGammaMarkets,
  parseMidpoints,
  parsePrices,
  subscribeMessage,
  subscriptionUpdate,
} from '../../src/venues/polymarket/parse.ts';
import type { ClobBook, ClobMarket, GammaMarket } from '../../src/venues/polymarket/wire.ts';
import { recordedJson } from '../shared.ts';

const RT = 1_800_000_000_000;
const gamma = (f: string) => parseGammaMarket(recordedJson<GammaMarket>(`polymarket/${f}`), RT);

describe('Gamma markets', () => {
  it('gamma-market-btc-updown-5m: open Up/Down market, fees unknown without a schedule, tick and min size', () => {
    const m = gamma('gamma-market-btc-updown-5m.json');
    expect(MarketSchema.parse(m)).toEqual(m);
    expect(m.marketId).toBe('0x78443f961b9a65869dcb39359de9960165c7e5cbad0904eac7f29cd77872a63b');
    expect(m.slug).toBe('btc-updown-5m-1773307200');
    expect(m.eventId).toBe('260654');
    expect(m.outcomes).toEqual([
      {
        tokenId: '104239898038807136052399800151408521467737075933964991162589336683346093173875',
        label: 'Up',
        side: 'other',
      },
      {
        tokenId: '71183960810705820955071415844881728181970340514894896943812046065452395013351',
        label: 'Down',
        side: 'other',
      },
    ]);
    expect(m.tickSize).toBe(10_000);
    expect(m.minSize).toBe(5_000_000);
    // feesEnabled with feeType crypto_fees but no feeSchedule → unknown (never a rate guessed from feeType)
    expect(m.fees).toMatchObject({ kind: 'unknown', bound: { kind: 'polymarket', rate: 72_000 } });
    // no `version` on this 2026-03 recording: clobTokenIds are read as v1; the window start comes structured
    expect(m.settlement).toEqual({
      windowStart: Date.UTC(2026, 2, 12, 9, 20),
      resolutionSource: 'https://data.chain.link/streams/btc-usd',
    });
    const link = oracleLinkOf(m)!;
    expect(link).toMatchObject({
      kind: 'up_down',
      start: Date.UTC(2026, 2, 12, 9, 20),
      expiry: Date.UTC(2026, 2, 12, 9, 25),
      reference: {
        source: 'chainlink',
        feed: 'chainlink',
        window: 'point',
        seconds: 0,
        strikeFrom: 'window',
      },
    });
    expect(m.endTime).toBe(Date.UTC(2026, 2, 12, 9, 25));
    expect(m.status).toBe('open');
    expect(m.winner).toBeUndefined();
    expect(m.negRiskGroup).toBeUndefined();
    expect(m.placeholder).toBeUndefined();
    expect(m.rules).toContain('Chainlink');
    expect(m.eventTime).toBe(Date.parse('2026-03-11T15:14:46.097Z'));
    expect(m.receiveTime).toBe(RT);
    expect(m.version).toMatch(/^[0-9a-f]{16}$/);
  });

  it('gamma-market-closed-resolved: outcomePrices ["1","0"] → resolved, winner the Yes token, no fees', () => {
    const m = gamma('gamma-market-closed-resolved.json');
    expect(m.status).toBe('resolved');
    expect(m.winner).toBe('22978793223071892222859460592277435458011604214087068523744633723809814935807');
    expect(m.outcomes.map((o) => o.side)).toEqual(['yes', 'no']);
    expect(m.fees).toEqual({ kind: 'polymarket', rate: 0, exponent: 1, takerOnly: true, rebateRate: 0 });
    expect(m.endTime).toBe(Date.UTC(2027, 11, 31));
    expect(m.tickSize).toBe(10_000);
  });

  it('gamma-market-closed-accepting-false: ["0","1"] → the No token won; tick 0.001', () => {
    const m = gamma('gamma-market-closed-accepting-false.json');
    expect(m.status).toBe('resolved');
    expect(m.winner).toBe('89711174926330519158043401581181146613785179104141808554061413232025882707365');
    expect(m.tickSize).toBe(1_000);
    expect(m.endTime).toBe(Date.UTC(2028, 0, 1, 5));
  });

  it('gamma-market-closed-nonbinary-legacy: Long/Short with long decimals → closed, no winner, sides other', () => {
    const m = gamma('gamma-market-closed-nonbinary-legacy.json');
    expect(m.status).toBe('closed');
    expect(m.winner).toBeUndefined();
    expect(m.outcomes.map((o) => [o.label, o.side])).toEqual([
      ['Long', 'other'],
      ['Short', 'other'],
    ]);
    expect(m.outcomes[1]!.tokenId).toBe(
      '1993578487229597591293755303341708890459187725728713215820133740213314514940',
    );
    // legacy market without tick/min-size fields: documented defaults
    expect(m.tickSize).toBe(10_000);
    expect(m.minSize).toBe(5_000_000);
    expect(m.endTime).toBe(Date.UTC(2021, 0, 2));
  });

  it('gamma-market-closed-zero-zero-legacy: ["0","0"] → closed without a winner', () => {
    const m = gamma('gamma-market-closed-zero-zero-legacy.json');
    expect(m.status).toBe('closed');
    expect(m.winner).toBeUndefined();
    expect(m.marketId).toBe('0xe3b423dfad8c22ff75c9899c4e8176f628cf4ad4caa00481764d320e7415f7a9');
  });

  it('gamma-market-negrisk-newsom-2028: negRisk group, named candidate (not a placeholder), politics fees', () => {
    const m = gamma('gamma-market-negrisk-newsom-2028.json');
    expect(m.negRiskGroup).toBe('0x2c3d7e0eee6f058be3006baabf0d54a07da254ba47fe6e3e095e7990c7814700');
    expect(m.placeholder).toBe(false);
    expect(m.eventId).toBe('30829');
    expect(m.fees).toEqual({
      kind: 'polymarket',
      rate: 40_000,
      exponent: 1,
      takerOnly: true,
      rebateRate: 250_000,
    });
    expect(m.tickSize).toBe(1_000);
    expect(m.status).toBe('open');
    expect(m.outcomes[0]).toEqual({
      tokenId: '54533043819946592547517511176940999955633860128497669742211153063842200957669',
      label: 'Yes',
      side: 'yes',
    });
    expect(m.endTime).toBe(Date.UTC(2028, 10, 7));
  });

  it('placeholder outcomes of a negRisk group are flagged (negRiskOther, "Other" titles)', () => {
    const base = recordedJson<GammaMarket>('polymarket/gamma-market-negrisk-newsom-2028.json');
    expect(parseGammaMarket({ ...base, negRiskOther: true }, RT).placeholder).toBe(true);
    expect(parseGammaMarket({ ...base, groupItemTitle: 'Other' }, RT).placeholder).toBe(true);
  });

  it('gamma-market-sports-moneyline: resolved to FaZe, sports fee schedule 0.03 with rebate 0.25', () => {
    const m = gamma('gamma-market-sports-moneyline.json');
    expect(m.status).toBe('resolved');
    expect(m.winner).toBe('89972346417086440659189114668296975440208562769200022591480064439842896371398');
    expect(m.outcomes.map((o) => o.label)).toEqual(['FaZe', 'illwill']);
    expect(m.fees).toEqual({
      kind: 'polymarket',
      rate: 30_000,
      exponent: 1,
      takerOnly: true,
      rebateRate: 250_000,
    });
  });

  it('version changes with the question or rules, not with prices or status', () => {
    const base = recordedJson<GammaMarket>('polymarket/gamma-market-negrisk-newsom-2028.json');
    const v = parseGammaMarket(base, RT).version;
    expect(parseGammaMarket({ ...base, outcomePrices: '["0.3","0.7"]', bestBid: 0.29 }, RT + 5).version).toBe(
      v,
    );
    expect(
      parseGammaMarket({ ...base, description: `${base.description} (clarified)` }, RT).version,
    ).not.toBe(v);
    expect(parseGammaMarket({ ...base, question: 'Will someone else win?' }, RT).version).not.toBe(v);
  });

  it('gamma-markets-list.assembled: a bare array of five markets', () => {
    const { markets, errors } = parseGammaMarkets(
      recordedJson('polymarket/gamma-markets-list.assembled.json'),
      RT,
    );
    expect(errors).toEqual([]);
    expect(markets.map((m) => [m.slug, m.status])).toEqual([
      ['will-gavin-newsom-win-the-2028-democratic-presidential-nomination-568', 'open'],
      ['btc-updown-5m-1773307200', 'open'],
      ['cs2-faze-ill-2026-04-05', 'resolved'],
      ['russia-x-ukraine-ceasefire-by-end-of-2027', 'resolved'],
      ['what-will-the-total-value-locked-tvl-in-defi-be-at-the-end-of-2020-according-to-defipulse', 'closed'],
    ]);
  });

  it('lists bad elements as errors and keeps the good ones', () => {
    const good = recordedJson<GammaMarket>('polymarket/gamma-market-closed-resolved.json');
    const { markets, errors } = parseGammaMarkets(
      [
        good,
        { ...good, conditionId: '' },
        { ...good, clobTokenIds: '["1"]' },
        { ...good, outcomes: '[nope' },
        7,
      ],
      RT,
    );
    expect(markets).toHaveLength(1);
    expect(errors).toHaveLength(4);
    expect(errors[1]).toContain('2 outcomes but 1 token ids');
  });

  it('gamma-public-search: {events, pagination} → nested markets carry the event id', () => {
    const { markets, errors } = parseGammaEvents(recordedJson('polymarket/gamma-public-search.json'), RT);
    expect(errors).toEqual([]);
    expect(markets).toHaveLength(1);
    const m = markets[0]!;
    expect(m.eventId).toBe('246060');
    expect(m.marketId).toBe('0x647fe16b6b42c32554fe6c4a4e9f06c22547acd5a109cbe0de6c9bae43ec09a8');
    expect(m.slug).toBe('bitcoin-above-64k-on-march-11');
    expect(m.tickSize).toBe(1_000);
    expect(m.status).toBe('open');
    expect(m.fees).toMatchObject({ rate: 0 });
    expect(m.endTime).toBe(Date.UTC(2026, 2, 11, 16));
  });
});

describe('CLOB REST', () => {
  it('clob-book-2024: best levels are LAST on the wire and FIRST in our book', () => {
    const b = parseClobBook(recordedJson<ClobBook>('polymarket/clob-book-2024.json'), RT);
    expect(OrderBookSchema.parse(b)).toEqual(b);
    expect(b.tokenId).toBe('23360939988679364027624185518382759743328544433592111535569478055890815567848');
    expect(b.marketId).toBe('0x1a4f04c2e6c000d9fc524eb12e7333217411a226c34745af140f195c0227cd5f');
    expect(b.bids).toEqual([
      [100_000, 125_000_000],
      [90_000, 294_000_000],
      [80_000, 120_000_000],
      [60_000, 200_000_000],
      [10_000, 1_000_000_000],
    ]);
    expect(b.asks[0]).toEqual([140_000, 705_000_000]);
    expect(b.asks[2]).toEqual([380_000, 192_300_000]);
    expect(b.asks.at(-1)).toEqual([980_000, 5_000_000_000]);
    expect(b.asks).toHaveLength(7);
    expect(b.eventTime).toBe(1_728_799_418_260);
    expect(b.stale).toBe(false);
    expect(parseClobBook(recordedJson<ClobBook>('polymarket/clob-book-2024.json'), RT, 2).asks).toHaveLength(
      2,
    );
  });

  it('clob-market-closed-resolved: CLOB market shape, winner flag', () => {
    const m = parseClobMarket(recordedJson<ClobMarket>('polymarket/clob-market-closed-resolved.json'), RT);
    expect(m.marketId).toBe('0xd57eed0d44f5b8ca54925d8d6ff440b146b3e6e071da18136ee3ee572d34479e');
    expect(m.status).toBe('resolved');
    expect(m.winner).toBe('22978793223071892222859460592277435458011604214087068523744633723809814935807');
    expect(m.tickSize).toBe(10_000);
    expect(m.minSize).toBe(5_000_000);
    expect(m.endTime).toBe(Date.UTC(2027, 11, 31));
    // same market and text as the Gamma fixture → same version
    expect(m.version).toBe(
      parseGammaMarket(
        {
          ...recordedJson<GammaMarket>('polymarket/gamma-market-closed-resolved.json'),
          resolutionSource: '',
        },
        RT,
      ).version,
    );
  });

  it('clob-market-negrisk-trump-2024: neg_risk group, open, tick 0.001', () => {
    const m = parseClobMarket(recordedJson<ClobMarket>('polymarket/clob-market-negrisk-trump-2024.json'), RT);
    expect(m.negRiskGroup).toBe('0xe3b1bc389210504ebcb9cffe4b0ed06ccac50561e0f24abb6379984cec030f00');
    expect(m.status).toBe('open');
    expect(m.tickSize).toBe(1_000);
    expect(m.outcomes.map((o) => [o.tokenId, o.side])).toEqual([
      ['21742633143463906290569050155826241533067272736897614950488156847949938836455', 'yes'],
      ['48331043336612883890938759509493159234755048973500640148014422747788308965732', 'no'],
    ]);
    expect(m.endTime).toBe(Date.UTC(2024, 10, 5));
  });

  it('clob-markets-page: 100 markets, one without token ids rejected, next cursor kept', () => {
    const page = parseClobMarketsPage(recordedJson('polymarket/clob-markets-page.json'), RT);
    expect(page.nextCursor).toBe('MTAw');
    expect(page.markets).toHaveLength(99);
    expect(page.errors).toHaveLength(1);
    const count = (s: string) => page.markets.filter((m) => m.status === s).length;
    expect([count('open'), count('closed'), count('resolved')]).toEqual([1, 74, 24]);
    const first = page.markets[0]!;
    expect(first.marketId).toBe('0x12a0cb60174abc437bf1178367c72d11f069e1a3add20b148fb0ab4279b772b2');
    expect(first.winner).toBe(
      '80085489243215790077454313513728486445319747473476157602131800551595373270758',
    );
  });

  it('clob-fee-rate-nonzero / -zero: base fee in bps', () => {
    expect(parseFeeRate(recordedJson('polymarket/clob-fee-rate-nonzero.json'))).toBe(150);
    expect(parseFeeRate(recordedJson('polymarket/clob-fee-rate-zero.json'))).toBe(0);
    expect(() => parseFeeRate({ base_fee: 'x' })).toThrow(/base_fee/);
  });

  it('clob-midpoints-post / clob-prices-post doc examples: strings and numbers to exact micro', () => {
    const mids = parseMidpoints(recordedJson('polymarket/clob-midpoints-post.doc-example.json'));
    expect([...mids]).toEqual([
      ['0xabc123def456...', 450_000],
      ['0xdef456abc123...', 520_000],
    ]);
    const prices = parsePrices(recordedJson('polymarket/clob-prices-post.doc-example.json'));
    expect(prices.get('0xabc123def456...')).toEqual({ buy: 450_000 });
    expect(prices.get('0xdef456abc123...')).toEqual({ sell: 520_000 });
  });
});

describe('websocket requests', () => {
  it('ws-subscribe-market doc example + custom features (P16)', () => {
    const doc = recordedJson<{ assets_ids: string[] }>('polymarket/ws-subscribe-market.doc-example.json');
    expect(subscribeMessage(doc.assets_ids, false)).toEqual(doc);
    expect(subscribeMessage(doc.assets_ids)).toEqual({ ...doc, custom_feature_enabled: true });
  });

  it('ws-subscribe-update doc example', () => {
    const doc = recordedJson<{ operation: 'subscribe'; assets_ids: string[] }>(
      'polymarket/ws-subscribe-update.doc-example.json',
    );
    expect(subscriptionUpdate('subscribe', doc.assets_ids)).toEqual({ ...doc, custom_feature_enabled: true });
  });
});
