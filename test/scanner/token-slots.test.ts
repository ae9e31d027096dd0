import { describe, expect, it } from 'vitest';
import { type Market, type OrderBook, OrderBookSchema } from '../../src/core/messages.ts';
import { tokenSlot } from '../../src/core/token-slots.ts';
import { book, KALSHI, market, noOf, PM_FEES_4, scanner, yesOf } from './build.ts';

/** A book stamped with its token's slot, as the venue decoders stamp theirs. */
const slotted = (b: OrderBook): OrderBook => ({ ...b, slot: tokenSlot(b.venue, b.tokenId) });

/** A rebalancing, a cross-venue pair and a group, fed books with or without slots. */
function scenario(stamp: (b: OrderBook) => OrderBook): unknown[] {
  const { s } = scanner();
  const a = market('polymarket', 'slA', PM_FEES_4, { negRiskGroup: 'g' });
  const c = market('polymarket', 'slC', PM_FEES_4, { negRiskGroup: 'g' });
  const k = market('kalshi', 'SLK', KALSHI);
  for (const m of [a, c, k]) s.onMarket(m);
  s.onLink({
    type: 'link',
    a: { venue: a.venue, marketId: a.marketId },
    b: { venue: k.venue, marketId: k.marketId },
    relation: 'identical',
    confidence: 0.95,
    stage: 'rules',
    reasons: [],
    decidedAt: 0,
  });
  const out: unknown[] = [];
  const feed = (m: Market, tok: string, ask: string, bid: string): void => {
    for (const o of s.onBook(stamp(book(m, tok, [[ask, '100']], [[bid, '100']]))))
      out.push([o.kind, o.edge, o.legs.map((l) => [l.tokenId, l.side, l.limitPrice])]);
  };
  feed(a, yesOf(a), '0.40', '0.38');
  feed(a, noOf(a), '0.55', '0.53');
  feed(k, yesOf(k), '0.47', '0.45');
  feed(k, noOf(k), '0.50', '0.48');
  feed(c, yesOf(c), '0.30', '0.28');
  feed(c, noOf(c), '0.72', '0.70');
  feed(a, yesOf(a), '0.41', '0.39');
  return out;
}

describe('scanner: books stamped with token slots', () => {
  it('finds the same opportunities as books without slots', () => {
    const plain = scenario((b) => b);
    expect(plain.length).toBeGreaterThanOrEqual(3);
    expect(scenario(slotted)).toEqual(plain);
  });

  it('never trusts a slot that belongs to another token (a copy of a book made for another token)', () => {
    const { s } = scanner();
    const m = market('polymarket', 'slX', PM_FEES_4);
    const other = market('polymarket', 'slW', PM_FEES_4);
    s.onMarket(m);
    s.onMarket(other);
    const yes = slotted(book(m, yesOf(m), [['0.45', '100']]));
    s.onBook(yes);
    // another market's book carrying this YES token's slot lands in its own market, not in this one
    s.onBook({ ...book(other, yesOf(other), [['0.45', '100']]), slot: yes.slot });
    expect(s.onBook(slotted(book(m, noOf(m), [['0.60', '100']])))).toEqual([]);
    const out = s.onBook({ ...book(other, noOf(other), [['0.50', '100']]), slot: yes.slot });
    expect(out.map((o) => o.legs.map((l) => l.tokenId))).toEqual([[yesOf(other), noOf(other)]]);
    // and the NO book with its market's YES slot still goes to the NO side
    const mine = s.onBook({ ...book(m, noOf(m), [['0.50', '100']]), slot: yes.slot });
    expect(mine.map((o) => o.legs.map((l) => l.tokenId))).toEqual([[yesOf(m), noOf(m)]]);
  });

  it('falls back to the token id for a slot it has no market for, and for another venue', () => {
    const { s } = scanner();
    const m = market('kalshi', 'SLY', KALSHI);
    s.onMarket(m);
    s.onBook({ ...book(m, yesOf(m), [['0.45', '100']]), slot: tokenSlot('kalshi', 'never-listed') });
    // a Polymarket token with the same id has another slot; stamped on the Kalshi book it is not trusted
    const out = s.onBook({ ...book(m, noOf(m), [['0.50', '100']]), slot: tokenSlot('polymarket', noOf(m)) });
    expect(out).toHaveLength(1);
    expect(out[0]!.legs.map((l) => l.tokenId)).toEqual([yesOf(m), noOf(m)]);
  });

  it('a slot is not part of the message: validation at the Redis edge drops it', () => {
    const m = market('kalshi', 'SLZ', KALSHI);
    const b = slotted(book(m, yesOf(m), [['0.45', '100']]));
    expect(b.slot).toBeTypeOf('number');
    const read = OrderBookSchema.parse(JSON.parse(JSON.stringify(b)));
    expect('slot' in read).toBe(false);
  });

  it('numbers a venue token once, densely', () => {
    const a = tokenSlot('polymarket', 'slot-test-a');
    expect(tokenSlot('polymarket', 'slot-test-a')).toBe(a);
    expect(tokenSlot('kalshi', 'slot-test-a')).toBe(a + 1);
    expect(tokenSlot('polymarket', 'slot-test-b')).toBe(a + 2);
  });
});
