import { describe, expect, it } from 'vitest';
import { Backoff, seededRandom, sleep } from '../../src/feeds/backoff.ts';

describe('Backoff', () => {
  it('grows the ceiling exponentially up to the cap and jitters inside it', () => {
    const b = new Backoff({ baseMs: 100, maxMs: 1_000, factor: 2, random: seededRandom(7) });
    const ceilings: number[] = [];
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      ceilings.push(b.ceiling());
      delays.push(b.next());
    }
    expect(ceilings).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000]);
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(ceilings[i]!);
    });
    expect(b.attempts).toBe(8);
  });

  it('is deterministic with a seeded random and resets on success', () => {
    const run = () => {
      const b = new Backoff({ baseMs: 50, maxMs: 5_000, random: seededRandom(42) });
      return [b.next(), b.next(), b.next()];
    };
    expect(run()).toEqual(run());
    const b = new Backoff({ baseMs: 50, maxMs: 5_000, random: () => 0.999999 });
    b.next();
    b.next();
    expect(b.ceiling()).toBe(200);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(49);
  });

  it('honours minMs and rejects nonsense options', () => {
    const b = new Backoff({ baseMs: 100, minMs: 20, random: () => 0 });
    expect(b.next()).toBe(20);
    expect(() => new Backoff({ baseMs: 100, maxMs: 10 })).toThrow(/baseMs/);
  });

  it('seededRandom stays in [0, 1)', () => {
    const r = seededRandom(1);
    for (let i = 0; i < 1_000; i++) {
      const v = r();
      expect(v >= 0 && v < 1).toBe(true);
    }
  });

  it('sleep can be aborted', async () => {
    const ctl = new AbortController();
    const p = sleep(10_000, ctl.signal);
    ctl.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
  });
});
