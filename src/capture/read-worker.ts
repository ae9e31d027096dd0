/**
 * The capture read worker (started by worker-client.ts, built as `capture-read-worker.js`): reads the capture's
 * lines, and sends the hot websocket frames (Polymarket price_change and last_trade_price, Kalshi orderbook_delta
 * and trade, Binance trades and bookTickers, Chainlink updates) JSON-parsed, checked and read into numbers by the
 * venues' and oracles' own prepare functions; every other line goes as its text, to be parsed on the main thread
 * exactly as without the worker (bad lines included, with their reasons and line numbers).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { baseSource, type RawFrame } from '../feeds/types.ts';
import { prepareBinanceWs } from '../oracles/binance/prepared.ts';
import { prepareChainlink } from '../oracles/chainlink/prepared.ts';
import { prepareKalshiDelta, prepareKalshiTrade } from '../venues/kalshi/prepared.ts';
import { prepareLastTrade, preparePriceChange } from '../venues/polymarket/prepared.ts';
import { scanPriceChangeLine } from './price-change-scan.ts';
import { DEFAULT_MAX_LINE_BYTES, newReadStats, parseCaptureLine, readLineBatches } from './reader.ts';
import { MAX_IN_FLIGHT, REC, type WorkerInput, type WorkerMessage } from './worker-client.ts';

/** A batch being written: its records (numbers), the strings first seen in it, the lines sent as text. */
export class BatchWriter {
  nums = new Float64Array(1 << 14);
  k = 0;
  strings: string[] = [];
  lines: string[] = [];
  private readonly ids = new Map<string, number>();
  private lastStr = '';
  private lastId = 0;

  num(x: number): void {
    if (this.k === this.nums.length) {
      const grown = new Float64Array(this.nums.length * 2);
      grown.set(this.nums);
      this.nums = grown;
    }
    this.nums[this.k++] = x;
  }

  str(s: string): void {
    // consecutive entries of a frame mostly repeat the asset id: a compare, not a hash of 77 digits
    if (s === this.lastStr) {
      this.num(this.lastId);
      return;
    }
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(s, id);
      this.strings.push(s);
    }
    this.lastStr = s;
    this.lastId = id;
    this.num(id);
  }

  strAt(text: string, start: number, end: number): void {
    // an entry's asset id mostly repeats the last one: compared in place, not sliced out of the line
    if (end - start === this.lastStr.length && text.startsWith(this.lastStr, start)) {
      this.num(this.lastId);
      return;
    }
    const s = text.slice(start, end);
    // a new string goes in the table as a copy of its own: a slice would keep its whole line alive there (the
    // slice of a concatenation is cut from a flat copy of it)
    this.str(this.ids.has(s) ? s : `${s} `.slice(0, -1));
  }

  take(bytes: number): WorkerMessage & { nums: ArrayBuffer } {
    const m = { nums: this.nums.slice(0, this.k).buffer, strings: this.strings, lines: this.lines, bytes };
    this.k = 0;
    this.strings = [];
    this.lines = [];
    return m;
  }
}

/**
 * What a line may be prepared as (a PREP value), from a text search before JSON.parse: the core kinds first, so
 * that a share of the work (WorkerInput.prepares) is the kinds up to LAST_CORE or LAST.
 */
const PREP = {
  NONE: 0,
  POLY_PC: 1,
  KALSHI: 2,
  LAST_CORE: 2,
  BINANCE: 3,
  CHAINLINK: 4,
  POLY_TRADE: 5,
  KALSHI_TRADE: 6,
  LAST: 6,
} as const;

/** The record kind of each PREP value. */
const REC_OF = [
  REC.LINE,
  REC.POLY_PC,
  REC.KALSHI_D,
  REC.BINANCE,
  REC.CHAINLINK,
  REC.POLY_TRADE,
  REC.KALSHI_TRADE,
] as const;

/**
 * A text search before JSON.parse, so that lines that cannot be prepared are not parsed twice (here and on the
 * main thread). Only a hint: a line it lets through may still go as text; one it stops goes as text too.
 */
