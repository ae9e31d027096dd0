/**
 * Venue watcher (one per venue): runs a FrameSource (live websocket/REST, or the simulator), decodes every frame
 * with the venue's decoder, and publishes normalized markets, books, trades and resolutions on the bus.
 *
 * Staleness is decided by src/feeds/staleness.ts, fed here: every frame (the venue is alive), the decoder's flag
 * on each book (sequence gap, no snapshot since a reconnect), and, on a clock timer, the source's connection and
 * its transport's last heartbeat. A book whose verdict changes without an update (the feed went down or silent)
 * is republished with the new flag; a quiet book on a live feed stays fresh. Health: connected, lastMessageAgeMs,
 * reconnects, framesRejected, books, stale.
 *
 * Recovery: given a factory (`source: () => FrameSource`), a source that fails to start, or stays down for
 * `restartAfterMs`, is replaced by a fresh one (new HTTP client and socket) after a backoff, forever, until the
 * agent stops (src/feeds/restarting-source.ts). A plain FrameSource is retried as it is.
 * A connection marker frame going down (capture/markers.ts: in a capture, or put in the stream by a transport)
 * reaches the decoders like any frame: their books go stale until the venue's next snapshot.
 *
 * The same machinery serves the oracle agent (src/agents/oracle-agent.ts), with ticks instead of books.
 */
import type { Agent, AgentRuntime, HealthDetails } from '../core/agent.ts';
import type { TimerHandle } from '../core/clock.ts';
import { instrumentKey, type OracleTick, type OrderBook, oracleKey, type Venue } from '../core/messages.ts';
import type { BackoffOptions } from '../feeds/backoff.ts';
import { createRestartingSource, type RestartingSource } from '../feeds/restarting-source.ts';
import { Staleness } from '../feeds/staleness.ts';
import type { Decoder, FeedEvent, FeedSink, FrameSource, RawFrame } from '../feeds/types.ts';
import { createDecoderSet, createFeedPublisher, type DecoderSet } from '../venues/registry.ts';

/** A source, or a factory of fresh sources (what live feeds need to recover: a stopped source stays closed). */
export type SourceOrFactory = FrameSource | (() => FrameSource);

export interface FeedAgentOptions {
  readonly name: string;
  /**
   * The feed this agent is (a venue or an oracle source), sent as `feed` in its heartbeats: the risk guardian
   * hears from it there when no book changes, and judges the feed silent when it hears nothing at all.
   */
  readonly feed?: string;
  readonly source: SourceOrFactory;
  readonly decoders: Decoder | DecoderSet;
  /** No frame and no heartbeat for this long → the feed's books are stale (default: config.risk.staleAfterMs). */
  readonly heartbeatTimeoutMs?: number;
  /** How often the connection and the heartbeat are checked (default min(heartbeatTimeoutMs / 4, 1000) ms). */
  readonly checkEveryMs?: number;
  /** A source from a factory that is down or silent this long is replaced by a fresh one (default 60 s). */
  readonly restartAfterMs?: number;
  /** Delay between attempts (default 5 s doubling to 60 s, jittered). */
  readonly retry?: BackoffOptions;
}

interface Tracked<T extends OrderBook | OracleTick> {
  last: T;
  marketId?: string;
}

