/**
 * The dashboard's HTTP API in memory (Hono's app.request, no socket): every read endpoint on a seeded embedded
 * store, the control endpoints on a real in-process bus, authentication with and without DASHBOARD_TOKEN, the
 * cross-site protections, and bad input answered with a 4xx that says what was wrong.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcBus } from '../../src/core/bus/inproc.ts';
import type { Bus } from '../../src/core/bus/types.ts';
import { channels } from '../../src/core/channels.ts';
import { SimClock } from '../../src/core/clock.ts';
import { type Config, ConfigError, loadConfig } from '../../src/core/config.ts';
import type {
  Alert,
  ExecutionReport,
  Heartbeat,
  MarketLink,
  Message,
  StrategyControl,
  SystemCommand,
} from '../../src/core/messages.ts';
import { createDashboard, type Dashboard } from '../../src/dashboard/server.ts';
import {
  createMemoryMatchStore,
  type MarketBrief,
  type MatchStore,
  pairKey,
} from '../../src/matcher/store.ts';
import { type Db, openDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { readSystemState } from '../../src/store/system-state.ts';
import {
  allocation,
  decision,
  equity,
  fill,
  market,
  opportunity,
  performance,
  position,
  request,
} from '../store/samples.ts';
import { seed } from './seed.ts';

const T0 = 1_790_000_000_000;
const NOW = T0 + 3_600_000;
const TOKEN = 'test-control-token-0123456789abcdef';
const READ = 'read-token-0123456789';

const dir = mkdtempSync(join(tmpdir(), 'pmarb-dash-api-'));
let db: Db;
let bus: Bus;
let clock: SimClock;
let matchStore: MatchStore;
const brief = (venue: MarketBrief['venue'], marketId: string, question: string): MarketBrief => ({
  venue,
  marketId,
  version: 'v1',
  question,
  rules: '',
  endTime: null,
  outcomes: ['Yes', 'No'],
});
let config: Config;
let dash: Dashboard;

const heartbeat = (agent: string, ts: number, details: Heartbeat['details']): Heartbeat => ({
  type: 'heartbeat',
  agent,
  instance: 'i-1',
  state: 'running',
  pid: 42,
  host: 'h',
  ts,
  details,
});

const execution = (i: number, status: ExecutionReport['status']): ExecutionReport => ({
  type: 'execution_report',
  id: `exec-${i}`,
  requestId: `req-${i}`,
  strategy: 'oracle-sniper',
  status,
  fills: 2,
  legRiskCost: 0,
  fees: 10_000,
  ts: T0 + i + 10,
});

const link: MarketLink = {
  type: 'link',
  a: { venue: 'polymarket', marketId: '0xcond1' },
  b: { venue: 'kalshi', marketId: 'K-1' },
  relation: 'identical',
  confidence: 0.9,
  stage: 'rules',
  reasons: ['same strike, same instant'],
  decidedAt: T0,
};

function data(): Message[] {
  return [
    market(1, { receiveTime: T0 }),
    market(2, {
      venue: 'kalshi',
      marketId: 'K-1',
      question: 'Will K happen?',
      rules: 'Kalshi rules text',
      outcomes: [
        { tokenId: 'K-1:yes', label: 'Yes', side: 'yes' },
        { tokenId: 'K-1:no', label: 'No', side: 'no' },
      ],
      endTime: NOW + 7_200_000,
    }),
    market(3, {
      venue: 'kalshi',
      marketId: 'K-2',
      question: 'Will K2 happen?',
      outcomes: [{ tokenId: 'K-2:yes', label: 'Yes', side: 'yes' }],
    }),
    link,
    // opp-1 traded, opp-2 rejected by position_limit, opp-3 expired untaken, opp-4 still open, opp-5 oracle_lag on kalshi
    opportunity(1, { detectedAt: T0 + 1, expiresAt: T0 + 5_000 }),
    opportunity(2, { detectedAt: T0 + 2, expiresAt: T0 + 5_000 }),
    opportunity(3, { detectedAt: T0 + 3, expiresAt: T0 + 5_000 }),
    opportunity(4, { detectedAt: T0 + 4, expiresAt: NOW + 60_000 }),
    opportunity(5, {
      kind: 'oracle_lag',
      detectedAt: T0 + 5,
      expiresAt: T0 + 5_000,
      legs: [
        {
          venue: 'kalshi',
          marketId: 'K-1',
          tokenId: 'K-1:yes',
          side: 'buy',
          limitPrice: 930_000,
          shares: 2_000_000,
        },
      ],
    }),
    request(1, { strategy: 'oracle-sniper', createdAt: T0 + 1 }),
    request(2, { strategy: 'cross-venue-arb', createdAt: T0 + 2 }),
    decision(1, {
      strategy: 'oracle-sniper',
      verdict: 'approve',
      rule: 'ok',
      reason: 'within every limit',
      decidedAt: T0 + 5,
    }),
    decision(2, {
      decidedAt: T0 + 6,
      strategy: 'cross-venue-arb',
      verdict: 'reject',
      rule: 'position_limit',
      reason: 'market polymarket:m-1: $90 used + $20 asked exceeds the limit $100',
    }),
    execution(1, 'filled'),
    fill(1, {
      strategy: 'oracle-sniper',
      venue: 'polymarket',
      marketId: '0xcond1',
      tokenId: '11234567890123456789012345',
      ts: T0 + 100,
      price: 451_200,
      shares: 10_000_000,
      fee: 12_345,
    }),
    fill(2, {
      strategy: 'oracle-sniper',
      venue: 'kalshi',
      marketId: 'K-1',
      tokenId: 'K-1:yes',
      ts: T0 + 200,
      price: 930_000,
      shares: 2_000_000,
      fee: 70_000,
    }),
    fill(3, {
      strategy: 'cross-venue-arb',
      venue: 'kalshi',
      marketId: 'K-1',
      tokenId: 'K-1:no',
      ts: T0 + 300,
      kind: 'settlement',
      fee: 0,
    }),
    position({
      venue: 'polymarket',
      marketId: '0xcond1',
      tokenId: '11234567890123456789012345',
      strategy: 'oracle-sniper',
      shares: 10_000_000,
      costBasis: 4_524_000,
      mark: 470_000,
      unrealizedPnl: 176_000,
      ts: T0 + 100,
    }),
    position({
      venue: 'kalshi',
      marketId: 'K-1',
      tokenId: 'K-1:yes',
      strategy: 'oracle-sniper',
      shares: 2_000_000,
      costBasis: 1_930_000,
      mark: 900_000,
      unrealizedPnl: -130_000,
      ts: T0 + 200,
    }),
    position({
      venue: 'kalshi',
      marketId: 'K-2',
      tokenId: 'K-2:yes',
      strategy: 'cross-venue-arb',
      shares: 0,
      costBasis: 0,
      realizedPnl: 2_500_000,
      mark: 0,
      unrealizedPnl: 0,
      ts: T0 + 300,
    }),
    equity(T0 + 1_000, 1_000_000_000, 1_000_000_000),
    equity(T0 + 2_000, 1_050_000_000, 1_050_000_000),
    equity(T0 + 3_000, 1_020_500_000, 1_050_000_000),
    performance('oracle-sniper', 3_300_000, T0 + 3_000),
    performance('cross-venue-arb', -1_000_000, T0 + 3_000),
    allocation(T0 + 1_000, { 'oracle-sniper': 50_000_000, 'cross-venue-arb': 50_000_000 }),
    allocation(T0 + 3_000, { 'oracle-sniper': 60_000_000, 'cross-venue-arb': 40_000_000 }),
    heartbeat('strategy-runner', NOW - 6_000, {
      processed: 10,
      failed: 0,
      'enabled.oracle-sniper': true,
      'enabled.cross-venue-arb': false,
    }),
    heartbeat('venue-watcher-kalshi', NOW - 6_000, {
      connected: true,
      frames: 100,
      reconnects: 1,
      lastMessageAgeMs: 20,
      stale: 0,
      framesRejected: 0,
      processed: 0,
      failed: 0,
    }),
    heartbeat('venue-watcher-kalshi', NOW - 1_000, {
      connected: true,
      frames: 150,
      reconnects: 1,
      lastMessageAgeMs: 30,
      stale: 2,
      framesRejected: 1,
      processed: 0,
      failed: 0,
    }),
    heartbeat('executor', NOW - 60_000, { processed: 5, failed: 1 }),
    { type: 'alert', level: 'critical', title: 'halted', body: 'drawdown stop', ts: T0 + 10 } satisfies Alert,
    { type: 'alert', level: 'info', title: 'resumed', body: 'operator', ts: T0 + 20 } satisfies Alert,
  ];
}

function build(
  extra: { readToken?: string; db?: Db | null; bus?: Bus | null; host?: string } = {},
): Dashboard {
  const cfg = extra.readToken
    ? loadConfig({ DATA_DIR: dir, INITIAL_BANKROLL: '1000', DASHBOARD_TOKEN: extra.readToken })
    : config;
  return createDashboard({
    config: cfg,
    clock,
    ...(extra.db === null ? {} : { db: extra.db ?? db }),
    ...(extra.bus === null ? {} : { bus: extra.bus ?? bus }),
    matchStore,
    role: 'run',
    feeds: 'sim',
    instance: 'test',
    controlToken: TOKEN,
    ...(extra.host ? { host: extra.host } : {}),
  });
}

// biome-ignore lint/suspicious/noExplicitAny: the tests read the API's JSON as it comes and assert on it
type Json = any;
type Init = { method?: string; headers?: Record<string, string>; body?: string };
async function call(
  d: Dashboard,
  path: string,
  init: Init = {},
): Promise<{ status: number; json: Json; res: Response }> {
  const res = await d.app.request(path, init);
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON (a page)
  }
  return { status: res.status, json, res };
}
const get = (path: string, headers: Record<string, string> = {}) => call(dash, path, { headers });
const post = (path: string, body: unknown, headers: Record<string, string> = {}, d = dash) =>
  call(d, path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** Messages published on `ch` from now on. */
