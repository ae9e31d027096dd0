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

export interface SimHubOptions extends Omit<SimOptions, 'start'> {
  readonly clock: Clock;
  /** How often the generator catches up with the clock (default 100 ms). */
  readonly intervalMs?: number;
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
  const pump = (): void => {
    const frames = market.advance(clock.now());
    for (const f of frames) {
      const base = f.source.slice(4);
      for (const s of subs) {
        if (s.prefixes.some((p) => base.startsWith(p))) {
          s.count();
          s.onFrame(f);
        }
      }
    }
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
