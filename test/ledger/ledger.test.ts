import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ledger, LedgerInvariantError, recomputeEquity } from '../../src/ledger/ledger.ts';
import { PerformanceTracker, sharpeOf } from '../../src/ledger/performance.ts';
import { $, fill, sh } from '../risk/fixtures.ts';

describe('ledger (hand-computed)', () => {
  it('buys, marks, sells and settles', () => {
    const l = new Ledger({ initialCash: $(1000) });
    expect(l.cashByVenue()).toEqual({ polymarket: $(500), kalshi: $(500) });
    // buy 100 @ 0.40 + $0.50 fee → basis $40.50
    l.applyFill(fill({ side: 'buy', price: $(0.4), shares: sh(100), fee: $(0.5) }));
    expect(l.cash()).toBe($(959.5));
    expect(l.cashByVenue().polymarket).toBe($(459.5));
    expect(l.equity()).toBe($(959.5)); // no mark yet: executable value 0
    l.mark('polymarket', 'm1-yes', $(0.45));
    expect(l.positionsValue()).toBe($(45));
    expect(l.unrealizedPnl()).toBe($(4.5));
    expect(l.equity()).toBe($(1004.5));
    // sell 40 @ 0.50, fee $0.10: releases 40% of basis = $16.20; proceeds $19.90 → realized $3.70
    const eff = l.applyFill(fill({ side: 'sell', price: $(0.5), shares: sh(40), fee: $(0.1) }));
    expect(eff).toEqual({ duplicate: false, realized: $(3.7), closing: true });
    expect(l.realizedPnl()).toBe($(3.7));
    expect(l.openCostBasis()).toBe($(24.3));
    expect(l.holding('s1', 'polymarket', 'm1-yes')).toBe(sh(60));
    // settle: 60 winning shares pay $1 each
    l.applyFill(fill({ side: 'sell', price: $(1), shares: sh(60), kind: 'settlement' }));
    expect(l.realizedPnl()).toBe($(3.7) + $(60) - $(24.3));
    expect(l.positions()).toEqual([]);
    expect(l.equity()).toBe(l.cash());
    expect(l.cash()).toBe($(1000) - $(40.5) + $(19.9) + $(60));
    expect(l.fees()).toBe($(0.6));
    expect(l.strategyPnl('s1')).toBe($(39.4));
  });

  it('keeps marks of tokens nobody holds, in the order first seen, and values a position opened after its mark', () => {
    const l = new Ledger({ initialCash: $(1000) });
    l.mark('polymarket', 'm1-yes', $(0.3));
    l.mark('kalshi', 'k1:yes', $(0.6));
    l.mark('polymarket', 'm2-yes', $(0.2));
    l.mark('polymarket', 'm1-yes', $(0.45)); // a new mark, same place
    expect(l.markOf('polymarket', 'm1-yes')).toBe($(0.45));
    expect(l.markOf('polymarket', 'nope')).toBeUndefined();
    // a position in a token already marked is valued at that mark at once
    l.applyFill(fill({ side: 'buy', price: $(0.4), shares: sh(100) }));
    expect(l.positionsValue()).toBe($(45));
    l.mark('polymarket', 'm1-yes', $(0.5));
    expect(l.positionsValue()).toBe($(50));
    // a position in a token never marked, then marked
    l.applyFill(fill({ side: 'buy', price: $(0.1), shares: sh(10), marketId: 'm3', tokenId: 'm3-yes' }));
    expect(l.markOf('polymarket', 'm3-yes')).toBeUndefined();
    l.mark('polymarket', 'm3-yes', $(0.2));
    expect(l.positionsValue()).toBe($(52));
    expect(Object.entries(l.snapshot().marks)).toEqual([
      ['polymarket:m1-yes', $(0.5)],
      ['polymarket:m2-yes', $(0.2)],
      ['polymarket:m3-yes', $(0.2)],
      ['kalshi:k1:yes', $(0.6)],
    ]);
    const back = Ledger.restore(l.snapshot());
    expect(back.snapshot()).toEqual(l.snapshot());
    expect(back.positionsValue()).toBe($(52));
    expect(recomputeEquity(back)).toBe(back.equity());
  });

  it('ignores a duplicate fill', () => {
    const l = new Ledger({ initialCash: $(100) });
    const f = fill({ side: 'buy', price: $(0.4), shares: sh(10) });
    l.applyFill(f);
    expect(l.applyFill(f).duplicate).toBe(true);
    expect(l.holding('s1', 'polymarket', 'm1-yes')).toBe(sh(10));
  });

  it('refuses a naked short', () => {
    const l = new Ledger({ initialCash: $(100) });
    expect(() => l.applyFill(fill({ side: 'sell', price: $(0.4), shares: sh(1) }))).toThrow(
      /no naked shorts/,
    );
  });

  it('a fill that breaks an invariant is not remembered: its redelivery throws again, never a duplicate', () => {
    const l = new Ledger({ initialCash: $(100) });
    const bad = fill({ side: 'sell', price: $(0.4), shares: sh(1) });
    expect(() => l.applyFill(bad)).toThrow(LedgerInvariantError);
    expect(() => l.applyFill(bad)).toThrow(LedgerInvariantError);
    expect(l.fills).toBe(0);
    expect(l.allPositions()).toHaveLength(0);
    expect(l.snapshot().fillIds).toEqual([]);
    // once the position exists, the same fill applies (once)
    l.applyFill(fill({ side: 'buy', price: $(0.3), shares: sh(1) }));
    expect(l.applyFill(bad).duplicate).toBe(false);
    expect(l.applyFill(bad).duplicate).toBe(true);
  });

  it('keeps positions per strategy and exposures per market and venue', () => {
    const l = new Ledger({ initialCash: $(100) });
    l.applyFill(fill({ strategy: 'a', side: 'buy', price: $(0.2), shares: sh(10) }));
    l.applyFill(fill({ strategy: 'b', side: 'buy', price: $(0.3), shares: sh(10), tokenId: 'm1-no' }));
    l.applyFill(
      fill({
        strategy: 'b',
        venue: 'kalshi',
        marketId: 'k',
        tokenId: 'k:yes',
        side: 'buy',
        price: $(0.5),
        shares: sh(2),
        fee: $(0.02),
      }),
    );
    expect(l.marketExposure('polymarket', 'm1')).toBe($(5));
    expect(l.venueExposure('kalshi')).toBe($(1.02));
    expect(l.strategyExposure('b')).toBe($(4.02));
    expect(l.strategies()).toEqual(['a', 'b']);
  });

  it('snapshot round-trips through JSON', () => {
    const l = new Ledger({ initialCash: $(100) });
    l.applyFill(fill({ side: 'buy', price: $(0.2), shares: sh(10) }));
    l.mark('polymarket', 'm1-yes', $(0.25));
    l.applyFill(fill({ side: 'sell', price: $(0.3), shares: sh(3), fee: $(0.01) }));
    const snap = JSON.parse(JSON.stringify(l.snapshot()));
    const back = Ledger.restore(snap);
    expect(back.snapshot()).toEqual(l.snapshot());
    expect(back.equity()).toBe(l.equity());
  });
});

