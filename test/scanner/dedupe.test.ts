import { describe, expect, it } from 'vitest';
import { book, market, noOf, PM_FEES_4, scanner, yesOf } from './build.ts';

describe('dedupe: an unchanged opportunity is published once per expiry', () => {
  const setup = (extra: Parameters<typeof scanner>[1] = {}) => {
    const r = scanner(1_000, { ttlMs: 2_000, ...extra });
    const m = market('polymarket', 'pm1', PM_FEES_4);
    r.s.onMarket(m);
    r.s.onBook(book(m, yesOf(m), [['0.45', '100']]));
    return { ...r, m };
  };

  it('suppresses a repeat with the same legs, size and edge until it expires, then publishes it again', () => {
    const { s, clock, m } = setup();
    const first = s.onBook(book(m, noOf(m), [['0.50', '100']]));
    expect(first).toHaveLength(1);
    // the same book again, and an update of the other side that changes nothing sized: nothing new
    clock.t = 1_500;
    expect(s.onBook(book(m, noOf(m), [['0.50', '100']], [], { receiveTime: 1_500 }))).toEqual([]);
    expect(s.onBook(book(m, yesOf(m), [['0.45', '100']], [['0.01', '5']], { receiveTime: 1_500 }))).toEqual(
      [],
    );
    expect(s.stats.unchanged).toBe(2);
    // past the first emission's expiresAt: published again, with a new id and fresh times
    clock.t = first[0]!.expiresAt;
    const again = s.onBook(book(m, noOf(m), [['0.50', '100']], [], { receiveTime: clock.t }));
    expect(again).toHaveLength(1);
    expect(again[0]!.id).not.toBe(first[0]!.id);
    expect(again[0]!.detectedAt).toBe(clock.t);
    expect({ ...again[0]!, id: '', detectedAt: 0, expiresAt: 0, data: [] }).toEqual({
      ...first[0]!,
      id: '',
      detectedAt: 0,
      expiresAt: 0,
      data: [],
    });
  });

  it('publishes at once when the edge, the size or a limit price changes', () => {
    const { s, clock, m } = setup();
    const [a] = s.onBook(book(m, noOf(m), [['0.50', '100']]));
    clock.t = 1_100;
    // a cheaper NO: the edge changes
    const [b] = s.onBook(book(m, noOf(m), [['0.49', '100']], [], { receiveTime: 1_100 }));
    expect(b!.edge).toBeGreaterThan(a!.edge);
    // less depth: the size changes
    const [c] = s.onBook(book(m, noOf(m), [['0.49', '60']], [], { receiveTime: 1_100 }));
    expect(c!.shares).toBe(60_000_000);
    // back to the first state: differs from the last emission, so it is published
    expect(s.onBook(book(m, noOf(m), [['0.50', '100']], [], { receiveTime: 1_100 }))).toHaveLength(1);
  });

  it('dedupe: false publishes on every update', () => {
    const { s, m } = setup({ dedupe: false });
    expect(s.onBook(book(m, noOf(m), [['0.50', '100']]))).toHaveLength(1);
    expect(s.onBook(book(m, noOf(m), [['0.50', '100']]))).toHaveLength(1);
    expect(s.stats.unchanged).toBe(0);
  });

  it('forgets expired emissions: what it keeps for dedupe does not grow with every market that ever had one', () => {
    const r = scanner(1_000, { ttlMs: 2_000 });
    const kept = (): number => (r.s as unknown as { emitted: Map<string, unknown> }).emitted.size;
    for (let i = 0; i < 50; i++) {
      const m = market('polymarket', `pm${i}`, PM_FEES_4);
      r.s.onMarket(m);
      r.s.onBook(book(m, yesOf(m), [['0.45', '100']]));
      expect(r.s.onBook(book(m, noOf(m), [['0.50', '100']]))).toHaveLength(1);
    }
    expect(kept()).toBe(50);
    // later, one more market: the 50 earlier emissions have expired and are dropped
    r.clock.t = 1_000 + 2_000;
    const m = market('polymarket', 'late', PM_FEES_4);
    r.s.onMarket(m);
    r.s.onBook(book(m, yesOf(m), [['0.45', '100']], [], { receiveTime: r.clock.t }));
    expect(r.s.onBook(book(m, noOf(m), [['0.50', '100']], [], { receiveTime: r.clock.t }))).toHaveLength(1);
    expect(kept()).toBe(1);
  });
});
