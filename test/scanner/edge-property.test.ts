/**
 * Property: an opportunity's stated edge is exactly what filling its legs against the unchanged book, at the stated
 * share counts and limit prices, with the venue's fee per fill (one fill per level), would realize.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tradeFee } from '../../src/core/fees.ts';
import type { FeeSchedule, MarketLink, Opportunity, OrderBook } from '../../src/core/messages.ts';
import { MICRO, mulDiv } from '../../src/core/money.ts';
import { market, noOf, scanner, yesOf } from './build.ts';

const feeArb: fc.Arbitrary<FeeSchedule> = fc.oneof(
  fc.constant<FeeSchedule>({ kind: 'none' }),
  fc.integer({ min: 0, max: 100_000 }).map<FeeSchedule>((rate) => ({
    kind: 'polymarket',
    rate,
    exponent: 1,
    takerOnly: true,
    rebateRate: 0,
  })),
  fc.constant<FeeSchedule>({ kind: 'kalshi', takerCoeff: 70_000, makerCoeff: 0 }),
);

/** A side of a book: 1–4 levels on a cent grid, sizes 1–300 shares (some fractional). */
const sideArb = (ascending: boolean) =>
  fc
    .uniqueArray(fc.integer({ min: 1, max: 99 }), { minLength: 1, maxLength: 4 })
    .chain((cents) =>
      fc.tuple(
        fc.constant(cents.sort((a, b) => (ascending ? a - b : b - a))),
        fc.array(fc.integer({ min: 1, max: 30_000 }), { minLength: cents.length, maxLength: cents.length }),
      ),
    )
    .map(([cents, sizes]) => cents.map((c, i) => [c * 10_000, sizes[i]! * 10_000] as [number, number]));

/** Independent fill: walk the book up to the limit for `shares`, fee per level. */
function realize(
  o: Opportunity,
  books: Map<string, OrderBook>,
  fees: Map<string, FeeSchedule>,
  settle: number,
): number {
  let cash = 0;
  for (const leg of o.legs) {
    const b = books.get(leg.tokenId)!;
    const levels = leg.side === 'buy' ? b.asks : b.bids;
    let left = leg.shares;
    for (const [p, s] of levels) {
      if (left === 0) break;
      if (leg.side === 'buy' ? p! > leg.limitPrice : p! < leg.limitPrice) break;
      const q = Math.min(s!, left);
      const n = mulDiv(p!, q, MICRO, 'round');
      cash += leg.side === 'buy' ? -n : n;
      cash -= tradeFee(fees.get(leg.tokenId)!, p!, q, 'taker', leg.side);
      left -= q;
    }
    if (left !== 0) throw new Error('leg could not be filled at its limit');
  }
  return cash + mulDiv(settle, o.shares, MICRO, 'floor');
}

describe('stated edge = realized edge', () => {
  it('rebalancing, cross-venue and combinatorial opportunities', () => {
    let seen = 0;
    fc.assert(
      fc.property(
        feeArb,
        feeArb,
        sideArb(true),
        sideArb(true),
        sideArb(false),
        sideArb(false),
        sideArb(true),
        sideArb(true),
        fc.constantFrom<MarketLink['relation']>('identical', 'inverted', 'implies', 'exclusive'),
        (fa, fb, yesAsk, noAsk, yesBid, noBid, bYesAsk, bNoAsk, relation) => {
          const { s } = scanner();
          const a = market('polymarket', 'A', fa);
          const b = market('kalshi', 'B', fb);
          s.onMarket(a);
          s.onMarket(b);
          const l: MarketLink = {
            type: 'link',
            a: { venue: 'polymarket', marketId: 'A' },
            b: { venue: 'kalshi', marketId: 'B' },
            relation,
            confidence: 1,
            stage: 'manual',
            reasons: [],
            decidedAt: 0,
          };
          s.onLink(l);
          const mk = (
            m: typeof a,
            token: string,
            asks: [number, number][],
            bids: [number, number][],
          ): OrderBook => ({
            type: 'book',
            venue: m.venue,
            marketId: m.marketId,
            tokenId: token,
            asks,
            bids,
            stale: false,
            receiveTime: 1_000,
          });
          const books = new Map<string, OrderBook>([
            [yesOf(a), mk(a, yesOf(a), yesAsk, yesBid)],
            [noOf(a), mk(a, noOf(a), noAsk, noBid)],
            [yesOf(b), mk(b, yesOf(b), bYesAsk, [])],
            [noOf(b), mk(b, noOf(b), bNoAsk, [])],
          ]);
          const fees = new Map<string, FeeSchedule>([
            [yesOf(a), fa],
            [noOf(a), fa],
            [yesOf(b), fb],
            [noOf(b), fb],
          ]);
          const opps: Opportunity[] = [];
          for (const bk of books.values()) opps.push(...s.onBook(bk));
          seen += opps.length;
          for (const o of opps) {
            const settle = o.legs[0]!.side === 'sell' ? -MICRO : MICRO;
            expect(realize(o, books, fees, settle)).toBe(o.edge);
            expect(o.edge).toBeGreaterThan(0);
            for (const leg of o.legs) expect(leg.shares).toBe(o.shares);
          }
        },
      ),
      { numRuns: 400 },
    );
    // the generator must actually produce opportunities for the property to mean anything
    expect(seen).toBeGreaterThan(50);
  });
});
