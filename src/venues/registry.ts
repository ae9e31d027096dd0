/**
 * Source → decoder routing and FeedEvent → channel publishing (the live FrameSource factories are in live-feeds.ts).
 *
 * Every raw frame carries a source name (SOURCES in types.ts); simulated frames carry `sim.` + that name and go
 * to the same decoders, so the simulator, a capture and the live feeds all run the same parse code.
 */

import type { Bus } from '../core/bus/types.ts';
import { type Channel, channels } from '../core/channels.ts';
import type { OracleSource, OrderBook, Venue } from '../core/messages.ts';
import type { Decoder, FeedEvent, FeedSink, RawFrame } from '../feeds/types.ts';
import { createBinanceDecoder } from '../oracles/binance/decoder.ts';
import { createChainlinkDecoder } from '../oracles/chainlink/decoder.ts';
import { impossibleBook } from './book-sanity.ts';
import type { FeedName } from './feed-names.ts';
import { createKalshiDecoder } from './kalshi/decoder.ts';
import { createPolymarketDecoder } from './polymarket/decoder.ts';

export interface CreateDecodersOptions {
  /** Levels per side in emitted books (default: each decoder's own, 20). */
  readonly depth?: number;
}

/** The decoders of every venue and oracle, routed by source: what replay, backtest and `run` use. */
export function createDecoders(opts: CreateDecodersOptions = {}): DecoderSet {
  const depth = opts.depth !== undefined ? { depth: opts.depth } : {};
  return createDecoderSet([
    createPolymarketDecoder(depth),
    createKalshiDecoder(depth),
    ...oracleDecoders('binance'),
    ...oracleDecoders('chainlink'),
  ]);
}

export interface DecoderSet {
  readonly decoders: readonly Decoder[];
  /** Decodes a frame with the decoder of its source (`sim.x` routes like `x`); unknown sources are rejected. */
  route(frame: RawFrame, sink: FeedSink): void;
  /** The decoder for a source name (with or without `sim.`). */
  decoderFor(source: string): Decoder | undefined;
  /** Every book the decoders hold, keyed by instrument (`venue:tokenId`). */
  books(): OrderBook[];
}

/** Where the checking sink of a decoder set points between frames: nothing decodes then. */
const NO_SINK: FeedSink = {
  emit() {
    throw new Error('a decoder emitted outside decode()');
  },
  reject() {
    throw new Error('a decoder rejected outside decode()');
  },
};

/** Builds the routing table of a set of decoders. Two decoders may not claim the same source. */
export function createDecoderSet(decoders: readonly Decoder[]): DecoderSet {
  const bySource = new Map<string, Decoder>();
  for (const d of decoders) {
    for (const s of d.sources) {
      if (bySource.has(s)) throw new Error(`two decoders claim source ${s}`);
      bySource.set(s, d);
      bySource.set(`sim.${s}`, d);
    }
  }
  // One checking sink for every frame, pointed at the frame's source and sink while its decoder runs (decoders
  // call the sink synchronously inside decode): no object and two closures allocated per frame.
  let curSource = '';
  let curSink: FeedSink = NO_SINK;
  const checked: FeedSink = {
    emit(event) {
      // a stale book (waiting for its snapshot) may be crossed meanwhile: nothing trades on it, marks skip it
      const bad = event.type === 'book' && !event.stale ? impossibleBook(event) : undefined;
      if (bad) curSink.reject(curSource, `${bad} (${event.type === 'book' ? event.tokenId : ''})`);
      else curSink.emit(event);
    },
    reject: (source, reason) => curSink.reject(source, reason),
  };
  return {
    decoders,
    route(frame, sink) {
      const d = bySource.get(frame.source);
      if (!d) {
        sink.reject(frame.source, 'no decoder for this source');
        return;
      }
      // The lookup strips `sim.`; the frame goes on unchanged (every decoder reads its source through baseSource,
      // and rejections keep the name as written in the capture). Impossible books are rejected here, for all.
      // (saved and restored: a route from inside a sink, if any, finds its caller's frame again)
      const prevSource = curSource;
      const prevSink = curSink;
      curSource = frame.source;
      curSink = sink;
      try {
        d.decode(frame, checked);
      } finally {
        curSource = prevSource;
        curSink = prevSink;
      }
    },
    decoderFor: (source) => bySource.get(source),
    books() {
      const out: OrderBook[] = [];
      for (const d of decoders) if (d.books) for (const b of d.books()) out.push(b);
      return out;
    },
  };
}

