import { describe, expect, it } from 'vitest';
import type { MarketLink, OracleLink } from '../../src/core/messages.ts';
import { normCdf } from '../../src/scanner/fair.ts';
import { book, KALSHI, market, NO_FEES, noOf, PM_FEES_4, scanner, yesOf } from './build.ts';

const link = (
  a: ReturnType<typeof market>,
  b: ReturnType<typeof market>,
  relation: MarketLink['relation'],
): MarketLink => ({
  type: 'link',
  a: { venue: a.venue, marketId: a.marketId },
  b: { venue: b.venue, marketId: b.marketId },
  relation,
  confidence: 0.95,
  stage: 'rules',
  reasons: [],
  decidedAt: 0,
});

describe('rebalancing (one market)', () => {
  it('buys YES + NO under 1 net of Polymarket fees', () => {
    const { s } = scanner();
    const m = market('polymarket', 'pm1', PM_FEES_4);
    s.onMarket(m);
    expect(s.onBook(book(m, yesOf(m), [['0.45', '100']]))).toEqual([]);
    const out = s.onBook(book(m, noOf(m), [['0.50', '100']]));
    expect(out).toHaveLength(1);
    const o = out[0]!;
    // fees: 100×0.04×0.45×0.55 = 0.99; 100×0.04×0.5×0.5 = 1.00; edge = 100 − 45 − 50 − 1.99 = 3.01
    expect(o.kind).toBe('rebalancing');
    expect(o.shares).toBe(100_000_000);
    expect(o.fees).toBe(1_990_000);
    expect(o.edge).toBe(3_010_000);
    expect(o.cost).toBe(96_990_000);
    expect(o.edgeBps).toBe(310);
    expect(o.legs.map((l) => [l.tokenId, l.side, l.limitPrice, l.shares])).toEqual([
      ['pm1-Y', 'buy', 450_000, 100_000_000],
      ['pm1-N', 'buy', 500_000, 100_000_000],
    ]);
    expect(o.data.map((d) => d.key)).toEqual(['polymarket:pm1-Y', 'polymarket:pm1-N']);
    expect(o.expiresAt).toBeGreaterThan(o.detectedAt);
  });

  it('buys YES + NO net of Kalshi ceil-to-cent fees', () => {
    const { s } = scanner();
    const m = market('kalshi', 'KX-1', KALSHI);
    s.onMarket(m);
    s.onBook(book(m, yesOf(m), [['0.45', '100']]));
    const [o] = s.onBook(book(m, noOf(m), [['0.50', '100']]));
    // 0.07×100×0.45×0.55 = 1.7325 → 1.74; 0.07×100×0.25 = 1.75; edge = 5 − 3.49
    expect(o!.fees).toBe(3_490_000);
    expect(o!.edge).toBe(1_510_000);
  });

  it('stops at the first level when the next one loses after fees (thin book)', () => {
    const { s } = scanner();
    const m = market('kalshi', 'KX-2', KALSHI);
    s.onMarket(m);
    s.onBook(book(m, noOf(m), [['0.50', '200']]));
    const [o] = s.onBook(
      book(m, yesOf(m), [
        ['0.45', '10'],
        ['0.50', '100'],
      ]),
    );
    // 10 shares: 0.50 − ceil(0.17325)=0.18 − ceil(0.175)=0.18 = 0.14; 110 shares would lose 3.36
    expect(o!.shares).toBe(10_000_000);
    expect(o!.edge).toBe(140_000);
    expect(o!.legs.map((l) => l.limitPrice)).toEqual([450_000, 500_000]);
  });

  it('finds no edge when fees eat it', () => {
    const { s } = scanner();
    const m = market('kalshi', 'KX-3', KALSHI);
    s.onMarket(m);
    s.onBook(book(m, yesOf(m), [['0.49', '100']]));
    // 100×0.02 = 2.00 before fees, fees 1.75 + 1.75
    expect(s.onBook(book(m, noOf(m), [['0.49', '100']]))).toEqual([]);
  });

  it('sells YES + NO bids above 1 with an inventory note', () => {
    const { s } = scanner();
    const m = market('polymarket', 'pm2', NO_FEES);
    s.onMarket(m);
    s.onBook(book(m, yesOf(m), [['0.60', '100']], [['0.55', '50']]));
    const [o] = s.onBook(book(m, noOf(m), [['0.56', '100']], [['0.50', '80']]));
    expect(o!.legs.map((l) => [l.side, l.limitPrice])).toEqual([
      ['sell', 550_000],
      ['sell', 500_000],
    ]);
    expect(o!.shares).toBe(50_000_000);
    expect(o!.edge).toBe(2_500_000); // 50 × 1.05 − 50
    expect(o!.edgeBps).toBe(500); // of the 50 of inventory given up
    expect(o!.note).toMatch(/needs inventory/);
  });

  it('respects the market minimum order size', () => {
    const { s } = scanner();
    const m = market('polymarket', 'pm5', NO_FEES, { minSize: 5_000_000 });
    s.onMarket(m);
    s.onBook(book(m, yesOf(m), [['0.45', '3']]));
    expect(s.onBook(book(m, noOf(m), [['0.50', '100']]))).toEqual([]);
    const [o] = s.onBook(book(m, yesOf(m), [['0.45', '5']]));
    expect(o).toMatchObject({ shares: 5_000_000, minShares: 5_000_000 });
  });

  it('ignores books flagged stale, and trades on a quiet book however old', () => {
    const { s, clock } = scanner();
    const m = market('polymarket', 'pm3', NO_FEES);
    s.onMarket(m);
    s.onBook(book(m, yesOf(m), [['0.45', '100']], [], { stale: true }));
    expect(s.onBook(book(m, noOf(m), [['0.50', '100']]))).toEqual([]);
    // the flag is the feed's verdict: ten minutes without an update is not staleness
    s.onBook(book(m, yesOf(m), [['0.45', '100']]));
    clock.t = 1_000 + 600_000;
    expect(s.onBook(book(m, noOf(m), [['0.50', '100']]))).toHaveLength(1);
  });
});

