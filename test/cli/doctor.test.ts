/**
 * `pm-arb doctor` as the real command against local fakes: Kalshi (signed /portfolio/balance, /exchange/status),
 * Polymarket (CLOB /time, L2-signed /balance-allowance, Gamma), Binance (/api/v3/time), Anthropic (models),
 * Pushover and a webhook (test alert), a Redis of its own with AOF on, PostgreSQL in a fresh schema. Everything
 * configured → every line ok, exit 0. The same Redis stopped → the redis line fails with the fix, exit 1. And a
 * few failures checked in-process: a wrong key, pending migrations, a missing allowance.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CONFIG_KEYS } from '../../src/core/config.ts';
import { runDoctor } from '../../src/ops/doctor/run.ts';
import { openDb } from '../../src/store/db.ts';
import { MIGRATIONS, migrate } from '../../src/store/migrations.ts';
import { addressFromPrivateKey } from '../../src/venues/polymarket/auth.ts';
import { type FakeAnthropic, startFakeAnthropic } from '../fakes/anthropic-server.ts';
import { type BinanceFake, startBinanceFake } from '../fakes/binance-server.ts';
import { type KalshiFake, startKalshiFake } from '../fakes/kalshi-server.ts';
import { type FakePolymarket, startFakePolymarket } from '../fakes/polymarket-server.ts';
import { type FakePushover, startFakePushover, startFakeWebhook } from '../fakes/pushover-server.ts';
import { freePort, waitForPort } from '../helpers/net.ts';
import { TEST_PG_URL, testSchema } from '../store/pg.ts';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function doctor(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  // only what the test sets: nothing from the machine's own configuration leaks in
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !CONFIG_KEYS.includes(k)));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/pm-arb.js', 'doctor', ...args],
      { cwd: ROOT, env: { ...base, ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('pm-arb doctor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pmarb-doctor-'));
  const schema = testSchema('doctor');
  const pgUrl = `${TEST_PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  let kalshi: KalshiFake;
  let poly: FakePolymarket;
  let binance: BinanceFake;
  let anthropic: FakeAnthropic;
  let pushover: FakePushover;
  let hook: Awaited<ReturnType<typeof startFakeWebhook>>;
  let redis: ChildProcess;
  let redisPort: number;
  let env: Record<string, string>;

  beforeAll(async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyPath = join(dir, 'kalshi.pem');
    writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    kalshi = await startKalshiFake({
      keyId: 'kalshi-key-1',
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      markets: [],
      balance: { balance: 1_234_56, portfolio_value: 50_00 },
    });
    const walletKey = `0x${randomBytes(32).toString('hex')}`;
    const creds = {
      apiKey: 'poly-key',
      secret: randomBytes(32).toString('base64url'),
      passphrase: 'poly-pass',
    };
    poly = await startFakePolymarket({
      markets: [],
      account: {
        ...creds,
        address: addressFromPrivateKey(walletKey),
        balance: '250000000',
        allowances: {
          '0xExchangeV2': '115792089237316195423570985008687907853269984665640564039457584007913129639935',
        },
      },
    });
    binance = await startBinanceFake();
    anthropic = await startFakeAnthropic(undefined, { apiKey: 'sk-ant-test', models: ['claude-sonnet-5-5'] });
    pushover = await startFakePushover({ token: 'p'.repeat(30), user: 'u'.repeat(30) });
    hook = await startFakeWebhook();

    redisPort = await freePort();
    redis = spawn(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--appendonly', 'yes', '--save', '', '--dir', dir],
      {
        stdio: 'ignore',
      },
    );
    // connect() rejects on a refused first attempt whatever the retry strategy: wait for the port first
    await waitForPort(redisPort);
    const probe = new Redis({ port: redisPort, lazyConnect: true, maxRetriesPerRequest: 3 });
    await probe.connect();
    await probe.ping();
    probe.disconnect();

    const db = await openDb({ url: TEST_PG_URL, schema });
    await migrate(db);
    await db.close();

    env = {
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      DATABASE_URL: pgUrl,
      DATA_DIR: join(dir, 'data'),
      KALSHI_REST_URL: kalshi.restUrl,
      KALSHI_API_KEY_ID: 'kalshi-key-1',
      KALSHI_PRIVATE_KEY_PATH: keyPath,
      POLYMARKET_CLOB_URL: poly.clobUrl,
      POLYMARKET_GAMMA_URL: poly.gammaUrl,
      POLYMARKET_API_KEY: creds.apiKey,
      POLYMARKET_API_SECRET: creds.secret,
      POLYMARKET_API_PASSPHRASE: creds.passphrase,
      POLYMARKET_PRIVATE_KEY: walletKey,
      BINANCE_API_URL: binance.restUrl,
      ANTHROPIC_API_KEY: 'sk-ant-test',
      ANTHROPIC_BASE_URL: anthropic.url,
      PUSHOVER_USER_KEY: 'u'.repeat(30),
      PUSHOVER_API_TOKEN: 'p'.repeat(30),
      PUSHOVER_API_URL: pushover.url,
      ALERT_WEBHOOK_URL: hook.url,
      LOG_LEVEL: 'warn',
    };
  });

  afterAll(async () => {
    redis?.kill('SIGKILL');
    await Promise.all([
      kalshi?.close(),
      poly?.close(),
      binance?.close(),
      anthropic?.close(),
      pushover?.close(),
      hook?.close(),
    ]);
    const db = await openDb({ url: TEST_PG_URL });
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('against the fakes: every line ok, a test alert delivered to each channel, exit 0', async () => {
    const r = await doctor(['--send-test-alert'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const checkLines = lines.slice(1, -1);
    expect(checkLines.length).toBeGreaterThanOrEqual(14);
    for (const l of checkLines) expect(l).toMatch(/^ {2}ok {4}/);
    for (const name of [
      'config',
      'redis',
      'database',
      'migrations',
      'disk',
      'kalshi',
      'kalshi.clock',
      'kalshi.auth',
      'polymarket',
      'polymarket.clock',
      'polymarket.gamma',
      'polymarket.auth',
      'binance',
      'binance.clock',
      'anthropic',
      'alerts.pushover',
      'alerts.webhook',
    ])
      expect(checkLines.some((l) => l.split(/\s+/)[2] === name)).toBe(true);
    expect(r.stdout).toContain('balance $1234.56');
    expect(r.stdout).toContain('pUSD balance $250');
    expect(r.stdout).toMatch(/0 fail, 0 warn, \d+ ok, 0 skipped/);
    expect(pushover.messages.map((m) => m.title)).toContain('pm-arb test alert');
    expect(hook.bodies.some((b) => String(b.body.text).includes('pm-arb test alert'))).toBe(true);

    const j = await doctor(['--json'], env);
    expect(j.code).toBe(0);
    const report = JSON.parse(j.stdout) as { ok: boolean; checks: { name: string; status: string }[] };
    expect(report.ok).toBe(true);
    // without --send-test-alert the webhook is not exercised; Pushover's credentials are validated without a message
    expect(report.checks.find((c) => c.name === 'alerts.webhook')?.status).toBe('skip');
    expect(report.checks.find((c) => c.name === 'alerts.pushover')?.status).toBe('ok');
  });

  it('with its Redis stopped: the redis line fails with the fix, exit 1', async () => {
    const exited = new Promise((r) => redis.once('exit', r));
    redis.kill('SIGTERM');
    await exited;
    const r = await doctor([], env);
    expect(r.code).toBe(1);
    const line = r.stdout.split('\n').findIndex((l) => /^ {2}fail {2}redis/.test(l));
    expect(line).toBeGreaterThan(0);
    expect(r.stdout.split('\n')[line]).toContain(`cannot reach Redis at redis://127.0.0.1:${redisPort}`);
    expect(r.stdout.split('\n')[line + 1]).toMatch(/^\s+fix: start Redis/);
    expect(r.stdout).toMatch(/1 fail, .* — fix the failures above before trading/);
  });

  it('names wrong credentials and pending migrations, each with its fix', async () => {
    const fresh = testSchema('doctor_old');
    const old = await openDb({ url: TEST_PG_URL, schema: fresh });
    await migrate(old, MIGRATIONS.slice(0, 1)); // a store left at version 1
    await old.close();
    const r = await runDoctor({
      env: {
        ...env,
        REDIS_URL: '',
        DATABASE_URL: `${TEST_PG_URL}?options=${encodeURIComponent(`-c search_path=${fresh}`)}`,
        KALSHI_API_KEY_ID: 'someone-else',
        ANTHROPIC_API_KEY: 'sk-ant-wrong',
        POLYMARKET_API_PASSPHRASE: 'wrong',
        ALERT_WEBHOOK_URL: '',
        PUSHOVER_API_TOKEN: 'x'.repeat(30),
      },
      timeoutMs: 5_000,
    });
    const by = (n: string) => r.checks.find((c) => c.name === n);
    expect(r.ok).toBe(false);
    expect(by('redis')?.status).toBe('skip');
    const later = MIGRATIONS.slice(1)
      .map((m) => `${m.version} ${m.name}`)
      .join(', ');
    expect(by('migrations')).toEqual({
      name: 'migrations',
      status: 'fail',
      detail: `${MIGRATIONS.length - 1} pending: ${later}`,
      fix: expect.stringContaining('pm-arb db migrate'),
    });
    const failures: [string, Record<string, unknown>][] = [
      ['kalshi.auth', { fix: expect.stringContaining('KALSHI_API_KEY_ID') }],
      ['polymarket.auth', { fix: expect.stringContaining('derive the API key') }],
      ['anthropic', { detail: expect.stringContaining('rejected (HTTP 401)') }],
      ['alerts.pushover', { detail: expect.stringContaining('application token is invalid') }],
    ];
    for (const [name, want] of failures) expect(by(name)).toMatchObject({ status: 'fail', ...want });
    const db = await openDb({ url: TEST_PG_URL });
    await db.exec(`DROP SCHEMA IF EXISTS ${fresh} CASCADE`);
    await db.close();
  });
});
