import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MarketSchema, OrderBookSchema } from '../../../src/core/messages.ts';
import { parseMicro } from '../../../src/core/money.ts';
import {
  microOf,
  parseClobBook,
  parseClobMarket,
  parseClobMarketsPage,
  parseFeeRate,
  parseGammaEvents,
  parseGammaMarket,
  parseGammaMarkets,
  parseMidpoints,
  parsePrices,
  parseVenueTime,
  subscribeMessage,
  subscriptionUpdate,
} from '../../../src/venues/polymarket/parse.ts';
import type { ClobBook, ClobMarket, GammaMarket } from '../../../src/venues/polymarket/wire.ts';
import { fixtureJson } from '../../helpers/fixtures.ts';

const RT = 1_800_000_000_000;
const gamma = (f: string) => parseGammaMarket(fixtureJson<GammaMarket>(`polymarket/${f}`), RT);

describe('Gamma markets', () => {
  it('gamma-market-updown-5m: open Up/Down market, fees unknown without a schedule, tick and min size', () => {
    const m = gamma('gamma-market-updown-5m.json');
    expect(MarketSchema.parse(m)).toEqual(m);
    expect(m.marketId).toBe('0xc89d655c26c918729642e44a9b2f9167396f306068b40b7b61b2b72b9f8b3134');
    expect(m.slug).toBe('btc-updown-5m-1777918500');
    expect(m.eventId).toBe('412077');
    expect(m.outcomes).toEqual([
      {
        tokenId: '13008037507300514462804069567605673331491857981551475202891182270762564384017',
        label: 'Up',
        side: 'other',
      },
      {
        tokenId: '30705626637997179192891592392118348760216640880435576674743824326808248193083',
        label: 'Down',
        side: 'other',
      },
    ]);
    expect(m.tickSize).toBe(10_000);
    expect(m.minSize).toBe(5_000_000);
    // feesEnabled with feeType crypto_fees but no feeSchedule → unknown until a listing carries the schedule
    // (never a category rate guessed from feeType); a fill meanwhile is charged the highest published rate
    expect(m.fees).toEqual({
      kind: 'unknown',
      reason: 'fees enabled without a feeSchedule (feeType crypto_fees)',
      bound: { kind: 'polymarket', rate: 72_000, exponent: 1, takerOnly: true, rebateRate: 0 },
    });
    expect(m.lotSize).toBe(10_000);
    expect(m.endTime).toBe(Date.UTC(2026, 4, 4, 18, 20));
    expect(m.status).toBe('open');
    expect(m.winner).toBeUndefined();
    expect(m.negRiskGroup).toBeUndefined();
    expect(m.placeholder).toBeUndefined();
    expect(m.rules).toContain('Chainlink');
    // the resolution source is already in the description: not appended twice
    expect(m.rules.match(/data\.chain\.link/g)).toHaveLength(1);
    // updatedAt carries microseconds
    expect(m.eventTime).toBe(Date.UTC(2026, 4, 4, 17, 58, 12, 514));
    expect(m.receiveTime).toBe(RT);
    expect(m.version).toMatch(/^[0-9a-f]{16}$/);
  });

  it('gamma-market-closed-resolved: outcomePrices ["1","0"] → resolved, winner the Yes token, no fees', () => {
    const m = gamma('gamma-market-closed-resolved.json');
    expect(m.status).toBe('resolved');
    expect(m.winner).toBe('94225222557696927844856457605481545788164871887599462615976488001199467130900');
    expect(m.outcomes.map((o) => o.side)).toEqual(['yes', 'no']);
    expect(m.fees).toEqual({ kind: 'polymarket', rate: 0, exponent: 1, takerOnly: true, rebateRate: 0 });
    expect(m.endTime).toBe(Date.UTC(2026, 11, 31));
    expect(m.tickSize).toBe(10_000);
  });

  it('gamma-market-closed-no-won: ["0","1"] → the No token won; tick 0.001; the resolution source joins the rules', () => {
    const m = gamma('gamma-market-closed-no-won.json');
    expect(m.status).toBe('resolved');
    expect(m.winner).toBe('80697776470075799136329676235988123884740295472902793490259296547397412776492');
    expect(m.tickSize).toBe(1_000);
    expect(m.endTime).toBe(Date.UTC(2026, 3, 29, 18));
    expect(m.rules).toMatch(
      /per its statement\. Otherwise "No"\.\n\nResolution source: https:\/\/www\.federalreserve\.gov\//,
    );
  });

  it('gamma-market-legacy-long-short: Long/Short with long decimals → closed, no winner, sides other', () => {
    const m = gamma('gamma-market-legacy-long-short.json');
    expect(m.status).toBe('closed');
    expect(m.winner).toBeUndefined();
    expect(m.outcomes.map((o) => [o.label, o.side])).toEqual([
      ['Long', 'other'],
      ['Short', 'other'],
    ]);
    expect(m.outcomes[1]!.tokenId).toBe(
      '17878243167661280447645111342437029673137547514473992754546814909505859717650',
    );
    // legacy market without tick/min-size fields: documented defaults
    expect(m.tickSize).toBe(10_000);
    expect(m.minSize).toBe(5_000_000);
    expect(m.endTime).toBe(Date.UTC(2022, 0, 1));
  });

  it('gamma-market-legacy-zero-zero: ["0","0"] → closed without a winner (null resolutionSource)', () => {
    const m = gamma('gamma-market-legacy-zero-zero.json');
    expect(m.status).toBe('closed');
    expect(m.winner).toBeUndefined();
    expect(m.marketId).toBe('0x5e26fcd4cc6d4817aee9092cc7d83c01cdebe8d463701c6306c69d530637fb3c');
    expect(m.rules).toBe('Resolves "Yes" if the opening ceremony is held in 2020.');
  });

  it('gamma-market-negrisk: negRisk group, named candidate (not a placeholder), finance fees from feeSchedule', () => {
    const m = gamma('gamma-market-negrisk.json');
    expect(m.negRiskGroup).toBe('0x1e726649c25ede5ec898b5dcc7f1528a2ff19895019319c97416b030bda6bfb5');
    expect(m.placeholder).toBe(false);
    expect(m.eventId).toBe('87312');
    expect(m.fees).toEqual({
      kind: 'polymarket',
      rate: 40_000,
      exponent: 1,
      takerOnly: true,
      rebateRate: 200_000,
    });
    expect(m.tickSize).toBe(1_000);
    expect(m.status).toBe('open');
    expect(m.outcomes[0]).toEqual({
      tokenId: '93116367872633799624292491506945190745758099803602613744667517770926459846128',
      label: 'Yes',
      side: 'yes',
    });
    expect(m.endTime).toBe(Date.UTC(2027, 11, 31));
  });

  it('placeholder outcomes of a negRisk group are flagged (negRiskOther, "Other" titles)', () => {
    const base = fixtureJson<GammaMarket>('polymarket/gamma-market-negrisk.json');
    expect(parseGammaMarket({ ...base, negRiskOther: true }, RT).placeholder).toBe(true);
    expect(parseGammaMarket({ ...base, groupItemTitle: 'Other' }, RT).placeholder).toBe(true);
    expect(parseGammaMarket({ ...base, groupItemTitle: 'Another company' }, RT).placeholder).toBe(true);
  });

  it('a negRisk group taken from the event when the market leaves it out (P4, P23)', () => {
    const base = fixtureJson<GammaMarket>('polymarket/gamma-market-negrisk.json');
    const m = parseGammaMarket({ ...base, negRisk: undefined, negRiskMarketID: undefined }, RT);
    expect(m.negRiskGroup).toBe('0x1e726649c25ede5ec898b5dcc7f1528a2ff19895019319c97416b030bda6bfb5');
    expect(parseGammaMarket({ ...base, negRisk: false }, RT).negRiskGroup).toBeUndefined();
  });

  it('gamma-market-sports-moneyline: resolved to the Knicks, sports fee schedule 0.03 with rebate 0.25', () => {
    const m = gamma('gamma-market-sports-moneyline.json');
    expect(m.status).toBe('resolved');
    expect(m.winner).toBe('48627327568359750128696789175974051360597057092668527752777528561698093952504');
    expect(m.outcomes.map((o) => [o.label, o.side])).toEqual([
      ['Celtics', 'other'],
      ['Knicks', 'other'],
    ]);
    expect(m.fees).toEqual({
      kind: 'polymarket',
      rate: 30_000,
      exponent: 1,
      takerOnly: true,
      rebateRate: 250_000,
    });
    expect(m.endTime).toBe(Date.UTC(2026, 4, 4, 2));
  });

  it('version changes with the question or rules, not with prices or status', () => {
    const base = fixtureJson<GammaMarket>('polymarket/gamma-market-negrisk.json');
    const v = parseGammaMarket(base, RT).version;
    expect(parseGammaMarket({ ...base, outcomePrices: '["0.3","0.7"]', bestBid: 0.29 }, RT + 5).version).toBe(
      v,
    );
    expect(parseGammaMarket({ ...base, closed: true, outcomePrices: '["0","1"]' }, RT).version).toBe(v);
    expect(
      parseGammaMarket({ ...base, description: `${base.description} (clarified)` }, RT).version,
    ).not.toBe(v);
    expect(
      parseGammaMarket({ ...base, question: 'Will Apple be the largest company?' }, RT).version,
    ).not.toBe(v);
  });

  it('a bare array of five markets (GET /markets, P4)', () => {
    const list = [
      'gamma-market-negrisk.json',
      'gamma-market-updown-5m.json',
      'gamma-market-sports-moneyline.json',
      'gamma-market-closed-resolved.json',
      'gamma-market-legacy-long-short.json',
    ].map((f) => fixtureJson(`polymarket/${f}`));
    const { markets, errors } = parseGammaMarkets(list, RT);
    expect(errors).toEqual([]);
    expect(markets.map((m) => [m.slug, m.status])).toEqual([
      ['will-nvidia-be-the-largest-company-by-market-cap-on-december-31-2027', 'open'],
      ['btc-updown-5m-1777918500', 'open'],
      ['nba-bos-nyk-2026-05-03', 'resolved'],
      ['will-bitcoin-reach-150k-by-december-31-2026', 'resolved'],
      ['ethbtc-above-005-on-january-1-2022-long-short', 'closed'],
    ]);
  });

  it('lists bad elements as errors and keeps the good ones', () => {
    const good = fixtureJson<GammaMarket>('polymarket/gamma-market-closed-resolved.json');
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
    const { markets, errors } = parseGammaEvents(fixtureJson('polymarket/gamma-public-search.json'), RT);
    expect(errors).toEqual([]);
    expect(markets).toHaveLength(1);
    const m = markets[0]!;
    expect(m.eventId).toBe('405311');
    expect(m.marketId).toBe('0x200efdb55b3477303f2469e07bfb646cae02efc35a6a829a9de65e2a114eeee4');
    expect(m.slug).toBe('ethereum-above-3600-on-may-4');
    expect(m.tickSize).toBe(1_000);
    expect(m.status).toBe('open');
    expect(m.fees).toMatchObject({ rate: 0 });
    expect(m.endTime).toBe(Date.UTC(2026, 4, 4, 16));
    expect(m.outcomes.map((o) => o.tokenId)).toEqual(tokensOfEvent());
  });
});

