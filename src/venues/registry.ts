/**
 * Source → decoder routing, FeedEvent → channel publishing, and the live FrameSource factories per venue/oracle.
 *
 * Every raw frame carries a source name (SOURCES in types.ts); simulated frames carry `sim.` + that name and go
 * to the same decoders, so the simulator, a capture and the live feeds all run the same parse code.
 */
import type { Bus } from '../core/bus/types.ts';
import { type Channel, channels } from '../core/channels.ts';
import type { OracleSource, OrderBook, Venue } from '../core/messages.ts';
import { baseSource, type Decoder, type FeedEvent, type FeedSink, type RawFrame } from './types.ts';

export interface DecoderSet {
  readonly decoders: readonly Decoder[];
  /** Decodes a frame with the decoder of its source (`sim.` stripped); unknown sources are rejected. */
  route(frame: RawFrame, sink: FeedSink): void;
  /** The decoder for a source name (with or without `sim.`). */
  decoderFor(source: string): Decoder | undefined;
  /** Every book the decoders hold, keyed by instrument (`venue:tokenId`). */
  books(): OrderBook[];
}

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
  return {
    decoders,
    route(frame, sink) {
      const d = bySource.get(frame.source);
      if (!d) {
        sink.reject(frame.source, 'no decoder for this source');
        return;
      }
      const base = baseSource(frame.source);
      d.decode(base === frame.source ? frame : { ...frame, source: base }, sink);
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
  const venueChans = new Map<Venue, { markets: Channel<FeedEvent>; books: Channel<FeedEvent>; trades: Channel<FeedEvent> }>();
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
