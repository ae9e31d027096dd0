import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BundleBook } from '../../src/ledger/bundles.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { PerformanceTracker } from '../../src/ledger/performance.ts';
import { $, fill, sh } from '../risk/fixtures.ts';

/** A cross-venue bundle: YES on Polymarket m1, NO on Kalshi K1 (identical markets), 10 shares each. */
function crossVenue(requestId: string, pYes: number, pNo: number) {
  return [
    fill({ requestId, side: 'buy', price: $(pYes), shares: sh(10), ts: 1 }),
    fill({
      requestId,
      side: 'buy',
      venue: 'kalshi',
      marketId: 'K1',
      tokenId: 'K1:no',
      price: $(pNo),
      shares: sh(10),
      fee: $(0.02),
      ts: 1,
    }),
  ];
}

const settle = (
  venue: 'polymarket' | 'kalshi',
  marketId: string,
  tokenId: string,
  won: boolean,
  ts: number,
) =>
  fill({
    requestId: `settlement:${venue}:${marketId}`,
    venue,
    marketId,
    tokenId,
    side: 'sell',
    price: won ? $(1) : 0,
    shares: sh(10),
    kind: 'settlement',
    ts,
  });

describe('bundles', () => {
  it('a cross-venue bundle that settles is one win, whatever each leg did', () => {
    const l = new Ledger({ initialCash: $(100) });
    const p = new PerformanceTracker(l);
    const apply = (f: ReturnType<typeof fill>) => p.onFill(f, l.applyFill(f));
    for (const f of crossVenue('req-1', 0.45, 0.5)) apply(f);
    expect(p.stats('s1')).toMatchObject({ trades: 1, openBundles: 1, wins: 0, losses: 0 });
    // Polymarket settles first: YES loses (leg −$4.50); the bundle is still open
    apply(settle('polymarket', 'm1', 'm1-yes', false, 2));
    p.sample(2);
    expect(p.stats('s1')).toMatchObject({ trades: 1, openBundles: 1, wins: 0, losses: 0, legLosses: 1 });
    // then Kalshi: NO wins (+$4.98); the bundle made 10 − 4.50 − 5.02 = $0.48
    apply(settle('kalshi', 'K1', 'K1:no', true, 3));
    p.sample(3);
    expect(p.stats('s1')).toMatchObject({
      trades: 1,
      openBundles: 0,
      wins: 1,
      losses: 0,
      legWins: 1,
      legLosses: 1,
      closedBundles: 1,
    });
    expect(p.bundles.closed()).toEqual([
      { id: 'req-1', strategy: 's1', closedAt: 3, pnl: $(0.48), cost: $(9.52) },
    ]);
  });

  it('an explicit bundle id joins several requests into one bundle', () => {
    const b = new BundleBook();
    b.applyFill(fill({ requestId: 'a', bundleId: 'B', side: 'buy', price: $(0.4), shares: sh(5) }));
    b.applyFill(
      fill({ requestId: 'b', bundleId: 'B', side: 'buy', price: $(0.5), shares: sh(5), tokenId: 'm1-no' }),
    );
    expect(b.all('s1').map((x) => x.id)).toEqual(['B']);
    expect(b.get('B')!.cost).toBe($(4.5));
    expect(b.holding('s1', 'polymarket', 'm1-no')).toEqual(['B']);
  });

  it('a settlement pays every bundle holding the token, oldest first; a sale takes from its own bundle first', () => {
    const b = new BundleBook();
    b.applyFill(fill({ requestId: 'r1', side: 'buy', price: $(0.4), shares: sh(10), ts: 1 }));
    b.applyFill(fill({ requestId: 'r2', side: 'buy', price: $(0.6), shares: sh(10), ts: 2 }));
    // r2 unwinds 4 of its own shares at 0.5
    b.applyFill(fill({ requestId: 'r2', side: 'sell', price: $(0.5), shares: sh(4), kind: 'unwind', ts: 3 }));
    expect(b.get('r2')!.legs.get('polymarket:m1-yes')!.shares).toBe(sh(6));
    expect(b.get('r1')!.legs.get('polymarket:m1-yes')!.shares).toBe(sh(10));
    // an exit request without shares of its own sells the oldest bundle's first
    b.applyFill(fill({ requestId: 'exit', side: 'sell', price: $(0.7), shares: sh(12), ts: 4 }));
    expect(b.get('r1')!.closedAt).toBe(4);
    expect(b.get('r2')!.legs.get('polymarket:m1-yes')!.shares).toBe(sh(4));
    b.applyFill(settle('polymarket', 'm1', 'm1-yes', true, 5));
    expect(b.holding('s1', 'polymarket', 'm1-yes')).toEqual([]);
    // r1: 10 × 0.7 − 4 = +3; r2: 4 × 0.5 + 2 × 0.7 + 4 × 1 − 6 = +1.4
    expect(b.closed().map((c) => [c.id, c.pnl])).toEqual([
      ['r1', $(3)],
      ['r2', $(1.4)],
    ]);
  });

  it('the parts of a shared fill always sum to it, and a snapshot restores the same book', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ shares: fc.integer({ min: 1, max: 997 }), price: fc.integer({ min: 1, max: 99 }) }),
          {
            minLength: 1,
            maxLength: 6,
          },
        ),
        fc.integer({ min: 0, max: 99 }),
        (buys, sellCents) => {
          const b = new BundleBook();
          let total = 0;
          let cost = 0;
          buys.forEach((x, i) => {
            const f = fill({
              requestId: `r${i}`,
              side: 'buy',
              price: x.price * 10_000,
              shares: x.shares * 10_000,
            });
            b.applyFill(f);
            total += f.shares;
            cost += Math.round((f.price * f.shares) / 1e6);
          });
          b.applyFill(
            fill({ requestId: 'exit', side: 'sell', price: sellCents * 10_000, shares: total, fee: 7 }),
          );
          const proceeds = Math.round((sellCents * 10_000 * total) / 1e6) - 7;
          const realized = b.closed().reduce((a, c) => a + c.pnl, 0);
          expect(realized).toBe(proceeds - cost);
          expect(b.closed()).toHaveLength(buys.length);
          const back = BundleBook.restore(JSON.parse(JSON.stringify(b.snapshot())));
          expect(back.snapshot()).toEqual(b.snapshot());
          expect(back.closed()).toEqual(b.closed());
        },
      ),
      { numRuns: 200 },
    );
  });
});