function tokensOfEvent(): string[] {
  const ev = fixtureJson<{ events: { markets: GammaMarket[] }[] }>('polymarket/gamma-public-search.json');
  return JSON.parse(ev.events[0]!.markets[0]!.clobTokenIds!) as string[];
}

describe('times and numbers', () => {
  it('parses venue date-times defensively (P6)', () => {
    expect(parseVenueTime('2026-03-12T09:25:00Z')).toBe(Date.UTC(2026, 2, 12, 9, 25));
    expect(parseVenueTime('2026-05-09 02:07:01+00')).toBe(Date.UTC(2026, 4, 9, 2, 7, 1));
    expect(parseVenueTime('2026-05-09 02:07:01+0200')).toBe(Date.UTC(2026, 4, 9, 0, 7, 1));
    expect(parseVenueTime('2027-12-31')).toBe(Date.UTC(2027, 11, 31));
    expect(parseVenueTime('2026-04-01T18:24:05.41Z')).toBe(Date.UTC(2026, 3, 1, 18, 24, 5, 410));
    expect(parseVenueTime('2026-04-01T18:24:05')).toBe(Date.UTC(2026, 3, 1, 18, 24, 5));
    expect(parseVenueTime('soon')).toBeNull();
    expect(parseVenueTime(undefined)).toBeNull();
  });

  it('microOf agrees with parseMicro(…, "round") on every non-negative decimal', () => {
    const decimal = fc
      .tuple(fc.stringMatching(/^\d{0,9}$/), fc.option(fc.stringMatching(/^\d{0,10}$/), { nil: undefined }))
      .filter(([i, f]) => i !== '' || (f !== undefined && f !== ''))
      .map(([i, f]) => (f === undefined ? i : `${i}.${f}`));
    fc.assert(
      fc.property(decimal, (s) => {
        expect(microOf(s, false)).toBe(parseMicro(s, 'round'));
        let exact: number;
        try {
          exact = parseMicro(s);
        } catch {
          exact = Number.NaN;
        }
        expect(microOf(s, true)).toBe(exact);
      }),
      { numRuns: 2_000 },
    );
    for (const bad of ['', '.', '-1', '1e3', '0x10', ' 1', '1.2.3', 'abc'])
      expect(microOf(bad, false)).toBeNaN();
  });
});

