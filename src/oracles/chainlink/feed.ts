/**
 * Chainlink prices from Polymarket's RTDS websocket as a FrameSource (`chainlink.ws` frames).
 *
 * Subscribes on every (re)connect — unfiltered by default (see wire.ts: filtered subscriptions are reported to
 * deliver only the historical batch), or one filtered subscription per symbol with `filtered: true`. Sends the
 * text `PING` every 5 s as the docs ask; a silence watchdog and jittered backoff reconnect a dead socket. Local
 * `{"type":"connection"}` frames mark ticks stale while the socket is down.
 */

import type { BackoffOptions } from '../../feeds/backoff.ts';
import type { FrameSource, RawFrame } from '../../feeds/types.ts';
import { createWsFeed, socketHealth, type WsFeed } from '../../feeds/ws-feed.ts';
import { subscribeMessage } from './parse.ts';
import { RTDS_URL } from './wire.ts';

export interface ChainlinkFeedOptions {
  url?: string;
  /** "BTC/USD" or "btc/usd"; used for filtered subscriptions. */
  symbols?: readonly string[];
  /** One filtered subscription per symbol instead of one unfiltered subscription (default false). */
  filtered?: boolean;
  now: () => number;
  /** Text heartbeat period (default 5 s), silence watchdog (default 30 s). */
  pingMs?: number;
  silenceMs?: number;
  backoff?: BackoffOptions;
  onError?: (err: Error) => void;
}

export function createChainlinkFeed(opts: ChainlinkFeedOptions): FrameSource {
  let ws: WsFeed | undefined;
  let lastError: string | null = null;
  return {
    name: 'chainlink',
    async start(onFrame: (f: RawFrame) => void) {
      let opened = 0;
      const emit = (data: unknown, ts: number) => onFrame({ ts, source: 'chainlink.ws', data });
      ws = createWsFeed({
        name: 'chainlink.ws',
        url: opts.url ?? RTDS_URL,
        now: opts.now,
        subscribe: () => [subscribeMessage(opts.symbols ?? [], opts.filtered === true)],
        heartbeat: { kind: 'text', intervalMs: opts.pingMs ?? 5_000, message: 'PING', reply: 'PONG' },
        silenceMs: opts.silenceMs ?? 30_000,
        ...(opts.backoff ? { backoff: opts.backoff } : {}),
        onOpen: () => {
          if (opened++ > 0) emit({ type: 'connection', state: 'up' }, opts.now());
        },
        onClose: ({ cause }) => {
          if (cause !== 'stopped') emit({ type: 'connection', state: 'down' }, opts.now());
        },
        onError: (e) => {
          lastError = e.message;
          opts.onError?.(e);
        },
      });
      ws.start((text, ts) => {
        const t = text.trim();
        if (t === '') return; // keepalive
        let data: unknown = text;
        if (t.startsWith('{') || t.startsWith('[')) {
          try {
            data = JSON.parse(t);
          } catch {
            data = text;
          }
        }
        emit(data, ts);
      });
    },
    async stop() {
      const w = ws;
      ws = undefined;
      await w?.stop();
    },
    health() {
      const w = ws?.health();
      return {
        ...socketHealth(w, opts.now()),
        lastError,
      };
    },
  };
}
