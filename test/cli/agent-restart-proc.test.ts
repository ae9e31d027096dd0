/**
 * Issue 12, "done when": a standalone `pm-arb agent risk-guardian` started on a halted store reports halted with
 * the stored equity. Before, `pm-arb agent` restored nothing: the guardian came up with the starting bankroll
 * (and, with the halt only in the store, running). A real process on Redis (a key prefix of its own) and
 * PostgreSQL (a schema of its own); its heartbeat on the bus says what it restored.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisBus } from '../../src/core/bus/redis.ts';
import { channels } from '../../src/core/channels.ts';
import { wallClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { Heartbeat } from '../../src/core/messages.ts';
import { openDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { mapMessage } from '../../src/store/rows.ts';
import { writeSystemState } from '../../src/store/system-state.ts';
import { BatchWriter } from '../../src/store/writer.ts';
import { $, fill, sh } from '../risk/fixtures.ts';
import { TEST_PG_URL, testSchema } from '../store/pg.ts';

const root = join(import.meta.dirname, '..', '..');
const REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:agent-restart:${randomBytes(4).toString('hex')}:`;
const schema = testSchema('agentrestart');
const procs: ChildProcess[] = [];

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  const admin = new Redis(REDIS);
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
  const db = await openDb({ url: TEST_PG_URL, schema });
  await db.exec(`DROP SCHEMA ${schema} CASCADE`);
  await db.close();
});

describe('pm-arb agent risk-guardian on a halted store', () => {
  it('comes up halted, with the stored equity, not the bankroll', async () => {
    const db = await openDb({ url: TEST_PG_URL, schema });
    try {
      await migrate(db);
      // before the restart: 100 shares bought at 0.40 (cash $460), last marked at 0.55 → equity $515
      const w = new BatchWriter({ db, clock: wallClock(), flushIntervalMs: 1 });
      const now = Date.now();
      for (const [id, body] of [
        ['f', fill({ id: 'fill-x', side: 'buy', price: $(0.4), shares: sh(100), ts: now - 60_000 })],
        [
          'p',
          {
            type: 'position' as const,
            venue: 'polymarket' as const,
            marketId: 'm1',
            tokenId: 'm1-yes',
            strategy: 's1',
            shares: sh(100),
            costBasis: $(40),
            realizedPnl: 0,
            mark: $(0.55),
            unrealizedPnl: $(15),
            ts: now - 1_000,
          },
        ],
      ] as const) {
        const m = mapMessage(id, body);
        w.add(m.rows, m.state);
      }
      await w.flush();
      await writeSystemState(db, {
        halted: true,
        haltReason: 'operator: before the restart',
        haltedAt: now - 500,
      });
    } finally {
      await db.close();
    }

    const observer = createRedisBus({ url: REDIS, name: 'observer', keyPrefix: prefix, log: silentLogger() });
    const beats: Heartbeat[] = [];
    observer.subscribe(channels.health, { group: 'observer', from: 'start' }, (m) => {
      if (m.body.agent === 'risk-guardian') beats.push(m.body);
    });
    let stderr = '';
    const p = spawn(
      process.execPath,
      [join(root, 'bin', 'pm-arb.js'), 'agent', 'risk-guardian', '--heartbeat-ms', '500'],
      {
        cwd: root,
        env: {
          ...process.env,
          INITIAL_BANKROLL: '500',
          DATABASE_URL: `${TEST_PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
          REDIS_URL: REDIS,
          REDIS_KEY_PREFIX: prefix,
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    procs.push(p);
    p.stderr?.on('data', (c: Buffer) => {
      stderr += String(c);
    });
    p.stdout?.on('data', (c: Buffer) => {
      stderr += String(c);
    });
    try {
      const end = Date.now() + 120_000;
      while (!beats.some((b) => b.state === 'halted' && b.details.equity !== undefined)) {
        if (Date.now() > end || p.exitCode !== null)
          throw new Error(
            `no halted heartbeat from the guardian (exit ${p.exitCode}): ${stderr.slice(-2000)}`,
          );
        await new Promise((r) => setTimeout(r, 100));
      }
      const beat = beats.find((b) => b.state === 'halted')!;
      expect(beat.details.equity).toBe($(515));
      expect(stderr).toContain('restored 1 fills, 0 pending decisions, HALTED');
    } finally {
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
      await observer.close();
    }
  }, 180_000);
});
