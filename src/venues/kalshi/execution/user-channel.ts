/**
 * Kalshi's private websocket channels as a ReportSocket: `fill` (our fills; final when reported) and
 * `user_orders` (order created / updated). The handshake carries fresh RSA-PSS headers (GET /trade-api/ws/v2),
 * every reconnect resubscribes, protocol pings keep it alive. Messages are `{type, sid, seq, msg}`; `fill` and
 * `user_order` become fill and order reports oriented like the REST client (bid = buy YES, ask = buy NO) unless
 * `known` has the order (then with our id, token and side).
 */
import { parseMicro } from '../../../core/money.ts';
import { type ReportSocket, wsReportSocket } from '../../live/reports.ts';
import type { LiveOrderStatus, LiveReport } from '../../live/types.ts';
import { createKalshiSigner, KALSHI_WS_PATH } from '../signing.ts';
import { fromBook } from './book.ts';
import type { KnownOrder } from './client.ts';
import type { WireWsEnvelope, WireWsFill, WireWsUserOrder } from './wire.ts';

export interface KalshiUserChannelOptions {
  /** wss://…/trade-api/ws/v2 (tests: a fake on 127.0.0.1). */
  readonly url: string;
  readonly keyId: string;
  readonly privateKeyPem: string;
  readonly now: () => number;
  /** Our id and orientation (token, side) of an order we placed, by venue order id (KalshiOrderClient.known). */
  readonly known?: (venueOrderId: string, venueClientOrderId?: string) => KnownOrder | undefined;
  readonly silenceMs?: number;
  readonly onError?: (err: Error) => void;
}

const count = (s: string): number => parseMicro(s, 'floor');

export function reportsFromKalshiMessage(
  env: WireWsEnvelope,
  receiveTime: number,
  known?: KalshiUserChannelOptions['known'],
): LiveReport[] {
  if (env.type === 'fill' && env.msg) {
    const f = env.msg as WireWsFill;
    const k = known?.(f.order_id, f.client_order_id);
    const o = fromBook(f.market_ticker, f.book_side, parseMicro(f.yes_price_dollars, 'round'), k);
    return [
      {
        kind: 'fill',
        source: 'socket',
        fill: {
          venue: 'kalshi',
          fillId: f.trade_id,
          venueOrderId: f.order_id,
          clientOrderId: k?.clientOrderId ?? (f.client_order_id || undefined),
          marketId: f.market_ticker,
          tokenId: o.tokenId,
          side: o.side,
          price: o.price,
          shares: count(f.count_fp),
          fee: parseMicro(f.fee_cost || '0', 'round'),
          liquidity: f.is_taker ? 'taker' : 'maker',
          settlement: 'confirmed',
          ts: f.ts_ms ?? f.ts * 1000,
        },
      },
    ];
  }
  if (env.type === 'user_order' && env.msg) {
    const u = env.msg as WireWsUserOrder;
    const k = known?.(u.order_id, u.client_order_id);
    const o = fromBook(u.ticker, u.book_side, parseMicro(u.yes_price_dollars, 'round'), k);
    const filled = count(u.fill_count_fp);
    const remaining = count(u.remaining_count_fp);
    const status: LiveOrderStatus =
      u.status === 'executed'
        ? 'filled'
        : u.status === 'canceled'
          ? 'cancelled'
          : filled > 0
            ? 'partially_filled'
            : remaining > 0
              ? 'open'
              : 'pending';
    return [
      {
        kind: 'order',
        source: 'socket',
        ts: u.last_updated_ts_ms ?? receiveTime,
        order: {
          venue: 'kalshi',
          clientOrderId: k?.clientOrderId ?? u.client_order_id,
          venueOrderId: u.order_id,
          marketId: u.ticker,
          tokenId: o.tokenId,
          side: o.side,
          limitPrice: o.price,
          shares: count(u.initial_count_fp) || filled + remaining,
          filledShares: filled,
          status,
        },
      },
    ];
  }
  return [];
}

export function createKalshiUserChannel(opts: KalshiUserChannelOptions): ReportSocket {
  const signer = createKalshiSigner({ keyId: opts.keyId, privateKeyPem: opts.privateKeyPem });
  let nextId = 1;
  return wsReportSocket(
    {
      name: 'kalshi-user',
      url: opts.url,
      now: opts.now,
      headers: () => signer.headers('GET', KALSHI_WS_PATH, opts.now()),
      subscribe: () => [{ id: nextId++, cmd: 'subscribe', params: { channels: ['fill', 'user_orders'] } }],
      heartbeat: { kind: 'ping', intervalMs: 10_000 },
      silenceMs: opts.silenceMs ?? 0,
      onError: opts.onError,
    },
    (text, receiveTime) =>
      reportsFromKalshiMessage(JSON.parse(text) as WireWsEnvelope, receiveTime, opts.known),
  );
}
