/**
 * `pm-arb agent | halt | resume | status`, run as the real command (node bin/pm-arb.js) against Redis.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { type Agent, AgentRuntime, createIds } from '../../src/core/agent.ts';
import { createRedisBus } from '../../src/core/bus/redis.ts';
import { channels } from '../../src/core/channels.ts';
import { wallClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/log.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REDIS = 'redis://127.0.0.1:6379';
const prefix = `cli:${randomUUID()}:`;
// each case starts the real command (a node process) a few times; the machine may be busy
vi.setConfig({ testTimeout: 120_000 });

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function pmArb(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/pm-arb.js', ...args],
      {
        cwd: ROOT,
        env: { ...process.env, LOG_LEVEL: 'warn', REDIS_KEY_PREFIX: prefix, ...env },
        timeout: 30_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * The CLI in this process, for cases that never get as far as starting anything (usage and config errors):
 * same code path as the binary, without a node start-up per case.
 */
async function pmArbHere(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const saved = { ...process.env };
  Object.assign(process.env, { LOG_LEVEL: 'warn', REDIS_KEY_PREFIX: prefix, ...env });
  const out: string[] = [];
  const err: string[] = [];
  const w1 = process.stdout.write;
  const w2 = process.stderr.write;
  process.stdout.write = ((c: string | Uint8Array) => out.push(String(c)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => err.push(String(c)) > 0) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
    process.env = saved;
    process.exitCode = undefined;
  }
}

