/**
 * `pm-arb run --feeds live --live --yes` as the real command (node bin/pm-arb.js) with both venues' trading APIs
 * on the local fakes (Polymarket CLOB V2, Kalshi) and the Redis bus: an approved cross-venue decision becomes real
 * orders at both fakes, their fills come back on the bus; `pm-arb halt` (HALT_ALL on the bus) cancels every open
 * order of the account at both venues, including orders the process never placed. Also the refusals: live asked
 * once, no terminal without --yes, no venue configured.
 *
 * The opportunity itself is not found by the scanner here: the process runs no feed (`--only none`, so nothing
 * leaves 127.0.0.1) and the test publishes the Market records and the approved RiskDecision on the bus, as the
 * venue watchers and the risk guardian would.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { channels } from '../../src/core/channels.ts';
import { uuidFromId } from '../../src/core/hash.ts';
import type { Fill, Order } from '../../src/core/messages.ts';
import { clientOrderId } from '../../src/execution/ids.ts';
import { waitFor } from '../contract/bus-contract.ts';
import {
  crossVenueDecision,
  executorTookIn,
  OUTSIDE_ENV,
  ownedMarkets,
  REDIS,
  redisPrefix,
  startLiveVenues,
  testKernel,
} from '../helpers/live-venues.ts';
import { fakeOrderClients } from '../helpers/order-clients.ts';
import { killAll, spawnPmArb, until } from '../helpers/procs.ts';

// a node process with every agent, two fakes and Redis: slow on a busy machine
vi.setConfig({ testTimeout: 120_000 });

const BIN = resolve('bin/pm-arb.js');
/** No feed runs (nothing leaves 127.0.0.1): the test publishes what the watchers and the guardian would. */
const RUN_LIVE = ['run', '--feeds', 'live', '--live', '--yes', '--bus', 'redis', '--only', 'none'];
const { prefix, drop } = redisPrefix('run-live');
const OWNED = {
  conditionId: '0x00000000000000000000000000000000000000000000000000000000000000c1',
  tokenId: '48151623420000000000000000000000000000000000000000000000000000000000000000',
  ticker: 'KXOWNLIVE-26DEC31-T1',
  kalshiKeyId: 'kid-live',
};
const { conditionId: COND, tokenId: TOKEN, ticker: T } = OWNED;
const dir = mkdtempSync(join(tmpdir(), 'pmarb-live-'));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
afterAll(drop);

async function venues() {
  const v = await startLiveVenues({ ...OWNED, dir, prefix });
  cleanups.push(() => v.close());
  // the two orders placed before the process are unknown to it: reconciliation would halt on its second run
  // (30 s by default), which a slow machine can reach before the trade; this test is about the trade
  return { ...v, env: { ...v.env, RECONCILE_INTERVAL_MS: '600000' } };
}

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', DATA_DIR: join(dir, 'data'), ...extra };
  for (const k of OUTSIDE_ENV) delete env[k];
  return env;
}

function pmArb(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { env: baseEnv(env), timeout: 60_000 }, (e, out, err) =>
      done({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out, err }),
    );
  });
}