function collect<T>(ch: Parameters<Bus['subscribe']>[0]): T[] {
  const out: T[] = [];
  bus.subscribe(ch, { group: `test-${Math.random()}` }, (m) => {
    out.push(m.body as T);
  });
  return out;
}

beforeAll(async () => {
  config = loadConfig({ DATA_DIR: dir, INITIAL_BANKROLL: '1000' });
  clock = new SimClock(NOW);
  bus = createInProcBus({ name: 'test', clock });
  db = await openDb({ dataDir: 'memory://' });
  await migrate(db);
  await seed(db, data());
  matchStore = createMemoryMatchStore();
  await matchStore.putVerdict({
    key: 'v1',
    a: { venue: 'polymarket', marketId: '0xcond1' },
    b: { venue: 'kalshi', marketId: 'K-2' },
    aVersion: 'v1',
    bVersion: 'v1',
    relation: 'inverted',
    confidence: 0.55,
    stage: 'llm',
    reasons: ['opposite wording'],
    decidedAt: T0,
  });
  // the matcher queues a verdict below the confidence a link needs for a person to rule on
  await matchStore.putReview({
    key: pairKey({ venue: 'polymarket', marketId: '0xcond1' }, { venue: 'kalshi', marketId: 'K-2' }),
    a: brief('polymarket', '0xcond1', 'Will thing 1 happen?'),
    b: brief('kalshi', 'K-2', 'Will K2 happen?'),
    relation: 'inverted',
    confidence: 0.55,
    stage: 'llm',
    reasons: ['opposite wording'],
    queuedAt: T0,
  });
  await matchStore.putVerdict({
    key: 'v2',
    a: { venue: 'polymarket', marketId: '0xcond1' },
    b: { venue: 'kalshi', marketId: 'K-1' },
    aVersion: 'v1',
    bVersion: 'v1',
    relation: 'identical',
    confidence: 0.95,
    stage: 'llm',
    reasons: ['confident'],
    decidedAt: T0,
  });
  // a poison message of the fills channel, as the bus dead-letters it
  bus.publish(channels.deadLetter(channels.fills), {
    type: 'dead_letter',
    channel: channels.fills.name,
    group: 'ledger',
    messageId: 'm-9',
    attempts: 3,
    error: 'MoneyInvariantError: naked short',
    body: {},
    ts: T0 + 50,
  });
  dash = build();
}, 60_000);

