/**
 * A fake Kalshi (REST + websocket on 127.0.0.1, port 0) for feed tests, built on the shared http/ws fakes.
 *
 * REST under /trade-api/v2: GET /markets and /events with cursor pagination, GET /series/{ticker}, GET /markets/{ticker}/orderbook
 * from a server-side book. The websocket at /trade-api/ws/v2 answers subscribe/unsubscribe (K12) with fresh sids
 * per connection, sends orderbook snapshots on subscribe and deltas on demand with seq per sid (K13); `delta`
 * can skip a seq to force a gap. Every REST request and websocket handshake must carry a valid RSA-PSS
 * signature (K11): REST answers 401 otherwise, the socket is closed with 4001.
 */

import { verifyKalshiSignature } from '../../src/venues/kalshi/signing.ts';
import type { WireEvent, WireMarket } from '../../src/venues/kalshi/wire.ts';
import { type HttpFake, startHttpFake } from './http-fake.ts';
import { startWsFake, type WsFake, type WsFakeConnection } from './ws-fake.ts';

const REST = '/trade-api/v2';
const WS_PATH = '/trade-api/ws/v2';

type Side = 'yes' | 'no';
/** price string ("0.4200") → size in hundredths of a contract */
type SideBook = Map<string, number>;

interface ConnSub {
  sid: number;
  channel: string;
  tickers: Set<string>;
  seq: number;
}

export interface KalshiFakeOptions {
  keyId: string;
  publicKeyPem: string;
  markets: WireMarket[];
  events?: WireEvent[];
  /** Initial books: ticker → {yes, no} as `[price, count]` wire levels. */
  books?: Record<string, { yes?: Array<[string, string]>; no?: Array<[string, string]> }>;
  pageSize?: number;
  /** GET /portfolio/balance (signed): available balance and portfolio value in cents. */
  balance?: { balance: number; portfolio_value: number };
  /** GET /exchange/status (public). Default both active. */
  exchange?: { exchange_active: boolean; trading_active: boolean };
}

export interface KalshiFake {
  readonly restUrl: string;
  readonly wsUrl: string;
  readonly http: HttpFake;
  readonly ws: WsFake;
  readonly authFailures: { rest: number; ws: number };
  /** Parsed commands received per connection id. */
  commands(connId?: number): Array<{ id: number; cmd: string; params: Record<string, unknown> }>;
  /** Changes the server book by `delta` contracts and sends orderbook_delta to subscribers; `skipSeq` forces a gap. */
  delta(ticker: string, side: Side, price: string, delta: string, opts?: { skipSeq?: boolean }): void;
  trade(ticker: string, yesPrice: string, count: string, takerSide: Side): void;
  /** Sends text as is to every open connection (malformed JSON). */
  raw(text: string): void;
  /** The server's book for a ticker as sorted `[price, count]` levels, ascending (K5). */
  levels(ticker: string, side: Side): Array<[string, string]>;
  close(): Promise<void>;
}

const hundredths = (count: string): number => Math.round(Number(count) * 100);
const fmtCount = (h: number): string =>
  `${Math.trunc(h / 100)}.${String(Math.abs(h % 100)).padStart(2, '0')}`;

