/**
 * The seam between venue transports and the rest of the system.
 *
 * A transport (REST poller, websocket, simulator, capture file) produces RawFrames: the payload exactly as it was
 * received, tagged with a source name. A Decoder (the venue's pure parse step plus its local books) turns frames
 * into normalized FeedEvents. Live, record and replay all run the same decoders, so a capture exercises the code
 * that trades.
 */
import type { Market, OracleTick, OrderBook, Resolution, TradePrint } from '../core/messages.ts';

/** Source names of raw frames, as written in captures. Simulated frames use `sim.` + one of these. */
export const SOURCES = [
  'polymarket.gamma.markets',
  'polymarket.gamma.events',
  'polymarket.clob.book',
  'polymarket.ws.market',
  'kalshi.rest.markets',
  'kalshi.rest.events',
  'kalshi.rest.orderbook',
  'kalshi.rest.series',
  'kalshi.ws',
  'binance.ws',
  'binance.rest.ticker',
  'binance.rest.depth',
  'chainlink.ws',
] as const;
export type SourceName = (typeof SOURCES)[number];

export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
}

/** One line of a capture: `{"ts", "source", "data", "req"?}`. */
export interface RawFrame {
  /** Local receive time, epoch ms. */
  readonly ts: number;
  readonly source: string;
  /** Parsed JSON, or the text as received when it was not JSON. */
  readonly data: unknown;
  /** On REST responses: what was asked (Kalshi orderbook and Binance depth responses do not name their instrument). */
  readonly req?: RawRequest;
}

export type FeedEvent = Market | OrderBook | TradePrint | Resolution | OracleTick;

export interface FeedSink {
  emit(event: FeedEvent): void;
  /** A frame that could not be used: counted and logged with its source, then dropped. */
  reject(source: string, reason: string): void;
}

/** Pure parse step + local book state for one venue or oracle. */
export interface Decoder {
  /** Sources this decoder understands (without the `sim.` prefix). */
  readonly sources: readonly SourceName[];
  decode(frame: RawFrame, sink: FeedSink): void;
  /** Books that the decoder holds, for `replay --books-out` (instrument id → book). */
  books?(): Iterable<OrderBook>;
}

/** Strips the simulator prefix: `sim.kalshi.ws` → `kalshi.ws`. */
export function baseSource(source: string): string {
  return source.startsWith('sim.') ? source.slice(4) : source;
}

/** A live or simulated source of raw frames. */
export interface FrameSource {
  readonly name: string;
  start(onFrame: (frame: RawFrame) => void): Promise<void>;
  stop(): Promise<void>;
  /** Connected, last message age, reconnects, frames rejected … for the heartbeat. */
  health(): Record<string, number | string | boolean | null>;
}

/**
 * Where a venue's prepared path (prepared.ts in a venue folder) writes a frame it read off the main thread: numbers and
 * strings, in the order its decoder reads them back (the capture read worker's batch encoder).
 */
export interface PreparedWriter {
  num(x: number): void;
  str(s: string): void;
}
