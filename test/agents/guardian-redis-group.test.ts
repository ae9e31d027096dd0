/**
 * Two risk guardians of one consumer group on the Redis bus, each with its own bus connection (as two processes),
 * the Redis guardian lease and one store: before, they split the requests and the market data between them, so
 * each judged the limits on half the approvals (two guardians with a limit of 4 open orders approved 6) and half
 * the books. Now one is active and the other stands by; when the active one dies (no release: its lease expires),
 * the standby takes over with the state the store holds (the approvals still reserved), and its decisions carry a
 * newer fencing token than the dead one's.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createPersister } from '../../src/agents/persister.ts';
import { createRiskGuardian, type RiskGuardian } from '../../src/agents/risk-guardian.ts';
import { AgentRuntime, createIds, type Kernel } from '../../src/core/agent.ts';
import { createRedisBus } from '../../src/core/bus/redis.ts';
import type { Bus } from '../../src/core/bus/types.ts';
import { channels } from '../../src/core/channels.ts';
import { wallClock } from '../../src/core/clock.ts';
import type { Config } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { RiskDecision } from '../../src/core/messages.ts';
import { createRedisLease, type Lease } from '../../src/execution/lease.ts';
import { openDb } from '../../src/store/db.ts';
import { createDbFenceStore } from '../../src/store/intents.ts';
import { migrate } from '../../src/store/migrations.ts';
import { loadRecoveryState } from '../../src/store/queries.ts';
import { restoreStates } from '../../src/store/restore.ts';
import { $, book, leg, market, request, wideLimits } from '../risk/fixtures.ts';

const REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:guard-group:${process.pid}:${randomBytes(4).toString('hex')}:`;

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

describe('two risk guardians in one group on Redis', () => {
  it('one active guardian judges every request on the whole view; the standby takes over with the stored state', async () => {
    const db = await openDb({ dataDir: 'memory://' });
    await migrate(db);
    const buses: Bus[] = [];
    const runtimes: AgentRuntime[] = [];
    // the loss budgets wide open: the open-orders limit is the one that binds
    const cfg: Config = {
      ...wideLimits,
      redisKeyPrefix: prefix,
      risk: { ...wideLimits.risk, maxOpenOrders: 4 },
    };
    const mkBus = (name: string) =>
      createRedisBus({ url: REDIS, name, maxLen: 10_000, keyPrefix: prefix, log: silentLogger() });
    const kernel = (instance: string): Kernel => {
      const bus = mkBus(instance);
      buses.push(bus);
      return {
        config: cfg,
        bus,
        clock: wallClock(),
        log: silentLogger(),
        ids: createIds(instance),
        instance,
      };
    };
    /** A crashed guardian's lease: never renewed again, never released (it expires). */
    const crashed = new Set<string>();
    const crashable = (l: Lease, owner: string): Lease => ({
      ...l,
      renew: () => (crashed.has(owner) ? new Promise<boolean>(() => {}) : l.renew()),
      release: () => (crashed.has(owner) ? Promise.resolve() : l.release()),
    });
    try {
      const persister = new AgentRuntime(
        kernel('persister'),
        createPersister({ db, migrate: false, flushIntervalMs: 5, pruneEveryMs: 0 }),
        { heartbeatMs: 3_600_000 },
      );
      await persister.start();
      runtimes.push(persister);
      const start = async (instance: string): Promise<AgentRuntime> => {
        const g = createRiskGuardian({
          lease: (rt) =>
            crashable(
              createRedisLease({
                url: REDIS,
                keyPrefix: prefix,
                role: 'risk-guardian',
                account: 'all',
                owner: instance,
                ttlMs: 1_500,
                now: () => rt.clock.now(),
              }),
              instance,
            ),
          fences: createDbFenceStore(db),
          reload: async () => {
            const r = restoreStates(await loadRecoveryState(db), cfg, Date.now());
            return { risk: r.risk, pending: r.pendingDecisions, decided: r.decidedRequests };
          },
        });
        const rt = new AgentRuntime(kernel(instance), g, { heartbeatMs: 3_600_000 });
        await rt.start();
        runtimes.push(rt);
        return rt;
      };
      const a = await start('guard-a');
      const b = await start('guard-b');
      const health = (rt: AgentRuntime) => (rt.agent as RiskGuardian).health?.() ?? {};
      expect(health(a)).toMatchObject({ active: true, fence: expect.any(Number) });
      expect(health(b)).toMatchObject({ active: false });

      const out = mkBus('observer');
      buses.push(out);
      const decisions: RiskDecision[] = [];
      out.subscribe(channels.riskDecisions, { group: 'observer', from: 'start' }, (m) => {
        decisions.push(m.body);
      });
      const ids = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'];
      const publishBooks = async () => {
        for (const id of ids) {
          out.publish(channels.markets('polymarket'), market('polymarket', id));
          out.publish(
            channels.books('polymarket'),
            book('polymarket', id, `${id}-yes`, [[0.39, 100]], [[0.4, 100]]),
          );
        }
        await out.flush();
      };
      await publishBooks();
      // both follow the market view: each has every book before a request comes
      const books = (rt: AgentRuntime) => (rt.agent as RiskGuardian).portfolio!;
      await until('both guardians have every book', () =>
        [a, b].every((rt) => ids.every((id) => books(rt).bookState('polymarket', `${id}-yes`) !== undefined)),
      );
      // $10 each, one per market (no market limit binds): the open-orders limit of 4 does
      const ask = (id: string) => request([leg('polymarket', id, 'buy', 0.4, 25)], { expectedEdge: $(0.5) });
      const first = ids.slice(0, 6).map(ask);
      for (const r of first) out.publish(channels.tradeRequests, r);
      await out.flush();
      await until('six decisions', () => decisions.length >= 6);
      const fenceA = Number(health(a).fence);
      expect(decisions.map((d) => d.fence)).toEqual(Array(6).fill(fenceA));
      expect(decisions.filter((d) => d.verdict === 'approve')).toHaveLength(4);
      expect(decisions.filter((d) => d.verdict === 'reject').map((d) => d.rule)).toEqual([
        'max_open_orders',
        'max_open_orders',
      ]);
      expect(health(b)).toMatchObject({ active: false, requests: 0 });
      const stored = async () =>
        Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM risk_decisions')).rows[0]!.n);
      await until('the decisions stored', async () => (await stored()) === 6);

      // a dies (SIGKILL): its lease is neither renewed nor released; its connection goes
      crashed.add('guard-a');
      runtimes.splice(runtimes.indexOf(a), 1);
      await buses[1]!.close();
      await until('b active', () => health(b).active === true);
      const fenceB = Number(health(b).fence);
      expect(fenceB).toBeGreaterThan(fenceA);
      // b took the four approvals still reserved from the store: the limit holds across the takeover
      await publishBooks();
      const more = ask('m7');
      out.publish(channels.tradeRequests, more);
      await out.flush();
      await until('the decision of b', () => decisions.some((d) => d.requestId === more.id));
      expect(decisions.find((d) => d.requestId === more.id)).toMatchObject({
        verdict: 'reject',
        rule: 'max_open_orders',
        fence: fenceB,
      });
      // an execution report releases one (b consumes the account channels now): the next request is approved
      const done = decisions.find((d) => d.verdict === 'approve')!;
      out.publish(channels.executions, {
        type: 'execution_report',
        id: `${done.requestId}.exec`,
        requestId: done.requestId,
        strategy: 's1',
        status: 'failed',
        fills: 0,
        legRiskCost: 0,
        fees: 0,
        ts: Date.now(),
      });
      await out.flush();
      await until('b saw the report', () => books(b).openOrders === 3);
      const last = ask('m7');
      out.publish(channels.tradeRequests, last);
      await out.flush();
      await until('the last decision', () => decisions.some((d) => d.requestId === last.id));
      expect(decisions.find((d) => d.requestId === last.id)).toMatchObject({
        verdict: 'approve',
        fence: fenceB,
      });
      expect(decisions).toHaveLength(8);
      expect(await createDbFenceStore(db).newest()).toBe(fenceB);
    } finally {
      for (const rt of runtimes.reverse()) await rt.stop().catch(() => {});
      for (const bus of buses) await bus.close().catch(() => {});
      await db.close();
    }
  }, 180_000);
});
