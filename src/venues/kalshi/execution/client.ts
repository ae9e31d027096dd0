/**
 * The Kalshi live order client (VenueOrderClient) on our own signed HTTP client.
 *
 * Why not the official `kalshi-typescript` runtime: it is generated axios code whose auth hook sets static header
 * values, while Kalshi wants a fresh RSA-PSS signature over timestamp + method + path on every request; it has
 * no per-call timeout or retry policy and hides the status/body we classify on. Its types are used (wire.ts).
 *
 * - Orders: the V2 endpoints (POST/DELETE /portfolio/events/orders, /batched, /{id}/amend). The YES book only:
 *   buy YES = bid at p, sell YES = ask at p, buy NO at q = ask at 1 − q, sell NO at q = bid at 1 − q.
 * - Idempotency: client_order_id is the deterministic id; Kalshi refuses a second order with an id that is still
 *   open, so a resend happens only after a lookup (GET /portfolio/orders since the decision, matched on
 *   client_order_id, which sees executed and cancelled orders too) found nothing.
 * - Rate limits: separate read and write token buckets (Basic tier: 200 read and 100 write tokens per second,
 *   10 tokens a request → 20 reads/s, 10 writes/s). Every signed attempt is signed anew.
 */
import { formatFixed, MICRO, type Money, parseMicro, type Qty, toDecimal } from '../../../core/money.ts';
import { createHttpClient, type HttpClient, HttpError, type Query } from '../../../feeds/http.ts';
import { createRateLimiter, type RateRules } from '../../../feeds/rate-limit.ts';
import { type NotionalCaps, orderNotional } from '../../live/caps.ts';
import { kalshiClientOrderId } from '../../live/ids.ts';
import { type LookupOutcome, type SendOutcome, type SubmitPolicy, submitOnce } from '../../live/submit.ts';
import type {
  AmendResult,
  CancelAllResult,
  CancelResult,
  LiveFill,
  LiveOrderSpec,
  LiveOrderState,
  LiveOrderStatus,
  LivePosition,
  PreparedOrder,
  Rejection,
  SubmitResult,
  Unknown,
  VenueOrderClient,
} from '../../live/types.ts';
import { OrderSpecError } from '../../live/types.ts';
import { createKalshiSigner, type KalshiSigner } from '../signing.ts';
import { fromBook, kalshiPrice, splitToken, toBook } from './book.ts';
import { classifyKalshiError } from './errors.ts';
import type {
  WireAmendOrderResponse,
  WireBalanceResponse,
  WireBatchCreateResponse,
  WireCancelOrderResponse,
  WireCreateOrderRequest,
  WireCreateOrderResponse,
  WireFill,
  WireFillsResponse,
  WireOrder,
  WireOrdersResponse,
  WirePositionsResponse,
} from './wire.ts';

export const KALSHI_TRADING_RULES: RateRules = {
  read: { capacity: 200, intervalMs: 1_000 },
  write: { capacity: 100, intervalMs: 1_000 },
};
const REQUEST_COST = 10;

export interface KalshiOrderClientOptions {
  /** REST base including /trade-api/v2 (tests: a fake on 127.0.0.1). */
  readonly restUrl: string;
  readonly keyId: string;
  readonly privateKeyPem: string;
  readonly now: () => number;
  readonly caps: NotionalCaps;
  readonly timeoutMs?: number;
  /** Token buckets `read` and `write` (default Basic tier). */
  readonly rateRules?: RateRules;
  readonly submitPolicy?: SubmitPolicy;
}

/** What we asked for, by venue order id: our client order id and our orientation (token, side). */
export interface KnownOrder {
  readonly clientOrderId: string;
  readonly tokenId: string;
  readonly side: 'buy' | 'sell';
}

export interface KalshiOrderClient extends VenueOrderClient {
  readonly venue: 'kalshi';
  /** Several orders in one request; each result as `submit` would give it. */
  submitBatch(specs: readonly LiveOrderSpec[]): Promise<SubmitResult[]>;
  cancelBatch(orders: readonly Pick<LiveOrderState, 'venueOrderId' | 'marketId'>[]): Promise<CancelResult[]>;
  /**
   * Our id, token and side for an order we placed or looked up, by venue order id or by the client_order_id we
   * sent (a fill can reach the user channel before the create response names the order).
   */
  known(venueOrderId: string, venueClientOrderId?: string): KnownOrder | undefined;
}

