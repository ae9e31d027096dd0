import { describe, expect, it } from 'vitest';
import type { Leg, Market, MarketLink } from '../../src/core/messages.ts';
import {
  breach,
  buyCostBound,
  type HeldShares,
  largestFitting,
  noRiskier,
  type PendingLeg,
  valueComponent,
} from '../../src/risk/loss-budget.ts';
import { Portfolio } from '../../src/risk/portfolio.ts';
import { evaluateRequest } from '../../src/risk/rules.ts';
import { marketKey, SettlementGraph } from '../../src/risk/settlement.ts';
import { KALSHI_STANDARD_FEES } from '../../src/venues/kalshi/fees.ts';
import { POLYMARKET_NO_FEES } from '../../src/venues/polymarket/fees.ts';
import { $, book, config, market, request, sh } from './fixtures.ts';

const link = (a: string, b: string, relation: MarketLink['relation']): MarketLink => ({
  type: 'link',
  a: { venue: 'polymarket', marketId: a },
  b: { venue: 'kalshi', marketId: b },
  relation,
  confidence: 1,
  stage: 'rules',
  reasons: [],
  decidedAt: 0,
});
const held = (
  venue: 'polymarket' | 'kalshi',
  marketId: string,
  side: string,
  shares: number,
): HeldShares => ({
  venue,
  marketId,
  tokenId: `${marketId}-${side}`,
  shares: sh(shares),
});
const pending = (
  venue: 'polymarket' | 'kalshi',
  marketId: string,
  side: string,
  shares: number,
  price: number,
  grouped: boolean,
  dir: 'buy' | 'sell' = 'buy',
): PendingLeg => ({
  ...held(venue, marketId, side, shares),
  side: dir,
  limitPrice: $(price),
  fees: POLYMARKET_NO_FEES,
  grouped,
});

function graph(markets: Market[], links: MarketLink[] = []): SettlementGraph {
  const g = new SettlementGraph();
  for (const m of markets) g.onMarket(m);
  for (const l of links) g.onLink(l);
  return g;
}
const value = (g: SettlementGraph, h: HeldShares[], p: PendingLeg[] = []) =>
  valueComponent(g, g.componentOf(marketKey((h[0] ?? p[0])!.venue, (h[0] ?? p[0])!.marketId)), h, p);

describe('settlement graph: what can win together', () => {
  it('ties linked markets and negRisk groups into components, and enumerates only consistent worlds', () => {
    const g = graph(
      [market('polymarket', 'A'), market('kalshi', 'B'), market('kalshi', 'C')],
      [link('A', 'B', 'identical')],
    );
    expect(g.componentOf('kalshi:B')).toBe(g.componentOf('polymarket:A'));
    expect(g.componentOf('kalshi:C')).not.toBe(g.componentOf('polymarket:A'));
    expect(g.worlds(['kalshi:B', 'polymarket:A']).worlds).toEqual([
      ['B-yes', 'A-yes'],
      ['B-no', 'A-no'],
    ]);
    g.onLink({ ...link('A', 'B', 'inverted') });
    expect(g.worlds(['kalshi:B', 'polymarket:A']).worlds).toEqual([
      ['B-yes', 'A-no'],
      ['B-no', 'A-yes'],
    ]);
    g.onLink({ ...link('A', 'B', 'implies') }); // A ⇒ B
    expect(g.worlds(['polymarket:A', 'kalshi:B']).worlds).toHaveLength(3);
    g.onLink({ ...link('A', 'B', 'different') }); // withdrawn: independent again
    expect(g.componentOf('kalshi:B')).not.toBe(g.componentOf('polymarket:A'));
  });

  it('a complete negRisk group pays exactly one YES; with a placeholder, at most one', () => {
    const members = ['G1', 'G2', 'G3'].map((id) => market('polymarket', id, { negRiskGroup: 'g' }));
    const g = graph(members);
    const keys = members.map((m) => marketKey(m.venue, m.marketId));
    expect(g.worlds(keys).worlds).toHaveLength(3);
    g.onMarket({ ...members[2]!, placeholder: true });
    expect(g.worlds(keys).worlds).toHaveLength(4); // the "none of the listed" world appears
  });

  it('a resolution, or a settlement fill that arrives first, fixes the winner', () => {
    const g = graph([market('polymarket', 'A'), market('kalshi', 'B')], [link('A', 'B', 'identical')]);
    g.onSettlementFill({
      venue: 'polymarket',
      marketId: 'A',
      tokenId: 'A-yes',
      price: 0,
      kind: 'settlement',
    });
    expect(g.worlds(['kalshi:B', 'polymarket:A']).worlds).toEqual([['B-no', 'A-no']]);
    const h = graph([market('kalshi', 'B')]);
    h.onResolution({ type: 'resolution', venue: 'kalshi', marketId: 'B', winner: 'B-yes', receiveTime: 0 });
    expect(h.worlds(['kalshi:B']).worlds).toEqual([['B-yes']]);
  });
});

