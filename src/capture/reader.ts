/**
 * Streaming capture reader: reads a `.jsonl` capture chunk by chunk (constant memory on large files) and yields
 * RawFrames. A bad line is counted with its reason and skipped, never fatal. Blank lines are ignored.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { RawFrame } from '../feeds/types.ts';
import { fromWorker, readWorkerUrl, type WorkerPrepares } from './worker-client.ts';

export interface BadLine {
  readonly line: number;
  readonly reason: string;
}

export interface CaptureReadStats {
  lines: number;
  frames: number;
  bad: number;
  /** reason → count */
  readonly reasons: Record<string, number>;
  /** The first few bad lines with their line numbers (at most `keepBad`). */
  readonly samples: BadLine[];
  bytes: number;
}

export interface ReadCaptureOptions {
  /** Called for every bad line. */
  readonly onBad?: (bad: BadLine) => void;
  /** Stats object to fill in (so the caller can read it while iterating). */
  readonly stats?: CaptureReadStats;
  /** Bad-line samples kept in stats (default 20). */
  readonly keepBad?: number;
  /** Bytes per read from the file (default 1 MiB). */
  readonly highWaterMark?: number;
  /** Bytes of lines per yielded batch (default 64 KiB). */
  readonly batchBytes?: number;
  /** A longer line is rejected (and skipped without being held in memory); default 16 MiB (CAPTURE_MAX_LINE_BYTES). */
  readonly maxLineBytes?: number;
  /**
   * Read and parse in a worker thread (read-worker.ts) when the running build has one (dist/, the benches'
   * bundles; not the sources through tsx): the main thread gets the hot websocket frames already checked and read
   * into numbers. The frames are the same to the decoders; replay and backtest use it.
   */
  readonly worker?: boolean;
  /**
   * Which frames the worker prepares: 'core', Polymarket price_change and Kalshi orderbook_delta (the default: for a
   * replay, whose main thread waits for the worker); 'all' it can, the oracle ticks and trades too (a backtest,
   * whose agents make the main thread the slower one); 'none'. The frames are the same to the decoders either way.
   */
  readonly workerPrepares?: WorkerPrepares;
}

export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;
/** Frame timestamps outside this window (epoch ms: 1970 … 2100-01-01) are rejected as corrupt. */
export const TS_WINDOW = { min: 0, max: 4_102_444_800_000 } as const;

export function newReadStats(): CaptureReadStats {
  return { lines: 0, frames: 0, bad: 0, reasons: {}, samples: [], bytes: 0 };
}

/** Parses one capture line; returns the frame or the reason it is not one. */
export function parseCaptureLine(text: string): RawFrame | { error: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { error: 'invalid JSON' };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { error: 'not a JSON object' };
  const o = v as Record<string, unknown>;
  if (typeof o.ts !== 'number' || !Number.isFinite(o.ts)) return { error: 'missing or non-numeric ts' };
  // one absurd timestamp would drive a replay clock (and every timer on it) decades ahead
  if (o.ts < TS_WINDOW.min || o.ts > TS_WINDOW.max) return { error: 'ts outside 1970..2100' };
  if (typeof o.source !== 'string' || o.source === '') return { error: 'missing source' };
  if (!('data' in o)) return { error: 'missing data' };
  if (o.req !== undefined) {
    const r = o.req as Record<string, unknown> | null;
    if (r === null || typeof r !== 'object' || typeof r.method !== 'string' || typeof r.path !== 'string') {
      return { error: 'malformed req' };
    }
  }
  // the parsed object is the frame (no copy: this is the hot path of replay)
  return o as unknown as RawFrame;
}

/** How far firstLineTs looks for the end of the first line. */
const PEEK_BYTES = 256 * 1024;

/**
 * The ts of the file's first line when that line is a frame the reader takes (its first frame), read at once
 * without the reader; undefined when the first line is not one (blank, bad, longer than 256 KiB …), or there is
 * no file to read: then only the reader knows which frame comes first.
 */
export function firstLineTs(path: string, maxLineBytes = DEFAULT_MAX_LINE_BYTES): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined; // the reader reports it
  }
  try {
    const buf = Buffer.allocUnsafe(PEEK_BYTES);
    const n = readSync(fd, buf, 0, PEEK_BYTES, 0);
    const nl = buf.indexOf(10);
    // a line of at most maxLineBytes (counting a '\r') is never judged too long by the reader
    if (nl < 0 || nl >= n || nl > maxLineBytes) return undefined;
    const text = buf.toString('utf8', 0, buf[nl - 1] === 13 ? nl - 1 : nl);
    const f = parseCaptureLine(text);
    return 'error' in f ? undefined : f.ts;
  } finally {
    closeSync(fd);
  }
}

/** Yields the frames of a capture file in file order. */
export async function* readCapture(path: string, opts: ReadCaptureOptions = {}): AsyncGenerator<RawFrame> {
  for await (const batch of readCaptureBatches(path, opts)) yield* batch;
}

/**
 * Yields the frames of a capture file in file order, a read chunk (about `highWaterMark` bytes) at a time:
 * the fast path for replay, which takes batches as well as single frames.
 */
