/**
 * A fake Binance spot (websocket + REST on 127.0.0.1, port 0) for oracle feed tests, on the shared fakes.
 *
 * The websocket serves combined streams named in the URL (`/stream?streams=a/b`, B3), answers SUBSCRIBE with
 * `{"result":null,"id":…}`, and sends trade / bookTicker / serverShutdown payloads wrapped as `{stream, data}`
 * to the connections that carry that stream. REST serves GET /api/v3/ticker/price (symbol or symbols) and
 * GET /api/v3/depth from a price table; failures are scripted through `http.script`.
 */
import { type HttpFake, startHttpFake } from './http-fake.ts';
import { startWsFake, type WsFake, type WsFakeConnection } from './ws-fake.ts';

export interface BinanceFake {
  readonly wsUrl: string;
  readonly restUrl: string;
  readonly ws: WsFake;
  readonly http: HttpFake;
  /** Streams a connection carries (URL + SUBSCRIBE). */
  streamsOf(conn: WsFakeConnection): string[];
  /** SUBSCRIBE requests received, all connections. */
  subscribes(): Array<{ method: string; params: string[]; id: number }>;
  trade(symbol: string, price: string, qty: string, time: number, buyerMaker?: boolean): void;
  bookTicker(symbol: string, bid: string, ask: string): void;
  shutdown(): void;
  /** Sets the REST last price of a symbol. */
  setPrice(symbol: string, price: string): void;
  close(): Promise<void>;
}

export async function startBinanceFake(): Promise<BinanceFake> {
  const ws = await startWsFake({ textHeartbeat: null });
  const http = await startHttpFake();
  const streams = new Map<number, Set<string>>();
  const subs: Array<{ method: string; params: string[]; id: number }> = [];
  const prices = new Map<string, string>();
  let tradeId = 1;
  let updateId = 1;

  ws.onConnection((c) => {
    const u = new URL(c.path, 'http://x');
    streams.set(c.id, new Set((u.searchParams.get('streams') ?? '').split('/').filter(Boolean)));
  });
  ws.onMessage((c, text) => {
    let m: { method?: string; params?: string[]; id?: number };
    try {
      m = JSON.parse(text);
    } catch {
      c.send({ error: { code: 3, msg: 'Invalid JSON' } });
      return;
    }
    if (m.method === 'SUBSCRIBE' && Array.isArray(m.params) && typeof m.id === 'number') {
      subs.push({ method: m.method, params: m.params, id: m.id });
      for (const s of m.params) streams.get(c.id)?.add(s);
      c.send({ result: null, id: m.id });
    }
  });
  const send = (stream: string, data: object) => {
    for (const c of ws.openConnections()) if (streams.get(c.id)?.has(stream)) c.send({ stream, data });
  };

  http.route('GET', '/api/v3/ticker/price', (req) => {
    if (req.query.symbol) {
      const p = prices.get(req.query.symbol);
      return p
        ? { body: { symbol: req.query.symbol, price: p } }
        : { status: 400, body: { code: -1121, msg: 'Invalid symbol.' } };
    }
    const wanted = req.query.symbols ? (JSON.parse(req.query.symbols) as string[]) : [...prices.keys()];
    return { body: wanted.filter((s) => prices.has(s)).map((s) => ({ symbol: s, price: prices.get(s) })) };
  });
  http.route('GET', '/api/v3/time', () => ({ body: { serverTime: Date.now() } }));
  http.route('GET', '/api/v3/depth', (req) => {
    const p = prices.get(req.query.symbol ?? '');
    if (!p) return { status: 400, body: { code: -1121, msg: 'Invalid symbol.' } };
    return {
      body: {
        lastUpdateId: updateId++,
        bids: [[p, '1.00000000']],
        asks: [[(Number(p) + 0.01).toFixed(8), '2.00000000']],
      },
    };
  });

  return {
    wsUrl: ws.url,
    restUrl: http.url,
    ws,
    http,
    streamsOf: (c) => [...(streams.get(c.id) ?? [])],
    subscribes: () => subs,
    trade(symbol, price, qty, time, buyerMaker = false) {
      const s = symbol.toUpperCase();
      send(`${symbol.toLowerCase()}@trade`, {
        e: 'trade',
        E: time + 1,
        s,
        t: tradeId++,
        p: price,
        q: qty,
        T: time,
        m: buyerMaker,
        M: true,
      });
    },
    bookTicker(symbol, bid, ask) {
      send(`${symbol.toLowerCase()}@bookTicker`, {
        u: updateId++,
        s: symbol.toUpperCase(),
        b: bid,
        B: '1.00000000',
        a: ask,
        A: '2.00000000',
      });
    },
    shutdown() {
      for (const c of ws.openConnections())
        c.send({ stream: '!serverShutdown', data: { e: 'serverShutdown', E: Date.now() } });
    },
    setPrice: (symbol, price) => {
      prices.set(symbol.toUpperCase(), price);
    },
    close: async () => {
      await ws.close();
      await http.close();
    },
  };
}
