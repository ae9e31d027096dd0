/**
 * The main-thread side of the capture read worker (read-worker.ts): starts it, takes its batches, and turns them
 * back into RawFrames in file order. A batch is one transferred Float64Array of records, the strings first seen
 * in it (ids, sources: a table that grows, each string sent once) and the lines sent as text:
 *
 *   LINE      → the next text line, handled here as the in-thread reader does (parse, bad-line stats)
 *   TOO_LONG  → a line over maxLineBytes
 *   POLY_PC   → ts, source, then a prepared Polymarket price_change (venues/polymarket/prepared.ts)
 *   KALSHI_D  → ts, source, then a prepared Kalshi orderbook_delta (venues/kalshi/prepared.ts)
 *   BINANCE   → ts, source, then a prepared Binance trade or bookTicker (oracles/binance/prepared.ts)
 *   CHAINLINK → ts, source, then a prepared Chainlink point (oracles/chainlink/prepared.ts)
 *   POLY_TRADE → ts, source, then a prepared Polymarket last_trade_price (venues/polymarket/prepared.ts)
 *   KALSHI_TRADE → ts, source, then a prepared Kalshi trade (venues/kalshi/prepared.ts)
 *
 * Why: JSON.parse of each line was ~40% of a replay's main thread; a structured clone of parsed frames costs as
 * much as the parse (measured), a typed array and a few strings almost nothing.
 *
 * Which kinds the worker prepares is the caller's choice (ReadCaptureOptions.workerPrepares), by which thread is
 * the slower one: a backtest's agents make its main thread the slower one, and it has the worker prepare every
 * kind it can; a replay's main thread does little per frame and waits for the worker, which keeps to the core
 * kinds (price_change, orderbook_delta) there: every kind cost its worker ~10% more CPU with the main thread idle.
 * (Choosing by how far the worker was ahead, batch by batch, cost a replay's worker ~5% more CPU on the busy 2-core
 * machine, where the window also fills while the main thread waits for a core; preparing nothing while the main
 * thread waited balanced a replay's threads better but cost 4–8% more CPU in all: the JSON path costs more.)
 *
 * At most MAX_IN_FLIGHT batches are ahead of the consumer (a shared counter the worker waits on, woken when
 * RESUME_AT are left), so memory stays bounded on any file size.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RawFrame } from '../feeds/types.ts';
import { BINANCE_TRADE, PreparedBinanceQuote, PreparedBinanceTrade } from '../oracles/binance/prepared.ts';
import { PreparedChainlinkPoint } from '../oracles/chainlink/prepared.ts';
import { PreparedKalshiDelta, PreparedKalshiTrade, TAKER_SIDES } from '../venues/kalshi/prepared.ts';
import { PreparedLastTrade, PreparedPriceChange, TRADE_SIDES } from '../venues/polymarket/prepared.ts';
import type { CaptureReadStats, ReadCaptureOptions } from './reader.ts';

export const REC = {
  LINE: 0,
  TOO_LONG: 1,
  POLY_PC: 2,
  KALSHI_D: 3,
  BINANCE: 4,
  CHAINLINK: 5,
  POLY_TRADE: 6,
  KALSHI_TRADE: 7,
} as const;
export const MAX_IN_FLIGHT = 8;
/** In flight when the consumer wakes a worker waiting at MAX_IN_FLIGHT (it then reads until the window is full). */
export const RESUME_AT = MAX_IN_FLIGHT / 2;

/** How much of the parsing the worker takes on (ReadCaptureOptions.workerPrepares). */
export type WorkerPrepares = 'all' | 'core' | 'none';

export interface WorkerInput {
  readonly path: string;
  readonly highWaterMark?: number;
  readonly batchBytes?: number;
  readonly maxLineBytes?: number;
  /** Int32 [0]: batches posted and not yet taken. */
  readonly inFlight: SharedArrayBuffer;
  /** Default 'core' (ReadCaptureOptions.workerPrepares). */
  readonly prepares?: WorkerPrepares;
}

export type WorkerMessage =
  | {
      readonly nums: ArrayBuffer;
      readonly strings: string[];
      readonly lines: string[];
      readonly bytes: number;
    }
  | { readonly done: true }
  | { readonly error: string };

/**
 * The worker's file next to this module in a build (dist/ has `capture-read-worker.js` beside its chunks, the
 * benches' bundles `.mjs`); undefined when running the TypeScript sources, which a worker could not load.
 */
export function readWorkerUrl(): URL | undefined {
  const here = import.meta.url;
  const ext = here.endsWith('.mjs') ? '.mjs' : here.endsWith('.js') ? '.js' : undefined;
  if (!ext) return undefined;
  const url = new URL(`./capture-read-worker${ext}`, here);
  return existsSync(fileURLToPath(url)) ? url : undefined;
}

/** NaN in a record stands for an absent number (a JSON number is never NaN). */
const orNone = (x: number): number | undefined => (Number.isNaN(x) ? undefined : x);

interface LineHandler {
  line(text: string, out: RawFrame[]): void;
  tooLong(): void;
}

