/**
 * A fake Kalshi for trading tests (REST + private websocket on 127.0.0.1, port 0).
 *
 * Every REST request and the websocket handshake must carry a valid RSA-PSS signature (401 / close 4001
 * otherwise). Orders use the V2 event-order endpoints and match against a server-side YES book (bid walks the
 * asks, ask walks the bids; FOK fills fully or not at all, IOC keeps what it got, GTC rests the rest). Like Kalshi
 * it refuses a client_order_id that is still open (409) but accepts one whose order is executed or cancelled — so a
 * client that resends blindly after a lost answer would get a second order here, as it would at the venue. Fees use
 * the standard schedule; positions net YES against NO; cash follows. Fills and order updates go out on the private
 * `fill` and `user_orders` channels. Faults (faults.push) hit the next create request.
 */
import { tradeFee } from '../../src/core/fees.ts';
import { formatFixed, MICRO, mulDiv, parseMicro, toDecimal } from '../../src/core/money.ts';
import type { WireCreateOrderRequest, WireFill, WireOrder } from '../../src/venues/kalshi/execution/wire.ts';
import { KALSHI_STANDARD_FEES } from '../../src/venues/kalshi/fees.ts';
import { verifyKalshiSignature } from '../../src/venues/kalshi/signing.ts';
import { type FakeReply, type FakeRequest, type HttpFake, startHttpFake } from './http-fake.ts';
import { FaultQueue, underFault } from './order-faults.ts';
import { startWsFake, type WsFake, type WsFakeConnection } from './ws-fake.ts';

const REST = '/trade-api/v2';
const WS_PATH = '/trade-api/ws/v2';

export interface FakeKalshiMarket {
  readonly ticker: string;
  /** micro-units (default 0.01) */
  readonly tick?: number;
  /** Resting liquidity of others on the YES book: [yes price, count] in micro-units. */
  readonly yesAsks?: readonly (readonly [number, number])[];
  readonly yesBids?: readonly (readonly [number, number])[];
}

export interface KalshiTradingFakeOptions {
  readonly keyId: string;
  readonly publicKeyPem: string;
  readonly markets: readonly FakeKalshiMarket[];
  /** Cash, micro-dollars. */
  readonly balance: number;
}

interface KOrder {
  id: string;
  clientOrderId: string;
  ticker: string;
  book: 'bid' | 'ask';
  price: number;
  initial: number;
  filled: number;
  remaining: number;
  status: 'resting' | 'canceled' | 'executed';
  fees: number;
  createdMs: number;
  updatedMs: number;
}

export interface KalshiTradingFake {
  readonly restUrl: string;
  readonly wsUrl: string;
  readonly http: HttpFake;
  readonly ws: WsFake;
  readonly faults: FaultQueue;
  readonly orders: ReadonlyMap<string, KOrder>;
  readonly authFailures: { rest: number; ws: number };
  balance(): number;
  /** Signed YES position (negative = NO), micro-contracts. */
  position(ticker: string): number;
  /** Someone else trades against our resting order: fills `count` of it (maker). */
  fillResting(orderId: string, count: number): void;
  close(): Promise<void>;
}

const e = (status: number, code: string, message: string, details?: string): FakeReply => ({
  status,
  body: { error: details === undefined ? { code, message } : { code, message, details } },
});
const fp2 = (m: number): string => formatFixed(m, 6, 2);
const usd = (m: number): string => toDecimal(m);

