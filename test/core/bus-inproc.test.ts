import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createInProcBus } from '../../src/core/bus/inproc.ts';
import { channels, type DeadLetter } from '../../src/core/channels.ts';
import { SimClock } from '../../src/core/clock.ts';
import { busContract } from '../contract/bus-contract.ts';

busContract('inproc', async (o) => createInProcBus({ maxLen: o?.maxLen ?? 10_000 }), {
  visibilityMs: 200,
  shared: false,
  retentionSlack: 0,
});

// the running system's bus, which lets the event loop in during long drains: the same contract holds
busContract(
  'inproc, yielding',
  async (o) => createInProcBus({ maxLen: o?.maxLen ?? 10_000, yieldAfterMs: 0 }),
  {
    visibilityMs: 200,
    shared: false,
    retentionSlack: 0,
  },
);

describe('in-process bus: long drains', () => {
  const Body = z.object({ n: z.number() });
  const ch = channels.custom('long-drain', Body);
  const burst = async (yieldAfterMs: number | undefined, asyncHandler = false) => {
    const bus = createInProcBus(yieldAfterMs === undefined ? {} : { yieldAfterMs });
    const seen: number[] = [];
    let seenWhenTimerRan = -1;
    const work = (n: number): void => {
      seen.push(n);
      const end = performance.now() + 0.05; // a handler with some work in it
      while (performance.now() < end);
    };
    bus.subscribe(ch, { group: 'g' }, asyncHandler ? async (m) => work(m.body.n) : (m) => work(m.body.n));
    setTimeout(() => {
      seenWhenTimerRan = seen.length;
    }, 0);
    for (let n = 0; n < 2_000; n++) bus.publish(ch, { n });
    await bus.idle();
    await bus.close();
    return { seen, seenWhenTimerRan };
  };

  it('with yieldAfterMs, a timer runs in the middle of a burst, and every message still arrives once, in order', async () => {
    const { seen, seenWhenTimerRan } = await burst(5);
    expect(seen).toEqual(Array.from({ length: 2_000 }, (_, i) => i));
    expect(seenWhenTimerRan).toBeGreaterThan(0);
    expect(seenWhenTimerRan).toBeLessThan(2_000);
  });

  it('with yieldAfterMs and an async handler (one message per drain), a timer still gets in', async () => {
    const { seen, seenWhenTimerRan } = await burst(5, true);
    expect(seen).toEqual(Array.from({ length: 2_000 }, (_, i) => i));
    expect(seenWhenTimerRan).toBeGreaterThan(0);
    expect(seenWhenTimerRan).toBeLessThan(2_000);
  });

  it('without it (backtests), a burst drains in microtasks before any timer', async () => {
    const { seen, seenWhenTimerRan } = await burst(undefined);
    expect(seen).toHaveLength(2_000);
    expect(seenWhenTimerRan).toBe(-1); // the timer had not run when the burst was over
  });
});