export async function* readCaptureBatches(
  path: string,
  opts: ReadCaptureOptions = {},
): AsyncGenerator<RawFrame[]> {
  const stats = opts.stats ?? newReadStats();
  const keep = opts.keepBad ?? 20;
  const maxLine = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const tooLong = `line longer than ${maxLine} bytes`;
  const bad = (reason: string): void => {
    stats.bad++;
    stats.reasons[reason] = (stats.reasons[reason] ?? 0) + 1;
    const b = { line: stats.lines, reason };
    if (stats.samples.length < keep) stats.samples.push(b);
    opts.onBad?.(b);
  };
  const handle = (text: string, out: RawFrame[]): void => {
    stats.lines++;
    const t = text.charCodeAt(text.length - 1) === 13 ? text.slice(0, -1) : text;
    // a frame line starts with '{': only other lines need the blank test
    if (t.charCodeAt(0) !== 123 && t.trim() === '') return;
    // UTF-16 units ≤ UTF-8 bytes: a line within the limit in units may still be longer in bytes
    if (t.length > maxLine || (t.length * 3 > maxLine && Buffer.byteLength(t) > maxLine)) {
      bad(tooLong);
      return;
    }
    const f = parseCaptureLine(t);
    if ('error' in f) {
      bad(f.error);
      return;
    }
    stats.frames++;
    out.push(f);
  };
  const worker = opts.worker ? readWorkerUrl() : undefined;
  if (worker) {
    yield* fromWorker(worker, path, opts, stats, {
      line: handle,
      tooLong() {
        stats.lines++;
        bad(tooLong);
      },
    });
    return;
  }
  for await (const lines of readLineBatches(path, opts, stats)) {
    const out: RawFrame[] = [];
    for (const l of lines) {
      if (l === null) {
        stats.lines++;
        bad(tooLong);
      } else handle(l, out);
    }
    if (out.length > 0) yield out;
  }
}

/**
 * The lines of a capture file, in batches of about `batchBytes`; `null` stands for a line over `maxLineBytes`
 * (skipped without being held in memory). Adds the bytes read to `stats.bytes`.
 */
export async function* readLineBatches(
  path: string,
  opts: ReadCaptureOptions,
  stats: CaptureReadStats,
): AsyncGenerator<(string | null)[]> {
  const maxLine = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  // Lines cut at '\n' bytes and each decoded straight from the read buffer: no read stream, no chunk-sized string
  // concatenated and sliced, no copy of a line (a '\n' byte never occurs inside a multi-byte UTF-8 character).
  // (Decoding a whole chunk once and slicing the string was measured slower: String indexOf and JSON.parse of a
  // sliced string cost more than the per-line decode saved.)
  // Two buffers: the next chunk is read (thread pool) while this one is parsed, so reading overlaps the work.
  // Batches of ~64 KiB of lines (~100 frames): the frames of a batch die young, in the scavenger, where 1 MiB
  // batches of parsed objects outlived it and were promoted (measured: fewer CPU-seconds per frame, mostly GC).
  // Reads are 1 MiB all the same, cut into such batches: a 64 KiB promise read cost 4× the CPU of the bytes it
  // brought (libuv round trip + promise per read), a 1 MiB one as much as a readSync (measured, warm page cache).
  const size = opts.highWaterMark ?? 1 << 20;
  const batchBytes = opts.batchBytes ?? 1 << 16;
  const bufs = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)] as const;
  /** The start of a line that runs past the chunk (copied: the buffers are reused). */
  let carry: Buffer[] = [];
  let carried = 0;
  /** Inside an over-long line: its bytes are dropped until the next newline. */
  let skipping = false;
  const fh = await open(path, 'r');
  let pos = 0;
  let which = 0;
  let next: Promise<{ bytesRead: number }> | undefined = fh.read(bufs[0], 0, size, 0);
  try {
    while (next) {
      const n = (await next).bytesRead;
      next = undefined;
      if (n === 0) break;
      const buf = bufs[which]!;
      pos += n;
      which ^= 1;
      next = fh.read(bufs[which]!, 0, size, pos);
      stats.bytes += n;
      let out: (string | null)[] = [];
      let start = 0;
      let batchStart = 0;
      for (;;) {
        const nl = buf.indexOf(10, start);
        if (nl < 0 || nl >= n) break; // (a '\n' past n is a previous chunk's)
        if (nl - batchStart >= batchBytes && out.length > 0) {
          // (the buffer is not touched while the consumer holds a batch: the read in flight fills the other one)
          yield out;
          out = [];
          batchStart = start;
        }
        if (skipping) {
          skipping = false;
          out.push(null);
        } else if (carried > 0) {
          carry.push(buf.subarray(start, nl));
          out.push(Buffer.concat(carry).toString('utf8'));
          carry = [];
          carried = 0;
        } else out.push(buf.toString('utf8', start, nl));
        start = nl + 1;
      }
      if (start < n && !skipping) {
        carried += n - start;
        if (carried > maxLine) {
          // never hold more than one line's limit: drop it and skip to its end
          carry = [];
          carried = 0;
          skipping = true;
        } else carry.push(Buffer.from(buf.subarray(start, n)));
      }
      if (out.length > 0) yield out;
    }
  } finally {
    // a consumer that stopped early leaves a read in flight: let it settle before the file closes
    await next?.catch(() => undefined);
    await fh.close();
  }
  if (skipping) yield [null];
  else if (carried > 0) yield [Buffer.concat(carry).toString('utf8')];
}
