/**
 * A capture as frame sources: the same FeedAgents (venue watchers, oracle agents) that run on a live socket run on
 * a capture, so decoding, staleness and disconnect markers behave in a backtest as they do live.
 *
 *   const hub = createCaptureHub({ frames: readCaptureBatches(path), clock });
 *   const watcher = createVenueWatcher({ venue: 'kalshi', source: hub.source('capture-kalshi', ['kalshi.']), … });
 *   … start the agents …
 *   const result = await hub.play({ bus: kernel.bus, settleEachFrame: true });
 *
 * `play` drives the simulated clock: for each frame in order the clock advances to `frame.ts` (due timers fire
 * first, in time order: staleness checks, paper latencies), then the frame goes to the started source whose
 * prefixes match its source name (`sim.` stripped). A connection marker (markers.ts) goes the same way; a `down`
 * one for the whole feed takes that source down (health `connected: false`) until its next frame. Frames no started source takes are counted, not fatal.
 */
import type { Bus } from '../core/bus/types.ts';
import { SimClock } from '../core/clock.ts';
import { baseSource, type FrameSource, type RawFrame } from '../feeds/types.ts';
import { connectionMarker } from './markers.ts';
import { firstLineTs, type ReadCaptureOptions, readCaptureBatches } from './reader.ts';

export interface CapturePlayProgress {
  readonly frames: number;
  /** ts of the last frame played */
  readonly ts: number;
}

export interface CapturePlayOptions {
  /** With a bus, the hub awaits bus.idle() every `idleEvery` frames (default 256) and at the end. */
  readonly bus?: Pick<Bus, 'idle'>;
  readonly idleEvery?: number;
  /**
   * Await bus.idle() before each frame: every event is handled completely, at the time it happened, before the
   * next frame moves the clock (what a backtest needs; it also makes the run independent of read chunking).
   */
  readonly settleEachFrame?: boolean;
  readonly onProgress?: (p: CapturePlayProgress) => void;
  /** Frames between progress callbacks (default 100,000). */
  readonly progressEvery?: number;
  /** Stops between frames when aborted. */
  readonly signal?: AbortSignal;
}

export interface CapturePlayResult {
  frames: number;
  /** Connection markers among them. */
  markers: number;
  firstTs: number | undefined;
  lastTs: number | undefined;
  /** Frames no started source took, by source name. */
  unrouted: { total: number; bySource: Record<string, number> };
}

export interface CaptureHub {
  /** A FrameSource of the capture's frames whose source (without `sim.`) starts with one of `prefixes`. */
  source(name: string, prefixes: readonly string[]): FrameSource;
  /** Plays the capture to its end (once). */
  play(opts?: CapturePlayOptions): Promise<CapturePlayResult>;
}

export interface CaptureHubOptions {
  /** Frames in time order, one by one or in batches (readCaptureBatches). */
  readonly frames: AsyncIterable<RawFrame | readonly RawFrame[]> | Iterable<RawFrame | readonly RawFrame[]>;
  readonly clock: SimClock;
}

interface Route {
  readonly prefixes: readonly string[];
  onFrame: ((f: RawFrame) => void) | undefined;
  down: boolean;
  frames: number;
  lastAt: number | undefined;
}

export interface OpenedCapture {
  readonly hub: CaptureHub;
  /** Starts at the first frame's ts, so clock timers do not replay the years before it. */
  readonly clock: SimClock;
  /** The file holds no frame. */
  readonly empty: boolean;
}

/** A capture file as a hub, read a chunk of frames at a time, on a SimClock starting at its first frame. */
export async function openCapture(path: string, opts: ReadCaptureOptions = {}): Promise<OpenedCapture> {
  const it = readCaptureBatches(path, opts)[Symbol.asyncIterator]();
  // asked for now: a read worker starts at once (a first batch took ~70 ms: worker start-up, cold code)
  const first = it.next();
  first.catch(() => undefined); // (awaited below or when played: not an unhandled rejection meanwhile)
  // with the worker, the clock's start is read from the first line here, so that the caller assembles its agents
  // while the worker starts rather than waiting for its first batch (the main thread's idle time at start)
  const ts = opts.worker ? firstLineTs(path, opts.maxLineBytes) : undefined;
  if (ts !== undefined) {
    const clock = new SimClock(ts);
    return { hub: createCaptureHub({ frames: resume(first, it), clock }), clock, empty: false };
  }
  const f = await first;
  const clock = new SimClock(f.done ? 0 : f.value[0]!.ts);
  const frames = f.done ? [] : resume(first, it);
  return { hub: createCaptureHub({ frames, clock }), clock, empty: f.done === true };
}