describe('CLOB REST', () => {
  it('clob-book: best levels are LAST on the wire and FIRST in our book', () => {
    const b = parseClobBook(fixtureJson<ClobBook>('polymarket/clob-book.json'), RT);
    expect(OrderBookSchema.parse(b)).toEqual(b);
    expect(b.tokenId).toBe('97870774007291253166094937680403625256268168826329136019412557513486064408214');
    expect(b.marketId).toBe('0x2f7976fc86596cd6ea312afceb412f42f9766dfe4c21173e2cdc5d8961263082');
    expect(b.bids).toEqual([
      [110_000, 310_000_000],
      [80_000, 90_000_000],
      [70_000, 260_500_000],
      [50_000, 400_000_000],
      [20_000, 1_500_000_000],
    ]);
    expect(b.asks[0]).toEqual([140_000, 870_000_000]);
    expect(b.asks[2]).toEqual([180_000, 140_000_000]);
    expect(b.asks.at(-1)).toEqual([970_000, 2_000_000_000]);
    expect(b.asks).toHaveLength(7);
    expect(b.eventTime).toBe(1_777_904_200_777);
    expect(b.stale).toBe(false);
    expect(parseClobBook(fixtureJson<ClobBook>('polymarket/clob-book.json'), RT, 2).asks).toHaveLength(2);
  });

  it('accepts numbers for min_order_size and tick_size on a book (P7)', () => {
    const wire = {
      ...fixtureJson<ClobBook>('polymarket/clob-book.json'),
      min_order_size: 5,
      tick_size: 0.01,
    };
    expect(parseClobBook(wire, RT).bids[0]).toEqual([110_000, 310_000_000]);
  });

  it('clob-market-resolved: CLOB market shape, winner flag', () => {
    const m = parseClobMarket(fixtureJson<ClobMarket>('polymarket/clob-market-resolved.json'), RT);
    expect(m.marketId).toBe('0xa6a0277c91aabc7ad5c3687870ac5c47562e963a0b391493a514030b3842ed71');
    expect(m.status).toBe('resolved');
    expect(m.winner).toBe('94225222557696927844856457605481545788164871887599462615976488001199467130900');
    expect(m.tickSize).toBe(10_000);
    expect(m.minSize).toBe(5_000_000);
    expect(m.endTime).toBe(Date.UTC(2026, 11, 31));
    // same market and text as the Gamma fixture → same version
    expect(m.version).toBe(
      parseGammaMarket(
        { ...fixtureJson<GammaMarket>('polymarket/gamma-market-closed-resolved.json'), resolutionSource: '' },
        RT,
      ).version,
    );
  });

  it('clob-market-negrisk: neg_risk group, open, tick 0.001', () => {
    const m = parseClobMarket(fixtureJson<ClobMarket>('polymarket/clob-market-negrisk.json'), RT);
    expect(m.negRiskGroup).toBe('0x233adf49f90f8f46fe2829fe2cc2b84432c25fa6e02657e9c9a502c2b3829be5');
    expect(m.status).toBe('open');
    expect(m.tickSize).toBe(1_000);
    expect(m.outcomes.map((o) => [o.tokenId, o.side])).toEqual([
      ['13054040491354921328095874513252725578907639605793930427030566521466179799183', 'yes'],
      ['66508179188426398859691446786918811052013268847115726336282496022811328819950', 'no'],
    ]);
    expect(m.endTime).toBe(Date.UTC(2026, 6, 12));
  });

  it('clob-markets-page: six markets, one without token ids rejected, next cursor kept', () => {
    const page = parseClobMarketsPage(fixtureJson('polymarket/clob-markets-page.json'), RT);
    expect(page.nextCursor).toBe('Ng==');
    expect(page.markets).toHaveLength(5);
    expect(page.errors).toHaveLength(1);
    expect(page.errors[0]).toContain('no token ids');
    expect(page.markets.map((m) => m.status)).toEqual(['resolved', 'closed', 'open', 'resolved', 'closed']);
    const first = page.markets[0]!;
    expect(first.marketId).toBe('0x80a7094f1ff572b656a5c55b2c10c08a30d052e79438d740db126efd0226392d');
    // the No token won
    expect(first.winner).toBe(
      '22609500176227797343118741277274558549792872316315299178986320356975858273221',
    );
    // archived counts as closed; its winner still resolves it
    expect(page.markets[3]!.winner).toBe(
      '36545025149645451231223944474451275586019726581750039553454878143120305289558',
    );
  });

  it('fee-rate: base fee in bps (P15)', () => {
    expect(parseFeeRate({ base_fee: '1000' })).toBe(1000);
    expect(parseFeeRate({ base_fee: '0' })).toBe(0);
    expect(() => parseFeeRate({ base_fee: 'x' })).toThrow(/base_fee/);
  });

  it('clob-midpoints / clob-prices: strings and numbers to exact micro (P9)', () => {
    const mids = parseMidpoints(fixtureJson('polymarket/clob-midpoints.json'));
    expect([...mids]).toEqual([
      ['39660154485844415470128041872978954960486297447743671445363068534965729499718', 470_000],
      ['9984124971120903764626562000144905411109116105435436173941783416183547994277', 415_500],
    ]);
    const prices = parsePrices(fixtureJson('polymarket/clob-prices.json'));
    expect(
      prices.get('39660154485844415470128041872978954960486297447743671445363068534965729499718'),
    ).toEqual({
      buy: 460_000,
    });
    expect(
      prices.get('9984124971120903764626562000144905411109116105435436173941783416183547994277'),
    ).toEqual({
      sell: 418_000,
    });
    // single GET /midpoint answers, old and new field names
    expect([...parseMidpoints({ mid: '0.465' })]).toEqual([['mid', 465_000]]);
  });
});

describe('websocket requests', () => {
  it('ws-subscribe-market: the documented first message + custom features (P16)', () => {
    const doc = fixtureJson<{ assets_ids: string[] }>('polymarket/ws-subscribe-market.json');
    expect(subscribeMessage(doc.assets_ids, false)).toEqual(doc);
    expect(subscribeMessage(doc.assets_ids)).toEqual({ ...doc, custom_feature_enabled: true });
  });

  it('ws-subscribe-update: the documented later subscription', () => {
    const doc = fixtureJson<{ operation: 'subscribe'; assets_ids: string[] }>(
      'polymarket/ws-subscribe-update.json',
    );
    expect(subscriptionUpdate('subscribe', doc.assets_ids)).toEqual({ ...doc, custom_feature_enabled: true });
  });
});