const count = (s: string | undefined): Qty => (s ? parseMicro(s, 'floor') : 0);
const dollars = (s: string | undefined): Money => (s ? parseMicro(s, 'round') : 0);

function statusOf(s: string, filled: Qty, remaining: Qty): LiveOrderStatus {
  if (s === 'executed') return 'filled';
  if (s === 'canceled') return 'cancelled';
  if (s === 'resting') return filled > 0 ? 'partially_filled' : 'open';
  return remaining === 0 && filled > 0 ? 'filled' : 'pending';
}

/** The V2 create body for a spec (exact strings), or the reason it cannot be sent. */
export function createOrderBody(spec: LiveOrderSpec): WireCreateOrderRequest {
  const { ticker, outcome } = splitToken(spec.tokenId);
  if (spec.tickSize > 0 && spec.limitPrice % spec.tickSize !== 0) {
    throw new OrderSpecError(
      'invalid_price',
      `price ${toDecimal(spec.limitPrice)} is off the tick ${toDecimal(spec.tickSize)}`,
    );
  }
  if (spec.limitPrice <= 0 || spec.limitPrice >= MICRO || spec.limitPrice % 100 !== 0) {
    throw new OrderSpecError(
      'invalid_price',
      `price ${toDecimal(spec.limitPrice)} must lie in (0, 1) with at most 4 decimals`,
    );
  }
  if (!Number.isSafeInteger(spec.shares) || spec.shares <= 0 || spec.shares % 10_000 !== 0) {
    throw new OrderSpecError(
      'invalid_size',
      `count ${toDecimal(spec.shares)} must be a positive multiple of 0.01 contracts`,
    );
  }
  const book = toBook(outcome, spec.side, spec.limitPrice);
  const body: WireCreateOrderRequest = {
    ticker,
    client_order_id: kalshiClientOrderId(spec.clientOrderId),
    side: book.side,
    count: formatFixed(spec.shares, 6, 2),
    price: kalshiPrice(book.price),
    time_in_force:
      spec.type === 'FOK'
        ? 'fill_or_kill'
        : spec.type === 'FAK'
          ? 'immediate_or_cancel'
          : 'good_till_canceled',
    self_trade_prevention_type: 'taker_at_cross',
  };
  if (spec.type === 'GTD') {
    if (spec.expiresAt === undefined)
      throw new OrderSpecError('invalid_order', 'a GTD order needs expiresAt');
    body.expiration_time = Math.ceil(spec.expiresAt / 1000);
  }
  if (spec.postOnly) body.post_only = true;
  return body;
}

