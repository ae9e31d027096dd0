/**
 * `pm-arb run --feeds live --shadow` as the real command: an approved decision arriving on the Redis bus becomes
 * a paper fill, and the order live trading would have sent is signed and recorded in DATA_DIR/shadow-orders.jsonl
 * — while the venue (the local Polymarket CLOB fake) receives no order. No feed runs (`--only none`): the test
 * publishes the market, its book and the decision as the venue watcher and the risk guardian would. Also the
 * refusals: with --live, without --feeds live, with no credentials to sign with.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { channels } from '../../src/core/channels.ts';
import type { ExecutionReport, Fill, OrderBook, RiskDecision } from '../../src/core/messages.ts';
import { clientOrderId } from '../../src/execution/ids.ts';
import type { ShadowRecord } from '../../src/venues/live/shadow.ts';
import { startPolymarketClobFake } from '../fakes/polymarket-clob-fake.ts';
import {
  executorGroup,
  executorTookIn,
  OUTSIDE_ENV,
  ownedMarket,
  REDIS,
  redisPrefix,
  testKernel,
} from '../helpers/live-venues.ts';
import { killAll, spawnPmArb, until } from '../helpers/procs.ts';

vi.setConfig({ testTimeout: 180_000 });

const { prefix, drop } = redisPrefix('run-shadow');
const COND = '0x00000000000000000000000000000000000000000000000000000000000000e5';
const YES = '777000111222';
const WAIT_MS = 90_000;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
afterAll(drop);

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
    for (const k of ['PAPER_TRADING', 'KALSHI_API_KEY_ID', ...OUTSIDE_ENV]) delete env[k];
    const kernel = await testKernel(prefix, 'run-shadow-test');
    cleanups.push(() => kernel.bus.close());
    const fills: Fill[] = [];
    const reports: ExecutionReport[] = [];
    kernel.bus.subscribe(channels.fills, { group: 'shadow-test-fills' }, (m) => void fills.push(m.body));
    kernel.bus.subscribe(channels.executions, { group: 'shadow-test-reports' }, (m) => {
      reports.push(m.body);
    });

    const run = spawnPmArb(
      'run',
      [
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
      { env },
    );
    cleanups.push(() => killAll([run]));
    await until(
      () => `the shadow banner (${run.err()})`,
      () => /pm-arb run: mode SHADOW \(signing for polymarket; records in /.test(run.err()),
      WAIT_MS,
    );
    // publish once the executor's consumer groups exist (they start at the end of their streams)
    const admin = new Redis(REDIS);
    cleanups.push(async () => void (await admin.quit()));
    const marketData = [channels.markets('polymarket').name, channels.books('polymarket').name];
    await until(
      "the executor's consumer groups",
      async () =>
        (
          await Promise.all(
            [...marketData, channels.riskDecisions.name].map((c) => executorGroup(admin, prefix, c)),
          )
        ).every(Boolean),
      WAIT_MS,
    );
    const book: OrderBook = {
      type: 'book',
      venue: 'polymarket',
      marketId: COND,
      tokenId: YES,
      bids: [[420_000, 50_000_000]],
      asks: [[440_000, 50_000_000]],
      stale: false,
      receiveTime: Date.now(),
    };
    kernel.bus.publish(
      channels.markets('polymarket'),
      ownedMarket('polymarket', COND, YES, `${YES}9`, 'Will the owned shadow test event happen?'),
    );
    kernel.bus.publish(channels.books('polymarket'), book);
    await kernel.bus.flush();
    // The market and its book are separate streams from the decision, with no order between them: a decision read
    // before its book is rejected, never filled blind. So the decision goes out once the executor has both.
    await until(
      'the executor to take in the market and its book',
      () => executorTookIn(admin, prefix, marketData),
      WAIT_MS,
    );
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
    kernel.bus.publish(channels.riskDecisions, decision);
    await kernel.bus.flush();
    const records = join(dataDir, 'shadow-orders.jsonl');
    await until(
      () =>
        `a paper fill and the shadow record (fills ${JSON.stringify(fills)}, reports ${JSON.stringify(reports)}, ` +
        `stderr ${run.err()})`,
      () => fills.some((f) => f.requestId === 'req-shadow-1') && existsSync(records),
      WAIT_MS,
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
    await run.signal('SIGINT');
    expect(await run.exited, run.err()).toBe(0);
  });
});
