/**
 * The replay engine: raw frames → the venues' real decoders → FeedEvents on the bus, on a simulated clock.
 *
 * For each frame, in order: the SimClock advances to `frame.ts` (due timers fire first, in time order), the frame
 * is routed to its decoder (the same parse code that runs live; `sim.` sources go to the same decoders), and every
 * FeedEvent is published on its channel (markets/books/trades per venue, resolutions, ticks per source). Every
 * `idleEvery` frames the engine awaits `bus.idle()`, so downstream agents keep up and memory stays bounded.
 *
 * Used by `pm-arb replay` and by the backtest. Usage:
 *
 *   const clock = new SimClock();
 *   const result = await replay({ frames: readCapture(path), clock, decoders: createDecoders(), publish: kernel.bus });
 *   // result.events.book, result.rejected.reasons, result.decoders.books() for the final books
 */
import type { Bus } from '../core/bus/types.ts';
import type { SimClock } from '../core/clock.ts';
import type { FeedEvent, FeedSink, RawFrame } from '../feeds/types.ts';
import type { DecoderSet } from '../venues/registry.ts';
import { createFeedPublisher } from '../venues/registry.ts';

export interface ReplayProgress {
  readonly frames: number;
  readonly events: number;
  readonly rejected: number;
  /** ts of the last frame replayed */
  readonly ts: number;
}

export interface ReplayOptions {
  /** Frames in time order, one by one or in batches (readCaptureBatches). */
  readonly frames: AsyncIterable<RawFrame | readonly RawFrame[]> | Iterable<RawFrame | readonly RawFrame[]>;
  readonly clock: SimClock;
  readonly decoders: DecoderSet;
  /** A bus (events go to their channels and the engine awaits idle()) or a plain function per event. */
  readonly publish: Bus | ((event: FeedEvent) => void);
  /** Await bus.idle() every this many frames (default 256; only with a bus). */
  readonly idleEvery?: number;
  /**
   * Await bus.idle() before each frame (only with a bus): every event is handled completely, at the time it
   * happened, before the next frame is decoded or the clock moves. What a backtest needs: agents read the clock,
   * so frames running ahead of their handling would age books and shift detection and fill times, and the
   * interleaving of agents would depend on where the reader's chunks happen to end.
   */
  readonly settleEachFrame?: boolean;
  readonly onProgress?: (p: ReplayProgress) => void;
  /** Frames between progress callbacks (default 100,000). */
  readonly progressEvery?: number;
  /** Stops between frames when aborted. */
  readonly signal?: AbortSignal;
}

export interface ReplayResult {
  frames: number;
  /** Events published, by FeedEvent type (market, book, trade, resolution, tick). */
  events: Record<string, number>;
  rejected: { total: number; reasons: Record<string, number> };
  firstTs: number | undefined;
  lastTs: number | undefined;
}

export function newReplayResult(): ReplayResult {
  return {
    frames: 0,
    events: { market: 0, book: 0, trade: 0, resolution: 0, tick: 0 },
    rejected: { total: 0, reasons: {} },
    firstTs: undefined,
    lastTs: undefined,
  };
}

const isBatch = (x: RawFrame | readonly RawFrame[]): x is readonly RawFrame[] => Array.isArray(x);

export async function replay(opts: ReplayOptions): Promise<ReplayResult> {
  const result = newReplayResult();
  const { clock, decoders } = opts;
  const bus = typeof opts.publish === 'function' ? undefined : opts.publish;
  const emit = typeof opts.publish === 'function' ? opts.publish : createFeedPublisher(opts.publish);
  const idleEvery = opts.idleEvery ?? 256;
  const progressEvery = opts.progressEvery ?? 100_000;
  let total = 0;
  const events = result.events;
  const sink: FeedSink = {
    emit(event) {
      events[event.type] = (events[event.type] ?? 0) + 1;
      total++;
      emit(event);
    },
    reject(source, reason) {
      result.rejected.total++;
      const key = `${source}: ${reason}`;
      result.rejected.reasons[key] = (result.rejected.reasons[key] ?? 0) + 1;
    },
  };
  let sinceIdle = 0;
  let sinceProgress = 0;
  const settle = opts.settleEachFrame === true;
  const step = (frame: RawFrame): void => {
    if (result.firstTs === undefined) result.firstTs = frame.ts;
    result.lastTs = frame.ts;
    if (frame.ts > clock.now()) clock.advanceTo(frame.ts);
    decoders.route(frame, sink);
    result.frames++;
    if (opts.onProgress && ++sinceProgress >= progressEvery) {
      sinceProgress = 0;
      opts.onProgress({
        frames: result.frames,
        events: total,
        rejected: result.rejected.total,
        ts: frame.ts,
      });
    }
  };
  outer: for await (const item of opts.frames) {
    const batch: readonly RawFrame[] = isBatch(item) ? item : [item];
    for (const frame of batch) {
      if (opts.signal?.aborted) break outer;
      if (bus && settle) {
        sinceIdle = 0;
        await bus.idle();
      }
      step(frame);
      if (bus && ++sinceIdle >= idleEvery) {
        sinceIdle = 0;
        await bus.idle();
      }
    }
  }
  if (bus) await bus.idle();
  opts.onProgress?.({
    frames: result.frames,
    events: total,
    rejected: result.rejected.total,
    ts: result.lastTs ?? 0,
  });
  return result;
}
