import { describe, expect, it } from 'vitest';
import { createRateLimiter, POLYMARKET_RATE_RULES, TokenBucket } from '../../src/feeds/rate-limit.ts';

/** A manual monotonic clock: waiting advances it, so tests run instantly and deterministically. */
function manualTime() {
  let t = 0;
  const waits: number[] = [];
  return {
    now: () => t,
    wait: async (ms: number) => {
      waits.push(ms);
      t += ms;
    },
    advance: (ms: number) => {
      t += ms;
    },
    waits,
  };
}

describe('TokenBucket', () => {
  it('allows a burst up to capacity, then waits for refill', async () => {
    const clock = manualTime();
    const b = new TokenBucket({ capacity: 3, intervalMs: 300, now: clock.now, wait: clock.wait });
    for (let i = 0; i < 3; i++) expect(b.tryTake()).toBe(true);
    expect(b.tryTake()).toBe(false);
    await b.take(1);
    // one token per 100 ms
    expect(clock.now()).toBe(100);
    expect(clock.waits).toEqual([100]);
  });

  it('refills continuously, never beyond capacity', () => {
    const clock = manualTime();
    const b = new TokenBucket({ capacity: 10, intervalMs: 1_000, now: clock.now, wait: clock.wait });
    expect(b.tryTake(10)).toBe(true);
    clock.advance(500);
    expect(b.available()).toBeCloseTo(5, 9);
    clock.advance(10_000);
    expect(b.available()).toBe(10);
  });

  it('serves waiters in FIFO order', async () => {
    const clock = manualTime();
    const b = new TokenBucket({ capacity: 1, intervalMs: 100, now: clock.now, wait: clock.wait });
    await b.take();
    const order: number[] = [];
    const ps = [1, 2, 3].map((i) => b.take().then(() => order.push(i)));
    expect(b.waiting).toBe(3);
    await Promise.all(ps);
    expect(order).toEqual([1, 2, 3]);
    expect(clock.now()).toBe(300);
    expect(b.waiting).toBe(0);
  });

  it('rejects a cost above capacity', async () => {
    const b = new TokenBucket({ capacity: 2, intervalMs: 100 });
    await expect(b.take(3)).rejects.toThrow(/exceeds/);
  });
});

describe('createRateLimiter', () => {
  it('applies the endpoint rule and the global rule', async () => {
    const clock = manualTime();
    const lim = createRateLimiter({
      rules: {
        'gamma /markets': { capacity: 2, intervalMs: 1_000 },
        '*': { capacity: 3, intervalMs: 3_000 },
      },
      now: clock.now,
      wait: clock.wait,
    });
    await lim.take('gamma /markets');
    await lim.take('gamma /markets');
    await lim.take('gamma /events'); // only '*': its third token
    expect(clock.now()).toBe(0);
    await lim.take('gamma /events'); // '*' is empty: waits 1 s for one token
    expect(clock.now()).toBe(1_000);
    expect(lim.bucket('gamma /markets')?.capacity).toBe(2);
    expect(lim.bucket('nope')).toBeUndefined();
  });

  it('ships the Polymarket limits of API notes P12', () => {
    expect(POLYMARKET_RATE_RULES['gamma /markets']).toEqual({ capacity: 300, intervalMs: 10_000 });
    expect(POLYMARKET_RATE_RULES['gamma /events']).toEqual({ capacity: 500, intervalMs: 10_000 });
    expect(POLYMARKET_RATE_RULES['clob /book']).toEqual({ capacity: 1_500, intervalMs: 10_000 });
    expect(POLYMARKET_RATE_RULES['clob /books']).toEqual({ capacity: 500, intervalMs: 10_000 });
  });
});
