/**
 * A fake Polymarket on 127.0.0.1: Gamma (GET /markets, bare arrays with limit/offset), CLOB (GET /book, POST
 * /books, books best-LAST as the venue sends them) and the websocket market channel (subscribe → an array of
 * `book` snapshots, later `price_change` frames for subscribed assets, PING → PONG). The server keeps the true
 * book per token, so a test can check that a client's local books converge to it after any disruption. The
 * underlying HttpFake/WsFake objects are exposed for scripted failures (429, 500, slow, drop, silence).
 */
import type { Level } from '../../src/core/messages.ts';
import { parseMicro } from '../../src/core/money.ts';
import { type PolymarketApiCreds, verifyL2Headers } from '../../src/venues/polymarket/auth.ts';
import type { ClobBook, GammaMarket } from '../../src/venues/polymarket/wire.ts';
import { type HttpFake, startHttpFake } from './http-fake.ts';
import { startWsFake, type WsFake, type WsFakeConnection } from './ws-fake.ts';

type Side = 'BUY' | 'SELL';

interface ServerBook {
  market: string;
  bids: Map<string, string>;
  asks: Map<string, string>;
}

export interface FakePolymarket {
  readonly gamma: HttpFake;
  readonly clob: HttpFake;
  readonly ws: WsFake;
  readonly gammaUrl: string;
  readonly clobUrl: string;
  readonly wsUrl: string;
  /** Sets a level on the server's book (size "0" deletes) and, unless `silent`, sends a price_change. */
  setLevel(tokenId: string, side: Side, price: string, size: string, silent?: boolean): void;
  /** Wire book as served (bids ascending, asks descending). */
  wireBook(tokenId: string): ClobBook;
  /** The true book best-first in micro-units, for comparing with a client's. */
  expected(tokenId: string): { bids: Level[]; asks: Level[] };
  /** Assets each open connection has subscribed. */
  subscribed(conn: WsFakeConnection): ReadonlySet<string>;
  /** Sends a raw text frame to every open connection. */
  sendRaw(text: string): void;
  close(): Promise<void>;
}

export interface FakePolymarketOptions {
  /** Gamma market objects served by /markets (wire shape, P1 string arrays). */
  readonly markets: readonly GammaMarket[];
  /** Initial levels per token; tokens without an entry get a small default book. */
  readonly books?: Readonly<Record<string, { bids: Array<[string, string]>; asks: Array<[string, string]> }>>;
  /** API credentials and wallet address the authenticated endpoints accept (L2 headers). */
  readonly account?: PolymarketApiCreds & {
    readonly address: string;
    /** pUSD balance and per-contract allowances, 6-decimal base units. */
    readonly balance: string;
    readonly allowances: Readonly<Record<string, string>>;
  };
}

const cmp = (a: string, b: string) => parseMicro(a) - parseMicro(b);

