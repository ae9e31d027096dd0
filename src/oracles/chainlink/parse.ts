/**
 * Pure parse step for Chainlink prices on Polymarket's RTDS (see wire.ts for the sources of every shape).
 * Values arrive as JSON numbers; they are converted to 1e-8 units from their shortest decimal form (the text the
 * server wrote), rounding half up beyond 8 decimals. A plain-decimal `full_accuracy_value` wins when present.
 */
import { parseE8 } from '../../core/money.ts';
import {
  CHAINLINK_TOPIC,
  type WireChainlinkPrice,
  type WireRtdsMessage,
  type WireRtdsRequest,
} from './wire.ts';

/** "btc/usd" → "BTC/USD". */
export const normalizeChainlinkSymbol = (s: string): string => s.trim().toUpperCase();
/** "BTC/USD" → "btc/usd" (RTDS filter form). */
export const rtdsSymbol = (s: string): string => s.trim().toLowerCase();

export interface ChainlinkPoint {
  symbol: string;
  /** 1e-8 units. */
  price: number;
  /** Price time, epoch ms. */
  time: number;
}

const PLAIN = /^\d+(\.\d+)?$/;

function toE8(v: unknown): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) return Number.NaN;
  } else if (typeof v !== 'string' || !PLAIN.test(v)) {
    return Number.NaN;
  }
  try {
    return parseE8(v, 'round');
  } catch {
    return Number.NaN;
  }
}

/**
 * One RTDS message → the Chainlink points it carries (one for an update, several for an initial dump), or a
 * reason. Messages of other topics give `null` (not ours, not an error).
 */
export function parseRtdsMessage(m: WireRtdsMessage): ChainlinkPoint[] | string | null {
  if (!m || typeof m !== 'object' || Array.isArray(m)) return 'message is not an object';
  if (typeof m.topic !== 'string') return 'message has no topic';
  if (m.topic !== CHAINLINK_TOPIC) return null;
  const p = m.payload as WireChainlinkPrice | undefined;
  if (!p || typeof p !== 'object') return 'message has no payload';
  if (typeof p.symbol !== 'string' || p.symbol === '') return 'payload has no symbol';
  const symbol = normalizeChainlinkSymbol(p.symbol);
  if (Array.isArray(p.data)) {
    const out: ChainlinkPoint[] = [];
    for (const d of p.data) {
      const price = toE8(d?.value);
      if (!Number.isSafeInteger(price) || typeof d?.timestamp !== 'number')
        return 'dump entry has a malformed value or timestamp';
      out.push({ symbol, price, time: d.timestamp });
    }
    out.sort((a, b) => a.time - b.time);
    return out;
  }
  const full =
    typeof p.full_accuracy_value === 'string' && PLAIN.test(p.full_accuracy_value)
      ? toE8(p.full_accuracy_value)
      : Number.NaN;
  const price = Number.isSafeInteger(full) ? full : toE8(p.value);
  if (!Number.isSafeInteger(price)) return 'payload has a malformed value';
  const time = typeof p.timestamp === 'number' ? p.timestamp : m.timestamp;
  if (typeof time !== 'number') return 'payload has no timestamp';
  return [{ symbol, price, time }];
}

/**
 * Subscribe request: without symbols, one unfiltered subscription (every symbol); with symbols and
 * `filtered`, one subscription per symbol with the filter serialized into a string (rs-clob-client #136).
 */
export function subscribeMessage(symbols: readonly string[] = [], filtered = false): WireRtdsRequest {
  if (!filtered || symbols.length === 0) {
    return { action: 'subscribe', subscriptions: [{ topic: CHAINLINK_TOPIC, type: '*' }] };
  }
  return {
    action: 'subscribe',
    subscriptions: symbols.map((s) => ({
      topic: CHAINLINK_TOPIC,
      type: '*',
      filters: JSON.stringify({ symbol: rtdsSymbol(s) }),
    })),
  };
}
