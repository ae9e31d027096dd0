/**
 * A websocket `orderbook_delta` frame checked and read into numbers off the main thread (the capture read worker,
 * src/capture/read-worker.ts): replay and backtest skip its JSON.parse. Only a frame the decoder would apply (or
 * check against its sequence) is prepared, with the decoder's own parse helpers; any other reaches it as JSON.
 */
import type { PreparedWriter } from '../../feeds/types.ts';
import { deltaUsable, fixedMicro, tradePrint, wsEventTime } from './parse.ts';
import type { WireWsTrade } from './wire.ts';

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

/** A websocket `trade` checked off the main thread: the arguments of its tradePrint (parse.ts), sid and seq. */
export class PreparedKalshiTrade {
  constructor(
    readonly ticker: string,
    readonly yesPrice: number,
    readonly noPrice: number,
    readonly count: number,
    /** 'yes', 'no', or undefined for anything else (tradePrint tells only these apart) */
    readonly takerSide: 'yes' | 'no' | undefined,
    readonly eventTime: number | undefined,
    /** undefined where the envelope's is not a number (the decoder then does not sequence it) */
    readonly sid: number | undefined,
    readonly seq: number | undefined,
  ) {}
}

/** takerSide in a record: 0 other, 1 yes, 2 no */
export const TAKER_SIDES = [undefined, 'yes', 'no'] as const;

/**
 * Writes ticker, yes price, no price, count, takerSide (TAKER_SIDES index), eventTime, sid, seq (NaN: none) if
 * `data` is a trade the decoder would emit (tradePrint itself decides, as in parseWsTrade); otherwise writes
 * nothing and returns false. The prices and count go as fixedMicro read them (NaN included: tradePrint judges them again, the same).
 */
export function prepareKalshiTrade(data: unknown, w: PreparedWriter): boolean {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return false;
  const env = data as { type?: unknown; sid?: unknown; seq?: unknown; msg?: unknown };
  if (env.type !== 'trade') return false;
  const t = env.msg as WireWsTrade;
  if (!t || typeof t !== 'object' || typeof t.market_ticker !== 'string') return false;
  // the arguments parseWsTrade gives tradePrint, read once; tradePrint itself decides
  const yes = fixedMicro(t.yes_price_dollars);
  const no = fixedMicro(t.no_price_dollars);
  const count = fixedMicro(t.count_fp);
  const eventTime = wsEventTime(t);
  if (typeof tradePrint(t.market_ticker, yes, no, count, t.taker_side, eventTime, 0) === 'string')
    return false;
  w.str(t.market_ticker);
  w.num(yes);
  w.num(no);
  w.num(count);
  w.num(t.taker_side === 'yes' ? 1 : t.taker_side === 'no' ? 2 : 0);
  w.num(eventTime ?? Number.NaN);
  w.num(typeof env.sid === 'number' ? env.sid : Number.NaN);
  w.num(typeof env.seq === 'number' ? env.seq : Number.NaN);
  return true;
}
