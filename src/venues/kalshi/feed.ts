/**
 * Kalshi live FrameSource: REST bootstrap (events, markets with cursor pagination, orderbooks of the chosen
 * markets) and a signed websocket subscribed to orderbook_delta, ticker and trade. Every raw response and
 * message goes out as a RawFrame (`kalshi.rest.events`, `kalshi.rest.markets`, `kalshi.rest.orderbook` with its
 * request, `kalshi.ws`); the decoder does the rest.
 *
 * - Signing (K11): REST requests and the websocket handshake carry fresh RSA-PSS headers; REST retries are run
 *   here, one signed attempt at a time, so a retry never reuses a stale timestamp.
 * - Rate limits (K9): one token bucket, 200 read tokens/s and 10 tokens per request by default; 429 comes
 *   without Retry-After, so it backs off exponentially with jitter.
 * - Sequence gaps (K13): the feed tracks seq per orderbook sid; on a gap it unsubscribes that sid and
 *   subscribes its markets again for fresh snapshots (`resync(sid)` does the same for a decoder's onGap).
 * - Connection state: a local `{"type":"connection","state":"down"|"up"}` frame goes out when the socket drops
 *   or reopens, so the decoder marks books stale (also in replays). Sids restart on each connection.
 */

import { Backoff, type BackoffOptions, sleep } from '../../feeds/backoff.ts';
import {
  createHttpClient,
  type HttpClient,
  HttpError,
  parseRetryAfter,
  type Query,
} from '../../feeds/http.ts';
import { createRateLimiter, type RateRules } from '../../feeds/rate-limit.ts';
import type { FrameSource, RawFrame, RawRequest } from '../../feeds/types.ts';
import { createWsFeed, socketHealth, type WsFeed } from '../../feeds/ws-feed.ts';
import { seriesOf } from './fees.ts';
import { SeqTracker, subscribeCmd, unsubscribeCmd } from './parse.ts';
import { createKalshiSigner, type KalshiSigner } from './signing.ts';
import type { KalshiChannel, WireEventsResponse, WireMarketsResponse, WireWsEnvelope } from './wire.ts';

export const KALSHI_REST_URL = 'https://api.elections.kalshi.com/trade-api/v2';
export const KALSHI_WS_URL = 'wss://api.elections.kalshi.com/trade-api/ws/v2';

/** Basic tier (K9): 200 read tokens per second, a request costs 10. */
export const KALSHI_READ_RULES: RateRules = { '*': { capacity: 200, intervalMs: 1_000 } };
export const KALSHI_REQUEST_COST = 10;

export interface KalshiFeedOptions {
  restUrl?: string;
  wsUrl?: string;
  /** API key id and PEM private key; without them REST goes unsigned and the websocket is not opened. */
  keyId?: string;
  privateKeyPem?: string;
  /** Stamps receive times (the injected clock's now). */
  now: () => number;
  /** Markets whose books to fetch and stream; default: the first `maxBookMarkets` listed. */
  tickers?: readonly string[];
  maxBookMarkets?: number;
  /** Extra query for GET /markets (default `{status: 'open'}`). */
  marketQuery?: Query;
  /** Extra query for GET /events (default `{status: 'open'}`); null skips events. */
  eventQuery?: Query | null;
  /** Page size (default 1000 markets, 200 events) and page cap per listing (default unlimited). */
  marketPageLimit?: number;
  eventPageLimit?: number;
  maxPages?: number;
  channels?: readonly KalshiChannel[];
  /** Tickers per subscribe command (default 100). */
  subscribeBatch?: number;
  /** Re-list markets every this many ms (statuses, results); 0 disables (default 5 min). */
  refreshMs?: number;
  rateRules?: RateRules;
  requestCost?: number;
  /** Retries after the first REST attempt (default 4). */
  retries?: number;
  backoff?: BackoffOptions;
  timeoutMs?: number;
  /** Websocket: protocol ping interval (default 10 s), silence watchdog (default 30 s), reconnect backoff. */
  pingMs?: number;
  silenceMs?: number;
  wsBackoff?: BackoffOptions;
  /** Resubscribe by itself on a seq gap (default true). */
  resyncOnGap?: boolean;
  onError?: (err: Error) => void;
}

