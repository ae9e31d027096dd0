/**
 * The kill switch, durable and confirmed: the halt state read at start (store, Redis key), halted while it cannot
 * be read, halt/resume confirmed by the trading agents (or naming those that did not), signed commands, and
 * `pm-arb halt` through the control endpoint of a running process, through Redis, and with Redis unreachable.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { type Agent, AgentRuntime, createIds, type Kernel } from '../../src/core/agent.ts';
import { createInProcBus } from '../../src/core/bus/inproc.ts';
import { channels, type DeadLetter } from '../../src/core/channels.ts';
import { SimClock, wallClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import {
  createRedisHaltStore,
  type HaltSource,
  type HaltState,
  liveTradingAgents,
  pingRedis,
  redisPersistenceWarning,
} from '../../src/core/halt.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { SystemCommand } from '../../src/core/messages.ts';
import { signed } from '../../src/core/signing.ts';
import { ControlError, createBusControl } from '../../src/dashboard/control.ts';
import { startDashboard } from '../../src/dashboard/server.ts';
import { openDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { readSystemState, storeHaltSource, writeSystemState } from '../../src/store/system-state.ts';

vi.setConfig({ testTimeout: 120_000 });
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REDIS = 'redis://127.0.0.1:6379';
const prefix = `ks:${randomUUID()}:`;

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c();
});
afterAll(async () => {
  const admin = new Redis(REDIS);
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

function kernel(env: Record<string, string> = {}, clock = new SimClock(1_000)): Kernel & { clock: SimClock } {
  const bus = createInProcBus();
  open.push(() => bus.close());
  return {
    config: loadConfig(env),
    bus,
    clock,
    log: silentLogger(),
    ids: createIds('ks'),
    instance: 'ks-1',
  };
}

const agent = (name: string, trading: boolean): Agent => ({ name, trading, start() {} });

const fixed = (st: HaltState | null): HaltSource => ({ name: 'fixed', read: async () => st });

async function started(k: Kernel, a: Agent, haltSource?: HaltSource): Promise<AgentRuntime> {
  const rt = new AgentRuntime(k, a, haltSource ? { haltSource } : {});
  await rt.start();
  open.push(() => rt.stop());
  return rt;
}

describe('durable halt state', () => {
  it('a trading agent started on a halted store comes up halted; a data agent does not care', async () => {
    const db = await openDb({ dataDir: 'memory://' });
    open.push(() => db.close());
    await migrate(db);
    await writeSystemState(db, { halted: true, haltReason: 'news', haltedBy: 'api:alice', haltedAt: 5 });
    const k = kernel();
    const guardian = await started(k, agent('risk-guardian', true), storeHaltSource(db));
    const watcher = await started(k, agent('venue-watcher', false), storeHaltSource(db));
    expect(guardian.halted).toBe(true);
    expect(guardian.state).toBe('halted');
    expect(watcher.state).toBe('running');
  });

  it('refuses to trade while the halt state cannot be read, and trades once it can', async () => {
    let up = false;
    const flaky: HaltSource = {
      name: 'flaky',
      read: async () => {
        if (!up) throw new Error('connection refused');
        return { halted: false, reason: null, by: null, at: 1 };
      },
    };
    const k = kernel();
    const rt = await started(k, agent('executor', true), flaky);
    expect(rt.halted).toBe(true);
    expect(rt.state).toBe('halted');
    up = true;
    k.clock.advanceTo(k.clock.now() + 1_000);
    await vi.waitFor(() => expect(rt.state).toBe('running'));
    expect(rt.halted).toBe(false);
  });

  it('the newest of several sources wins', async () => {
    const { combinedHaltSource } = await import('../../src/core/halt.ts');
    const s = combinedHaltSource([
      fixed({ halted: true, reason: 'old', by: 'a', at: 10 }),
      fixed({ halted: false, reason: null, by: 'b', at: 20 }),
      fixed(null),
    ]);
    expect(await s.read()).toMatchObject({ halted: false, at: 20 });
  });

  it('the Redis halt key is written and read back; an agent reads it at start', async () => {
    const key = createRedisHaltStore({ url: REDIS, keyPrefix: prefix });
    open.push(() => key.close());
    expect(await key.read()).toBeNull();
    await key.write({ halted: true, reason: 'key test', by: 'api:bob', at: 42 });
    expect(await key.read()).toEqual({ halted: true, reason: 'key test', by: 'api:bob', at: 42 });
    const rt = await started(kernel(), agent('executor', true), key);
    expect(rt.state).toBe('halted');
  });

  it('an unreachable Redis fails fast with a clear message and no password', async () => {
    await expect(pingRedis('redis://:s3cret@127.0.0.1:1', 1_000)).rejects.toThrow(
      /Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1 is unreachable/,
    );
    const key = createRedisHaltStore({ url: 'redis://127.0.0.1:1', timeoutMs: 500 });
    open.push(() => key.close());
    await expect(key.read()).rejects.toThrow();
  });
});

describe('Redis persistence', () => {
  it('warns when the Redis keeps nothing across a restart (AOF off), and only then', async () => {
    const admin = new Redis(REDIS);
    const aof = ((await admin.call('CONFIG', 'GET', 'appendonly')) as string[])[1];
    await admin.quit();
    const w = await redisPersistenceWarning(REDIS);
    if (aof === 'yes') expect(w).toBeUndefined();
    else expect(w).toMatch(/appendonly no/);
  });
});

describe('confirmed halt and resume', () => {
  const control = (k: Kernel, expected: () => string[], extra: { controlKey?: string } = {}) =>
    createBusControl({
      bus: k.bus,
      db: undefined,
      clock: k.clock,
      matchStore: undefined,
      strategies: async () => [],
      confirm: { expected, timeoutMs: 2_000, group: 'confirm-test' },
      ...extra,
    });
  const meta = { actor: 'alice', source: 'api' as const, remote: null, reason: 'test' };

  it('returns once every trading agent confirmed: they are halted when it returns', async () => {
    const k = kernel();
    const guardian = await started(k, agent('risk-guardian', true));
    const executor = await started(k, agent('executor', true));
    const c = control(k, () => ['executor@ks-1', 'risk-guardian@ks-1']);
    const r = await c.halt(meta);
    expect(r.message).toContain('HALT_ALL confirmed');
    expect(r.details?.confirmed).toEqual(['executor@ks-1', 'risk-guardian@ks-1']);
    expect(guardian.halted && executor.halted).toBe(true);
    const back = await c.resume(meta);
    expect(back.message).toContain('RESUME confirmed');
    expect(guardian.halted || executor.halted).toBe(false);
  });

  it('names the agents that did not confirm, and never reports nobody listening as success', async () => {
    const k = kernel();
    await started(k, agent('executor', true));
    const partial = control(k, () => ['executor@ks-1', 'executor@gone-2']);
    const err = await partial.halt(meta).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlError);
    expect((err as Error).message).toContain('not confirmed within 2000 ms by executor@gone-2');
    expect((err as Error).message).toContain('confirmed by executor@ks-1');
    const nobody = await control(k, () => [])
      .halt(meta)
      .catch((e: unknown) => e);
    expect((nobody as Error).message).toContain('nobody confirmed it');
  });

  it('the trading agents expected are those with a recent heartbeat, not stopped', () => {
    const beat = (agentName: string, state: 'running' | 'stopped', ts: number, trading = true) => ({
      type: 'heartbeat' as const,
      agent: agentName,
      instance: 'i',
      state,
      pid: 1,
      host: 'h',
      ts,
      details: { trading },
    });
    expect(
      liveTradingAgents(
        [
          beat('executor', 'running', 1_000),
          beat('risk-guardian', 'running', 900),
          beat('risk-guardian', 'stopped', 950),
          beat('venue-watcher', 'running', 1_000, false),
          beat('strategy-runner', 'running', 100),
        ],
        1_000,
        500,
      ),
    ).toEqual(['executor@i']);
  });

  it('with a control key, a forged or unsigned command is refused and dead-lettered; a signed one obeyed', async () => {
    const key = 'control-key-for-tests';
    const k = kernel({ CONTROL_SIGNING_KEY: key });
    const dead: DeadLetter[] = [];
    k.bus.subscribe(channels.deadLetter(channels.system), { group: 'dlq' }, (m) => {
      dead.push(m.body);
    });
    const rt = await started(k, agent('executor', true));
    const cmd: SystemCommand = {
      type: 'system',
      command: 'HALT_ALL',
      reason: 'forged',
      issuedBy: 'someone',
      issuedAt: 1,
    };
    k.bus.publish(channels.system, cmd);
    k.bus.publish(channels.system, { ...signed(cmd, 'wrong key') });
    await k.bus.idle();
    expect(rt.halted).toBe(false);
    expect(dead.map((d) => d.error)).toEqual([
      'refused: unsigned (CONTROL_SIGNING_KEY)',
      'refused: bad signature (CONTROL_SIGNING_KEY)',
    ]);
    const c = control(k, () => ['executor@ks-1'], { controlKey: key });
    await c.halt(meta);
    expect(rt.halted).toBe(true);
  });
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}
function pmArb(args: string[], env: Record<string, string>): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/pm-arb.js', ...args],
      {
        cwd: ROOT,
        env: { ...process.env, LOG_LEVEL: 'warn', REDIS_KEY_PREFIX: prefix, ...env },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('pm-arb halt / resume', () => {
  it('reaches a running in-process pm-arb through its control endpoint and returns once its agents confirmed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pmarb-ks-'));
    const env = { DATA_DIR: dataDir, DASHBOARD_PORT: '0', REDIS_URL: '', DATABASE_URL: '' };
    const k = { ...kernel(env, undefined), clock: wallClock() };
    const db = await openDb({ dataDir: 'memory://' });
    open.push(() => db.close());
    await migrate(db);
    const executor = await started(k, agent('executor', true), storeHaltSource(db));
    const d = await startDashboard({
      ...k,
      db,
      role: 'run',
      killSwitch: {
        confirm: { expected: () => ['executor@ks-1'], timeoutMs: 2_000, group: 'ks-run' },
      },
    });
    open.push(() => d.stop());
    const halt = await pmArb(['halt', '--reason', 'endpoint test'], env);
    expect(halt.stdout).toContain('HALT_ALL confirmed');
    expect(halt.stdout).toContain('confirmed by executor@ks-1');
    expect(halt.code).toBe(0);
    expect(executor.halted).toBe(true);
    expect(await readSystemState(db)).toMatchObject({ halted: true, haltReason: 'endpoint test' });
    const resume = await pmArb(['resume'], env);
    expect(resume.code).toBe(0);
    expect(executor.halted).toBe(false);
  });

  it('with Redis unreachable it fails with a clear message (exit 1)', async () => {
    const r = await pmArb(['halt'], {
      REDIS_URL: 'redis://:pw@127.0.0.1:1',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'pmarb-ks-')),
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('HALT_ALL NOT delivered: Redis at redis://:***@127.0.0.1:1 is unreachable');
    expect(r.stdout).not.toContain(':pw@');
  });

  it('on Redis with no trading agent running, it says nobody confirmed (exit 1) and leaves the halt key set', async () => {
    const px = `${prefix}empty:`;
    const r = await pmArb(['halt', '--reason', 'empty'], {
      REDIS_URL: REDIS,
      REDIS_KEY_PREFIX: px,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'pmarb-ks-')),
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('nobody confirmed it: no trading agent is running');
    const key = createRedisHaltStore({ url: REDIS, keyPrefix: px });
    open.push(() => key.close());
    expect(await key.read()).toMatchObject({ halted: true, reason: 'empty' });
  });
});
