/**
 * The README's distributed example, run: every agent of `pm-arb run` as its own `pm-arb agent` process
 * (distributedAgents(), the list the README shows) on Redis Streams (a key prefix of its own) and PostgreSQL (a
 * schema of its own), on the simulated market. The processes start at their own pace, the venue watchers usually
 * long before the matcher is up; the system must still trade: a fill reaches the store.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { distributedAgents } from '../../src/app/assemble.ts';
import { type Db, openDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { TEST_PG_URL, testSchema } from '../store/pg.ts';

const root = join(import.meta.dirname, '..', '..');
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('the distributed example (README): every agent its own process', () => {
  const schema = testSchema('distributed');
  const prefix = `test:distributed:${randomBytes(4).toString('hex')}:`;
  const dataDir = mkdtempSync(join(tmpdir(), 'pm-arb-distributed-'));
  const procs: ChildProcess[] = [];
  let db: Db | undefined;

  afterAll(async () => {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((r) => {
            if (p.exitCode !== null || p.signalCode !== null) return r();
            p.once('exit', () => r());
            p.kill('SIGTERM');
          }),
      ),
    );
    if (db) {
      await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await db.close();
    }
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('starts every agent run starts, each on its own, and trades: a fill is stored', async () => {
    const agents = distributedAgents('sim');
    // every consumer and every feed of `pm-arb run --feeds sim`
    expect(agents.map((a) => a.join(' '))).toEqual(
      expect.arrayContaining([
        'market-matcher',
        'opportunity-scanner',
        'strategy-runner',
        'risk-guardian',
        'executor',
        'capital-allocator',
        'persister',
        'venue-watcher --opt venue=polymarket --opt feeds=sim',
        'venue-watcher --opt venue=kalshi --opt feeds=sim',
        'oracle --opt source=binance --opt feeds=sim',
        'oracle --opt source=chainlink --opt feeds=sim',
      ]),
    );
    db = await openDb({ url: TEST_PG_URL, schema });
    await migrate(db);
    const env = {
      ...process.env,
      DATABASE_URL: `${TEST_PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'error',
    };
    // the feeds first: the consumers join later, as they would when started by hand
    const order = [...agents.filter((a) => a.length > 1), ...agents.filter((a) => a.length === 1)];
    for (const a of order) {
      const p = spawn(process.execPath, [join(root, 'bin', 'pm-arb.js'), 'agent', ...a], {
        cwd: root,
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      p.stderr?.resume();
      procs.push(p);
    }
    const fills = async (): Promise<number> =>
      Number((await db!.query<{ n: string }>('SELECT count(*) AS n FROM fills')).rows[0]!.n);
    const end = Date.now() + 240_000;
    while ((await fills()) === 0) {
      const dead = procs.find((p) => p.exitCode !== null);
      if (dead) throw new Error(`an agent process exited (${dead.exitCode}) before anything traded`);
      if (Date.now() > end) throw new Error('no fill stored within 240 s');
      await sleep(500);
    }
    expect(await fills()).toBeGreaterThan(0);
  }, 300_000);
});
