/**
 * The setup shared by the tests that run `pm-arb run --feeds live` (--live or --shadow) as the real command against
 * the local trading fakes: one owned market at each fake venue and the env that points the process at them, the
 * Market records and decisions the test publishes in place of the venue watchers and the risk guardian, the
 * test's own view of the Redis bus, and the executor's consumer groups read straight from Redis (what the
 * executor has taken in).
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { Kernel } from '../../src/core/agent.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createKernel } from '../../src/core/kernel.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { Market, RiskDecision } from '../../src/core/messages.ts';
import { type KalshiTradingFake, startKalshiTradingFake } from '../fakes/kalshi-trading-fake.ts';
import { type PolymarketClobFake, startPolymarketClobFake } from '../fakes/polymarket-clob-fake.ts';

export const REDIS = 'redis://127.0.0.1:6379';

/** Variables a developer may have set that would make the process reach out (an LLM, a phone, a database). */
export const OUTSIDE_ENV = ['ANTHROPIC_API_KEY', 'PUSHOVER_USER_KEY', 'ALERT_WEBHOOK_URL', 'DATABASE_URL'];

/** A test's Redis key prefix and the cleanup that deletes every key under it. */
export function redisPrefix(name: string): { prefix: string; drop(): Promise<void> } {
  const prefix = `${name}:${randomUUID()}:`;
  return {
    prefix,
    async drop() {
      const admin = new Redis(REDIS);
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    },
  };
}

export interface OwnedMarkets {
  /** Polymarket condition id and YES token id */
  readonly conditionId: string;
  readonly tokenId: string;
  /** Kalshi market ticker */
  readonly ticker: string;
  readonly kalshiKeyId: string;
}

export interface LiveVenues {
  readonly key: `0x${string}`;
  readonly kalshiPrivateKeyPem: string;
  readonly pm: PolymarketClobFake;
  readonly ks: KalshiTradingFake;
  /** What points `pm-arb run` at both fakes, live (PAPER_TRADING=false), on the Redis bus under `prefix`. */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Both trading fakes, each holding the owned market (Polymarket asks 0.44; Kalshi YES 0.48/0.50, 20 shares deep),
 * a funded account at each, and the Kalshi private key written under `dir`.
 */
export async function startLiveVenues(
  o: OwnedMarkets & { dir: string; prefix: string },
): Promise<LiveVenues> {
  const key = generatePrivateKey();
  const address = privateKeyToAccount(key).address;
  const pm = await startPolymarketClobFake({
    chainId: 137,
    signer: address,
    maker: address,
    collateral: 1_000_000_000,
    markets: [
      {
        conditionId: o.conditionId,
        tokenId: o.tokenId,
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
    keyId: o.kalshiKeyId,
    publicKeyPem: rsa.publicKey,
    balance: 1_000_000_000,
    markets: [{ ticker: o.ticker, yesAsks: [[500_000, 20_000_000]], yesBids: [[480_000, 20_000_000]] }],
  });
  const pem = join(o.dir, `kalshi-${randomUUID()}.pem`);
  writeFileSync(pem, rsa.privateKey, { mode: 0o600 });
  return {
    key,
    kalshiPrivateKeyPem: rsa.privateKey,
    pm,
    ks,
    env: {
      PAPER_TRADING: 'false',
      POLYMARKET_CLOB_URL: pm.url,
      POLYMARKET_WS_USER_URL: pm.wsUrl,
      POLYMARKET_PRIVATE_KEY: key,
      POLYMARKET_API_KEY: pm.credentials.key,
      POLYMARKET_API_SECRET: pm.credentials.secret,
      POLYMARKET_API_PASSPHRASE: pm.credentials.passphrase,
      KALSHI_REST_URL: ks.restUrl,
      KALSHI_WS_URL: ks.wsUrl,
      KALSHI_API_KEY_ID: o.kalshiKeyId,
      KALSHI_PRIVATE_KEY_PATH: pem,
      REDIS_URL: REDIS,
      REDIS_KEY_PREFIX: o.prefix,
    },
    async close() {
      await pm.close();
      await ks.close();
    },
  };
}

/** An owned binary market as the venue watcher would publish it (no fees, no end). */
export function ownedMarket(
  venue: 'polymarket' | 'kalshi',
  marketId: string,
  yes: string,
  no: string,
  question = 'Will the owned test event happen?',
): Market {
  return {
    type: 'market',
    venue,
    marketId,
    question,
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

/** The owned markets of both venues, for the bus: Polymarket YES `tokenId` (NO `${tokenId}9`), Kalshi `ticker`. */
export function ownedMarkets(o: OwnedMarkets, question?: string): [Market, Market] {
  return [
    ownedMarket('polymarket', o.conditionId, o.tokenId, `${o.tokenId}9`, question),
    ownedMarket('kalshi', o.ticker, `${o.ticker}:yes`, `${o.ticker}:no`, question),
  ];
}

/** An approved cross-venue decision: buy 5 Polymarket YES at ≤ 0.45 and 5 Kalshi NO at ≤ 0.53, IOC. */
export function crossVenueDecision(o: OwnedMarkets, requestId: string): RiskDecision {
  return {
    type: 'risk_decision',
    id: `rd-${requestId}`,
    requestId,
    strategy: 'cross-venue',
    verdict: 'approve',
    rule: 'ok',
    reason: 'test',
    legs: [
      {
        venue: 'polymarket',
        marketId: o.conditionId,
        tokenId: o.tokenId,
        side: 'buy',
        limitPrice: 450_000,
        shares: 5_000_000,
      },
      {
        venue: 'kalshi',
        marketId: o.ticker,
        tokenId: `${o.ticker}:no`,
        side: 'buy',
        limitPrice: 530_000,
        shares: 5_000_000,
      },
    ],
    tif: 'IOC',
    decidedAt: Date.now(),
  };
}

/** The test's own kernel on the Redis bus under `prefix`. */
export function testKernel(prefix: string, instance: string): Promise<Kernel> {
  return createKernel({
    config: loadConfig({ ...process.env, REDIS_URL: REDIS, REDIS_KEY_PREFIX: prefix }),
    transport: 'redis',
    instance: `${instance}-${process.pid}`,
    log: silentLogger(),
  });
}

/**
 * The executor's consumer group on a stream, as Redis reports it (XINFO GROUPS: name, entries-read, pending, …),
 * or undefined before the executor made it. Its market groups are its own (`executor@<instance>`).
 */
export async function executorGroup(
  admin: Redis,
  prefix: string,
  channel: string,
): Promise<Record<string, unknown> | undefined> {
  const groups = (await admin.call('XINFO', 'GROUPS', `${prefix}${channel}`).catch(() => [])) as unknown[][];
  for (const g of groups) {
    const f = Object.fromEntries(
      Array.from({ length: g.length / 2 }, (_, i) => [String(g[2 * i]), g[2 * i + 1]]),
    );
    if (String(f.name).startsWith('executor')) return f;
  }
  return undefined;
}

/** True once the executor's group on each stream has read at least one entry and has nothing pending. */
export async function executorTookIn(
  admin: Redis,
  prefix: string,
  streams: readonly string[],
): Promise<boolean> {
  const gs = await Promise.all(streams.map((s) => executorGroup(admin, prefix, s)));
  return gs.every((g) => g !== undefined && Number(g['entries-read']) >= 1 && Number(g.pending) === 0);
}
