/**
 * Recording: runs FrameSources and writes every raw frame, as received, to a capture (tee before decoding; an
 * optional `tee` callback sees each frame after it is written, e.g. a live decoder).
 *
 * Disconnects are recorded too (markers.ts), so a backtest of the capture sees the feed go down where it did: a
 * source whose health turns from connected to not connected gets a disconnect marker (under the source name of
 * its last frame) unless it put one in its frames itself, and `recording.disconnected(...)` writes one for
 * instruments a transport lost on its own (a websocket shard).
 */
import { type Clock, wallClock } from '../core/clock.ts';
import type { FrameSource, RawFrame } from '../feeds/types.ts';
import { connectionMarker, disconnectMarker } from './markers.ts';
import type { CaptureWriter } from './writer.ts';

export interface RecordOptions {
  readonly sources: readonly FrameSource[];
  readonly writer: CaptureWriter;
  readonly tee?: (frame: RawFrame) => void;
  /** A source that failed to start (the others are recorded); default: ignored. */
  readonly onStartError?: (source: string, err: unknown) => void;
  /** How often the sources' connection state is checked for disconnect markers (default 250 ms; 0: never). */
  readonly watchEveryMs?: number;
  /** Stamps markers (default the wall clock, like the transports' frames). */
  readonly clock?: Clock;
}

export interface RecordSummary {
  readonly frames: number;
  readonly bytes: number;
  /** frames per source name */
  readonly bySource: Readonly<Record<string, number>>;
}

export interface Recording {
  readonly frames: number;
  /** Sources that failed to start, with the error. */
  readonly failed: readonly { readonly source: string; readonly error: string }[];
  /** Writes a disconnect marker for some instruments of a source (`source` as in its frames). */
  disconnected(source: string, tokenIds?: readonly string[]): void;
  /** Stops every source, then flushes and closes the file; idempotent. */
  stop(): Promise<RecordSummary>;
}

export async function startRecording(opts: RecordOptions): Promise<Recording> {
  const bySource: Record<string, number> = {};
  let frames = 0;
  let stopping: Promise<RecordSummary> | undefined;
  const clock = opts.clock ?? wallClock();
  const onFrame = (frame: RawFrame): void => {
    if (stopping) return;
    opts.writer.write(frame);
    frames++;
    bySource[frame.source] = (bySource[frame.source] ?? 0) + 1;
    opts.tee?.(frame);
  };
  // per source: the source name of its last frame (what its marker is filed under) and whether it was connected
  const watched = opts.sources.map((s) => ({ s, last: undefined as string | undefined, up: false }));
  const failed: { source: string; error: string }[] = [];
  for (const w of watched) {
    const s = w.s;
    try {
      await s.start((frame) => {
        const m = connectionMarker(frame);
        if (!m) {
          w.last = frame.source;
          w.up = true;
        } else if (m.state === 'down' && m.tokenIds === undefined) w.up = false; // its own marker: no second one
        onFrame(frame);
      });
    } catch (err) {
      // one unreachable venue does not stop the others from being recorded
      failed.push({ source: s.name, error: err instanceof Error ? err.message : String(err) });
      opts.onStartError?.(s.name, err);
      await s.stop().catch(() => undefined);
    }
  }
  if (failed.length === opts.sources.length && failed.length > 0) {
    await opts.writer.close();
    throw new Error(`no feed could start: ${failed.map((f) => `${f.source}: ${f.error}`).join('; ')}`);
  }
  const check = (): void => {
    for (const w of watched) {
      const up = w.s.health().connected === true;
      if (w.up && !up && w.last !== undefined) onFrame(disconnectMarker(w.last, clock.now()));
      w.up = up;
    }
  };
  const every = opts.watchEveryMs ?? 250;
  const timer = every > 0 ? setInterval(check, every) : undefined;
  timer?.unref();
  return {
    get frames() {
      return frames;
    },
    failed,
    disconnected(source, tokenIds) {
      onFrame(disconnectMarker(source, clock.now(), tokenIds));
    },
    stop() {
      if (timer) clearInterval(timer);
      stopping ??= (async () => {
        for (const s of opts.sources) await s.stop().catch(() => undefined);
        await opts.writer.close();
        return { frames, bytes: opts.writer.bytes, bySource: { ...bySource } };
      })();
      return stopping;
    },
  };
}