describe('worst and best value at settlement', () => {
  const A = market('polymarket', 'A');
  const B = market('kalshi', 'B');

  it('a lone binary can pay nothing or everything; YES+NO of one market pays one per set either way', () => {
    const g = graph([A]);
    expect(value(g, [held('polymarket', 'A', 'yes', 10)])).toMatchObject({ floor: 0, max: sh(10) });
    expect(value(g, [held('polymarket', 'A', 'yes', 10), held('polymarket', 'A', 'no', 10)])).toMatchObject({
      floor: $(10),
      max: $(10),
    });
    expect(value(g, [held('polymarket', 'A', 'yes', 10), held('polymarket', 'A', 'no', 4)])).toMatchObject({
      floor: $(4),
      max: $(10),
    });
  });

  it('an identical pair across venues (YES here, NO there) pays one per set; an unlinked one does not', () => {
    const pair = [held('polymarket', 'A', 'yes', 10), held('kalshi', 'B', 'no', 10)];
    expect(value(graph([A, B], [link('A', 'B', 'identical')]), pair)).toMatchObject({
      floor: $(10),
      max: $(10),
    });
    const g = graph([A, B]);
    expect(valueComponent(g, 'polymarket:A', [pair[0]!], []).floor).toBe(0);
    // inverted: YES(A) is NO(B), so YES + YES is the hedge
    const inv = [held('polymarket', 'A', 'yes', 10), held('kalshi', 'B', 'yes', 10)];
    expect(value(graph([A, B], [link('A', 'B', 'inverted')]), inv).floor).toBe($(10));
  });

  it('a leg of a group in flight counts its whole cost in every world; a single order only where it loses', () => {
    const g = graph([A, B], [link('A', 'B', 'identical')]);
    // holding NO of B; buying YES of A would complete the hedge — if it filled alone and was sold back at
    // nothing, the world where A (and B) resolve YES loses the leg's cost on top of B's NO paying nothing
    const h = [held('kalshi', 'B', 'no', 10)];
    const single = value(g, h, [pending('polymarket', 'A', 'yes', 10, 0.5, false)]);
    const grouped = value(g, h, [pending('polymarket', 'A', 'yes', 10, 0.5, true)]);
    expect(single.floor).toBe(0); // YES world: B-no 0, the order +5 (or not filled: 0); NO world: 10 − 5
    expect(grouped.floor).toBe(-$(5));
    // both can at best be worth what a filled YES pays ($10) less its cost, in the YES world
    expect(single.max).toBe($(10));
    expect(grouped.max).toBe($(10));
    expect(buyCostBound({ limitPrice: $(0.5), shares: sh(10), fees: KALSHI_STANDARD_FEES })).toBe($(5.18));
  });

  it('the first limit broken is named; a request that lowers every risk is never held back', () => {
    const limits = {
      highWaterMark: $(500),
      dailyStartEquity: $(500),
      drawdownLimitBps: 2_000,
      dailyLossLimitBps: 1_000,
    };
    expect(breach({ worstEquity: $(450), peakEquity: $(500), carriedSwing: 0 }, limits)).toBeUndefined();
    expect(breach({ worstEquity: $(449.99), peakEquity: $(500), carriedSwing: 0 }, limits)).toMatchObject({
      limit: 'daily',
    });
    expect(breach({ worstEquity: $(480), peakEquity: $(601), carriedSwing: 0 }, limits)).toMatchObject({
      limit: 'drawdown',
      peak: $(601),
    });
    expect(breach({ worstEquity: $(480), peakEquity: $(500), carriedSwing: $(48.01) }, limits)).toMatchObject(
      {
        limit: 'daily_carry',
      },
    );
    const before = { worstEquity: $(400), peakEquity: $(700), carriedSwing: $(90) };
    expect(noRiskier({ worstEquity: $(410), peakEquity: $(650), carriedSwing: $(90) }, before)).toBe(true);
    expect(noRiskier({ worstEquity: $(410), peakEquity: $(701), carriedSwing: $(90) }, before)).toBe(false);
  });

  it('largestFitting finds the exact boundary in whole steps', () => {
    expect(largestFitting(sh(100), sh(1), (s) => s <= sh(37.5))).toBe(sh(37));
    expect(largestFitting(sh(100), 10_000, (s) => s <= sh(37.5))).toBe(sh(37.5));
    expect(largestFitting(sh(100), sh(1), () => false)).toBe(0);
    expect(largestFitting(sh(100), sh(1), () => true)).toBe(sh(100));
  });
});

