/**
 * Agents as separate OS processes on Redis: `pm-arb agent loadgen` publishes 10,000 messages, `pm-arb agent sink`
 * applies them; the sink is SIGKILLed midway and started again. Every message must be applied exactly once by id.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { APPLIED_FILE, createSink, diagChannel, readAppliedLog } from '../../src/agents/diagnostics.ts';
import { AgentRuntime, createIds } from '../../src/core/agent.ts';
import { createInProcBus } from '../../src/core/bus/inproc.ts';
import { wallClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/log.ts';
import { waitFor } from '../contract/bus-contract.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REDIS = 'redis://127.0.0.1:6379';
const COUNT = 10_000;

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'pm-arb-mp-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function agent(name: string, opts: string[], env: NodeJS.ProcessEnv): Proc {
  const args = [
    'bin/pm-arb.js',
    'agent',
    name,
    '--heartbeat-ms',
    '500',
    ...opts.flatMap((o) => ['--opt', o]),
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => out, err: () => err, exited };
}

/** Complete lines of the applied log (the sink may be half-way through a write). */
function appliedLines(dir: string): string[] {
  const f = join(dir, APPLIED_FILE);
  if (!existsSync(f)) return [];
  const text = readFileSync(f, 'utf8');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean);
}

describe('agents as separate processes over Redis', () => {
  it('moves 10,000 messages loadgen → sink, survives a SIGKILLed sink, applies each exactly once', async () => {
    const prefix = `mp:${randomUUID()}:`;
    const env = { ...process.env, REDIS_URL: REDIS, REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'warn' };
    const dir = tmp();
    const admin = new Redis(REDIS);
    // acks lag the fsync by 200 ms, so the SIGKILL leaves applied-but-unacked messages to come back
    const sinkOpts = [`dir=${dir}`, 'visibilityMs=1500', 'syncMs=10', 'ackLagMs=200'];
    const procs: Proc[] = [];
    try {
      const sink1 = agent('sink', sinkOpts, env);
      procs.push(sink1);
      // the sink's group exists once it is up (it reads from the start of the stream anyway)
      const key = prefix + diagChannel.name;
      await waitForAsync(
        async () => {
          const groups = (await admin.call('XINFO', 'GROUPS', key).catch(() => [])) as unknown[][];
          return groups.some((g) => g[1] === 'sink');
        },
        'the first sink to subscribe',
        20_000,
      );
      const loadgen = agent('loadgen', [`count=${COUNT}`, 'rate=2500'], env);
      procs.push(loadgen);

      await waitForAsync(async () => appliedLines(dir).length >= 3_000, 'the sink to apply 3,000', 30_000);
      sink1.child.kill('SIGKILL');
      expect(await sink1.exited).toBe(null);
      const atKill = appliedLines(dir).length;
      expect(atKill).toBeLessThan(COUNT); // killed midway

      const sink2 = agent('sink', sinkOpts, env);
      procs.push(sink2);
      await waitForAsync(async () => appliedLines(dir).length >= COUNT, 'all 10,000 applied', 45_000);
      // give redeliveries of the killed sink's pending messages time to arrive and be recognised
      await waitForAsync(
        async () => Number((await admin.xpending(key, 'sink'))[0]) === 0,
        'nothing left pending',
        15_000,
      );

      sink2.child.kill('SIGTERM');
      loadgen.child.kill('SIGTERM');
      expect(await sink2.exited).toBe(0);
      expect(await loadgen.exited).toBe(0);

      const lines = appliedLines(dir);
      const ids = lines.map((l) => l.split('\t')[0]!);
      const ns = lines.map((l) => Number(l.split('\t')[1])).sort((a, b) => a - b);
      expect(lines).toHaveLength(COUNT);
      expect(new Set(ids).size).toBe(COUNT); // no id applied twice
      expect(ns).toEqual(Array.from({ length: COUNT }, (_, i) => i)); // none lost
      const summary = JSON.parse(sink2.out().trim().split('\n').at(-1)!) as {
        health: { applied: number; duplicates: number };
      };
      expect(summary.health.applied).toBe(COUNT);
      // the killed sink's applied-but-unacked messages came back and were recognised, not applied again
      expect(summary.health.duplicates).toBeGreaterThan(0);
    } finally {
      for (const p of procs)
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    }
  }, 90_000);

  it('sink: a redelivered id is recognised and applied once; the log survives a restart', async () => {
    const dir = tmp();
    const bus = createInProcBus();
    const kernel = {
      config: loadConfig({}),
      bus,
      clock: wallClock(),
      log: silentLogger(),
      ids: createIds('t'),
      instance: 't',
    };
    const sink = createSink({ dir, syncMs: 5 });
    const rt = new AgentRuntime(kernel, sink);
    await rt.start();
    bus.publish(diagChannel, { n: 0, run: 'x' }, { id: 'a' });
    bus.publish(diagChannel, { n: 1, run: 'x' }, { id: 'b' });
    bus.publish(diagChannel, { n: 0, run: 'x' }, { id: 'a' }); // a redelivery of 'a'
    await waitFor(
      () => appliedLines(dir).length === 2 && bus.stats().acked === 3,
      'two applied, three acked',
    );
    expect(sink.duplicates()).toBe(1);
    await rt.stop();

    const again = createSink({ dir, syncMs: 5 });
    const rt2 = new AgentRuntime(kernel, again);
    await rt2.start();
    expect([...again.applied.keys()]).toEqual(['a', 'b']);
    bus.publish(diagChannel, { n: 1, run: 'x' }, { id: 'b' });
    bus.publish(diagChannel, { n: 2, run: 'x' }, { id: 'c' });
    await waitFor(() => appliedLines(dir).length === 3, 'the third applied');
    expect(again.duplicates()).toBe(1);
    await rt2.stop();
    expect([...readAppliedLog(join(dir, APPLIED_FILE)).entries()]).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 2],
    ]);
    await bus.close();
  });
});

async function waitForAsync(cond: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
