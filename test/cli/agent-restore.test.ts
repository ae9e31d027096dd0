/**
 * `pm-arb agent <name>` restores its own state before it consumes (issue 12, item 1): before, a standalone guardian
 * restarted with limits from zero, no halt, no reservations; a standalone executor forgot its holdings and which
 * decisions it had executed. Here the store holds the state of a run, and each agent built the way the command
 * builds it (restoreAgentMode + assemble) starts from it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../src/agents/executor.ts';
import type { RiskGuardian } from '../../src/agents/risk-guardian.ts';
import { agentProcessMode, assemble } from '../../src/app/assemble.ts';
import { restoreAgentMode } from '../../src/cli/commands/agent.ts';
import { channels } from '../../src/core/channels.ts';
import { wallClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import type { ExecutionReport, Fill, Order, RiskDecision } from '../../src/core/messages.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { type Db, openDb } from '../../src/store/db.ts';
import { mapMessage } from '../../src/store/rows.ts';
import { writeSystemState } from '../../src/store/system-state.ts';
import { BatchWriter } from '../../src/store/writer.ts';
import { $, book, fill, harness, leg, market, request, sh } from '../risk/fixtures.ts';

const config = loadConfig({ INITIAL_BANKROLL: '500' });
const NOW = Date.UTC(2026, 10, 26, 15);
let db: Db;

const bought: Fill = fill({
  id: 'fill-1',
  requestId: 'req-old',
  orderId: 'req-old.0',
  side: 'buy',
  price: $(0.5),
  shares: sh(40),
  ts: NOW - 60_000,
});
/** Approved before the restart, never reported: its exposure is still reserved. */
const pending: RiskDecision = {
  type: 'risk_decision',
  id: 'decision-p',
  requestId: 'req-pending',
  strategy: 's1',
  verdict: 'approve',
  rule: 'ok',
  reason: '',
  legs: [leg('polymarket', 'm1', 'buy', 0.5, 20)],
  tif: 'IOC',
  decidedAt: NOW - 30_000,
};

beforeAll(async () => {
  db = await openDb({ dataDir: 'memory://' });
  const { migrate } = await import('../../src/store/migrations.ts');
  await migrate(db);
  const w = new BatchWriter({ db, clock: wallClock(), flushIntervalMs: 1 });
  const order: Order = {
    type: 'order',
    id: 'req-old.0',
    requestId: 'req-old',
    strategy: 's1',
    legIndex: 0,
    venue: 'polymarket',
    marketId: 'm1',
    tokenId: 'm1-yes',
    side: 'buy',
    limitPrice: $(0.5),
    shares: sh(40),
    filledShares: sh(40),
    tif: 'IOC',
    status: 'filled',
    createdAt: NOW - 61_000,
    updatedAt: NOW - 60_000,
  };
  const report: ExecutionReport = {
    type: 'execution_report',
    id: 'exec-old',
    requestId: 'req-old',
    strategy: 's1',
    status: 'filled',
    fills: 1,
    legRiskCost: 0,
    fees: 0,
    ts: NOW - 60_000,
  };
  const decided: RiskDecision = {
    ...pending,
    id: 'decision-old',
    requestId: 'req-old',
    decidedAt: NOW - 62_000,
  };
  for (const [id, body] of [
    ['1', bought],
    ['2', order],
    ['3', report],
    ['4', decided],
    ['5', pending],
    // the last persisted mark of the position: 0.60
    [
      '6',
      {
        type: 'position',
        venue: 'polymarket',
        marketId: 'm1',
        tokenId: 'm1-yes',
        strategy: 's1',
        shares: sh(40),
        costBasis: $(20),
        realizedPnl: 0,
        mark: $(0.6),
        unrealizedPnl: $(4),
        ts: NOW - 1_000,
      },
    ],
  ] as const) {
    const m = mapMessage(`m-${id}`, body);
    w.add(m.rows, m.state);
  }
  await w.flush();
  await writeSystemState(db, {
    halted: true,
    haltReason: 'operator',
    highWaterMark: $(510),
    dailyWindowStart: Date.UTC(2026, 10, 26),
    dailyStartEquity: $(505),
    lastEquity: $(504),
  });
}, 120_000);

afterAll(async () => {
  await db.close();
});

