/**
 * `pm-arb run --feeds live --live --yes` killed (SIGKILL) with an order in flight at each venue, then started
 * again: the venues (the local trading fakes) are slower than the process, so both orders of an approved
 * cross-venue decision are still on their way when the process dies; the fakes place them afterwards. The new
 * process re-adopts them from the live clients' journal (looked up by client order id, never sent again), books
 * their fills, and reconciliation then finds the venues and the books equal. In the end: exactly one order per
 * leg at each venue, and the stored ledger's positions equal the fake venues' positions.
 *
 * As in run-live.test.ts, no feed runs (`--only none`): the test publishes the Market records and the approved
 * RiskDecision on the Redis bus, as the venue watchers and the risk guardian would.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { channels } from '../../src/core/channels.ts';
import { uuidFromId } from '../../src/core/hash.ts';
import type { ReconciliationMismatch } from '../../src/core/messages.ts';
import { clientOrderId } from '../../src/execution/ids.ts';
import { openDb } from '../../src/store/db.ts';
import { loadFills } from '../../src/store/queries.ts';
import {
  crossVenueDecision,
  executorGroup,
  executorTookIn,
  OUTSIDE_ENV,
  ownedMarkets,
  REDIS,
  redisPrefix,
  startLiveVenues,
  testKernel,
} from '../helpers/live-venues.ts';
import { killAll, type Proc, spawnPmArb, until } from '../helpers/procs.ts';

// two node processes with every agent, two fakes, Redis and a store: slow on a busy machine
vi.setConfig({ testTimeout: 240_000 });

const { prefix, drop } = redisPrefix('run-live-restart');
const OWNED = {
  conditionId: '0x00000000000000000000000000000000000000000000000000000000000000c7',
  tokenId: '48151623420000000000000000000000000000000000000000000000000000000000000077',
  ticker: 'KXOWNRESTART-26DEC31-T1',
  kalshiKeyId: 'kid-restart',
};
const { tokenId: TOKEN, ticker: T } = OWNED;
const dir = mkdtempSync(join(tmpdir(), 'pmarb-live-restart-'));
const WAIT_MS = 90_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
afterAll(drop);

describe('pm-arb run --live: SIGKILL with orders in flight, restart', () => {
  it('re-adopts the in-flight orders: one order per leg at each venue, the ledger equals the venues after reconciliation', async () => {
    const { pm, ks, env: venueEnv, close } = await startLiveVenues({ ...OWNED, dir, prefix });
    cleanups.push(close);
    const dataDir = join(dir, 'data');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      ...venueEnv,
      // several runs within the test; a mismatch must be seen on two runs in a row to halt
      RECONCILE_INTERVAL_MS: '3000',
    };
    for (const k of OUTSIDE_ENV) delete env[k];

    // the test's own view of the bus
    const kernel = await testKernel(prefix, 'run-live-restart-test');
    cleanups.push(() => kernel.bus.close());
    const mismatches: ReconciliationMismatch[] = [];
    kernel.bus.subscribe(channels.reconciliation, { group: 'restart-test-recon' }, (m) => {
      mismatches.push(m.body);
    });

    const start = (name: string): Proc => {
      const p = spawnPmArb(
        name,
        ['run', '--feeds', 'live', '--live', '--yes', '--bus', 'redis', '--only', 'none', '--no-dashboard'],
        { env },
      );
      cleanups.push(() => killAll([p]));
      return p;
    };
    const admin = new Redis(REDIS);
    cleanups.push(async () => void (await admin.quit()));

    // 1. the first process takes the decision; both venues answer only after it is dead
    const first = start('first');
    await until(
      () => `the live banner (${first.err()})`,
      () => /pm-arb run: mode LIVE/.test(first.err()),
      WAIT_MS,
    );
    const marketStreams = [channels.markets('polymarket').name, channels.markets('kalshi').name];
    await until(
      "the executor's consumer groups",
      async () =>
        (
          await Promise.all(
            [...marketStreams, channels.riskDecisions.name].map((c) => executorGroup(admin, prefix, c)),
          )
        ).every(Boolean),
      WAIT_MS,
    );
    for (const m of ownedMarkets(OWNED, 'Will the owned restart test event happen?'))
      kernel.bus.publish(channels.markets(m.venue), m);
    await kernel.bus.flush();
    await until(
      'the executor to take in both markets',
      () => executorTookIn(admin, prefix, marketStreams),
      WAIT_MS,
    );

    // each venue holds its order request for 6 s before placing it and answering
    pm.faults.push({ kind: 'delay', ms: 6_000 });
    ks.faults.push({ kind: 'delay', ms: 6_000 });
    const decision = crossVenueDecision(OWNED, 'req-restart-1');
    kernel.bus.publish(channels.riskDecisions, decision);
    await kernel.bus.flush();
    // both order requests have reached the venues (each took its delay fault) and are being held
    await until(
      () => `both order requests at the venues (stderr: ${first.err()})`,
      () => pm.faults.pending === 0 && ks.faults.pending === 0,
      WAIT_MS,
    );
    expect(pm.orders.size + ks.orders.size).toBe(0);
    await first.signal('SIGKILL');
    expect(first.child.signalCode).toBe('SIGKILL');
    // the venues place the orders after the process died (IOC orders that fill at once)
    await until(
      'the venues to place the held orders',
      () => pm.orders.size === 1 && ks.orders.size === 1,
      WAIT_MS,
    );
    const journal = readFileSync(join(dataDir, 'live-orders.jsonl'), 'utf8');
    expect(journal).toContain(clientOrderId('req-restart-1', 0));
    expect(journal).toContain(clientOrderId('req-restart-1', 1));

    // 2. the second process re-adopts both orders and reconciles
    const second = start('second');
    await until(
      () => `reconciliation finding both venues equal to the books (stderr: ${second.err()})`,
      () =>
        /reconciliation polymarket: ok \(positions 1/.test(second.err()) &&
        /reconciliation kalshi: ok \(positions 1/.test(second.err()),
      WAIT_MS,
    );
    expect(second.err()).not.toContain('HALTING');
    // whatever mismatch a run saw while the re-adopted fills were on their way, none halted
    expect(mismatches.filter((m) => m.halt)).toEqual([]);

    // exactly one order per leg at each venue: nothing was sent twice
    expect(pm.orders.size).toBe(1);
    expect(ks.orders.size).toBe(1);
    expect(
      [...ks.orders.values()].filter(
        (o) => o.clientOrderId === uuidFromId(clientOrderId('req-restart-1', 1)),
      ),
    ).toHaveLength(1);

    await second.signal('SIGINT');
    expect(await second.exited, second.err()).toBe(0);

    // the stored ledger equals the venues' positions
    const db = await openDb({ dataDir: join(dataDir, 'pglite') });
    const fills = await loadFills(db).finally(() => db.close());
    const held = (venue: string, tokenId: string): number =>
      fills
        .filter((f) => f.venue === venue && f.tokenId === tokenId)
        .reduce((s, f) => s + (f.side === 'buy' ? f.shares : -f.shares), 0);
    expect(held('polymarket', TOKEN)).toBe(5_000_000);
    expect(held('polymarket', TOKEN)).toBe(pm.tokenBalance(TOKEN));
    // Kalshi nets YES against NO: a NO position is a negative YES position
    expect(held('kalshi', `${T}:no`)).toBe(5_000_000);
    expect(held('kalshi', `${T}:no`)).toBe(-ks.position(T));
    // one fill per order, each booked once, under the order's client id
    expect(fills.map((f) => f.orderId).sort()).toEqual([
      clientOrderId('req-restart-1', 0),
      clientOrderId('req-restart-1', 1),
    ]);
  });
});
