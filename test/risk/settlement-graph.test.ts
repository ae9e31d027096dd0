import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Market, type MarketLink, MatchRelationSchema } from '../../src/core/messages.ts';
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

describe('SettlementGraph incremental unions', () => {
  // markets and ties join components in place; a tie withdrawn or a market reshaped rebuilds them. After any
  // sequence the components, their members and worlds must be a fresh graph's, and a component whose stamp
  // (and root) stayed must have kept its worlds
  it('matches a graph built afresh after random markets, groups, links, withdrawals and resolutions', () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    const shaped = (id: string, shape: number): Market => {
      const m = market(id) as unknown as Record<string, unknown>;
      if (shape === 1) m.negRiskGroup = 'g1';
      if (shape === 2) m.negRiskGroup = 'g2';
      if (shape === 3) Object.assign(m, { negRiskGroup: 'g1', placeholder: true });
      if (shape === 4)
        m.outcomes = ['x', 'y', 'z'].map((t) => ({ tokenId: `${id}-${t}`, label: t, side: undefined }));
      return m as unknown as Market;
    };
    const relation = fc.constantFrom(...MatchRelationSchema.options);
    const op = fc.oneof(
      fc.record({ k: fc.constant('market' as const), m: fc.constantFrom(...ids), shape: fc.nat(4) }),
      fc.record({
        k: fc.constant('link' as const),
        a: fc.constantFrom(...ids),
        b: fc.constantFrom(...ids),
        rel: relation,
      }),
      fc.record({ k: fc.constant('resolve' as const), m: fc.constantFrom(...ids), yes: fc.boolean() }),
    );
    type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;
    const apply = (g: SettlementGraph, o: Op): void => {
      if (o.k === 'market') g.onMarket(shaped(o.m, o.shape));
      else if (o.k === 'link') {
        if (o.a !== o.b) g.onLink({ ...link(o.a, o.b), relation: o.rel } as MarketLink);
      } else
        g.onResolution({
          type: 'resolution',
          venue: 'polymarket',
          marketId: o.m,
          winner: `${o.m}-${o.yes ? 'y' : 'n'}`,
          receiveTime: 0,
        } as never);
    };
    const view = (g: SettlementGraph) =>
      ids.map((id) => {
        const root = g.componentOf(`polymarket:${id}`);
        const members = g.membersOf(root);
        return { root, members: [...members], worlds: g.worlds(members).worlds, stamp: g.stampOf(root) };
      });
    const unstamped = (v: ReturnType<typeof view>) => v.map((c) => ({ ...c, stamp: 0 }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        // g is read after every event (its unions then change in place), the fresh graph only at the end (a rebuild)
        const g = new SettlementGraph();
        let last: ReturnType<typeof view> | undefined;
        for (let i = 0; i < ops.length; i++) {
          apply(g, ops[i]!);
          const fresh = new SettlementGraph();
          for (const o of ops.slice(0, i + 1)) apply(fresh, o);
          const now = view(g);
          expect(unstamped(now)).toEqual(unstamped(view(fresh)));
          if (last)
            now.forEach((c, j) => {
              if (c.root === last![j]!.root && c.stamp === last![j]!.stamp) expect(c).toEqual(last![j]);
            });
          last = now;
        }
      }),
      { numRuns: 300 },
    );
  });
});
