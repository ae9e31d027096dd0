import { afterEach, describe, expect, it } from 'vitest';
import type { OrderBook } from '../../../src/core/messages.ts';
import { HttpError } from '../../../src/feeds/http.ts';
import type { FeedSink, RawFrame } from '../../../src/feeds/types.ts';
import { createPolymarketDecoder, type PolymarketDecoder } from '../../../src/venues/polymarket/decoder.ts';
import { createPolymarketFeed, type PolymarketFeed } from '../../../src/venues/polymarket/feed.ts';
import type { GammaMarket } from '../../../src/venues/polymarket/wire.ts';
import { type FakePolymarket, startFakePolymarket } from '../../fakes/polymarket-server.ts';
import { waitFor } from '../../fakes/ws-fake.ts';
import { fixtureJson } from '../../helpers/fixtures.ts';

const negRisk = fixtureJson<GammaMarket>('polymarket/gamma-market-negrisk.json');
const updown = fixtureJson<GammaMarket>('polymarket/gamma-market-updown-5m.json');
const closed = fixtureJson<GammaMarket>('polymarket/gamma-market-closed-resolved.json');

function clone(n: number, extra: Partial<GammaMarket> = {}): GammaMarket {
  return {
    ...negRisk,
    id: `9${n}`,
    conditionId: `0x${String(n).padStart(64, '0')}`,
    slug: `clone-${n}`,
    clobTokenIds: JSON.stringify([`${n}001`, `${n}002`]),
    ...extra,
  };
}

const MARKETS: GammaMarket[] = [
  negRisk,
  updown,
  closed,
  clone(1),
  clone(2),
  clone(3, { acceptingOrders: false }),
];
const TOKENS = [
  ...(JSON.parse(negRisk.clobTokenIds!) as string[]),
  ...(JSON.parse(updown.clobTokenIds!) as string[]),
  '1001',
  '1002',
  '2001',
  '2002',
];
const fast = { baseMs: 5, maxMs: 30 };
let t = 1_900_000_000_000;
const now = () => ++t;

interface Rig {
  server: FakePolymarket;
  feed: PolymarketFeed;
  dec: PolymarketDecoder;
  frames: RawFrame[];
  rejects: Array<{ source: string; reason: string }>;
  emitted?: OrderBook[];
}
let rig: Rig | undefined;

afterEach(async () => {
  await rig?.feed.stop();
  await rig?.server.close();
  rig = undefined;
});

async function setup(prepare?: (s: FakePolymarket) => void, timeoutMs = 1_000): Promise<Rig> {
  const server = await startFakePolymarket({ markets: MARKETS });
  prepare?.(server);
  const dec = createPolymarketDecoder();
  const frames: RawFrame[] = [];
  const rejects: Array<{ source: string; reason: string }> = [];
  const emitted: OrderBook[] = [];
  const sink: FeedSink = {
    emit: (e) => {
      if (e.type === 'book') emitted.push(e);
    },
    reject: (source, reason) => rejects.push({ source, reason }),
  };
  const feed = createPolymarketFeed({
    gammaUrl: server.gammaUrl,
    clobUrl: server.clobUrl,
    wsUrl: server.wsUrl,
    now,
    pageSize: 2,
    http: { timeoutMs, retries: 4, backoff: fast },
    ws: { pingIntervalMs: 40, silenceMs: 600, backoff: fast },
    // a dropped connection makes its books stale until the snapshots after the reconnect
    onConnection: (e) => {
      if (!e.connected) dec.markStale(sink, now(), e.assets);
    },
  });
  rig = { server, feed, dec, frames, rejects, emitted };
  await feed.start((f) => {
    frames.push(f);
    dec.decode(f, sink);
  });
  return rig;
}

/** Waits until the websocket is open and its first snapshots arrived (REST books alone converge earlier). */
async function wsReady(r: Rig): Promise<void> {
  await waitFor(
    () => r.frames.some((f) => f.source === 'polymarket.ws.market' && Array.isArray(f.data)),
    5_000,
    'websocket snapshots',
  );
}

