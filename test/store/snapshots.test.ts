/**
 * Restart cost independent of history (issue 12, item 1): restore = the newest ledger snapshot + the fills stored
 * after it, and that is exactly the full replay of every stored fill — positions, cash, P&L, bundles, the ids
 * remembered against redelivery — to the micro-dollar. A fill stored after a snapshot but stamped before its last
 * fill voids the snapshot (everything is replayed). The persister writes snapshots every N fills and when it stops.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPersister } from '../../src/agents/persister.ts';
import { channels } from '../../src/core/channels.ts';
import { wallClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import type { Fill, Position } from '../../src/core/messages.ts';
import { BundleBook } from '../../src/ledger/bundles.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { type Db, openDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { loadRecoveryState } from '../../src/store/queries.ts';
import { restoreStates } from '../../src/store/restore.ts';
import { mapMessage } from '../../src/store/rows.ts';
import { writeLedgerSnapshot } from '../../src/store/snapshots.ts';
import { BatchWriter } from '../../src/store/writer.ts';
import { harness } from '../risk/fixtures.ts';
import { newState, nextFill, applyFill as simApply } from './recovery-sim.ts';

const config = loadConfig({ INITIAL_BANKROLL: '500' });

/** n deterministic fills (buys and partial sells of 3 strategies × 5 tokens), some bundles reopening. */
function fills(n: number): Fill[] {
  const sim = newState();
  const out: Fill[] = [];
  for (let i = 0; i < n; i++) {
    const f = nextFill(sim, 100_000);
    simApply(sim, f);
    // a few bundles take several buys, sells between them: a bundle sold out and bought again reopens
    out.push(i % 3 === 0 ? { ...f, bundleId: `b-${f.strategy}-${i % 5}` } : f);
  }
  return out;
}

async function write(db: Db, list: readonly (Fill | Position)[], from = 0): Promise<void> {
  const w = new BatchWriter({ db, clock: wallClock(), flushIntervalMs: 1 });
  list.forEach((body, i) => {
    const m = mapMessage(`m-${from + i}`, body);
    w.add(m.rows, m.state);
  });
  await w.flush();
  w.close();
}

const mark = (f: Fill, price: number): Position => ({
  type: 'position',
  venue: f.venue,
  marketId: f.marketId,
  tokenId: f.tokenId,
  strategy: f.strategy,
  shares: 1,
  costBasis: 0,
  realizedPnl: 0,
  mark: price,
  unrealizedPnl: 0,
  ts: f.ts,
});

describe('ledger snapshots', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openDb({ dataDir: 'memory://' });
    await migrate(db);
  }, 60_000);
  afterAll(async () => {
    await db.close();
  });

  it('snapshot + tail restores exactly what the full replay does', async () => {
    const all = fills(1_500);
    const now = all.at(-1)!.ts + 1;
    await write(db, all.slice(0, 900));
    const first = await writeLedgerSnapshot(db, now);
    expect(first).toMatchObject({ written: true, fills: 900, replayed: 900 });
    await write(db, all.slice(900, 1_200), 900);
    // rolled forward over the 300 since, not the 1,200
    expect(await writeLedgerSnapshot(db, now)).toMatchObject({ written: true, fills: 1_200, replayed: 300 });
    // nothing new: nothing written
    expect(await writeLedgerSnapshot(db, now)).toMatchObject({ written: false, fills: 1_200 });
    // the tail, and the last persisted marks
    await write(db, [...all.slice(1_200), mark(all[0]!, 612_345), mark(all[1]!, 1)], 1_200);

    const fromSnapshot = await loadRecoveryState(db);
    const full = await loadRecoveryState(db, { snapshot: false });
    expect(fromSnapshot.base?.fills).toBe(1_200);
    expect(fromSnapshot.fills).toHaveLength(300);
    expect(fromSnapshot.fillCount).toBe(1_500);
    expect(full.base).toBeNull();
    expect(full.fills).toHaveLength(1_500);

    const a = restoreStates(fromSnapshot, config, now);
    const b = restoreStates(full, config, now);
    expect(a).toEqual(b);
    // and both are the ledger that saw every fill live, to the micro-dollar
    const live = new Ledger({ initialCash: config.risk.initialBankroll });
    for (const f of all) live.applyFill(f);
    const restored = Ledger.restore(a.ledger);
    expect(restored.cash()).toBe(live.cash());
    expect(restored.realizedPnl()).toBe(live.realizedPnl());
    expect(restored.fees()).toBe(live.fees());
    expect(restored.openCostBasis()).toBe(live.openCostBasis());
    expect({ ...a.ledger, marks: {} }).toEqual({ ...live.snapshot(), marks: {} });
    expect(a.allocator.bundles).toEqual(BundleBook.fromFills(all).snapshot());
    // a fill redelivered after the restart is known
    const again = Ledger.restore(a.ledger);
    expect(again.applyFill(all[10]!).duplicate).toBe(true);
    expect(again.applyFill(all[1_400]!).duplicate).toBe(true);
  });

  it('a fill stored after the snapshot but stamped before its last fill: every fill is replayed', async () => {
    const late: Fill = { ...fills(1)[0]!, id: 'fill-late', requestId: 'req-late', orderId: 'order-late' };
    await writeLedgerSnapshot(db, 0);
    await write(db, [late], 5_000);
    const rec = await loadRecoveryState(db);
    expect(rec.snapshotFallback).toMatch(/fill-late/);
    expect(rec.base).toBeNull();
    expect(restoreStates(rec, config, 0)).toEqual(
      restoreStates(await loadRecoveryState(db, { snapshot: false }), config, 0),
    );
    // the next snapshot is made from every fill, and is used again
    expect(await writeLedgerSnapshot(db, 0)).toMatchObject({ written: true, fills: 1_501, replayed: 1_501 });
    const after = await loadRecoveryState(db);
    expect(after.snapshotFallback).toBeUndefined();
    expect(after.base?.fills).toBe(1_501);
    expect(after.fills).toEqual([]);
    // two snapshots kept at most
    const n = await db.query<{ n: string }>('SELECT count(*) AS n FROM ledger_snapshots');
    expect(Number(n.rows[0]!.n)).toBe(2);
  });
});

describe('the persister writes ledger snapshots', () => {
  it('every N fills and when it stops', async () => {
    const db = await openDb({ dataDir: 'memory://' });
    try {
      await migrate(db);
      const persister = createPersister({
        db,
        migrate: false,
        flushIntervalMs: 1,
        snapshotEveryFills: 100,
        snapshotEveryMs: 0,
        history: false,
      });
      const h = await harness([persister], config, Date.UTC(2026, 11, 1));
      const list = fills(250);
      for (const f of list) h.bus.publish(channels.fills, f);
      await h.settle();
      await persister.flush();
      // while running: one once 100 fills came (waited for, not timed)
      for (let i = 0; i < 600 && persister.health().snapshots === 0; i++)
        await new Promise((r) => setTimeout(r, 50));
      const during = await loadRecoveryState(db);
      expect(during.base?.fills ?? 0).toBeGreaterThanOrEqual(100);
      expect(during.fillCount).toBe(250);
      await h.stop();
      const after = await loadRecoveryState(db);
      expect(after.base?.fills).toBe(250);
      expect(after.fills).toEqual([]);
      expect(restoreStates(after, config, 0)).toEqual(
        restoreStates(await loadRecoveryState(db, { snapshot: false }), config, 0),
      );
    } finally {
      await db.close();
    }
  });
});
