/** A resolved market's state is dropped from the scanner, once, and what the others evaluate does not change. */
import { describe, expect, it } from 'vitest';
import type { Market, MarketLink } from '../../src/core/messages.ts';
import { book, KALSHI, market, NO_FEES, noOf, PM_FEES_4, scanner, yesOf } from './build.ts';

const link = (a: Market, b: Market, relation: MarketLink['relation']): MarketLink => ({
  type: 'link',
  a: { venue: a.venue, marketId: a.marketId },
  b: { venue: b.venue, marketId: b.marketId },
  relation,
  confidence: 0.95,
  stage: 'rules',
  reasons: [],
  decidedAt: 0,
});
const resolved = (m: Market): Market => ({ ...m, status: 'resolved', winner: yesOf(m) });

describe('scanner: resolved markets', () => {
  it('drops a resolved market (twice is once), and a late book of its token is not priced', () => {
    const { s } = scanner();
    const a = market('polymarket', 'pmA', NO_FEES);
    const b = market('polymarket', 'pmB', NO_FEES);
    s.onMarket(a);
    s.onMarket(b);
    expect(s.marketCount).toBe(2);
    s.onMarket(resolved(a));
    s.onMarket(resolved(a));
    expect(s.marketCount).toBe(1);
    s.onBook(book(a, yesOf(a), [['0.30', '100']]));
    expect(s.onBook(book(a, noOf(a), [['0.30', '100']]))).toEqual([]);
    // the other market still trades
    s.onBook(book(b, yesOf(b), [['0.30', '100']]));
    expect(s.onBook(book(b, noOf(b), [['0.30', '100']])).map((o) => o.kind)).toEqual(['rebalancing']);
  });

  it('unlinks a resolved market from the markets linked to it; their other links still price', () => {
    const { s } = scanner();
    const a = market('polymarket', 'pmA', PM_FEES_4);
    const b = market('kalshi', 'KXB', KALSHI);
    const c = market('kalshi', 'KXC', KALSHI);
    for (const m of [a, b, c]) s.onMarket(m);
    s.onLink(link(a, b, 'identical'));
    s.onLink(link(a, c, 'identical'));
    s.onMarket(resolved(b));
    s.onBook(book(a, yesOf(a), [['0.40', '100']]));
    s.onBook(book(a, noOf(a), [['0.62', '100']]));
    s.onBook(book(c, yesOf(c), [['0.47', '100']]));
    const out = s.onBook(book(c, noOf(c), [['0.55', '100']])).filter((o) => o.kind === 'cross_venue');
    expect(out.map((o) => o.legs.map((l) => l.tokenId))).toEqual([[yesOf(a), noOf(c)]]);
  });

  it('a negRisk group that lost a member to resolution is never priced again', () => {
    const { s } = scanner();
    const ms = ['a', 'b', 'c'].map((id) => market('polymarket', id, NO_FEES, { negRiskGroup: 'g1' }));
    for (const m of ms) s.onMarket(m);
    s.onMarket(resolved(ms[2]!));
    s.onBook(book(ms[0]!, yesOf(ms[0]!), [['0.30', '100']]));
    const out = s.onBook(book(ms[1]!, yesOf(ms[1]!), [['0.30', '100']]));
    expect(out.filter((o) => o.legs.length === 2 && o.kind === 'rebalancing')).toEqual([]);
  });

  it('a late book of a resolved token waits at most historyMs for a market; a book before its listing is still used', () => {
    const { s, clock } = scanner(1_000, { historyMs: 60_000 });
    const a = market('polymarket', 'pmA', NO_FEES);
    const b = market('polymarket', 'pmB', NO_FEES);
    s.onMarket(a);
    s.onMarket(resolved(a));
    s.onBook(book(a, yesOf(a), [['0.30', '100']]));
    expect(s.earlyCount).toBe(1);
    // a book of a market not listed yet, past the horizon: the late one is dropped, the new one kept
    clock.t += 60_001;
    s.onBook(book(b, yesOf(b), [['0.30', '100']]));
    expect(s.earlyCount).toBe(1);
    s.onMarket(b);
    expect(s.earlyCount).toBe(0);
    // its early book is in place: the NO book completes the rebalancing pair
    expect(s.onBook(book(b, noOf(b), [['0.30', '100']])).map((o) => o.kind)).toEqual(['rebalancing']);
  });
});
