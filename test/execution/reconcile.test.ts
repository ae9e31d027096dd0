import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReconciliationMismatchSchema } from '../../src/core/messages.ts';
import {
  haltWorthy,
  mismatchEvents,
  type OurView,
  reconcile,
  type VenueView,
} from '../../src/execution/reconcile.ts';
import type { OrderState, OrderStatus } from '../../src/execution/types.ts';

function order(
  clientOrderId: string,
  status: OrderStatus,
  filledShares: number,
  venueOrderId?: string,
): OrderState {
  return {
    request: {
      clientOrderId,
      requestId: clientOrderId.split('.')[0]!,
      legIndex: 0,
      strategy: 's',
      purpose: 'trade',
      venue: 'kalshi',
      marketId: 'M1',
      tokenId: 'M1:yes',
      side: 'buy',
      limitPrice: 400_000,
      shares: 10_000_000,
      type: 'GTC',
    },
    venueOrderId,
    status,
    reason: undefined,
    detail: undefined,
    filledShares,
    confirmedShares: filledShares,
    venueFilledShares: filledShares,
    gross: 0,
    fees: 0,
    fills: [],
    createdAt: 0,
    updatedAt: 0,
  };
}

const ledger = (shares: number): OurView['positions'] => [
  { venue: 'kalshi', marketId: 'M1', tokenId: 'M1:yes', shares },
];

