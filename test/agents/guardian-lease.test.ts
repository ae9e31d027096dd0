/**
 * One active risk guardian (issue 12): with a lease, a second guardian stands by — it decides nothing and consumes
 * nothing of the shared group — until the lease is free; a guardian paused past its lease (SIGSTOP) decides nothing
 * when it resumes, the holder decides the request instead, with a newer fencing token; and the executor refuses a
 * decision whose token is older than the newest guardian's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createExecutor, type Executor } from '../../src/agents/executor.ts';
import { createRiskGuardian, type RiskGuardian } from '../../src/agents/risk-guardian.ts';
import { type Agent, AgentRuntime, createIds, type Kernel } from '../../src/core/agent.ts';
import { InProcBus } from '../../src/core/bus/inproc.ts';
import { type Channel, channels } from '../../src/core/channels.ts';
import { SimClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { ExecutionReport, Order, RiskDecision } from '../../src/core/messages.ts';
import {
  createMemoryFenceStore,
  createMemoryIntentStore,
  type FenceStore,
} from '../../src/execution/intents.ts';
import { createMemoryLease, type Lease } from '../../src/execution/lease.ts';
import { $, book, leg, market, request, wideLimits } from '../risk/fixtures.ts';

const T0 = 1_700_000_000_000;
const running: AgentRuntime[] = [];
let bus: InProcBus | undefined;

afterEach(async () => {
  for (const rt of running.splice(0).reverse()) await rt.stop().catch(() => {});
  await bus?.close();
  bus = undefined;
});

function world() {
  const clock = new SimClock(T0);
  bus = new InProcBus({ name: 'g', clock });
  const b = bus;
  const collect = <T>(ch: Channel<T>): T[] => {
    const out: T[] = [];
    b.subscribe(ch, { group: `collect-${ch.name}` }, (m) => {
      out.push(m.body);
    });
    return out;
  };
  async function start(instance: string, agent: Agent): Promise<AgentRuntime> {
    const kernel: Kernel = {
      config: wideLimits,
      bus: b,
      clock,
      log: silentLogger(),
      ids: createIds(instance),
      instance,
    };
    const rt = new AgentRuntime(kernel, agent, { heartbeatMs: 3_600_000 });
    await rt.start();
    running.push(rt);
    return rt;
  }
  async function feed(): Promise<void> {
    b.publish(channels.markets('polymarket'), market('polymarket', 'm1'));
    b.publish(channels.books('polymarket'), book('polymarket', 'm1', 'm1-yes', [[0.39, 100]], [[0.4, 100]]));
    await b.idle();
  }
  /** Lets time pass in small steps, the bus settling after each (not idle(): a paused renewal never returns). */
  async function pass(ms: number, step = 250): Promise<void> {
    for (let t = 0; t < ms; t += step) {
      clock.advanceTo(clock.now() + step);
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    }
  }
  return { clock, bus: b, collect, start, feed, pass };
}

const health = (rt: AgentRuntime) => (rt.agent as RiskGuardian | Executor).health?.() ?? {};
const tenDollars = () => request([leg('polymarket', 'm1', 'buy', 0.4, 25)], { expectedEdge: $(0.5) });

