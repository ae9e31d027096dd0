import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, ConfigError, loadConfig, SECRET_KEYS } from '../../src/core/config.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('has safe defaults: paper trading, in-process bus, embedded store, servers on 127.0.0.1', () => {
    const c = loadConfig({});
    expect(c.paperTrading).toBe(true);
    expect(c.redisUrl).toBeUndefined();
    expect(c.redisKeyPrefix).toBe('');
    expect(c.databaseUrl).toBeUndefined();
    expect(c.dashboard.host).toBe('127.0.0.1');
    expect(c.dashboard.controlToken).toBeUndefined();
    expect(c.anthropic.apiKey).toBeUndefined();
    expect(c.anthropic.model).toBe('claude-sonnet-5-5');
    expect(c.anthropic.effort).toBe('low');
    expect(loadConfig({ ANTHROPIC_EFFORT: 'default' }).anthropic.effort).toBeUndefined();
    expect(c.risk.initialBankroll).toBe(500_000_000);
    expect(c.risk.drawdownLimitBps).toBe(2_000);
    expect(c.redisStreamMaxLen).toBe(100_000);
  });

  it('treats empty strings as unset and parses exact values', () => {
    const c = loadConfig({
      REDIS_URL: '',
      PAPER_TRADING: 'no',
      INITIAL_BANKROLL: '1250.50',
      DRAWDOWN_LIMIT_PCT: '2.5',
      REDIS_KEY_PREFIX: 'staging:',
      REDIS_URL_UNRELATED: 'ignored',
    });
    expect(c.redisUrl).toBeUndefined();
    expect(c.paperTrading).toBe(false);
    expect(c.risk.initialBankroll).toBe(1_250_500_000);
    expect(c.risk.drawdownLimitBps).toBe(250);
    expect(c.redisKeyPrefix).toBe('staging:');
  });

  it('rejects a bad value naming the variable, the value and what is accepted; every bad one at once', () => {
    const msg = configError({
      DRAWDOWN_LIMIT_PCT: 'abc',
      PAPER_TRADING: 'maybe',
      LOG_LEVEL: 'loud',
      DASHBOARD_PORT: '70000',
    });
    expect(msg).toContain('DRAWDOWN_LIMIT_PCT="abc": expected a percentage greater than 0 and at most 100');
    expect(msg).toContain('PAPER_TRADING="maybe": expected true or false');
    expect(msg).toMatch(/LOG_LEVEL="loud": expected one of .*"info"/);
    expect(msg).toContain('DASHBOARD_PORT="70000": expected a TCP port, 0 to 65535');
    expect(msg).not.toMatch(/expected expected/);
    expect(configError({ REDIS_URL: 'http://127.0.0.1:6379' })).toContain(
      'REDIS_URL="http://127.0.0.1:6379": expected a URL starting with redis:// or rediss:// or unix://',
    );
    expect(configError({ KALSHI_PRIVATE_KEY_PATH: '/nonexistent/key.pem' })).toContain(
      'the path of an existing PEM private-key file',
    );
  });

  it('never prints a secret, nor a password inside a URL', () => {
    const env: Record<string, string> = {
      DRAWDOWN_LIMIT_PCT: '0',
      REDIS_URL: 'redis://:hunter2@db:notaport',
    };
    for (const k of SECRET_KEYS) env[k] = `secret-value-of-${k}`;
    const msg = configError(env);
    expect(msg).toContain('DRAWDOWN_LIMIT_PCT');
    expect(msg).toContain('REDIS_URL');
    expect(msg).not.toContain('hunter2');
    for (const k of SECRET_KEYS) expect(msg).not.toContain(`secret-value-of-${k}`);
  });

  it('returns a deeply frozen object', () => {
    const c = loadConfig({ CONTROL_TOKEN: 't' });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.risk)).toBe(true);
    expect(Object.isFrozen(c.dashboard)).toBe(true);
    expect(() => {
      (c as { paperTrading: boolean }).paperTrading = false;
    }).toThrow(TypeError);
    expect(() => {
      (c.risk as { maxOpenOrders: number }).maxOpenOrders = 1e9;
    }).toThrow(TypeError);
  });

  it('live venue settings: production endpoints and small caps by default; plain http/ws only on loopback', () => {
    const c = loadConfig({});
    expect(c.polymarket.clobUrl).toBe('https://clob.polymarket.com');
    expect(c.polymarket.signatureType).toBe('eoa');
    expect(c.polymarket.chainId).toBe(137);
    expect(c.kalshi.restUrl).toBe('https://external-api.kalshi.com/trade-api/v2');
    expect(c.binance).toEqual({ restUrl: 'https://api.binance.com', wsUrl: 'wss://stream.binance.com:9443' });
    expect(c.live).toEqual({
      maxOrderUsd: 25_000_000,
      maxDailyUsd: 250_000_000,
      requestTimeoutMs: 10_000,
      reconcileIntervalMs: 30_000,
      reconcileHaltShares: 0,
      reconcileHaltCashUsd: 1_000_000,
    });
    const r = loadConfig({
      RECONCILE_INTERVAL_MS: '5000',
      RECONCILE_HALT_SHARES: '2.5',
      RECONCILE_HALT_CASH_USD: '10',
    });
    expect(r.live).toMatchObject({
      reconcileIntervalMs: 5_000,
      reconcileHaltShares: 2_500_000,
      reconcileHaltCashUsd: 10_000_000,
    });
    expect(() => loadConfig({ RECONCILE_HALT_SHARES: '-1' })).toThrow(/RECONCILE_HALT_SHARES/);
    const fake = loadConfig({
      POLYMARKET_CLOB_URL: 'http://127.0.0.1:4321',
      POLYMARKET_WS_USER_URL: 'ws://localhost:4322/ws/user',
      KALSHI_REST_URL: 'http://127.0.0.1:4323/trade-api/v2',
      BINANCE_WS_URL: 'ws://127.0.0.1:4324',
      LIVE_MAX_ORDER_USD: '12.5',
      POLYMARKET_SIGNATURE_TYPE: 'gnosis-safe',
    });
    expect(fake.polymarket.clobUrl).toBe('http://127.0.0.1:4321');
    expect(fake.binance.wsUrl).toBe('ws://127.0.0.1:4324');
    expect(fake.live.maxOrderUsd).toBe(12_500_000);
    expect(fake.polymarket.signatureType).toBe('gnosis-safe');
    const msg = configError({
      POLYMARKET_CLOB_URL: 'http://clob.example.com',
      KALSHI_WS_URL: 'ws://kalshi.example.com/trade-api/ws/v2',
      BINANCE_WS_URL: 'ws://stream.example.com',
      LIVE_MAX_DAILY_USD: '0',
      POLYMARKET_SIGNATURE_TYPE: 'magic',
    });
    expect(msg).toContain(
      'POLYMARKET_CLOB_URL="http://clob.example.com": expected a URL starting with https://',
    );
    expect(msg).toContain('KALSHI_WS_URL');
    expect(msg).toContain('BINANCE_WS_URL');
    expect(msg).toContain('LIVE_MAX_DAILY_USD="0": expected a positive dollar amount');
    expect(msg).toContain('POLYMARKET_SIGNATURE_TYPE');
  });

  it('.env.example lists every setting', () => {
    const text = readFileSync(`${ROOT}.env.example`, 'utf8');
    const listed = new Set([...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    const missing = CONFIG_KEYS.filter((k) => !listed.has(k));
    expect(missing).toEqual([]);
    expect(existsSync(`${ROOT}.env.example`)).toBe(true);
  });
});
