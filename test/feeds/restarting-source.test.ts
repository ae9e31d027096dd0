import { describe, expect, it } from 'vitest';
import { SimClock } from '../../src/core/clock.ts';
import { createRestartingSource } from '../../src/feeds/restarting-source.ts';
import type { FrameSource, RawFrame } from '../../src/feeds/types.ts';

/** Sources that fail to start while `down` is set; a stopped one refuses to start again (like a closed client). */
function factory() {
  const made: Array<{ started: boolean; stopped: boolean; emit?: (f: RawFrame) => void }> = [];
  const state = { down: true };
  const create = (): FrameSource => {
    const me: { started: boolean; stopped: boolean; emit?: (f: RawFrame) => void } = {
      started: false,
      stopped: false,
    };
    made.push(me);
    return {
      name: `s${made.length}`,
      async start(cb) {
        if (me.stopped) throw new Error('ClientDestroyedError');
        if (state.down) throw new Error('connect ECONNREFUSED');
        me.started = true;
        me.emit = cb;
      },
      async stop() {
        me.stopped = true;
        me.emit = undefined;
      },
      health: () => ({ connected: me.started && !me.stopped }),
    };
  };
  return { made, state, create };
}

const settle = () => new Promise<void>((r) => setImmediate(r));

describe('restarting source', () => {
  it('a failed start is retried on a fresh source after the backoff, until one starts', async () => {
    const clock = new SimClock(0);
    const f = factory();
    const failures: number[] = [];
    const src = createRestartingSource({
      name: 'venue',
      create: f.create,
      clock,
      backoff: { baseMs: 1_000, maxMs: 4_000, minMs: 0, random: () => 0.5 },
      onFailure: (_e, ms) => failures.push(ms),
    });
    const frames: RawFrame[] = [];
    await src.start((fr) => frames.push(fr));
    expect(src.health()).toMatchObject({ connected: false, startFailures: 1, attempts: 1 });
    clock.advanceTo(500);
    await settle();
    expect(f.made).toHaveLength(2);
    clock.advanceTo(1_500);
    await settle();
    expect(f.made).toHaveLength(3);
    f.state.down = false;
    clock.advanceTo(3_500);
    await settle();
    expect(f.made).toHaveLength(4);
    expect(f.made.slice(0, 3).every((m) => m.stopped)).toBe(true); // every failed one was closed
    expect(src.health()).toMatchObject({ connected: true, startFailures: 3 });
    expect(failures).toEqual([500, 1_000, 2_000]);
    f.made[3]!.emit!({ ts: 1, source: 'x', data: {} });
    expect(frames).toHaveLength(1);
    await src.stop();
    expect(f.made[3]!.stopped).toBe(true);
    clock.advanceTo(100_000);
    await settle();
    expect(f.made).toHaveLength(4); // nothing after stop
  });

  it('a running source that fails later is replaced by a fresh one; frames of the old one are dropped', async () => {
    const clock = new SimClock(0);
    const f = factory();
    f.state.down = false;
    const src = createRestartingSource({
      name: 'venue',
      create: f.create,
      clock,
      backoff: { baseMs: 1_000, maxMs: 1_000, minMs: 1_000 },
    });
    const frames: RawFrame[] = [];
    await src.start((fr) => frames.push(fr));
    const first = f.made[0]!;
    const emitOld = first.emit!;
    src.fail(new Error('down too long'));
    await settle();
    expect(first.stopped).toBe(true);
    emitOld({ ts: 1, source: 'old', data: {} });
    expect(frames).toHaveLength(0);
    clock.advanceTo(1_000);
    await settle();
    expect(f.made).toHaveLength(2);
    expect(src.health()).toMatchObject({ connected: true, startFailures: 1 });
    await src.stop();
  });

  it('reports started only once the current source has started (a slow start is not a failure)', async () => {
    const clock = new SimClock(0);
    let release: (() => void) | undefined;
    const src = createRestartingSource({
      name: 'venue',
      clock,
      create: () => ({
        name: 'slow',
        start: () => new Promise<void>((r) => (release = r)),
        stop: async () => undefined,
        health: () => ({ connected: false }),
      }),
    });
    const starting = src.start(() => undefined);
    await settle();
    expect(src.health()).toMatchObject({ started: false, startFailures: 0 });
    release!();
    await starting;
    expect(src.health()).toMatchObject({ started: true });
    await src.stop();
    expect(src.health()).toMatchObject({ started: false });
  });

  it('stop while a retry is pending cancels it and resolves cleanly', async () => {
    const clock = new SimClock(0);
    const f = factory();
    const src = createRestartingSource({ name: 'venue', create: f.create, clock });
    await src.start(() => undefined);
    await expect(src.stop()).resolves.toBeUndefined();
    clock.advanceTo(600_000);
    await settle();
    expect(f.made).toHaveLength(1);
  });
});