describe('one active risk guardian', () => {
  it('the standby decides nothing until the holder stops, then takes over with a newer token', async () => {
    const w = world();
    const decisions = w.collect(channels.riskDecisions) as RiskDecision[];
    const lease = { holder: undefined as string | undefined, expiresAt: 0, token: 0 };
    const fences = createMemoryFenceStore();
    const mk = (name: string) =>
      createRiskGuardian({
        lease: (rt) => createMemoryLease(lease, name, () => rt.clock.now(), 3_000),
        fences,
      });
    const a = await w.start('a', mk('a'));
    const b = await w.start('b', mk('b'));
    await w.feed();
    // a PAUSE then RESUME (which resumes every subscription) leaves the standby's shared group paused
    for (const command of ['PAUSE', 'RESUME'] as const) {
      w.bus.publish(channels.system, {
        type: 'system',
        command,
        reason: 'test',
        issuedBy: 'test',
        issuedAt: T0,
      });
      await w.bus.idle();
    }
    const first = Array.from({ length: 6 }, tenDollars);
    for (const r of first) w.bus.publish(channels.tradeRequests, r);
    await w.bus.idle();
    expect(decisions).toHaveLength(6);
    expect(decisions.every((d) => d.fence === 1)).toBe(true);
    expect(health(a)).toMatchObject({ active: true, fence: 1, requests: 6 });
    expect(health(b)).toMatchObject({ active: false, requests: 0 });
    // the standby followed the market view all along
    expect((b.agent as RiskGuardian).portfolio!.bookState('polymarket', 'm1-yes')).toBeDefined();
    running.splice(running.indexOf(a), 1);
    await a.stop(); // releases the lease
    await w.pass(2_000);
    expect(health(b)).toMatchObject({ active: true, fence: 2 });
    expect(await fences.newest()).toBe(2);
    await w.feed();
    const next = tenDollars();
    w.bus.publish(channels.tradeRequests, next);
    await w.bus.idle();
    expect(decisions.find((d) => d.requestId === next.id)).toMatchObject({ fence: 2 });
  });

  it('a guardian that cannot read the stored state does not take over until it can', async () => {
    const w = world();
    const lease = { holder: undefined as string | undefined, expiresAt: 0, token: 0 };
    let storeUp = false;
    const g = await w.start(
      'g',
      createRiskGuardian({
        lease: (rt) => createMemoryLease(lease, 'g', () => rt.clock.now(), 3_000),
        reload: async () => {
          if (!storeUp) throw new Error('store unreachable');
          return undefined;
        },
      }),
    );
    expect(health(g)).toMatchObject({ active: false });
    expect(lease.holder).toBeUndefined(); // given back, not held while inactive
    storeUp = true;
    await w.pass(1_500);
    expect(health(g)).toMatchObject({ active: true });
  });

  it('a guardian paused past its lease decides nothing when it resumes; the holder decides the request', async () => {
    const w = world();
    const decisions = w.collect(channels.riskDecisions) as RiskDecision[];
    const lease = { holder: undefined as string | undefined, expiresAt: 0, token: 0 };
    let paused = false;
    // a's renewals while it is stopped get no answer; its clock goes on (it sees the lapse when it runs again)
    const pausable = (l: Lease): Lease => ({
      ...l,
      renew: () => (paused ? new Promise<boolean>(() => {}) : l.renew()),
    });
    const a = await w.start(
      'a',
      createRiskGuardian({
        lease: (rt) => pausable(createMemoryLease(lease, 'a', () => rt.clock.now(), 3_000)),
      }),
    );
    const b = await w.start(
      'b',
      createRiskGuardian({ lease: (rt) => createMemoryLease(lease, 'b', () => rt.clock.now(), 3_000) }),
    );
    await w.feed();
    expect(health(a)).toMatchObject({ active: true, fence: 1 });
    paused = true;
    // past a's lease on its own clock, before b can take it: a request reaches a, the only consumer
    await w.pass(2_750);
    expect(health(b)).toMatchObject({ active: false });
    const r = tenDollars();
    w.bus.publish(channels.tradeRequests, r);
    await w.pass(250);
    expect(decisions).toEqual([]);
    expect(health(a)).toMatchObject({ active: false, leaseLost: 1, requests: 0 });
    // b takes the lease; the request, unacked by a, comes back to the group after the visibility timeout
    await w.feed();
    await w.pass(35_000);
    expect(health(b)).toMatchObject({ active: true, fence: 2, requests: 1 });
    expect(decisions).toEqual([expect.objectContaining({ requestId: r.id, fence: 2 })]);
  });

  it('the executor refuses a decision of a guardian fenced out by a newer one', async () => {
    const w = world();
    const orders = w.collect(channels.orders) as Order[];
    const ex = await w.start('x', createExecutor({ latencyMs: 0, intents: createMemoryIntentStore() }));
    await w.feed();
    const decision = (requestId: string, fence: number): RiskDecision => ({
      type: 'risk_decision',
      id: `d-${requestId}`,
      requestId,
      strategy: 's1',
      verdict: 'approve',
      rule: 'ok',
      reason: '',
      legs: [leg('polymarket', 'm1', 'buy', 0.5, 5)],
      tif: 'IOC',
      decidedAt: T0,
      fence,
    });
    w.bus.publish(channels.riskDecisions, decision('new-guardian', 2));
    await w.bus.idle();
    w.bus.publish(channels.riskDecisions, decision('old-guardian', 1)); // published late by the paused one
    await w.bus.idle();
    expect([...new Set(orders.map((o) => o.requestId))]).toEqual(['new-guardian']);
    expect(health(ex)).toMatchObject({ claimed: 1, staleDecisions: 1 });
  });
  it('a decision the executor refuses as stale releases its reservation at the guardian that took over', async () => {
    // The handover race: guardian a approves r (reserving it), its decision is persisted, then a loses the lease
    // before its decision reaches the executor. b takes over with the stored state (r decided, r's reservation
    // pending) and a newer fence; a's late decision is refused as stale. Nobody executes r: the refusal must end
    // it, or b holds r's reservation (and every later takeover restores it) for ever.
    const w = world();
    const decisions = w.collect(channels.riskDecisions) as RiskDecision[];
    const reports = w.collect(channels.executions) as ExecutionReport[];
    const lease = { holder: undefined as string | undefined, expiresAt: 0, token: 0 };
    const intents = createMemoryIntentStore();
    // the guardian fence where the executors check it (the database: one row for both)
    const fences: FenceStore = {
      async advance(token) {
        if (token < (intents.shared.guardianFence ?? 0)) return false;
        intents.shared.guardianFence = token;
        return true;
      },
      async newest() {
        return intents.shared.guardianFence ?? 0;
      },
    };
    const a = await w.start(
      'a',
      createRiskGuardian({
        lease: (rt) => createMemoryLease(lease, 'a', () => rt.clock.now(), 3_000),
        fences,
      }),
    );
    await w.feed();
    const r = tenDollars();
    w.bus.publish(channels.tradeRequests, r);
    await w.bus.idle();
    const late = decisions.find((d) => d.requestId === r.id)!;
    expect(late).toMatchObject({ verdict: 'approve', fence: 1 });
    // what the store holds at the handover: a's account state, r decided and its approval without a report
    const stored = (a.agent as RiskGuardian).snapshot()!;
    const b = await w.start(
      'b',
      createRiskGuardian({
        lease: (rt) => createMemoryLease(lease, 'b', () => rt.clock.now(), 3_000),
        fences,
        reload: async () => ({
          risk: { ...stored, reservations: [] },
          pending: [{ requestId: r.id, strategy: r.strategy, legs: late.legs }],
          decided: [r.id],
        }),
      }),
    );
    running.splice(running.indexOf(a), 1);
    await a.stop();
    await w.pass(2_000);
    expect(health(b)).toMatchObject({ active: true, fence: 2 });
    const pf = (b.agent as RiskGuardian).portfolio!;
    expect(pf.reservedRequests()).toBe(1);
    // a's decision reaches the executor only now
    const ex = await w.start('x', createExecutor({ latencyMs: 0, intents }));
    await w.feed();
    w.bus.publish(channels.riskDecisions, late);
    await w.bus.idle();
    expect(health(ex)).toMatchObject({ staleDecisions: 1, claimed: 0 });
    expect(reports.filter((x) => x.requestId === r.id)).toEqual([
      expect.objectContaining({ status: 'rejected', fills: 0 }),
    ]);
    expect(pf.reservedRequests()).toBe(0);
    expect(pf.strategyExposure(r.strategy)).toBe(0);
    expect(pf.openOrders).toBe(0);
    // a redelivery of r is no new request: b does not approve (and reserve) it again
    const before = decisions.length;
    w.bus.publish(channels.tradeRequests, r);
    await w.bus.idle();
    expect(decisions).toHaveLength(before);
    expect(pf.reservedRequests()).toBe(0);
  });

  it('after a stale refusal the request is finished: a newer decision of it is not executed, and released', async () => {
    const w = world();
    const orders = w.collect(channels.orders) as Order[];
    const reports = w.collect(channels.executions) as ExecutionReport[];
    const intents = createMemoryIntentStore();
    intents.shared.guardianFence = 2;
    const ex = await w.start('x', createExecutor({ latencyMs: 0, intents }));
    // b (fence 2) decides r too, reserving it, before the refusal of a's decision reaches it
    const g = await w.start('g', createRiskGuardian({}));
    await w.feed();
    const pf = (g.agent as RiskGuardian).portfolio!;
    const r = tenDollars();
    const decision = (fence: number): RiskDecision => ({
      type: 'risk_decision',
      id: `d-${fence}`,
      requestId: r.id,
      strategy: r.strategy,
      verdict: 'approve',
      rule: 'ok',
      reason: '',
      legs: r.legs,
      tif: 'IOC',
      decidedAt: T0,
      fence,
    });
    pf.reserve(r.id, r.strategy, r.legs);
    w.bus.publish(channels.riskDecisions, decision(1));
    await w.bus.idle();
    w.bus.publish(channels.riskDecisions, decision(2));
    await w.bus.idle();
    expect(orders).toEqual([]);
    expect(reports).toEqual([expect.objectContaining({ requestId: r.id, status: 'rejected' })]);
    expect(health(ex)).toMatchObject({ staleDecisions: 1, claimed: 0, duplicates: 1 });
    expect(pf.reservedRequests()).toBe(0);
  });

  it('a stale decision of a request a newer decision already executes adds no second report', async () => {
    const w = world();
    const orders = w.collect(channels.orders) as Order[];
    const reports = w.collect(channels.executions) as ExecutionReport[];
    const intents = createMemoryIntentStore();
    const ex = await w.start('x', createExecutor({ latencyMs: 0, intents }));
    await w.feed();
    const base: RiskDecision = {
      type: 'risk_decision',
      id: 'd-new',
      requestId: 'r1',
      strategy: 's1',
      verdict: 'approve',
      rule: 'ok',
      reason: '',
      legs: [leg('polymarket', 'm1', 'buy', 0.5, 5)],
      tif: 'IOC',
      decidedAt: T0,
      fence: 2,
    };
    w.bus.publish(channels.riskDecisions, base);
    await w.bus.idle();
    w.bus.publish(channels.riskDecisions, { ...base, id: 'd-old', fence: 1 });
    await w.bus.idle();
    expect([...new Set(orders.map((o) => o.requestId))]).toEqual(['r1']);
    // (the executor knows r1 as taken: the late one is a duplicate, never claimed or reported)
    expect(reports).toEqual([expect.objectContaining({ requestId: 'r1', status: 'filled' })]);
    expect(health(ex)).toMatchObject({ claimed: 1, duplicates: 1 });
  });
});