export async function startFakePolymarket(opts: FakePolymarketOptions): Promise<FakePolymarket> {
  const gamma = await startHttpFake();
  const clob = await startHttpFake();
  const ws = await startWsFake();
  let clock = 1_760_000_000_000;
  const ts = () => String(++clock);
  const books = new Map<string, ServerBook>();
  const subs = new Map<WsFakeConnection, Set<string>>();

  for (const m of opts.markets) {
    const ids = JSON.parse(m.clobTokenIds ?? '[]') as string[];
    ids.forEach((id, i) => {
      const init = opts.books?.[id] ?? {
        bids: [
          ['0.40', '100'],
          [i === 0 ? '0.45' : '0.44', '50'],
        ],
        asks: [
          ['0.60', '100'],
          [i === 0 ? '0.55' : '0.56', '50'],
        ],
      };
      books.set(id, { market: m.conditionId ?? '', bids: new Map(init.bids), asks: new Map(init.asks) });
    });
  }

  const wireBook = (id: string): ClobBook => {
    const b = books.get(id);
    if (!b) return { market: '', asset_id: id, bids: [], asks: [], timestamp: ts(), hash: '0' };
    const bids = [...b.bids].sort((x, y) => cmp(x[0], y[0]));
    const asks = [...b.asks].sort((x, y) => cmp(y[0], x[0]));
    return {
      market: b.market,
      asset_id: id,
      bids: bids.map(([price, size]) => ({ price, size })),
      asks: asks.map(([price, size]) => ({ price, size })),
      timestamp: ts(),
      hash: 'fake',
      tick_size: '0.01',
      min_order_size: '5',
    };
  };

  gamma.route('GET', '/markets', (req) => {
    const limit = Number(req.query.limit ?? 100);
    const offset = Number(req.query.offset ?? 0);
    let list = [...opts.markets];
    if (req.query.closed === 'false') list = list.filter((m) => m.closed !== true);
    if (req.query.active === 'true') list = list.filter((m) => m.active !== false);
    return { body: list.slice(offset, offset + limit) };
  });
  clob.route('POST', '/books', (req) => ({
    body: req.json<Array<{ token_id: string }>>().map((x) => wireBook(x.token_id)),
  }));
  clob.route('GET', '/book', (req) => ({ body: wireBook(req.query.token_id ?? '') }));
  clob.route('GET', '/time', () => ({ raw: String(Math.floor(Date.now() / 1000)) }));
  // L2-authenticated: the signature covers the path without its query, like the CLOB
  clob.route('GET', '/balance-allowance', (req) => {
    const acct = opts.account;
    if (!acct || !verifyL2Headers(acct, req.headers, 'GET', req.path, { nowMs: Date.now() }))
      return { status: 401, body: { error: 'Unauthorized/Invalid api key' } };
    if (req.query.asset_type !== 'COLLATERAL') return { status: 400, body: { error: 'invalid asset_type' } };
    return { body: { balance: acct.balance, allowances: acct.allowances } };
  });

  ws.onMessage((conn, text) => {
    if (text === 'PING') return;
    let msg: { assets_ids?: string[]; type?: string; operation?: string };
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    const set = subs.get(conn) ?? new Set<string>();
    subs.set(conn, set);
    const ids = msg.assets_ids ?? [];
    if (msg.type === 'market' || msg.operation === 'subscribe') {
      for (const id of ids) set.add(id);
      // initial snapshots arrive array-wrapped (P18)
      conn.send(ids.map((id) => ({ event_type: 'book', ...wireBook(id) })));
    } else if (msg.operation === 'unsubscribe') {
      for (const id of ids) set.delete(id);
    }
  });

  return {
    gamma,
    clob,
    ws,
    gammaUrl: gamma.url,
    clobUrl: clob.url,
    wsUrl: ws.url,
    setLevel(tokenId, side, price, size, silent = false) {
      const b = books.get(tokenId);
      if (!b) throw new Error(`fake polymarket: unknown token ${tokenId}`);
      const levels = side === 'BUY' ? b.bids : b.asks;
      if (parseMicro(size) === 0) levels.delete(price);
      else levels.set(price, size);
      if (silent) return;
      const frame = {
        event_type: 'price_change',
        market: b.market,
        timestamp: ts(),
        price_changes: [{ asset_id: tokenId, price, size, side, hash: 'h', best_bid: '0', best_ask: '1' }],
      };
      for (const c of ws.openConnections()) if (subs.get(c)?.has(tokenId)) c.send(frame);
    },
    wireBook,
    expected(tokenId) {
      const b = books.get(tokenId);
      if (!b) return { bids: [], asks: [] };
      const toLevels = (m: Map<string, string>, desc: boolean): Level[] =>
        [...m]
          .map(([p, s]) => [parseMicro(p), parseMicro(s)] as const)
          .sort((x, y) => (desc ? y[0] - x[0] : x[0] - y[0]));
      return { bids: toLevels(b.bids, true), asks: toLevels(b.asks, false) };
    },
    subscribed: (conn) => subs.get(conn) ?? new Set(),
    sendRaw: (text) => ws.broadcast(text),
    close: async () => {
      await Promise.all([gamma.close(), clob.close(), ws.close()]);
    },
  };
}
