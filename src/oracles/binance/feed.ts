/**
 * Binance spot live FrameSource: one combined-stream websocket (`/stream?streams=a/b`, B3) with a REST fallback.
 *
 * - Streams are named in the URL, so a (re)connect needs no subscribe messages; streams added later go out as
 *   SUBSCRIBE requests through a token bucket (default 4 messages/s: Binance allows 5 incoming messages/s per
 *   connection, pings and pongs included — B6 — and the protocol pings need room too).
 * - Reconnects on schedule before Binance's 24-hour cut (default at 23 h 50 min), at once on `serverShutdown`,
 *   on silence (watchdog) and on drops (exponential backoff with jitter) — the shared WsFeed does the plumbing.
 * - While the socket is down, GET /api/v3/ticker/price is polled every `pollMs` (weight 2 for one symbol, 4 for
 *   several — B2). A 429 or 418 pauses polling until its Retry-After (418 without one: 2 minutes).
 * - A local `{"type":"connection","state":"down"|"up"}` frame marks the decoder's ticks stale on drops.
 */

import { Backoff, type BackoffOptions } from '../../feeds/backoff.ts';
import { createHttpClient, HttpError, parseRetryAfter } from '../../feeds/http.ts';
import { createRateLimiter, type RateRules, TokenBucket } from '../../feeds/rate-limit.ts';
import type { FrameSource, RawFrame } from '../../feeds/types.ts';
import { createWsFeed, socketHealth, type WsFeed } from '../../feeds/ws-feed.ts';
import { binanceSymbol, subscribeRequest } from './parse.ts';

export const BINANCE_WS_URL = 'wss://stream.binance.com:9443';
export const BINANCE_REST_URL = 'https://api.binance.com';
/** Request weight per IP: 6,000 per minute (B2). */
export const BINANCE_WEIGHT_RULES: RateRules = { '*': { capacity: 6_000, intervalMs: 60_000 } };

export type BinanceStreamKind = 'trade' | 'aggTrade' | 'bookTicker' | 'ticker';

export interface BinanceFeedOptions {
  /** Websocket base (default wss://stream.binance.com:9443; data-stream.binance.vision serves market data only). */
  wsUrl?: string;
  /** REST base (default https://api.binance.com; data-api.binance.vision serves market data only). */
  restUrl?: string;
  /** "BTCUSDT" or "BTC/USDT". */
  symbols: readonly string[];
  /** Streams per symbol (default trade + bookTicker). */
  streams?: readonly BinanceStreamKind[];
  now: () => number;
  /** REST poll period while the socket is down (default 2 s). */
  pollMs?: number;
  /** Scheduled reconnect before Binance's 24 h cut (default 23 h 50 min). */
  maxConnectionAgeMs?: number;
  /**
   * Protocol ping period (default 10 s: its pongs are the heartbeat the staleness check reads, so it must come
   * well inside STALE_AFTER_MS), silence watchdog (default 30 s).
   */
  pingMs?: number;
  silenceMs?: number;
  /** Outgoing websocket messages per second (default 4, under Binance's 5). */
  outgoingPerSecond?: number;
  rateRules?: RateRules;
  timeoutMs?: number;
  wsBackoff?: BackoffOptions;
  /** Pause after a 429 without Retry-After (default backoff from 1 s). */
  backoff?: BackoffOptions;
  onError?: (err: Error) => void;
}

export interface BinanceFeed extends FrameSource {
  /** Adds streams (e.g. `ethusdt@trade`): sent as rate-limited SUBSCRIBE requests, and in the URL on reconnect. */
  addStreams(streams: readonly string[]): void;
  /** Outgoing messages waiting for the rate limit. */
  pendingSends(): number;
  streams(): readonly string[];
}