export interface KalshiFeed extends FrameSource {
  /** Unsubscribes `sid` and subscribes its markets again (fresh snapshots). Wire a decoder's onGap here. */
  resync(sid: number): boolean;
  /** Tickers whose books are streamed. */
  bookTickers(): readonly string[];
  /** Streams more markets: subscribes them now if the socket is open, and on every reconnect. */
  addMarkets(tickers: readonly string[]): void;
}

interface SubInfo {
  channel: KalshiChannel;
  tickers: readonly string[];
}

const classify = (path: string): string | undefined => {
  if (/\/markets\/[^/]+\/orderbook\/?$/.test(path)) return 'kalshi.rest.orderbook';
  if (/\/series\/[^/]+\/?$/.test(path)) return 'kalshi.rest.series';
  if (/\/events(\/[^/]+)?\/?$/.test(path)) return 'kalshi.rest.events';
  if (/\/markets\/trades\/?$/.test(path)) return undefined; // trades have no source name of their own
  if (/\/markets(\/[^/]+)?\/?$/.test(path)) return 'kalshi.rest.markets';
  return undefined;
};

export function createKalshiFeed(opts: KalshiFeedOptions): KalshiFeed {
  const restUrl = (opts.restUrl ?? KALSHI_REST_URL).replace(/\/+$/, '');
  const wsUrl = opts.wsUrl ?? KALSHI_WS_URL;
  const restBasePath = new URL(restUrl).pathname.replace(/\/+$/, '');
  const wsPath = new URL(wsUrl).pathname || '/';
  const channels: KalshiChannel[] = [...(opts.channels ?? ['orderbook_delta', 'ticker', 'trade'])];
  const retries = opts.retries ?? 4;
  const cost = opts.requestCost ?? KALSHI_REQUEST_COST;
  const batch = opts.subscribeBatch ?? 100;
  const signer: KalshiSigner | undefined =
    opts.keyId && opts.privateKeyPem
      ? createKalshiSigner({ keyId: opts.keyId, privateKeyPem: opts.privateKeyPem })
      : undefined;
  const limiter = createRateLimiter({ rules: opts.rateRules ?? KALSHI_READ_RULES });
  const http: HttpClient = createHttpClient({
    baseUrl: restUrl,
    limiter,
    retries: 0, // retried below, re-signed each time
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  });

  let onFrame: ((f: RawFrame) => void) | undefined;
  let ws: WsFeed | undefined;
  let abort = new AbortController();
  let refreshTimer: NodeJS.Timeout | undefined;
  let books: string[] = [];
  let nextId = 1;
  const pending = new Map<number, SubInfo>(); // command id → what it subscribed
  const subs = new Map<number, SubInfo>(); // sid → subscription
  const resyncing = new Set<number>();
  const seqs = new SeqTracker();
  const h = {
    restRequests: 0,
    restRetries: 0,
    restFailures: 0,
    rateLimited: 0,
    gaps: 0,
    resubscribes: 0,
    wsErrors: 0,
    markets: 0,
    lastError: null as string | null,
  };

  const emit = (f: RawFrame): void => onFrame?.(f);
  const fail = (e: unknown): void => {
    if (abort.signal.aborted) return; // stopping: aborted requests are not errors
    const err = e instanceof Error ? e : new Error(String(e));
    h.lastError = err.message;
    opts.onError?.(err);
  };

  /** One signed GET with retries; emits the response as a frame. */
  async function get<T>(path: string, query?: Query): Promise<T> {
    const backoff = new Backoff({ baseMs: 250, maxMs: 15_000, ...opts.backoff });
    for (let attempt = 1; ; attempt++) {
      const headers = signer ? signer.headers('GET', restBasePath + path, opts.now()) : {};
      h.restRequests++;
      try {
        const res = await http.get<T>(path, query, { headers, retries: 0, cost, signal: abort.signal });
        const source = classify(path);
        if (source) {
          const req: RawRequest = res.req;
          emit({ ts: opts.now(), source, data: res.data, req });
        }
        return res.data;
      } catch (e) {
        const err = e as HttpError;
        if (err instanceof HttpError && err.status === 429) h.rateLimited++;
        if (!(err instanceof HttpError) || !err.retryable || attempt > retries || abort.signal.aborted) {
          h.restFailures++;
          throw err;
        }
        h.restRetries++;
        // Kalshi's 429 has no Retry-After (K9): exponential backoff with jitter unless one is given.
        const ra = parseRetryAfter(err.retryAfter, Date.now());
        await sleep(ra ?? backoff.next(), abort.signal);
      }
    }
  }

  async function listAll<T extends { cursor?: string }>(
    path: string,
    query: Query,
    pageLimit: number,
  ): Promise<T[]> {
    const pages: T[] = [];
    let cursor = '';
    for (let page = 0; page < (opts.maxPages ?? Number.POSITIVE_INFINITY); page++) {
      const body = await get<T>(path, { limit: pageLimit, ...query, ...(cursor ? { cursor } : {}) });
      pages.push(body);
      cursor = typeof body?.cursor === 'string' ? body.cursor : '';
      if (cursor === '') break; // empty cursor = last page (K2)
    }
    return pages;
  }

  async function listMarkets(): Promise<string[]> {
    const pages = await listAll<WireMarketsResponse>(
      '/markets',
      opts.marketQuery ?? { status: 'open' },
      opts.marketPageLimit ?? 1000,
    );
    const tickers: string[] = [];
    for (const p of pages)
      for (const m of p?.markets ?? []) if (typeof m?.ticker === 'string') tickers.push(m.ticker);
    h.markets = tickers.length;
    return tickers;
  }

  async function bootstrap(): Promise<void> {
    if (opts.eventQuery !== null) {
      try {
        await listAll<WireEventsResponse>(
          '/events',
          opts.eventQuery ?? { status: 'open' },
          opts.eventPageLimit ?? 200,
        );
      } catch (e) {
        fail(e);
      }
    }
    let listed: string[] = [];
    try {
      listed = await listMarkets();
    } catch (e) {
      fail(e);
    }
    books = opts.tickers ? [...opts.tickers] : listed.slice(0, opts.maxBookMarkets ?? 200);
    // fees are per series (GET /series/{ticker}): read the schedule of every series whose books we follow;
    // until it arrives those markets carry unknown fees and nothing is priced on them
    const series = new Set<string>();
    for (const t of books) {
      const s = seriesOf(undefined, t);
      if (s) series.add(s);
    }
    for (const s of series) {
      if (abort.signal.aborted) return;
      try {
        await get(`/series/${encodeURIComponent(s)}`);
      } catch (e) {
        fail(e);
      }
    }
    for (const t of books) {
      if (abort.signal.aborted) return;
      try {
        await get(`/markets/${encodeURIComponent(t)}/orderbook`);
      } catch (e) {
        fail(e);
      }
    }
  }

  function subscribeMessages(): object[] {
    // a fresh connection: sids and seqs start again (K13)
    pending.clear();
    subs.clear();
    resyncing.clear();
    seqs.clear();
    // one command per channel so each reply's sid maps to a known channel
    return subscribeBatch(books);
  }

  function subscribeBatch(tickers: readonly string[]): object[] {
    const out: object[] = [];
    for (let i = 0; i < tickers.length; i += batch) {
      const part = tickers.slice(i, i + batch);
      for (const ch of channels) {
        const id = nextId++;
        pending.set(id, { channel: ch, tickers: part });
        out.push(subscribeCmd(id, [ch], part));
      }
    }
    return out;
  }

  function resync(sid: number): boolean {
    const sub = subs.get(sid);
    if (sub?.channel !== 'orderbook_delta' || resyncing.has(sid) || !ws) return false;
    resyncing.add(sid);
    h.resubscribes++;
    const id = nextId++;
    pending.set(id, sub);
    ws.send(unsubscribeCmd(nextId++, [sid]));
    ws.send(subscribeCmd(id, ['orderbook_delta'], sub.tickers));
    return true;
  }

  function onWsText(text: string, ts: number): void {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      emit({ ts, source: 'kalshi.ws', data: text });
      return;
    }
    const env = data as WireWsEnvelope<{ sid?: number; channel?: string }>;
    if (env && typeof env === 'object') {
      if (env.type === 'subscribed' && typeof env.id === 'number' && typeof env.msg?.sid === 'number') {
        const sub = pending.get(env.id);
        if (sub) subs.set(env.msg.sid, sub);
        pending.delete(env.id);
        seqs.forget(env.msg.sid);
      } else if (env.type === 'error') {
        h.wsErrors++;
      } else if (
        (env.type === 'orderbook_delta' || env.type === 'orderbook_snapshot') &&
        typeof env.sid === 'number' &&
        typeof env.seq === 'number'
      ) {
        if (seqs.check(env.sid, env.seq) === 'gap') {
          h.gaps++;
          if (opts.resyncOnGap !== false) {
            emit({ ts, source: 'kalshi.ws', data });
            resync(env.sid);
            return;
          }
        }
      }
    }
    emit({ ts, source: 'kalshi.ws', data });
  }

  return {
    name: 'kalshi',
    async start(cb) {
      onFrame = cb;
      abort = new AbortController();
      await bootstrap();
      if (signer && books.length > 0 && !abort.signal.aborted) {
        let opened = 0;
        ws = createWsFeed({
          name: 'kalshi.ws',
          url: wsUrl,
          now: opts.now,
          headers: () => signer.headers('GET', wsPath, opts.now()),
          subscribe: subscribeMessages,
          heartbeat: { kind: 'ping', intervalMs: opts.pingMs ?? 10_000 },
          silenceMs: opts.silenceMs ?? 30_000,
          ...(opts.wsBackoff ? { backoff: opts.wsBackoff } : {}),
          onOpen: () => {
            if (opened++ > 0)
              emit({ ts: opts.now(), source: 'kalshi.ws', data: { type: 'connection', state: 'up' } });
          },
          onClose: ({ cause }) => {
            if (cause !== 'stopped')
              emit({ ts: opts.now(), source: 'kalshi.ws', data: { type: 'connection', state: 'down' } });
          },
          onError: (e) => fail(e),
        });
        ws.start(onWsText);
      }
      const every = opts.refreshMs ?? 300_000;
      if (every > 0) {
        refreshTimer = setInterval(() => {
          listMarkets().catch(fail);
        }, every);
        refreshTimer.unref?.();
      }
    },
    async stop() {
      abort.abort(new Error('stopped'));
      if (refreshTimer) clearInterval(refreshTimer);
      refreshTimer = undefined;
      await ws?.stop();
      ws = undefined;
      await http.close();
    },
    health() {
      const w = ws?.health();
      return {
        ...socketHealth(w, opts.now()),
        bookMarkets: books.length,
        subscriptions: subs.size,
        ...h,
      };
    },
    resync,
    bookTickers: () => books,
    addMarkets(tickers) {
      const known = new Set(books);
      const fresh = tickers.filter((t) => !known.has(t));
      if (fresh.length === 0) return;
      books = [...books, ...fresh];
      if (ws?.isOpen) for (const m of subscribeBatch(fresh)) ws.send(m);
    },
  };
}
