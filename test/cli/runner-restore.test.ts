/**
 * The strategy runner restores what decides how much it may request (issue 12, item 1: "scanner and strategies,
 * what they need"): before, a restarted runner asked for the probation default whatever its allocation, ignored
 * the capital already in open positions, and a strategy switched off came back on. Here it starts from the store:
 * the latest allocation and who left probation, open positions' cost basis per strategy, the latest on/off
 * switch. (Reservations in flight and cooldowns are not restored: see RunnerState.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { createStrategyRunnerAgent } from '../../src/agents/strategy-runner.ts';
import { agentProcessMode, assemble } from '../../src/app/assemble.ts';
import { restoreAgentMode, STATEFUL_AGENTS } from '../../src/cli/commands/agent.ts';
import { channels } from '../../src/core/channels.ts';
import { wallClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import type { Allocation, AllocationExplanation, Opportunity } from '../../src/core/messages.ts';
import { notional } from '../../src/core/money.ts';
import { type Db, openDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { recordControlAction } from '../../src/store/report-queries.ts';
import { mapMessage } from '../../src/store/rows.ts';
import { BatchWriter } from '../../src/store/writer.ts';
import { $, fill, harness, sh } from '../risk/fixtures.ts';

const config = loadConfig({ INITIAL_BANKROLL: '1000' });
const NOW = Date.UTC(2026, 11, 2, 12);
let db: Db;

const why = (probation: boolean, allocation: number): AllocationExplanation => ({
  pnl: 0,
  windowPnl: 0,
  bundles: 6,
  windowClosed: 5,
  sharpe: 0.4,
  drawdown: 0,
  probation,
  evidence: 1,
  score: 0.4,
  weight: 0.5,
  target: allocation,
  allocation,
  reason: 'test',
});

const alloc: Allocation = {
  type: 'allocation',
  allocations: { 'cross-venue-arb': $(120), 'oracle-sniper': $(80) },
  scores: { 'cross-venue-arb': 0.4, 'oracle-sniper': 0.3 },
  explanations: { 'cross-venue-arb': why(false, $(120)), 'oracle-sniper': why(true, $(80)) },
  ts: NOW - 60_000,
};

const opp: Opportunity = {
  type: 'opportunity',
  id: 'o1',
  kind: 'cross_venue',
  legs: [
    {
      venue: 'polymarket',
      marketId: 'pmA',
      tokenId: 'pmA-Y',
      side: 'buy',
      limitPrice: 400_000,
      shares: sh(500),
    },
    {
      venue: 'kalshi',
      marketId: 'KXB',
      tokenId: 'KXB:no',
      side: 'buy',
      limitPrice: 550_000,
      shares: sh(500),
    },
  ],
  edge: $(11.5),
  edgeBps: 241,
  cost: $(488.5),
  fees: $(13.5),
  shares: sh(500),
  signal: 0.24,
  detectedAt: NOW,
  expiresAt: NOW + 2_000,
  data: [{ key: 'polymarket:pmA-Y', receiveTime: NOW }],
};

beforeAll(async () => {
  db = await openDb({ dataDir: 'memory://' });
  await migrate(db);
  const w = new BatchWriter({ db, clock: wallClock(), flushIntervalMs: 1 });
  // $50 of cross-venue-arb's allocation is in an open position
  const open = fill({
    id: 'f1',
    strategy: 'cross-venue-arb',
    requestId: 'req-1',
    orderId: 'req-1.0',
    side: 'buy',
    price: $(0.5),
    shares: sh(100),
    ts: NOW - 120_000,
  });
  for (const [id, body] of [
    ['f1', open],
    ['a1', alloc],
  ] as const) {
    const m = mapMessage(id, body);
    w.add(m.rows, m.state);
  }
  await w.flush();
  w.close();
  const action = (id: string, strategy: string, enabled: boolean, at: number, outcome: 'ok' | 'failed') =>
    recordControlAction(db, {
      id,
      action: 'strategy',
      target: strategy,
      params: { enabled },
      reason: 'test',
      actor: 'op',
      source: 'api',
      remote: null,
      outcome,
      detail: null,
      at,
    });
  // oracle-sniper switched off, then a failed attempt to switch it on; rebalancing off then on again
  await action('c1', 'oracle-sniper', false, NOW - 50_000, 'ok');
  await action('c2', 'oracle-sniper', true, NOW - 40_000, 'failed');
  await action('c3', 'rebalancing-arb', false, NOW - 30_000, 'ok');
  await action('c4', 'rebalancing-arb', true, NOW - 20_000, 'ok');
}, 60_000);

afterAll(async () => {
  await db.close();
});

describe('pm-arb agent strategy-runner restores its state from the store', () => {
  it('allocations, probation, open positions and on/off switches', async () => {
    expect(STATEFUL_AGENTS).toContain('strategy-runner');
    const { mode } = await restoreAgentMode(
      'strategy-runner',
      agentProcessMode('strategy-runner', {}),
      db,
      config,
      NOW,
    );
    const h0 = await harness([], config, NOW);
    const { agents } = await assemble(h0.kernel, mode);
    await h0.stop();
    const agent = agents[0] as ReturnType<typeof createStrategyRunnerAgent>;
    const h = await harness([agent], config, NOW);
    try {
      const r = agent.runner()!;
      expect(r.allocationOf('cross-venue-arb')).toBe($(120));
      expect(r.allocationOf('oracle-sniper')).toBe($(80));
      expect(r.exposureOf('cross-venue-arb')).toBe($(50));
      expect(r.isEnabled('oracle-sniper')).toBe(false);
      expect(r.isEnabled('rebalancing-arb')).toBe(true);
      expect(r.isEnabled('combinatorial-arb')).toBe(true);
      // a request uses what is left of the allocation: $120 − $50 in positions, not a fresh probation default
      const reqs = h.collect(channels.tradeRequests);
      await h.publish(channels.opportunities, opp);
      expect(reqs).toHaveLength(1);
      const cost = reqs[0]!.legs.reduce((s, l) => s + notional(l.limitPrice, l.shares, 'ceil'), 0);
      expect(cost).toBeLessThanOrEqual($(70));
      expect(cost).toBeGreaterThan(0);
    } finally {
      await h.stop();
    }
  });
});