/** Routes one frame through a decoder set (alias of `set.route`). */
export function routeFrame(set: DecoderSet, frame: RawFrame, sink: FeedSink): void {
  set.route(frame, sink);
}

/** The channel a FeedEvent belongs on. */
export function feedChannel(event: FeedEvent): Channel<FeedEvent> {
  switch (event.type) {
    case 'market':
      return channels.markets(event.venue) as Channel<FeedEvent>;
    case 'book':
      return channels.books(event.venue) as Channel<FeedEvent>;
    case 'trade':
      return channels.trades(event.venue) as Channel<FeedEvent>;
    case 'resolution':
      return channels.resolutions as Channel<FeedEvent>;
    case 'tick':
      return channels.ticks(event.source) as Channel<FeedEvent>;
  }
}

/** A fast `event → bus.publish(channel, event)` with the channel objects looked up once. */
export function createFeedPublisher(bus: Pick<Bus, 'publish'>): (event: FeedEvent) => void {
  const venueChans = new Map<
    Venue,
    { markets: Channel<FeedEvent>; books: Channel<FeedEvent>; trades: Channel<FeedEvent> }
  >();
  const tickChans = new Map<OracleSource, Channel<FeedEvent>>();
  const resolutions = channels.resolutions as Channel<FeedEvent>;
  const forVenue = (v: Venue) => {
    let c = venueChans.get(v);
    if (!c) {
      c = {
        markets: channels.markets(v) as Channel<FeedEvent>,
        books: channels.books(v) as Channel<FeedEvent>,
        trades: channels.trades(v) as Channel<FeedEvent>,
      };
      venueChans.set(v, c);
    }
    return c;
  };
  return (event) => {
    switch (event.type) {
      case 'book':
        bus.publish(forVenue(event.venue).books, event);
        return;
      case 'market':
        bus.publish(forVenue(event.venue).markets, event);
        return;
      case 'trade':
        bus.publish(forVenue(event.venue).trades, event);
        return;
      case 'resolution':
        bus.publish(resolutions, event);
        return;
      case 'tick': {
        let c = tickChans.get(event.source);
        if (!c) {
          c = channels.ticks(event.source) as Channel<FeedEvent>;
          tickChans.set(event.source, c);
        }
        bus.publish(c, event);
        return;
      }
    }
  };
}

// ------------------------------------------------------------------------------------------------ feeds

export { FEED_NAMES, FEED_PREFIXES, type FeedName, parseFeedNames } from './feed-names.ts';

/** The decoder of one feed (its own set, so a watcher holds only its venue's books). */
export function createFeedDecoders(name: FeedName, opts: CreateDecodersOptions = {}): DecoderSet {
  const depth = opts.depth !== undefined ? { depth: opts.depth } : {};
  switch (name) {
    case 'polymarket':
      return createDecoderSet([createPolymarketDecoder(depth)]);
    case 'kalshi':
      return createDecoderSet([createKalshiDecoder(depth)]);
    case 'binance':
    case 'chainlink':
      return createDecoderSet(oracleDecoders(name));
  }
}

/** Oracle decoders by source. */
function oracleDecoders(name: 'binance' | 'chainlink'): Decoder[] {
  switch (name) {
    case 'binance':
      return [createBinanceDecoder()];
    case 'chainlink':
      return [createChainlinkDecoder()];
  }
}
