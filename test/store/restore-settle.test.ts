/**
 * Markets that resolved while the system was down are settled on restart (issue 12, item 1), on the embedded path
 * too: the in-process bus keeps nothing across a restart, so the store keeps the resolutions (migration 26) — and a
 * market stored as resolved with its winner counts as well. At start the executor settles the restored holdings in
 * those markets once market data flows (every agent started by then: the capital allocator, started after the
 * executor, books the settlement fills too).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CapitalAllocator, createCapitalAllocator } from '../../src/agents/capital-allocator.ts';
import type { Executor } from '../../src/agents/executor.ts';
import { persistedChannels } from '../../src/agents/persister.ts';
import { agentProcessMode, assemble } from '../../src/app/assemble.ts';
import { restoreAgentMode } from '../../src/cli/commands/agent.ts';
import { channels } from '../../src/core/channels.ts';
import { wallClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import type { Fill, Resolution } from '../../src/core/messages.ts';
import { ONE } from '../../src/core/money.ts';
import { type Db, openDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { loadRecoveryState } from '../../src/store/queries.ts';
import { restoreStates } from '../../src/store/restore.ts';
import { mapMessage } from '../../src/store/rows.ts';
import { BatchWriter } from '../../src/store/writer.ts';
import { $, fill, harness, market, sh } from '../risk/fixtures.ts';

const config = loadConfig({ INITIAL_BANKROLL: '500' });
const NOW = Date.UTC(2026, 11, 2, 12);
let db: Db;

const buy = (id: string, marketId: string, tokenId: string, shares: number): Fill =>
  fill({
    id,
    requestId: `req-${id}`,
    orderId: `req-${id}.0`,
    marketId,
    tokenId,
    side: 'buy',
    price: $(0.5),
    shares: sh(shares),
    ts: NOW - 3_600_000,
  });

/** Resolved while the executor was down: its holdings in m1 were never settled. */
const resolved: Resolution = {
  type: 'resolution',
  venue: 'polymarket',
  marketId: 'm1',
  winner: 'm1-yes',
  receiveTime: NOW - 600_000,
};

beforeAll(async () => {
  db = await openDb({ dataDir: 'memory://' });
  await migrate(db);
  const w = new BatchWriter({ db, clock: wallClock(), flushIntervalMs: 1 });
  const rows: [string, Parameters<typeof mapMessage>[1]][] = [
    ['f1', buy('f1', 'm1', 'm1-yes', 40)],
    ['f2', buy('f2', 'm2', 'm2-yes', 10)],
    ['f3', buy('f3', 'm3', 'm3-yes', 20)],
    ['r1', resolved],
    // a venue listing that showed m3 resolved (NO won); m2 still open
    ['k3', market('polymarket', 'm3', { status: 'resolved', winner: 'm3-no', receiveTime: NOW - 500_000 })],
    ['k2', market('polymarket', 'm2', { receiveTime: NOW - 500_000 })],
  ];
  for (const [id, body] of rows) {
    const m = mapMessage(id, body);
    w.add(m.rows, m.state);
  }
  await w.flush();
  w.close();
}, 60_000);

afterAll(async () => {
  await db.close();
});

describe('markets resolved during downtime are settled on restart', () => {
  it('the persister keeps resolutions; restore names the held markets that resolved', async () => {
    expect(persistedChannels().map((c) => c.name)).toContain(channels.resolutions.name);
    const rows = await db.query<{ market_id: string; winner: string }>(
      'SELECT market_id, winner FROM resolutions',
    );
    expect(rows.rows).toEqual([{ market_id: 'm1', winner: 'm1-yes' }]);
    const st = restoreStates(await loadRecoveryState(db), config, NOW);
    expect(st.executor.resolved?.map((r) => [r.marketId, r.winner])).toEqual([
      ['m1', 'm1-yes'],
      ['m3', 'm3-no'],
    ]);
  });

  it('in process (run): the executor settles them, and the allocator started after it books the fills', async () => {
    const { mode } = await restoreAgentMode(
      'executor',
      agentProcessMode('executor', { latencyMs: '0' }),
      db,
      config,
      NOW,
    );
    const h0 = await harness([], config, NOW);
    const { agents } = await assemble(h0.kernel, mode);
    await h0.stop();
    const executor = agents[0] as Executor;
    const allocator: CapitalAllocator = createCapitalAllocator({
      initial: mode.restored!.allocator,
      equityIntervalMs: 3_600_000,
    });
    // run's start order: the executor before the allocator
    const h = await harness([executor, allocator], config, NOW);
    try {
      const fills = h.collect(channels.fills);
      // nothing before market data flows
      expect(fills).toEqual([]);
      await h.publish(channels.markets('polymarket'), market('polymarket', 'm2'));
      expect(fills.map((f) => [f.kind, f.marketId, f.tokenId, f.side, f.price, f.shares]).sort()).toEqual([
        ['settlement', 'm1', 'm1-yes', 'sell', ONE, sh(40)],
        ['settlement', 'm3', 'm3-yes', 'sell', 0, sh(20)],
      ]);
      expect(executor.snapshot().inventory.map((e) => e.tokenId)).toEqual(['m2-yes']);
      // cash: 500 − 35 paid + 40 × 1 = 505; m2's 10 shares are still held
      const l = allocator.ledger!;
      expect(l.cash()).toBe($(505));
      expect(l.positions().map((p) => [p.tokenId, p.shares])).toEqual([['m2-yes', sh(10)]]);
      // more market data settles nothing again
      await h.publish(channels.markets('polymarket'), market('polymarket', 'm2'));
      expect(fills).toHaveLength(2);
    } finally {
      await h.stop();
    }
  });
});
