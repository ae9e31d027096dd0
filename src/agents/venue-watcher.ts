/**
 * Venue watcher (one per venue): runs a FrameSource (live websocket/REST, or the simulator), decodes every frame
 * with the venue's decoder, and publishes normalized markets, books, trades and resolutions on the bus.
 *
 * Staleness: a book that got no update for `staleAfterMs` (config.risk.staleAfterMs), checked on a clock timer,
 * is republished once with `stale: true`; so is every book when the source reports a disconnect. The next update
 * from the venue clears the flag. A connection marker frame going down (capture/markers.ts: in a capture, or put
 * in the stream by a transport) does the same as a disconnect: its instruments, or all, go stale at once.
 * Health: connected, lastMessageAgeMs, reconnects, framesRejected, books.
 *
 * The same machinery serves the oracle agent (src/agents/oracle-agent.ts), with ticks instead of books.
 */
import { connectionMarker } from '../capture/markers.ts';
import type { Agent, AgentRuntime, HealthDetails } from '../core/agent.ts';
import type { TimerHandle } from '../core/clock.ts';
import { instrumentKey, type OracleTick, type OrderBook, oracleKey, type Venue } from '../core/messages.ts';
import { createDecoderSet, createFeedPublisher, type DecoderSet } from '../venues/registry.ts';
import type { Decoder, FeedEvent, FeedSink, FrameSource, RawFrame } from '../venues/types.ts';

export interface FeedAgentOptions {
  readonly name: string;
  readonly source: FrameSource;
  readonly decoders: Decoder | DecoderSet;
  /** Default: config.risk.staleAfterMs. */
  readonly staleAfterMs?: number;
  /** How often staleness and the connection are checked (default min(staleAfterMs / 4, 1000) ms). */
  readonly checkEveryMs?: number;
}

interface Tracked<T extends OrderBook | OracleTick> {
  last: T;
  updatedAt: number;
  stale: boolean;
  marketId?: string;
}

export interface FeedAgent extends Agent {
  /** Frames handed to the decoder so far. */
  readonly frames: number;
  /**
   * Marks books/ticks stale now and republishes them: those of `keys` (instrument keys `venue:tokenId` or oracle
   * keys), or all. For a transport that loses part of its instruments (one websocket shard of several dropped).
   */
  markStale(keys?: readonly string[]): void;
  /** What the decoders made of the frames: events by type, and rejected frames by `source: reason`. */
  stats(): FeedStats;
  /** The books the decoders hold now (for `replay --books-out`). */
  books(): OrderBook[];
}

export interface FeedStats {
  readonly events: Record<string, number>;
  readonly rejected: { readonly total: number; readonly reasons: Record<string, number> };
}

