/**
 * A websocket `orderbook_delta` frame checked and read into numbers off the main thread (the capture read worker,
 * src/capture/read-worker.ts): replay and backtest skip its JSON.parse. Only a frame the decoder would apply (or
 * check against its sequence) is prepared, with the decoder's own parse helpers; any other reaches it as JSON.
 */
import type { PreparedWriter } from '../../feeds/types.ts';
import { deltaUsable, fixedMicro } from './parse.ts';

export class PreparedKalshiDelta {
  constructor(
    readonly ticker: string,
    readonly price: number,
    readonly delta: number,
    readonly yes: boolean,
    readonly sid: number,
    readonly seq: number,
    /** ts_ms */
    readonly eventTime: number,
  ) {}
}

/** Writes ticker, price, delta, yes, sid, seq, ts_ms if `data` is a delta the decoder takes as it is; else false. */
export function prepareKalshiDelta(data: unknown, w: PreparedWriter): boolean {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return false;
  const env = data as { type?: unknown; sid?: unknown; seq?: unknown; msg?: unknown };
  if (env.type !== 'orderbook_delta') return false;
  // frames without sid/seq, or with an ISO ts only, take the JSON path (rare; the decoder handles them there)
  if (typeof env.sid !== 'number' || typeof env.seq !== 'number') return false;
  const d = env.msg as {
    market_ticker?: unknown;
    price_dollars?: unknown;
    delta_fp?: unknown;
    side?: unknown;
    ts_ms?: unknown;
  } | null;
  if (!d || typeof d !== 'object' || typeof d.market_ticker !== 'string') return false;
  if (typeof d.ts_ms !== 'number') return false;
  const price = fixedMicro(d.price_dollars);
  const delta = fixedMicro(d.delta_fp);
  if (!deltaUsable(price, delta, d.side)) return false;
  w.str(d.market_ticker);
  w.num(price);
  w.num(delta);
  w.num(d.side === 'yes' ? 1 : 0);
  w.num(env.sid);
  w.num(env.seq);
  w.num(d.ts_ms);
  return true;
}
