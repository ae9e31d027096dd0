/**
 * The one place that decides whether a book or tick is stale. The venue watcher and the oracle agent feed it and
 * publish its verdict as the `stale` flag; the scanner, the risk guardian and the executor only read that flag.
 *
 * A book (or tick) is stale when
 * - its feed is down (the source reports itself disconnected), or
 * - the venue's heartbeat lapsed: no frame and no transport heartbeat for `heartbeatTimeoutMs`, or
 * - its decoder says so: the sequence broke, or the connection that carried it dropped and no snapshot has
 *   arrived since (the decoders see the connection markers `{type:'connection', state}` the live feeds put in the
 *   frame stream, so a delta after a reconnect is not fresh until the venue's snapshot), or
 * - the part of the feed that carried it was lost (`lost(keys)`: one websocket shard of several dropped), until
 *   its decoder reports it fresh again.
 *
 * Nobody trading is not staleness: a quiet book on a live, heartbeating feed stays fresh however old it is.
 * Pure state with the time passed in (the caller's injected clock).
 */

export interface StalenessOptions {
  /** No frame and no heartbeat for this long → every book of the feed is stale. */
  readonly heartbeatTimeoutMs: number;
}

export interface FeedLiveness {
  /** The source reports itself connected (sources without a notion of connection: always true). */
  readonly connected: boolean;
  /** When the transport last heard from the venue (a frame or a heartbeat reply), by the caller's clock. */
  readonly lastAliveAt?: number | null;
}

interface KeyState {
  /** The decoder's own flag on the last event (sequence gap, no snapshot since a reconnect). */
  decoderStale: boolean;
  /** Lost with part of the feed, not yet reported fresh by its decoder. */
  lost: boolean;
}

export class Staleness {
  private readonly timeoutMs: number;
  private readonly keys = new Map<string, KeyState>();
  private connected = true;
  private lastAliveAt: number | undefined;
  private lapsed = false;
  private ver = 0;

  constructor(opts: StalenessOptions) {
    if (!(opts.heartbeatTimeoutMs > 0)) throw new Error('heartbeatTimeoutMs must be positive');
    this.timeoutMs = opts.heartbeatTimeoutMs;
  }

  /** A frame arrived: the venue is alive. */
  frame(now: number): void {
    this.lastAliveAt = Math.max(this.lastAliveAt ?? now, now);
    if (this.lapsed) {
      this.lapsed = false;
      this.ver++;
    }
  }

  /**
   * A decoded book/tick for `key`, with the decoder's own flag; returns the flag to publish. The event's frame
   * has been counted with `frame()` first.
   */
  update(key: string, decoderStale: boolean): boolean {
    let s = this.keys.get(key);
    if (!s) {
      s = { decoderStale, lost: false };
      this.keys.set(key, s);
    }
    s.decoderStale = decoderStale;
    // the decoder vouches for the book again (after a snapshot): a lost key is back
    if (!decoderStale) s.lost = false;
    // from the state just looked up (this runs on every book and tick), by the same rule as isStale
    return this.staleAt(s);
  }

  /** The instrument no longer trades (resolved): forget it. */
  forget(key: string): void {
    this.keys.delete(key);
  }

  /** Part of the feed dropped (a websocket shard): these keys are stale until their decoder reports them fresh. */
  lost(keys: Iterable<string>): void {
    for (const k of keys) {
      const s = this.keys.get(k);
      if (s) s.lost = true;
    }
    this.ver++;
  }

  /** The source's connection state and the transport's last heartbeat, polled on the caller's timer. */
  observe(live: FeedLiveness, now: number): void {
    const was = this.feedStale;
    this.connected = live.connected;
    const alive = live.lastAliveAt;
    if (typeof alive === 'number' && (this.lastAliveAt === undefined || alive > this.lastAliveAt)) {
      this.lastAliveAt = alive;
    }
    if (this.lastAliveAt === undefined) this.lastAliveAt = now; // the silence counts from the first look
    this.lapsed = now - this.lastAliveAt >= this.timeoutMs;
    if (this.feedStale !== was) this.ver++;
  }

  /**
   * Changes whenever a key's verdict can have changed other than through `update` (the feed went down, lapsed or
   * came back; keys were lost): a caller holding the verdicts `update` returned need not re-check them otherwise.
   */
  get version(): number {
    return this.ver;
  }

  /** The feed as a whole cannot be trusted now: down or silent. */
  get feedStale(): boolean {
    return !this.connected || this.lapsed;
  }

  /** Why the feed is stale, for health and logs (null when it is not). */
  get reason(): 'down' | 'heartbeat' | null {
    if (!this.connected) return 'down';
    if (this.lapsed) return 'heartbeat';
    return null;
  }

  isStale(key: string): boolean {
    return this.staleAt(this.keys.get(key));
  }

  /** The one rule: the feed is down, or the key's decoder says stale, or the key was lost since its snapshot. */
  private staleAt(s: { decoderStale: boolean; lost: boolean } | undefined): boolean {
    return this.feedStale || (s !== undefined && (s.decoderStale || s.lost));
  }
}

export function createStaleness(opts: StalenessOptions): Staleness {
  return new Staleness(opts);
}