/** The batches of `rest`, after the `first` one already asked for. */
async function* resume(
  first: Promise<IteratorResult<readonly RawFrame[]>>,
  rest: AsyncIterator<readonly RawFrame[]>,
): AsyncGenerator<readonly RawFrame[]> {
  for (let n = await first; !n.done; n = await rest.next()) yield n.value;
}

const isBatch = (x: RawFrame | readonly RawFrame[]): x is readonly RawFrame[] => Array.isArray(x);

export function createCaptureHub(opts: CaptureHubOptions): CaptureHub {
  const { clock } = opts;
  const routes: Route[] = [];
  // source name → route (or null: none takes it); sources repeat, so the prefix search runs once per name
  const bySource = new Map<string, Route | null>();
  const routeOf = (source: string): Route | null => {
    let r = bySource.get(source);
    if (r === undefined) {
      const base = baseSource(source);
      r = routes.find((x) => x.onFrame && x.prefixes.some((p) => base.startsWith(p))) ?? null;
      bySource.set(source, r);
    }
    return r;
  };
  let played = false;
  return {
    source(name, prefixes) {
      const route: Route = { prefixes, onFrame: undefined, down: false, frames: 0, lastAt: undefined };
      routes.push(route);
      return {
        name,
        async start(onFrame) {
          route.onFrame = onFrame;
          bySource.clear();
        },
        async stop() {
          route.onFrame = undefined;
          bySource.clear();
        },
        health() {
          return {
            connected: route.onFrame !== undefined && !route.down,
            lastMessageAgeMs: route.lastAt === undefined ? null : clock.now() - route.lastAt,
            reconnects: 0,
            frames: route.frames,
          };
        },
      };
    },
    async play(o = {}) {
      if (played) throw new Error('a capture hub plays once');
      played = true;
      const result: CapturePlayResult = {
        frames: 0,
        markers: 0,
        firstTs: undefined,
        lastTs: undefined,
        unrouted: { total: 0, bySource: {} },
      };
      const bus = o.bus;
      const settle = bus !== undefined && o.settleEachFrame === true;
      const idleEvery = o.idleEvery ?? 256;
      const progressEvery = o.progressEvery ?? 100_000;
      let sinceIdle = 0;
      let sinceProgress = 0;
      const step = (frame: RawFrame): void => {
        if (result.firstTs === undefined) result.firstTs = frame.ts;
        result.lastTs = frame.ts;
        if (frame.ts > clock.now()) clock.advanceTo(frame.ts);
        result.frames++;
        const route = routeOf(frame.source);
        if (!route?.onFrame) {
          result.unrouted.total++;
          result.unrouted.bySource[frame.source] = (result.unrouted.bySource[frame.source] ?? 0) + 1;
        } else {
          const marker = connectionMarker(frame);
          if (marker) {
            result.markers++;
            route.down = marker.state === 'down' && marker.tokenIds === undefined;
          } else {
            route.down = false;
            route.frames++;
            route.lastAt = frame.ts;
          }
          route.onFrame(frame);
        }
        if (o.onProgress && ++sinceProgress >= progressEvery) {
          sinceProgress = 0;
          o.onProgress({ frames: result.frames, ts: frame.ts });
        }
      };
      outer: for await (const item of opts.frames) {
        const batch: readonly RawFrame[] = isBatch(item) ? item : [item];
        for (const frame of batch) {
          if (o.signal?.aborted) break outer;
          if (settle) {
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
      o.onProgress?.({ frames: result.frames, ts: result.lastTs ?? 0 });
      return result;
    },
  };
}