afterAll(async () => {
  const admin = new Redis(REDIS);
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

describe('pm-arb agent', () => {
  it('--help lists the known agents', async () => {
    const r = await pmArb(['agent', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: pm-arb agent');
    expect(r.stdout).toMatch(/loadgen\s+diagnostics/);
    expect(r.stdout).toMatch(/sink\s+diagnostics/);
  });

  it('rejects an unknown agent with exit 2, listing the known names', async () => {
    const r = await pmArbHere(['agent', 'no-such-agent'], { REDIS_URL: REDIS });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown agent "no-such-agent"');
    expect(r.stderr).toContain('loadgen');
    expect(r.stderr).toContain('sink');
    expect(r.stderr).toContain('--help');
  });

  it('says REDIS_URL is needed when it is unset (exit 2)', async () => {
    const r = await pmArbHere(['agent', 'sink', '--opt', 'dir=/tmp/never'], { REDIS_URL: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('REDIS_URL is not set');
    expect(r.stderr).toContain('redis://');
  });

  it('rejects malformed and invalid agent options (exit 2)', async () => {
    const bad = await pmArbHere(['agent', 'loadgen', '--opt', 'count'], { REDIS_URL: REDIS });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--opt "count": expected key=value');
    const invalid = await pmArbHere(['agent', 'loadgen', '--opt', 'count=lots'], { REDIS_URL: REDIS });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('count="lots"');
    const missing = await pmArbHere(['agent', 'sink'], { REDIS_URL: REDIS });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('dir=PATH');
  });

  it('requires the agent name (exit 2 with usage)', async () => {
    const r = await pmArbHere(['agent']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("missing required argument 'name'");
  });
});

describe('pm-arb halt / resume / status', () => {
  it('halts and resumes running agents over Redis, and status shows them', async () => {
    const bus = createRedisBus({ url: REDIS, name: 'cli-test', keyPrefix: prefix, log: silentLogger() });
    const kernel = {
      config: loadConfig({}),
      bus,
      clock: wallClock(),
      log: silentLogger(),
      ids: createIds('cli-test'),
      instance: 'cli-test-1',
    };
    const agent = (name: string, trading: boolean): Agent => ({
      name,
      trading,
      start() {},
      health: () => ({ ok: 1 }),
    });
    const executor = new AgentRuntime(kernel, agent('executor', true), { heartbeatMs: 200 });
    const watcher = new AgentRuntime(kernel, agent('watcher', false), { heartbeatMs: 200 });
    await executor.start();
    await watcher.start();
    await bus.flush();
    try {
      const halt = await pmArb(['halt', '--reason', 'cli test'], { REDIS_URL: REDIS });
      expect(halt.code).toBe(0);
      // returns once the trading agent confirmed: it is halted already
      expect(halt.stdout).toContain('HALT_ALL confirmed');
      expect(halt.stdout).toContain('confirmed by executor@cli-test-1');
      expect(halt.stdout).toContain('(reason: cli test)');
      expect(executor.halted).toBe(true);
      expect(watcher.state).toBe('running');
      await new Promise((r) => setTimeout(r, 300)); // a heartbeat with the new state

      const st = await pmArb(['status', '--json'], { REDIS_URL: REDIS });
      expect(st.code).toBe(0);
      const { agents } = JSON.parse(st.stdout) as {
        agents: {
          agent: string;
          instance: string;
          state: string;
          ageMs: number;
          stale: boolean;
          pid: number;
        }[];
      };
      expect(agents.map((a) => [a.agent, a.instance, a.state])).toEqual([
        ['executor', 'cli-test-1', 'halted'],
        ['watcher', 'cli-test-1', 'running'],
      ]);
      expect(agents.every((a) => a.ageMs >= 0 && a.ageMs < 15_000 && !a.stale && a.pid === process.pid)).toBe(
        true,
      );

      const text = await pmArb(['status'], { REDIS_URL: REDIS });
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/^AGENT\s+INSTANCE\s+STATE\s+LAST HEARTBEAT/);
      expect(text.stdout).toMatch(/executor\s+cli-test-1\s+halted\s+[\d.]+ m?s ago/);

      const resume = await pmArb(['resume'], { REDIS_URL: REDIS });
      expect(resume.code).toBe(0);
      expect(resume.stdout).toContain('RESUME confirmed');
      expect(executor.state).toBe('running');
    } finally {
      await executor.stop();
      await watcher.stop();
      await bus.close();
    }
  });

  it('needs REDIS_URL, and rejects bad options (exit 2)', async () => {
    for (const cmd of [['halt'], ['resume'], ['status']]) {
      const r = await pmArbHere(cmd, { REDIS_URL: '' });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('REDIS_URL is not set');
    }
    const bad = await pmArbHere(['status', '--stale-ms', 'soon'], { REDIS_URL: REDIS });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--stale-ms "soon"');
    const unknown = await pmArbHere(['halt', '--why', 'x'], { REDIS_URL: REDIS });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--why'");
  });

  it('status shows the last allocation round: each strategy with its inputs and the reason', async () => {
    const px = `${prefix}alloc:`;
    const bus = createRedisBus({ url: REDIS, name: 'cli-alloc', keyPrefix: px, log: silentLogger() });
    const why = {
      pnl: 12_500_000,
      windowPnl: 2_000_000,
      bundles: 9,
      windowClosed: 7,
      sharpe: 0.8,
      drawdown: 1_000_000,
      probation: false,
      evidence: 1,
      score: 0.8,
      weight: 0.6,
      target: 300_000_000,
      allocation: 275_000_000,
      reason:
        'score 0.80 = Sharpe 0.80 over 7 bundles closed in 60 min × evidence 1.00; weight 60.0% of $500',
    };
    try {
      bus.publish(channels.allocations, {
        type: 'allocation',
        allocations: { sniper: 275_000_000, arb: 25_000_000 },
        scores: { sniper: 0.8, arb: 0 },
        ts: Date.now(),
        explanations: {
          sniper: why,
          arb: { ...why, probation: true, reason: 'probation: 2 of the 5 closed bundles needed' },
        },
      });
      await bus.flush();
      const r = await pmArbHere(['status', '--json'], { REDIS_URL: REDIS, REDIS_KEY_PREFIX: px });
      expect(r.code).toBe(0);
      const { allocation } = JSON.parse(r.stdout) as {
        allocation: {
          strategies: { strategy: string; allocation: string; reason: string; sharpe: number }[];
        };
      };
      expect(allocation.strategies).toEqual([
        expect.objectContaining({
          strategy: 'arb',
          allocation: '25',
          reason: 'probation: 2 of the 5 closed bundles needed',
        }),
        expect.objectContaining({
          strategy: 'sniper',
          allocation: '275',
          sharpe: 0.8,
          bundles: 9,
          reason: why.reason,
        }),
      ]);
      const text = await pmArbHere(['status'], { REDIS_URL: REDIS, REDIS_KEY_PREFIX: px });
      expect(text.stdout).toContain('ALLOCATION (last round');
      expect(text.stdout).toContain(`sniper  $275  ${why.reason}`);
    } finally {
      await bus.close();
    }
  });

  it('status on an empty bus says nothing is running', async () => {
    const r = await pmArb(['status'], { REDIS_URL: REDIS, REDIS_KEY_PREFIX: `${prefix}empty:` });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no agents seen on the health channel');
  });
});
