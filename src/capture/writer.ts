/**
 * Streaming capture writer: one JSON line per raw frame, `{"ts","source","data","req"?}`.
 *
 * Lines are buffered in memory and written with synchronous appends once the buffer passes `bufferBytes`, on a
 * periodic flush timer, on close, and on process exit. Synchronous writes are the point: a line is either in the
 * buffer or in the file, so a SIGINT handler that calls close() (or the exit hook) never loses a line.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RawFrame } from '../feeds/types.ts';

export interface CaptureWriterOptions {
  readonly path: string;
  /** Flush when this many bytes are buffered (default 256 KiB). */
  readonly bufferBytes?: number;
  /** Also flush on a wall-clock interval so a crash loses at most this much (default 1000 ms; 0 disables). */
  readonly flushIntervalMs?: number;
  /** Append to an existing file instead of truncating it. */
  readonly append?: boolean;
}

export interface CaptureWriter {
  readonly path: string;
  write(frame: RawFrame): void;
  /** Writes buffered lines to the file now. */
  flush(): void;
  /** Flushes and closes; idempotent. */
  close(): Promise<void>;
  /** Lines written so far (buffered or on disk). */
  readonly lines: number;
  readonly bytes: number;
}

/** The capture line for a frame (no trailing newline). Key order is fixed so the same frames give the same bytes. */
export function formatCaptureLine(frame: RawFrame): string {
  const head = `{"ts":${frame.ts},"source":${JSON.stringify(frame.source)},"data":${JSON.stringify(frame.data ?? null)}`;
  if (!frame.req) return `${head}}`;
  const req: Record<string, unknown> = { method: frame.req.method, path: frame.req.path };
  if (frame.req.query) req.query = frame.req.query;
  return `${head},"req":${JSON.stringify(req)}}`;
}

export function createCaptureWriter(opts: CaptureWriterOptions): CaptureWriter {
  const limit = opts.bufferBytes ?? 256 * 1024;
  mkdirSync(dirname(opts.path), { recursive: true });
  let fd: number | undefined = openSync(opts.path, opts.append ? 'a' : 'w');
  let chunks: string[] = [];
  let buffered = 0;
  let lines = 0;
  let bytes = 0;

  const flush = (): void => {
    if (fd === undefined || chunks.length === 0) return;
    const text = chunks.join('');
    chunks = [];
    buffered = 0;
    const buf = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
  };

  const every = opts.flushIntervalMs ?? 1000;
  const timer = every > 0 ? setInterval(flush, every) : undefined;
  timer?.unref();
  const onExit = (): void => closeNow();
  process.on('exit', onExit);

  function closeNow(): void {
    if (fd === undefined) return;
    flush();
    closeSync(fd);
    fd = undefined;
    if (timer) clearInterval(timer);
    process.off('exit', onExit);
  }

  return {
    path: opts.path,
    write(frame) {
      if (fd === undefined) throw new Error(`capture writer for ${opts.path} is closed`);
      const line = `${formatCaptureLine(frame)}\n`;
      chunks.push(line);
      buffered += line.length;
      lines++;
      bytes += line.length;
      if (buffered >= limit) flush();
    },
    flush,
    async close() {
      closeNow();
    },
    get lines() {
      return lines;
    },
    get bytes() {
      return bytes;
    },
  };
}
