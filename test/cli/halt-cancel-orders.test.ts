/**
 * `pm-arb halt --cancel-orders`: every open order on both venues is cancelled straight through the venue APIs
 * (here the fake Polymarket CLOB and the fake Kalshi), with no bus and no trading process.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { clientOrderId } from '../../src/execution/ids.ts';
import { startKalshiTradingFake } from '../fakes/kalshi-trading-fake.ts';
import { startPolymarketClobFake } from '../fakes/polymarket-clob-fake.ts';
import { fakeOrderClients } from '../helpers/order-clients.ts';

const TOKEN = '71321045679252212594626385532706912750332728571942532289631379312455583992563';
const T = 'KXTEST-1';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function run(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number; out: string; err: string }> {
  const saved = { ...process.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const out: string[] = [];
  const err: string[] = [];
  const w1 = process.stdout.write;
  const w2 = process.stderr.write;
  process.stdout.write = ((c: string | Uint8Array) => out.push(String(c)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => err.push(String(c)) > 0) as typeof process.stderr.write;
  const exitBefore = process.exitCode;
  try {
    const code = await main(args);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
    process.exitCode = exitBefore;
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

async function venues() {
  const key = generatePrivateKey();
  const address = privateKeyToAccount(key).address;
  const pm = await startPolymarketClobFake({
    chainId: 137,
    signer: address,
    maker: address,
    collateral: 1_000_000_000,
    markets: [{ conditionId: '0xc1', tokenId: TOKEN, protocol: 'v1', tickSize: 10_000, minSize: 1_000_000 }],
  });
  const rsa = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const ks = await startKalshiTradingFake({
    keyId: 'kid',
    publicKeyPem: rsa.publicKey,
    balance: 1_000_000_000,
    markets: [{ ticker: T }],
  });
  const dir = mkdtempSync(join(tmpdir(), 'pmarb-halt-'));
  const pem = join(dir, 'kalshi.pem');
  writeFileSync(pem, rsa.privateKey, { mode: 0o600 });
  cleanups.push(async () => {
    await pm.close();
    await ks.close();
  });
  const { pmc, ksc, close } = fakeOrderClients({
    pm,
    ks,
    key,
    kalshiKeyId: 'kid',
    kalshiPrivateKeyPem: rsa.privateKey,
  });
  cleanups.push(close);
  const base = {
    requestId: 'r',
    legIndex: 0,
    side: 'buy' as const,
    type: 'GTC' as const,
    createdAt: Date.now(),
    tickSize: 10_000,
  };
  for (const [i, price] of [200_000, 210_000].entries()) {
    await pmc.submit({
      ...base,
      clientOrderId: clientOrderId(`p${i}`, 0),
      venue: 'polymarket',
      marketId: '0xc1',
      tokenId: TOKEN,
      limitPrice: price,
      shares: 5_000_000,
      polymarket: { protocol: 'v1', negRisk: false },
    });
    await ksc.submit({
      ...base,
      clientOrderId: clientOrderId(`k${i}`, 0),
      venue: 'kalshi',
      marketId: T,
      tokenId: `${T}:yes`,
      limitPrice: price,
      shares: 5_000_000,
    });
  }
  const env = {
    POLYMARKET_CLOB_URL: pm.url,
    POLYMARKET_PRIVATE_KEY: key,
    POLYMARKET_API_KEY: pm.credentials.key,
    POLYMARKET_API_SECRET: pm.credentials.secret,
    POLYMARKET_API_PASSPHRASE: pm.credentials.passphrase,
    KALSHI_REST_URL: ks.restUrl,
    KALSHI_API_KEY_ID: 'kid',
    KALSHI_PRIVATE_KEY_PATH: pem,
    REDIS_URL: undefined,
    LOG_LEVEL: 'warn',
  };
  return { pm, ks, pmc, ksc, env };
}

describe('pm-arb halt --cancel-orders', () => {
  it('cancels every open order on both venues without the bus', async () => {
    const { pm, ks, pmc, ksc, env } = await venues();
    expect((await pmc.openOrders()).length + (await ksc.openOrders()).length).toBe(4);
    const r = await run(['halt', '--cancel-orders', '--reason', 'test'], env);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('polymarket: cancelled 2 order(s); no open orders left');
    expect(r.out).toContain('kalshi: cancelled 2 order(s); no open orders left');
    expect(r.out).toContain('no HALT_ALL sent to agents');
    expect(await pmc.openOrders()).toEqual([]);
    expect(await ksc.openOrders()).toEqual([]);
    expect([...pm.orders.values()].every((o) => o.status === 'ORDER_STATUS_CANCELED')).toBe(true);
    expect([...ks.orders.values()].every((o) => o.status === 'canceled')).toBe(true);
    // no secret in what a person reads
    expect(r.out).not.toContain(pm.credentials.secret);
  });

  it('a venue that cannot be reached is reported and the exit code says so; the other venue is still cleared', async () => {
    const { ksc, env, pm } = await venues();
    await pm.close();
    const r = await run(['halt', '--cancel-orders'], env);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/polymarket: cancelled 0 order\(s\); FAILED: /);
    expect(r.out).toContain('kalshi: cancelled 2 order(s); no open orders left');
    expect(await ksc.openOrders()).toEqual([]);
  });

  it('without any venue credentials it says what to set (exit 2)', async () => {
    const r = await run(['halt', '--cancel-orders'], {
      POLYMARKET_PRIVATE_KEY: undefined,
      POLYMARKET_API_KEY: undefined,
      KALSHI_API_KEY_ID: undefined,
      KALSHI_PRIVATE_KEY_PATH: undefined,
      REDIS_URL: undefined,
    });
    expect(r.code).toBe(2);
    expect(r.err).toContain('no venue credentials to cancel orders with');
    expect(r.err).toContain('polymarket: set POLYMARKET_PRIVATE_KEY');
    expect(r.err).toContain('kalshi: set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH');
  });
});
