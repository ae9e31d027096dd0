/**
 * A Chainlink RTDS update frame checked and read into numbers off the main thread (the capture read worker,
 * src/capture/read-worker.ts): replay and backtest skip its JSON.parse and the decimal parsing of its value. Only
 * a single-message frame of one point is prepared, through the decoder's own parse (parseRtdsMessage); the
 * decoder then applies the point as it would the parsed message's (symbol filter, duplicates); any other frame
 * reaches it as JSON.
 */
import type { PreparedWriter } from '../../feeds/types.ts';
import { type ChainlinkPoint, parseRtdsMessage } from './parse.ts';
import type { WireRtdsMessage } from './wire.ts';

export class PreparedChainlinkPoint implements ChainlinkPoint {
  constructor(
    /** normalized ("BTC/USD") */
    readonly symbol: string,
    /** 1e-8 units */
    readonly price: number,
    /** price time, epoch ms */
    readonly time: number,
  ) {}
}

/** Writes symbol, price, time if `data` is one message carrying one point; otherwise nothing, and false. */
export function prepareChainlink(data: unknown, w: PreparedWriter): boolean {
  // arrays (several messages) and the feed's connection frames take the JSON path, as does anything odd
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return false;
  if ((data as { type?: unknown }).type === 'connection') return false;
  const r = parseRtdsMessage(data as WireRtdsMessage);
  if (r === null || typeof r === 'string' || r.length !== 1) return false;
  const p = r[0]!;
  w.str(p.symbol);
  w.num(p.price);
  w.num(p.time);
  return true;
}
