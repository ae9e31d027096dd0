/**
 * A fake Polymarket CLOB V2 for trading tests (REST + the user websocket on 127.0.0.1, port 0).
 *
 * Like production it checks authentication and signatures before anything else:
 * - L1 (POST /auth/api-key, GET /auth/derive-api-key): the EIP-712 ClobAuth signature (domain "ClobAuthDomain"
 *   version "1") of POLY_ADDRESS, verified with viem;
 * - L2 (every trading call): POLY_API_KEY / POLY_PASSPHRASE of the registered key, and POLY_SIGNATURE recomputed
 *   as HMAC-SHA256(secret, timestamp + METHOD + path + body), url-safe base64 — independently of the SDK that
 *   built it;
 * - orders: the EIP-712 order signature under the domain of the token's market — version "2" with the CTF / neg-risk
 *   exchange V2 for protocol v1 markets, version "3" with ExchangeV3 for protocol v2 markets — so an order signed
 *   for the wrong domain or version is refused with `invalid signature`, as production does.
 * Orders match against a server-side book (buys walk the asks, sells the bids); FOK/FAK/GTC/GTD, post-only,
 * tick and minimum-size rules and balances are enforced with the CLOB's real error bodies (`{"error": "…"}`).
 * Trades go MATCHED → MINED → CONFIRMED on the user channel (or FAILED, undoing the fill), as `settle` says.
 * Faults (faults.push) hit the next POST /order: rejects, 429, drops, delays, and "error but placed".
 */
import { createHmac, randomBytes } from 'node:crypto';
import { type Address, getAddress, verifyTypedData } from 'viem';
import { MICRO, mulDiv, parseMicro, toDecimal } from '../../src/core/money.ts';
import {
  exchangeDomain,
  fromWire,
  orderHash,
  verifyOrderSignature,
} from '../../src/venues/polymarket/execution/orders.ts';
import type {
  WireOpenOrder,
  WirePostOrderBody,
  WireTrade,
  WireTradeStatus,
} from '../../src/venues/polymarket/execution/wire.ts';
import { type FakeReply, type FakeRequest, type HttpFake, startHttpFake } from './http-fake.ts';
import { FaultQueue, underFault } from './order-faults.ts';
import { startWsFake, type WsFake, type WsFakeConnection } from './ws-fake.ts';

export interface FakePmMarket {
  readonly conditionId: string;
  readonly tokenId: string;
  readonly protocol: 'v1' | 'v2';
  readonly negRisk?: boolean;
  /** micro-units */
  readonly tickSize: number;
  readonly minSize: number;
  /** Resting liquidity of others: [price, size] in micro-units. */
  readonly asks?: readonly (readonly [number, number])[];
  readonly bids?: readonly (readonly [number, number])[];
  readonly feeRateBps?: number;
}

export interface PolymarketClobFakeOptions {
  readonly chainId: number;
  /** The registered account: the EOA allowed to sign and its L2 credentials. */
  readonly signer: Address;
  readonly maker: Address;
  readonly markets: readonly FakePmMarket[];
  /** pUSD balance, micro-units. */
  readonly collateral: number;
  /** Token balances to start with, micro-units. */
  readonly tokens?: Readonly<Record<string, number>>;
  /** What happens to trades after MATCHED: confirmed, failed, or held until `advanceTrade` (default confirm). */
  readonly settle?: 'confirm' | 'fail' | 'hold';
}

interface FakeOrder {
  id: string;
  tokenId: string;
  market: string;
  side: 'BUY' | 'SELL';
  price: number;
  original: number;
  matched: number;
  status: 'ORDER_STATUS_LIVE' | 'ORDER_STATUS_MATCHED' | 'ORDER_STATUS_CANCELED';
  orderType: string;
  createdAt: number;
  expiration: string;
}

export interface PolymarketClobFake {
  readonly url: string;
  readonly wsUrl: string;
  readonly http: HttpFake;
  readonly ws: WsFake;
  readonly credentials: { key: string; secret: string; passphrase: string };
  readonly faults: FaultQueue;
  /** Orders ever accepted, by hash. */
  readonly orders: ReadonlyMap<string, FakeOrder>;
  readonly trades: readonly WireTrade[];
  readonly rejections: { signature: number; auth: number };
  collateral(): number;
  tokenBalance(tokenId: string): number;
  /** Moves a held trade on (MINED, CONFIRMED, FAILED) and tells the user channel. */
  advanceTrade(tradeId: string, status: WireTradeStatus): void;
  close(): Promise<void>;
}

