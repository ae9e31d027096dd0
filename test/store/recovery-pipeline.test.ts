/**
 * The real pipeline across a SIGKILL: `pm-arb run --feeds sim --bus redis` (matcher, scanner, strategies, risk
 * guardian, paper executor, allocator) and `pm-arb agent persister`, both real CLI processes on Redis and
 * PostgreSQL. Mid-run an operator halts (`pm-arb halt`), then the persister is SIGKILLed while the pipeline runs
 * on, then the pipeline too. The persister is started again and drains what was left; then the pipeline is
 * started again with restart recovery wired in (recovery-pipeline-proc.ts: the same agents, with the risk
 * guardian, executor and allocator built from restoreStates(loadRecoveryState(db))); both run on and are stopped.
 *
 * Asserted: everything the pipeline published on the Redis streams — opportunities, trade requests, risk
 * decisions, orders, fills, execution reports, equity snapshots, allocations — is in the store exactly once
 * (nothing lost at the kill, nothing doubled by redelivery); the restarted risk guardian holds exactly the
 * positions, cash flow and realized P&L of a ledger built from every fill published before the kill, the
 * high-water mark, the latest allocation (guardian and allocator) and the halt (kill switch on: no new fill);
 * the halt and its reason are in the store; the ledger rebuilt from the stored fills equals the one from the bus.
 *
 * Not covered: `pm-arb run` itself does not restore at start yet; recovery-pipeline-proc.ts shows the wiring.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Channel, channels } from '../../src/core/channels.ts';
import { loadConfig } from '../../src/core/config.ts';
import type { Allocation, EquitySnapshot, Fill } from '../../src/core/messages.ts';
import { type Db, openDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { loadRecoveryState } from '../../src/store/queries.ts';
import { rebuildLedger } from '../../src/store/restore.ts';
import { TEST_PG_URL, testSchema } from './pg.ts';

const root = join(import.meta.dirname, '..', '..');
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(what: string, cond: () => Promise<boolean> | boolean, ms = 180_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('pm-arb run + pm-arb agent persister, SIGKILL and restart', () => {
  const schema = testSchema('pipeline');
  const prefix = `test:store-pipeline:${randomBytes(4).toString('hex')}:`;
  const procs: ChildProcess[] = [];
  const stateDir = mkdtempSync(join(tmpdir(), 'pm-arb-pipeline-'));
  let db: Db;
  let redis: Redis;
  const env = {
    ...process.env,
    DATABASE_URL: `${TEST_PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    LOG_LEVEL: 'error',
    DASHBOARD_PORT: '0',
  };
  const cli = (args: string[]): ChildProcess => {
    const p = spawn(process.execPath, [join(root, 'bin', 'pm-arb.js'), ...args], {
      cwd: root,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    p.stderr?.resume();
    procs.push(p);
    return p;
  };
  const persister = (): ChildProcess =>
    cli([
      'agent',
      'persister',
      '--opt',
      'visibilityTimeoutMs=1000',
      '--opt',
      'flushIntervalMs=150',
      '--heartbeat-ms',
      '1000',
    ]);
  const pipeline = (): ChildProcess =>
    cli(['run', '--feeds', 'sim', '--bus', 'redis', '--seed', '7', '--no-store']);
  /** The same agents with restart recovery wired in (recovery-pipeline-proc.ts). */
  const restoredPipeline = (): ChildProcess => {
    const p = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'recovery-pipeline-proc.ts')],
      {
        cwd: root,
        env: { ...env, STATE_DIR: stateDir },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    p.stderr?.resume();
    procs.push(p);
    return p;
  };
  const exited = (p: ChildProcess): Promise<void> =>
    p.exitCode !== null || p.signalCode !== null
      ? Promise.resolve()
      : new Promise((r) => p.once('exit', () => r()));
  const kill = async (p: ChildProcess, sig: NodeJS.Signals): Promise<void> => {
    const gone = exited(p);
    p.kill(sig);
    await gone;
  };
  const count = async (table: string): Promise<number> =>
    Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);

  /** Bodies on a stream, in order, with their message ids. */
  const onBus = async <T>(ch: Channel<T>): Promise<{ id: string; body: T }[]> => {
    const entries = (await redis.xrange(prefix + ch.name, '-', '+')) as [string, string[]][];
    return entries.map(([, f]) => ({
      id: f[f.indexOf('i') + 1]!,
      body: JSON.parse(f[f.indexOf('d') + 1]!) as T,
    }));
  };
  const ids = async (table: string, col = 'id'): Promise<string[]> =>
    (await db.query<{ id: string }>(`SELECT DISTINCT ${col} AS id FROM ${table} ORDER BY 1`)).rows.map(
      (r) => r.id,
    );
  const sorted = (xs: string[]): string[] => [...new Set(xs)].sort();

  const drained = async (): Promise<boolean> => {
    const keys = await redis.keys(`${prefix}pmarb.*`);
    for (const key of keys) {
      if ((await redis.type(key)) !== 'stream') continue;
      const groups = (await redis.xinfo('GROUPS', key)) as unknown[][];
      for (const row of groups) {
        const o: Record<string, unknown> = {};
        for (let i = 0; i < row.length; i += 2) o[String(row[i])] = row[i + 1];
        if (o.name === 'persister' && (Number(o.pending) !== 0 || Number(o.lag) !== 0)) return false;
      }
    }
    return true;
  };

  beforeAll(async () => {
    db = await openDb({ url: TEST_PG_URL, schema });
    await migrate(db);
    redis = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) await kill(p, 'SIGKILL');
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

  it('keeps every message exactly once and the halt across a kill -9', async () => {
    const p1 = persister();
    const r1 = pipeline();
    await until(
      'fills stored',
      async () => (await count('fills')) >= 2 && (await count('equity_snapshots')) >= 2,
    );
    const halt = spawnSync(
      process.execPath,
      [join(root, 'bin', 'pm-arb.js'), 'halt', '--reason', 'operator: test halt'],
      {
        cwd: root,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(halt.status).toBe(0);
    await until('halt stored', async () => (await loadRecoveryState(db)).halted);
    // the persister dies first and the pipeline runs on for a while, so the kill surely leaves work in flight
    await kill(p1, 'SIGKILL');
    const storedAtKill = await count('opportunities');
    await until(
      'more opportunities published',
      async () => (await onBus(channels.opportunities)).length > storedAtKill,
    );
    await kill(r1, 'SIGKILL');
    const publishedAtKill = (await onBus(channels.opportunities)).length;
    process.stderr.write(
      `pipeline: at the kill ${storedAtKill} of ${publishedAtKill} opportunities stored\n`,
    );
    expect(storedAtKill).toBeLessThan(publishedAtKill);

    // the persister comes back and drains what the dead one left; then the pipeline, restoring from the store
    const p2 = persister();
    await until('persister drained', drained);
    const fillsAtKill = (await onBus(channels.fills)).map((e) => e.body as Fill);
    const equityAtKill = (await onBus(channels.equity)).map((e) => e.body as EquitySnapshot);
    const allocAtKill = (await onBus(channels.allocations)).map((e) => e.body as Allocation);
    const r2 = restoredPipeline();
    await until('restored state written', () => existsSync(join(stateDir, `restored-${r2.pid}.json`)));
    const restored = JSON.parse(readFileSync(join(stateDir, `restored-${r2.pid}.json`), 'utf8'));
    const truth = rebuildLedger({ fills: fillsAtKill }, loadConfig({}));
    const t = truth.snapshot();
    expect(restored.fills).toBe(fillsAtKill.length);
    expect(restored.ledger).toEqual({
      positions: t.positions,
      cashFlow: t.cashFlow,
      realizedPnl: t.realizedPnl,
    });
    const busHwm = Math.max(...equityAtKill.map((e) => Math.max(e.highWaterMark, e.equity)));
    expect(restored.highWaterMark).toBe(Math.max(busHwm, truth.equity()));
    const lastAlloc = allocAtKill.length > 0 ? allocAtKill[allocAtKill.length - 1]!.allocations : null;
    expect(restored.allocations).toEqual(lastAlloc);
    expect(restored.allocator).toEqual(lastAlloc ?? {});
    expect(restored.killSwitch).toBe(true);
    expect(restored.halt).toBe('operator: test halt');
    process.stderr.write(
      `pipeline: restored ${restored.fills} fills, ${t.positions.length} positions, HWM ${restored.highWaterMark}, ` +
        `allocations ${JSON.stringify(lastAlloc)}, halted\n`,
    );
    // halted, the restarted pipeline trades no more, but its data agents run on
    const before = publishedAtKill;
    await until(
      'the restarted pipeline publishes',
      async () => (await count('opportunities')) >= before + 20,
    );
    await kill(r2, 'SIGTERM');
    expect((await onBus(channels.fills)).length).toBe(fillsAtKill.length);
    await until('persister drained', drained);
    await kill(p2, 'SIGTERM');

    const cases: [Channel<{ id: string }>, string][] = [
      [channels.opportunities as Channel<{ id: string }>, 'opportunities'],
      [channels.tradeRequests as Channel<{ id: string }>, 'trade_requests'],
      [channels.riskDecisions as Channel<{ id: string }>, 'risk_decisions'],
      [channels.orders as Channel<{ id: string }>, 'orders'],
      [channels.fills as Channel<{ id: string }>, 'fills'],
      [channels.executions as Channel<{ id: string }>, 'execution_reports'],
    ];
    const summary: string[] = [];
    for (const [ch, table] of cases) {
      const bus = sorted((await onBus(ch)).map((e) => e.body.id));
      expect(await ids(table), table).toEqual(bus);
      summary.push(`${table} ${bus.length}`);
    }
    // messages without a domain id are keyed on the message id
    const eqBus = await onBus(channels.equity);
    expect(await ids('equity_snapshots')).toEqual(sorted(eqBus.map((e) => e.id)));
    const allocBus = await onBus(channels.allocations);
    expect(await ids('allocations')).toEqual(sorted(allocBus.map((e) => e.id)));
    summary.push(`equity ${eqBus.length}`, `allocations ${allocBus.length}`);
    process.stderr.write(`pipeline: stored exactly once: ${summary.join(', ')}\n`);
    expect(eqBus.length).toBeGreaterThan(0);

    const rec = await loadRecoveryState(db);
    expect(rec.halted).toBe(true);
    expect(rec.haltReason).toBe('operator: test halt');
    const config = loadConfig({});
    const busFills = (await onBus(channels.fills)).map((e) => e.body as Fill);
    // the fills alone (rebuildLedger also puts back the stored marks, which the bus's fills do not carry)
    expect(
      rebuildLedger({ fills: rec.fills, base: rec.base, baseFillIds: rec.baseFillIds }, config).snapshot(),
    ).toEqual(rebuildLedger({ fills: busFills }, config).snapshot());
  }, 480_000);
});
