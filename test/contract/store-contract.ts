/**
 * The store contract: one suite, run against PGlite and PostgreSQL (test/store/store-*.test.ts). The same
 * migrations, writes and reads must give the same, exact answers on both.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPersister } from '../../src/agents/persister.ts';
import { createIds, type Kernel, startAgents } from '../../src/core/agent.ts';
import { createInProcBus } from '../../src/core/bus/inproc.ts';
import { channels } from '../../src/core/channels.ts';
import { wallClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/core/log.ts';
import type { MarketRef } from '../../src/core/messages.ts';
import type { Db } from '../../src/store/db.ts';
import { prune, storeStatus } from '../../src/store/maintenance.ts';
import { createSqlMatchStore } from '../../src/store/match-store.ts';
import { MIGRATIONS, migrate, migrationStatus, TABLES } from '../../src/store/migrations.ts';
import {
  decisionsByRule,
  equityCurve,
  getAlertSettings,
  latestPositions,
  leaderboard,
  loadFills,
  loadRecoveryState,
  openOrders,
  recentAlerts,
  setAlertSetting,
} from '../../src/store/queries.ts';
import { mapMessage, pairKeyOf } from '../../src/store/rows.ts';
import { dailyWindowStart, readSystemState, writeSystemState } from '../../src/store/system-state.ts';
import { BatchWriter } from '../../src/store/writer.ts';
import * as S from '../store/samples.ts';

export interface StoreTarget {
  readonly name: string;
  open(): Promise<Db>;
  /** Drops what open() created (the test schema). */
  cleanup?(db: Db): Promise<void>;
}

/** Empties every table and resets system_state, keeping the schema. */
export async function resetStore(db: Db): Promise<void> {
  const tables = TABLES.filter((t) => t !== 'system_state');
  await db.exec(`TRUNCATE ${tables.join(', ')}`);
  await db.exec(
    'UPDATE system_state SET halted = false, halt_reason = NULL, halted_by = NULL, halted_at = NULL, high_water_mark = NULL, ' +
      'daily_window_start = NULL, daily_start_equity = NULL, last_equity = NULL, updated_at = 0',
  );
}

/** Writes messages through the batched writer and waits for the commit. */
async function write(
  db: Db,
  msgs: readonly { id: string; body: Parameters<typeof mapMessage>[1] }[],
): Promise<void> {
  const w = new BatchWriter({ db, clock: wallClock(), flushIntervalMs: 1 });
  for (const m of msgs) {
    const { rows, state } = mapMessage(m.id, m.body);
    w.add(rows, state);
  }
  await w.flush();
  w.close();
}

const count = async (db: Db, table: string): Promise<number> =>
  Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);

