/**
 * Kill and restart, with real processes on PostgreSQL and Redis: a trading process (recovery-trader.ts: a
 * deterministic paper-trading run with its own ledger, restoring from loadRecoveryState on start) and the real
 * persister agent (recovery-persister.ts) are SIGKILLed in the middle of the run; the persister is started again
 * and drains what the dead one left (unacked entries reclaimed, unread ones read), the trader is started again,
 * restores from the store and trades on to its halt; then both are killed once more and restarted after the halt.
 *
 * Asserted against the same run never interrupted: every fill exactly once, in order; positions, cash, P&L (from
 * a ledger rebuilt from the stored fills and from the positions table), high-water mark, daily-loss window, halt
 * state and reason, and the latest allocation — and what each restarted trader restored equals the uninterrupted
 * run's state at that point.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channels } from '../../src/core/channels.ts';
import { type Db, openDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { latestPositions, loadRecoveryState } from '../../src/store/queries.ts';
import { dailyWindowStart } from '../../src/store/system-state.ts';
import { TEST_PG_URL, testSchema } from './pg.ts';
import {
  allocationMsg,
  applyFill,
  equityMsg,
  HALT_REASON,
  newState,
  nextFill,
  runToEnd,
  type SimState,
  type Summary,
  summary,
} from './recovery-sim.ts';

const root = join(import.meta.dirname, '..', '..');
const HALT_AT = 1_200;
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(what: string, cond: () => Promise<boolean> | boolean, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The uninterrupted run's state after `fills` fills (allocation and high-water mark as they were then). */
function expectedAt(fills: number): Summary {
  const s: SimState = newState();
  while (s.i < fills) {
    applyFill(s, nextFill(s, HALT_AT));
    equityMsg(s);
    if (s.i % 100 === 0) allocationMsg(s);
  }
  return summary(s);
}

