import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { onTick, PaperBooks, walkLevels } from '../../src/execution/paper.ts';
import { $, book, market, sh } from '../risk/fixtures.ts';

const poly = market('polymarket', 'm1');
const polyFees = market('polymarket', 'm1', {
  fees: { kind: 'polymarket', rate: 70_000, exponent: 1, takerOnly: true, rebateRate: 0 },
});
const kalshi = market('kalshi', 'k1');

function books(): PaperBooks {
  const b = new PaperBooks();
  b.onBook(
    book(
      'polymarket',
      'm1',
      'm1-yes',
      [
        [0.38, 10],
        [0.37, 30],
      ],
      [
        [0.4, 10],
        [0.42, 20],
        [0.45, 50],
      ],
    ),
  );
  b.onBook(
    book(
      'kalshi',
      'k1',
      'k1-yes',
      [[0.38, 10]],
      [
        [0.4, 10],
        [0.41, 10],
      ],
    ),
  );
  return b;
}

describe('paper fill model', () => {
  it('walks the asks level by level up to the limit', () => {
    const r = books().take(poly, 'm1-yes', { side: 'buy', limitPrice: $(0.43), shares: sh(25) });
    expect(r.pieces.map((p) => [p.price, p.shares])).toEqual([
      [$(0.4), sh(10)],
      [$(0.42), sh(15)],
    ]);
    expect(r.filled).toBe(sh(25));
    expect(r.gross).toBe($(4) + $(6.3));
    expect(r.reason).toBeUndefined();
  });

  it('fills partially when depth within the limit runs out', () => {
    const r = books().take(poly, 'm1-yes', { side: 'buy', limitPrice: $(0.42), shares: sh(100) });
    expect(r.filled).toBe(sh(30));
    expect(r.reason).toMatch(/depth exhausted/);
  });

  it('sells walk the bids down to the limit', () => {
    const r = books().take(poly, 'm1-yes', { side: 'sell', limitPrice: $(0.37), shares: sh(15) });
    expect(r.pieces.map((p) => [p.price, p.shares])).toEqual([
      [$(0.38), sh(10)],
      [$(0.37), sh(5)],
    ]);
  });

  it('nothing fills when the limit is below the best ask', () => {
    const r = books().take(poly, 'm1-yes', { side: 'buy', limitPrice: $(0.39), shares: sh(10) });
    expect(r.filled).toBe(0);
    expect(r.reason).toMatch(/no liquidity/);
  });

  it('charges the Polymarket taker fee per fill: 10 × 0.07 × 0.4 × 0.6 = $0.168', () => {
    const r = books().take(polyFees, 'm1-yes', { side: 'buy', limitPrice: $(0.4), shares: sh(10) });
    expect(r.fees).toBe($(0.168));
    expect(r.pieces[0]!.liquidity).toBe('taker');
  });

  it('charges the Kalshi taker fee per fill, rounded up to the cent', () => {
    const r = books().take(kalshi, 'k1-yes', { side: 'buy', limitPrice: $(0.41), shares: sh(12) });
    // 10 @ 0.40: ceil(0.168) = 0.17; 2 @ 0.41: ceil(0.07 × 2 × 0.41 × 0.59 = 0.033866) = 0.04
    expect(r.pieces.map((p) => p.fee)).toEqual([$(0.17), $(0.04)]);
    expect(r.fees).toBe($(0.21));
  });

  it('moves the limit onto the tick grid conservatively', () => {
    expect(onTick($(0.4234), $(0.01), 'buy')).toBe($(0.42));
    expect(onTick($(0.4234), $(0.01), 'sell')).toBe($(0.43));
    const r = books().take(poly, 'm1-yes', { side: 'buy', limitPrice: $(0.4199), shares: sh(25) });
    expect(r.filled).toBe(sh(10)); // 0.4199 → 0.41: the 0.42 level is out of reach
  });

  it('enforces the minimum size and the lot', () => {
    expect(books().take(poly, 'm1-yes', { side: 'buy', limitPrice: $(0.5), shares: sh(4) }).reason).toMatch(
      /minimum/,
    );
    const k = books().take(kalshi, 'k1-yes', { side: 'buy', limitPrice: $(0.5), shares: sh(2.5) });
    expect(k.filled).toBe(sh(2));
  });

  it('does not fill the same liquidity twice until the book updates', () => {
    const b = books();
    expect(b.take(poly, 'm1-yes', { side: 'buy', limitPrice: $(0.4), shares: sh(8) }).filled).toBe(sh(8));
    expect(b.take(poly, 'm1-yes', { side: 'buy', limitPrice: $(0.4), shares: sh(8) }).filled).toBe(sh(2));
    expect(b.best('polymarket', 'm1-yes', 'ask')).toBe($(0.42));
    b.onBook(book('polymarket', 'm1', 'm1-yes', [], [[0.4, 10]]));
    expect(b.take(poly, 'm1-yes', { side: 'buy', limitPrice: $(0.4), shares: sh(8) }).filled).toBe(sh(8));
  });

  it('a dry run takes nothing', () => {
    const b = books();
    expect(b.take(poly, 'm1-yes', { side: 'buy', limitPrice: $(0.4), shares: sh(10) }, false).filled).toBe(
      sh(10),
    );
    expect(b.take(poly, 'm1-yes', { side: 'buy', limitPrice: $(0.4), shares: sh(10) }).filled).toBe(sh(10));
  });

  it('a stale or missing book fills nothing', () => {
    const b = new PaperBooks();
    expect(b.take(poly, 'm1-yes', { side: 'buy', limitPrice: $(0.5), shares: sh(10) }).reason).toMatch(
      /no book/,
    );
    b.onBook({ ...book('polymarket', 'm1', 'm1-yes', [], [[0.4, 10]]), stale: true });
    expect(b.take(poly, 'm1-yes', { side: 'buy', limitPrice: $(0.5), shares: sh(10) }).reason).toMatch(
      /stale/,
    );
  });

  it('a resting order fills as maker at its own limit when the book crosses it', () => {
    const b = new PaperBooks();
    b.onBook(
      book(
        'polymarket',
        'm1',
        'm1-yes',
        [],
        [
          [0.39, 5],
          [0.4, 3],
          [0.41, 50],
        ],
      ),
    );
    const r = b.crossResting(polyFees, 'm1-yes', 'buy', $(0.4), sh(10));
    expect(r.pieces).toEqual([{ price: $(0.4), shares: sh(8), fee: 0, liquidity: 'maker' }]);
  });

  it('walkLevels skips taken liquidity and respects the lot', () => {
    const taken = new Map([[$(0.4), sh(9.5)]]);
    expect(
      walkLevels(
        [
          [$(0.4), sh(10)],
          [$(0.5), sh(10)],
        ],
        'buy',
        $(0.5),
        sh(3),
        sh(1),
        taken,
      ),
    ).toEqual([[$(0.5), sh(3)]]);
  });
});