describe('rebalancing across a negRisk group', () => {
  it('buys every YES when the sum is under 1', () => {
    const { s } = scanner();
    const ms = ['a', 'b', 'c'].map((id) => market('polymarket', id, NO_FEES, { negRiskGroup: 'g1' }));
    for (const m of ms) s.onMarket(m);
    s.onBook(book(ms[0]!, yesOf(ms[0]!), [['0.30', '100']]));
    s.onBook(book(ms[1]!, yesOf(ms[1]!), [['0.30', '100']]));
    const out = s.onBook(book(ms[2]!, yesOf(ms[2]!), [['0.35', '100']]));
    const g = out.filter((o) => o.legs.length === 3);
    expect(g).toHaveLength(1);
    expect(g[0]!.edge).toBe(5_000_000);
  });

  it('nets Polymarket fees on every leg of a group', () => {
    const { s } = scanner();
    const ms = ['a', 'b', 'c'].map((id) => market('polymarket', id, PM_FEES_4, { negRiskGroup: 'g3' }));
    for (const m of ms) s.onMarket(m);
    s.onBook(book(ms[0]!, yesOf(ms[0]!), [['0.30', '100']]));
    s.onBook(book(ms[1]!, yesOf(ms[1]!), [['0.30', '100']]));
    const g = s.onBook(book(ms[2]!, yesOf(ms[2]!), [['0.35', '100']])).filter((o) => o.legs.length === 3);
    // fees 0.84 + 0.84 + 0.91 = 2.59; edge 100 − 95 − 2.59
    expect(g[0]!.fees).toBe(2_590_000);
    expect(g[0]!.edge).toBe(2_410_000);
  });

  it('skips a group with a placeholder (augmented) outcome', () => {
    const { s } = scanner();
    const ms = ['a', 'b', 'other'].map((id) =>
      market('polymarket', id, NO_FEES, { negRiskGroup: 'g2', placeholder: id === 'other' }),
    );
    for (const m of ms) s.onMarket(m);
    s.onBook(book(ms[0]!, yesOf(ms[0]!), [['0.30', '100']]));
    s.onBook(book(ms[1]!, yesOf(ms[1]!), [['0.30', '100']]));
    const out = s.onBook(book(ms[2]!, yesOf(ms[2]!), [['0.01', '100']]));
    expect(out.filter((o) => o.legs.length === 3)).toEqual([]);
  });
});

