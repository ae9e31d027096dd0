/**
 * The bus's FIFO (a ring buffer): any sequence of push, unshift, shift and drainAll behaves like an array used as
 * a queue, across growth and wrap-around.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/core/bus/fifo.ts';

type Op =
  | { op: 'push' | 'unshift'; v: number }
  | { op: 'shift' }
  | { op: 'drain' }
  | { op: 'has'; v: number };

const ops = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('push' as const), v: fc.integer() }),
    fc.record({ op: fc.constant('unshift' as const), v: fc.integer() }),
    fc.record({ op: fc.constant('shift' as const) }),
    fc.record({ op: fc.constant('drain' as const) }),
    fc.record({ op: fc.constant('has' as const), v: fc.integer({ min: -3, max: 3 }) }),
  ),
  { maxLength: 300 },
);

describe('Fifo', () => {
  it('matches an array queue for any sequence of operations', () => {
    fc.assert(
      fc.property(ops, (seq: Op[]) => {
        const q = new Fifo<number>();
        const model: number[] = [];
        for (const o of seq) {
          if (o.op === 'push') {
            q.push(o.v);
            model.push(o.v);
          } else if (o.op === 'unshift') {
            q.unshift(o.v);
            model.unshift(o.v);
          } else if (o.op === 'shift') expect(q.shift()).toBe(model.shift());
          else if (o.op === 'drain') expect(q.drainAll()).toEqual(model.splice(0));
          else expect(q.has((x) => x === o.v)).toBe(model.includes(o.v));
          expect(q.length).toBe(model.length);
        }
        expect(q.drainAll()).toEqual(model);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps order through growth past its first capacity and many wrap-arounds', () => {
    const q = new Fifo<number>();
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < (round % 37) + 1; i++) q.push(next++);
      for (let i = 0; i < (round % 23) + 1 && q.length > 0; i++) expect(q.shift()).toBe(expected++);
    }
    while (q.length > 0) expect(q.shift()).toBe(expected++);
    expect(expected).toBe(next);
    expect(q.shift()).toBeUndefined();
  });

  it('stays a queue after a burst past the shrink size is drained (the ring goes back to small)', () => {
    const q = new Fifo<number>();
    for (let burst = 0; burst < 3; burst++) {
      for (let i = 0; i < 40_000; i++) q.push(i);
      q.unshift(-1);
      expect(q.shift()).toBe(-1);
      for (let i = 0; i < 40_000; i++) expect(q.shift()).toBe(i);
      expect(q.length).toBe(0);
      q.push(7);
      q.unshift(6);
      expect(q.drainAll()).toEqual([6, 7]);
    }
  });
});
