/**
 * The simulated market's two outputs:
 * - `simulateFrames`: a finite capture (frames with simulated ts, starting at a fixed epoch) that replay and
 *   backtest read like any recorded one; same options → the same frames;
 * - `createSimHub`: a live market on a Clock (the wall clock for `npm start`, a SimClock in tests) that hands
 *   out FrameSources filtered by source prefix, one per venue watcher / oracle agent, all driven by one
 *   generator so the venues and the oracles see the same world.
 */
import type { Clock, TimerHandle } from '../../core/clock.ts';
import type { FrameSource, RawFrame } from '../../feeds/types.ts';
import { SimMarket, type SimOptions } from './market.ts';

export interface SimulateOptions extends SimOptions {
  /** Simulated duration in minutes. */
  readonly minutes: number;
  /** Frames are produced in steps of this many simulated ms (default 1000); does not change the output. */
  readonly stepMs?: number;
}

/** Every frame of a simulated session of `minutes`, in time order. */
export function* simulateFrames(opts: SimulateOptions): Generator<RawFrame> {
  const sim = new SimMarket(opts);
  const end = sim.start + Math.round(opts.minutes * 60_000);
  const step = opts.stepMs ?? 1000;
  for (let t = sim.start; ; t = Math.min(end, t + step)) {
    yield* sim.advance(t);
    if (t >= end) break;
  }
}

/** Frames the generator makes per call when the hub hands them out in slices (bounds a roll-over's batch). */
const SLICE_FRAMES = 500;

export interface SimHubOptions extends Omit<SimOptions, 'start'> {
  readonly clock: Clock;
  /** How often the generator catches up with the clock (default 100 ms). */
  readonly intervalMs?: number;
  /**
   * A running system's hub (wall clock): after handing out frames for this many ms, the rest wait for the next
   * turn of the event loop (setImmediate), so a listing of 100,000 markets does not hold timers, signals and the
   * bus's consumers off for a minute, and the consumers keep up with it instead of queueing all of it at once.
   * Unset (the default, and on a simulated clock): every frame is handed out within the timer tick.
   */
  readonly yieldAfterMs?: number;
}

export interface SimHub {
  readonly market: SimMarket;
  /** A FrameSource of the frames whose source (after `sim.`) starts with one of `prefixes`. */
  source(name: string, prefixes: readonly string[]): FrameSource;
}

export function createSimHub(opts: SimHubOptions): SimHub {
  const clock = opts.clock;
  // The simulated world starts on the whole minute: separate processes (`pm-arb agent … feeds=sim`) started within
  // the same minute with the same seed see the same markets and the same prices at the same times.
  const market = new SimMarket({ ...opts, start: Math.floor(clock.now() / 60_000) * 60_000 });
  const every = opts.intervalMs ?? 100;
  const subs = new Set<{ prefixes: readonly string[]; onFrame: (f: RawFrame) => void; count: () => void }>();
  let timer: TimerHandle | undefined;
  const deliver = (f: RawFrame): void => {
    const base = f.source.slice(4);
    for (const s of subs) {
      if (s.prefixes.some((p) => base.startsWith(p))) {
        s.count();
        s.onFrame(f);
      }
    }
  };
  const yieldAfterMs = opts.yieldAfterMs;
  /**
   * With yieldAfterMs: the frames made but not handed out yet (in order), where the next one is, and the time the
   * generator is catching up with (it makes at most SLICE_FRAMES frames per call, then hands them out).
   */
  let backlog: RawFrame[] = [];
  let next = 0;
  let target = 0;
  let resuming = false;
  const drain = (): void => {
    resuming = false;
    const end = performance.now() + yieldAfterMs!;
    for (;;) {
      if (next >= backlog.length) {
        backlog = [];
        next = 0;
        if (subs.size === 0 || !market.due(target)) return;
        backlog = market.advance(target, SLICE_FRAMES);
        continue;
      }
      deliver(backlog[next]!);
      backlog[next++] = undefined as unknown as RawFrame; // handed out: not kept until the whole batch is
      if (performance.now() >= end && (next < backlog.length || market.due(target))) {
        resuming = true;
        setImmediate(drain);
        return;
      }
    }
  };
  const pump = (): void => {
    if (yieldAfterMs === undefined) {
      for (const f of market.advance(clock.now())) deliver(f);
      return;
    }
    target = clock.now();
    // a tick while a backlog is being handed out: that drain goes on to the new time (order is kept)
    if (resuming) return;
    backlog = market.advance(target, SLICE_FRAMES);
    next = 0;
    drain();
  };
  return {
    market,
    source(name, prefixes) {
      let running = false;
      let frames = 0;
      let lastAt: number | undefined;
      let sub: { prefixes: readonly string[]; onFrame: (f: RawFrame) => void; count: () => void } | undefined;
      return {
        name,
        async start(onFrame) {
          if (running) return;
          running = true;
          sub = {
            prefixes,
            onFrame,
            count: () => {
              frames++;
              lastAt = clock.now();
            },
          };
          subs.add(sub);
          // the generator starts on the first timer tick, so every source started together (the agents of one
          // process) receives the listing; a source started later sees only what happens from then on
          if (!timer) timer = clock.every(every, pump);
        },
        async stop() {
          if (!running) return;
          running = false;
          if (sub) subs.delete(sub);
          if (subs.size === 0) {
            timer?.cancel();
            timer = undefined;
            backlog = []; // nobody left to hand it to
            next = 0;
          }
        },
        health() {
          return {
            connected: running,
            lastMessageAgeMs: lastAt === undefined ? null : clock.now() - lastAt,
            reconnects: 0,
            frames,
          };
        },
      };
    },
  };
}