describe('cross-venue', () => {
  it('identical: buys YES on Polymarket and NO on Kalshi, both fee formulas', () => {
    const { s } = scanner();
    const a = market('polymarket', 'pmA', PM_FEES_4);
    const b = market('kalshi', 'KXB', KALSHI);
    s.onMarket(a);
    s.onMarket(b);
    s.onLink(link(a, b, 'identical'));
    s.onBook(book(a, yesOf(a), [['0.40', '100']]));
    s.onBook(book(a, noOf(a), [['0.62', '100']]));
    s.onBook(book(b, yesOf(b), [['0.47', '100']]));
    const out = s.onBook(book(b, noOf(b), [['0.55', '100']])).filter((o) => o.kind === 'cross_venue');
    expect(out).toHaveLength(1);
    // PM fee 100×0.04×0.4×0.6 = 0.96; Kalshi 0.07×100×0.55×0.45 = 1.7325 → 1.74; edge 5 − 2.70
    expect(out[0]!.edge).toBe(2_300_000);
    expect(out[0]!.legs.map((l) => `${l.venue}:${l.tokenId}`)).toEqual(['polymarket:pmA-Y', 'kalshi:KXB:no']);
    expect(out[0]!.legs[0]!.shares).toBe(out[0]!.legs[1]!.shares);
  });

  it('inverted: YES on one venue is NO on the other, so it buys YES on both', () => {
    const { s } = scanner();
    const a = market('polymarket', 'pmA', NO_FEES);
    const b = market('kalshi', 'KXB', NO_FEES);
    s.onMarket(a);
    s.onMarket(b);
    s.onLink(link(a, b, 'inverted'));
    s.onBook(book(a, yesOf(a), [['0.40', '100']]));
    s.onBook(book(a, noOf(a), [['0.62', '100']]));
    s.onBook(book(b, noOf(b), [['0.45', '100']]));
    const out = s.onBook(book(b, yesOf(b), [['0.55', '30']])).filter((o) => o.kind === 'cross_venue');
    expect(out).toHaveLength(1);
    expect(out[0]!.legs.map((l) => l.tokenId)).toEqual(['pmA-Y', 'KXB:yes']);
    expect(out[0]!.shares).toBe(30_000_000);
    expect(out[0]!.edge).toBe(1_500_000);
  });

  it('inverted across venues with both fee formulas, sized by the thinner leg', () => {
    const { s } = scanner();
    const a = market('polymarket', 'pmA', PM_FEES_4);
    const b = market('kalshi', 'KXB', KALSHI);
    s.onMarket(a);
    s.onMarket(b);
    s.onLink(link(a, b, 'inverted'));
    s.onBook(book(a, yesOf(a), [['0.40', '100']]));
    const out = s.onBook(book(b, yesOf(b), [['0.55', '30']])).filter((o) => o.kind === 'cross_venue');
    // 30 shares: 1.50 − PM 30×0.04×0.4×0.6 = 0.288 − Kalshi ceil(0.51975) = 0.52
    expect(out[0]!.fees).toBe(808_000);
    expect(out[0]!.edge).toBe(692_000);
  });

  it('drops a link when a later verdict says different', () => {
    const { s } = scanner();
    const a = market('polymarket', 'pmA', NO_FEES);
    const b = market('kalshi', 'KXB', NO_FEES);
    s.onMarket(a);
    s.onMarket(b);
    s.onLink(link(a, b, 'identical'));
    s.onLink(link(a, b, 'different'));
    s.onBook(book(a, yesOf(a), [['0.40', '100']]));
    expect(s.onBook(book(b, noOf(b), [['0.50', '100']]))).toEqual([]);
  });

  it('never trades an undetermined pair, and an undetermined verdict withdraws a link', () => {
    const { s } = scanner();
    const a = market('polymarket', 'pmA', NO_FEES);
    const b = market('kalshi', 'KXB', NO_FEES);
    s.onMarket(a);
    s.onMarket(b);
    s.onLink(link(a, b, 'undetermined'));
    s.onBook(book(a, yesOf(a), [['0.40', '100']]));
    expect(s.onBook(book(b, noOf(b), [['0.50', '100']]))).toEqual([]);
    s.onLink(link(a, b, 'identical'));
    expect(s.onBook(book(b, noOf(b), [['0.50', '100']])).map((o) => o.kind)).toEqual(['cross_venue']);
    s.onLink(link(a, b, 'undetermined'));
    expect(s.onBook(book(b, noOf(b), [['0.50', '100']]))).toEqual([]);
  });
});

