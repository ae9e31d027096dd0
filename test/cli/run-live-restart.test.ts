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
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
import type { Market, ReconciliationMismatch, RiskDecision } from '../../src/core/messages.ts';
import { clientOrderId } from '../../src/execution/ids.ts';
import { openDb } from '../../src/store/db.ts';
import { loadFills } from '../../src/store/queries.ts';
import { waitFor } from '../contract/bus-contract.ts';
import { startKalshiTradingFake } from '../fakes/kalshi-trading-fake.ts';
import { startPolymarketClobFake } from '../fakes/polymarket-clob-fake.ts';

// two node processes with every agent, two fakes, Redis and a store: slow on a busy machine
vi.setConfig({ testTimeout: 240_000 });

const BIN = resolve('bin/pm-arb.js');
const REDIS = 'redis://127.0.0.1:6379';
const prefix = `run-live-restart:${randomUUID()}:`;
const TOKEN = '48151623420000000000000000000000000000000000000000000000000000000000000077';
const COND = '0x00000000000000000000000000000000000000000000000000000000000000c7';
const T = 'KXOWNRESTART-26DEC31-T1';
const dir = mkdtempSync(join(tmpdir(), 'pmarb-live-restart-'));

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

function market(venue: 'polymarket' | 'kalshi', marketId: string, yes: string, no: string): Market {
  return {
    type: 'market',
    venue,
    marketId,
    question: 'Will the owned restart test event happen?',
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

interface Proc {
  readonly child: ChildProcess;
  stderr(): string;
  readonly exited: Promise<string>;
}

describe('pm-arb run --live: SIGKILL with orders in flight, restart', () => {
  it('re-adopts the in-flight orders: one order per leg at each venue, the ledger equals the venues after reconciliation', async () => {
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
      keyId: 'kid-restart',
      publicKeyPem: rsa.publicKey,
      balance: 1_000_000_000,
      markets: [{ ticker: T, yesAsks: [[500_000, 20_000_000]], yesBids: [[480_000, 20_000_000]] }],
    });
    cleanups.push(async () => {
      await pm.close();
      await ks.close();
    });
    const pem = join(dir, 'kalshi.pem');
    writeFileSync(pem, rsa.privateKey, { mode: 0o600 });
    const dataDir = join(dir, 'data');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      PAPER_TRADING: 'false',
      POLYMARKET_CLOB_URL: pm.url,
      POLYMARKET_WS_USER_URL: pm.wsUrl,
      POLYMARKET_PRIVATE_KEY: key,
      POLYMARKET_API_KEY: pm.credentials.key,
      POLYMARKET_API_SECRET: pm.credentials.secret,
      POLYMARKET_API_PASSPHRASE: pm.credentials.passphrase,
      KALSHI_REST_URL: ks.restUrl,
      KALSHI_WS_URL: ks.wsUrl,
      KALSHI_API_KEY_ID: 'kid-restart',
      KALSHI_PRIVATE_KEY_PATH: pem,
      REDIS_URL: REDIS,
      REDIS_KEY_PREFIX: prefix,
      // several runs within the test; a mismatch must be seen on two runs in a row to halt
      RECONCILE_INTERVAL_MS: '3000',
    };
    for (const k of ['ANTHROPIC_API_KEY', 'PUSHOVER_USER_KEY', 'ALERT_WEBHOOK_URL', 'DATABASE_URL'])
      delete env[k];

    // the test's own view of the bus
    const kernel: Kernel = await createKernel({
      config: loadConfig({ ...process.env, REDIS_URL: REDIS, REDIS_KEY_PREFIX: prefix }),
      transport: 'redis',
      instance: `run-live-restart-test-${process.pid}`,
      log: silentLogger(),
    });
    cleanups.push(() => kernel.bus.close());
    const mismatches: ReconciliationMismatch[] = [];
    kernel.bus.subscribe(channels.reconciliation, { group: 'restart-test-recon' }, (m) => {
      mismatches.push(m.body);
    });

    const start = (): Proc => {
      const child = spawn(
        process.execPath,
        [
          BIN,
          'run',
          '--feeds',
          'live',
          '--live',
          '--yes',
          '--bus',
          'redis',
          '--only',
          'none',
          '--no-dashboard',
        ],
        { env, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
      });

      const exited = new Promise<string>((r) => child.on('close', (code, signal) => r(`${code ?? signal}`)));
      cleanups.push(async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      });
      return { child, stderr: () => err, exited };
    };

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
        if (String(f.name).includes('executor')) return f;
      }
      return undefined;
    };
    const until = async (
      cond: () => Promise<boolean> | boolean,
      what: string | (() => string),
    ): Promise<void> => {
      const end = Date.now() + 90_000;
      while (!(await cond())) {
        if (Date.now() > end)
          throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    // 1. the first process takes the decision; both venues answer only after it is dead
    const first = start();
    await waitFor(
      () => /pm-arb run: mode LIVE/.test(first.stderr()),
      `the live banner (${first.stderr()})`,
      90_000,
    );
    const marketStreams = [channels.markets('polymarket').name, channels.markets('kalshi').name];
    await until(
      async () =>
        (await Promise.all([...marketStreams, channels.riskDecisions.name].map(executorGroup))).every(
          Boolean,
        ),
      "the executor's consumer groups",
    );
    kernel.bus.publish(channels.markets('polymarket'), market('polymarket', COND, TOKEN, `${TOKEN}9`));
    kernel.bus.publish(channels.markets('kalshi'), market('kalshi', T, `${T}:yes`, `${T}:no`));
    await kernel.bus.flush();
    await until(async () => {
      const gs = await Promise.all(marketStreams.map(executorGroup));
      return gs.every((g) => g !== undefined && Number(g['entries-read']) >= 1 && Number(g.pending) === 0);
    }, 'the executor to take in both markets');

    // each venue holds its order request for 6 s before placing it and answering
    pm.faults.push({ kind: 'delay', ms: 6_000 });
    ks.faults.push({ kind: 'delay', ms: 6_000 });
    const decision: RiskDecision = {
      type: 'risk_decision',
      id: 'rd-restart-1',
      requestId: 'req-restart-1',
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
    kernel.bus.publish(channels.riskDecisions, decision);
    await kernel.bus.flush();
    // both order requests have reached the venues (each took its delay fault) and are being held
    await until(
      () => pm.faults.pending === 0 && ks.faults.pending === 0,
      () => `both order requests at the venues (stderr: ${first.stderr()})`,
    );
    expect(pm.orders.size + ks.orders.size).toBe(0);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    // the venues place the orders after the process died (IOC orders that fill at once)
    await until(() => pm.orders.size === 1 && ks.orders.size === 1, 'the venues to place the held orders');
    const journal = readFileSync(join(dataDir, 'live-orders.jsonl'), 'utf8');
    expect(journal).toContain(clientOrderId('req-restart-1', 0));
    expect(journal).toContain(clientOrderId('req-restart-1', 1));

    // 2. the second process re-adopts both orders and reconciles
    const second = start();
    await until(
      () =>
        /reconciliation polymarket: ok \(positions 1/.test(second.stderr()) &&
        /reconciliation kalshi: ok \(positions 1/.test(second.stderr()),
      () => `reconciliation finding both venues equal to the books (stderr: ${second.stderr()})`,
    );
    expect(second.stderr()).not.toContain('HALTING');
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

    second.child.kill('SIGINT');
    expect(await second.exited, second.stderr()).toBe('0');

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