describe('paper fill model: properties', () => {
  const levels = fc.array(fc.tuple(fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 500 })), {
    maxLength: 8,
  });
  it('never fills past the limit, the size asked or the depth, and never the same liquidity twice', () => {
    fc.assert(
      fc.property(
        levels,
        levels,
        fc.array(
          fc.record({
            buy: fc.boolean(),
            limit: fc.integer({ min: 1, max: 99 }),
            shares: fc.integer({ min: 5, max: 800 }),
          }),
          {
            maxLength: 6,
          },
        ),
        (bidsRaw, asksRaw, orders) => {
          const uniq = (ls: [number, number][]) => [...new Map(ls.map(([p, s]) => [p, s])).entries()];
          const bids = uniq(bidsRaw).sort((a, b) => b[0] - a[0]);
          const asks = uniq(asksRaw).sort((a, b) => a[0] - b[0]);
          const b = new PaperBooks();
          b.onBook(
            book(
              'polymarket',
              'm1',
              'm1-yes',
              bids.map(([p, s]) => [p / 100, s]),
              asks.map(([p, s]) => [p / 100, s]),
            ),
          );
          const taken = new Map<string, number>();
          for (const o of orders) {
            const r = b.take(polyFees, 'm1-yes', {
              side: o.buy ? 'buy' : 'sell',
              limitPrice: o.limit * 10_000,
              shares: sh(o.shares),
            });
            expect(r.filled).toBeLessThanOrEqual(sh(o.shares));
            expect(r.filled).toBe(r.pieces.reduce((a, p) => a + p.shares, 0));
            for (const p of r.pieces) {
              if (o.buy) expect(p.price).toBeLessThanOrEqual(o.limit * 10_000);
              else expect(p.price).toBeGreaterThanOrEqual(o.limit * 10_000);
              expect(p.fee).toBeGreaterThanOrEqual(0);
              const k = `${o.buy ? 'a' : 'b'}${p.price}`;
              taken.set(k, (taken.get(k) ?? 0) + p.shares);
            }
          }
          for (const [p, s] of asks) expect(taken.get(`a${p * 10_000}`) ?? 0).toBeLessThanOrEqual(sh(s));
          for (const [p, s] of bids) expect(taken.get(`b${p * 10_000}`) ?? 0).toBeLessThanOrEqual(sh(s));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('paper books of a resolved market', () => {
  it('forget drops one instrument and leaves the others', () => {
    const b = books();
    b.forget('polymarket', 'm1-yes');
    expect(b.get('polymarket', 'm1-yes')).toBeUndefined();
    expect(b.best('kalshi', 'k1-yes', 'ask')).toBe($(0.4));
  });
});