export function storeContract(target: StoreTarget): void {
  describe(`store contract: ${target.name}`, () => {
    let db: Db;

    beforeAll(async () => {
      db = await target.open();
      await migrate(db);
    }, 120_000);

    afterAll(async () => {
      if (!db) return;
      await target.cleanup?.(db);
      await db.close();
    });

    beforeEach(async () => {
      await resetStore(db);
    });

    it('migrates once, records versions, and reports no pending migration', async () => {
      expect(await migrate(db)).toEqual([]);
      const st = await migrationStatus(db);
      expect(st.applied.map((a) => a.version)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(st.pending).toEqual([]);
      const status = await storeStatus(db);
      expect(status.backend).toBe(db.backend);
      expect(Object.keys(status.rows).sort()).toEqual([...TABLES].sort());
      expect(status.rows.system_state).toBe(1);
    });

    it('a later migration is pending until applied, then applied once', async () => {
      const extra = [...MIGRATIONS, { version: 999, name: 'probe', sql: 'CREATE TABLE probe_999 (x int)' }];
      expect((await migrationStatus(db, extra)).pending).toEqual([{ version: 999, name: 'probe' }]);
      expect(await migrate(db, extra)).toEqual([999]);
      expect(await migrate(db, extra)).toEqual([]);
      await db.exec('DROP TABLE probe_999');
      await db.query('DELETE FROM schema_migrations WHERE version = 999');
    });

    it('reads money back exactly: extremes, negatives, sub-cent amounts', async () => {
      const fills = [
        S.fill(1, { price: 1, shares: Number.MAX_SAFE_INTEGER, fee: -Number.MAX_SAFE_INTEGER }),
        S.fill(2, { price: 999_999, shares: 1, fee: 0 }),
        S.fill(3, { price: 1_000_000, shares: 123_456_789, fee: -1 }),
      ];
      await write(
        db,
        fills.map((f) => ({ id: f.id, body: f })),
      );
      expect(await loadFills(db)).toEqual(fills);
      const raw = await db.query<{ price: string; shares: string }>(
        "SELECT price::text, shares::text FROM fills WHERE id = 'fill-1'",
      );
      expect(raw.rows[0]).toEqual({ price: '0.000001', shares: '9007199254.740991' });
    });

    it('keeps text exactly: quotes, backslashes, braces, commas, "NULL", empty strings, unicode, JSON', async () => {
      const nasty = [
        'NULL',
        '',
        'a"b',
        'back\\slash\\',
        '{x,y}',
        ' lead and trail ',
        'é ✓ 漢字',
        '\\"\\',
        'tab\tnl\n',
      ];
      await write(
        db,
        nasty.map((t, i) => ({
          id: `n-${i}`,
          body: { type: 'alert', level: 'info', title: t, body: `${t}|${i}`, ts: i } as const,
        })),
      );
      const back = await db.query<{ title: string; body: string }>(
        'SELECT title, body FROM alert_log ORDER BY ts',
      );
      expect(back.rows).toEqual(nasty.map((t, i) => ({ title: t, body: `${t}|${i}` })));
      const legs = [
        { venue: 'kalshi', marketId: 'K"1\\', tokenId: '{t}', side: 'buy', limitPrice: 1, shares: 2 },
      ] as const;
      await write(db, [{ id: 'o', body: S.opportunity(1, { legs, note: '' }) }]);
      const o = await db.query<{ legs: unknown; note: string }>('SELECT legs, note FROM opportunities');
      expect(o.rows).toEqual([{ legs, note: '' }]);
    });

    it('fills are written once however often they are delivered, and come back in time order', async () => {
      const fills = Array.from({ length: 300 }, (_, i) => S.fill(i));
      const shuffled = [...fills].reverse();
      await write(
        db,
        shuffled.map((f) => ({ id: f.id, body: f })),
      );
      await write(
        db,
        fills.slice(100, 200).map((f) => ({ id: f.id, body: f })),
      );
      expect(await count(db, 'fills')).toBe(300);
      const back = await loadFills(db);
      expect(back.map((f) => f.ts)).toEqual([...fills.map((f) => f.ts)].sort((a, b) => a - b));
      // same ts → arrival order (seq): reversed input arrives highest index first
      const sameTs = back.filter((f) => f.ts === fills[0]!.ts).map((f) => f.id);
      expect(sameTs).toEqual(['fill-2', 'fill-1', 'fill-0']);
      expect(new Set(back.map((f) => f.id)).size).toBe(300);
      expect(back.find((f) => f.id === 'fill-17')).toEqual(fills[17]);
    });

    it('a batch holding stored keys, new keys and a key twice (COPY meets a duplicate) keeps the first of each', async () => {
      await write(db, [{ id: 'fill-1', body: S.fill(1) }]);
      // one batch: fill-1 again with other contents (a redelivery), fill-2 twice, fill-3 with NUL, tab and newline
      const again = { ...S.fill(1), strategy: 'changed' };
      const odd = { ...S.fill(3), marketId: 'm\u0000\tx\ny\\' };
      const w = new BatchWriter({ db, clock: wallClock(), flushIntervalMs: 1 });
      for (const f of [again, S.fill(2), S.fill(2), odd]) w.add(mapMessage(f.id, f).rows);
      await w.flush();
      w.close();
      const back = await db.query<{ id: string; strategy: string; market_id: string }>(
        'SELECT id, strategy, market_id FROM fills ORDER BY id',
      );
      expect(back.rows).toEqual([
        { id: 'fill-1', strategy: S.fill(1).strategy, market_id: S.fill(1).marketId },
        { id: 'fill-2', strategy: S.fill(2).strategy, market_id: S.fill(2).marketId },
        { id: 'fill-3', strategy: S.fill(3).strategy, market_id: 'm\tx\ny\\' },
      ]);
    });

    it('an order record with fewer filled shares never replaces one with more, newer or not', async () => {
      // an executor that took over closes the order as cancelled from a store behind; the paused one it took over
      // from had filled it (its record older): in either order of arrival, and within one batch, the fill stands
      const filled = S.order(1, { status: 'filled', filledShares: 10_000_000 });
      const closed = S.order(1, { status: 'cancelled', filledShares: 0, updatedAt: filled.updatedAt + 5 });
      await write(db, [{ id: 'a', body: closed }]);
      await write(db, [{ id: 'b', body: filled }]);
      const filled2 = S.order(2, { status: 'filled', filledShares: 10_000_000 });
      const closed2 = S.order(2, { status: 'cancelled', filledShares: 0, updatedAt: filled2.updatedAt + 5 });
      await write(db, [
        { id: 'c', body: filled2 },
        { id: 'd', body: closed2 },
      ]);
      const rows = await db.query<{ id: string; status: string; filled_shares: string }>(
        'SELECT id, status, filled_shares::text FROM orders ORDER BY id',
      );
      expect(rows.rows.map((r) => [r.id, r.status, Number(r.filled_shares)])).toEqual([
        ['order-1', 'filled', 10],
        ['order-2', 'filled', 10],
      ]);
    });

    it('state rows keep the newest version: orders and positions do not go back on a stale redelivery', async () => {
      const o1 = S.order(1);
      const o1filled = S.order(1, {
        status: 'filled',
        filledShares: 10_000_000,
        updatedAt: o1.updatedAt + 5,
      });
      const o2 = S.order(2, { status: 'partially_filled', filledShares: 3_000_000 });
      await write(db, [
        { id: 'a', body: o1 },
        { id: 'b', body: o1filled },
        { id: 'c', body: o2 },
      ]);
      await write(db, [{ id: 'a', body: o1 }]); // stale redelivery
      expect((await openOrders(db)).map((o) => o.id)).toEqual(['order-2']);
      expect((await openOrders(db))[0]).toEqual(o2);

      const p = S.position();
      const pNewer = S.position({ shares: 0, ts: p.ts + 10, realizedPnl: 55 });
      await write(db, [
        { id: 'p2', body: pNewer },
        { id: 'p1', body: p },
      ]);
      expect(await latestPositions(db)).toEqual([]);
      expect(await latestPositions(db, { includeClosed: true })).toEqual([pNewer]);
    });

    it('keeps markets, tokens, opportunities, requests, decisions, allocations, heartbeats and alerts', async () => {
      const msgs = [
        S.market(1),
        S.market(1, {
          status: 'resolved',
          winner: S.market(1).outcomes[0]!.tokenId,
          receiveTime: 1_700_000_000_500,
        }),
        S.opportunity(1),
        S.request(1),
        S.decision(1),
        S.decision(3),
        S.decision(6),
        S.allocation(10, { sniper: 250_000_000, cross: 250_000_001 }),
        S.heartbeat('scanner', 1),
        S.heartbeat('scanner', 2),
        { type: 'alert', level: 'critical', title: 'HALT', body: 'drawdown', ts: 5 } as const,
      ];
      await write(
        db,
        msgs.map((body, i) => ({ id: `msg-${i}`, body })),
      );
      const m = await db.query<{ status: string; winner: string; tick_size: string }>(
        'SELECT status, winner, tick_size::text FROM markets',
      );
      expect(m.rows).toEqual([
        { status: 'resolved', winner: S.market(1).outcomes[0]!.tokenId, tick_size: '0.01' },
      ]);
      const tokens = await db.query<{ token_id: string }>(
        'SELECT token_id FROM outcome_tokens ORDER BY position',
      );
      expect(tokens.rows.map((r) => r.token_id)).toEqual(S.market(1).outcomes.map((o) => o.tokenId));
      const opp = await db.query<{ edge: string; legs: unknown }>(
        'SELECT edge::text, legs FROM opportunities',
      );
      expect(opp.rows[0]!.edge).toBe('0.123458');
      expect(opp.rows[0]!.legs).toEqual(S.opportunity(1).legs);
      expect(await count(db, 'trade_requests')).toBe(1);
      expect(await decisionsByRule(db)).toEqual([
        { rule: 'daily_loss', verdict: 'reject', count: 2 },
        { rule: 'ok', verdict: 'approve', count: 1 },
      ]);
      expect(await count(db, 'agent_heartbeats')).toBe(2);
      const st = await db.query<{ ts: string }>('SELECT ts FROM agent_status');
      expect(st.rows).toEqual([{ ts: '2' }]);
      expect(await count(db, 'alert_log')).toBe(1);
      const rec = await loadRecoveryState(db);
      expect(rec.allocations?.allocations).toEqual({ cross: 250_000_001, sniper: 250_000_000 });
    });

    it('keeps bundles (fills, requests, positions) and each allocation reason (migration 6)', async () => {
      const f = S.fill(41, { bundleId: 'bundle-7' });
      const plain = S.fill(42);
      const pos = S.position({ tokenId: 't-9', bundleIds: ['bundle-7', 'req-3'] });
      const why = {
        pnl: 1_500_000,
        windowPnl: -250_000,
        bundles: 6,
        windowClosed: 5,
        sharpe: 0.42,
        drawdown: 900_001,
        probation: false,
        evidence: 1,
        score: 0.42,
        weight: 0.25,
        target: 125_000_000,
        allocation: 110_000_000,
        reason: 'score 0.42 = Sharpe 0.42 over 5 bundles closed in 60 min × evidence 1.00',
      };
      const alloc = { ...S.allocation(20, { sniper: 110_000_000 }), explanations: { sniper: why } };
      await write(db, [
        { id: 'b1', body: f },
        { id: 'b2', body: plain },
        { id: 'b3', body: pos },
        { id: 'b4', body: S.request(7, { bundleId: 'bundle-7' }) },
        { id: 'b5', body: alloc },
      ]);
      expect(await loadFills(db)).toEqual([f, plain]);
      expect(await latestPositions(db)).toEqual([pos]);
      const req = await db.query<{ bundle_id: string }>(
        "SELECT bundle_id FROM trade_requests WHERE id = 'req-7'",
      );
      expect(req.rows).toEqual([{ bundle_id: 'bundle-7' }]);
      const rec = await loadRecoveryState(db);
      expect(rec.allocations?.explanations).toEqual({ sniper: why });
      const row = await db.query<{ reason: string }>(
        "SELECT reason FROM allocations WHERE strategy = 'sniper'",
      );
      expect(row.rows).toEqual([{ reason: why.reason }]);
    });

    it('keeps the leg exposure of an execution report (migration 24); older reports have none', async () => {
      const base = {
        type: 'execution_report' as const,
        requestId: 'req-x',
        strategy: 's1',
        status: 'unwound' as const,
        fills: 3,
        legRiskCost: 300_000,
        fees: 0,
        ts: 1_000,
      };
      await write(db, [
        { id: 'e1', body: { ...base, id: 'exec-1', legExposureMs: [137, null, 0] } },
        { id: 'e2', body: { ...base, id: 'exec-2' } },
      ]);
      const rows = await db.query<{ id: string; leg_exposure_ms: unknown }>(
        'SELECT id, leg_exposure_ms FROM execution_reports ORDER BY id',
      );
      expect(rows.rows).toEqual([
        { id: 'exec-1', leg_exposure_ms: [137, null, 0] },
        { id: 'exec-2', leg_exposure_ms: null },
      ]);
    });

    it('system state follows halts, resumes and equity; stale commands are ignored', async () => {
      const day = 86_400_000;
      const t0 = 1_700_000_000_000;
      await write(db, [
        { id: 'e1', body: S.equity(t0, 500_000_000, 500_000_000) },
        { id: 'e2', body: S.equity(t0 + 1_000, 510_000_000, 510_000_000) },
        { id: 'e3', body: S.equity(t0 + 2_000, 495_500_001, 510_000_000) },
        { id: 'h1', body: S.halt(t0 + 2_500) },
      ]);
      let s = await readSystemState(db);
      expect(s.halted).toBe(true);
      expect(s.haltReason).toBe('drawdown limit hit');
      expect(s.highWaterMark).toBe(510_000_000);
      expect(s.dailyWindowStart).toBe(dailyWindowStart(t0, 0));
      expect(s.dailyStartEquity).toBe(500_000_000);
      expect(s.lastEquity).toBe(495_500_001);
      let rec = await loadRecoveryState(db);
      expect(rec.dailyLoss).toEqual({
        windowStart: dailyWindowStart(t0, 0),
        startEquity: 500_000_000,
        loss: 4_499_999,
      });
      expect(rec.halted).toBe(true);

      // an old RESUME redelivered does not undo a newer halt; a newer one does
      await write(db, [{ id: 'r0', body: S.resume(t0) }]);
      expect((await readSystemState(db)).halted).toBe(true);
      await write(db, [
        { id: 'r1', body: S.resume(t0 + 3_000) },
        { id: 'e4', body: S.equity(t0 + day, 490_000_000, 510_000_000) },
        { id: 'e2', body: S.equity(t0 + 1_000, 510_000_000, 510_000_000) },
      ]);
      s = await readSystemState(db);
      expect(s.halted).toBe(false);
      expect(s.haltReason).toBeNull();
      expect(s.dailyWindowStart).toBe(dailyWindowStart(t0 + day, 0));
      expect(s.dailyStartEquity).toBe(490_000_000);
      expect(s.lastEquity).toBe(490_000_000);
      expect(s.highWaterMark).toBe(510_000_000);

      const after = await writeSystemState(db, { highWaterMark: 600_000_000, dailyStartEquity: 480_000_000 });
      expect(after.highWaterMark).toBe(600_000_000);
      rec = await loadRecoveryState(db);
      expect(rec.highWaterMark).toBe(600_000_000);
      expect(rec.dailyLoss?.loss).toBe(0);
      expect(rec.lastEquity?.equity).toBe(490_000_000);
    });

    it('keeps alert settings and the alert log', async () => {
      await setAlertSetting(db, 'levels', ['critical', 'warning'], 1);
      await setAlertSetting(db, 'quietHours', { from: 22, to: 7 }, 2);
      await setAlertSetting(db, 'levels', ['critical'], 3);
      expect(await getAlertSettings(db)).toEqual({ levels: ['critical'], quietHours: { from: 22, to: 7 } });
      await write(db, [
        { id: 'a1', body: { type: 'alert', level: 'warning', title: 'stale feed', body: 'kalshi', ts: 10 } },
        { id: 'a2', body: { type: 'alert', level: 'critical', title: 'HALT', body: 'drawdown', ts: 20 } },
      ]);
      expect((await recentAlerts(db, 1)).map((a) => [a.id, a.level, a.ts])).toEqual([['a2', 'critical', 20]]);
    });

    it('answers the dashboard: equity curve and leaderboard', async () => {
      await write(db, [
        { id: 'e1', body: S.equity(3, 500_000_001, 500_000_001) },
        { id: 'e2', body: S.equity(1, 499_999_999, 500_000_000) },
        { id: 'p1', body: S.performance('sniper', 5_000_000, 1) },
        { id: 'p2', body: S.performance('sniper', -2_500_000, 2) },
        { id: 'p3', body: S.performance('cross', 1_000_000, 1) },
      ]);
      expect((await equityCurve(db)).map((e) => [e.ts, e.equity])).toEqual([
        [1, 499_999_999],
        [3, 500_000_001],
      ]);
      expect((await leaderboard(db)).map((p) => [p.strategy, p.pnl])).toEqual([
        ['cross', 1_000_000],
        ['sniper', -2_500_000],
      ]);
    });

    it('prunes opportunities, heartbeats and history past their retention, nothing else', async () => {
      const now = 100 * 86_400_000;
      await write(db, [
        { id: 'o1', body: S.opportunity(1, { detectedAt: now - 31 * 86_400_000 }) },
        { id: 'o2', body: S.opportunity(2, { detectedAt: now - 1_000 }) },
        { id: 'h1', body: S.heartbeat('a', now - 8 * 86_400_000) },
        { id: 'h2', body: S.heartbeat('a', now - 1) },
        { id: 'f1', body: S.fill(1, { ts: 0 }) },
      ]);
      const n = await prune(db, { opportunitiesDays: 30, heartbeatsDays: 7, historyDays: 30 }, now);
      expect(n).toMatchObject({ opportunities: 1, agent_heartbeats: 1 });
      expect(await count(db, 'opportunities')).toBe(1);
      expect(await count(db, 'agent_heartbeats')).toBe(1);
      expect(await count(db, 'fills')).toBe(1);
    });

    it('prunes closed execution intents past their retention, never open ones or ones whose report is missing', async () => {
      const day = 86_400_000;
      const now = 100 * day;
      const intent = async (id: string, state: string, updatedAt: number) => {
        await db.query(
          `INSERT INTO execution_intents (request_id, account, decision, state, owner, fence, created_at, updated_at)
           VALUES ($1, 'paper', '{}'::jsonb, $2, 'x', 1, $3::bigint, $3::bigint)`,
          [id, state, String(updatedAt)],
        );
      };
      const report = async (id: string) => {
        await db.query(
          `INSERT INTO execution_reports (id, request_id, strategy, status, fills, leg_risk_cost, fees, ts)
           VALUES ($1, $2, 's1', 'filled', 1, 0, 0, 1)`,
          [`${id}.exec`, id],
        );
      };
      await intent('ri-old', 'done', now - 8 * day);
      await report('ri-old');
      await intent('ri-new', 'done', now - 6 * day);
      await report('ri-new');
      await intent('ri-noreport', 'done', now - 30 * day); // its report is published again on the next takeover
      await intent('ri-open', 'submitted', now - 30 * day);
      await report('ri-open');
      const n = await prune(db, { opportunitiesDays: 30, heartbeatsDays: 7, historyDays: 30 }, now);
      expect(n.execution_intents).toBe(1); // the default retention: 7 days
      const left = await db.query<{ request_id: string }>(
        'SELECT request_id FROM execution_intents ORDER BY request_id',
      );
      expect(left.rows.map((r) => r.request_id)).toEqual(['ri-new', 'ri-noreport', 'ri-open']);
      const m = await prune(
        db,
        { opportunitiesDays: 30, heartbeatsDays: 7, historyDays: 30, intentsDays: 5 },
        now,
      );
      expect(m.execution_intents).toBe(1);
      expect(await count(db, 'execution_intents')).toBe(2);
    });

    it('backs the matcher: verdicts by pair and versions, overrides by pair in either order, latest link per pair', async () => {
      const ms = createSqlMatchStore(db);
      const a = { venue: 'polymarket' as const, marketId: '0xabc' };
      const b = { venue: 'kalshi' as const, marketId: 'KX-1' };
      const v = {
        key: 'k1',
        a,
        b,
        aVersion: 'v1',
        bVersion: 'v7',
        relation: 'identical' as const,
        confidence: 0.93,
        stage: 'llm' as const,
        reasons: ['same strike', 'same date'],
        sameEvent: true,
        differences: ['settlement source'],
        decidedAt: 10,
      };
      expect(await ms.getVerdict('k1')).toBeUndefined();
      await ms.putVerdict(v);
      await ms.putVerdict({
        ...v,
        key: 'k2',
        bVersion: 'v8',
        relation: 'different',
        confidence: 0.4,
        stage: 'rules',
        reasons: [],
        sameEvent: undefined,
        differences: undefined,
        decidedAt: 11,
      } as never);
      expect(await ms.getVerdict('k1')).toEqual(v);
      expect((await ms.listVerdicts()).map((x) => [x.key, x.relation, x.sameEvent])).toEqual([
        ['k1', 'identical', true],
        ['k2', 'different', undefined],
      ]);

      await ms.setOverride({
        a,
        b,
        decision: 'approve',
        relation: 'inverted',
        at: 5,
        note: 'checked by hand',
      });
      await ms.setOverride({ a: b, b: a, decision: 'reject', at: 6 });
      expect(await ms.listOverrides()).toEqual([{ a: b, b: a, decision: 'reject', at: 6 }]);

      const link = {
        type: 'link' as const,
        a,
        b,
        relation: 'identical' as const,
        confidence: 0.9,
        stage: 'llm' as const,
        reasons: ['x'],
        decidedAt: 20,
      };
      await ms.putLink(link);
      // the same pair, the other way round, older: ignored; newer: replaces
      await write(db, [{ id: 'l1', body: { ...link, a: b, b: a, decidedAt: 19, relation: 'different' } }]);
      expect(await ms.listLinks()).toEqual([link]);
      await write(db, [{ id: 'l2', body: { ...link, a: b, b: a, decidedAt: 21, stage: 'manual' } }]);
      expect(await ms.listLinks()).toEqual([{ ...link, a: b, b: a, decidedAt: 21, stage: 'manual' }]);
      // a resolved market's pairs: the review item goes, the link stays as history (the persister writes it too)
      const brief = (r: MarketRef) => ({
        ...r,
        version: 'v1',
        question: 'q',
        rules: 'r',
        endTime: null,
        outcomes: [],
      });
      await ms.putReview({
        key: pairKeyOf(a, b),
        a: brief(a),
        b: brief(b),
        relation: 'undetermined',
        confidence: 0,
        stage: 'rules',
        reasons: [],
        queuedAt: 30,
      });
      expect(await ms.listReview()).toHaveLength(1);
      await ms.forgetPairs([pairKeyOf(a, b), 'polymarket:gone|kalshi:gone']);
      expect(await ms.listReview()).toEqual([]);
      expect(await ms.listLinks()).toHaveLength(1);
    });

    it('the persister writes what the bus carries, acks only after commit, samples books, ignores duplicates', async () => {
      const bus = createInProcBus({ name: 'pt' });
      const kernel: Kernel = {
        config: loadConfig({ HISTORY_SAMPLE_MS: '1000' }),
        bus,
        clock: wallClock(),
        log: createLogger('silent'),
        ids: createIds('pt'),
        instance: 'pt-1',
      };
      const persister = createPersister({ db, migrate: true, flushIntervalMs: 5, pruneEveryMs: 0 });
      const agents = await startAgents(kernel, [persister], { heartbeatMs: 60_000 });
      for (let i = 0; i < 500; i++) bus.publish(channels.fills, S.fill(i), { id: `mf-${i}` });
      for (let i = 0; i < 50; i++) bus.publish(channels.opportunities, S.opportunity(i));
      // a redelivered message (same id) and a republished fill (new message id, same fill id)
      bus.publish(channels.fills, S.fill(3), { id: 'mf-3' });
      bus.publish(channels.fills, S.fill(4));
      for (let i = 0; i < 20; i++) {
        bus.publish(channels.books('polymarket'), {
          type: 'book',
          venue: 'polymarket',
          marketId: 'm',
          tokenId: 't',
          bids: [[450_000, 1_000_000]],
          asks: [],
          stale: false,
          receiveTime: 1_000 + i * 250,
        });
      }
      bus.publish(channels.ticks('binance'), {
        type: 'tick',
        source: 'binance',
        symbol: 'BTC/USDT',
        price: 9_712_345_678_901,
        stale: false,
        receiveTime: 5,
      });
      bus.publish(channels.system, S.halt(7));
      await bus.idle();
      await persister.flush();
      expect(await count(db, 'fills')).toBe(500);
      expect(await count(db, 'opportunities')).toBe(50);
      // 20 books 250 ms apart over 4.75 s, one per second
      expect(await count(db, 'book_history')).toBe(5);
      const tick = await db.query<{ price: string }>('SELECT price::text FROM oracle_history');
      expect(tick.rows).toEqual([{ price: '97123.45678901' }]);
      expect((await readSystemState(db)).halted).toBe(true);
      // every delivered message acked (nothing left for redelivery)
      const st = bus.stats();
      expect(st.acked).toBe(st.delivered);
      expect(persister.health().rowsWritten).toBeGreaterThanOrEqual(550);
      await agents.stop();
      await bus.close();
    });
  });
}