describe('pm-arb agent restores its state from the store', () => {
  it('risk-guardian: holdings valued at the last marks, high-water mark, halt, reservations, decided requests', async () => {
    const { mode } = await restoreAgentMode(
      'risk-guardian',
      agentProcessMode('risk-guardian', {}),
      db,
      config,
      NOW,
    );
    const h0 = await harness([], config, NOW);
    const { agents } = await assemble(h0.kernel, mode);
    await h0.stop();
    const guardian = agents[0] as RiskGuardian;
    const h = await harness([guardian], config, NOW);
    try {
      const pf = guardian.portfolio!;
      // $480 cash + 40 × 0.60 = $504, not the bankroll of $500
      expect(pf.equity).toBe($(504));
      expect(pf.highWaterMark).toBe($(510));
      expect(pf.killSwitch).toBe(true);
      expect(pf.reservedRequests()).toBe(1);
      const decisions = h.collect(channels.riskDecisions);
      await h.publish(channels.markets('polymarket'), market('polymarket', 'm1'));
      await h.publish(
        channels.books('polymarket'),
        book('polymarket', 'm1', 'm1-yes', [[0.6, 100]], [[0.62, 100]], NOW),
      );
      // halted: a new request is rejected; a redelivered one decided before the restart is not decided again
      await h.publish(channels.tradeRequests, request([leg('polymarket', 'm1', 'buy', 0.62, 5)]));
      await h.publish(
        channels.tradeRequests,
        request([leg('polymarket', 'm1', 'buy', 0.62, 5)], { id: 'req-old' }),
      );
      expect(decisions.map((d) => [d.verdict, d.rule])).toEqual([
        ['reject', expect.stringMatching(/halt|kill/)],
      ]);
      // the execution report of the pending request releases its reservation
      await h.publish(channels.executions, {
        type: 'execution_report',
        id: 'exec-p',
        requestId: 'req-pending',
        strategy: 's1',
        status: 'failed',
        fills: 0,
        legRiskCost: 0,
        fees: 0,
        ts: NOW,
      });
      expect(pf.reservedRequests()).toBe(0);
    } finally {
      await h.stop();
    }
  });

  it('executor: holdings and executed decisions; a decision already executed is never executed again', async () => {
    const { mode } = await restoreAgentMode(
      'executor',
      agentProcessMode('executor', { latencyMs: '0' }),
      db,
      config,
      NOW,
    );
    expect(mode.store).toBe(db);
    const h0 = await harness([], config, NOW);
    const { agents } = await assemble(h0.kernel, mode);
    await h0.stop();
    const executor = agents[0] as Executor;
    const h = await harness([executor], config, NOW);
    try {
      expect(executor.snapshot().inventory).toEqual([
        { strategy: 's1', venue: 'polymarket', marketId: 'm1', tokenId: 'm1-yes', shares: sh(40) },
      ]);
      const orders = h.collect(channels.orders);
      await h.publish(channels.markets('polymarket'), market('polymarket', 'm1'));
      await h.publish(
        channels.books('polymarket'),
        book('polymarket', 'm1', 'm1-yes', [[0.6, 100]], [[0.62, 100]], NOW),
      );
      await h.publish(channels.riskDecisions, { ...pending, id: 'decision-old', requestId: 'req-old' });
      expect(orders).toHaveLength(0);
      // a new one is recorded in the store before it is executed, and executed once
      const fresh: RiskDecision = {
        ...pending,
        id: 'decision-new',
        requestId: 'req-new',
        legs: [leg('polymarket', 'm1', 'sell', 0.6, 10)],
      };
      await h.publish(channels.riskDecisions, fresh);
      await h.publish(channels.riskDecisions, fresh);
      await new Promise((r) => setTimeout(r, 200));
      await h.settle();
      expect([...new Set(orders.map((o) => o.id))]).toEqual(['req-new.0']);
      const row = await db.query<{ state: string }>(
        "SELECT state FROM execution_intents WHERE request_id = 'req-new'",
      );
      expect(row.rows.map((r) => r.state)).toEqual(['done']);
      // the sell was not cut for "no inventory": the restored holdings back it
      expect(orders.at(-1)).toMatchObject({ side: 'sell', shares: sh(10), status: 'filled' });
    } finally {
      await h.stop();
    }
  });

  it('capital-allocator: cash and holdings from the store, not the starting bankroll', async () => {
    const { mode } = await restoreAgentMode(
      'capital-allocator',
      agentProcessMode('capital-allocator', {}),
      db,
      config,
      NOW,
    );
    const back = Ledger.restore(mode.restored!.allocator.ledger);
    expect(back.cash()).toBe($(480));
    expect(back.equity()).toBe($(504));
    expect(mode.restored!.allocator.highWaterMark).toBe($(510));
  });
});