describe('the guardian sizes a request to the budget', () => {
  it('reduces a naked buy to the largest whole size whose worst case fits, exactly', () => {
    const risk = { ...config.risk, positionLimitBps: 10_000, platformLimitBps: 10_000 };
    const pf = new Portfolio({ risk });
    pf.onMarket(market('kalshi', 'K', { endTime: 1_700_000_000_000 + 3_600_000 }));
    pf.onBook(book('kalshi', 'K', 'K-yes', [], []), 1_700_000_000_000); // fresh: seen by the guardian now
    pf.refresh(1_700_000_000_000);
    const leg: Leg = {
      venue: 'kalshi',
      marketId: 'K',
      tokenId: 'K-yes',
      side: 'buy',
      limitPrice: $(0.2),
      shares: sh(400),
    };
    const ev = evaluateRequest(request([leg], { expectedEdge: $(50) }), pf, risk, 1_700_000_000_000);
    expect(ev.verdict).toBe('reduce');
    expect(ev.rule).toBe('drawdown_budget');
    const n = ev.legs[0]!.shares;
    const fits = (shares: number) =>
      breach(pf.exposure(pf.pendingLegs([{ ...leg, shares }])), pf.budgetLimits()) === undefined;
    expect(fits(n)).toBe(true);
    expect(fits(n + sh(1))).toBe(false);
    // the peak binds: $500 − cost + n at $1 may be the new high-water mark, and 80% of it must stay covered
    expect(ev.reason).toMatch(/^drawdown budget: settled the worst way.*reduced 400 → \d+ shares$/);
  });

  it('a cross-venue pair cut down by a cap or by the budget keeps equal legs (no share left unhedged)', () => {
    for (const risk of [
      config.risk,
      { ...config.risk, positionLimitBps: 10_000, platformLimitBps: 10_000 },
    ]) {
      const pf = new Portfolio({ risk });
      pf.onMarket(market('polymarket', 'P', { minSize: sh(1) }));
      pf.onMarket(market('kalshi', 'K'));
      pf.onLink(link('P', 'K', 'identical'));
      pf.onBook(book('polymarket', 'P', 'P-yes', [], []), 1_700_000_000_000);
      pf.onBook(book('kalshi', 'K', 'K-no', [], []), 1_700_000_000_000);
      pf.refresh(1_700_000_000_000);
      const legs: Leg[] = [
        {
          venue: 'polymarket',
          marketId: 'P',
          tokenId: 'P-yes',
          side: 'buy',
          limitPrice: $(0.79),
          shares: sh(282),
        },
        {
          venue: 'kalshi',
          marketId: 'K',
          tokenId: 'K-no',
          side: 'buy',
          limitPrice: $(0.18),
          shares: sh(282),
        },
      ];
      const ev = evaluateRequest(request(legs, { expectedEdge: $(8) }), pf, risk, 1_700_000_000_000);
      expect(ev.verdict).toBe('reduce');
      expect(ev.legs[0]!.shares).toBe(ev.legs[1]!.shares);
      expect(ev.legs[0]!.shares % sh(1)).toBe(0);
    }
  });
});
