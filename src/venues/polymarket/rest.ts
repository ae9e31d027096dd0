/**
 * Polymarket REST transport: Gamma discovery (GET /markets, /events with limit/offset pagination over bare
 * arrays, P4) and CLOB books (GET /book, POST /books in chunks of ≤ 500 token ids, P9), rate-limited per
 * endpoint (P12) and retried by the shared HTTP client. Every response is handed to `onFrame` as a RawFrame with
 * its source name and request, so a capture replays through the decoder exactly as it ran live.
 */

import type { BackoffOptions } from '../../feeds/backoff.ts';
import { createHttpClient, type HttpClient, type Query } from '../../feeds/http.ts';
import {
  createRateLimiter,
  POLYMARKET_RATE_RULES,
  type RateLimiter,
  type RateRules,
} from '../../feeds/rate-limit.ts';
import type { RawFrame, RawRequest, SourceName } from '../../feeds/types.ts';
import type { ClobBook, GammaEvent, GammaMarket } from './wire.ts';

export const GAMMA_URL = 'https://gamma-api.polymarket.com';
export const CLOB_URL = 'https://clob.polymarket.com';
/** POST /books takes at most 500 token ids (P9). */
export const MAX_BOOKS_PER_REQUEST = 500;

export interface PolymarketRestOptions {
  readonly gammaUrl?: string;
  readonly clobUrl?: string;
  /** Receive-time stamps of frames. */
  readonly now: () => number;
  /** Every response as a raw frame. */
  readonly onFrame?: (frame: RawFrame) => void;
  /** Per-endpoint limits (default POLYMARKET_RATE_RULES); or a ready limiter. */
  readonly rateRules?: RateRules;
  readonly limiter?: RateLimiter;
  readonly timeoutMs?: number;
  readonly retries?: number;
  readonly backoff?: BackoffOptions;
}

export interface DiscoverOptions {
  /** Page size (default 500). */
  readonly pageSize?: number;
  /** Stop after this many pages (default 200). */
  readonly maxPages?: number;
  /** Extra query parameters (default active=true&closed=false). */
  readonly query?: Query;
}

export interface PolymarketRest {
  /** One page of GET /markets. */
  marketsPage(query: Query): Promise<GammaMarket[]>;
  /** Every page of GET /markets (active, not closed, by default). */
  discoverMarkets(opts?: DiscoverOptions): Promise<GammaMarket[]>;
  /** Every page of GET /events (active, not closed, by default). */
  discoverEvents(opts?: DiscoverOptions): Promise<GammaEvent[]>;
  book(tokenId: string): Promise<ClobBook>;
  /** POST /books in chunks of ≤ 500. */
  books(tokenIds: readonly string[], chunk?: number): Promise<ClobBook[]>;
  stats(): Record<string, number>;
  close(): Promise<void>;
}

function sourceOf(host: 'gamma' | 'clob', path: string): SourceName | undefined {
  if (host === 'clob') return path === '/book' || path === '/books' ? 'polymarket.clob.book' : undefined;
  if (path === '/markets' || path.startsWith('/markets/')) return 'polymarket.gamma.markets';
  if (path === '/events' || path.startsWith('/events/')) return 'polymarket.gamma.events';
  return undefined;
}

export function createPolymarketRest(opts: PolymarketRestOptions): PolymarketRest {
  const limiter = opts.limiter ?? createRateLimiter({ rules: opts.rateRules ?? POLYMARKET_RATE_RULES });
  const record = (host: 'gamma' | 'clob') => (req: RawRequest, data: unknown) => {
    const source = sourceOf(host, req.path);
    if (source && opts.onFrame) opts.onFrame({ ts: opts.now(), source, data, req });
  };
  const common = {
    timeoutMs: opts.timeoutMs ?? 15_000,
    retries: opts.retries ?? 4,
    backoff: opts.backoff,
    limiter,
  };
  const gamma: HttpClient = createHttpClient({
    ...common,
    baseUrl: opts.gammaUrl ?? GAMMA_URL,
    rateAlias: 'gamma',
    onResponse: record('gamma'),
  });
  const clob: HttpClient = createHttpClient({
    ...common,
    baseUrl: opts.clobUrl ?? CLOB_URL,
    rateAlias: 'clob',
    onResponse: record('clob'),
  });

  /**
   * Walks limit/offset pages until an empty one. A short page does not end the walk: Gamma may cap the page size
   * below what was asked, and stopping early would silently drop markets.
   */
  async function paged<T>(path: string, o: DiscoverOptions = {}): Promise<T[]> {
    const limit = o.pageSize ?? 500;
    const maxPages = o.maxPages ?? 200;
    const out: T[] = [];
    let offset = 0;
    for (let page = 0; page < maxPages; page++) {
      const res = await gamma.get<unknown>(path, {
        active: 'true',
        closed: 'false',
        ...o.query,
        limit,
        offset,
      });
      if (!Array.isArray(res.data))
        throw new Error(`gamma ${path}: expected a JSON array, got ${typeof res.data}`);
      if (res.data.length === 0) break;
      out.push(...(res.data as T[]));
      offset += res.data.length;
    }
    return out;
  }

  return {
    async marketsPage(query) {
      const res = await gamma.get<unknown>('/markets', query);
      if (!Array.isArray(res.data)) throw new Error('gamma /markets: expected a JSON array');
      return res.data as GammaMarket[];
    },
    discoverMarkets: (o) => paged<GammaMarket>('/markets', o),
    discoverEvents: (o) => paged<GammaEvent>('/events', o),
    async book(tokenId) {
      return (await clob.get<ClobBook>('/book', { token_id: tokenId })).data;
    },
    async books(tokenIds, chunk = MAX_BOOKS_PER_REQUEST) {
      const size = Math.max(1, Math.min(chunk, MAX_BOOKS_PER_REQUEST));
      const out: ClobBook[] = [];
      for (let i = 0; i < tokenIds.length; i += size) {
        const body = tokenIds.slice(i, i + size).map((token_id) => ({ token_id }));
        const res = await clob.post<unknown>('/books', body);
        if (!Array.isArray(res.data)) throw new Error('clob /books: expected a JSON array');
        out.push(...(res.data as ClobBook[]));
      }
      return out;
    },
    stats() {
      const g = gamma.stats();
      const c = clob.stats();
      return {
        httpRequests: (g.requests ?? 0) + (c.requests ?? 0),
        httpRetries: (g.retries ?? 0) + (c.retries ?? 0),
        httpFailures: (g.failures ?? 0) + (c.failures ?? 0),
      };
    },
    async close() {
      await Promise.all([gamma.close(), clob.close()]);
    },
  };
}