const CLOB_AUTH_TYPES = {
  ClobAuth: [
    { name: 'address', type: 'address' },
    { name: 'timestamp', type: 'string' },
    { name: 'nonce', type: 'uint256' },
    { name: 'message', type: 'string' },
  ],
} as const;
const CLOB_AUTH_MESSAGE = 'This message attests that I control the given wallet';

const err = (status: number, error: string): FakeReply => ({ status, body: { error } });
const dec = (m: number): string => toDecimal(m);
const header = (req: FakeRequest, name: string): string => {
  const v = req.headers[name.toLowerCase()];
  return (Array.isArray(v) ? v[0] : v) ?? '';
};

export async function startPolymarketClobFake(opts: PolymarketClobFakeOptions): Promise<PolymarketClobFake> {
  const http = await startHttpFake();
  const ws = await startWsFake();
  const credentials = {
    key: `fake-${randomBytes(8).toString('hex')}`,
    secret: randomBytes(32).toString('base64url'),
    passphrase: randomBytes(16).toString('hex'),
  };
  const faults = new FaultQueue();
  const orders = new Map<string, FakeOrder>();
  const trades: WireTrade[] = [];
  const rejections = { signature: 0, auth: 0 };
  const markets = new Map(opts.markets.map((m) => [m.tokenId, m]));
  const books = new Map(
    opts.markets.map((m) => [
      m.tokenId,
      { asks: (m.asks ?? []).map(([p, s]) => [p, s]), bids: (m.bids ?? []).map(([p, s]) => [p, s]) },
    ]),
  );
  let collateral = opts.collateral;
  const tokens = new Map(Object.entries(opts.tokens ?? {}));
  let tradeSeq = 0;
  const signer = getAddress(opts.signer);
  const maker = getAddress(opts.maker);
  const authed = new Set<number>();

  const push = (event: object): void => {
    for (const c of ws.openConnections()) if (authed.has(c.id)) c.send(event);
  };

  const l2ok = (req: FakeRequest): boolean => {
    const ts = header(req, 'POLY_TIMESTAMP');
    const expected = createHmac('sha256', Buffer.from(credentials.secret, 'base64url'))
      .update(`${ts}${req.method}${req.path}${req.body}`)
      .digest('base64')
      .replace(/\+/g, '-')
      .replace(/\//g, '_');
    const ok =
      header(req, 'POLY_API_KEY') === credentials.key &&
      header(req, 'POLY_PASSPHRASE') === credentials.passphrase &&
      header(req, 'POLY_ADDRESS').toLowerCase() === signer.toLowerCase() &&
      /^\d+$/.test(ts) &&
      Math.abs(Date.now() / 1000 - Number(ts)) < 30 &&
      header(req, 'POLY_SIGNATURE') === expected;
    if (!ok) rejections.auth++;
    return ok;
  };

  const l1ok = async (req: FakeRequest): Promise<boolean> => {
    try {
      const address = getAddress(header(req, 'POLY_ADDRESS'));
      const ok =
        address === signer &&
        (await verifyTypedData({
          address,
          domain: { name: 'ClobAuthDomain', version: '1', chainId: opts.chainId },
          types: CLOB_AUTH_TYPES,
          primaryType: 'ClobAuth',
          message: {
            address,
            timestamp: header(req, 'POLY_TIMESTAMP'),
            nonce: BigInt(header(req, 'POLY_NONCE') || '0'),
            message: CLOB_AUTH_MESSAGE,
          },
          signature: header(req, 'POLY_SIGNATURE') as `0x${string}`,
        }));
      if (!ok) rejections.auth++;
      return ok;
    } catch {
      rejections.auth++;
      return false;
    }
  };

  const openOrder = (o: FakeOrder): WireOpenOrder => ({
    id: o.id,
    status: o.status,
    owner: credentials.key,
    maker_address: maker,
    market: o.market,
    asset_id: o.tokenId,
    side: o.side,
    original_size: dec(o.original),
    size_matched: dec(o.matched),
    price: dec(o.price),
    associate_trades: [],
    outcome: 'Yes',
    created_at: o.createdAt,
    expiration: o.expiration,
    order_type: o.orderType,
  });

  const orderEvent = (o: FakeOrder, type: 'PLACEMENT' | 'UPDATE' | 'CANCELLATION') => ({
    event_type: 'order',
    type,
    ...openOrder(o),
    timestamp: String(Math.floor(Date.now() / 1000)),
  });

  const applyFill = (side: 'BUY' | 'SELL', tokenId: string, price: number, size: number, sign: 1 | -1) => {
    const value = mulDiv(price, size, MICRO, 'floor');
    const held = tokens.get(tokenId) ?? 0;
    if (side === 'BUY') {
      collateral -= sign * value;
      tokens.set(tokenId, held + sign * size);
    } else {
      collateral += sign * value;
      tokens.set(tokenId, held - sign * size);
    }
  };

  const setTradeStatus = (t: WireTrade, status: WireTradeStatus): void => {
    const i = trades.indexOf(t);
    const next: WireTrade = { ...t, status, last_update: String(Math.floor(Date.now() / 1000)) };
    trades[i] = next;
    // a failed settlement undoes the fill
    if (status === 'FAILED') applyFill(t.side, t.asset_id, parseMicro(t.price), parseMicro(t.size), -1);
    push({ ...next, event_type: 'trade', type: 'TRADE', timestamp: next.last_update });
  };

  const settleLater = (t: WireTrade): void => {
    const mode = opts.settle ?? 'confirm';
    if (mode === 'hold') return;
    setTimeout(() => {
      setTradeStatus(trades.find((x) => x.id === t.id)!, 'MINED');
      setTimeout(
        () => setTradeStatus(trades.find((x) => x.id === t.id)!, mode === 'fail' ? 'FAILED' : 'CONFIRMED'),
        5,
      );
    }, 5);
  };

  /** Places a verified order: matching, balances, trades, events. Returns the POST /order reply. */
  const place = (body: WirePostOrderBody, id: string, m: FakePmMarket): FakeReply => {
    const o = body.order;
    const isBuy = o.side === 'BUY';
    const size = Number(isBuy ? o.takerAmount : o.makerAmount);
    const price = isBuy
      ? mulDiv(Number(o.makerAmount), MICRO, Number(o.takerAmount), 'ceil')
      : mulDiv(Number(o.takerAmount), MICRO, Number(o.makerAmount), 'floor');
    const limitOrder = body.orderType === 'GTC' || body.orderType === 'GTD';
    if (limitOrder && price % m.tickSize !== 0) {
      return err(
        400,
        `order ${id} is invalid. Price (${dec(price)}) breaks minimum tick size rule: ${dec(m.tickSize)}`,
      );
    }
    if (size < m.minSize)
      return err(
        400,
        `order ${id} is invalid. Size (${dec(size)}) lower than the minimum: ${dec(m.minSize)}`,
      );
    if (isBuy ? collateral < Number(o.makerAmount) : (tokens.get(o.tokenId) ?? 0) < size) {
      return err(400, 'not enough balance / allowance');
    }
    const book = books.get(o.tokenId)!;
    const levels = isBuy ? book.asks : book.bids;
    const crosses = (p: number) => (isBuy ? p <= price : p >= price);
    const available = levels.filter(([p]) => crosses(p!)).reduce((s, [, q]) => s + q!, 0);
    if (body.postOnly && available > 0) return err(400, 'invalid post-only order: order crosses book');
    if (body.orderType === 'FOK' && available < size) {
      return err(400, "order couldn't be fully filled. FOK orders are fully filled or killed.");
    }
    if (body.orderType === 'FAK' && available === 0) {
      return err(
        400,
        'no orders found to match with FAK order. FAK orders are partially filled or killed if no match is found.',
      );
    }
    const order: FakeOrder = {
      id,
      tokenId: o.tokenId,
      market: m.conditionId,
      side: o.side,
      price,
      original: size,
      matched: 0,
      status: 'ORDER_STATUS_LIVE',
      orderType: body.orderType,
      createdAt: Math.floor(Number(o.timestamp) / 1000),
      expiration: o.expiration,
    };
    orders.set(id, order);
    push(orderEvent(order, 'PLACEMENT'));
    const tradeIds: string[] = [];
    let spent = 0;
    for (const lv of levels) {
      if (order.matched >= size || !crosses(lv[0]!)) break;
      const take = Math.min(lv[1]!, size - order.matched);
      if (take <= 0) continue;
      lv[1] = lv[1]! - take;
      order.matched += take;
      spent += mulDiv(lv[0]!, take, MICRO, 'floor');
      applyFill(o.side, o.tokenId, lv[0]!, take, 1);
      const t: WireTrade = {
        id: `trade-${++tradeSeq}`,
        taker_order_id: id,
        market: m.conditionId,
        asset_id: o.tokenId,
        side: o.side,
        size: dec(take),
        fee_rate_bps: String(m.feeRateBps ?? 0),
        price: dec(lv[0]!),
        status: 'MATCHED',
        match_time: String(Math.floor(Date.now() / 1000)),
        last_update: String(Math.floor(Date.now() / 1000)),
        outcome: 'Yes',
        owner: credentials.key,
        maker_address: maker,
        maker_orders: [
          {
            order_id: `0xmaker${tradeSeq}`,
            owner: 'someone-else',
            maker_address: '0x000000000000000000000000000000000000dEaD',
            matched_amount: dec(take),
            price: dec(lv[0]!),
            asset_id: o.tokenId,
            outcome: 'Yes',
          },
        ],
        trader_side: 'TAKER',
      };
      trades.push(t);
      tradeIds.push(t.id);
      push({ ...t, event_type: 'trade', type: 'TRADE', timestamp: t.match_time });
      settleLater(t);
    }
    book.asks = book.asks.filter(([, q]) => q! > 0);
    book.bids = book.bids.filter(([, q]) => q! > 0);
    const filled = order.matched >= size;
    if (filled || !limitOrder) order.status = filled ? 'ORDER_STATUS_MATCHED' : 'ORDER_STATUS_CANCELED';
    if (order.matched > 0) push(orderEvent(order, 'UPDATE'));
    const status =
      order.status === 'ORDER_STATUS_LIVE' ? 'live' : order.matched > 0 ? 'matched' : 'unmatched';
    return {
      body: {
        success: true,
        errorMsg: '',
        orderID: id,
        status,
        takingAmount: dec(isBuy ? order.matched : spent),
        makingAmount: dec(isBuy ? spent : order.matched),
        tradeIDs: tradeIds,
        transactionsHashes: [],
      },
    };
  };

  const postOrder = async (req: FakeRequest): Promise<FakeReply> => {
    let body: WirePostOrderBody;
    try {
      body = req.json<WirePostOrderBody>();
    } catch {
      return err(400, 'Invalid order payload');
    }
    if (body.owner !== credentials.key) return err(400, 'the order owner has to be the owner of the API KEY');
    const m = markets.get(body.order?.tokenId ?? '');
    if (!m) return err(400, 'Invalid order payload');
    const { order, signature } = fromWire(body.order);
    if (order.signer !== signer)
      return err(400, 'the order signer address has to be the address of the API KEY');
    if (order.maker !== maker) return err(400, 'the order owner has to be the owner of the API KEY');
    const domain = exchangeDomain(opts.chainId, { protocol: m.protocol, negRisk: m.negRisk ?? false });
    if (!(await verifyOrderSignature(order, signature, domain))) {
      rejections.signature++;
      return err(400, 'invalid signature');
    }
    const id = orderHash(order, domain);
    return underFault(
      faults.next(),
      () => (orders.has(id) ? err(400, `order ${id} is invalid. Duplicated.`) : place(body, id, m)),
      { rateLimit: { error: 'Too Many Requests' }, serverError: { error: 'Internal server error' } },
    );
  };

  const cancel = (ids: readonly string[]) => {
    const canceled: string[] = [];
    const not_canceled: Record<string, string> = {};
    for (const id of ids) {
      const o = orders.get(id);
      if (!o) not_canceled[id] = 'order not found';
      else if (o.status !== 'ORDER_STATUS_LIVE') not_canceled[id] = "matched orders can't be canceled";
      else {
        o.status = 'ORDER_STATUS_CANCELED';
        canceled.push(id);
        push(orderEvent(o, 'CANCELLATION'));
      }
    }
    return { body: { canceled, not_canceled } };
  };

  const page = <T>(rows: T[]) => ({
    body: { data: rows, next_cursor: 'LTE=', limit: rows.length, count: rows.length },
  });

  const route = async (req: FakeRequest): Promise<FakeReply> => {
    if (req.path === '/auth/api-key' || req.path === '/auth/derive-api-key') {
      if (!(await l1ok(req))) return err(401, 'Invalid L1 Request headers');
      return {
        body: { apiKey: credentials.key, secret: credentials.secret, passphrase: credentials.passphrase },
      };
    }
    if (!l2ok(req)) return err(401, 'Unauthorized/Invalid api key');
    const p = req.path;
    if (req.method === 'POST' && p === '/order') return postOrder(req);
    if (req.method === 'DELETE' && p === '/order') return cancel([req.json<{ orderID: string }>().orderID]);
    if (req.method === 'DELETE' && p === '/orders') return cancel(req.json<string[]>());
    if (req.method === 'DELETE' && p === '/cancel-all') {
      return cancel([...orders.values()].filter((o) => o.status === 'ORDER_STATUS_LIVE').map((o) => o.id));
    }
    if (req.method === 'GET' && p.startsWith('/data/order/')) {
      const o = orders.get(p.slice('/data/order/'.length));
      return o ? { body: openOrder(o) } : err(404, 'order not found');
    }
    if (req.method === 'GET' && p === '/data/orders') {
      return page([...orders.values()].filter((o) => o.status === 'ORDER_STATUS_LIVE').map(openOrder));
    }
    if (req.method === 'GET' && p === '/data/trades') {
      const after = Number(req.query.after ?? '0');
      return page(trades.filter((t) => Number(t.match_time) >= after));
    }
    if (req.method === 'GET' && p === '/balance-allowance') {
      const t = req.query.asset_type;
      if (t === 'COLLATERAL') return { body: { balance: String(collateral), allowances: {} } };
      const m = markets.get(req.query.token_id ?? '');
      if (t !== 'CONDITIONAL' && t !== 'CONDITIONAL-V2') return err(400, 'Invalid asset type');
      // a token's balance lives in one ledger: CTF (CONDITIONAL) for v1 markets, PositionManager for v2
      const right = m && (t === 'CONDITIONAL-V2') === (m.protocol === 'v2');
      return { body: { balance: String(right ? (tokens.get(m.tokenId) ?? 0) : 0), allowances: {} } };
    }
    if (req.method === 'GET' && p === '/balance-allowance/update') return { body: '' };
    return err(404, `no route ${req.method} ${p}`);
  };
  for (const method of ['GET', 'POST', 'DELETE']) http.route(method, '*', route);

  ws.onMessage((conn: WsFakeConnection, text: string) => {
    if (authed.has(conn.id) || text === 'PING') return;
    try {
      const sub = JSON.parse(text) as {
        auth?: { apiKey?: string; secret?: string; passphrase?: string };
        type?: string;
      };
      const a = sub.auth;
      if (
        sub.type === 'user' &&
        a?.apiKey === credentials.key &&
        a.secret === credentials.secret &&
        a.passphrase === credentials.passphrase
      ) {
        authed.add(conn.id);
        return;
      }
    } catch {
      // fall through
    }
    rejections.auth++;
    conn.close(4001, 'authentication failed');
  });

  return {
    url: http.url,
    wsUrl: `${ws.url}/ws/user`,
    http,
    ws,
    credentials,
    faults,
    orders,
    trades,
    rejections,
    collateral: () => collateral,
    tokenBalance: (tokenId) => tokens.get(tokenId) ?? 0,
    advanceTrade(tradeId, status) {
      const t = trades.find((x) => x.id === tradeId);
      if (!t) throw new Error(`no trade ${tradeId}`);
      setTradeStatus(t, status);
    },
    close: async () => {
      await ws.close();
      await http.close();
    },
  };
}
