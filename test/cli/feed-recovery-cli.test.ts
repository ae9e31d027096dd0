/**
 * `pm-arb agent venue-watcher` with its venue down: the process keeps running, retries the feed with fresh
 * sources (never `ClientDestroyedError`), and a SIGTERM stops it with exit code 0.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createTcpGate } from '../fakes/tcp-gate.ts';

const BIN = resolve('bin/pm-arb.js');
const REDIS = 'redis://127.0.0.1:6379';
const prefix = `feedrec:${randomUUID()}:`;

afterAll(async () => {
  const r = new Redis(REDIS);
  const keys = await r.keys(`${prefix}*`);
  if (keys.length > 0) await r.del(...keys);
  r.disconnect();
});

describe('pm-arb agent venue-watcher, venue down', () => {
  it('keeps retrying with fresh sources and exits 0 on SIGTERM', async () => {
    const gate = await createTcpGate(1); // never opened: connections refused
    const env = {
      ...process.env,
      LOG_LEVEL: 'warn',
      DATA_DIR: join(mkdtempSync(join(tmpdir(), 'pmarb-feedrec-')), 'data'),
      REDIS_URL: REDIS,
      REDIS_KEY_PREFIX: prefix,
      POLYMARKET_GAMMA_URL: gate.url('http'),
      POLYMARKET_CLOB_URL: gate.url('http'),
      POLYMARKET_WS_MARKET_URL: gate.url('ws'),
    };
    const child = spawn(
      process.execPath,
      [BIN, 'agent', 'venue-watcher', '--opt', 'venue=polymarket', '--opt', 'feeds=live'],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    let sent = false;
    const retries = () => stderr.match(/feed failed; retrying/g)?.length ?? 0;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && retries() >= 2) {
        sent = true;
        child.kill('SIGTERM');
      }
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 50_000);
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    clearTimeout(guard);
    expect(retries(), stderr).toBeGreaterThanOrEqual(2);
    expect(stderr).toMatch(/ECONNREFUSED/);
    expect(stderr).not.toMatch(/ClientDestroyed|uncaught|unhandled/i);
    expect(code, stderr).toBe(0);
  }, 60_000);
});
