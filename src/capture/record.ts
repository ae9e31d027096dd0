/**
 * Recording: runs FrameSources and writes every raw frame, as received, to a capture (tee before decoding; an
 * optional `tee` callback sees each frame after it is written, e.g. a live decoder).
 */
import type { FrameSource, RawFrame } from '../feeds/types.ts';
import type { CaptureWriter } from './writer.ts';

export interface RecordOptions {
  readonly sources: readonly FrameSource[];
  readonly writer: CaptureWriter;
  readonly tee?: (frame: RawFrame) => void;
  /** A source that failed to start (the others are recorded); default: ignored. */
  readonly onStartError?: (source: string, err: unknown) => void;
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
  /** Stops every source, then flushes and closes the file; idempotent. */
  stop(): Promise<RecordSummary>;
}

export async function startRecording(opts: RecordOptions): Promise<Recording> {
  const bySource: Record<string, number> = {};
  let frames = 0;
  let stopping: Promise<RecordSummary> | undefined;
  const onFrame = (frame: RawFrame): void => {
    if (stopping) return;
    opts.writer.write(frame);
    frames++;
    bySource[frame.source] = (bySource[frame.source] ?? 0) + 1;
    opts.tee?.(frame);
  };
  const failed: { source: string; error: string }[] = [];
  for (const s of opts.sources) {
    try {
      await s.start(onFrame);
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
  return {
    get frames() {
      return frames;
    },
    failed,
    stop() {
      stopping ??= (async () => {
        for (const s of opts.sources) await s.stop().catch(() => undefined);
        await opts.writer.close();
        return { frames, bytes: opts.writer.bytes, bySource: { ...bySource } };
      })();
      return stopping;
    },
  };
}
