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
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { Kernel } from '../../src/core/agent.ts';
import { channels } from '../../src/core/channels.ts';
import { loadConfig } from '../../src/core/config.ts';
import { uuidFromId } from '../../src/core/hash.ts';
import { createKernel } from '../../src/core/kernel.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { Fill, Market, Order, RiskDecision } from '../../src/core/messages.ts';
import { clientOrderId } from '../../src/execution/ids.ts';
import { waitFor } from '../contract/bus-contract.ts';
import { startKalshiTradingFake } from '../fakes/kalshi-trading-fake.ts';
import { startPolymarketClobFake } from '../fakes/polymarket-clob-fake.ts';
import { fakeOrderClients } from '../helpers/order-clients.ts';

// a node process with every agent, two fakes and Redis: slow on a busy machine
vi.setConfig({ testTimeout: 120_000 });

const BIN = resolve('bin/pm-arb.js');
const REDIS = 'redis://127.0.0.1:6379';
const prefix = `run-live:${randomUUID()}:`;
const TOKEN = '48151623420000000000000000000000000000000000000000000000000000000000000000';
const COND = '0x00000000000000000000000000000000000000000000000000000000000000c1';
const T = 'KXOWNLIVE-26DEC31-T1';
const dir = mkdtempSync(join(tmpdir(), 'pmarb-live-'));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
afterAll(async () => {
  const admin = new Redis(REDIS);
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

async function venues() {
  const key = generatePrivateKey();
  const address = privateKeyToAccount(key).address;
  const pm = await startPolymarketClobFake({
    chainId: 137,
    signer: address,
    maker: address,
    collateral: 1_000_000_000,
    markets: [
      {
        conditionId: COND,
        tokenId: TOKEN,
        protocol: 'v1',
        tickSize: 10_000,
        minSize: 1_000_000,
        asks: [[440_000, 20_000_000]],
      },
    ],
  });
  const rsa = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const ks = await startKalshiTradingFake({
    keyId: 'kid-live',
    publicKeyPem: rsa.publicKey,
    balance: 1_000_000_000,
    markets: [{ ticker: T, yesAsks: [[500_000, 20_000_000]], yesBids: [[480_000, 20_000_000]] }],
  });
  const pem = join(dir, `kalshi-${randomUUID()}.pem`);
  writeFileSync(pem, rsa.privateKey, { mode: 0o600 });
  cleanups.push(async () => {
    await pm.close();
    await ks.close();
  });
  const env = {
    PAPER_TRADING: 'false',
    POLYMARKET_CLOB_URL: pm.url,
    POLYMARKET_WS_USER_URL: pm.wsUrl,
    POLYMARKET_PRIVATE_KEY: key,
    POLYMARKET_API_KEY: pm.credentials.key,
    POLYMARKET_API_SECRET: pm.credentials.secret,
    POLYMARKET_API_PASSPHRASE: pm.credentials.passphrase,
    KALSHI_REST_URL: ks.restUrl,
    KALSHI_WS_URL: ks.wsUrl,
    KALSHI_API_KEY_ID: 'kid-live',
    KALSHI_PRIVATE_KEY_PATH: pem,
    REDIS_URL: REDIS,
    REDIS_KEY_PREFIX: prefix,
    // the two orders placed before the process are unknown to it: reconciliation would halt on its second run
    // (30 s by default), which a slow machine can reach before the trade; this test is about the trade
    RECONCILE_INTERVAL_MS: '600000',
  };
  return { key, rsa, pm, ks, env };
}

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', DATA_DIR: join(dir, 'data'), ...extra };
  for (const k of ['ANTHROPIC_API_KEY', 'PUSHOVER_USER_KEY', 'ALERT_WEBHOOK_URL']) delete env[k];
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

function market(venue: 'polymarket' | 'kalshi', marketId: string, yes: string, no: string): Market {
  return {
    type: 'market',
    venue,
    marketId,
    question: 'Will the owned test event happen?',
    rules: 'Owned test market.',
    outcomes: [
      { tokenId: yes, label: 'Yes', side: 'yes' },
      { tokenId: no, label: 'No', side: 'no' },
    ],
    tickSize: 10_000,
    minSize: 1_000_000,
    fees: { kind: 'none' },
    endTime: null,
    status: 'open',
    version: 'v1',
    receiveTime: Date.now(),
  };
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
    const { key, rsa, pm, ks, env } = await venues();
    // an order resting at each venue from before this process: the kill switch must take it too
    const { pmc, ksc, close } = fakeOrderClients({
      pm,
      ks,
      key,
      kalshiKeyId: 'kid-live',
      kalshiPrivateKeyPem: rsa.privateKey,
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
    const kernel: Kernel = await createKernel({
      config: loadConfig({ ...process.env, REDIS_URL: REDIS, REDIS_KEY_PREFIX: prefix }),
      transport: 'redis',
      instance: `run-live-test-${process.pid}`,
      log: silentLogger(),
    });
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

    const child: ChildProcess = spawn(
      process.execPath,
      [BIN, 'run', '--feeds', 'live', '--live', '--yes', '--bus', 'redis', '--only', 'none'],
      { env: baseEnv({ ...env, DASHBOARD_PORT: '0' }), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<string>((r) => child.on('close', (code, signal) => r(`${code ?? signal}`)));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });
    await waitFor(() => /pm-arb run: mode LIVE/.test(stderr), `the live banner (stderr: ${stderr})`, 60_000);
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
    const executorGroup = async (channel: string) => {
      const groups = (await admin
        .call('XINFO', 'GROUPS', `${prefix}${channel}`)
        .catch(() => [])) as unknown[][];
      for (const g of groups) {
        const f = Object.fromEntries(
          Array.from({ length: g.length / 2 }, (_, i) => [String(g[2 * i]), g[2 * i + 1]]),
        );
        // the executor's market groups are its own (`executor@<instance>`: a standby keeps its market data)
        if (String(f.name).startsWith('executor')) return f;
      }
      return undefined;
    };
    const marketStreams = [channels.markets('polymarket').name, channels.markets('kalshi').name];
    const until = async (cond: () => Promise<boolean>, what: string): Promise<void> => {
      const end = Date.now() + 60_000;
      while (!(await cond())) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    kernel.bus.publish(channels.markets('polymarket'), market('polymarket', COND, TOKEN, `${TOKEN}9`));
    kernel.bus.publish(channels.markets('kalshi'), market('kalshi', T, `${T}:yes`, `${T}:no`));
    await kernel.bus.flush();
    // Needed by design, not a workaround: an order takes its tick and neg-risk from the market's record, and the
    // markets and the decisions are separate streams with no order between them; a decision read before its
    // markets is rejected (unknown_market), never traded blind. The guardian only approves markets it has seen.
    await until(async () => {
      const gs = await Promise.all(marketStreams.map(executorGroup));
      return gs.every((g) => g !== undefined && Number(g['entries-read']) >= 1 && Number(g.pending) === 0);
    }, 'the executor to take in both markets');
    const decision: RiskDecision = {
      type: 'risk_decision',
      id: 'rd-live-1',
      requestId: 'req-live-1',
      strategy: 'cross-venue',
      verdict: 'approve',
      rule: 'ok',
      reason: 'test',
      legs: [
        {
          venue: 'polymarket',
          marketId: COND,
          tokenId: TOKEN,
          side: 'buy',
          limitPrice: 450_000,
          shares: 5_000_000,
        },
        {
          venue: 'kalshi',
          marketId: T,
          tokenId: `${T}:no`,
          side: 'buy',
          limitPrice: 530_000,
          shares: 5_000_000,
        },
      ],
      tif: 'IOC',
      decidedAt: Date.now(),
    };
    // sent once: a delivered decision is acted on (or rejected with a reason), never dropped
    kernel.bus.publish(channels.riskDecisions, decision);
    await kernel.bus.flush();
    // the state at the deadline, not when the wait began
    const fillsSeen = (): boolean => fills.filter((f) => f.requestId === 'req-live-1').length === 2;
    await waitFor(fillsSeen, 'a confirmed fill on each venue', 20_000).catch((e: Error) => {
      throw new Error(
        `${e.message} (fills: ${JSON.stringify(fills)}, orders: ${JSON.stringify(orders)}, ` +
          `at the fakes: ${pm.orders.size} + ${ks.orders.size}, stderr: ${stderr})`,
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

    child.kill('SIGINT');
    expect(await exited, stderr).toBe('0');
    expect(stderr).toContain('pm-arb run: stopped');
  });

  it("logs the live clients' errors with their venue (a user channel that cannot connect)", async () => {
    const { env } = await venues();
    // nothing listens on port 9: Kalshi's user channel fails and retries; polling keeps the venue usable
    const child = spawn(
      process.execPath,
      [BIN, 'run', '--feeds', 'live', '--live', '--yes', '--bus', 'redis', '--only', 'none'],
      {
        env: baseEnv({ ...env, KALSHI_WS_URL: 'ws://127.0.0.1:9/trade-api/ws/v2', DASHBOARD_PORT: '0' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<string>((r) => child.on('close', (code, signal) => r(`${code ?? signal}`)));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });
    await waitFor(
      () => stderr.split('\n').some((l) => l.includes('live execution error') && l.includes('kalshi')),
      `a logged Kalshi user-channel error (stderr: ${stderr})`,
      60_000,
    );
    child.kill('SIGINT');
    expect(await exited, stderr).toBe('0');
  });
});
