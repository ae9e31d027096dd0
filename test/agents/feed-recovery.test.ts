/**
 * Feeds recover: a live source whose venue is down at start, or goes down later, is replaced by a fresh source
 * (new HTTP client, new socket) after a backoff until the venue answers; stopping is clean. The venue is the
 * local fake Polymarket behind switchable TCP gates (connections refused while closed).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createVenueWatcher } from '../../src/agents/venue-watcher.ts';
import { AgentRuntime, createIds, type Kernel } from '../../src/core/agent.ts';
import { createInProcBus } from '../../src/core/bus/inproc.ts';
import { channels } from '../../src/core/channels.ts';
import { wallClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/core/log.ts';
import type { OrderBook } from '../../src/core/messages.ts';
import { createPolymarketDecoder } from '../../src/venues/polymarket/decoder.ts';
import { createPolymarketFeed } from '../../src/venues/polymarket/feed.ts';
import type { GammaMarket } from '../../src/venues/polymarket/wire.ts';
import { type FakePolymarket, startFakePolymarket } from '../fakes/polymarket-server.ts';
import { createTcpGate, type TcpGate } from '../fakes/tcp-gate.ts';
import { waitFor } from '../fakes/ws-fake.ts';
import { fixtureJson } from '../helpers/fixtures.ts';

const market = fixtureJson<GammaMarket>('polymarket/gamma-market-negrisk.json');
const TOKENS = JSON.parse(market.clobTokenIds!) as string[];
const fast = { baseMs: 5, maxMs: 20 };

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function rig(): Promise<{
  server: FakePolymarket;
  gates: TcpGate[];
  kernel: Kernel;
  books: OrderBook[];
}> {
  const server = await startFakePolymarket({ markets: [market] });
  const gates = await Promise.all([server.gamma.port, server.clob.port, server.ws.port].map(createTcpGate));
  const clock = wallClock();
  const kernel: Kernel = {
    config: loadConfig({ STALE_AFTER_MS: '5000' }),
    bus: createInProcBus({ name: 'test', clock }),
    clock,
    log: createLogger('silent'),
    ids: createIds('test'),
    instance: 'test-1',
  };
  const books: OrderBook[] = [];
  kernel.bus.subscribe(channels.books('polymarket'), { group: 'test' }, (m) => {
    books.push(m.body);
  });
  cleanup.push(async () => {
    await kernel.bus.close();
    for (const g of gates) await g.close();
    await server.close();
  });
  return { server, gates, kernel, books };
}

function watcherFor(gates: TcpGate[], created: { n: number }) {
  const [gamma, clob, ws] = gates as [TcpGate, TcpGate, TcpGate];
  return createVenueWatcher({
    venue: 'polymarket',
    // a factory: every attempt gets a fresh feed (its own HTTP clients and sockets)
    source: () => {
      created.n++;
      return createPolymarketFeed({
        gammaUrl: gamma.url('http'),
        clobUrl: clob.url('http'),
        wsUrl: ws.url('ws'),
        now: () => Date.now(),
        http: { timeoutMs: 500, retries: 1, backoff: fast },
        ws: { pingIntervalMs: 50, silenceMs: 400, backoff: fast },
      });
    },
    decoder: createPolymarketDecoder(),
    checkEveryMs: 20,
    restartAfterMs: 300,
    retry: { baseMs: 20, maxMs: 100, minMs: 10 },
  });
}

const freshTokens = (books: readonly OrderBook[], from = 0): Set<string> => {
  const latest = new Map<string, OrderBook>();
  for (const b of books.slice(from)) latest.set(b.tokenId, b);
  return new Set([...latest.values()].filter((b) => !b.stale).map((b) => b.tokenId));
};

describe('feed recovery', () => {
  it('a venue down at start: the watcher keeps retrying with fresh sources and trades once it comes up', async () => {
    const { gates, kernel, books } = await rig();
    const created = { n: 0 };
    const watcher = watcherFor(gates, created);
    const rt = new AgentRuntime(kernel, watcher);
    await rt.start(); // the venue refuses connections: the agent still starts
    expect(rt.state).toBe('running');
    await waitFor(() => Number(watcher.health!().startFailures) >= 2, 5_000, 'two failed starts');
    expect(created.n).toBeGreaterThanOrEqual(2); // each attempt on a new source
    expect(books).toHaveLength(0);

    for (const g of gates) await g.open();
    await waitFor(
      () => TOKENS.every((t) => freshTokens(books).has(t)),
      10_000,
      'fresh books after the venue came up',
    );
    expect(watcher.health!()).toMatchObject({ connected: true });

    await rt.stop(); // clean: no error, no timer left behind
    expect(rt.state).toBe('stopped');
  });

  it('a venue that goes down later: books go stale, the feed is replaced, and fresh books return', async () => {
    const { gates, kernel, books } = await rig();
    for (const g of gates) await g.open();
    const created = { n: 0 };
    const watcher = watcherFor(gates, created);
    const rt = new AgentRuntime(kernel, watcher);
    await rt.start();
    await waitFor(() => TOKENS.every((t) => freshTokens(books).has(t)), 10_000, 'fresh books');
    expect(created.n).toBe(1);

    for (const g of gates) await g.close();
    await waitFor(() => freshTokens(books).size === 0, 10_000, 'every book stale while the venue is down');
    await waitFor(() => Number(watcher.health!().restarts) >= 1, 10_000, 'a restart with a fresh source');
    await waitFor(() => created.n >= 2, 10_000, 'a fresh source built');

    const mark = books.length;
    for (const g of gates) await g.open();
    await waitFor(() => TOKENS.every((t) => freshTokens(books, mark).has(t)), 10_000, 'fresh books again');
    await rt.stop();
    expect(rt.state).toBe('stopped');
  });
});