describe('ledger: cash + positions at mark = equity, always', () => {
  const ev = fc.oneof(
    fc.record({
      t: fc.constant('trade' as const),
      strategy: fc.constantFrom('a', 'b'),
      token: fc.constantFrom('t1', 't2', 't3'),
      buy: fc.boolean(),
      price: fc.integer({ min: 1, max: 999_999 }),
      shares: fc.integer({ min: 1, max: 50_000_000 }),
      fee: fc.integer({ min: 0, max: 100_000 }),
    }),
    fc.record({
      t: fc.constant('mark' as const),
      token: fc.constantFrom('t1', 't2', 't3'),
      price: fc.integer({ min: 0, max: 1_000_000 }),
    }),
    fc.record({
      t: fc.constant('settle' as const),
      token: fc.constantFrom('t1', 't2', 't3'),
      win: fc.boolean(),
    }),
  );
  it('holds after every event', () => {
    fc.assert(
      fc.property(fc.array(ev, { maxLength: 60 }), (events) => {
        const l = new Ledger({ initialCash: $(10_000) });
        let id = 0;
        for (const e of events) {
          if (e.t === 'mark') l.mark('polymarket', e.token, e.price);
          else if (e.t === 'trade') {
            const held = l.holding(e.strategy, 'polymarket', e.token);
            const shares = e.buy ? e.shares : Math.min(held, e.shares);
            if (shares > 0) {
              l.applyFill(
                fill({
                  id: `p${++id}`,
                  strategy: e.strategy,
                  tokenId: e.token,
                  side: e.buy ? 'buy' : 'sell',
                  price: e.price,
                  shares,
                  fee: e.fee,
                }),
              );
            }
          } else {
            for (const s of ['a', 'b']) {
              const held = l.holding(s, 'polymarket', e.token);
              if (held > 0) {
                l.applyFill(
                  fill({
                    id: `p${++id}`,
                    strategy: s,
                    tokenId: e.token,
                    side: 'sell',
                    price: e.win ? 1_000_000 : 0,
                    shares: held,
                    kind: 'settlement',
                  }),
                );
              }
            }
          }
          expect(l.equity()).toBe(recomputeEquity(l));
          expect(l.equity()).toBe(l.cash() + l.positionsValue());
          expect(l.equity()).toBe(l.initialCash() + l.realizedPnl() + l.unrealizedPnl());
          expect(l.strategyPnl('a') + l.strategyPnl('b')).toBe(l.realizedPnl() + l.unrealizedPnl());
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('strategy performance', () => {
  it('counts bundles as trades, wins and losses (legs as detail), P&L, Sharpe and drawdown', () => {
    const l = new Ledger({ initialCash: $(100) });
    const p = new PerformanceTracker(l);
    p.add('s1');
    const apply = (f: ReturnType<typeof fill>) => p.onFill(f, l.applyFill(f));
    const rep = (requestId: string) =>
      p.onReport({
        type: 'execution_report',
        id: requestId,
        requestId,
        strategy: 's1',
        status: 'filled',
        fills: 1,
        legRiskCost: 0,
        fees: 0,
        ts: 0,
      });
    apply(fill({ requestId: 'r1', side: 'buy', price: $(0.4), shares: sh(10) }));
    rep('r1');
    l.mark('polymarket', 'm1-yes', $(0.5));
    p.sample(); // pnl +1
    apply(fill({ requestId: 'r2', side: 'sell', price: $(0.5), shares: sh(5) }));
    rep('r2');
    l.mark('polymarket', 'm1-yes', $(0.3));
    p.sample(); // realized +0.5, unrealized 5×(0.3−0.4) = −0.5 → pnl 0
    apply(fill({ requestId: 'x', side: 'sell', price: 0, shares: sh(5), kind: 'settlement' }));
    p.sample(); // realized 0.5 − 2.0 = −1.5
    const st = p.stats('s1');
    // one bundle (r1): the exit r2 sold half of it, the settlement closed it at a loss of $1.50 in all
    expect(st).toMatchObject({
      trades: 1,
      openBundles: 0,
      wins: 0,
      losses: 1,
      legWins: 1,
      legLosses: 1,
      closedBundles: 1,
      pnl: $(-1.5),
      maxDrawdown: $(2.5),
    });
    // one closed bundle is not enough for a Sharpe ratio
    expect(st.sharpe).toBe(0);
    expect(sharpeOf([1, 1, 1])).toBe(3);
    expect(sharpeOf([1])).toBe(0);
  });
});
