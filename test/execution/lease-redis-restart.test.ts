/**
 * The executor lease across a Redis restart (issue 12, item 2; found by the chaos test): the lease's connection
 * comes back and the executor keeps trying until it holds the lease again, even when Redis lost the fencing
 * counter (non-persistent, or the last second of an AOF `everysec`) so that its next token is older than the one the
 * store has seen. On a redis-server of its own (a free port), killed and restarted; never the shared one.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createExecutor, type Executor } from '../../src/agents/executor.ts';
import { AgentRuntime, createIds } from '../../src/core/agent.ts';
import { InProcBus } from '../../src/core/bus/inproc.ts';
import { wallClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import { createMemoryIntentStore, type ExecutionIntent } from '../../src/execution/intents.ts';
import { createRedisLease } from '../../src/execution/lease.ts';
import { type RedisServer, startRedisServer, until } from '../helpers/procs.ts';
import { config } from '../risk/fixtures.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

describe('the executor lease across a Redis restart', () => {
  it('is held again after Redis is killed and restarted, with a token past the store fence', async () => {
    const server: RedisServer = await startRedisServer();
    cleanups.push(() => server.close());
    const prefix = 'test:lease-restart:';
    const key = `${prefix}pmarb.lease.executor.paper`;
    const clock = wallClock();
    const bus = new InProcBus({ name: 't', clock });
    cleanups.push(() => bus.close());
    // the store has seen token 1000 already; this Redis's counter starts at 0 (it lost it)
    const shared = { intents: new Map<string, ExecutionIntent>(), fence: 1_000 };
    const agent = createExecutor({
      latencyMs: 0,
      intents: createMemoryIntentStore('paper', shared),
      lease: (rt) =>
        createRedisLease({
          url: server.url,
          keyPrefix: prefix,
          account: 'paper',
          owner: 'a',
          ttlMs: 600,
          now: () => rt.clock.now(),
        }),
    }) as Executor;
    const rt = new AgentRuntime(
      { config, bus, clock, log: silentLogger(), ids: createIds('a'), instance: 'a' },
      agent,
      { heartbeatMs: 3_600_000 },
    );
    await rt.start();
    cleanups.push(() => rt.stop());
    const health = () => agent.health?.() as { active: boolean; fence?: number };
    await until('the executor to hold the lease past the store fence', () => health().active, 20_000, 50);
    const first = health().fence!;
    expect(first).toBeGreaterThan(1_000);

    await server.kill();
    await until('the executor to lose the lease with Redis down', () => !health().active, 20_000, 50);
    await server.start();
    // the restarted Redis lost the lease and its counter (a non-persistent one; AOF keeps them, so drop them)
    const direct = new Redis(server.url);
    cleanups.push(async () => {
      direct.disconnect();
    });
    await direct.del(key, `${key}.fence`);
    await until(
      'the executor to hold the lease again after the restart',
      () => health().active && (health().fence ?? 0) > first,
      30_000,
      50,
    );
    expect(shared.fence).toBe(health().fence);
  }, 90_000);
});