export interface FeedAgent extends Agent {
  /** Frames handed to the decoder so far. */
  readonly frames: number;
  /**
   * Marks books/ticks stale now and republishes them: those of `keys` (instrument keys `venue:tokenId` or oracle
   * keys), or all. For a transport that loses part of its instruments (one websocket shard of several dropped).
   * They stay stale until their decoder reports them fresh (a snapshot).
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

/** The shared watcher: decode, publish, and publish the staleness verdict of src/feeds/staleness.ts. */
export function createFeedAgent(opts: FeedAgentOptions): FeedAgent {
  const set: DecoderSet = 'route' in opts.decoders ? opts.decoders : createDecoderSet([opts.decoders]);
  const books = new Map<string, Tracked<OrderBook>>();
  const ticks = new Map<string, Tracked<OracleTick>>();
  /** Book keys by market: a resolution forgets its own books without a scan of every book (100k at scale). */
  const bookKeysOf = new Map<string, string[]>();
  let rt: AgentRuntime | undefined;
  let publish: ((e: FeedEvent) => void) | undefined;
  let timer: TimerHandle | undefined;
  let staleness: Staleness | undefined;
  let source: RestartingSource | undefined;
  let frames = 0;
  let rejected = 0;
  let lastFrameAt: number | undefined;
  let staleMarked = 0;
  let restarts = 0;
  let badSince: number | undefined;
  const reasons = new Map<string, number>();
  const events: Record<string, number> = {};

  const track = <T extends OrderBook | OracleTick>(
    map: Map<string, Tracked<T>>,
    key: string,
    event: T,
    marketId?: string,
  ): T => {
    const stale = staleness!.update(key, event.stale);
    const out = stale === event.stale ? event : { ...event, stale };
    const t = map.get(key);
    if (t) t.last = out;
    else {
      map.set(key, { last: out, ...(marketId !== undefined ? { marketId } : {}) });
      if (marketId !== undefined) {
        const keys = bookKeysOf.get(marketId);
        if (keys) keys.push(key);
        else bookKeysOf.set(marketId, [key]);
      }
    }
    return out;
  };

  const sink: FeedSink = {
    emit(event) {
      events[event.type] = (events[event.type] ?? 0) + 1;
      if (event.type === 'book') {
        publish!(track(books, instrumentKey(event.venue, event.tokenId), event, event.marketId));
        return;
      }
      if (event.type === 'tick') {
        publish!(track(ticks, oracleKey(event.source, event.symbol), event));
        return;
      }
      if (event.type === 'resolution') {
        // a resolved market's books stop trading: no more staleness for them
        for (const k of bookKeysOf.get(event.marketId) ?? []) {
          books.delete(k);
          staleness!.forget(k);
        }
        bookKeysOf.delete(event.marketId);
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
    staleness!.frame(lastFrameAt);
    set.route(frame, sink);
  };

  /** The staleness version last republished for (see Staleness.version). */
  let republished = -1;
  /** Republishes every tracked book/tick whose verdict differs from what was last published. */
  const republish = (): void => {
    const s = staleness!;
    // every published verdict came from update() since: none can differ (a scan of every book each second saved)
    if (s.version === republished) return;
    republished = s.version;
    const now = rt!.clock.now();
    for (const map of [books, ticks] as Map<string, Tracked<OrderBook | OracleTick>>[]) {
      for (const [key, t] of map) {
        const stale = s.isStale(key);
        if (stale === t.last.stale) continue;
        if (stale) staleMarked++;
        t.last = { ...t.last, stale, receiveTime: now };
        publish!(t.last);
      }
    }
  };

  const check = (): void => {
    const s = staleness!;
    const now = rt!.clock.now();
    const h = source!.liveness();
    const wasDown: boolean = s.reason === 'down';
    s.observe(h, now);
    // a feed that went down lost its books: they need the venue's snapshot, not just the next delta
    if (!wasDown && s.reason === 'down') s.lost([...books.keys(), ...ticks.keys()]);
    republish();
    if (typeof opts.source !== 'function') return;
    // only a source that has started counts: a slow start (a long discovery) is not a failure, and a start that
    // fails is retried by the restarting source itself
    if (!s.feedStale || !h.started) {
      badSince = undefined;
      return;
    }
    badSince ??= now;
    const after = opts.restartAfterMs ?? 60_000;
    if (now - badSince >= after) {
      badSince = undefined;
      restarts++;
      rt?.log.warn(
        { agent: opts.name, reason: s.reason, afterMs: after },
        'feed restarting with a fresh transport',
      );
      source!.fail(new Error(`feed ${s.reason} for ${after} ms`));
    }
  };

  return {
    name: opts.name,
    trading: false,
    get frames() {
      return frames;
    },
    markStale(keys) {
      if (!rt || !publish || !staleness) return;
      staleness.lost(keys ?? [...books.keys(), ...ticks.keys()]);
      republish();
    },
    stats: () => ({
      events: { ...events },
      rejected: { total: rejected, reasons: Object.fromEntries(reasons) },
    }),
    books: () => set.books(),
    async start(runtime) {
      rt = runtime;
      publish = createFeedPublisher({ publish: (ch, body) => runtime.publish(ch, body) });
      const timeout = opts.heartbeatTimeoutMs ?? runtime.config.risk.staleAfterMs;
      staleness = new Staleness({ heartbeatTimeoutMs: timeout });
      republished = -1;
      const make = opts.source;
      source = createRestartingSource({
        name: typeof make === 'function' ? opts.name : make.name,
        create: typeof make === 'function' ? make : () => make,
        clock: runtime.clock,
        ...(opts.retry ? { backoff: opts.retry } : {}),
        onFailure: (err, retryMs) =>
          runtime.log.error({ agent: opts.name, err: err.message, retryMs }, 'feed failed; retrying'),
      });
      timer = runtime.clock.every(
        opts.checkEveryMs ?? Math.max(1, Math.min(Math.floor(timeout / 4), 1000)),
        check,
      );
      await source.start(onFrame);
    },
    async stop() {
      timer?.cancel();
      timer = undefined;
      await source?.stop();
      if (rt && publish && staleness) {
        staleness.observe({ connected: false }, rt.clock.now());
        republish();
      }
    },
    health(): HealthDetails {
      const h = source?.health() ?? {};
      let staleBooks = 0;
      for (const t of books.values()) if (t.last.stale) staleBooks++;
      for (const t of ticks.values()) if (t.last.stale) staleBooks++;
      const now = rt?.clock.now();
      return {
        ...(opts.feed !== undefined ? { feed: opts.feed } : {}),
        connected: h.connected === true,
        lastMessageAgeMs: lastFrameAt === undefined || now === undefined ? null : now - lastFrameAt,
        reconnects: typeof h.reconnects === 'number' ? h.reconnects : 0,
        framesRejected: rejected,
        frames,
        books: books.size,
        ticks: ticks.size,
        stale: staleBooks,
        staleMarked,
        startFailures: typeof h.startFailures === 'number' ? h.startFailures : 0,
        restarts,
      };
    },
  };
}

export interface VenueWatcherOptions {
  readonly venue: Venue;
  readonly source: SourceOrFactory;
  readonly decoder: Decoder | DecoderSet;
  readonly heartbeatTimeoutMs?: number;
  readonly checkEveryMs?: number;
  readonly restartAfterMs?: number;
  readonly retry?: BackoffOptions;
  /** Agent name (default `venue-watcher-<venue>`). */
  readonly name?: string;
}

export function createVenueWatcher(opts: VenueWatcherOptions): FeedAgent {
  return createFeedAgent({
    name: opts.name ?? `venue-watcher-${opts.venue}`,
    feed: opts.venue,
    source: opts.source,
    decoders: opts.decoder,
    ...(opts.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: opts.heartbeatTimeoutMs } : {}),
    ...(opts.checkEveryMs !== undefined ? { checkEveryMs: opts.checkEveryMs } : {}),
    ...(opts.restartAfterMs !== undefined ? { restartAfterMs: opts.restartAfterMs } : {}),
    ...(opts.retry ? { retry: opts.retry } : {}),
  });
}