describe('combinatorial', () => {
  it('A implies B: buys NO(A) + YES(B) when they cost under 1', () => {
    const { s } = scanner();
    const a = market('kalshi', 'KXBTCD-T100000', NO_FEES);
    const b = market('kalshi', 'KXBTCD-T90000', NO_FEES);
    s.onMarket(a);
    s.onMarket(b);
    s.onLink(link(a, b, 'implies'));
    s.onBook(book(a, noOf(a), [['0.30', '100']]));
    const out = s.onBook(book(b, yesOf(b), [['0.65', '100']]));
    expect(out.map((o) => o.kind)).toEqual(['combinatorial']);
    expect(out[0]!.legs.map((l) => l.tokenId)).toEqual(['KXBTCD-T100000:no', 'KXBTCD-T90000:yes']);
    expect(out[0]!.edge).toBe(5_000_000);
  });

  it('A implies B with Kalshi fees', () => {
    const { s } = scanner();
    const a = market('kalshi', 'KXBTCD-T100000', KALSHI);
    const b = market('kalshi', 'KXBTCD-T90000', KALSHI);
    s.onMarket(a);
    s.onMarket(b);
    s.onLink(link(a, b, 'implies'));
    s.onBook(book(a, noOf(a), [['0.30', '100']]));
    const [o] = s.onBook(book(b, yesOf(b), [['0.65', '100']]));
    // fees: 0.07×100×0.3×0.7 = 1.47; 0.07×100×0.65×0.35 = 1.5925 → 1.60; edge 5 − 3.07
    expect(o!.fees).toBe(3_070_000);
    expect(o!.edge).toBe(1_930_000);
  });

  it('exclusive: buys NO of both', () => {
    const { s } = scanner();
    const a = market('polymarket', 'x', NO_FEES);
    const b = market('polymarket', 'y', NO_FEES);
    s.onMarket(a);
    s.onMarket(b);
    s.onLink(link(a, b, 'exclusive'));
    s.onBook(book(a, noOf(a), [['0.48', '10']]));
    const out = s.onBook(book(b, noOf(b), [['0.49', '10']]));
    expect(out[0]!.edge).toBe(300_000);
  });
});

