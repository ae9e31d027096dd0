/**
 * Exactly-once execution across restarts and executors (issue 12, item 2): the failures of the fault-injection
 * probe, each as a test — a decision taken but not executed before a crash is executed once after; a restarted
 * executor never sends a second order for a decision already executed; two executors of one group execute each
 * decision once; an executor paused past its lease cannot execute after it resumes; a paper order that died with
 * its process gets its ExecutionReport (the guardian's reservation is released).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createExecutor, type Executor } from '../../src/agents/executor.ts';
import { createRiskGuardian } from '../../src/agents/risk-guardian.ts';
import { type Agent, AgentRuntime, createIds, type Kernel } from '../../src/core/agent.ts';
import { InProcBus } from '../../src/core/bus/inproc.ts';
import { type Channel, channels } from '../../src/core/channels.ts';
import { SimClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { ExecutionReport, Fill, Order, RiskDecision } from '../../src/core/messages.ts';
import {
  createMemoryIntentStore,
  type ExecutionIntent,
  type IntentStore,
} from '../../src/execution/intents.ts';
import { createMemoryLease, type ExecutorLease } from '../../src/execution/lease.ts';
import type { ExecutionClient, OrderReport, OrderRequest } from '../../src/execution/types.ts';
import { book, config, leg, market } from '../risk/fixtures.ts';

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
  bus = new InProcBus({ name: 't', clock });
  const b = bus;
  const collect = <T>(ch: Channel<T>): T[] => {
    const out: T[] = [];
    b.subscribe(ch, { group: `collect-${ch.name}` }, (m) => {
      out.push(m.body);
    });
    return out;
  };
  const out = {
    orders: collect(channels.orders) as Order[],
    fills: collect(channels.fills) as Fill[],
    reports: collect(channels.executions) as ExecutionReport[],
  };
  const kernel = (instance: string): Kernel => ({
    config,
    bus: b,
    clock,
    log: silentLogger(),
    ids: createIds(instance),
    instance,
  });
  async function start(instance: string, agent: Agent): Promise<AgentRuntime> {
    const rt = new AgentRuntime(kernel(instance), agent, { heartbeatMs: 3_600_000 });
    await rt.start();
    running.push(rt);
    return rt;
  }
  async function stop(rt: AgentRuntime): Promise<void> {
    running.splice(running.indexOf(rt), 1);
    await rt.stop();
  }
  /** The markets and books every executor needs (sent again after one starts: its market groups begin then). */
  async function feed(): Promise<void> {
    b.publish(channels.markets('polymarket'), market('polymarket', 'm1'));
    b.publish(
      channels.books('polymarket'),
      book('polymarket', 'm1', 'm1-yes', [[0.4, 1000]], [[0.45, 1000]]),
    );
    await b.idle();
  }
  async function send(d: RiskDecision): Promise<void> {
    b.publish(channels.riskDecisions, d);
    await b.idle();
  }
  /** Lets time pass (visibility timeouts, lease timers) in small steps, the bus settling after each. */
  async function pass(ms: number, step = 250): Promise<void> {
    for (let t = 0; t < ms; t += step) {
      clock.advanceTo(clock.now() + step);
      // not idle(): a paused process's handler never returns
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    }
  }
  return { clock, bus: b, ...out, start, stop, feed, send, pass };
}

let n = 0;
function decision(shares = 10): RiskDecision {
  n++;
  return {
    type: 'risk_decision',
    id: `d-${n}`,
    requestId: `req-${n}`,
    strategy: 's1',
    verdict: 'approve',
    rule: 'ok',
    reason: '',
    legs: [leg('polymarket', 'm1', 'buy', 0.5, shares)],
    tif: 'IOC',
    decidedAt: T0,
  };
}

const ordersOf = (orders: Order[], requestId: string): string[] => [
  ...new Set(orders.filter((o) => o.requestId === requestId).map((o) => o.id)),
];