export async function* fromWorker(
  url: URL,
  path: string,
  opts: ReadCaptureOptions,
  stats: CaptureReadStats,
  handler: LineHandler,
): AsyncGenerator<RawFrame[]> {
  const inFlight = new SharedArrayBuffer(4);
  const counter = new Int32Array(inFlight);
  const input: WorkerInput = {
    path,
    inFlight,
    ...(opts.highWaterMark !== undefined ? { highWaterMark: opts.highWaterMark } : {}),
    ...(opts.batchBytes !== undefined ? { batchBytes: opts.batchBytes } : {}),
    ...(opts.maxLineBytes !== undefined ? { maxLineBytes: opts.maxLineBytes } : {}),
    ...(opts.workerPrepares !== undefined ? { prepares: opts.workerPrepares } : {}),
  };
  const worker = new Worker(url, { workerData: input });
  // it keeps the process alive only while a batch is awaited: a reader abandoned mid-file (never finished, never
  // returned) leaves a worker waiting for credit, which must not hold the process open
  worker.unref();
  const queue: WorkerMessage[] = [];
  let wake: (() => void) | undefined;
  let failed: Error | undefined;
  const push = (m: WorkerMessage): void => {
    queue.push(m);
    wake?.();
  };
  worker.on('message', push);
  worker.on('error', (err) => push({ error: err instanceof Error ? err.message : String(err) }));
  worker.on('exit', () => push({ error: 'capture read worker exited' }));
  const strings: string[] = [];
  try {
    for (;;) {
      if (queue.length === 0) {
        worker.ref();
        while (queue.length === 0) await new Promise<void>((r) => (wake = r));
        worker.unref();
      }
      wake = undefined;
      const m = queue.shift()!;
      if ('done' in m) return;
      if ('error' in m) {
        failed = new Error(`capture read worker: ${m.error}`);
        throw failed;
      }
      // one batch taken. The worker is woken only when half the window is free, not on every batch: each wake-up
      // of a waiting thread is a context switch, which on a busy 2-core machine often took the main thread's core
      // (Atomics.notify was ~18% of the main thread's wall-clock profile under load; now ~1/4 as many)
      if (Atomics.sub(counter, 0, 1) - 1 === RESUME_AT) Atomics.notify(counter, 0);
      for (const s of m.strings) strings.push(s);
      stats.bytes += m.bytes;
      const nums = new Float64Array(m.nums);
      const out: RawFrame[] = [];
      let li = 0;
      for (let i = 0; i < nums.length; ) {
        const at = i;
        const kind = nums[i]!;
        if (kind === REC.LINE) {
          handler.line(m.lines[li++]!, out);
          i += 1;
        } else if (kind === REC.TOO_LONG) {
          handler.tooLong();
          i += 1;
        } else if (kind === REC.POLY_PC) {
          const count = nums[i + 5]!;
          const data = new PreparedPriceChange(
            strings[nums[i + 3]!]!,
            nums[i + 4]!,
            count,
            nums,
            i + 6,
            strings,
          );
          out.push({ ts: nums[i + 1]!, source: strings[nums[i + 2]!]!, data });
          i += 6 + 4 * count;
        } else if (kind === REC.KALSHI_D) {
          const data = new PreparedKalshiDelta(
            strings[nums[i + 3]!]!,
            nums[i + 4]!,
            nums[i + 5]!,
            nums[i + 6] === 1,
            nums[i + 7]!,
            nums[i + 8]!,
            nums[i + 9]!,
          );
          out.push({ ts: nums[i + 1]!, source: strings[nums[i + 2]!]!, data });
          i += 10;
        } else if (kind === REC.BINANCE) {
          const symbol = strings[nums[i + 4]!]!;
          let data: PreparedBinanceTrade | PreparedBinanceQuote;
          if (nums[i + 3] === BINANCE_TRADE) {
            data = new PreparedBinanceTrade(symbol, nums[i + 5]!, orNone(nums[i + 6]!));
            i += 7;
          } else {
            data = new PreparedBinanceQuote(symbol, nums[i + 5]!, nums[i + 6]!, orNone(nums[i + 7]!));
            i += 8;
          }
          out.push({ ts: nums[at + 1]!, source: strings[nums[at + 2]!]!, data });
        } else if (kind === REC.POLY_TRADE) {
          const data = new PreparedLastTrade(
            strings[nums[i + 3]!]!,
            strings[nums[i + 4]!]!,
            nums[i + 5]!,
            nums[i + 6]!,
            TRADE_SIDES[nums[i + 7]!],
            orNone(nums[i + 8]!),
          );
          out.push({ ts: nums[i + 1]!, source: strings[nums[i + 2]!]!, data });
          i += 9;
        } else if (kind === REC.KALSHI_TRADE) {
          const data = new PreparedKalshiTrade(
            strings[nums[i + 3]!]!,
            nums[i + 4]!,
            nums[i + 5]!,
            nums[i + 6]!,
            TAKER_SIDES[nums[i + 7]!],
            orNone(nums[i + 8]!),
            orNone(nums[i + 9]!),
            orNone(nums[i + 10]!),
          );
          out.push({ ts: nums[i + 1]!, source: strings[nums[i + 2]!]!, data });
          i += 11;
        } else {
          const data = new PreparedChainlinkPoint(strings[nums[i + 3]!]!, nums[i + 4]!, nums[i + 5]!);
          out.push({ ts: nums[i + 1]!, source: strings[nums[i + 2]!]!, data });
          i += 6;
        }
        if (kind !== REC.LINE && kind !== REC.TOO_LONG) {
          stats.lines++;
          stats.frames++;
        }
      }
      if (out.length > 0) yield out;
    }
  } finally {
    worker.removeAllListeners('exit');
    await worker.terminate();
  }
}