describe('pm-arb run --live', () => {
  it('refuses without a terminal unless --yes, and with no venue configured (exit 2)', async () => {
    const noTty = await pmArb(['run', '--feeds', 'live', '--live', '--no-store'], { PAPER_TRADING: 'false' });
    expect(noTty.code).toBe(2);
    expect(noTty.err).toMatch(/without one pass --yes/);
    const nothing = await pmArb(['run', '--feeds', 'live', '--live', '--yes', '--no-store'], {
      PAPER_TRADING: 'false',
      POLYMARKET_PRIVATE_KEY: '',
      KALSHI_API_KEY_ID: '',
    });
    expect(nothing.code).toBe(2);
    expect(nothing.err).toMatch(/no venue is configured for live trading/);
    expect(nothing.err).toContain('kalshi: set KALSHI_API_KEY_ID');
  });

  it('trades an approved cross-venue decision on both fakes, fills reach the bus; HALT_ALL cancels at every venue', async () => {
    const { key, kalshiPrivateKeyPem, pm, ks, env } = await venues();
    // an order resting at each venue from before this process: the kill switch must take it too
    const { pmc, ksc, close } = fakeOrderClients({
      pm,
      ks,
      key,
      kalshiKeyId: 'kid-live',
      kalshiPrivateKeyPem,
    });
    cleanups.push(close);
    const base = {
      requestId: 'old',
      legIndex: 0,
      side: 'buy' as const,
      type: 'GTC' as const,
      tickSize: 10_000,
    };
    await pmc.submit({
      ...base,
      clientOrderId: clientOrderId('old-p', 0),
      createdAt: Date.now(),
      venue: 'polymarket',
      marketId: COND,
      tokenId: TOKEN,
      limitPrice: 200_000,
      shares: 5_000_000,
      polymarket: { protocol: 'v1', negRisk: false },
    });
    await ksc.submit({
      ...base,
      clientOrderId: clientOrderId('old-k', 0),
      createdAt: Date.now(),
      venue: 'kalshi',
      marketId: T,
      tokenId: `${T}:yes`,
      limitPrice: 200_000,
      shares: 5_000_000,
    });
    expect((await pmc.openOrders()).length + (await ksc.openOrders()).length).toBe(2);

    // the test's own view of the bus
    const kernel = await testKernel(prefix, 'run-live-test');
    cleanups.push(() => kernel.bus.close());
    const fills: Fill[] = [];
    const orders: Order[] = [];
    const running = new Set<string>();
    kernel.bus.subscribe(channels.health, { group: 'run-live-test-health' }, (m) => {
      if (m.body.state === 'running') running.add(m.body.agent);
    });
    kernel.bus.subscribe(channels.fills, { group: 'run-live-test-fills' }, (m) => {
      fills.push(m.body);
    });
    kernel.bus.subscribe(channels.orders, { group: 'run-live-test-orders' }, (m) => {
      orders.push(m.body);
    });

    const run = spawnPmArb('run', RUN_LIVE, { env: baseEnv({ ...env, DASHBOARD_PORT: '0' }) });
    cleanups.push(() => killAll([run]));
    await until(
      () => `the live banner (stderr: ${run.err()})`,
      () => /pm-arb run: mode LIVE/.test(run.err()),
      60_000,
    );
    const stderr = run.err();
    expect(stderr).toContain('LIVE TRADING with real money');
    expect(stderr).toMatch(/polymarket: LIVE, wallet 0x[0-9a-fA-F]{4}…[0-9a-fA-F]{4}, balance \$1000/);
    expect(stderr).toMatch(/kalshi: LIVE, API key …, balance \$1000/);
    expect(stderr).toContain('per order (LIVE_MAX_ORDER_USD)');
    for (const secret of [key.slice(2), pm.credentials.secret, pm.credentials.passphrase])
      expect(stderr).not.toContain(secret);

    // The banner comes before the agents start: wait for the executor's first heartbeat. The agent set writes
    // nothing to Redis until every agent's consumer groups exist (#12 item 6), so once this heartbeat is here,
    // whatever the test publishes reaches the executor.
    await waitFor(() => running.has('executor'), 'the executor running', 60_000);
    const admin = new Redis(REDIS);
    cleanups.push(async () => void (await admin.quit()));
    const marketStreams = [channels.markets('polymarket').name, channels.markets('kalshi').name];
    for (const m of ownedMarkets(OWNED)) kernel.bus.publish(channels.markets(m.venue), m);
    await kernel.bus.flush();
    // Needed by design, not a workaround: an order takes its tick and neg-risk from the market's record, and the
    // markets and the decisions are separate streams with no order between them; a decision read before its
    // markets is rejected (unknown_market), never traded blind. The guardian only approves markets it has seen.
    await until(
      'the executor to take in both markets',
      () => executorTookIn(admin, prefix, marketStreams),
      60_000,
    );
    const decision = crossVenueDecision(OWNED, 'req-live-1');
    // sent once: a delivered decision is acted on (or rejected with a reason), never dropped
    kernel.bus.publish(channels.riskDecisions, decision);
    await kernel.bus.flush();
    // the state at the deadline, not when the wait began
    const fillsSeen = (): boolean => fills.filter((f) => f.requestId === 'req-live-1').length === 2;
    await waitFor(fillsSeen, 'a confirmed fill on each venue', 20_000).catch((e: Error) => {
      throw new Error(
        `${e.message} (fills: ${JSON.stringify(fills)}, orders: ${JSON.stringify(orders)}, ` +
          `at the fakes: ${pm.orders.size} + ${ks.orders.size}, stderr: ${run.err()})`,
      );
    });
    const byVenue = Object.fromEntries(fills.map((f) => [f.venue, f]));
    expect(byVenue.polymarket).toMatchObject({ price: 440_000, shares: 5_000_000, side: 'buy' });
    expect(byVenue.kalshi).toMatchObject({ tokenId: `${T}:no`, shares: 5_000_000, side: 'buy' });
    // exactly one order per leg at each venue, under our client order ids
    expect(
      [...ks.orders.values()].filter((o) => o.clientOrderId === uuidFromId(clientOrderId('req-live-1', 1))),
    ).toHaveLength(1);
    expect(pm.trades.length).toBeGreaterThan(0);
    expect(orders.some((o) => o.id === clientOrderId('req-live-1', 0) && o.status === 'filled')).toBe(true);

    // the kill switch: HALT_ALL on the bus, from the CLI
    const halt = await pmArb(['halt', '--reason', 'run-live test'], env);
    expect(halt.code).toBe(0);
    await waitFor(
      () =>
        [...pm.orders.values()].every((o) => o.status !== 'ORDER_STATUS_LIVE') &&
        [...ks.orders.values()].every((o) => o.status !== 'resting'),
      'every order at both venues cancelled',
      30_000,
    );
    expect(await pmc.openOrders()).toEqual([]);
    expect(await ksc.openOrders()).toEqual([]);

    await run.signal('SIGINT');
    expect(await run.exited, run.err()).toBe(0);
    expect(run.err()).toContain('pm-arb run: stopped');
  });

  it("logs the live clients' errors with their venue (a user channel that cannot connect)", async () => {
    const { env } = await venues();
    // nothing listens on port 9: Kalshi's user channel fails and retries; polling keeps the venue usable
    const run = spawnPmArb('run', RUN_LIVE, {
      env: baseEnv({ ...env, KALSHI_WS_URL: 'ws://127.0.0.1:9/trade-api/ws/v2', DASHBOARD_PORT: '0' }),
    });
    cleanups.push(() => killAll([run]));
    await until(
      () => `a logged Kalshi user-channel error (stderr: ${run.err()})`,
      () =>
        run
          .err()
          .split('\n')
          .some((l) => l.includes('live execution error') && l.includes('kalshi')),
      60_000,
    );
    await run.signal('SIGINT');
    expect(await run.exited, run.err()).toBe(0);
  });
});