/** A store wrapper: `beforeClaim` runs after the intent was written (a crash there) or before (a pause there). */
function wrapped(
  inner: IntentStore,
  hooks: { afterWrite?: () => Promise<void> | void; beforeClaim?: () => Promise<void> },
): IntentStore {
  return {
    ...inner,
    claim: async (d, ctx) => {
      await hooks.beforeClaim?.();
      const r = await inner.claim(d, ctx);
      await hooks.afterWrite?.();
      return r;
    },
  };
}

describe('exactly-once execution', () => {
  it('a decision recorded but not executed when the executor died is executed once by the next one', async () => {
    const w = world();
    const store = createMemoryIntentStore();
    let dead = false;
    // the first executor dies right after its intent is written: before any order, before the ack
    const a = await w.start(
      'a',
      createExecutor({
        latencyMs: 0,
        intents: wrapped(store, {
          afterWrite: () => {
            if (!dead) return;
            throw new Error('killed');
          },
        }),
      }),
    );
    await w.feed();
    dead = true;
    const d = decision();
    await w.send(d);
    expect(w.orders).toHaveLength(0);
    expect([...store.shared.intents.values()].map((i) => i.state)).toEqual(['claimed']);
    // the next executor comes up (resuming the claimed intent), then the dead one's unacked decision comes back
    const b = await w.start('b', createExecutor({ latencyMs: 0, intents: store }));
    await w.feed();
    await w.stop(a);
    await w.pass(31_000);
    // b resumed the claimed intent at start (no books yet: a FAK that found nothing) and never ran it a second time
    expect(ordersOf(w.orders, d.requestId)).toEqual([`${d.requestId}.0`]);
    expect(w.reports.filter((r) => r.requestId === d.requestId)).toHaveLength(1);
    // the redelivered decision was recognised (as resumed in this life), not executed again
    expect((b.agent as Executor).health?.()).toMatchObject({ decisions: 2, duplicates: 1, resumed: 1 });
    expect(store.shared.intents.get(d.requestId)?.state).toBe('done');
  });

  it('a restarted executor that forgot everything never sends a second order for an executed decision', async () => {
    const w = world();
    const store = createMemoryIntentStore();
    const a = await w.start('a', createExecutor({ latencyMs: 0, intents: store }));
    await w.feed();
    const d = decision();
    await w.send(d);
    expect(w.fills).toHaveLength(1);
    await w.stop(a);
    // a new life with no memory (no restored state), the same decision delivered again
    await w.start('a2', createExecutor({ latencyMs: 0, intents: store }));
    await w.feed();
    await w.send(d);
    expect(ordersOf(w.orders, d.requestId)).toEqual([`${d.requestId}.0`]);
    expect(w.fills).toHaveLength(1);
    expect(w.reports).toHaveLength(1);
  });

  it('a paper order that died with its process is closed with its report; fills already stored stand', async () => {
    const w = world();
    const intent: ExecutionIntent = {
      requestId: 'req-dead',
      account: 'paper',
      decision: { ...decision(), requestId: 'req-dead' },
      state: 'submitted',
      owner: 'gone',
      fence: 0,
      createdAt: T0,
      updatedAt: T0,
      legs: { 0: { status: 'partially_filled', filledShares: 3_000_000 } },
    };
    const store = createMemoryIntentStore();
    store.shared.intents.set(intent.requestId, intent);
    await w.start('b', createExecutor({ latencyMs: 0, intents: store }));
    await w.bus.idle();
    expect(w.fills).toHaveLength(0); // nothing traded again
    expect(w.orders).toEqual([
      expect.objectContaining({ id: 'req-dead.0', status: 'cancelled', filledShares: 3_000_000 }),
    ]);
    expect(w.reports).toEqual([expect.objectContaining({ requestId: 'req-dead', status: 'partial' })]);
    expect(store.shared.intents.get('req-dead')?.state).toBe('done');
  });

  it('an approval the in-process bus lost in a restart (never claimed) ends with a rejected report; one claimed is resumed', async () => {
    // `pm-arb run` (in-process bus, a store): the guardian approved two requests and the store has both decisions
    // without a report; the executor had claimed one, the other was still on the bus when the process stopped.
    // After the restart the guardian reserves both again (RecoveryState.pendingDecisions); nothing will ever
    // execute the lost one, so without its report that reservation is held for ever.
    const w = world();
    const lost = { ...decision(), requestId: 'req-lost' };
    const claimed = { ...decision(), requestId: 'req-claimed' };
    const store = createMemoryIntentStore();
    store.shared.intents.set('req-claimed', {
      requestId: 'req-claimed',
      account: 'paper',
      decision: claimed,
      state: 'submitted',
      owner: 'gone',
      fence: 0,
      createdAt: T0,
      updatedAt: T0,
    });
    const pending = [lost, claimed].map((d) => ({
      requestId: d.requestId,
      strategy: d.strategy,
      legs: d.legs,
    }));
    const guardian = createRiskGuardian({ pending, decided: pending.map((p) => p.requestId) });
    await w.start('g', guardian);
    expect(guardian.portfolio!.reservedRequests()).toBe(2);
    await w.start('b', createExecutor({ latencyMs: 0, intents: store, lost: pending }));
    await w.bus.idle();
    expect(w.fills).toHaveLength(0);
    expect(w.reports.map((r) => [r.requestId, r.status])).toEqual([
      ['req-claimed', 'failed'],
      ['req-lost', 'rejected'],
    ]);
    expect(guardian.portfolio!.reservedRequests()).toBe(0);
    expect(guardian.portfolio!.openOrders).toBe(0);
  });

  it('a live intent left in flight is sent again as `resumed` (the live client looks it up by client order id)', async () => {
    const w = world();
    const sent: OrderRequest[] = [];
    const listeners: ((r: OrderReport) => void)[] = [];
    const live: ExecutionClient = {
      venue: 'polymarket',
      mode: 'live',
      async submit(q) {
        sent.push(q);
        // the venue had it: the lookup finds it, already done
        for (const l of listeners)
          l({ clientOrderId: q.clientOrderId, venue: 'polymarket', status: 'cancelled', ts: w.clock.now() });
      },
      async cancel() {},
      async cancelAll() {},
      async status() {
        return undefined;
      },
      onReport(l) {
        listeners.push(l);
        return () => {};
      },
    };
    const d = { ...decision(), requestId: 'req-live' };
    const store = createMemoryIntentStore('live:polymarket');
    store.shared.intents.set(d.requestId, {
      requestId: d.requestId,
      account: 'live:polymarket',
      decision: d,
      state: 'submitted',
      owner: 'gone',
      fence: 0,
      createdAt: T0,
      updatedAt: T0,
    });
    await w.start('b', createExecutor({ intents: store, clients: () => new Map([['polymarket', live]]) }));
    await w.bus.idle();
    expect(sent).toEqual([
      expect.objectContaining({ clientOrderId: 'req-live.0', resumed: true, decidedAt: d.decidedAt }),
    ]);
    expect(w.reports).toEqual([expect.objectContaining({ requestId: 'req-live' })]);
    // a new decision is no resumption
    await w.send(decision());
    expect(sent.at(-1)?.resumed).toBeUndefined();
  });

  it('two executors of one group: one is active, every decision executed exactly once', async () => {
    const w = world();
    const shared = { intents: new Map<string, ExecutionIntent>(), fence: 0 };
    const lease = { holder: undefined as string | undefined, expiresAt: 0, token: 0 };
    const mk = (name: string) =>
      createExecutor({
        latencyMs: 0,
        intents: createMemoryIntentStore('paper', shared),
        lease: (rt) => createMemoryLease(lease, name, () => rt.clock.now(), 3_000),
      });
    const a = await w.start('a', mk('a'));
    const b = await w.start('b', mk('b'));
    await w.feed();
    const ds = Array.from({ length: 20 }, () => decision(5));
    for (const d of ds) await w.send(d);
    await w.pass(2_000);
    for (const d of ds) expect(ordersOf(w.orders, d.requestId)).toEqual([`${d.requestId}.0`]);
    expect(w.fills).toHaveLength(20);
    expect(w.reports).toHaveLength(20);
    expect((a.agent as Executor).health?.()).toMatchObject({ active: true, claimed: 20 });
    expect((b.agent as Executor).health?.()).toMatchObject({ active: false });
    expect((b.agent as Executor).health?.().claimed).toBe(0);
  });

  it('a standby taking over reads the holdings the previous executor left in the store', async () => {
    const w = world();
    const shared = { intents: new Map<string, ExecutionIntent>(), fence: 0 };
    const lease = { holder: undefined as string | undefined, expiresAt: 0, token: 0 };
    const stored = {
      version: 1 as const,
      inventory: [
        {
          strategy: 's1',
          venue: 'polymarket' as const,
          marketId: 'm1',
          tokenId: 'm1-yes',
          shares: 9_000_000,
        },
      ],
      requests: ['req-earlier'],
    };
    const mk = (name: string) =>
      createExecutor({
        latencyMs: 0,
        initial: { version: 1, inventory: [], requests: [] },
        intents: createMemoryIntentStore('paper', shared),
        lease: (rt) => createMemoryLease(lease, name, () => rt.clock.now(), 3_000),
        reload: async () => stored,
      });
    const a = await w.start('a', mk('a'));
    const b = await w.start('b', mk('b'));
    // the first at its start keeps the state it was given; the standby has not taken anything yet
    expect((a.agent as Executor).snapshot().inventory).toEqual([]);
    await w.stop(a); // releases the lease
    await w.pass(2_000);
    expect((b.agent as Executor).health?.()).toMatchObject({ active: true });
    expect((b.agent as Executor).snapshot()).toMatchObject({ inventory: stored.inventory });
    expect((b.agent as Executor).snapshot().requests).toContain('req-earlier');
  });

  it('an executor paused past its lease cannot execute the decision it held once it resumes', async () => {
    const w = world();
    const shared = { intents: new Map<string, ExecutionIntent>(), fence: 0 };
    const lease = { holder: undefined as string | undefined, expiresAt: 0, token: 0 };
    let paused = false;
    let wake: () => void = () => {};
    const frozen = new Promise<void>((r) => {
      wake = r;
    });
    /** a's lease while it is stopped: it renews nothing (the process is not running). */
    const pausable = (l: ExecutorLease): ExecutorLease => ({
      ...l,
      renew: () => (paused ? Promise.resolve(true) : l.renew()),
      validAt: (t) => l.validAt(t) || paused, // a stopped process checks nothing: only the store can fence it
    });
    const a = await w.start(
      'a',
      createExecutor({
        latencyMs: 0,
        intents: wrapped(createMemoryIntentStore('paper', shared), {
          beforeClaim: () => (paused ? frozen : Promise.resolve()),
        }),
        lease: (rt) => pausable(createMemoryLease(lease, 'a', () => rt.clock.now(), 3_000)),
      }),
    );
    const b = await w.start(
      'b',
      createExecutor({
        latencyMs: 0,
        intents: createMemoryIntentStore('paper', shared),
        lease: (rt) => createMemoryLease(lease, 'b', () => rt.clock.now(), 3_000),
      }),
    );
    await w.feed();
    expect((a.agent as Executor).health?.()).toMatchObject({ active: true, fence: 1 });
    paused = true; // SIGSTOP with the decision in hand, before its intent is written
    const d = decision();
    w.bus.publish(channels.riskDecisions, d); // a takes it, and stops mid-handler
    await w.pass(40_000); // the lease lapses, b takes it; the decision comes back to b after the timeout
    expect((b.agent as Executor).health?.()).toMatchObject({ active: true, fence: 2, claimed: 1 });
    expect(ordersOf(w.orders, d.requestId)).toEqual([`${d.requestId}.0`]);
    paused = false;
    wake(); // SIGCONT: a goes on where it stopped
    await w.pass(2_000);
    expect((a.agent as Executor).health?.()).toMatchObject({ active: false, fenced: 1, claimed: 0 });
    expect(w.orders.filter((o) => o.requestId === d.requestId && o.status === 'new')).toHaveLength(1);
    expect(w.fills).toHaveLength(1);
    expect(w.reports).toHaveLength(1);
  });

  it('a paper executor paused past its lease produces no fill for the orders it had sent', async () => {
    const w = world();
    const shared = { intents: new Map<string, ExecutionIntent>(), fence: 0 };
    const lease = { holder: undefined as string | undefined, expiresAt: 0, token: 0 };
    let paused = false;
    let wake: (v: boolean) => void = () => {};
    const frozen = new Promise<boolean>((r) => {
      wake = r;
    });
    // a's renewals while it is stopped never get an answer (the process is not running); its own clock goes on
    const pausable = (l: ExecutorLease): ExecutorLease => ({
      ...l,
      renew: () => (paused ? frozen : l.renew()),
    });
    const a = await w.start(
      'a',
      createExecutor({
        latencyMs: 8_000, // the order is on its way to the venue when a stops
        intents: createMemoryIntentStore('paper', shared),
        lease: (rt) => pausable(createMemoryLease(lease, 'a', () => rt.clock.now(), 3_000)),
      }),
    );
    const b = await w.start(
      'b',
      createExecutor({
        latencyMs: 0,
        intents: createMemoryIntentStore('paper', shared),
        lease: (rt) => createMemoryLease(lease, 'b', () => rt.clock.now(), 3_000),
      }),
    );
    await w.feed();
    expect((a.agent as Executor).health?.()).toMatchObject({ active: true, fence: 1 });
    const d = decision();
    await w.send(d);
    expect(shared.intents.get(d.requestId)?.state).toBe('submitted');
    paused = true; // SIGSTOP with the order in flight
    // the lease lapses, b takes over and closes the intent a left (its report releases the reservation); then a's
    // order reaches the paper venue, whose book would fill it
    await w.pass(20_000);
    expect((b.agent as Executor).health?.()).toMatchObject({ active: true, fence: 2 });
    paused = false;
    wake(false); // SIGCONT: its renewal is answered, the lease is b's
    await w.pass(2_000);
    await w.bus.idle();
    expect(w.fills).toEqual([]);
    expect(w.reports).toEqual([expect.objectContaining({ requestId: d.requestId, status: 'failed' })]);
    const mine = w.orders.filter((o) => o.id === `${d.requestId}.0` && o.status === 'cancelled');
    expect(mine.length).toBeGreaterThan(0);
    expect((a.agent as Executor).health?.()).toMatchObject({ active: false, reportsDropped: 1 });
  });

  it('a paper executor that lost its lease ends its resting orders: none fills later', async () => {
    const w = world();
    const shared = { intents: new Map<string, ExecutionIntent>(), fence: 0 };
    const lease = { holder: undefined as string | undefined, expiresAt: 0, token: 0 };
    const a = await w.start(
      'a',
      createExecutor({
        latencyMs: 0,
        intents: createMemoryIntentStore('paper', shared),
        lease: (rt) => createMemoryLease(lease, 'a', () => rt.clock.now(), 3_000),
      }),
    );
    await w.feed();
    // a GTC buy below the ask rests on the paper book
    const d = { ...decision(), tif: 'GTC' as const, legs: [leg('polymarket', 'm1', 'buy', 0.42, 10)] };
    await w.send(d);
    expect((a.agent as Executor).restingOrders()).toBe(1);
    // the lease is taken from under it (expired and acquired elsewhere while a could not renew)
    lease.holder = 'other';
    lease.expiresAt = w.clock.now() + 60_000;
    lease.token++;
    await w.pass(2_000);
    expect((a.agent as Executor).health?.()).toMatchObject({ active: false, leaseLost: 1 });
    expect((a.agent as Executor).restingOrders()).toBe(0);
    // the ask comes down through its price: nothing fills
    w.bus.publish(
      channels.books('polymarket'),
      book('polymarket', 'm1', 'm1-yes', [[0.38, 1000]], [[0.4, 1000]]),
    );
    await w.bus.idle();
    expect(w.fills).toEqual([]);
  });

  it('a fenced-out executor finishing an order the holder already closed publishes no second report', async () => {
    const w = world();
    const shared = { intents: new Map<string, ExecutionIntent>(), fence: 0 };
    // b's venue: takes the order and answers only when told (b is SIGSTOPped with the order submitted)
    const held: OrderRequest[] = [];
    const listeners: ((r: OrderReport) => void)[] = [];
    const slow: ExecutionClient = {
      venue: 'polymarket',
      mode: 'paper',
      async submit(q) {
        held.push(q);
      },
      async cancel() {},
      async cancelAll() {},
      async status() {
        return undefined;
      },
      onReport(l) {
        listeners.push(l);
        return () => {};
      },
    };
    const b = await w.start(
      'b',
      createExecutor({
        intents: createMemoryIntentStore('paper', shared),
        clients: () => new Map([['polymarket', slow]]),
      }),
    );
    await w.feed();
    const d = decision();
    await w.send(d);
    expect(held.map((q) => q.clientOrderId)).toEqual([`${d.requestId}.0`]);
    expect(shared.intents.get(d.requestId)?.state).toBe('submitted');
    // the next holder (a2) takes over and closes the paper intent it finds unfinished, with its report
    await w.start('a2', createExecutor({ latencyMs: 0, intents: createMemoryIntentStore('paper', shared) }));
    await w.bus.idle();
    expect(w.reports).toEqual([expect.objectContaining({ requestId: d.requestId, status: 'failed' })]);
    expect(shared.intents.get(d.requestId)?.state).toBe('done');
    // b resumes (SIGCONT): its order ends; its report must not go out, the intent being closed already
    for (const l of listeners)
      l({ clientOrderId: `${d.requestId}.0`, venue: 'polymarket', status: 'cancelled', ts: w.clock.now() });
    await w.pass(1_000);
    await w.bus.idle();
    expect(w.reports).toHaveLength(1);
    expect((b.agent as Executor).health?.()).toMatchObject({ reportsDropped: 1 });
  });

  it('execution report ids derive from the request: a republished report is the same report', async () => {
    const w = world();
    await w.start('a', createExecutor({ latencyMs: 0, intents: createMemoryIntentStore() }));
    await w.feed();
    const d = decision();
    await w.send(d);
    await w.pass(1_000);
    expect(w.reports.map((r) => r.id)).toEqual([`${d.requestId}.exec`]);
  });

  it('a done intent whose report never reached the store (its executor died first) has it published again', async () => {
    const w = world();
    const d = { ...decision(), requestId: 'req-lost' };
    const store = createMemoryIntentStore();
    const intent: ExecutionIntent = {
      requestId: d.requestId,
      account: 'paper',
      decision: d,
      state: 'done',
      owner: 'gone',
      fence: 0,
      createdAt: T0,
      updatedAt: T0,
      legs: { 0: { status: 'cancelled', filledShares: 0 } },
    };
    store.shared.intents.set(d.requestId, intent);
    // the database store lists it (done, no stored report); memory lists only what is not done
    const lists: IntentStore = { ...store, unfinished: async () => [intent] };
    await w.start('b', createExecutor({ latencyMs: 0, intents: lists }));
    await w.bus.idle();
    await w.pass(500);
    expect(w.reports).toEqual([expect.objectContaining({ id: 'req-lost.exec', requestId: 'req-lost' })]);
    expect(w.orders).toEqual([]); // its order had ended: nothing sent, nothing closed again
  });

  it('a done intent whose orders the store does not hold yet (the persister behind) gets its report, no order record', async () => {
    const w = world();
    const d = { ...decision(), requestId: 'req-behind' };
    // done by another executor, which published its order (filled) and report; neither is stored yet
    const intent: ExecutionIntent = {
      requestId: d.requestId,
      account: 'paper',
      decision: d,
      state: 'done',
      owner: 'other',
      fence: 0,
      createdAt: T0,
      updatedAt: T0,
    };
    const store = createMemoryIntentStore();
    store.shared.intents.set(d.requestId, intent);
    const lists: IntentStore = { ...store, unfinished: async () => [intent] };
    await w.start('b', createExecutor({ latencyMs: 0, intents: lists }));
    await w.bus.idle();
    await w.pass(500);
    // the report again, under the same id (a duplicate downstream when the first one got out)
    expect(w.reports.map((r) => r.id)).toEqual(['req-behind.exec']);
    // no record closing its order as cancelled with nothing filled: that would overwrite the filled one
    expect(w.orders).toEqual([]);
  });
});
