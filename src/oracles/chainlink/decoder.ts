/**
 * Chainlink (via Polymarket RTDS) decoder: `chainlink.ws` frames → OracleTicks (source 'chainlink', symbols
 * "BTC/USD", prices in 1e-8 units, eventTime = the price's own timestamp).
 *
 * A frame may be one message or an array of them; empty frames and text heartbeats are keepalives. Points not
 * newer than the last one of their symbol are dropped (duplicates from several upstreams, or an initial dump
 * that overlaps what was already seen). Other RTDS topics are ignored. The feed's local connection frames
 * re-emit every symbol as stale. Malformed frames go to `sink.reject`.
 */
import type { OracleTick } from '../../core/messages.ts';
import {
  baseSource,
  type Decoder,
  type FeedSink,
  type RawFrame,
  type SourceName,
} from '../../feeds/types.ts';
import { type ChainlinkPoint, normalizeChainlinkSymbol, parseRtdsMessage } from './parse.ts';
import { PreparedChainlinkPoint } from './prepared.ts';
import type { WireRtdsMessage } from './wire.ts';

export interface ChainlinkDecoderOptions {
  /** Keep only these symbols ("BTC/USD" or "btc/usd"); default all. */
  symbols?: readonly string[];
}

export interface ChainlinkDecoderStats {
  frames: number;
  rejected: number;
  ticks: number;
  duplicates: number;
  otherTopics: number;
}

export interface ChainlinkDecoder extends Decoder {
  stats(): ChainlinkDecoderStats;
  latest(): ReadonlyMap<string, OracleTick>;
}

const SOURCES: readonly SourceName[] = ['chainlink.ws'];
const KEEPALIVE = new Set(['', 'ping', 'pong', 'PING', 'PONG']);

export function createChainlinkDecoder(opts: ChainlinkDecoderOptions = {}): ChainlinkDecoder {
  const wanted = opts.symbols ? new Set(opts.symbols.map(normalizeChainlinkSymbol)) : undefined;
  const latest = new Map<string, OracleTick>();
  const st: ChainlinkDecoderStats = { frames: 0, rejected: 0, ticks: 0, duplicates: 0, otherTopics: 0 };

  const reject = (sink: FeedSink, source: string, reason: string): undefined => {
    st.rejected++;
    sink.reject(source, reason);
  };

  function one(m: WireRtdsMessage, frame: RawFrame, sink: FeedSink): undefined {
    const r = parseRtdsMessage(m);
    if (r === null) {
      st.otherTopics++;
      return;
    }
    if (typeof r === 'string') return reject(sink, frame.source, r);
    for (const p of r) point(p, frame.ts, sink);
  }

  function point(p: ChainlinkPoint, receiveTime: number, sink: FeedSink): undefined {
    if (wanted && !wanted.has(p.symbol)) return;
    const prev = latest.get(p.symbol);
    // never go back in time; the same point again only revives a stale symbol
    const last = prev?.eventTime;
    if (last !== undefined && (p.time < last || (p.time === last && !prev!.stale))) {
      st.duplicates++;
      return;
    }
    const tick: OracleTick = {
      type: 'tick',
      source: 'chainlink',
      symbol: p.symbol,
      price: p.price,
      stale: false,
      eventTime: p.time,
      receiveTime,
    };
    latest.set(p.symbol, tick);
    st.ticks++;
    sink.emit(tick);
  }

  return {
    sources: SOURCES,
    decode(frame, sink) {
      st.frames++;
      if (baseSource(frame.source) !== 'chainlink.ws') {
        reject(sink, frame.source, `chainlink decoder does not handle source ${frame.source}`);
        return;
      }
      const d = frame.data;
      // one point read by the capture read worker (prepared.ts)
      if (d instanceof PreparedChainlinkPoint) return point(d, frame.ts, sink);
      if (typeof d === 'string') {
        if (KEEPALIVE.has(d.trim())) return;
        reject(sink, frame.source, 'websocket frame is not JSON');
        return;
      }
      if (Array.isArray(d)) {
        for (const m of d) one(m as WireRtdsMessage, frame, sink);
        return;
      }
      if (d && typeof d === 'object' && (d as { type?: unknown }).type === 'connection') {
        const state = (d as { state?: unknown }).state;
        if (state !== 'down' && state !== 'up') {
          reject(sink, frame.source, 'connection frame without state');
          return;
        }
        for (const [symbol, t] of latest) {
          if (t.stale) continue;
          const s: OracleTick = { ...t, stale: true, receiveTime: frame.ts };
          latest.set(symbol, s);
          sink.emit(s);
        }
        return;
      }
      one(d as WireRtdsMessage, frame, sink);
    },
    stats: () => ({ ...st }),
    latest: () => latest,
  };
}
