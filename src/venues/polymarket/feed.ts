/**
 * The live Polymarket FrameSource: Gamma discovery (active markets, paginated), CLOB book snapshots by POST
 * /books (≤ 500 ids a request), then the websocket market channel for every token; optionally rediscovers on
 * an interval and subscribes new tokens. Every response and frame reaches `onFrame` as a RawFrame; the decoder
 * (decoder.ts) turns them into Markets and books, so live, record and replay share one parse path.
 */

import type { BackoffOptions } from '../../feeds/backoff.ts';
import type { RateRules } from '../../feeds/rate-limit.ts';
import type { FrameSource, RawFrame } from '../../feeds/types.ts';
import { stringArray } from './parse.ts';
import { createPolymarketRest, type PolymarketRest } from './rest.ts';
import type { GammaMarket } from './wire.ts';
import { PolymarketMarketWs } from './ws.ts';

const WS_SOURCE = 'polymarket.ws.market';

export interface PolymarketFeedOptions {
  readonly gammaUrl?: string;
  readonly clobUrl?: string;
  readonly wsUrl?: string;
  /** Receive-time stamps (the kernel clock's now). */
  readonly now: () => number;
  /** Which discovered (active, open, order-book) markets to follow; default all. */
  readonly marketFilter?: (m: GammaMarket) => boolean;
  /** Follow at most this many markets (after the filter). */
  readonly maxMarkets?: number;
  /** Gamma page size (default 500) and page cap (default 200). */
  readonly pageSize?: number;
  readonly maxPages?: number;
  /** Extra Gamma /markets query parameters (e.g. tag_id, order). */
  readonly gammaQuery?: Readonly<Record<string, string>>;
  /** Rediscover every this many ms and follow new markets (default 0: never). */
  readonly refreshMs?: number;
  readonly rateRules?: RateRules;
  readonly http?: {
    readonly timeoutMs?: number;
    readonly retries?: number;
    readonly backoff?: BackoffOptions;
  };
  readonly ws?: {
    readonly pingIntervalMs?: number;
    readonly silenceMs?: number;
    readonly maxAssetsPerConnection?: number;
    readonly backoff?: BackoffOptions;
  };
  /**
   * A websocket connection opened or dropped, with the tokens it carries. The feed also puts a `connection`
   * marker frame in its stream, so the decoder holds those books stale until the snapshots after the reconnect.
   */
  readonly onConnection?: (event: { shard: number; connected: boolean; assets: readonly string[] }) => void;
  /** Errors of background work (rediscovery) that do not stop the feed. */
  readonly onError?: (err: Error) => void;
}

export interface PolymarketFeed extends FrameSource {
  /** Token ids followed on the websocket. */
  tokens(): readonly string[];
  /** Runs one discovery pass now; resolves with the number of new tokens. */
  refresh(): Promise<number>;
  /** Drops and reopens every websocket connection. */
  reconnect(): void;
}

/** Markets worth a book: active, not closed/archived, order book enabled and accepting orders. */
export function isTradable(m: GammaMarket): boolean {
  return (
    m.active !== false &&
    m.closed !== true &&
    m.archived !== true &&
    m.enableOrderBook !== false &&
    m.acceptingOrders !== false &&
    typeof m.conditionId === 'string' &&
    m.conditionId !== ''
  );
}

function tokenIdsOf(m: GammaMarket): string[] {
  try {
    return stringArray(m.clobTokenIds ?? '[]', 'clobTokenIds').filter((t) => /^\d+$/.test(t));
  } catch {
    return [];
  }
}

