/**
 * Recording: runs FrameSources and writes every raw frame, as received, to a capture (tee before decoding; an
 * optional `tee` callback sees each frame after it is written, e.g. a live decoder).
 */
import type { FrameSource, RawFrame } from '../venues/types.ts';
import type { CaptureWriter } from './writer.ts';

export interface RecordOptions {
  readonly sources: readonly FrameSource[];
  readonly writer: CaptureWriter;
  readonly tee?: (frame: RawFrame) => void;
}

export interface RecordSummary {
  readonly frames: number;
  readonly bytes: number;
  /** frames per source name */
  readonly bySource: Readonly<Record<string, number>>;
}

export interface Recording {
  readonly frames: number;
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
  for (const s of opts.sources) await s.start(onFrame);
  return {
    get frames() {
      return frames;
    },
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
