/**
 * Restart restore with the real ledger and risk guardian: fills written through the store and read back by
 * loadRecoveryState rebuild a ledger identical to one that saw the fills live, and the guardian started from the
 * restored RiskState sees the same equity, high-water mark, halt and allocations.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRiskGuardian } from '../../src/agents/risk-guardian.ts';
import { createIds, type Kernel, startAgents } from '../../src/core/agent.ts';
import { createInProcBus } from '../../src/core/bus/inproc.ts';
import { channels } from '../../src/core/channels.ts';
import { wallClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/core/log.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { type Db, openDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { loadRecoveryState } from '../../src/store/queries.ts';
import { restoreStates } from '../../src/store/restore.ts';
import { mapMessage } from '../../src/store/rows.ts';
import { writeSystemState } from '../../src/store/system-state.ts';
import { BatchWriter } from '../../src/store/writer.ts';
import { $, book, fill, harness, leg, market, request, sh } from '../risk/fixtures.ts';
import { TEST_PG_URL, testSchema } from './pg.ts';
import { newState, nextFill, applyFill as simApply } from './recovery-sim.ts';
import * as S from './samples.ts';

describe('restoreStates', () => {
  const schema = testSchema('restore');
  let db: Db;
  beforeAll(async () => {
    db = await openDb({ url: TEST_PG_URL, schema });
    await migrate(db);
  });
  afterAll(async () => {
    await db.exec(`DROP SCHEMA ${schema} CASCADE`);
    await db.close();
  });

  it('rebuilds the ledger exactly and hands the guardian, allocator and executor their state', async () => {
    const config = loadConfig({ INITIAL_BANKROLL: '500' });
    const sim = newState();
    const live = new Ledger({ initialCash: config.risk.initialBankroll });
    const fills = [];
    for (let i = 0; i < 400; i++) {
      const f = nextFill(sim, 10_000);
      simApply(sim, f);
      live.applyFill(f);
      fills.push(f);
    }
    const now = fills[fills.length - 1]!.ts + 1;
    const w = new BatchWriter({ db, clock: wallClock(), flushIntervalMs: 1 });
    fills.forEach((f, i) => {
      const m = mapMessage(`m-${i}`, f);
      w.add(m.rows, m.state);
    });
    const eq = live.equity();
    for (const [id, body] of [
      ['e1', S.equity(now - 10, eq + 7_000_000, eq + 7_000_000)],
      ['e2', S.equity(now - 5, eq, eq + 7_000_000)],
      ['a1', S.allocation(now - 3, { sniper: 100_000_000, cross: 200_000_000 })],
      ['o1', S.order(1, { requestId: 'req-9', status: 'partially_filled', filledShares: 1 })],
      ['h1', S.halt(now - 1, 'daily loss limit')],
    ] as const) {
      const m = mapMessage(id, body);
      w.add(m.rows, m.state);
    }
    await w.flush();

    const rec = await loadRecoveryState(db);
    expect(rec.fills).toEqual(fills);
    expect(rec.openOrders.map((o) => o.id)).toEqual(['order-1']);
    expect(rec.executedRequests).toEqual(['req-9']);

    const st = restoreStates(rec, config, now);
    expect(st.ledger).toEqual(live.snapshot());
    const back = Ledger.restore(st.ledger);
    expect(back.equity()).toBe(live.equity());
    expect(back.cash()).toBe(live.cash());
    expect(st.risk.highWaterMark).toBe(eq + 7_000_000);
    expect(st.risk.dailyStartEquity).toBe(eq + 7_000_000);
    expect(st.risk.killSwitch).toBe(true);
    expect(st.risk.allocations).toEqual({ sniper: 100_000_000, cross: 200_000_000 });
    expect(st.allocator.allocations).toEqual({ sniper: 100_000_000, cross: 200_000_000 });
    expect(st.executor.requests).toEqual(['req-9']);
    expect(st.executor.inventory.reduce((a, p) => a + p.shares, 0)).toBe(
      [...sim.positions.values()].reduce((a, p) => a + p.shares, 0),
    );
    expect(st.halt).toMatchObject({ command: 'HALT_ALL', reason: 'daily loss limit', issuedBy: 'recovery' });

    // the real risk guardian takes the restored state
    const bus = createInProcBus({ name: 'rs' });
    const kernel: Kernel = {
      config,
      bus,
      clock: wallClock(),
      log: createLogger('silent'),
      ids: createIds('rs'),
      instance: 'rs-1',
    };
    const guardian = createRiskGuardian({ initial: st.risk });
    const agents = await startAgents(kernel, [guardian], { heartbeatMs: 600_000 });
    expect(guardian.portfolio!.equity).toBe(live.equity());
    expect(guardian.portfolio!.highWaterMark).toBe(eq + 7_000_000);
    expect(guardian.snapshot()!.ledger).toEqual(live.snapshot());
    await agents.stop();
    await bus.close();
  });

  it("the guardian's limits use the restored high-water mark and day-start equity, not the bankroll", async () => {
    await db.exec('TRUNCATE fills, equity_snapshots, allocations, orders, execution_reports, system_events');
    const config = loadConfig({ INITIAL_BANKROLL: '500' });
    const now = Date.UTC(2026, 10, 26, 15);
    // before the restart: 100 shares of m1 YES bought at 0.50; equity had peaked at $600; today opened at $540
    const bought = fill({ id: 'fill-r1', side: 'buy', price: $(0.5), shares: sh(100), ts: now - 60_000 });
    const w = new BatchWriter({ db, clock: wallClock(), flushIntervalMs: 1 });
    const m = mapMessage('m-r1', bought);
    w.add(m.rows, m.state);
    await w.flush();
    await writeSystemState(db, {
      halted: false,
      haltReason: null,
      highWaterMark: $(600),
      dailyWindowStart: Date.UTC(2026, 10, 26),
      dailyStartEquity: $(540),
      lastEquity: $(500),
    });
    const st = restoreStates(await loadRecoveryState(db), config, now);
    expect(st.risk).toMatchObject({ highWaterMark: $(600), dailyStartEquity: $(540) });

    const guardian = createRiskGuardian({ initial: st.risk });
    const h = await harness([guardian], config, now);
    try {
      const decisions = h.collect(channels.riskDecisions);
      const pf = guardian.portfolio!;
      // the restored position has no mark until its book arrives: its value is unknown, not zero, so the
      // drawdown stop does not fire on equity $450 against $600 (25%)
      await h.publish(channels.markets('polymarket'), market('polymarket', 'm1'));
      await h.publish(channels.markets('polymarket'), market('polymarket', 'm2'));
      expect(pf.equity).toBe($(450));
      expect(pf.drawdownHalted).toBe(false);
      await h.publish(
        channels.books('polymarket'),
        book('polymarket', 'm1', 'm1-yes', [[0.5, 500]], [[0.52, 500]], now),
      );
      expect(pf.equity).toBe($(500));
      expect(pf.budgetLimits()).toMatchObject({ highWaterMark: $(600), dailyStartEquity: $(540) });
      expect(pf.drawdownHalted).toBe(false);
      // the guardian judges freshness from books it saw itself: m2's book reaches it too
      await h.publish(
        channels.books('polymarket'),
        book('polymarket', 'm2', 'm2-yes', [[0.5, 500]], [[0.52, 500]], now),
      );
      // new risk is measured against the restored $600 high-water mark (not the $500 bankroll): equity is already
      // $100 below it and the position can still lose $50, so 20% of $600 leaves no room for more
      await h.publish(
        channels.tradeRequests,
        request([leg('polymarket', 'm2', 'buy', 0.52, 50)], { expectedEdge: $(5) }),
      );
      expect(decisions).toEqual([
        expect.objectContaining({
          verdict: 'reject',
          rule: 'drawdown_budget',
          reason: expect.stringContaining('below the $600 the high-water mark is or could reach'),
        }),
      ]);
    } finally {
      await h.stop();
    }
  });
});