function mayPrepare(line: string): number {
  // the capture writer puts the source first, after ts, then data (writer.ts formatCaptureLine)
  const at = line.indexOf('"source":"');
  if (at < 0 || at > 40) return PREP.NONE;
  const p = line.startsWith('sim.', at + 10) ? at + 14 : at + 10;
  if (line.startsWith('kalshi.ws"', p)) {
    if (line.startsWith('"type":"orderbook_delta"', p + 19)) return PREP.KALSHI;
    return line.startsWith('"type":"trade"', p + 19) ? PREP.KALSHI_TRADE : PREP.NONE;
  }
  // a combined-stream frame: `binance.ws","data":{"stream":"…`
  if (line.startsWith('binance.ws"', p))
    return line.startsWith('{"stream":"', p + 19) ? PREP.BINANCE : PREP.NONE;
  // one message (an object), not an array of them or a text heartbeat
  if (line.startsWith('chainlink.ws"', p)) return line.startsWith('{', p + 21) ? PREP.CHAINLINK : PREP.NONE;
  if (!line.startsWith('polymarket.ws.market"', p)) return PREP.NONE;
  // a price_change names its type after its entries: searched from the end
  const e = line.lastIndexOf('"event_type":"');
  if (e < 0) return PREP.NONE;
  if (line.startsWith('price_change"', e + 14)) return PREP.POLY_PC;
  return line.startsWith('last_trade_price"', e + 14) ? PREP.POLY_TRADE : PREP.NONE;
}

/** Writes the record of a frame of kind `prep` (REC, ts, source, the venue's prepared numbers) if it can. */
function prepare(prep: number, f: RawFrame, w: BatchWriter, scratch: number[]): boolean {
  w.num(REC_OF[prep]!);
  w.num(f.ts);
  w.str(f.source);
  // the text search looked at the source name: the frame's own must agree (`sim.` or not)
  const base = baseSource(f.source);
  switch (prep) {
    case PREP.POLY_PC:
      return base === 'polymarket.ws.market' && preparePriceChange(f.data, w, scratch);
    case PREP.POLY_TRADE:
      return base === 'polymarket.ws.market' && prepareLastTrade(f.data, w);
    case PREP.KALSHI:
      return base === 'kalshi.ws' && prepareKalshiDelta(f.data, w);
    case PREP.KALSHI_TRADE:
      return base === 'kalshi.ws' && prepareKalshiTrade(f.data, w);
    case PREP.BINANCE:
      return base === 'binance.ws' && prepareBinanceWs(f.data, w);
    default:
      return base === 'chainlink.ws' && prepareChainlink(f.data, w);
  }
}

async function main(input: WorkerInput): Promise<void> {
  const port = parentPort!;
  const inFlight = new Int32Array(input.inFlight);
  const maxLine = input.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const stats = newReadStats();
  const w = new BatchWriter();
  const scratch: number[] = [];
  // the kinds this thread prepares (WorkerInput.prepares)
  const prepares = input.prepares ?? 'core';
  const most = prepares === 'all' ? PREP.LAST : prepares === 'core' ? PREP.LAST_CORE : PREP.NONE;
  let sent = 0;
  const opts = {
    ...(input.highWaterMark !== undefined ? { highWaterMark: input.highWaterMark } : {}),
    ...(input.batchBytes !== undefined ? { batchBytes: input.batchBytes } : {}),
    maxLineBytes: maxLine,
  };
  for await (const lines of readLineBatches(input.path, opts, stats)) {
    for (const line of lines) {
      if (line === null) {
        w.num(REC.TOO_LONG);
        continue;
      }
      // only a plain frame line well within the limit is prepared; the main thread judges every other
      const prep =
        most !== PREP.NONE &&
        line.charCodeAt(0) === 123 &&
        line.charCodeAt(line.length - 1) === 125 &&
        line.length * 3 <= maxLine
          ? mayPrepare(line)
          : PREP.NONE;
      if (prep !== PREP.NONE && prep <= most) {
        // a price_change as the capture writer writes it is read in place (price-change-scan.ts); any other
        // line it does not take, as JSON
        if (prep === PREP.POLY_PC && scanPriceChangeLine(line, REC.POLY_PC, w, scratch)) continue;
        const f = parseCaptureLine(line);
        if (!('error' in f) && f.req === undefined) {
          const at = w.k;
          if (prepare(prep, f, w, scratch)) continue;
          w.k = at; // not prepared (strings it added stay in the table, unused)
        }
      }
      w.num(REC.LINE);
      w.lines.push(line);
    }
    // at most MAX_IN_FLIGHT batches ahead of the consumer; it wakes this thread when RESUME_AT are left (a wait
    // that starts after the count fell returns at once: the value is no longer MAX_IN_FLIGHT)
    while (Atomics.load(inFlight, 0) >= MAX_IN_FLIGHT) Atomics.wait(inFlight, 0, MAX_IN_FLIGHT);
    Atomics.add(inFlight, 0, 1);
    const m = w.take(stats.bytes - sent);
    sent = stats.bytes;
    port.postMessage(m, [m.nums]);
  }
  port.postMessage({ done: true } satisfies WorkerMessage);
}

if (parentPort && workerData && typeof (workerData as WorkerInput).path === 'string') {
  main(workerData as WorkerInput).catch((err: unknown) => {
    parentPort!.postMessage({
      error: err instanceof Error ? err.message : String(err),
    } satisfies WorkerMessage);
  });
}