describe('kill -9 and restart on PostgreSQL + Redis', () => {
  const schema = testSchema('recovery');
  const prefix = `test:store-recovery:${randomBytes(4).toString('hex')}:`;
  const stateDir = mkdtempSync(join(tmpdir(), 'pm-arb-recovery-'));
  const procs: ChildProcess[] = [];
  let db: Db;
  let redis: Redis;
  const env = {
    ...process.env,
    DATABASE_URL: `${TEST_PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    HALT_AT: String(HALT_AT),
    STEP_DELAY_MS: '2',
    STATE_DIR: stateDir,
    LOG_LEVEL: 'warn',
  };

  const start = (script: string): ChildProcess => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, script)], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    p.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.length > 20_000) err = err.slice(-10_000);
    });
    p.on('exit', (code, signal) => {
      if (code !== 0 && code !== null && signal === null)
        process.stderr.write(`${script} exited ${code}: ${err}\n`);
    });
    procs.push(p);
    return p;
  };
  const startPersister = async (): Promise<ChildProcess> => {
    const p = start('recovery-persister.ts');
    await new Promise<void>((resolve, reject) => {
      p.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) resolve();
      });
      p.on('exit', (code) => reject(new Error(`persister exited ${code} before ready`)));
    });
    return p;
  };
  const kill9 = async (p: ChildProcess): Promise<void> => {
    if (p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGKILL');
    await gone;
  };
  const count = async (table: string): Promise<number> =>
    Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
  const filesOf = (kind: 'restored' | 'done', pid: number): Summary | undefined => {
    const f = join(stateDir, `${kind}-${pid}.json`);
    return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Summary) : undefined;
  };

  /** Every persisted stream read and acked by the persister group. */
  const drained = async (): Promise<boolean> => {
    for (const ch of [
      channels.fills,
      channels.positions,
      channels.equity,
      channels.allocations,
      channels.system,
    ]) {
      const key = prefix + ch.name;
      if (!(await redis.exists(key))) continue;
      const groups = (await redis.xinfo('GROUPS', key)) as unknown[][];
      const g = groups.map((row) => {
        const o: Record<string, unknown> = {};
        for (let i = 0; i < row.length; i += 2) o[String(row[i])] = row[i + 1];
        return o;
      });
      const mine = g.find((x) => x.name === 'persister');
      if (!mine || Number(mine.pending) !== 0 || Number(mine.lag) !== 0) return false;
    }
    return true;
  };

  /** Fill ids in the Redis fills stream, in stream order (what the trader published). */
  const publishedFillIds = async (): Promise<string[]> => {
    const entries = (await redis.xrange(prefix + channels.fills.name, '-', '+')) as [string, string[]][];
    return entries.map(([, fields]) => {
      const d = fields[fields.indexOf('d') + 1]!;
      return (JSON.parse(d) as { id: string }).id;
    });
  };

  beforeAll(async () => {
    db = await openDb({ url: TEST_PG_URL, schema });
    await migrate(db);
    redis = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    for (const p of procs) await kill9(p);
    if (redis) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
    if (db) {
      await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await db.close();
    }
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('restores positions, cash, P&L, high-water mark, daily loss, halt and allocations exactly; no fill lost or doubled', async () => {
    const expected = runToEnd(HALT_AT);
    const final = summary(expected.state);
    expect(final.fills).toBe(HALT_AT);

    // --- run 1: killed mid-run
    const p1 = await startPersister();
    const t1 = start('recovery-trader.ts');
    await until('300 fills stored', async () => (await count('fills')) >= 300);
    // the persister dies first (mid-batch: its last messages delivered, not committed), the trader runs on a
    // little and dies too, so the kill surely leaves messages both unacked and unread
    await kill9(p1);
    const storedAtKill = await count('fills');
    await until(
      'the trader to publish on',
      async () => (await publishedFillIds()).length > storedAtKill + 20,
    );
    await kill9(t1);
    const publishedAtKill = await publishedFillIds();
    expect(filesOf('done', t1.pid!)).toBeUndefined(); // it really was mid-run
    expect(publishedAtKill.length).toBeLessThan(HALT_AT);
    // the store was behind the bus when the processes died: the rest was in flight
    expect(storedAtKill).toBeLessThan(publishedAtKill.length);
    const pendingAtKill = (await redis.xpending(prefix + channels.fills.name, 'persister')) as [
      number,
      ...unknown[],
    ];
    process.stderr.write(
      `recovery: at the kill ${storedAtKill} of ${publishedAtKill.length} published fills stored, ${pendingAtKill[0]} delivered unacked\n`,
    );
    const restored1 = filesOf('restored', t1.pid!);
    expect(restored1).toEqual(expectedAt(0));

    // --- run 2: the persister comes back and drains what the dead one left, then the trader restores
    const p2 = await startPersister();
    await until('persister drained', drained);
    // every stored fill (the persister may have written a ledger snapshot meanwhile)
    const stored = await loadRecoveryState(db, { snapshot: false });
    expect(stored.fills.map((f) => f.id)).toEqual(publishedAtKill); // nothing lost at the kill, nothing doubled
    const t2 = start('recovery-trader.ts');
    await until('trader 2 halted', () => filesOf('done', t2.pid!) !== undefined);
    const restored2 = filesOf('restored', t2.pid!)!;
    expect(restored2.fills).toBe(publishedAtKill.length);
    expect(restored2).toEqual(expectedAt(publishedAtKill.length));
    expect(filesOf('done', t2.pid!)).toEqual(final);
    await until(
      'persister drained after the run',
      async () => (await drained()) && (await count('fills')) === HALT_AT,
    );

    // --- run 3: killed again after the halt; restarted, the trader restores a halted state and trades no more
    await kill9(p2);
    await startPersister();
    const t3 = start('recovery-trader.ts');
    await until('trader 3 done', () => filesOf('done', t3.pid!) !== undefined);
    expect(filesOf('restored', t3.pid!)).toEqual(final);
    await until('persister drained after restart', drained);

    // --- the store against the uninterrupted run
    const rec = await loadRecoveryState(db, { snapshot: false });
    const expectedFills = expected.out.filter((o) => o.channel === 'fills').map((o) => o.body);
    expect(rec.fills).toEqual(expectedFills);
    expect(await count('fills')).toBe(HALT_AT);

    const rebuilt = newState();
    for (const f of rec.fills) applyFill(rebuilt, f);
    rebuilt.highWaterMark = rec.highWaterMark!;
    rebuilt.halted = rec.halted;
    rebuilt.haltReason = rec.haltReason;
    rebuilt.allocation = rec.allocations?.allocations ?? null;
    expect(summary(rebuilt)).toEqual(final);

    const positions = await latestPositions(db, { includeClosed: true });
    expect(
      positions
        .map((p) => ({
          strategy: p.strategy!,
          tokenId: p.tokenId,
          shares: p.shares,
          cost: p.costBasis,
          realized: p.realizedPnl,
        }))
        .sort((a, b) => (a.strategy + a.tokenId < b.strategy + b.tokenId ? -1 : 1)),
    ).toEqual(final.positions);

    expect(rec.halted).toBe(true);
    expect(rec.haltReason).toBe(HALT_REASON);
    expect(rec.highWaterMark).toBe(final.highWaterMark);
    expect(rec.lastEquity?.equity).toBe(final.equity);
    expect(rec.allocations?.allocations).toEqual(final.allocation);
    const equities = expected.out
      .filter((o) => o.channel === 'equity')
      .map((o) => o.body as { equity: number; ts: number });
    const lastTs = equities[equities.length - 1]!.ts;
    const window = dailyWindowStart(lastTs, 0);
    const dayStart = equities.find((e) => e.ts >= window)!;
    expect(window).toBeGreaterThan(equities[0]!.ts); // the run crossed midnight
    expect(rec.dailyLoss).toEqual({
      windowStart: window,
      startEquity: dayStart.equity,
      loss: Math.max(0, dayStart.equity - final.equity),
    });
    // equity snapshots and allocations carry deterministic message ids: republished ones were not stored twice
    expect(await count('equity_snapshots')).toBe(HALT_AT);
    expect(readdirSync(stateDir).filter((f) => f.startsWith('restored-'))).toHaveLength(3);
  }, 240_000);
});