export function createKalshiOrderClient(opts: KalshiOrderClientOptions): KalshiOrderClient {
  const signer: KalshiSigner = createKalshiSigner({ keyId: opts.keyId, privateKeyPem: opts.privateKeyPem });
  const prefix = new URL(opts.restUrl).pathname.replace(/\/+$/, '');
  const limiter = createRateLimiter({ rules: opts.rateRules ?? KALSHI_TRADING_RULES });
  const http: HttpClient = createHttpClient({
    baseUrl: opts.restUrl,
    timeoutMs: opts.timeoutMs ?? 10_000,
    retries: 0,
  });
  /** venue order id → what we asked for (orients fills and orders the venue reports on the YES book). */
  const known = new Map<string, KnownOrder>();
  /** client_order_id we sent → what we asked for; filled before sending. */
  const sent = new Map<string, KnownOrder>();

  async function call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, query?: Query) {
    const write = method !== 'GET';
    const reads = write ? 0 : 2;
    for (let attempt = 0; ; attempt++) {
      await limiter.take(write ? 'write' : 'read', REQUEST_COST);
      try {
        // every attempt is signed anew: a retried request must not carry a stale timestamp
        const headers = signer.headers(method, prefix + path, opts.now());
        return await http.request<T>({ method, path, body, query, headers, retries: 0 });
      } catch (e) {
        if (!(e instanceof HttpError) || !e.retryable || attempt >= reads) throw e;
      }
    }
  }

  function stateFromOrder(o: WireOrder): LiveOrderState {
    const k = known.get(o.order_id) ?? sent.get(o.client_order_id);
    const yes = dollars(o.yes_price_dollars);
    const oriented = fromBook(o.ticker, o.book_side, yes, k);
    const filled = count(o.fill_count_fp);
    const remaining = count(o.remaining_count_fp);
    return {
      venue: 'kalshi',
      clientOrderId: k?.clientOrderId ?? o.client_order_id,
      venueOrderId: o.order_id,
      marketId: o.ticker,
      tokenId: oriented.tokenId,
      side: oriented.side,
      limitPrice: oriented.price,
      shares: count(o.initial_count_fp) || filled + remaining,
      filledShares: filled,
      status: statusOf(o.status, filled, remaining),
    };
  }

  function fillFrom(f: WireFill): LiveFill {
    const k = known.get(f.order_id);
    const o = fromBook(f.ticker, f.book_side, dollars(f.yes_price_dollars), k);
    return {
      venue: 'kalshi',
      fillId: f.fill_id,
      venueOrderId: f.order_id,
      clientOrderId: k?.clientOrderId,
      marketId: f.ticker,
      tokenId: o.tokenId,
      side: o.side,
      price: o.price,
      shares: count(f.count_fp),
      fee: dollars(f.fee_cost),
      liquidity: f.is_taker ? 'taker' : 'maker',
      settlement: 'confirmed',
      ts: f.created_time ? Date.parse(f.created_time) : (f.ts ?? 0) * 1000,
    };
  }

  function stateFromCreate(spec: LiveOrderSpec, r: WireCreateOrderResponse): LiveOrderState {
    const filled = count(r.fill_count);
    const remaining = count(r.remaining_count);
    const immediate = spec.type === 'FOK' || spec.type === 'FAK';
    let status: LiveOrderStatus;
    if (filled >= spec.shares) status = 'filled';
    else if (immediate) status = 'cancelled';
    else status = remaining === 0 ? 'cancelled' : filled > 0 ? 'partially_filled' : 'open';
    return {
      venue: 'kalshi',
      clientOrderId: spec.clientOrderId,
      venueOrderId: r.order_id,
      marketId: splitToken(spec.tokenId).ticker,
      tokenId: spec.tokenId,
      side: spec.side,
      limitPrice: spec.limitPrice,
      shares: spec.shares,
      filledShares: filled,
      status,
    };
  }

  const remember = (venueOrderId: string, spec: LiveOrderSpec): void => {
    known.set(venueOrderId, { tokenId: spec.tokenId, side: spec.side, clientOrderId: spec.clientOrderId });
  };

  async function listOrders(query: Query): Promise<WireOrder[]> {
    const out: WireOrder[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 1_000; i++) {
      const res = await call<WireOrdersResponse>('GET', '/portfolio/orders', undefined, {
        ...query,
        limit: 200,
        cursor,
      });
      out.push(...res.data.orders);
      cursor = res.data.cursor;
      if (!cursor) break;
    }
    return out;
  }

  async function findByClientId(spec: LiveOrderSpec): Promise<LookupOutcome> {
    try {
      const rows = await listOrders({
        ticker: splitToken(spec.tokenId).ticker,
        // a minute of slack for clock skew between us and the exchange
        min_ts: Math.floor(spec.createdAt / 1000) - 60,
      });
      const venueId = kalshiClientOrderId(spec.clientOrderId);
      const hit = rows.find((o) => o.client_order_id === venueId);
      if (!hit) return { kind: 'absent' };
      remember(hit.order_id, spec);
      return { kind: 'found', order: stateFromOrder(hit) };
    } catch (e) {
      return { kind: 'error', message: (e as Error).message };
    }
  }

  function prepared(spec: LiveOrderSpec, body: unknown): PreparedOrder {
    return {
      venue: 'kalshi',
      clientOrderId: spec.clientOrderId,
      method: 'POST',
      path: `${prefix}/portfolio/events/orders`,
      body,
      notional: orderNotional(spec),
    };
  }

  async function cancelOne(order: Pick<LiveOrderState, 'venueOrderId' | 'marketId'>): Promise<CancelResult> {
    try {
      await call<WireCancelOrderResponse>(
        'DELETE',
        `/portfolio/events/orders/${encodeURIComponent(order.venueOrderId)}`,
        undefined,
        {
          market_ticker: order.marketId,
        },
      );
      return { kind: 'cancelled', venueOrderId: order.venueOrderId };
    } catch (e) {
      return failure(e);
    }
  }

  /** A failed cancel or amend: refused for good, or unknown (rethrows what is not an HTTP failure). */
  function failure(e: unknown): Rejection | Unknown {
    if (!(e instanceof HttpError)) throw e;
    const c = classifyKalshiError(e.kind === 'status' ? e.status : 0, e.body);
    return c.kind === 'ambiguous' ? { kind: 'unknown', message: c.message } : c;
  }

  /** One create request with the submit protocol around it (caps already reserved). */
  async function submitReserved(spec: LiveOrderSpec, body: WireCreateOrderRequest): Promise<SubmitResult> {
    const send = async (): Promise<SendOutcome> => {
      try {
        const res = await call<WireCreateOrderResponse>('POST', '/portfolio/events/orders', body);
        remember(res.data.order_id, spec);
        return { kind: 'accepted', order: stateFromCreate(spec, res.data) };
      } catch (e) {
        if (!(e instanceof HttpError)) throw e;
        return classifyKalshiError(e.kind === 'status' ? e.status : 0, e.body);
      }
    };
    const result = await submitOnce({ send, lookup: () => findByClientId(spec) }, opts.submitPolicy);
    if (result.kind === 'rejected') opts.caps.release(spec.clientOrderId);
    return result;
  }

  function reserveAndBuild(
    spec: LiveOrderSpec,
  ): { body: WireCreateOrderRequest } | { rejected: SubmitResult } {
    const cap = opts.caps.reserve(spec.clientOrderId, orderNotional(spec));
    if (!cap.ok)
      return { rejected: { kind: 'rejected', reason: 'cap_exceeded', status: 0, message: cap.message } };
    try {
      const body = createOrderBody(spec);
      sent.set(kalshiClientOrderId(spec.clientOrderId), {
        clientOrderId: spec.clientOrderId,
        tokenId: spec.tokenId,
        side: spec.side,
      });
      return { body };
    } catch (e) {
      opts.caps.release(spec.clientOrderId);
      if (e instanceof OrderSpecError) {
        return { rejected: { kind: 'rejected', reason: e.reason, status: 0, message: e.message } };
      }
      throw e;
    }
  }

  const client: KalshiOrderClient = {
    venue: 'kalshi',

    async prepare(spec) {
      return prepared(spec, createOrderBody(spec));
    },

    async submit(spec) {
      const r = reserveAndBuild(spec);
      if ('rejected' in r) return r.rejected;
      return submitReserved(spec, r.body);
    },

    async submitBatch(specs) {
      const results: (SubmitResult | undefined)[] = specs.map(() => undefined);
      const sendable: { i: number; spec: LiveOrderSpec; body: WireCreateOrderRequest }[] = [];
      specs.forEach((spec, i) => {
        const r = reserveAndBuild(spec);
        if ('rejected' in r) results[i] = r.rejected;
        else sendable.push({ i, spec, body: r.body });
      });
      if (sendable.length > 0) {
        try {
          const res = await call<WireBatchCreateResponse>('POST', '/portfolio/events/orders/batched', {
            orders: sendable.map((s) => s.body),
          });
          const items = res.data.orders;
          for (const [k, s] of sendable.entries()) {
            const venueId = kalshiClientOrderId(s.spec.clientOrderId);
            const item = items.find((it) => it.client_order_id === venueId) ?? items[k];
            if (item?.order_id && !item.error) {
              remember(item.order_id, s.spec);
              results[s.i] = {
                kind: 'accepted',
                resolvedBy: 'response',
                order: stateFromCreate(s.spec, {
                  order_id: item.order_id,
                  client_order_id: item.client_order_id ?? undefined,
                  fill_count: item.fill_count ?? '0',
                  remaining_count: item.remaining_count ?? '0',
                  ts_ms: item.ts_ms ?? 0,
                }),
              };
            } else {
              // a per-order error: the same protocol as a single submit settles it (duplicate → lookup)
              results[s.i] = await submitReserved(s.spec, s.body);
            }
          }
        } catch (e) {
          if (!(e instanceof HttpError)) throw e;
          for (const s of sendable) results[s.i] = await submitReserved(s.spec, s.body);
        }
      }
      return results as SubmitResult[];
    },

    async amend(order, amend): Promise<AmendResult> {
      const { outcome } = splitToken(order.tokenId);
      const book = toBook(outcome, order.side, amend.limitPrice);
      try {
        const res = await call<WireAmendOrderResponse>(
          'POST',
          `/portfolio/events/orders/${encodeURIComponent(order.venueOrderId)}/amend`,
          {
            ticker: order.marketId,
            side: book.side,
            price: kalshiPrice(book.price),
            count: formatFixed(amend.shares, 6, 2),
            client_order_id: kalshiClientOrderId(order.clientOrderId),
            updated_client_order_id: amend.newClientOrderId && kalshiClientOrderId(amend.newClientOrderId),
          },
        );
        const filled = count(res.data.fill_count);
        const remaining = count(res.data.remaining_count);
        return {
          kind: 'amended',
          order: {
            ...order,
            venueOrderId: res.data.order_id,
            clientOrderId: amend.newClientOrderId ?? order.clientOrderId,
            limitPrice: amend.limitPrice,
            shares: amend.shares,
            filledShares: filled,
            status:
              remaining === 0
                ? filled >= amend.shares
                  ? 'filled'
                  : 'cancelled'
                : filled > 0
                  ? 'partially_filled'
                  : 'open',
          },
        };
      } catch (e) {
        return failure(e);
      }
    },

    cancel: cancelOne,

    async cancelBatch(orders) {
      try {
        const res = await call<{
          orders: { order_id: string; error?: { code?: string; message?: string } | null }[];
        }>('DELETE', '/portfolio/events/orders/batched', {
          orders: orders.map((o) => ({ order_id: o.venueOrderId, market_ticker: o.marketId })),
        });
        return orders.map((o): CancelResult => {
          const item = res.data.orders.find((it) => it.order_id === o.venueOrderId);
          if (item && !item.error) return { kind: 'cancelled', venueOrderId: o.venueOrderId };
          const message = item?.error?.message ?? 'no answer for this order';
          return {
            kind: 'rejected',
            reason: item?.error?.code === 'not_found' ? 'not_found' : 'other',
            status: 200,
            message,
          };
        });
      } catch (e) {
        if (!(e instanceof HttpError)) throw e;
        return Promise.all(orders.map((o) => cancelOne(o)));
      }
    },

    async cancelAll(): Promise<CancelAllResult> {
      const before = await listOrders({ status: 'resting' });
      await call('DELETE', '/portfolio/events/orders');
      const after = new Map((await listOrders({ status: 'resting' })).map((o) => [o.order_id, o]));
      return {
        cancelled: before.filter((o) => !after.has(o.order_id)).map((o) => o.order_id),
        failed: [...after.keys()].map((venueOrderId) => ({
          venueOrderId,
          message: 'still resting after cancel-all',
        })),
      };
    },

    async lookup(spec) {
      const r = await findByClientId(spec);
      if (r.kind === 'error') throw new Error(`looking up ${spec.clientOrderId} failed: ${r.message}`);
      return r.kind === 'found' ? r.order : undefined;
    },

    async openOrders() {
      return (await listOrders({ status: 'resting' })).map(stateFromOrder);
    },

    async fills(sinceMs) {
      const out: LiveFill[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 1_000; i++) {
        const res = await call<WireFillsResponse>('GET', '/portfolio/fills', undefined, {
          min_ts: Math.floor(sinceMs / 1000),
          limit: 200,
          cursor,
        });
        out.push(...res.data.fills.map(fillFrom));
        cursor = res.data.cursor;
        if (!cursor) break;
      }
      return out;
    },

    async positions() {
      const out: LivePosition[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 1_000; i++) {
        const res = await call<WirePositionsResponse>('GET', '/portfolio/positions', undefined, {
          limit: 200,
          cursor,
        });
        for (const p of res.data.market_positions) {
          const pos = parseMicro(p.position_fp, 'exact');
          if (pos === 0) continue;
          out.push({
            venue: 'kalshi',
            marketId: p.ticker,
            tokenId: `${p.ticker}:${pos > 0 ? 'yes' : 'no'}`,
            shares: Math.abs(pos),
          });
        }
        cursor = res.data.cursor;
        if (!cursor) break;
      }
      return out;
    },

    async balance() {
      const res = await call<WireBalanceResponse>('GET', '/portfolio/balance');
      const b = res.data;
      return {
        venue: 'kalshi',
        available: b.balance_dollars ? dollars(b.balance_dollars) : b.balance * 10_000,
      };
    },

    known: (venueOrderId, venueClientOrderId) =>
      known.get(venueOrderId) ??
      (venueClientOrderId === undefined ? undefined : sent.get(venueClientOrderId)),

    close: () => http.close(),
  };
  return client;
}