export function createPolymarketFeed(opts: PolymarketFeedOptions): PolymarketFeed {
  let onFrame: ((f: RawFrame) => void) | undefined;
  const emit = (f: RawFrame): void => {
    if (onFrame) onFrame(f);
  };
  const rest: PolymarketRest = createPolymarketRest({
    gammaUrl: opts.gammaUrl,
    clobUrl: opts.clobUrl,
    now: opts.now,
    onFrame: emit,
    rateRules: opts.rateRules,
    timeoutMs: opts.http?.timeoutMs,
    retries: opts.http?.retries,
    backoff: opts.http?.backoff,
  });
  const ws = new PolymarketMarketWs({
    url: opts.wsUrl,
    now: opts.now,
    onFrame: emit,
    pingIntervalMs: opts.ws?.pingIntervalMs,
    silenceMs: opts.ws?.silenceMs,
    maxAssetsPerConnection: opts.ws?.maxAssetsPerConnection,
    backoff: opts.ws?.backoff,
    onConnection: (e) => {
      // a marker in the frame stream (recorded in captures too): the decoder holds these books stale until the
      // venue's snapshot after the reconnect
      const state = e.connected ? 'up' : 'down';
      emit({
        ts: opts.now(),
        source: WS_SOURCE,
        data: { event_type: 'connection', state, asset_ids: [...e.assets] },
      });
      opts.onConnection?.({ shard: e.shard, connected: e.connected, assets: [...e.assets] });
    },
  });
  const followed = new Set<string>();
  const markets = new Set<string>();
  let refreshTimer: NodeJS.Timeout | undefined;
  let refreshing: Promise<number> | undefined;
  let lastError: string | null = null;
  let running = false;

  async function discover(): Promise<number> {
    const found = await rest.discoverMarkets({
      pageSize: opts.pageSize,
      maxPages: opts.maxPages,
      query: opts.gammaQuery,
    });
    // nothing is marked followed until its books arrived: a failed pass is retried whole by the next one
    const freshMarkets = new Set<string>();
    const freshTokens = new Set<string>();
    for (const m of found) {
      if (!isTradable(m)) continue;
      if (opts.marketFilter && !opts.marketFilter(m)) continue;
      const id = m.conditionId!;
      if (!markets.has(id) && !freshMarkets.has(id)) {
        if (opts.maxMarkets !== undefined && markets.size + freshMarkets.size >= opts.maxMarkets) continue;
        freshMarkets.add(id);
      }
      for (const t of tokenIdsOf(m)) if (!followed.has(t)) freshTokens.add(t);
    }
    const fresh = [...freshTokens];
    if (fresh.length > 0) await rest.books(fresh);
    for (const id of freshMarkets) markets.add(id);
    for (const t of fresh) followed.add(t);
    if (fresh.length > 0 && running) ws.subscribe(fresh);
    return fresh.length;
  }

  const refresh = (): Promise<number> => {
    if (!refreshing) {
      refreshing = discover().finally(() => {
        refreshing = undefined;
      });
    }
    return refreshing;
  };

  return {
    name: 'polymarket',
    async start(cb) {
      if (running) throw new Error('polymarket feed already started');
      onFrame = cb;
      running = true;
      ws.start();
      try {
        await refresh();
      } catch (e) {
        lastError = e instanceof Error ? e.message : String(e);
        running = false;
        await ws.stop();
        throw e;
      }
      if (opts.refreshMs && opts.refreshMs > 0) {
        refreshTimer = setInterval(() => {
          refresh().catch((e: unknown) => {
            const err = e instanceof Error ? e : new Error(String(e));
            lastError = err.message;
            opts.onError?.(err);
          });
        }, opts.refreshMs);
      }
    },
    async stop() {
      running = false;
      if (refreshTimer) clearInterval(refreshTimer);
      refreshTimer = undefined;
      await ws.stop();
      await refreshing?.catch(() => 0);
      await rest.close();
    },
    health() {
      const h = ws.health();
      const last = typeof h.lastMessageAt === 'number' ? h.lastMessageAt : null;
      return {
        ...h,
        ...rest.stats(),
        lastMessageAgeMs: last === null ? null : Math.max(0, opts.now() - last),
        framesRejected: h.framesMalformed ?? 0,
        markets: markets.size,
        tokens: followed.size,
        lastError: lastError ?? h.lastError ?? null,
      };
    },
    tokens: () => [...followed],
    refresh,
    reconnect: () => ws.reconnectAll(),
  };
}