describe('oracle lag', () => {
  const hour = 3_600_000;
  const olink = (m: ReturnType<typeof market>, strike: number): OracleLink => ({
    type: 'oracle_link',
    market: { venue: m.venue, marketId: m.marketId },
    symbol: 'BTC/USD',
    asset: 'BTC',
    kind: 'above',
    strike,
    expiry: 1_000 + hour,
    // settles on the Binance BTC/USDT candle close: priced on the Binance feed, nothing else
    settlementSource: 'binance:BTC/USDT candle1m_close',
    yesToken: yesOf(m),
    noToken: noOf(m),
  });

  it('buys YES far below a deep in-the-money fair value', () => {
    const { s } = scanner();
    const m = market('kalshi', 'KXBTCD-X-T100000', NO_FEES);
    s.onMarket(m);
    s.onOracleLink(olink(m, 100_000 * 1e8));
    s.onTick({
      type: 'tick',
      source: 'binance',
      symbol: 'BTC/USDT',
      price: 110_000 * 1e8,
      stale: false,
      receiveTime: 1_000,
    });
    const out = s.onBook(book(m, yesOf(m), [['0.90', '100']]));
    expect(out).toHaveLength(1);
    // fair clamps to 0.999 (d2 ≈ 14.9 at 60% vol over an hour): 100 × (0.999 − 0.90)
    expect(out[0]!.kind).toBe('oracle_lag');
    expect(out[0]!.edge).toBe(9_900_000);
    expect(out[0]!.data.map((d) => d.key)).toEqual([
      'kalshi:KXBTCD-X-T100000:yes',
      'oracle:binance:BTC/USDT',
    ]);
  });

  it('nets Kalshi fees from the expected value', () => {
    const { s } = scanner();
    const m = market('kalshi', 'KXBTCD-F-T100000', KALSHI);
    s.onMarket(m);
    s.onOracleLink(olink(m, 100_000 * 1e8));
    s.onTick({
      type: 'tick',
      source: 'binance',
      symbol: 'BTC/USDT',
      price: 110_000 * 1e8,
      stale: false,
      receiveTime: 1_000,
    });
    const [o] = s.onBook(book(m, yesOf(m), [['0.90', '100']]));
    // 100 × 0.999 − 90 − 0.07×100×0.9×0.1 (0.63)
    expect(o!.edge).toBe(9_270_000);
  });

  it('up/down: the first tick at the window start is the reference open', () => {
    const { s, clock } = scanner(500);
    const m = market('polymarket', 'updown', NO_FEES, {
      outcomes: [
        { tokenId: 'up', label: 'Up', side: 'other' },
        { tokenId: 'down', label: 'Down', side: 'other' },
      ],
    });
    s.onMarket(m);
    s.onOracleLink({
      type: 'oracle_link',
      market: { venue: 'polymarket', marketId: 'updown' },
      symbol: 'BTC/USD',
      asset: 'BTC',
      kind: 'up_down',
      start: 1_000,
      expiry: 301_000,
      settlementSource: 'chainlink stream',
      yesToken: 'up',
      noToken: 'down',
    });
    const tick = (price: number, t: number) =>
      s.onTick({
        type: 'tick',
        source: 'chainlink',
        symbol: 'BTC/USD',
        price: price * 1e8,
        stale: false,
        receiveTime: t,
      });
    s.onBook(book(m, 'up', [['0.60', '10']], [], { receiveTime: 500 }));
    expect(tick(90_000, 500)).toEqual([]); // before the window: no reference yet
    clock.t = 1_000;
    s.onBook(book(m, 'up', [['0.60', '10']], [], { receiveTime: 1_000 }));
    expect(tick(100_000, 1_000)).toEqual([]); // reference 100,000: fair ≈ 0.5 < 0.60
    clock.t = 2_000;
    const out = tick(101_000, 2_000);
    // +1% with 5 minutes left: d2 ≈ 5.4, fair clamps to 0.999; 10 × (0.999 − 0.60)
    expect(out.map((o) => [o.legs[0]!.tokenId, o.edge])).toEqual([['up', 3_990_000]]);
  });

  it('does nothing on a stale tick', () => {
    const { s } = scanner();
    const m = market('kalshi', 'KXBTCD-Y-T100000', NO_FEES);
    s.onMarket(m);
    s.onOracleLink(olink(m, 100_000 * 1e8));
    s.onTick({
      type: 'tick',
      source: 'binance',
      symbol: 'BTC/USDT',
      price: 110_000 * 1e8,
      stale: true,
      receiveTime: 1_000,
    });
    expect(s.onBook(book(m, yesOf(m), [['0.90', '100']]))).toEqual([]);
  });

  it('is re-evaluated on a tick, not only on a book', () => {
    const { s } = scanner();
    const m = market('kalshi', 'KXBTCD-Z-T100000', NO_FEES);
    s.onMarket(m);
    s.onOracleLink(olink(m, 100_000 * 1e8));
    expect(s.onBook(book(m, noOf(m), [['0.90', '100']]))).toEqual([]);
    const out = s.onTick({
      type: 'tick',
      source: 'binance',
      symbol: 'BTC/USDT',
      price: 90_000 * 1e8,
      stale: false,
      receiveTime: 1_000,
    });
    expect(out.map((o) => o.legs[0]!.tokenId)).toEqual(['KXBTCD-Z-T100000:no']);
    expect(out[0]!.edge).toBe(9_900_000);
  });

  it('normal CDF matches tables', () => {
    expect(normCdf(0)).toBeCloseTo(0.5, 7);
    expect(normCdf(1.96)).toBeCloseTo(0.975, 4);
    expect(normCdf(-1)).toBeCloseTo(0.158655, 5);
  });
});
