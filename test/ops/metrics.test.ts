/**
 * Metrics and health of a process: agents on an instrumented in-process bus, scraped over the small ops server
 * (port 0) — bus throughput and lag per channel, book staleness, decisions by rule, fills, equity and drawdown,
 * agent states, event-loop lag; /healthz and /readyz follow the agents' states.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Agent, startAgents } from '../../src/core/agent.ts';
import { channels } from '../../src/core/channels.ts';
import { SimClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createKernel } from '../../src/core/kernel.ts';
import { silentLogger } from '../../src/core/log.ts';
import { createOpsMetrics } from '../../src/ops/metrics.ts';
import { createProcessOps } from '../../src/ops/process.ts';
import { type OpsServer, startOpsServer } from '../../src/ops/server.ts';

const T0 = 1_795_000_000_000;

describe('ops metrics and health', () => {
  const servers: OpsServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  async function setup() {
    const clock = new SimClock(T0);
    const base = await createKernel({
      config: loadConfig({ METRICS_PORT: '0' }),
      clock,
      log: silentLogger(),
      instance: 'ops-test',
    });
    const ops = createProcessOps(base, { service: 'test' });
    const k = ops.kernel;
    let seen = 0;
    const consumer: Agent = {
      name: 'consumer',
      trading: false,
      start(rt) {
        rt.subscribe(channels.fills, () => {
          seen++;
        });
        rt.subscribe(channels.riskDecisions, (m) => {
          if (m.body.rule === 'boom') throw new Error('handler failure');
        });
      },
    };
    const { runtimes, stop } = await startAgents(k, [consumer], { heartbeatMs: 60_000 });
    const server = (await ops.serve(() => runtimes))!;
    servers.push(server);
    const get = async (path: string) => {
      const r = await fetch(`${server.url}${path}`);
      return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
    };
    return { clock, k, ops, runtimes, stop, get, seen: () => seen };
  }

  it('exposes bus, trading and process metrics in Prometheus text format', async () => {
    const { clock, k, get, stop } = await setup();
    const book = (tokenId: string, receiveTime: number, stale = false) =>
      k.bus.publish(channels.books('kalshi'), {
        type: 'book',
        venue: 'kalshi',
        marketId: 'M',
        tokenId,
        bids: [[400_000, 1_000_000]],
        asks: [[420_000, 1_000_000]],
        stale,
        receiveTime,
      });
    book('M:yes', T0 - 30_000);
    book('M:no', T0 - 2_000, true);
    k.bus.publish(channels.fills, {
      type: 'fill',
      id: 'f1',
      orderId: 'o1',
      requestId: 'r1',
      strategy: 's',
      venue: 'kalshi',
      marketId: 'M',
      tokenId: 'M:yes',
      side: 'buy',
      price: 420_000,
      shares: 10_000_000,
      fee: 170_000,
      liquidity: 'taker',
      kind: 'trade',
      ts: T0,
    });
    clock.advanceTo(T0 + 7); // delivered 7 ms after the fill was made
    for (const rule of ['ok', 'drawdown_stop', 'drawdown_stop', 'boom'])
      k.bus.publish(channels.riskDecisions, {
        type: 'risk_decision',
        id: `d-${rule}-${Math.random()}`,
        requestId: 'r',
        strategy: 's',
        verdict: rule === 'ok' ? 'approve' : 'reject',
        rule,
        reason: rule,
        legs: [],
        tif: 'IOC',
        decidedAt: clock.now(),
      });
    k.bus.publish(channels.equity, {
      type: 'equity',
      cash: 400_000_000,
      positionsValue: 50_000_000,
      equity: 450_000_000,
      realizedPnl: 0,
      unrealizedPnl: -50_000_000,
      highWaterMark: 500_000_000,
      ts: T0,
    });
    await k.bus.idle();
    const m = await get('/metrics');
    expect(m.status).toBe(200);
    expect(m.type).toContain('text/plain');
    const line = (re: RegExp) => m.text.split('\n').find((l) => re.test(l));
    expect(line(/^pmarb_bus_published_total\{channel="fills",service="test"\} 1$/)).toBeDefined();
    expect(
      line(/^pmarb_bus_delivered_total\{channel="fills",group="consumer",service="test"\} 1$/),
    ).toBeDefined();
    expect(line(/^pmarb_bus_delivery_lag_seconds_count\{service="test",channel="fills"\} 1$/)).toBeDefined();
    expect(
      line(/^pmarb_bus_delivery_lag_seconds_bucket\{le="0.005",service="test",channel="fills"\} 0$/),
    ).toBeDefined();
    expect(
      line(/^pmarb_bus_delivery_lag_seconds_bucket\{le="0.01",service="test",channel="fills"\} 1$/),
    ).toBeDefined();
    expect(
      line(
        /^pmarb_bus_handler_failures_total\{channel="risk_decisions",group="consumer",service="test"\} [1-9]/,
      ),
    ).toBeDefined();
    expect(
      line(/^pmarb_risk_decisions_total\{verdict="reject",rule="drawdown_stop",service="test"\} 2$/),
    ).toBeDefined();
    expect(
      line(/^pmarb_fills_total\{venue="kalshi",kind="trade",liquidity="taker",service="test"\} 1$/),
    ).toBeDefined();
    expect(line(/^pmarb_fill_notional_dollars_total\{venue="kalshi",service="test"\} 4.2$/)).toBeDefined();
    expect(line(/^pmarb_books_count\{venue="kalshi",state="stale",service="test"\} 1$/)).toBeDefined();
    expect(line(/^pmarb_books_age_max_seconds\{venue="kalshi",service="test"\} 30\.\d+$/)).toBeDefined();
    expect(line(/^pmarb_equity_dollars\{service="test"\} 450$/)).toBeDefined();
    expect(line(/^pmarb_drawdown_ratio\{service="test"\} 0.1$/)).toBeDefined();
    expect(line(/^pmarb_agent_state\{agent="consumer",state="running",service="test"\} 1$/)).toBeDefined();
    expect(line(/^pmarb_agent_state\{agent="consumer",state="faulted",service="test"\} 0$/)).toBeDefined();
    expect(line(/^nodejs_eventloop_lag_seconds\{service="test"\} /)).toBeDefined();
    expect(line(/^pmarb_bus_transport_total\{stat="published",service="test"\} \d+/)).toBeDefined();
    await stop();
  });

  it('healthz and readyz follow the agents: ready when running, 503 with the reason when faulted or stopped', async () => {
    const { runtimes, get, stop } = await setup();
    const h = await get('/healthz');
    expect(h.status).toBe(200);
    expect(JSON.parse(h.text)).toMatchObject({ status: 'ok', agents: { consumer: 'running' } });
    expect((await get('/readyz')).status).toBe(200);
    runtimes[0]!.fault('test fault');
    const h2 = await get('/healthz');
    expect(h2.status).toBe(503);
    expect(JSON.parse(h2.text)).toMatchObject({ status: 'faulted', faulted: ['consumer'] });
    const r2 = await get('/readyz');
    expect(r2.status).toBe(503);
    expect(JSON.parse(r2.text).problems).toEqual(['consumer is faulted']);
    expect((await get('/nope')).status).toBe(404);
    const post = await fetch(`${servers[0]!.url}/healthz`, { method: 'POST' });
    expect(post.status).toBe(405);
    await stop();
  });

  it('a port in use is refused with what to do', async () => {
    const a = await startOpsServer({ host: '127.0.0.1', port: 0, routes: {} });
    servers.push(a);
    await expect(startOpsServer({ host: '127.0.0.1', port: a.port, routes: {} })).rejects.toThrow(
      /port is in use.*METRICS_PORT/,
    );
  });
});

describe('ops metrics: resolved markets', () => {
  it("a resolved market's books leave the book counts at once; a live market's stay", async () => {
    const clock = new SimClock(T0);
    const metrics = createOpsMetrics({ clock, processMetrics: false });
    const outcomes = (id: string) => [
      { tokenId: `${id}-yes`, label: 'Yes', side: 'yes' as const },
      { tokenId: `${id}-no`, label: 'No', side: 'no' as const },
    ];
    for (const id of ['m1', 'm2'])
      for (const o of outcomes(id))
        metrics.observe({ type: 'book', venue: 'kalshi', tokenId: o.tokenId, stale: false, receiveTime: T0 });
    const count = async () =>
      (await metrics.text())
        .split('\n')
        .find((l) => l.startsWith('pmarb_books_count{venue="kalshi",state="fresh"'));
    expect(await count()).toBe('pmarb_books_count{venue="kalshi",state="fresh"} 4');
    metrics.observe({
      type: 'market',
      venue: 'kalshi',
      marketId: 'm1',
      status: 'resolved',
      outcomes: outcomes('m1'),
    });
    expect(await count()).toBe('pmarb_books_count{venue="kalshi",state="fresh"} 2');
    // a market message that is not a resolution changes nothing
    metrics.observe({
      type: 'market',
      venue: 'kalshi',
      marketId: 'm2',
      status: 'closed',
      outcomes: outcomes('m2'),
    });
    expect(await count()).toBe('pmarb_books_count{venue="kalshi",state="fresh"} 2');
  });
});
