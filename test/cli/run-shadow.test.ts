/**
 * `pm-arb run --feeds live --shadow` as the real command: an approved decision arriving on the Redis bus becomes
 * a paper fill, and the order live trading would have sent is signed and recorded in DATA_DIR/shadow-orders.jsonl
 * — while the venue (the local Polymarket CLOB fake) receives no order. No feed runs (`--only none`): the test
 * publishes the market, its book and the decision as the venue watcher and the risk guardian would. Also the
 * refusals: with --live, without --feeds live, with no credentials to sign with.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { Kernel } from '../../src/core/agent.ts';
import { channels } from '../../src/core/channels.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createKernel } from '../../src/core/kernel.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { Fill, Market, OrderBook, RiskDecision } from '../../src/core/messages.ts';
import { clientOrderId } from '../../src/execution/ids.ts';
import type { ShadowRecord } from '../../src/venues/live/shadow.ts';
import { startPolymarketClobFake } from '../fakes/polymarket-clob-fake.ts';

vi.setConfig({ testTimeout: 180_000 });

const REDIS = 'redis://127.0.0.1:6379';
const prefix = `run-shadow:${randomUUID()}:`;
const COND = '0x00000000000000000000000000000000000000000000000000000000000000e5';
const YES = '777000111222';
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

const BIN = resolve('bin/pm-arb.js');
const dir = mkdtempSync(join(tmpdir(), 'pmarb-shadow-cli-'));

function pmArb(args: string[], extra: Record<string, string>): Promise<{ code: number; err: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', DATA_DIR: dir, ...extra };
  for (const k of ['POLYMARKET_PRIVATE_KEY', 'KALSHI_API_KEY_ID', 'KALSHI_PRIVATE_KEY_PATH', 'PAPER_TRADING'])
    if (!(k in extra)) delete env[k];
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000 }, (e, _out, err) =>
      done({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, err }),
    );
  });
}

describe('pm-arb run --shadow', () => {
  it('refuses with --live, without --feeds live, and with no credentials to sign with (exit 2)', async () => {
    const [withLive, simFeeds, noKeys] = await Promise.all([
      pmArb(['run', '--feeds', 'live', '--shadow', '--live', '--yes', '--no-store'], {
        PAPER_TRADING: 'false',
      }),
      pmArb(['run', '--feeds', 'sim', '--shadow', '--no-store'], {}),
      pmArb(['run', '--feeds', 'live', '--shadow', '--no-store', '--only', 'none'], {}),
    ]);
    expect(withLive.code).toBe(2);
    expect(withLive.err).toMatch(/--shadow sends no order: it cannot be combined with --live/);
    expect(simFeeds.code).toBe(2);
    expect(simFeeds.err).toMatch(/--shadow shadows live trading: it needs --feeds live/);
    expect(noKeys.code).toBe(2);
    expect(noKeys.err).toMatch(/--shadow signs orders with the live credentials; none is set/);
    expect(noKeys.err).toContain('polymarket: set POLYMARKET_PRIVATE_KEY');
  });

  it('signs and records the order, sends nothing to the venue, and fills it on paper', async () => {
    const key = generatePrivateKey();
    const address = privateKeyToAccount(key).address;
    const pm = await startPolymarketClobFake({
      chainId: 137,
      signer: address,
      maker: address,
      collateral: 1_000_000_000,
      markets: [
        { conditionId: COND, tokenId: YES, protocol: 'v1', tickSize: 10_000, minSize: 1_000_000, asks: [] },
      ],
    });
    cleanups.push(() => pm.close());
    const dataDir = mkdtempSync(join(tmpdir(), 'pmarb-shadow-run-'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      POLYMARKET_CLOB_URL: pm.url,
      POLYMARKET_WS_USER_URL: pm.wsUrl,
      POLYMARKET_PRIVATE_KEY: key,
      POLYMARKET_API_KEY: pm.credentials.key,
      POLYMARKET_API_SECRET: pm.credentials.secret,
      POLYMARKET_API_PASSPHRASE: pm.credentials.passphrase,
      REDIS_URL: REDIS,
      REDIS_KEY_PREFIX: prefix,
    };
    for (const k of [
      'PAPER_TRADING',
      'KALSHI_API_KEY_ID',
      'ANTHROPIC_API_KEY',
      'PUSHOVER_USER_KEY',
      'ALERT_WEBHOOK_URL',
    ])
      delete env[k];
    const kernel: Kernel = await createKernel({
      config: loadConfig({ ...process.env, REDIS_URL: REDIS, REDIS_KEY_PREFIX: prefix }),
      transport: 'redis',
      instance: `run-shadow-test-${process.pid}`,
      log: silentLogger(),
    });
    cleanups.push(() => kernel.bus.close());
    const fills: Fill[] = [];
    kernel.bus.subscribe(channels.fills, { group: 'shadow-test-fills' }, (m) => void fills.push(m.body));

    const child: ChildProcess = spawn(
      process.execPath,
      [
        BIN,
        'run',
        '--feeds',
        'live',
        '--shadow',
        '--bus',
        'redis',
        '--only',
        'none',
        '--no-dashboard',
        '--no-store',
      ],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<string>((r) => child.on('close', (code, signal) => r(`${code ?? signal}`)));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    const until = async (cond: () => Promise<boolean> | boolean, what: () => string): Promise<void> => {
      const end = Date.now() + 90_000;
      while (!(await cond())) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await until(
      () => /pm-arb run: mode SHADOW \(signing for polymarket; records in /.test(stderr),
      () => `the shadow banner (${stderr})`,
    );
    // publish once the executor's consumer groups exist (they start at the end of their streams)
    const admin = new Redis(REDIS);
    cleanups.push(async () => void (await admin.quit()));
    const hasExecutorGroup = async (channel: string): Promise<boolean> => {
      const groups = (await admin
        .call('XINFO', 'GROUPS', `${prefix}${channel}`)
        .catch(() => [])) as unknown[][];
      return groups.some((g) => String(g[1]).includes('executor'));
    };
    const streams = [
      channels.markets('polymarket').name,
      channels.books('polymarket').name,
      channels.riskDecisions.name,
    ];
    await until(
      async () => (await Promise.all(streams.map(hasExecutorGroup))).every(Boolean),
      () => 'the executor',
    );
    const market: Market = {
      type: 'market',
      venue: 'polymarket',
      marketId: COND,
      question: 'Will the owned shadow test event happen?',
      rules: 'Owned test market.',
      outcomes: [
        { tokenId: YES, label: 'Yes', side: 'yes' },
        { tokenId: `${YES}9`, label: 'No', side: 'no' },
      ],
      tickSize: 10_000,
      minSize: 1_000_000,
      fees: { kind: 'none' },
      endTime: null,
      status: 'open',
      version: 'v1',
      receiveTime: Date.now(),
    };
    const decision: RiskDecision = {
      type: 'risk_decision',
      id: 'rd-shadow-1',
      requestId: 'req-shadow-1',
      strategy: 'cross-venue',
      verdict: 'approve',
      rule: 'ok',
      reason: 'test',
      legs: [
        {
          venue: 'polymarket',
          marketId: COND,
          tokenId: YES,
          side: 'buy',
          limitPrice: 450_000,
          shares: 5_000_000,
        },
      ],
      tif: 'IOC',
      decidedAt: Date.now(),
    };
    kernel.bus.publish(channels.markets('polymarket'), market);
    // a fresh book each time the decision goes out (a paper fill needs a book that is not stale)
    const bookNow = (): OrderBook => ({
      type: 'book',
      venue: 'polymarket',
      marketId: COND,
      tokenId: YES,
      bids: [[420_000, 50_000_000]],
      asks: [[440_000, 50_000_000]],
      stale: false,
      receiveTime: Date.now(),
    });
    const records = join(dataDir, 'shadow-orders.jsonl');
    // the same decision (same ids) is sent again until the executor acts on it: a first delivery is sometimes not
    // acted on under a full-suite load (the known defect noted in run-live.test.ts); it never trades twice
    for (let attempt = 0; attempt < 8 && !fills.some((f) => f.requestId === 'req-shadow-1'); attempt++) {
      kernel.bus.publish(channels.books('polymarket'), bookNow());
      await kernel.bus.flush();
      await new Promise((r) => setTimeout(r, 300));
      kernel.bus.publish(channels.riskDecisions, decision);
      await kernel.bus.flush();
      const end = Date.now() + 5_000;
      while (!fills.some((f) => f.requestId === 'req-shadow-1') && Date.now() < end)
        await new Promise((r) => setTimeout(r, 50));
    }
    await until(
      () => fills.some((f) => f.requestId === 'req-shadow-1') && existsSync(records),
      () => `a paper fill and the shadow record (fills ${JSON.stringify(fills)}, stderr ${stderr})`,
    );
    expect(fills.filter((f) => f.requestId === 'req-shadow-1')).toMatchObject([
      { venue: 'polymarket', tokenId: YES, side: 'buy', price: 440_000, shares: 5_000_000 },
    ]);
    const recs = readFileSync(records, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ShadowRecord);
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      venue: 'polymarket',
      clientOrderId: clientOrderId('req-shadow-1', 0),
      prepared: { path: '/order', venueOrderId: expect.stringMatching(/^0x[0-9a-f]{64}$/) },
    });
    expect((recs[0]!.prepared!.body as { order: { signature: string } }).order.signature).toMatch(
      /^0x[0-9a-f]+$/,
    );
    // nothing was sent
    expect(pm.orders.size).toBe(0);
    expect(pm.http.requests.filter((r) => r.method === 'POST')).toEqual([]);
    child.kill('SIGINT');
    expect(await exited, stderr).toBe('0');
  });
});
