import fc from 'fast-check';
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

describe('SettlementGraph caches', () => {
  // a winner (resolution, settlement fill) keeps the unions and the other components' worlds cached: after any
  // sequence, every component's worlds must be those a graph built afresh from the same events enumerates
  it('gives the worlds of a graph built afresh after any sequence of markets, links, resolutions and settlements', () => {
    const ids = ['a', 'b', 'c', 'd'];
    const op = fc.oneof(
      fc.record({ k: fc.constant('market' as const), m: fc.constantFrom(...ids) }),
      fc.record({ k: fc.constant('link' as const), a: fc.constantFrom(...ids), b: fc.constantFrom(...ids) }),
      fc.record({ k: fc.constant('resolve' as const), m: fc.constantFrom(...ids), yes: fc.boolean() }),
      fc.record({ k: fc.constant('settle' as const), m: fc.constantFrom(...ids), paid: fc.boolean() }),
    );
    type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;
    const apply = (g: SettlementGraph, o: Op): void => {
      if (o.k === 'market') g.onMarket(market(o.m));
      else if (o.k === 'link') {
        if (o.a !== o.b) g.onLink(link(o.a, o.b));
      } else if (o.k === 'resolve')
        g.onResolution({
          type: 'resolution',
          venue: 'polymarket',
          marketId: o.m,
          winner: `${o.m}-${o.yes ? 'y' : 'n'}`,
          receiveTime: 0,
        } as never);
      else
        g.onSettlementFill({
          venue: 'polymarket',
          marketId: o.m,
          tokenId: `${o.m}-y`,
          price: o.paid ? 1_000_000 : 0,
          kind: 'settlement',
        });
    };
    const allWorlds = (g: SettlementGraph) =>
      ids.map((id) => g.worlds(g.membersOf(g.componentOf(`polymarket:${id}`))).worlds);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const g = new SettlementGraph();
        for (let i = 0; i < ops.length; i++) {
          apply(g, ops[i]!);
          const fresh = new SettlementGraph();
          for (const o of ops.slice(0, i + 1)) apply(fresh, o);
          expect(allWorlds(g)).toEqual(allWorlds(fresh));
        }
      }),
      { numRuns: 150 },
    );
  });
});
