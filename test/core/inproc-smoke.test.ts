import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createInProcBus } from '../../src/core/bus/inproc.ts';
import { channels } from '../../src/core/channels.ts';

describe('inproc bus smoke', () => {
  it('delivers to each group, shares within a group', async () => {
    const bus = createInProcBus();
    const ch = channels.custom('smoke', z.object({ n: z.number() }));
    const a: number[] = [];
    const b1: number[] = [];
    const b2: number[] = [];
    bus.subscribe(ch, { group: 'a' }, (m) => {
      a.push(m.body.n);
    });
    bus.subscribe(ch, { group: 'b' }, (m) => {
      b1.push(m.body.n);
    });
    bus.subscribe(ch, { group: 'b' }, async (m) => {
      b2.push(m.body.n);
    });
    for (let i = 0; i < 10; i++) bus.publish(ch, { n: i });
    await bus.idle();
    expect(a).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...b1, ...b2].sort((x, y) => x - y)).toEqual(a);
    expect(b1.length).toBe(5);
    await bus.close();
  });
});
