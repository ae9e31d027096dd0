/**
 * The Polymarket user channel (wss://ws-subscriptions-clob.polymarket.com/ws/user) as a ReportSocket.
 *
 * After connecting it sends `{auth: {apiKey, secret, passphrase}, markets, type: "user"}` (an empty market list
 * means every market), keeps the connection alive with a text "PING" every 10 s ("PONG" back), and turns
 * `order` events (PLACEMENT / UPDATE / CANCELLATION) into order reports and `trade` events into fill reports:
 * MATCHED and MINED are provisional, CONFIRMED final, FAILED undoes the fill. A frame may hold one event or an
 * array of them; anything unreadable is counted and skipped.
 */

import { type ReportSocket, wsReportSocket } from '../../live/reports.ts';
import type { LiveReport } from '../../live/types.ts';
import type { ClobCredentials } from './auth.ts';
import { fillsFromTrade, stateFromOrderEvent } from './parse.ts';
import type { WireTrade, WireUserOrderEvent, WireUserSubscribe } from './wire.ts';

export const WS_USER_URL = 'wss://ws-subscriptions-clob.polymarket.com/ws/user';

export interface PolymarketUserChannelOptions {
  readonly url?: string;
  readonly credentials: ClobCredentials;
  /** The funder (maker) address: trades are ours when our API key owns them or our maker is in them. */
  readonly maker: string;
  /** Condition ids to follow; empty = all. */
  readonly markets?: readonly string[];
  readonly now: () => number;
  readonly silenceMs?: number;
  readonly onError?: (err: Error) => void;
}

export function createPolymarketUserChannel(opts: PolymarketUserChannelOptions): ReportSocket {
  const ours = (o: { owner: string; maker: string }): boolean =>
    o.owner === opts.credentials.key || o.maker.toLowerCase() === opts.maker.toLowerCase();
  const toReports = (e: unknown, ts: number): LiveReport[] => {
    if (!e || typeof e !== 'object') return [];
    const ev = e as { event_type?: string };
    if (ev.event_type === 'order') {
      return [{ kind: 'order', order: stateFromOrderEvent(e as WireUserOrderEvent), ts, source: 'socket' }];
    }
    if (ev.event_type === 'trade') {
      return fillsFromTrade(e as WireTrade, ours).map((fill) => ({ kind: 'fill', fill, source: 'socket' }));
    }
    return [];
  };
  const subscribe: WireUserSubscribe = {
    auth: {
      apiKey: opts.credentials.key,
      secret: opts.credentials.secret,
      passphrase: opts.credentials.passphrase,
    },
    markets: [...(opts.markets ?? [])],
    type: 'user',
  };
  return wsReportSocket(
    {
      name: 'polymarket-user',
      url: opts.url ?? WS_USER_URL,
      now: opts.now,
      subscribe: () => [subscribe],
      heartbeat: { kind: 'text', intervalMs: 10_000, message: 'PING', reply: 'PONG' },
      silenceMs: opts.silenceMs ?? 30_000,
      onError: opts.onError,
    },
    // a frame holds one event or an array of them
    (text, receiveTime) => {
      const parsed: unknown = JSON.parse(text);
      return (Array.isArray(parsed) ? parsed : [parsed]).flatMap((e) => toReports(e, receiveTime));
    },
  );
}
