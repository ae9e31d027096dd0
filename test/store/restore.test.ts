/**
 * Restart restore with the real ledger and risk guardian: fills written through the store and read back by
 * loadRecoveryState rebuild a ledger identical to one that saw the fills live, and the guardian started from the
 * restored RiskState sees the same equity, high-water mark, halt and allocations.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRiskGuardian } from '../../src/agents/risk-guardian.ts';
import { createIds, type Kernel, startAgents } from '../../src/core/agent.ts';
import { createInProcBus } from '../../src/core/bus/inproc.ts';
import { wallClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/core/log.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { type Db, openDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { loadRecoveryState } from '../../src/store/queries.ts';
import { restoreStates } from '../../src/store/restore.ts';
import { mapMessage } from '../../src/store/rows.ts';
import { BatchWriter } from '../../src/store/writer.ts';
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
});