afterAll(async () => {
  await dash?.close();
  await bus?.close();
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('read API', () => {
  it('status: process, halt state and the latest equity as exact decimal strings', async () => {
    const r = await get('/api/status');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      role: 'run',
      paper: true,
      feeds: 'sim',
      transport: 'inproc',
      live: true,
      halt: { halted: false },
      equity: { equityUsd: '1020.5', cashUsd: '1019.5', pnlUsd: '20.5' },
      controlTokenAt: 'CONTROL_TOKEN',
    });
    expect(r.res.headers.get('x-frame-options')).toBe('DENY');
    expect(r.res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('portfolio: since start, today against the daily-loss limit, drawdown against the ratchet stop, venues, days', async () => {
    const r = await get('/api/portfolio');
    expect(r.status).toBe(200);
    const p = r.json;
    expect(p.equityUsd).toBe('1020.5');
    expect(p.sinceStart).toEqual({ pnlUsd: '20.5', returnBps: 205 });
    // high-water mark 1050, 20% stop → 840; drawdown 29.5 of a 210 limit
    expect(p.drawdown).toEqual({
      highWaterMarkUsd: '1050',
      drawdownUsd: '29.5',
      limitUsd: '210',
      stopLevelUsd: '840',
      limitBps: 2000,
      usedBps: 1404,
    });
    // the daily window started with the first snapshot of the day (1000): +20.5 today, no loss
    expect(p.today).toMatchObject({
      startEquityUsd: '1000',
      pnlUsd: '20.5',
      lossUsd: '0',
      limitUsd: '100',
      usedBps: 0,
    });
    expect(p.venues).toEqual([
      {
        venue: 'polymarket',
        costUsd: '4.524',
        valueUsd: '4.7',
        unrealizedPnlUsd: '0.176',
        positions: 1,
        limitUsd: '500',
      },
      {
        venue: 'kalshi',
        costUsd: '1.93',
        valueUsd: '1.8',
        unrealizedPnlUsd: '-0.13',
        positions: 1,
        limitUsd: '500',
      },
    ]);
    // a day later with nothing new: today starts at the last equity, nothing won or lost yet
    const later = createDashboard({
      config,
      clock: new SimClock(NOW + 86_400_000),
      db,
      role: 'dashboard',
      instance: 'later',
      controlToken: TOKEN,
    });
    const next = (await call(later, '/api/portfolio')).json;
    expect(next.today).toMatchObject({
      startEquityUsd: '1020.5',
      pnlUsd: '0',
      lossUsd: '0',
      limitUsd: '102.05',
    });
    await later.close();
    expect(p.days).toEqual([
      { day: expect.any(Number), endEquityUsd: '1020.5', pnlUsd: '20.5', fills: 3, feesUsd: '0.082345' },
    ]);
  });

  it('equity curve: points with high-water mark, stop level and drawdown, downsampled to ?points', async () => {
    const all = await get('/api/portfolio/equity');
    expect(all.status).toBe(200);
    expect(all.json.points).toEqual([
      {
        ts: T0 + 1_000,
        equityUsd: '1000',
        cashUsd: '999',
        highWaterMarkUsd: '1000',
        stopLevelUsd: '800',
        drawdownUsd: '0',
        drawdownBps: 0,
      },
      {
        ts: T0 + 2_000,
        equityUsd: '1050',
        cashUsd: '1049',
        highWaterMarkUsd: '1050',
        stopLevelUsd: '840',
        drawdownUsd: '0',
        drawdownBps: 0,
      },
      {
        ts: T0 + 3_000,
        equityUsd: '1020.5',
        cashUsd: '1019.5',
        highWaterMarkUsd: '1050',
        stopLevelUsd: '840',
        drawdownUsd: '29.5',
        drawdownBps: 280,
      },
    ]);
    const two = await get(`/api/portfolio/equity?points=2&since=${T0 + 1_000}&until=${T0 + 3_000}`);
    // the last snapshot of each of two equal time buckets
    expect(two.json.points.map((x: { ts: number }) => x.ts)).toEqual([T0 + 2_000, T0 + 3_000]);
  });

  it('positions: open with market, outcome, average price, mark, value, time to resolution and strategy; closed with realized', async () => {
    const open = await get('/api/positions');
    expect(open.json.total).toBe(2);
    const k = open.json.rows.find((x: { venue: string }) => x.venue === 'kalshi');
    expect(k).toMatchObject({
      marketId: 'K-1',
      question: 'Will K happen?',
      outcome: 'Yes',
      side: 'yes',
      strategy: 'oracle-sniper',
      shares: '2',
      avgPrice: '0.965',
      mark: '0.9',
      costBasisUsd: '1.93',
      valueUsd: '1.8',
      unrealizedPnlUsd: '-0.13',
      timeToResolutionMs: 7_200_000,
    });
    const closed = await get('/api/positions?status=closed');
    expect(closed.json.rows).toEqual([
      expect.objectContaining({ marketId: 'K-2', realizedPnlUsd: '2.5', strategy: 'cross-venue-arb' }),
    ]);
    const byStrategy = await get('/api/positions?strategy=oracle-sniper&venue=polymarket');
    expect(byStrategy.json.rows.map((x: { marketId: string }) => x.marketId)).toEqual(['0xcond1']);
  });

  it('opportunities: newest first with what became of each, filters, and a cursor that pages without gaps', async () => {
    const all = await get('/api/opportunities');
    expect(all.json.total).toBe(5);
    expect(all.json.rows.map((x: { id: string }) => x.id)).toEqual([
      'opp-5',
      'opp-4',
      'opp-3',
      'opp-2',
      'opp-1',
    ]);
    const by = new Map(all.json.rows.map((x: { id: string; outcomes: unknown[] }) => [x.id, x.outcomes]));
    expect(by.get('opp-1')).toEqual([
      { status: 'traded', strategy: 'oracle-sniper', execution: 'filled', fills: 2 },
    ]);
    expect(by.get('opp-2')).toEqual([
      {
        status: 'rejected',
        strategy: 'cross-venue-arb',
        rule: 'position_limit',
        reason: 'market polymarket:m-1: $90 used + $20 asked exceeds the limit $100',
      },
    ]);
    expect(by.get('opp-3')).toEqual([{ status: 'expired' }]);
    expect(by.get('opp-4')).toEqual([{ status: 'open' }]);
    const first = all.json.rows[0];
    expect(first).toMatchObject({
      kind: 'oracle_lag',
      edgeUsd: '0.123462',
      costUsd: '9.712',
      feesUsd: '0.010001',
      shares: '10',
    });
    expect(first.legs[0]).toMatchObject({
      venue: 'kalshi',
      question: 'Will K happen?',
      limitPrice: '0.93',
      shares: '2',
    });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Json = (
        await get(`/api/opportunities?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      ).json;
      expect(page.rows.length).toBeLessThanOrEqual(2);
      seen.push(...page.rows.map((x: { id: string }) => x.id));
      cursor = page.next;
    } while (cursor);
    expect(seen).toEqual(['opp-5', 'opp-4', 'opp-3', 'opp-2', 'opp-1']);

    const ids = async (q: string) =>
      (await get(`/api/opportunities?${q}`)).json.rows.map((x: { id: string }) => x.id);
    expect(await ids('kind=oracle_lag')).toEqual(['opp-5']);
    expect(await ids('venue=polymarket')).toEqual(['opp-4', 'opp-3', 'opp-2', 'opp-1']);
    expect(await ids('strategy=cross-venue-arb')).toEqual(['opp-2']);
    expect(await ids('outcome=traded')).toEqual(['opp-1']);
    expect(await ids('outcome=rejected')).toEqual(['opp-2']);
    expect(await ids('outcome=expired')).toEqual(['opp-5', 'opp-3']);
    expect(await ids(`since=${T0 + 4}`)).toEqual(['opp-5', 'opp-4']);
  });

  it('fills with fees, market and outcome; filtered by strategy, venue and kind', async () => {
    const r = await get('/api/fills');
    expect(r.json.total).toBe(3);
    expect(r.json.rows[2]).toMatchObject({
      id: 'fill-1',
      question: 'Will thing 1 happen?',
      outcome: 'Yes',
      price: '0.4512',
      shares: '10',
      notionalUsd: '4.512',
      feeUsd: '0.012345',
    });
    expect(
      (await get('/api/fills?venue=kalshi&strategy=oracle-sniper')).json.rows.map(
        (x: { id: string }) => x.id,
      ),
    ).toEqual(['fill-2']);
    expect((await get('/api/fills?kind=settlement')).json.rows.map((x: { id: string }) => x.id)).toEqual([
      'fill-3',
    ]);
    const p1 = (await get('/api/fills?limit=1')).json;
    const p2 = (await get(`/api/fills?limit=1&cursor=${encodeURIComponent(p1.next)}`)).json;
    expect([p1.rows[0].id, p2.rows[0].id]).toEqual(['fill-3', 'fill-2']);
  });

  it('risk decisions: list by rule and verdict, counts by rule, and a timeline', async () => {
    const rejects = await get('/api/decisions?rule=position_limit');
    expect(rejects.json.rows).toEqual([
      expect.objectContaining({ id: 'dec-2', verdict: 'reject', strategy: 'cross-venue-arb' }),
    ]);
    expect((await get('/api/decisions?verdict=approve')).json.rows.map((x: { id: string }) => x.id)).toEqual([
      'dec-1',
    ]);
    const byRule = await get('/api/decisions/by-rule');
    expect(byRule.json.rows).toEqual(
      expect.arrayContaining([
        { rule: 'position_limit', verdict: 'reject', count: 1 },
        { rule: 'ok', verdict: 'approve', count: 1 },
      ]),
    );
    const t = await get(`/api/decisions/timeline?since=${T0}&until=${T0 + 10_000}&buckets=10`);
    expect(t.json.bucketMs).toBe(1_000);
    expect(t.json.rows).toEqual(
      expect.arrayContaining([{ bucket: T0, rule: 'position_limit', verdict: 'reject', count: 1 }]),
    );
  });

  it('strategies: leaderboard by score with allocation, P&L, win rate and the enabled state from the runner', async () => {
    const r = await get('/api/strategies');
    const sniper = r.json.rows.find((x: { strategy: string }) => x.strategy === 'oracle-sniper');
    const cross = r.json.rows.find((x: { strategy: string }) => x.strategy === 'cross-venue-arb');
    expect(sniper).toMatchObject({
      enabled: true,
      allocationUsd: '60',
      pnlUsd: '3.3',
      trades: 10,
      winRate: 0.6,
      maxDrawdownUsd: '2',
    });
    expect(cross).toMatchObject({ enabled: false, allocationUsd: '40', pnlUsd: '-1' });
    // the default strategies are listed even before they trade
    expect(r.json.rows.map((x: { strategy: string }) => x.strategy)).toEqual(
      expect.arrayContaining(['rebalancing-arb', 'combinatorial-arb']),
    );
    const a = await get('/api/strategies/allocations');
    expect(a.json.points).toEqual([
      { ts: T0 + 1_000, allocations: { 'cross-venue-arb': '50', 'oracle-sniper': '50' } },
      { ts: T0 + 3_000, allocations: { 'cross-venue-arb': '40', 'oracle-sniper': '60' } },
    ]);
  });

  it('risk: each limit against its usage, and the halt state', async () => {
    const r = await get('/api/risk');
    const by = new Map(r.json.limits.map((l: { key: string }) => [l.key, l]));
    expect(by.get('position')).toMatchObject({
      used: '4.524',
      limit: '100',
      usedBps: 452,
      detail: 'polymarket:0xcond1',
    });
    expect(by.get('platform:kalshi')).toMatchObject({ used: '1.93', limit: '500' });
    expect(by.get('drawdown')).toMatchObject({ used: '29.5', limit: '210', usedBps: 1404 });
    expect(by.get('daily_loss')).toMatchObject({ used: '0', limit: '100' });
    expect(by.get('open_orders')).toMatchObject({ unit: 'count', used: '0', limit: '20' });
    expect(r.json.halt).toEqual({ halted: false, reason: null, by: null, at: null });
  });

  it('risk: drawdown and daily loss as the guardian enforces them (its risk equity), from its fresh heartbeat', async () => {
    const limits = async () =>
      new Map((await get('/api/risk')).json.limits.map((l: { key: string }) => [l.key, l])) as Map<
        string,
        unknown
      >;
    const guardian = (ts: number) =>
      heartbeat('risk-guardian', ts, {
        processed: 1,
        failed: 0,
        equity: 900_000_000,
        highWaterMark: 1_050_000_000,
        dailyStartEquity: 1_000_000_000,
        drawdownHalted: false,
      });
    try {
      // the guardian values positions at the best bid: its equity is $900 where the ledger's is $1,020.50
      await seed(db, [guardian(NOW - 2_000)], 'rg-fresh');
      const by = await limits();
      expect(by.get('drawdown')).toMatchObject({
        used: '150',
        limit: '210',
        usedBps: 7142,
        detail: "the risk guardian's: risk equity $900.00, high-water mark $1,050.00",
      });
      expect(by.get('daily_loss')).toMatchObject({
        used: '100',
        limit: '100',
        usedBps: 10_000,
        detail: "the risk guardian's: risk equity $900.00, at the day's start $1,000.00",
      });
      // a second guardian standing by for the lease, heard from later: its view is not the one in force
      const standby = guardian(NOW - 1_000);
      await seed(
        db,
        [
          {
            ...standby,
            instance: 'i-2',
            details: { ...standby.details, active: false, equity: 500_000_000 },
          },
        ],
        'rg-standby',
      );
      expect((await limits()).get('drawdown')).toMatchObject({ used: '150' });
      // a guardian not heard from lately: the ledger's figures again
      await db.exec("DELETE FROM agent_status WHERE agent = 'risk-guardian'");
      await seed(db, [guardian(NOW - 60_000)], 'rg-stale');
      expect((await limits()).get('drawdown')).toMatchObject({ used: '29.5', limit: '210', detail: null });
    } finally {
      await db.exec("DELETE FROM agent_status WHERE agent = 'risk-guardian'");
      await db.exec("DELETE FROM agent_heartbeats WHERE agent = 'risk-guardian'");
    }
  });

  it('matches: links with both questions, the review queue, and a pair side by side', async () => {
    const links = await get('/api/matches');
    expect(links.json.rows).toEqual([
      expect.objectContaining({
        a: { venue: 'polymarket', marketId: '0xcond1', question: 'Will thing 1 happen?' },
        b: { venue: 'kalshi', marketId: 'K-1', question: 'Will K happen?' },
        relation: 'identical',
        stage: 'rules',
      }),
    ]);
    expect((await get('/api/matches?relation=inverted')).json.total).toBe(0);
    const q = await get('/api/matches/review');
    // the confident verdict is linked already; the 0.55 one waits for a person
    expect(q.json.rows).toEqual([
      expect.objectContaining({
        a: { venue: 'polymarket', marketId: '0xcond1' },
        b: { venue: 'kalshi', marketId: 'K-2' },
        relation: 'inverted',
        why: 'low_confidence',
        aQuestion: 'Will thing 1 happen?',
        bQuestion: 'Will K2 happen?',
      }),
    ]);
    const pair = await get('/api/matches/pair?a=polymarket:0xcond1&b=kalshi:K-1');
    expect(pair.json.a).toMatchObject({
      question: 'Will thing 1 happen?',
      rules: 'Resolves YES if it happens.',
    });
    expect(pair.json.b).toMatchObject({ question: 'Will K happen?', rules: 'Kalshi rules text' });
    expect(pair.json.link).toMatchObject({ relation: 'identical' });
    expect(pair.json.verdicts).toHaveLength(1);
    expect((await get('/api/matches/pair?a=kalshi:nope&b=kalshi:nada')).status).toBe(404);
  });

  it('agents and feeds: state, heartbeat age, staleness, messages/s from the last two heartbeats; dead letters', async () => {
    const r = await get('/api/agents');
    const exec = r.json.agents.find((a: { agent: string }) => a.agent === 'executor');
    expect(exec).toMatchObject({
      state: 'running',
      heartbeatAgeMs: 60_000,
      stale: true,
      processed: 5,
      failed: 1,
    });
    expect(r.json.feeds).toEqual([
      expect.objectContaining({
        agent: 'venue-watcher-kalshi',
        connected: true,
        reconnects: 1,
        staleBooks: 2,
        framesRejected: 1,
        messagesPerSec: 10,
        heartbeatAgeMs: 1_000,
      }),
    ]);
    expect(r.json.deadLetters).toMatchObject({
      available: true,
      total: 1,
      channels: [{ channel: channels.fills.name, count: 1, lastError: 'MoneyInvariantError: naked short' }],
    });
    const dl = await get('/api/dead-letters');
    expect(dl.json.rows).toEqual([expect.objectContaining({ messageId: 'm-9', group: 'ledger' })]);
  });

  it('alerts: the catalog merged with stored settings, and the log newest first by level', async () => {
    const s = await get('/api/alerts/settings');
    expect(s.json.rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'halt', value: { enabled: true }, stored: false }),
      ]),
    );
    const log = await get('/api/alerts/log');
    expect(log.json.rows.map((a: { title: string }) => a.title)).toEqual(['resumed', 'halted']);
    expect(
      (await get('/api/alerts/log?level=critical')).json.rows.map((a: { title: string }) => a.title),
    ).toEqual(['halted']);
  });

  it('serves every page shell and its assets; uPlot comes from node_modules, nothing from a CDN', async () => {
    for (const path of [
      '/',
      '/positions',
      '/opportunities',
      '/strategies',
      '/risk',
      '/matches',
      '/agents',
      '/alerts',
    ]) {
      const r = await get(path);
      expect(r.status, path).toBe(200);
      expect(String(r.json)).toContain('<script type="module" src="/assets/app.js">');
      expect(String(r.json)).not.toMatch(/https?:\/\//);
    }
    // positions come from the allocator's rounds (every minute), equity every second: the pages say so
    expect(String((await get('/positions')).json)).toContain('published at each allocation round');
    expect(String((await get('/')).json)).toContain('as of the last allocation round');
    const u = await get('/assets/vendor/uplot.js');
    expect(u.status).toBe(200);
    expect(u.res.headers.get('content-type')).toContain('javascript');
    expect(String(u.json)).toContain('uPlot');
    for (const p of [
      'portfolio',
      'positions',
      'opportunities',
      'strategies',
      'risk',
      'matches',
      'agents',
      'alerts',
    ]) {
      expect((await get(`/assets/pages/${p}.js`)).status, p).toBe(200);
    }
    expect((await get('/assets/nope.js')).status).toBe(404);
  });
});

describe('bad input gets a 4xx that says what was wrong', () => {
  it.each([
    ['/api/opportunities?limit=0', 400, 'limit="0": expected at least 1'],
    ['/api/opportunities?limit=abc', 400, 'limit="abc": expected a whole number from 1 to 200'],
    ['/api/opportunities?kind=magic', 400, 'kind="magic"'],
    ['/api/opportunities?venue=nyse', 400, 'venue="nyse"'],
    [
      '/api/opportunities?bogus=1',
      400,
      'unknown parameter bogus (accepted: kind, strategy, venue, outcome, since, cursor, limit)',
    ],
    ['/api/opportunities?cursor=garbage', 400, 'not a page cursor'],
    ['/api/fills?cursor=123.Zm9v', 400, 'not a page cursor'],
    ['/api/decisions?rule=DROP%20TABLE', 400, 'rule="DROP TABLE": expected a rule name'],
    ['/api/positions?status=maybe', 400, 'status="maybe"'],
    ['/api/decisions/timeline?since=5000&until=1000', 400, 'since (5000) must be before until (1000)'],
    ['/api/matches/pair?a=nyse:1&b=kalshi:K-1', 400, 'venue:marketId'],
    ['/api/status?x=1', 400, 'unknown parameter x'],
    ['/api/nothing-here', 404, 'no such endpoint: GET /api/nothing-here'],
  ])('GET %s → %i', async (path, status, message) => {
    const r = await get(path);
    expect(r.status).toBe(status);
    expect(r.json.error).toContain(message);
  });

  it('control bodies: not JSON, missing reason, wrong types, unknown fields, impossible match', async () => {
    const cases: [string, unknown, string][] = [
      ['/api/control/halt', '{not json', 'the request body is not valid JSON'],
      ['/api/control/halt', { actor: 'a' }, 'reason'],
      ['/api/control/halt', { reason: '   ' }, 'reason: say why'],
      ['/api/control/halt', { reason: 'x', force: true }, 'unknown parameter force'],
      [
        '/api/control/strategy',
        { strategy: 'oracle-sniper', enabled: 'yes', reason: 'x' },
        'enabled="yes": expected true or false',
      ],
      [
        '/api/control/match',
        { a: 'polymarket:0xcond1', b: 'polymarket:0xcond1', decision: 'approve', reason: 'x' },
        'two different markets',
      ],
      [
        '/api/control/match',
        { a: 'polymarket:0xcond1', b: 'kalshi:K-2', decision: 'reject', relation: 'identical', reason: 'x' },
        'relation applies to approve only',
      ],
      [
        '/api/control/match',
        { a: 'pm:1', b: 'kalshi:K-2', decision: 'approve', reason: 'x' },
        'venue:marketId',
      ],
      ['/api/control/alert-setting', { key: 'Bad Key', value: {} }, 'a key of lower-case letters'],
      ['/api/control/alert-setting', { key: 'halt', value: 3 }, 'a JSON object'],
    ];
    for (const [path, body, message] of cases) {
      const r = await post(path, body);
      expect(r.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(r.json.error).toContain(message);
    }
    const unknown = await post('/api/control/strategy', { strategy: 'nope', enabled: false, reason: 'x' });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toContain(
      'unknown strategy "nope"; known: combinatorial-arb, cross-venue-arb',
    );
  });
});

describe('control API', () => {
  it('needs the control token: whoami and every action answer 401 without it, read endpoints do not need it', async () => {
    expect((await get('/api/control/whoami')).status).toBe(401);
    expect((await get('/api/control/whoami', { authorization: 'Bearer wrong' })).status).toBe(401);
    const ok = await get('/api/control/whoami', { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ control: true, tokenAt: 'CONTROL_TOKEN' });
    const r = await post('/api/control/halt', { reason: 'x' }, { authorization: '' });
    expect(r.status).toBe(401);
    expect(r.json.error).toContain('Authorization: Bearer');
  });

  it('refuses cross-site requests: a foreign Origin, Sec-Fetch-Site cross-site, or a non-JSON body (CSRF)', async () => {
    const halted = collect<SystemCommand>(channels.system);
    const evil = await post('/api/control/halt', { reason: 'csrf' }, { origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    expect(evil.json.error).toBe('cross-site request refused (Origin: https://evil.example)');
    const site = await post('/api/control/halt', { reason: 'csrf' }, { 'sec-fetch-site': 'cross-site' });
    expect(site.status).toBe(403);
    expect(
      (await post('/api/control/halt', { reason: 'csrf' }, { 'sec-fetch-site': 'same-site' })).status,
    ).toBe(403);
    const form = await post('/api/control/halt', 'reason=csrf', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(415);
    await bus.idle();
    expect(halted).toEqual([]);
    expect((await readSystemState(db)).halted).toBe(false);
  });

  it('halt and resume: SystemCommand on the bus, system_state written, recorded with who/when/why, shown on /api/risk', async () => {
    const cmds = collect<SystemCommand>(channels.system);
    clock.advanceTo(NOW + 1_000);
    const h = await post(
      '/api/control/halt',
      { reason: 'news event', actor: 'alice', source: 'dashboard' },
      { origin: 'http://localhost', 'sec-fetch-site': 'same-origin' },
    );
    expect(h.status).toBe(200);
    expect(h.json).toMatchObject({
      ok: true,
      at: NOW + 1_000,
      message: expect.stringContaining('HALT_ALL sent'),
    });
    await bus.idle();
    expect(cmds).toEqual([
      {
        type: 'system',
        command: 'HALT_ALL',
        reason: 'news event',
        issuedBy: 'dashboard:alice',
        issuedAt: NOW + 1_000,
      },
    ]);
    expect(await readSystemState(db)).toMatchObject({
      halted: true,
      haltReason: 'news event',
      haltedBy: 'dashboard:alice',
      haltedAt: NOW + 1_000,
    });
    const risk = await get('/api/risk');
    expect(risk.json.halt).toEqual({
      halted: true,
      reason: 'news event',
      by: 'dashboard:alice',
      at: NOW + 1_000,
    });
    expect(risk.json.recentActions[0]).toMatchObject({
      action: 'halt',
      actor: 'alice',
      source: 'dashboard',
      reason: 'news event',
      outcome: 'ok',
      at: NOW + 1_000,
    });
    expect((await get('/api/status')).json.halt.halted).toBe(true);

    clock.advanceTo(NOW + 2_000);
    const r = await post('/api/control/resume', { reason: 'all clear', actor: 'bob' });
    expect(r.status).toBe(200);
    await bus.idle();
    expect(cmds[1]).toMatchObject({ command: 'RESUME', issuedBy: 'api:bob', reason: 'all clear' });
    expect(cmds[1]?.target).toBeUndefined();
    expect(await readSystemState(db)).toMatchObject({ halted: false, haltReason: null, haltedBy: 'api:bob' });
    const audit = await get('/api/audit?action=resume');
    expect(audit.json.rows).toEqual([
      expect.objectContaining({ actor: 'bob', source: 'api', reason: 'all clear', outcome: 'ok' }),
    ]);
  });

  it('strategy enable/disable: StrategyControl on the bus, recorded', async () => {
    const ctl = collect<StrategyControl>(channels.strategyControl);
    const r = await post('/api/control/strategy', {
      strategy: 'cross-venue-arb',
      enabled: true,
      reason: 'recovered',
      actor: 'carol',
    });
    expect(r.status).toBe(200);
    expect(r.json.message).toBe('cross-venue-arb enabled');
    await bus.idle();
    expect(ctl).toEqual([
      { type: 'strategy_control', strategy: 'cross-venue-arb', enabled: true, issuedAt: clock.now() },
    ]);
    const audit = await get('/api/audit?action=strategy');
    expect(audit.json.rows[0]).toMatchObject({
      target: 'cross-venue-arb',
      params: { enabled: true },
      actor: 'carol',
    });
  });

  it('match approve: the override in the match store and a manual link on the bus; it leaves the review queue', async () => {
    const links = collect<MarketLink>(channels.links);
    const r = await post('/api/control/match', {
      a: 'polymarket:0xcond1',
      b: 'kalshi:K-2',
      decision: 'approve',
      reason: 'same event, checked the rules',
      actor: 'dave',
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ relation: 'inverted', published: true });
    await bus.idle();
    expect(links).toEqual([
      expect.objectContaining({
        a: { venue: 'polymarket', marketId: '0xcond1' },
        b: { venue: 'kalshi', marketId: 'K-2' },
        relation: 'inverted',
        stage: 'manual',
        confidence: 1,
      }),
    ]);
    const overrides = await matchStore.listOverrides();
    expect(overrides).toEqual([
      expect.objectContaining({
        decision: 'approve',
        note: 'approved by api:dave: same event, checked the rules',
      }),
    ]);
    expect((await get('/api/matches/review')).json.rows).toEqual([]);
    const rej = await post('/api/control/match', {
      a: 'polymarket:0xcond1',
      b: 'kalshi:K-2',
      decision: 'reject',
      reason: 'no',
      actor: 'dave',
    });
    expect(rej.json.relation).toBe('different');
  });

  it('alert settings: saved in the store with the control token, then served', async () => {
    const r = await post('/api/control/alert-setting', {
      key: 'feed_stale',
      value: { enabled: false, afterSeconds: 90 },
      actor: 'erin',
    });
    expect(r.status).toBe(200);
    const s = await get('/api/alerts/settings');
    expect(s.json.rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          key: 'feed_stale',
          value: { enabled: false, afterSeconds: 90 },
          stored: true,
          updatedAt: clock.now(),
        }),
      ]),
    );
  });

  it('without a bus, halt answers 503 with what to do, and the failed attempt is recorded', async () => {
    const noBus = build({ bus: null });
    const r = await post('/api/control/halt', { reason: 'try', actor: 'frank' }, {}, noBus);
    expect(r.status).toBe(503);
    expect(r.json.error).toContain('set REDIS_URL');
    const audit = await get('/api/audit?action=halt');
    expect(audit.json.rows[0]).toMatchObject({ actor: 'frank', outcome: 'failed' });
    await noBus.close();
  });
});

describe('live stream', () => {
  it('says hello, then pushes coalesced updates: a burst of 200 opportunities is a handful of events', async () => {
    const live = createDashboard({
      config,
      clock,
      db,
      bus,
      role: 'run',
      instance: 'live-test',
      controlToken: TOKEN,
      liveFlushMs: 100,
    });
    const res = await live.app.request('/api/live');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = '';
    const until = async (cond: () => boolean): Promise<void> => {
      while (!cond()) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended: ${text}`);
        text += dec.decode(value);
      }
    };
    await until(() => text.includes('event: hello'));
    for (let i = 0; i < 200; i++) bus.publish(channels.opportunities, opportunity(1000 + i));
    bus.publish(channels.equity, equity(NOW + 5_000, 1_010_000_000, 1_050_000_000));
    await until(() => /"opportunities":200/.test(text) && text.includes('"stopLevel":"840"'));
    const events = text.split('\n\n').filter((e) => e.includes('event: update'));
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThan(10);
    const eq = events.map((e) => JSON.parse(e.slice(e.indexOf('data: ') + 6))).find((u) => u.equity);
    expect(eq.equity[0]).toEqual({
      ts: NOW + 5_000,
      equity: '1010',
      cash: '1009',
      highWaterMark: '1050',
      stopLevel: '840',
      drawdownBps: 380,
    });
    await reader.cancel();
    await live.close();
  });
});

describe('who may read', () => {
  it('with DASHBOARD_TOKEN every read needs it (header, or the session cookie from /login); assets and /login stay open', async () => {
    const d = build({ readToken: READ });
    expect((await call(d, '/api/status')).status).toBe(401);
    expect((await call(d, '/api/status')).json.error).toContain('DASHBOARD_TOKEN');
    const page = await call(d, '/', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(303);
    expect(page.res.headers.get('location')).toBe('/login');
    expect((await call(d, '/api/status', { headers: { authorization: `Bearer ${READ}` } })).status).toBe(200);
    // the control token reads too
    expect((await call(d, '/api/status', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(
      200,
    );
    expect((await call(d, '/assets/style.css')).status).toBe(200);
    expect((await call(d, '/login')).status).toBe(200);

    const form = (token: string, headers: Record<string, string> = {}) =>
      call(d, '/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: `token=${encodeURIComponent(token)}`,
      });
    expect((await form('wrong')).status).toBe(401);
    expect((await form(READ, { origin: 'https://evil.example' })).status).toBe(403);
    const ok = await form(READ);
    expect(ok.status).toBe(303);
    const cookie = ok.res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^pmarb_session=[\w-]+; Path=\/; HttpOnly; SameSite=Strict/);
    expect(cookie).not.toContain(READ);
    const session = cookie.split(';')[0]!;
    expect((await call(d, '/api/portfolio', { headers: { cookie: session } })).status).toBe(200);
    expect((await call(d, '/api/portfolio', { headers: { cookie: 'pmarb_session=forged' } })).status).toBe(
      401,
    );
    // a session reads but does not act
    const act = await call(d, '/api/control/halt', {
      method: 'POST',
      headers: { cookie: session, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'x' }),
    });
    expect(act.status).toBe(401);
    await d.close();
  });

  it('without DASHBOARD_TOKEN only loopback names are answered (DNS rebinding)', async () => {
    const r = await get('/api/status', { host: 'attacker.example:8787' });
    expect(r.status).toBe(403);
    expect(r.json.error).toContain('answers to 127.0.0.1/localhost only');
    expect((await get('/api/status', { host: '127.0.0.1:8787' })).status).toBe(200);
    expect((await get('/api/status', { host: 'localhost' })).status).toBe(200);
  });

  it('refuses to serve a non-loopback address without DASHBOARD_TOKEN, and a token too short', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'example.com']) {
      expect(() => build({ host }), host).toThrow(ConfigError);
      expect(() => build({ host }), host).toThrow(
        /refusing to serve the dashboard on .* without DASHBOARD_TOKEN/,
      );
    }
    expect(() => build({ host: '0.0.0.0', readToken: 'short' })).toThrow(/DASHBOARD_TOKEN is too short/);
    const ok = build({ host: '0.0.0.0', readToken: READ });
    expect(ok.host).toBe('0.0.0.0');
    void ok.close();
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost']) void build({ host }).close();
  });

  it('without a store the data routes answer 503 and say why', async () => {
    const d = build({ db: null });
    const r = await call(d, '/api/portfolio');
    expect(r.status).toBe(503);
    expect(r.json.error).toContain('--no-store');
    const s = await call(d, '/api/status');
    expect(s.status).toBe(200);
    expect(s.json.halt).toBeNull();
    await d.close();
  });
});
