import { describe, expect, it } from 'vitest';
import type { Market, MarketLink } from '../../src/core/messages.ts';
import { SettlementGraph } from '../../src/risk/settlement.ts';

const market = (id: string): Market =>
  ({
    type: 'market',
    venue: 'polymarket',
    marketId: id,
    outcomes: [
      { tokenId: `${id}-y`, label: 'Yes', side: 'yes' },
      { tokenId: `${id}-n`, label: 'No', side: 'no' },
    ],
    status: 'open',
  }) as unknown as Market;
const link = (a: string, b: string): MarketLink =>
  ({
    type: 'link',
    a: { venue: 'polymarket', marketId: a },
    b: { venue: 'polymarket', marketId: b },
    relation: 'implies',
    confidence: 1,
    stage: 'rules',
    reasons: [],
    decidedAt: 0,
  }) as MarketLink;

describe('SettlementGraph ties', () => {
  // a tie keeps the nodes' key strings when its markets are known (memory at 100k markets), its own otherwise:
  // the worlds are the same either way
  it('ties markets the same whether the link comes before or after them', () => {
    const before = new SettlementGraph();
    before.onLink(link('hi', 'lo'));
    before.onMarket(market('hi'));
    before.onMarket(market('lo'));
    const after = new SettlementGraph();
    after.onMarket(market('hi'));
    after.onMarket(market('lo'));
    after.onLink(link('hi', 'lo'));
    const keys = ['polymarket:hi', 'polymarket:lo'];
    for (const g of [before, after]) {
      expect(g.componentOf(keys[0]!)).toBe(g.componentOf(keys[1]!));
      // above the higher strike implies above the lower: three worlds, not four
      expect(g.worlds(keys).worlds).toHaveLength(3);
    }
    expect(after.worlds(keys)).toEqual(before.worlds(keys));
    // the same link again changes nothing
    const v = after.version;
    after.onLink(link('hi', 'lo'));
    expect(after.version).toBe(v);
  });
});