const same = (b: OrderBook | undefined, e: { bids: readonly unknown[]; asks: readonly unknown[] }) =>
  b !== undefined && !b.stale && JSON.stringify([b.bids, b.asks]) === JSON.stringify([e.bids, e.asks]);

/** Waits until every followed token's local book equals the server's true book. */
async function converged(r: Rig, what: string): Promise<void> {
  await waitFor(() => TOKENS.every((tok) => same(r.dec.book(tok), r.server.expected(tok))), 8_000, what);
}

describe('Polymarket feed against a fake venue', () => {
  it('discovers active markets page by page, snapshots books, subscribes and tracks updates', async () => {
    const r = await setup();
    const s = r.server;
    // pages of 2 over the 5 active, not-closed markets: offsets 0, 2, 4, then an empty page ends the walk
    expect(s.gamma.requests.map((q) => q.query.offset)).toEqual(['0', '2', '4', '5']);
    expect(s.gamma.requests[0]!.query).toMatchObject({ active: 'true', closed: 'false', limit: '2' });
    expect([...r.feed.tokens()].sort()).toEqual([...TOKENS].sort());
    const conn = await s.ws.waitForConnection(1);
    await waitFor(() => conn.received.length > 0);
    const sub = JSON.parse(conn.received[0]!);
    expect(sub.type).toBe('market');
    expect(sub.custom_feature_enabled).toBe(true);
    expect([...sub.assets_ids].sort()).toEqual([...TOKENS].sort());
    await converged(r, 'initial books');
    await wsReady(r);

    const gammaFrame = r.frames.find((f) => f.source === 'polymarket.gamma.markets')!;
    expect(gammaFrame.req).toEqual({
      method: 'GET',
      path: '/markets',
      query: { active: 'true', closed: 'false', limit: '2', offset: '0' },
    });
    expect(r.frames.some((f) => f.source === 'polymarket.clob.book' && f.req?.path === '/books')).toBe(true);
    expect(r.frames.some((f) => f.source === 'polymarket.ws.market')).toBe(true);
    expect(r.dec.market(negRisk.conditionId!)?.negRiskGroup).toBe(negRisk.negRiskMarketID);

    s.setLevel(TOKENS[0]!, 'BUY', '0.46', '12.5');
    s.setLevel(TOKENS[0]!, 'SELL', '0.55', '0');
    s.setLevel('2002', 'SELL', '0.57', '3');
    await converged(r, 'after price changes');
    expect(r.dec.book(TOKENS[0]!)?.bids[0]).toEqual([460_000, 12_500_000]);
    await waitFor(() => conn.received.includes('PING'), 3_000, 'a PING');
    expect(r.rejects).toEqual([]);
    const h = r.feed.health();
    expect(h.connected).toBe(true);
    expect(h.tokens).toBe(TOKENS.length);
    expect(h.markets).toBe(4);
    expect(typeof h.lastMessageAgeMs).toBe('number');
  });

  it('the recorded frames, written as JSONL and replayed through a fresh decoder, rebuild the same books', async () => {
    const r = await setup();
    await wsReady(r);
    r.server.setLevel(TOKENS[2]!, 'BUY', '0.43', '21');
    r.server.sendRaw('garbage');
    await converged(r, 'live books');
    const jsonl = r.frames.map((f) => JSON.stringify(f)).join('\n');
    const replay = createPolymarketDecoder();
    const replayRejects: string[] = [];
    for (const line of jsonl.split('\n')) {
      replay.decode(JSON.parse(line) as RawFrame, {
        emit: () => {},
        reject: (_s, why) => replayRejects.push(why),
      });
    }
    expect(replayRejects).toHaveLength(1);
    for (const tok of TOKENS) expect(replay.book(tok)).toEqual(r.dec.book(tok));
    expect([...replay.markets()].map((m) => m.version)).toEqual([...r.dec.markets()].map((m) => m.version));
  });

  it('dropped connection: reconnects, resubscribes, and the fresh snapshot repairs a missed update', async () => {
    const r = await setup();
    await wsReady(r);
    await converged(r, 'initial books');
    r.server.setLevel(TOKENS[1]!, 'BUY', '0.30', '999', true); // an update the client never sees
    r.server.ws.dropAll();
    await r.server.ws.waitForConnection(2);
    await converged(r, 'books after reconnect');
    expect(r.dec.book(TOKENS[1]!)?.bids.at(-1)).toEqual([300_000, 999_000_000]);
    expect(r.feed.health().reconnects).toBeGreaterThanOrEqual(1);
    // between the drop and the new snapshot the book was published stale
    expect(r.emitted!.some((b) => b.tokenId === TOKENS[1] && b.stale)).toBe(true);
    expect(r.emitted!.filter((b) => b.tokenId === TOKENS[1]).at(-1)!.stale).toBe(false);
    r.server.setLevel(TOKENS[1]!, 'BUY', '0.30', '0');
    await converged(r, 'update on the new connection');
  });

  it('429 and 500 answers from Gamma and the CLOB are retried until the books are right', async () => {
    const r = await setup((s) => {
      s.gamma.script('GET', '/markets', [{ status: 429, headers: { 'retry-after': '0' } }, { status: 500 }]);
      s.clob.script('POST', '/books', [
        { status: 500, raw: 'upstream error' },
        { status: 429 },
        { status: 502 },
      ]);
    });
    await converged(r, 'books after retries');
    expect(r.feed.health().httpRetries).toBe(5);
    expect(r.feed.tokens()).toHaveLength(TOKENS.length);
  });

  it('slow responses time out and the retry gets the answer', async () => {
    const r = await setup((s) => {
      s.gamma.script('GET', '/markets', [{ delayMs: 3_000, body: [] }]);
      s.clob.script('POST', '/books', [{ delayMs: 3_000, body: [] }]);
    }, 250);
    await converged(r, 'books after timeouts');
    expect(r.feed.health().httpRetries).toBe(2);
    // the slow answers never reached the decoder: only real pages did
    expect(r.frames.filter((f) => f.source === 'polymarket.gamma.markets')).toHaveLength(4);
  });

  it('a silent feed is detected by the watchdog, reconnected, and the books come back right', async () => {
    const r = await setup();
    await wsReady(r);
    await converged(r, 'initial books');
    r.server.ws.setSilent(true);
    r.server.setLevel('1001', 'SELL', '0.58', '40'); // lost while silent
    await waitFor(() => (r.feed.health().silenceReconnects as number) >= 1, 5_000, 'a silence reconnect');
    r.server.ws.setSilent(false);
    await converged(r, 'books after silence');
    expect(r.dec.book('1001')?.asks).toContainEqual([580_000, 40_000_000]);
  });

  it('malformed JSON is rejected and counted; the feed goes on and stays correct', async () => {
    const r = await setup();
    await wsReady(r);
    await converged(r, 'initial books');
    r.server.sendRaw('{"event_type": "price_change", "market": "0x');
    r.server.sendRaw('[{"event_type": "book"},');
    r.server.setLevel('2001', 'BUY', '0.41', '7');
    await converged(r, 'books after malformed frames');
    expect(r.rejects.map((x) => x.source)).toEqual(['polymarket.ws.market', 'polymarket.ws.market']);
    expect(r.rejects[0]!.reason).toContain('malformed JSON');
    expect(r.feed.health().framesRejected).toBe(2);
    // the raw text is kept in the frame (captures record it as received)
    expect(r.frames.some((f) => f.data === '[{"event_type": "book"},')).toBe(true);
  });

  it('start fails with a typed error when Gamma keeps failing', async () => {
    const server = await startFakePolymarket({ markets: MARKETS });
    server.gamma.script(
      'GET',
      '/markets',
      Array.from({ length: 3 }, () => ({ status: 503 })),
    );
    const feed = createPolymarketFeed({
      gammaUrl: server.gammaUrl,
      clobUrl: server.clobUrl,
      wsUrl: server.wsUrl,
      now,
      http: { retries: 2, backoff: fast },
    });
    const err = await feed.start(() => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(503);
    expect(feed.health().lastError).toContain('HTTP 503');
    await feed.stop();
    await server.close();
  });

  it('refresh follows markets that appear later and fetches their books', async () => {
    const markets = [...MARKETS];
    const server = await startFakePolymarket({ markets: [...MARKETS, clone(4)] });
    // first discovery sees only the original list: serve it from a standing route, then open the full list
    server.gamma.route('GET', '/markets', (req) => {
      const off = Number(req.query.offset);
      const lim = Number(req.query.limit);
      return { body: markets.filter((m) => m.closed !== true).slice(off, off + lim) };
    });
    const dec = createPolymarketDecoder();
    const feed = createPolymarketFeed({
      gammaUrl: server.gammaUrl,
      clobUrl: server.clobUrl,
      wsUrl: server.wsUrl,
      now,
      pageSize: 10,
      http: { backoff: fast },
      ws: { backoff: fast },
    });
    rig = { server, feed, dec, frames: [], rejects: [] };
    await feed.start((f) => dec.decode(f, { emit: () => {}, reject: () => {} }));
    expect(feed.tokens()).not.toContain('4001');
    markets.push(clone(4));
    expect(await feed.refresh()).toBe(2);
    const conn = await server.ws.waitForConnection(1);
    await waitFor(() =>
      conn.received.some((m) => m.includes('"operation":"subscribe"') && m.includes('4001')),
    );
    server.setLevel('4001', 'BUY', '0.47', '5');
    await waitFor(() => same(dec.book('4001'), server.expected('4001')), 5_000, 'book of the new market');
  });
  it('marketFilter and maxMarkets choose what is followed', async () => {
    const server = await startFakePolymarket({ markets: MARKETS });
    const make = (o: { marketFilter?: (m: GammaMarket) => boolean; maxMarkets?: number }) =>
      createPolymarketFeed({
        gammaUrl: server.gammaUrl,
        clobUrl: server.clobUrl,
        wsUrl: server.wsUrl,
        now,
        http: { backoff: fast },
        ws: { backoff: fast },
        ...o,
      });
    const negRiskOnly = make({ marketFilter: (m) => m.negRisk === true });
    await negRiskOnly.start(() => {});
    // the negRisk market and its clones are negRisk; clone 3 does not accept orders
    expect([...negRiskOnly.tokens()].sort()).toEqual(
      [...JSON.parse(negRisk.clobTokenIds!), '1001', '1002', '2001', '2002'].sort(),
    );
    await negRiskOnly.stop();
    const two = make({ maxMarkets: 2 });
    await two.start(() => {});
    expect(two.health().markets).toBe(2);
    expect(two.tokens()).toHaveLength(4);
    await two.stop();
    await server.close();
  });

  it('a refresh whose books failed is retried whole by the next refresh', async () => {
    const markets = [...MARKETS];
    const server = await startFakePolymarket({ markets: [...MARKETS, clone(4)] });
    server.gamma.route('GET', '/markets', (req) => {
      const off = Number(req.query.offset);
      return { body: markets.filter((m) => m.closed !== true).slice(off, off + Number(req.query.limit)) };
    });
    const dec = createPolymarketDecoder();
    const feed = createPolymarketFeed({
      gammaUrl: server.gammaUrl,
      clobUrl: server.clobUrl,
      wsUrl: server.wsUrl,
      now,
      http: { retries: 0, backoff: fast },
      ws: { backoff: fast },
    });
    rig = { server, feed, dec, frames: [], rejects: [] };
    await feed.start((f) => dec.decode(f, { emit: () => {}, reject: () => {} }));
    markets.push(clone(4));
    server.clob.script('POST', '/books', [{ status: 500 }]);
    await expect(feed.refresh()).rejects.toThrow(/HTTP 500/);
    expect(feed.tokens()).not.toContain('4001');
    expect(await feed.refresh()).toBe(2);
    expect(feed.tokens()).toContain('4001');
    const conn = await server.ws.waitForConnection(1);
    await waitFor(() =>
      conn.received.some((m) => m.includes('"operation":"subscribe"') && m.includes('4001')),
    );
    server.setLevel('4002', 'SELL', '0.51', '8');
    await waitFor(() => same(dec.book('4002'), server.expected('4002')), 5_000, 'book of the late market');
  });
});
