/**
 * Polymarket websocket market channel: subscribes asset ids with custom features (P16), sends the text heartbeat
 * "PING" every 10 s (P17; the "PONG" reply is liveness only), and spreads assets over several connections of at
 * most 500 each (P22). Each text frame becomes a RawFrame of source `polymarket.ws.market` whose data is the
 * parsed JSON, or the text itself when it is not JSON (the decoder rejects it and a capture keeps it).
 */

import type { BackoffOptions } from '../../feeds/backoff.ts';
import type { RawFrame } from '../../feeds/types.ts';
import { WsFeed, type WsFeedHealth } from '../../feeds/ws-feed.ts';
import { subscribeMessage, subscriptionUpdate } from './parse.ts';

export const WS_MARKET_URL = 'wss://ws-subscriptions-clob.polymarket.com/ws/market';
export const WS_SOURCE = 'polymarket.ws.market';

export interface PolymarketWsOptions {
  readonly url?: string;
  readonly now: () => number;
  readonly onFrame: (frame: RawFrame) => void;
  /** Default 500 (P22). */
  readonly maxAssetsPerConnection?: number;
  /** Default 10 s (P17). */
  readonly pingIntervalMs?: number;
  /** No frame (not even PONG) for this long → reconnect. Default 30 s. */
  readonly silenceMs?: number;
  readonly backoff?: BackoffOptions;
  /** A shard connected (its book snapshots follow) or dropped (its books are no longer current). */
  readonly onConnection?: (event: { shard: number; connected: boolean; assets: readonly string[] }) => void;
}

interface Shard {
  readonly index: number;
  readonly assets: string[];
  readonly feed: WsFeed;
}

export class PolymarketMarketWs {
  private readonly opts: PolymarketWsOptions;
  private readonly shards: Shard[] = [];
  private readonly known = new Set<string>();
  private started = false;
  private malformed = 0;

  constructor(opts: PolymarketWsOptions) {
    this.opts = opts;
  }

  /** Adds assets (new ones only); started shards subscribe them at once, and every reconnect resubscribes all. */
  subscribe(assetIds: readonly string[]): void {
    const max = this.opts.maxAssetsPerConnection ?? 500;
    const fresh = assetIds.filter((a) => !this.known.has(a));
    for (const a of fresh) this.known.add(a);
    let i = 0;
    while (i < fresh.length) {
      let shard = this.shards.find((s) => s.assets.length < max);
      if (!shard) shard = this.addShard();
      const room = max - shard.assets.length;
      const batch = fresh.slice(i, i + room);
      const wasEmpty = shard.assets.length === 0;
      shard.assets.push(...batch);
      i += batch.length;
      if (this.started) {
        if (wasEmpty) shard.feed.start((text, ts) => this.onText(text, ts));
        else shard.feed.send(subscriptionUpdate('subscribe', batch));
      }
    }
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const s of this.shards) if (s.assets.length > 0) s.feed.start((text, ts) => this.onText(text, ts));
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all(this.shards.map((s) => s.feed.stop()));
  }

  /** Resolves once every started shard is open. */
  async opened(): Promise<void> {
    await Promise.all(this.shards.filter((s) => s.assets.length > 0).map((s) => s.feed.opened()));
  }

  /** Drops and reopens every connection (they resubscribe and get fresh snapshots). */
  reconnectAll(): void {
    for (const s of this.shards) s.feed.reconnectNow();
  }

  get assetCount(): number {
    return this.known.size;
  }

  health(): Record<string, number | string | boolean | null> {
    const hs: WsFeedHealth[] = this.shards.map((s) => s.feed.health());
    const last = hs.reduce<number | null>(
      (m, h) => (h.lastMessageAt !== null && (m === null || h.lastMessageAt > m) ? h.lastMessageAt : m),
      null,
    );
    const sum = (k: 'reconnects' | 'framesReceived' | 'silenceReconnects') =>
      hs.reduce((a, h) => a + h[k], 0);
    const alive = hs.reduce<number | null>(
      (m, h) => (h.lastAliveAt !== null && (m === null || h.lastAliveAt > m) ? h.lastAliveAt : m),
      null,
    );
    return {
      // the feed is up while any shard is; a dropped shard's books go stale through its connection marker
      connected: hs.some((h) => h.connected),
      shards: hs.length,
      shardsConnected: hs.filter((h) => h.connected).length,
      lastMessageAt: last,
      lastAliveAt: alive,
      reconnects: sum('reconnects'),
      silenceReconnects: sum('silenceReconnects'),
      framesReceived: sum('framesReceived'),
      framesMalformed: this.malformed,
      lastError: hs.find((h) => h.lastError !== null)?.lastError ?? null,
    };
  }

  private addShard(): Shard {
    const index = this.shards.length;
    const assets: string[] = [];
    const feed = new WsFeed({
      name: `polymarket.ws.market#${index}`,
      url: this.opts.url ?? WS_MARKET_URL,
      now: this.opts.now,
      subscribe: () => [subscribeMessage(assets)],
      heartbeat: {
        kind: 'text',
        intervalMs: this.opts.pingIntervalMs ?? 10_000,
        message: 'PING',
        reply: 'PONG',
      },
      silenceMs: this.opts.silenceMs ?? 30_000,
      backoff: this.opts.backoff,
      onOpen: () => this.opts.onConnection?.({ shard: index, connected: true, assets }),
      onClose: () => this.opts.onConnection?.({ shard: index, connected: false, assets }),
    });
    const shard = { index, assets, feed };
    this.shards.push(shard);
    return shard;
  }

  private onText(text: string, ts: number): void {
    let data: unknown = text;
    const c = text.charCodeAt(0);
    if (c === 123 || c === 91) {
      try {
        data = JSON.parse(text);
      } catch {
        this.malformed++;
      }
    }
    this.opts.onFrame({ ts, source: WS_SOURCE, data });
  }
}
