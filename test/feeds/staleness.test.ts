import { describe, expect, it } from 'vitest';
import { Staleness } from '../../src/feeds/staleness.ts';

const T0 = 1_800_000_000_000;
const A = 'kalshi:KXA:yes';
const B = 'kalshi:KXB:yes';

describe('staleness: the one decision', () => {
  it('a quiet book on a live, heartbeating feed stays fresh however long nobody trades', () => {
    const s = new Staleness({ heartbeatTimeoutMs: 15_000 });
    s.frame(T0);
    expect(s.update(A, false)).toBe(false);
    // ten minutes: no update for A, but the transport hears the venue's heartbeat every 10 s
    for (let t = T0 + 10_000; t <= T0 + 600_000; t += 10_000)
      s.observe({ connected: true, lastAliveAt: t }, t);
    expect(s.isStale(A)).toBe(false);
    expect(s.reason).toBeNull();
  });

  it('the heartbeat lapses: every book stale; the next frame ends the lapse', () => {
    const s = new Staleness({ heartbeatTimeoutMs: 15_000 });
    s.frame(T0);
    s.update(A, false);
    s.observe({ connected: true, lastAliveAt: T0 }, T0 + 14_999);
    expect(s.isStale(A)).toBe(false);
    s.observe({ connected: true, lastAliveAt: T0 }, T0 + 15_000);
    expect([s.isStale(A), s.reason]).toEqual([true, 'heartbeat']);
    s.frame(T0 + 16_000);
    expect(s.isStale(A)).toBe(false);
  });

  it('a source without heartbeats: the silence counts from frames (or from the first look)', () => {
    const s = new Staleness({ heartbeatTimeoutMs: 1_000 });
    s.observe({ connected: true }, T0);
    s.observe({ connected: true }, T0 + 999);
    expect(s.feedStale).toBe(false);
    s.observe({ connected: true }, T0 + 1_000);
    expect(s.feedStale).toBe(true);
  });

  it('feed down: every book stale until it is up again', () => {
    const s = new Staleness({ heartbeatTimeoutMs: 15_000 });
    s.frame(T0);
    s.update(A, false);
    s.observe({ connected: false }, T0 + 1);
    expect([s.isStale(A), s.reason]).toEqual([true, 'down']);
    s.observe({ connected: true }, T0 + 2);
    expect(s.isStale(A)).toBe(false);
  });

  it("the decoder's flag (sequence gap, no snapshot since a reconnect) is stale until it clears", () => {
    const s = new Staleness({ heartbeatTimeoutMs: 15_000 });
    s.frame(T0);
    expect(s.update(A, true)).toBe(true);
    expect(s.update(B, false)).toBe(false);
    expect(s.update(A, false)).toBe(false);
  });

  it('lost keys (a shard dropped) stay stale until their decoder vouches for them again', () => {
    const s = new Staleness({ heartbeatTimeoutMs: 15_000 });
    s.frame(T0);
    s.update(A, false);
    s.update(B, false);
    s.lost([A]);
    expect([s.isStale(A), s.isStale(B)]).toEqual([true, false]);
    expect(s.update(A, true)).toBe(true); // a delta the decoder itself does not trust
    expect(s.update(A, false)).toBe(false); // its snapshot
    s.forget(A);
    expect(s.isStale(A)).toBe(false);
  });

  it('refuses a non-positive timeout', () => {
    expect(() => new Staleness({ heartbeatTimeoutMs: 0 })).toThrow(/positive/);
  });
});
