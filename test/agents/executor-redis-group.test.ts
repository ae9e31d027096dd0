/**
 * Two executors of one consumer group on the Redis bus, each with its own bus connection (as two processes), the
 * Redis lease and the intents in one store: before, they split the decisions and the market data between them
 * and each kept its own duplicate detection. Now one is active, each decision is executed once, and when the
 * active one stops the other takes over and executes what follows, still once each.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createExecutor, type Executor } from '../../src/agents/executor.ts';
import { AgentRuntime, createIds, type Kernel } from '../../src/core/agent.ts';
import { createRedisBus } from '../../src/core/bus/redis.ts';
import type { Bus } from '../../src/core/bus/types.ts';
import { channels } from '../../src/core/channels.ts';
import { wallClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { Order, RiskDecision } from '../../src/core/messages.ts';
import { createRedisLease } from '../../src/execution/lease.ts';
import { openDb } from '../../src/store/db.ts';
import { createDbIntentStore } from '../../src/store/intents.ts';
import { migrate } from '../../src/store/migrations.ts';
import { book, config, leg, market } from '../risk/fixtures.ts';

const REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:exec-group:${process.pid}:${randomBytes(4).toString('hex')}:`;

afterAll(async () => {
  const admin = new Redis(REDIS);
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('two executors in one group on Redis', () => {
  it('one active executor; every decision executed once, before and after a takeover', async () => {
    const db = await openDb({ dataDir: 'memory://' });
    await migrate(db);
    const buses: Bus[] = [];
    const runtimes: AgentRuntime[] = [];
    const cfg = { ...config, redisKeyPrefix: prefix };
    const mkBus = (name: string) =>
      createRedisBus({ url: REDIS, name, maxLen: 10_000, keyPrefix: prefix, log: silentLogger() });
    try {
      const start = async (instance: string): Promise<AgentRuntime> => {
        const bus = mkBus(instance);
        buses.push(bus);
        const kernel: Kernel = {
          config: cfg,
          bus,
          clock: wallClock(),
          log: silentLogger(),
          ids: createIds(instance),
          instance,
        };
        const ex = createExecutor({
          latencyMs: 0,
          intents: createDbIntentStore(db),
          lease: (rt) =>
            createRedisLease({
              url: REDIS,
              keyPrefix: prefix,
              account: 'paper',
              owner: instance,
              ttlMs: 1_500,
              now: () => rt.clock.now(),
            }),
        });
        const rt = new AgentRuntime(kernel, ex, { heartbeatMs: 3_600_000 });
        await rt.start();
        runtimes.push(rt);
        return rt;
      };
      const a = await start('exec-a');
      const b = await start('exec-b');
      const out = mkBus('observer');
      buses.push(out);
      const orders: Order[] = [];
      out.subscribe(channels.orders, { group: 'observer', from: 'start' }, (m) => {
        orders.push(m.body);
      });
      const health = (rt: AgentRuntime) => (rt.agent as Executor).health?.() ?? {};
      expect(health(a)).toMatchObject({ active: true, fence: expect.any(Number) });
      expect(health(b)).toMatchObject({ active: false });

      const publishBooks = async () => {
        out.publish(channels.markets('polymarket'), market('polymarket', 'm1'));
        out.publish(
          channels.books('polymarket'),
          book('polymarket', 'm1', 'm1-yes', [[0.4, 10_000]], [[0.45, 10_000]]),
        );
        await out.flush();
      };
      await publishBooks();
      let k = 0;
      const decision = (): RiskDecision => ({
        type: 'risk_decision',
        id: `d-${++k}`,
        requestId: `${prefix}req-${k}`,
        strategy: 's1',
        verdict: 'approve',
        rule: 'ok',
        reason: '',
        legs: [leg('polymarket', 'm1', 'buy', 0.5, 5)],
        tif: 'IOC',
        decidedAt: Date.now(),
      });
      const first = Array.from({ length: 10 }, decision);
      // each one twice (a redelivery, a duplicate publish): still one order each
      for (const d of [...first, ...first]) out.publish(channels.riskDecisions, d);
      await out.flush();
      const filled = (ds: RiskDecision[]) =>
        ds.every((d) => orders.some((o) => o.requestId === d.requestId && o.status === 'filled'));
      await until('the first decisions filled', () => filled(first));

      // the active one stops (its lease released): the other takes over
      runtimes.splice(runtimes.indexOf(a), 1);
      await a.stop();
      await until('b active', () => health(b).active === true);
      expect(health(b).fence).toBeGreaterThan(Number(health(a).fence));
      await publishBooks();
      const second = Array.from({ length: 5 }, decision);
      for (const d of second) out.publish(channels.riskDecisions, d);
      await out.flush();
      await until('the later decisions filled', () => filled(second));

      for (const d of [...first, ...second]) {
        const ids = new Set(orders.filter((o) => o.requestId === d.requestId).map((o) => o.id));
        expect([...ids]).toEqual([`${d.requestId}.0`]);
      }
      const intents = await db.query<{ n: string }>(
        "SELECT count(*) AS n FROM execution_intents WHERE state = 'done'",
      );
      expect(Number(intents.rows[0]!.n)).toBe(15);
      expect(health(b).claimed).toBe(5);
    } finally {
      for (const rt of runtimes.reverse()) await rt.stop().catch(() => {});
      for (const bus of buses) await bus.close();
      await db.close();
    }
  }, 180_000);

  it('a market that resolved while no executor ran is settled when one starts again', async () => {
    const buses: Bus[] = [];
    const mkBus = (name: string) =>
      createRedisBus({ url: REDIS, name, maxLen: 10_000, keyPrefix: prefix, log: silentLogger() });
    const inventory = [
      { strategy: 's1', venue: 'polymarket' as const, marketId: 'm9', tokenId: 'm9-yes', shares: 7_000_000 },
    ];
    const start = async (instance: string): Promise<AgentRuntime> => {
      const bus = mkBus(instance);
      buses.push(bus);
      const kernel: Kernel = {
        config: { ...config, redisKeyPrefix: prefix },
        bus,
        clock: wallClock(),
        log: silentLogger(),
        ids: createIds(instance),
        instance,
      };
      const rt = new AgentRuntime(
        kernel,
        createExecutor({ latencyMs: 0, initial: { version: 1, inventory, requests: [] } }),
        { heartbeatMs: 3_600_000 },
      );
      await rt.start();
      return rt;
    };
    try {
      const first = await start('settle-a');
      await first.stop();
      const out = mkBus('settle-observer');
      buses.push(out);
      const fills: { kind: string; tokenId: string; price: number; shares: number }[] = [];
      out.subscribe(channels.fills, { group: 'settle-observer', from: 'start' }, (m) => {
        if (m.body.marketId === 'm9') fills.push(m.body);
      });
      // while it is down
      out.publish(channels.resolutions, {
        type: 'resolution',
        venue: 'polymarket',
        marketId: 'm9',
        winner: 'm9-yes',
        receiveTime: 0,
      });
      await out.flush();
      const again = await start('settle-b');
      try {
        await until('the settlement', () => fills.length > 0, 30_000);
        expect(fills).toEqual([
          expect.objectContaining({
            kind: 'settlement',
            tokenId: 'm9-yes',
            price: 1_000_000,
            shares: 7_000_000,
          }),
        ]);
      } finally {
        await again.stop();
      }
    } finally {
      for (const bus of buses) await bus.close();
    }
  }, 120_000);
});