describe('in-process bus on a simulated clock', () => {
  const Body = z.object({ n: z.number() });
  const ch = channels.custom('sim-visibility', Body);

  it('redelivers an unacked message when the clock passes its visibility deadline, not before', async () => {
    const clock = new SimClock(1_000);
    const bus = createInProcBus({ name: 'sim', clock });
    const seen: { consumer: string; attempt: number }[] = [];
    for (const consumer of ['a', 'b']) {
      bus.subscribe(ch, { group: 'g', consumer, ack: 'manual', visibilityTimeoutMs: 30_000 }, (m) => {
        seen.push({ consumer, attempt: m.attempt });
      });
    }
    bus.publish(ch, { n: 1 });
    await bus.idle();
    expect(seen).toEqual([{ consumer: 'a', attempt: 1 }]);
    clock.advanceTo(1_000 + 29_999);
    await bus.idle();
    expect(seen).toHaveLength(1);
    clock.advanceTo(1_000 + 30_000);
    await bus.idle();
    expect(seen).toEqual([
      { consumer: 'a', attempt: 1 },
      { consumer: 'b', attempt: 2 },
    ]);
    await bus.close();
  });

  it('stamps dead letters with the clock time and leaves no timer once everything is acked', async () => {
    const clock = new SimClock(5_000);
    const bus = createInProcBus({ name: 'sim2', clock });
    const dead: DeadLetter[] = [];
    bus.subscribe(channels.deadLetter(ch), { group: 'd' }, (m) => {
      dead.push(m.body);
    });
    bus.subscribe(ch, { group: 'g', ack: 'manual', maxAttempts: 1, visibilityTimeoutMs: 100 }, () => {});
    bus.publish(ch, { n: 2 });
    await bus.idle();
    clock.advanceTo(5_100);
    await bus.idle();
    expect(dead).toMatchObject([{ messageId: expect.any(String), attempts: 1, ts: 5_100 }]);
    expect(clock.pendingTimers()).toBe(0);
    await bus.close();
  });
});

describe('in-process bus: idle and delivery order', () => {
  const Body = z.object({ n: z.number() });
  const ch = channels.custom('idle-waiters', Body);

  it('wakes every idle() waiter in the order they asked once the work is done, and a later one waits anew', async () => {
    const bus = createInProcBus({ name: 'idle' });
    const seen: string[] = [];
    bus.subscribe(ch, { group: 'g' }, async (m) => {
      seen.push(`handled ${m.body.n}`);
    });
    bus.publish(ch, { n: 1 });
    const waits = [1, 2, 3].map((w) => bus.idle().then(() => seen.push(`woke ${w}`)));
    await Promise.all(waits);
    expect(seen).toEqual(['handled 1', 'woke 1', 'woke 2', 'woke 3']);
    bus.publish(ch, { n: 2 });
    await bus.idle();
    expect(seen.at(-1)).toBe('handled 2');
  });

  it('delivers in publish order to each group, with one consumer paused (the others take its share)', async () => {
    const bus = createInProcBus({ name: 'order' });
    const got: Record<string, number[]> = { a: [], b: [], c: [] };
    const subs = ['a', 'b'].map((c) =>
      bus.subscribe(ch, { group: 'g', consumer: c }, (m) => {
        got[c]!.push(m.body.n);
      }),
    );
    bus.subscribe(ch, { group: 'h', consumer: 'c' }, (m) => {
      got.c!.push(m.body.n);
    });
    subs[1]!.pause();
    for (let n = 1; n <= 4; n++) bus.publish(ch, { n });
    await bus.idle();
    expect(got.a).toEqual([1, 2, 3, 4]);
    expect(got.b).toEqual([]);
    expect(got.c).toEqual([1, 2, 3, 4]);
  });
});

describe('in-process bus: drain order', () => {
  const Body = z.object({ n: z.number() });
  it('runs the groups one publish wakes, then what they published and the promise reactions they queued, in turn', async () => {
    // as if each group's drain were its own microtask: A's reaction (F) and the drain of C it woke both come after
    // B, the other group of the same message; C before F, as C was woken first
    const bus = createInProcBus();
    const x = channels.custom('order-x', Body);
    const y = channels.custom('order-y', Body);
    const log: string[] = [];
    bus.subscribe(x, { group: 'A' }, () => {
      log.push('A');
      bus.publish(y, { n: 1 });
      void Promise.resolve().then(() => log.push('F'));
    });
    bus.subscribe(x, { group: 'B' }, () => {
      log.push('B');
    });
    bus.subscribe(y, { group: 'C' }, () => {
      log.push('C');
    });
    bus.publish(x, { n: 0 });
    void Promise.resolve().then(() => log.push('G')); // queued by the publisher after its publish
    await bus.idle();
    await new Promise((r) => setTimeout(r, 0));
    expect(log).toEqual(['A', 'B', 'G', 'C', 'F']);
  });
});