/** The shared watcher: decode, publish, flag stale books/ticks. */
export function createFeedAgent(opts: FeedAgentOptions): FeedAgent {
  const set: DecoderSet = 'route' in opts.decoders ? opts.decoders : createDecoderSet([opts.decoders]);
  const books = new Map<string, Tracked<OrderBook>>();
  const ticks = new Map<string, Tracked<OracleTick>>();
  let rt: AgentRuntime | undefined;
  let publish: ((e: FeedEvent) => void) | undefined;
  let timer: TimerHandle | undefined;
  let frames = 0;
  let rejected = 0;
  let lastFrameAt: number | undefined;
  let wasConnected = false;
  let staleMarked = 0;
  let disconnects = 0;
  const reasons = new Map<string, number>();

  const events: Record<string, number> = {};
  const sink: FeedSink = {
    emit(event) {
      events[event.type] = (events[event.type] ?? 0) + 1;
      const now = rt!.clock.now();
      if (event.type === 'book') {
        const key = instrumentKey(event.venue, event.tokenId);
        const t = books.get(key);
        if (t) {
          t.last = event;
          t.updatedAt = now;
          t.stale = event.stale;
        } else {
          books.set(key, { last: event, updatedAt: now, stale: event.stale, marketId: event.marketId });
        }
      } else if (event.type === 'tick') {
        const key = oracleKey(event.source, event.symbol);
        const t = ticks.get(key);
        if (t) {
          t.last = event;
          t.updatedAt = now;
          t.stale = event.stale;
        } else {
          ticks.set(key, { last: event, updatedAt: now, stale: event.stale });
        }
      } else if (event.type === 'resolution') {
        // a resolved market's books stop trading: no more staleness for them
        for (const [k, t] of books) if (t.marketId === event.marketId) books.delete(k);
      }
      publish!(event);
    },
    reject(source, reason) {
      rejected++;
      const key = `${source}: ${reason}`;
      const n = (reasons.get(key) ?? 0) + 1;
      reasons.set(key, n);
      if (n === 1 || n % 1000 === 0)
        rt?.log.warn({ agent: opts.name, source, reason, count: n }, 'frame rejected');
    },
  };

  const onFrame = (frame: RawFrame): void => {
    frames++;
    lastFrameAt = rt!.clock.now();
    const marker = connectionMarker(frame);
    if (marker) {
      if (marker.state === 'down') onDisconnect(marker.tokenIds);
      return;
    }
    set.route(frame, sink);
  };

  const onDisconnect = (tokenIds: readonly string[] | undefined): void => {
    disconnects++;
    if (tokenIds === undefined) {
      markStale(true);
      return;
    }
    const lost = new Set(tokenIds);
    const keys = new Set<string>();
    for (const [key, t] of books) if (lost.has(t.last.tokenId)) keys.add(key);
    markStale(true, keys);
  };

  const markStale = (all: boolean, only?: ReadonlySet<string>): void => {
    const now = rt!.clock.now();
    const after = opts.staleAfterMs ?? rt!.config.risk.staleAfterMs;
    for (const [key, t] of books) {
      if (only && !only.has(key)) continue;
      if (t.stale || (!all && now - t.updatedAt < after)) continue;
      t.stale = true;
      staleMarked++;
      t.last = { ...t.last, stale: true, receiveTime: now };
      publish!(t.last);
    }
    for (const [key, t] of ticks) {
      if (only && !only.has(key)) continue;
      if (t.stale || (!all && now - t.updatedAt < after)) continue;
      t.stale = true;
      staleMarked++;
      t.last = { ...t.last, stale: true, receiveTime: now };
      publish!(t.last);
    }
  };

  // A source that cannot start (venue unreachable at boot) does not stop the process: the agent reports itself
  // disconnected and tries again on a clock timer, 5 s doubling to 60 s.
  let retry: TimerHandle | undefined;
  let retryMs = 5_000;
  let stopped = false;
  let startFailures = 0;
  const tryStart = async (): Promise<void> => {
    if (stopped) return;
    try {
      await opts.source.start(onFrame);
      wasConnected = opts.source.health().connected === true;
      retryMs = 5_000;
    } catch (err) {
      startFailures++;
      const error = err instanceof Error ? err.message : String(err);
      rt?.log.error({ agent: opts.name, err: error, retryMs }, 'feed failed to start');
      await opts.source.stop().catch(() => undefined);
      if (stopped) return;
      retry = rt!.clock.after(retryMs, () => void tryStart());
      retryMs = Math.min(retryMs * 2, 60_000);
    }
  };

  const check = (): void => {
    const h = opts.source.health();
    const connected = h.connected === true;
    if (wasConnected && !connected) markStale(true);
    wasConnected = connected;
    markStale(false);
  };

  return {
    name: opts.name,
    trading: false,
    get frames() {
      return frames;
    },
    markStale(keys) {
      if (!rt || !publish) return;
      markStale(true, keys ? new Set(keys) : undefined);
    },
    stats: () => ({
      events: { ...events },
      rejected: { total: rejected, reasons: Object.fromEntries(reasons) },
    }),
    books: () => set.books(),
    async start(runtime) {
      rt = runtime;
      publish = createFeedPublisher({ publish: (ch, body) => runtime.publish(ch, body) });
      const after = opts.staleAfterMs ?? runtime.config.risk.staleAfterMs;
      timer = runtime.clock.every(
        opts.checkEveryMs ?? Math.max(1, Math.min(Math.floor(after / 4), 1000)),
        check,
      );
      await tryStart();
    },
    async stop() {
      stopped = true;
      retry?.cancel();
      retry = undefined;
      timer?.cancel();
      timer = undefined;
      await opts.source.stop();
      if (rt && publish) markStale(true);
    },
    health(): HealthDetails {
      const h = opts.source.health();
      let staleBooks = 0;
      for (const t of books.values()) if (t.stale) staleBooks++;
      for (const t of ticks.values()) if (t.stale) staleBooks++;
      const now = rt?.clock.now();
      return {
        connected: h.connected === true,
        lastMessageAgeMs: lastFrameAt === undefined || now === undefined ? null : now - lastFrameAt,
        reconnects: typeof h.reconnects === 'number' ? h.reconnects : 0,
        framesRejected: rejected,
        frames,
        books: books.size,
        ticks: ticks.size,
        stale: staleBooks,
        staleMarked,
        disconnects,
        startFailures,
      };
    },
  };
}

export interface VenueWatcherOptions {
  readonly venue: Venue;
  readonly source: FrameSource;
  readonly decoder: Decoder | DecoderSet;
  readonly staleAfterMs?: number;
  readonly checkEveryMs?: number;
  /** Agent name (default `venue-watcher-<venue>`). */
  readonly name?: string;
}

export function createVenueWatcher(opts: VenueWatcherOptions): FeedAgent {
  return createFeedAgent({
    name: opts.name ?? `venue-watcher-${opts.venue}`,
    source: opts.source,
    decoders: opts.decoder,
    ...(opts.staleAfterMs !== undefined ? { staleAfterMs: opts.staleAfterMs } : {}),
    ...(opts.checkEveryMs !== undefined ? { checkEveryMs: opts.checkEveryMs } : {}),
  });
}
