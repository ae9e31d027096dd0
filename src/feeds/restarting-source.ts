/**
 * A FrameSource that never gives up: each attempt builds a fresh source (new HTTP client, new socket) with
 * `create()`, and a start that fails, or a source that reports itself failed later, is stopped and replaced after
 * a backoff, forever, until `stop()`. Why fresh: a stopped source has closed its transports for good (undici's
 * `ClientDestroyedError` on every later request), so restarting the same object cannot work.
 *
 * Timers come from the given clock (the agent's injected clock), so a simulated clock drives the retries in tests.
 * `stop()` never throws: it waits for the current attempt to settle and for the source to close.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import type { FrameSource, RawFrame } from './types.ts';

export interface RestartingSourceOptions {
  readonly name: string;
  /** Builds a new source for each attempt. */
  readonly create: () => FrameSource;
  readonly clock: Pick<Clock, 'after'>;
  /** Delay between attempts (default: full jitter, 5 s doubling to 60 s, at least 1 s). */
  readonly backoff?: BackoffOptions;
  /** A start (or a later run) failed; the next attempt follows in `retryMs`. */
  readonly onFailure?: (err: Error, retryMs: number) => void;
}

export interface RestartingSource extends FrameSource {
  /** The source has failed while running (not at start): stop it and start a fresh one after the backoff. */
  fail(err: Error): void;
  /**
   * The part of health() a watcher polls every second: whether the current source runs (its start resolved), is
   * connected, and when its transport last heard from the venue. Built without copying the whole health record.
   */
  liveness(): { started: boolean; connected: boolean; lastAliveAt: number | null };
}

const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 5_000, maxMs: 60_000, minMs: 1_000 };

export function createRestartingSource(opts: RestartingSourceOptions): RestartingSource {
  const backoff = new Backoff({ ...DEFAULT_BACKOFF, ...opts.backoff });
  let current: FrameSource | undefined;
  /** The current source's start() resolved (it runs; before that, a slow start is not a failure). */
  let started = false;
  let onFrame: ((f: RawFrame) => void) | undefined;
  let timer: TimerHandle | undefined;
  let stopped = false;
  let attempt: Promise<void> | undefined;
  let attempts = 0;
  let failures = 0;
  let lastError: string | null = null;

  const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

  const schedule = (err: Error): void => {
    failures++;
    lastError = err.message;
    if (stopped) return;
    const retryMs = backoff.next();
    opts.onFailure?.(err, retryMs);
    timer?.cancel();
    timer = opts.clock.after(retryMs, () => {
      timer = undefined;
      attempt = run();
    });
  };

  /** Stops a source, swallowing its errors (a half-started source may fail to stop). */
  const close = async (src: FrameSource | undefined): Promise<void> => {
    if (src) await src.stop().catch(() => undefined);
  };

  const run = async (): Promise<void> => {
    if (stopped) return;
    attempts++;
    let src: FrameSource;
    try {
      src = opts.create();
    } catch (e) {
      schedule(asError(e));
      return;
    }
    current = src;
    started = false;
    try {
      await src.start((f) => {
        if (current === src) onFrame?.(f);
      });
      if (stopped) await close(src);
      else if (current === src) {
        started = true;
        backoff.reset();
      }
    } catch (e) {
      if (current === src) current = undefined;
      await close(src);
      schedule(asError(e));
    }
  };

  return {
    name: opts.name,
    async start(cb) {
      if (onFrame) throw new Error(`${opts.name}: already started`);
      onFrame = cb;
      stopped = false;
      attempt = run();
      await attempt;
    },
    fail(err) {
      if (stopped || !current) return;
      const src = current;
      current = undefined;
      started = false;
      void close(src).then(() => schedule(err));
    },
    async stop() {
      stopped = true;
      timer?.cancel();
      timer = undefined;
      await attempt?.catch(() => undefined);
      const src = current;
      current = undefined;
      onFrame = undefined;
      await close(src);
    },
    liveness() {
      const h = current?.health();
      return {
        started: started && current !== undefined,
        connected: h !== undefined && h.connected !== false,
        lastAliveAt: typeof h?.lastAliveAt === 'number' ? h.lastAliveAt : null,
      };
    },
    health() {
      const h = current?.health() ?? { connected: false };
      return {
        ...h,
        started: started && current !== undefined,
        attempts,
        startFailures: failures,
        lastStartError: lastError,
      };
    },
  };
}