export async function startKalshiTradingFake(opts: KalshiTradingFakeOptions): Promise<KalshiTradingFake> {
  const http = await startHttpFake();
  const ws = await startWsFake({ textHeartbeat: null });
  const faults = new FaultQueue();
  const authFailures = { rest: 0, ws: 0 };
  const markets = new Map(
    opts.markets.map((m) => [
      m.ticker,
      {
        tick: m.tick ?? 10_000,
        asks: (m.yesAsks ?? []).map(([p, c]) => [p, c]),
        bids: (m.yesBids ?? []).map(([p, c]) => [p, c]),
      },
    ]),
  );
  const orders = new Map<string, KOrder>();
  const fills: WireFill[] = [];
  const positions = new Map<string, number>();
  let balance = opts.balance;
  let seq = 0;
  let sidSeq = 0;
  const subs = new Map<number, { fill?: number; user_orders?: number; seq: number }>();

  const push = (channel: 'fill' | 'user_orders', type: string, msg: object): void => {
    for (const c of ws.openConnections()) {
      const s = subs.get(c.id);
      const sid = s?.[channel];
      if (s && sid !== undefined) c.send({ type, sid, seq: ++s.seq, msg });
    }
  };

  const wireOrder = (o: KOrder): WireOrder => ({
    order_id: o.id,
    user_id: 'fake-user',
    client_order_id: o.clientOrderId,
    ticker: o.ticker,
    outcome_side: o.book === 'bid' ? 'yes' : 'no',
    book_side: o.book,
    type: 'limit',
    status: o.status,
    yes_price_dollars: usd(o.price),
    no_price_dollars: usd(MICRO - o.price),
    fill_count_fp: fp2(o.filled),
    remaining_count_fp: fp2(o.remaining),
    initial_count_fp: fp2(o.initial),
    taker_fill_cost_dollars: '0',
    maker_fill_cost_dollars: '0',
    taker_fees_dollars: usd(o.fees),
    maker_fees_dollars: '0',
    created_time: new Date(o.createdMs).toISOString(),
    last_update_time: new Date(o.updatedMs).toISOString(),
  });

  const userOrderEvent = (o: KOrder): void => {
    const w = wireOrder(o);
    push('user_orders', 'user_order', {
      order_id: w.order_id,
      ticker: w.ticker,
      status: w.status,
      outcome_side: w.outcome_side,
      book_side: w.book_side,
      yes_price_dollars: w.yes_price_dollars,
      fill_count_fp: w.fill_count_fp,
      remaining_count_fp: w.remaining_count_fp,
      initial_count_fp: w.initial_count_fp,
      client_order_id: w.client_order_id,
      created_ts_ms: o.createdMs,
      last_updated_ts_ms: o.updatedMs,
    });
  };

  /** Cash and position of `count` YES contracts at `price` bought (bid) or sold (ask), netting YES and NO. */
  const settle = (ticker: string, book: 'bid' | 'ask', price: number, count: number, fee: number): void => {
    const pos = positions.get(ticker) ?? 0;
    const sign = book === 'bid' ? 1 : -1;
    const closing = Math.min(count, Math.max(0, -sign * pos));
    const opening = count - closing;
    const mine = book === 'bid' ? price : MICRO - price; // what one contract of my new side costs
    balance += mulDiv(MICRO - mine, closing, MICRO, 'floor') - mulDiv(mine, opening, MICRO, 'ceil') - fee;
    positions.set(ticker, pos + sign * count);
  };

  const fillOrder = (o: KOrder, price: number, count: number, taker: boolean): void => {
    const fee = taker ? tradeFee(KALSHI_STANDARD_FEES, price, count, 'taker') : 0;
    settle(o.ticker, o.book, price, count, fee);
    o.filled += count;
    o.remaining -= count;
    o.fees += fee;
    o.updatedMs = Date.now();
    const f: WireFill = {
      fill_id: `fill-${++seq}`,
      exchange_index: 0,
      trade_id: `fill-${seq}`,
      order_id: o.id,
      ticker: o.ticker,
      market_ticker: o.ticker,
      outcome_side: o.book === 'bid' ? 'yes' : 'no',
      book_side: o.book,
      count_fp: fp2(count),
      yes_price_dollars: usd(price),
      no_price_dollars: usd(MICRO - price),
      is_taker: taker,
      created_time: new Date().toISOString(),
      fee_cost: usd(fee),
      ts: Math.floor(Date.now() / 1000),
    };
    fills.push(f);
    push('fill', 'fill', {
      trade_id: f.trade_id,
      order_id: o.id,
      market_ticker: o.ticker,
      is_taker: taker,
      yes_price_dollars: f.yes_price_dollars,
      count_fp: f.count_fp,
      fee_cost: f.fee_cost,
      ts: f.ts,
      ts_ms: Date.now(),
      client_order_id: o.clientOrderId,
      post_position_fp: fp2(positions.get(o.ticker) ?? 0),
      outcome_side: f.outcome_side,
      book_side: f.book_side,
    });
  };

  const create = (b: WireCreateOrderRequest): FakeReply => {
    if (!b.ticker) return e(400, 'missing_parameters', 'missing parameters', 'ticker');
    const m = markets.get(b.ticker);
    if (!m) return e(404, 'not_found', 'market not found');
    if ((b.side !== 'bid' && b.side !== 'ask') || !b.count || !b.price || !b.time_in_force) {
      return e(400, 'invalid_order', 'invalid order', 'side, count, price and time_in_force are required');
    }
    if (!b.self_trade_prevention_type)
      return e(400, 'invalid_order', 'invalid order', 'self_trade_prevention_type');
    let price: number;
    let count: number;
    try {
      price = parseMicro(b.price);
      count = parseMicro(b.count);
    } catch {
      return e(400, 'bad_request', 'bad request', 'price/count');
    }
    if (price <= 0 || price >= MICRO || price % m.tick !== 0 || count <= 0 || count % 10_000 !== 0) {
      return e(400, 'invalid_order', 'invalid order', 'invalid price or count');
    }
    const cid = b.client_order_id ?? '';
    if (cid && [...orders.values()].some((o) => o.clientOrderId === cid && o.status === 'resting')) {
      return e(409, 'order_already_exists', 'an open order already uses this client_order_id');
    }
    const levels = b.side === 'bid' ? m.asks : m.bids;
    const crosses = (p: number) => (b.side === 'bid' ? p <= price : p >= price);
    const available = levels.filter(([p]) => crosses(p!)).reduce((s, [, c]) => s + c!, 0);
    if (b.post_only && available > 0) return e(400, 'invalid_order', 'invalid order', 'post only cross');
    const pos = positions.get(b.ticker) ?? 0;
    const opening = Math.max(0, count - Math.max(0, (b.side === 'bid' ? -1 : 1) * pos));
    const cost = mulDiv(b.side === 'bid' ? price : MICRO - price, opening, MICRO, 'ceil');
    if (cost > balance) return e(400, 'insufficient_balance', 'insufficient balance');
    const now = Date.now();
    const o: KOrder = {
      id: `ord-${++seq}`,
      clientOrderId: cid,
      ticker: b.ticker,
      book: b.side,
      price,
      initial: count,
      filled: 0,
      remaining: count,
      status: 'resting',
      fees: 0,
      createdMs: now,
      updatedMs: now,
    };
    orders.set(o.id, o);
    if (!(b.time_in_force === 'fill_or_kill' && available < count)) {
      for (const lv of levels) {
        if (o.remaining <= 0 || !crosses(lv[0]!)) break;
        const take = Math.min(lv[1]!, o.remaining);
        lv[1] = lv[1]! - take;
        if (take > 0) fillOrder(o, lv[0]!, take, true);
      }
    }
    m.asks = m.asks.filter(([, c]) => c! > 0);
    m.bids = m.bids.filter(([, c]) => c! > 0);
    if (o.remaining === 0) o.status = 'executed';
    else if (b.time_in_force !== 'good_till_canceled') {
      o.status = o.filled > 0 ? 'executed' : 'canceled';
      o.remaining = 0;
    }
    userOrderEvent(o);
    return {
      status: 201,
      body: {
        order_id: o.id,
        client_order_id: cid,
        fill_count: fp2(o.filled),
        remaining_count: fp2(o.remaining),
        ts_ms: now,
      },
    };
  };

  const cancel = (id: string): FakeReply => {
    const o = orders.get(id);
    if (o?.status !== 'resting') return e(404, 'not_found', 'order not found');
    const reduced = o.remaining;
    o.status = 'canceled';
    o.remaining = 0;
    o.updatedMs = Date.now();
    userOrderEvent(o);
    return {
      body: { order_id: o.id, client_order_id: o.clientOrderId, reduced_by: fp2(reduced), ts_ms: Date.now() },
    };
  };

  const route = async (req: FakeRequest): Promise<FakeReply> => {
    if (
      !verifyKalshiSignature(opts.publicKeyPem, req.headers, req.method, req.path, {
        keyId: opts.keyId,
        nowMs: Date.now(),
      })
    ) {
      authFailures.rest++;
      return e(401, 'authentication_error', 'bad signature');
    }
    const p = req.path.startsWith(REST) ? req.path.slice(REST.length) : req.path;
    const q = req.query;
    if (p === '/portfolio/events/orders' && req.method === 'POST') {
      return underFault(faults.next(), () => create(req.json<WireCreateOrderRequest>()), {
        rateLimit: { error: { code: 'too_many_requests', message: 'too many requests' } },
        serverError: { error: { code: 'internal_server_error', message: 'internal server error' } },
      });
    }
    if (p === '/portfolio/events/orders' && req.method === 'DELETE') {
      for (const o of orders.values()) if (o.status === 'resting') cancel(o.id);
      return { body: {} };
    }
    if (p === '/portfolio/events/orders/batched' && req.method === 'POST') {
      const items = req.json<{ orders: WireCreateOrderRequest[] }>().orders.map((b) => {
        const r = create(b);
        const body = r.body as { error?: { code: string; message: string } } & Record<string, unknown>;
        return body.error
          ? { client_order_id: b.client_order_id ?? null, error: { ...body.error, details: '' } }
          : { ...body, error: null };
      });
      return { status: 201, body: { orders: items } };
    }
    if (p === '/portfolio/events/orders/batched' && req.method === 'DELETE') {
      const items = req.json<{ orders: { order_id: string }[] }>().orders.map(({ order_id }) => {
        const r = cancel(order_id);
        const body = r.body as { error?: { code: string; message: string } } & Record<string, unknown>;
        return body.error
          ? { order_id, reduced_by: '0.00', error: { ...body.error, details: '' } }
          : { ...body, error: null };
      });
      return { body: { orders: items } };
    }
    const amend = /^\/portfolio\/events\/orders\/([^/]+)\/amend$/.exec(p);
    if (amend && req.method === 'POST') {
      const o = orders.get(decodeURIComponent(amend[1]!));
      const b = req.json<{
        price: string;
        count: string;
        client_order_id?: string;
        updated_client_order_id?: string;
      }>();
      if (o?.status !== 'resting') return e(404, 'not_found', 'order not found');
      if (b.client_order_id !== o.clientOrderId)
        return e(400, 'invalid_order', 'invalid order', 'client_order_id does not match');
      const total = parseMicro(b.count);
      if (total <= o.filled) return e(400, 'invalid_order', 'invalid order', 'count below filled');
      o.price = parseMicro(b.price);
      o.initial = total;
      o.remaining = total - o.filled;
      if (b.updated_client_order_id) o.clientOrderId = b.updated_client_order_id;
      o.updatedMs = Date.now();
      userOrderEvent(o);
      return {
        body: {
          order_id: o.id,
          client_order_id: o.clientOrderId,
          remaining_count: fp2(o.remaining),
          fill_count: fp2(o.filled),
          ts_ms: Date.now(),
        },
      };
    }
    const one = /^\/portfolio\/events\/orders\/([^/]+)$/.exec(p);
    if (one && req.method === 'DELETE') return cancel(decodeURIComponent(one[1]!));
    if (p === '/portfolio/orders' && req.method === 'GET') {
      const rows = [...orders.values()].filter(
        (o) =>
          (!q.ticker || o.ticker === q.ticker) &&
          (!q.status || o.status === q.status) &&
          (!q.min_ts || o.createdMs / 1000 >= Number(q.min_ts)),
      );
      return { body: { orders: rows.map(wireOrder), cursor: '' } };
    }
    const get = /^\/portfolio\/orders\/([^/]+)$/.exec(p);
    if (get && req.method === 'GET') {
      const o = orders.get(decodeURIComponent(get[1]!));
      return o ? { body: { order: wireOrder(o) } } : e(404, 'not_found', 'order not found');
    }
    if (p === '/portfolio/fills' && req.method === 'GET') {
      return {
        body: { fills: fills.filter((f) => !q.min_ts || (f.ts ?? 0) >= Number(q.min_ts)), cursor: '' },
      };
    }
    if (p === '/portfolio/positions' && req.method === 'GET') {
      const market_positions = [...positions.entries()].map(([ticker, pos]) => ({
        ticker,
        exchange_index: 0,
        total_traded_dollars: '0',
        position_fp: fp2(pos),
        market_exposure_dollars: '0',
        realized_pnl_dollars: '0',
        fees_paid_dollars: '0',
        last_updated_ts: new Date().toISOString(),
      }));
      return { body: { market_positions, event_positions: [], cursor: '' } };
    }
    if (p === '/portfolio/balance' && req.method === 'GET') {
      return {
        body: {
          balance: Math.floor(balance / 10_000),
          balance_dollars: usd(balance),
          portfolio_value: 0,
          updated_ts: 0,
        },
      };
    }
    return e(404, 'not_found', `no route ${req.method} ${p}`);
  };
  for (const method of ['GET', 'POST', 'DELETE']) http.route(method, '*', route);

  ws.onConnection((conn: WsFakeConnection) => {
    const ok =
      conn.path === WS_PATH &&
      verifyKalshiSignature(opts.publicKeyPem, conn.headers, 'GET', WS_PATH, {
        keyId: opts.keyId,
        nowMs: Date.now(),
      });
    if (!ok) {
      authFailures.ws++;
      conn.close(4001, 'authentication failed');
      return;
    }
    subs.set(conn.id, { seq: 0 });
  });
  ws.onMessage((conn, text) => {
    const s = subs.get(conn.id);
    if (!s) return;
    let cmd: { id?: number; cmd?: string; params?: { channels?: string[] } };
    try {
      cmd = JSON.parse(text);
    } catch {
      conn.send({ type: 'error', msg: { code: 1, msg: 'Unable to process message' } });
      return;
    }
    if (cmd.cmd !== 'subscribe') return;
    for (const channel of cmd.params?.channels ?? []) {
      if (channel !== 'fill' && channel !== 'user_orders') {
        conn.send({ type: 'error', id: cmd.id, msg: { code: 8, msg: 'Unknown channel name' } });
        continue;
      }
      const sid = ++sidSeq;
      s[channel] = sid;
      conn.send({ type: 'subscribed', id: cmd.id, msg: { channel, sid } });
    }
  });

  return {
    restUrl: `${http.url}${REST}`,
    wsUrl: `${ws.url}${WS_PATH}`,
    http,
    ws,
    faults,
    orders,
    authFailures,
    balance: () => balance,
    position: (t) => positions.get(t) ?? 0,
    fillResting(orderId, count) {
      const o = orders.get(orderId);
      if (o?.status !== 'resting') throw new Error(`order ${orderId} is not resting`);
      fillOrder(o, o.price, Math.min(count, o.remaining), false);
      if (o.remaining === 0) o.status = 'executed';
      userOrderEvent(o);
    },
    close: async () => {
      await ws.close();
      await http.close();
    },
  };
}