describe('reconcile', () => {
  it('agreeing books give no mismatch', () => {
    const theirs: VenueView = {
      positions: [{ marketId: 'M1', tokenId: 'M1:yes', shares: 7_000_000 }],
      openOrders: [
        {
          venueOrderId: 'v1',
          clientOrderId: 'r1.0',
          marketId: 'M1',
          tokenId: 'M1:yes',
          shares: 10_000_000,
          filledShares: 2_000_000,
        },
      ],
      cash: 50_000_000,
    };
    const ours: OurView = {
      positions: ledger(7_000_000),
      orders: [order('r1.0', 'partially_filled', 2_000_000, 'v1')],
      cash: 50_000_000,
    };
    expect(reconcile('kalshi', theirs, ours)).toEqual([]);
  });

  it('reports each kind with both numbers', () => {
    const theirs: VenueView = {
      positions: [
        { marketId: 'M1', tokenId: 'M1:yes', shares: 9_000_000 },
        { marketId: 'M2', tokenId: 'M2:no', shares: 1_000_000 },
      ],
      openOrders: [
        {
          venueOrderId: 'v1',
          clientOrderId: 'r1.0',
          marketId: 'M1',
          tokenId: 'M1:yes',
          shares: 10_000_000,
          filledShares: 4_000_000,
        },
        {
          venueOrderId: 'vX',
          clientOrderId: '',
          marketId: 'M3',
          tokenId: 'M3:yes',
          shares: 5_000_000,
          filledShares: 1_000_000,
        },
      ],
      cash: 48_000_000,
    };
    const ours: OurView = {
      positions: ledger(7_000_000),
      orders: [
        order('r1.0', 'partially_filled', 2_000_000, 'v1'),
        order('r2.0', 'acknowledged', 0, 'v2'),
        order('r3.0', 'new', 0),
        order('r4.0', 'filled', 10_000_000, 'v4'),
      ],
      cash: 50_000_000,
    };
    const ms = reconcile('kalshi', theirs, ours);
    expect(ms).toEqual([
      {
        kind: 'position',
        venue: 'kalshi',
        marketId: 'M1',
        tokenId: 'M1:yes',
        unit: 'shares',
        venueValue: 9_000_000,
        ourValue: 7_000_000,
        diff: 2_000_000,
      },
      {
        kind: 'position',
        venue: 'kalshi',
        marketId: 'M2',
        tokenId: 'M2:no',
        unit: 'shares',
        venueValue: 1_000_000,
        ourValue: 0,
        diff: 1_000_000,
      },
      {
        kind: 'filled_mismatch',
        venue: 'kalshi',
        marketId: 'M1',
        tokenId: 'M1:yes',
        clientOrderId: 'r1.0',
        venueOrderId: 'v1',
        unit: 'shares',
        venueValue: 4_000_000,
        ourValue: 2_000_000,
        diff: 2_000_000,
      },
      {
        kind: 'unknown_open_order',
        venue: 'kalshi',
        marketId: 'M3',
        tokenId: 'M3:yes',
        clientOrderId: undefined,
        venueOrderId: 'vX',
        unit: 'shares',
        venueValue: 4_000_000,
        ourValue: 0,
        diff: 4_000_000,
      },
      {
        kind: 'missing_open_order',
        venue: 'kalshi',
        marketId: 'M1',
        tokenId: 'M1:yes',
        clientOrderId: 'r2.0',
        venueOrderId: 'v2',
        unit: 'orders',
        venueValue: 0,
        ourValue: 1,
        diff: -1,
      },
      {
        kind: 'cash',
        venue: 'kalshi',
        unit: 'usd',
        venueValue: 48_000_000,
        ourValue: 50_000_000,
        diff: -2_000_000,
      },
    ]);
    // a `new` order without a venue id may not have arrived yet: not missing; a filled one is not expected open
    expect(ms.some((m) => m.clientOrderId === 'r3.0' || m.clientOrderId === 'r4.0')).toBe(false);

    const halting = haltWorthy(ms);
    expect(halting.map((m) => m.kind)).toEqual([
      'position',
      'position',
      'filled_mismatch',
      'unknown_open_order',
      'cash',
    ]);
    expect(haltWorthy(ms, { positionShares: 5_000_000, cash: 5_000_000, unknownOrders: false })).toEqual([]);

    let n = 0;
    const events = mismatchEvents(ms, halting, () => `rm-${++n}`, 1_700_000_000_000);
    for (const e of events) expect(ReconciliationMismatchSchema.parse(e)).toEqual(e);
    expect(events.map((e) => e.halt)).toEqual([true, true, true, true, false, true]);
  });

  it('tolerances and coverage: rounding is not a mismatch; tokens not read are not compared', () => {
    const theirs: VenueView = {
      positions: [{ marketId: 'M1', tokenId: 'M1:yes', shares: 7_000_010 }],
      openOrders: [],
      coveredTokens: new Set(['M1:yes']),
      cash: 50_000_005,
    };
    const ours: OurView = {
      positions: [
        ...ledger(7_000_000),
        { venue: 'kalshi', marketId: 'M9', tokenId: 'M9:yes', shares: 3_000_000 },
      ],
      orders: [],
      cash: 50_000_000,
    };
    expect(reconcile('kalshi', theirs, ours, { shares: 10, cash: 10 })).toEqual([]);
    expect(
      reconcile('kalshi', { ...theirs, coveredTokens: undefined }, ours, { shares: 10, cash: 10 }),
    ).toHaveLength(1);
    // other venues' positions are not this venue's business
    expect(reconcile('polymarket', { positions: [], openOrders: [] }, ours)).toEqual([]);
  });

  it('property: the position mismatches account for every share of difference, per token', () => {
    const tokens = ['A:yes', 'B:yes', 'C:no'];
    const pos = fc.array(
      fc.record({ t: fc.constantFrom(...tokens), s: fc.integer({ min: 0, max: 1_000_000_000 }) }),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(pos, pos, (venueRows, ourRows) => {
        const theirs: VenueView = {
          positions: Object.values(
            Object.fromEntries(
              venueRows.map((r) => [r.t, { marketId: r.t.split(':')[0]!, tokenId: r.t, shares: r.s }]),
            ),
          ),
          openOrders: [],
        };
        const ours: OurView = {
          positions: ourRows.map((r) => ({
            venue: 'kalshi' as const,
            marketId: r.t.split(':')[0]!,
            tokenId: r.t,
            shares: r.s,
          })),
          orders: [],
        };
        const ms = reconcile('kalshi', theirs, ours);
        for (const t of tokens) {
          const v = theirs.positions.find((p) => p.tokenId === t)?.shares ?? 0;
          const o = ours.positions.filter((p) => p.tokenId === t).reduce((s, p) => s + p.shares, 0);
          const m = ms.find((x) => x.tokenId === t);
          if (v === o) expect(m).toBeUndefined();
          else expect(m).toMatchObject({ venueValue: v, ourValue: o, diff: v - o });
        }
      }),
      { numRuns: 200 },
    );
  });
});