export function createBinanceFeed(opts: BinanceFeedOptions): BinanceFeed {
  const wsBase = (opts.wsUrl ?? BINANCE_WS_URL).replace(/\/+$/, '');
  const restSymbols = opts.symbols.map(binanceSymbol);
  const kinds = opts.streams ?? ['trade', 'bookTicker'];
  const streamSet = new Set<string>();
  for (const s of restSymbols) for (const k of kinds) streamSet.add(`${s.toLowerCase()}@${k}`);
  const http = createHttpClient({
    baseUrl: opts.restUrl ?? BINANCE_REST_URL,
    limiter: createRateLimiter({ rules: opts.rateRules ?? BINANCE_WEIGHT_RULES }),
    retries: 0, // a poller does not pile retries on top of its next poll
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  });
  const rate = opts.outgoingPerSecond ?? 4;
  const outBucket = new TokenBucket({ capacity: rate, intervalMs: 1_000 });
  const queue: object[] = [];
  const pause = new Backoff({ baseMs: 1_000, maxMs: 60_000, ...opts.backoff });
  let pumpTimer: NodeJS.Timeout | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  let polling = false;
  let pausedUntil = 0;
  let nextId = 1;
  let ws: WsFeed | undefined;
  let onFrame: ((f: RawFrame) => void) | undefined;
  const h = {
    restPolls: 0,
    pollsPaused: 0,
    restFailures: 0,
    rateLimited: 0,
    bans: 0,
    shutdowns: 0,
    subscribesSent: 0,
    lastError: null as string | null,
  };

  const emit = (f: RawFrame): void => onFrame?.(f);
  const fail = (e: unknown): void => {
    const err = e instanceof Error ? e : new Error(String(e));
    h.lastError = err.message;
    opts.onError?.(err);
  };

  function pump(): void {
    pumpTimer = undefined;
    while (queue.length > 0 && ws?.isOpen && outBucket.tryTake(1)) {
      ws.send(queue.shift()!);
      h.subscribesSent++;
    }
    if (queue.length > 0 && ws) pumpTimer = setTimeout(pump, Math.ceil(1_000 / rate));
  }

  async function poll(): Promise<void> {
    if (polling || ws?.isOpen) return;
    if (Date.now() < pausedUntil) {
      h.pollsPaused++;
      return;
    }
    polling = true;
    h.restPolls++;
    const query =
      restSymbols.length === 1 ? { symbol: restSymbols[0] } : { symbols: JSON.stringify(restSymbols) };
    try {
      const res = await http.get('/api/v3/ticker/price', query, { cost: restSymbols.length === 1 ? 2 : 4 });
      pause.reset();
      // the socket came back while this poll was in flight: its price is older than what the socket now sends,
      // and stamped now it would overwrite a fresher trade
      if (ws?.isOpen) return;
      emit({ ts: opts.now(), source: 'binance.rest.ticker', data: res.data, req: res.req });
    } catch (e) {
      h.restFailures++;
      if (e instanceof HttpError && (e.status === 429 || e.status === 418)) {
        if (e.status === 429) h.rateLimited++;
        else h.bans++;
        const ra = parseRetryAfter(e.retryAfter, Date.now());
        pausedUntil = Date.now() + (ra ?? (e.status === 418 ? 120_000 : pause.next()));
      }
      fail(e);
    } finally {
      polling = false;
    }
  }

  function onText(text: string, ts: number): void {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      emit({ ts, source: 'binance.ws', data: text });
      return;
    }
    emit({ ts, source: 'binance.ws', data });
    const d = data as { stream?: unknown; e?: unknown; data?: { e?: unknown } };
    if (d && (d.stream === '!serverShutdown' || d.e === 'serverShutdown' || d.data?.e === 'serverShutdown')) {
      h.shutdowns++;
      ws?.reconnectNow(); // planned maintenance: move to a fresh server now
    }
  }

  return {
    name: 'binance',
    async start(cb) {
      onFrame = cb;
      let opened = 0;
      ws = createWsFeed({
        name: 'binance.ws',
        url: () => `${wsBase}/stream?streams=${[...streamSet].join('/')}`,
        now: opts.now,
        heartbeat: { kind: 'ping', intervalMs: opts.pingMs ?? 10_000 },
        silenceMs: opts.silenceMs ?? 30_000,
        maxConnectionAgeMs: opts.maxConnectionAgeMs ?? (23 * 60 + 50) * 60_000,
        ...(opts.wsBackoff ? { backoff: opts.wsBackoff } : {}),
        onOpen: () => {
          queue.length = 0; // the URL of the new connection already names every stream
          if (opened++ > 0)
            emit({ ts: opts.now(), source: 'binance.ws', data: { type: 'connection', state: 'up' } });
        },
        onClose: ({ cause }) => {
          if (cause === 'stopped') return;
          emit({ ts: opts.now(), source: 'binance.ws', data: { type: 'connection', state: 'down' } });
          void poll();
        },
        onError: fail,
      });
      ws.start(onText);
      pollTimer = setInterval(() => void poll(), opts.pollMs ?? 2_000);
      pollTimer.unref?.();
    },
    async stop() {
      if (pollTimer) clearInterval(pollTimer);
      if (pumpTimer) clearTimeout(pumpTimer);
      pollTimer = undefined;
      pumpTimer = undefined;
      const w = ws;
      ws = undefined;
      await w?.stop();
      await http.close();
    },
    addStreams(streams) {
      const fresh = streams.map((s) => s.toLowerCase()).filter((s) => !streamSet.has(s));
      for (const s of fresh) streamSet.add(s);
      if (fresh.length === 0 || !ws?.isOpen) return;
      // at most 200 streams per request keeps each message small
      for (let i = 0; i < fresh.length; i += 200)
        queue.push(subscribeRequest(nextId++, fresh.slice(i, i + 200)));
      if (!pumpTimer) pump();
    },
    pendingSends: () => queue.length,
    streams: () => [...streamSet],
    health() {
      const w = ws?.health();
      return {
        ...socketHealth(w, opts.now()),
        ageReconnects: w?.ageReconnects ?? 0,
        pausedUntil: pausedUntil || null,
        streams: streamSet.size,
        ...h,
      };
    },
  };
}