export async function startKalshiFake(opts: KalshiFakeOptions): Promise<KalshiFake> {
  const http = await startHttpFake();
  const ws = await startWsFake({ textHeartbeat: null });
  const authFailures = { rest: 0, ws: 0 };
  const pageSize = opts.pageSize ?? 100;
  const books = new Map<string, { yes: SideBook; no: SideBook }>();
  const bookOf = (t: string) => {
    let b = books.get(t);
    if (!b) {
      b = { yes: new Map(), no: new Map() };
      books.set(t, b);
    }
    return b;
  };
  for (const [t, b] of Object.entries(opts.books ?? {})) {
    const book = bookOf(t);
    for (const [p, c] of b.yes ?? []) book.yes.set(p, hundredths(c));
    for (const [p, c] of b.no ?? []) book.no.set(p, hundredths(c));
  }
  const levels = (t: string, side: Side): Array<[string, string]> =>
    [...bookOf(t)[side].entries()]
      .filter(([, s]) => s > 0)
      .sort((a, b) => Number(a[0]) - Number(b[0]))
      .map(([p, s]) => [p, fmtCount(s)]);

  const paginate = <T>(items: T[], cursor: string | undefined, limit: string | undefined) => {
    const start = cursor ? Number(cursor) : 0;
    const n = Math.min(pageSize, limit ? Number(limit) : pageSize);
    const page = items.slice(start, start + n);
    const next = start + n < items.length ? String(start + n) : '';
    return { page, next };
  };

  http.route('GET', '*', (req) => {
    // public, like the real exchange's status
    if (req.path === `${REST}/exchange/status`)
      return { body: opts.exchange ?? { exchange_active: true, trading_active: true } };
    if (
      !verifyKalshiSignature(opts.publicKeyPem, req.headers, 'GET', req.path, {
        keyId: opts.keyId,
        nowMs: Date.now(),
      })
    ) {
      authFailures.rest++;
      return { status: 401, body: { error: { code: 'authentication_error', message: 'bad signature' } } };
    }
    if (req.path === `${REST}/portfolio/balance`) {
      const b = opts.balance ?? { balance: 0, portfolio_value: 0 };
      return { body: { ...b, updated_ts: Math.floor(Date.now() / 1000) } };
    }
    if (req.path === `${REST}/markets`) {
      const { page, next } = paginate(opts.markets, req.query.cursor, req.query.limit);
      return { body: { markets: page, cursor: next } };
    }
    if (req.path === `${REST}/events`) {
      const { page, next } = paginate(opts.events ?? [], req.query.cursor, req.query.limit);
      return { body: { events: page, cursor: next } };
    }
    const ser = /^\/trade-api\/v2\/series\/([^/]+)$/.exec(req.path);
    if (ser) {
      // every series of the fake charges the standard quadratic schedule
      const t = decodeURIComponent(ser[1]!);
      return { body: { series: { ticker: t, fee_type: 'quadratic', fee_multiplier: 1 } } };
    }
    const m = /^\/trade-api\/v2\/markets\/([^/]+)\/orderbook$/.exec(req.path);
    if (m) {
      const t = decodeURIComponent(m[1]!);
      if (!opts.markets.some((x) => x.ticker === t))
        return { status: 404, body: { error: 'market not found' } };
      return { body: { orderbook_fp: { yes_dollars: levels(t, 'yes'), no_dollars: levels(t, 'no') } } };
    }
    return { status: 404, body: { error: `no route ${req.path}` } };
  });

  const subsByConn = new Map<number, ConnSub[]>();
  const sent = (c: WsFakeConnection, msg: object) => c.send(msg);

  ws.onConnection((conn) => {
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
    subsByConn.set(conn.id, []);
  });

  ws.onMessage((conn, text) => {
    const subs = subsByConn.get(conn.id);
    if (!subs) return;
    let cmd: { id?: number; cmd?: string; params?: Record<string, unknown> };
    try {
      cmd = JSON.parse(text);
    } catch {
      sent(conn, { type: 'error', msg: { code: 1, msg: 'Unable to process message' } });
      return;
    }
    const p = cmd.params ?? {};
    if (cmd.cmd === 'subscribe') {
      const chans = (p.channels as string[] | undefined) ?? [];
      const tickers =
        (p.market_tickers as string[] | undefined) ?? (p.market_ticker ? [p.market_ticker as string] : []);
      for (const channel of chans) {
        if (!['orderbook_delta', 'ticker', 'trade'].includes(channel)) {
          sent(conn, { type: 'error', id: cmd.id, msg: { code: 8, msg: 'Unknown channel name' } });
          continue;
        }
        const sub: ConnSub = { sid: subs.length + 1, channel, tickers: new Set(tickers), seq: 0 };
        subs.push(sub);
        sent(conn, { type: 'subscribed', id: cmd.id, msg: { channel, sid: sub.sid } });
        if (channel === 'orderbook_delta') {
          for (const t of tickers) {
            const y = levels(t, 'yes');
            const n = levels(t, 'no');
            sent(conn, {
              type: 'orderbook_snapshot',
              sid: sub.sid,
              seq: ++sub.seq,
              msg: {
                market_ticker: t,
                market_id: `id-${t}`,
                ...(y.length ? { yes_dollars_fp: y } : {}),
                ...(n.length ? { no_dollars_fp: n } : {}),
              },
            });
          }
        }
      }
    } else if (cmd.cmd === 'unsubscribe') {
      for (const sid of (p.sids as number[] | undefined) ?? []) {
        const i = subs.findIndex((s) => s.sid === sid && s.tickers.size > 0);
        if (i >= 0) subs[i]!.tickers.clear();
        sent(conn, { type: 'unsubscribed', id: cmd.id, sid });
      }
    }
  });

  const forEachSub = (channel: string, ticker: string, fn: (c: WsFakeConnection, s: ConnSub) => void) => {
    for (const c of ws.openConnections()) {
      for (const s of subsByConn.get(c.id) ?? [])
        if (s.channel === channel && s.tickers.has(ticker)) fn(c, s);
    }
  };

  return {
    restUrl: `${http.url}${REST}`,
    wsUrl: `${ws.url}${WS_PATH}`,
    http,
    ws,
    authFailures,
    commands(connId) {
      const conns = connId === undefined ? ws.connections : ws.connections.filter((c) => c.id === connId);
      return conns.flatMap((c) =>
        c.received.flatMap((t) => {
          try {
            return [JSON.parse(t)];
          } catch {
            return [];
          }
        }),
      );
    },
    delta(ticker, side, price, delta, o = {}) {
      const b = bookOf(ticker)[side];
      b.set(price, Math.max(0, (b.get(price) ?? 0) + hundredths(delta)));
      forEachSub('orderbook_delta', ticker, (c, s) => {
        s.seq += o.skipSeq ? 2 : 1;
        sent(c, {
          type: 'orderbook_delta',
          sid: s.sid,
          seq: s.seq,
          msg: {
            market_ticker: ticker,
            market_id: `id-${ticker}`,
            price_dollars: price,
            delta_fp: delta,
            side,
            ts: new Date().toISOString(),
            ts_ms: Date.now(),
          },
        });
      });
    },
    trade(ticker, yesPrice, count, takerSide) {
      const no = (1 - Number(yesPrice)).toFixed(4);
      forEachSub('trade', ticker, (c, s) => {
        sent(c, {
          type: 'trade',
          sid: s.sid,
          seq: ++s.seq,
          msg: {
            trade_id: `t-${s.seq}`,
            market_ticker: ticker,
            yes_price_dollars: yesPrice,
            no_price_dollars: no,
            count_fp: count,
            taker_side: takerSide,
            ts: Math.floor(Date.now() / 1000),
          },
        });
      });
    },
    raw: (text) => ws.broadcast(text),
    levels,
    close: async () => {
      await ws.close();
      await http.close();
    },
  };
}
