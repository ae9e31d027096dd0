import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Agent, AgentRuntime, createIds, type Kernel, startAgents } from '../../src/core/agent.ts';
import { createInProcBus } from '../../src/core/bus/inproc.ts';
import { createRedisBus } from '../../src/core/bus/redis.ts';
import type { Bus } from '../../src/core/bus/types.ts';
import { channels, type DeadLetter } from '../../src/core/channels.ts';
import { SimClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { AgentState, Heartbeat, SystemCommand } from '../../src/core/messages.ts';
import { waitFor } from '../contract/bus-contract.ts';
import { book, KALSHI, market } from '../scanner/build.ts';

const Work = z.object({ n: z.number().int() });
let seq = 0;
const workChannel = () => channels.custom(`rt.work.${++seq}`, Work);

const open: Bus[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()));
});

function kernel(
  bus: Bus = createInProcBus(),
  instance = 'proc-1',
  clock = new SimClock(1_000),
): Kernel & {
  clock: SimClock;
} {
  open.push(bus);
  return { config: loadConfig({}), bus, clock, log: silentLogger(), ids: createIds(instance), instance };
}

const cmd = (command: SystemCommand['command'], target?: string): SystemCommand => ({
  type: 'system',
  command,
  ...(target ? { target } : {}),
  reason: 'test',
  issuedBy: 'test',
  issuedAt: 0,
});

function heartbeats(bus: Bus): Heartbeat[] {
  const beats: Heartbeat[] = [];
  bus.subscribe(channels.health, { group: 'monitor' }, (m) => {
    beats.push(m.body);
  });
  return beats;
}

describe('agent runtime', () => {
  it('goes stopped → starting → running → stopped, reporting each on the health channel', async () => {
    const k = kernel();
    const beats = heartbeats(k.bus);
    const seen: AgentState[] = [];
    let stopped = false;
    const rt = new AgentRuntime(k, {
      name: 'probe',
      trading: false,
      start(r) {
        seen.push(r.state);
      },
      stop() {
        stopped = true;
      },
    });
    expect(rt.state).toBe('stopped');
    await rt.start();
    expect(seen).toEqual(['starting']);
    expect(rt.state).toBe('running');
    await rt.stop();
    expect(rt.state).toBe('stopped');
    expect(stopped).toBe(true);
    await rt.stop(); // idempotent
    await k.bus.idle();
    expect(beats.map((b) => b.state)).toEqual(['running', 'stopped']);
  });

  it('is faulted when start throws, and fault() stops deliveries', async () => {
    const k = kernel();
    const broken = new AgentRuntime(k, {
      name: 'broken',
      trading: false,
      start() {
        throw new Error('cannot start');
      },
    });
    await expect(broken.start()).rejects.toThrow('cannot start');
    expect(broken.state).toBe('faulted');

    const ch = workChannel();
    const got: number[] = [];
    const rt = new AgentRuntime(k, {
      name: 'worker',
      trading: false,
      start(r) {
        r.subscribe(ch, (m) => {
          got.push(m.body.n);
        });
      },
    });
    await rt.start();
    k.bus.publish(ch, { n: 1 });
    await k.bus.idle();
    rt.fault('invariant broke');
    expect(rt.state).toBe('faulted');
    k.bus.publish(ch, { n: 2 });
    await k.bus.idle();
    expect(got).toEqual([1]);
  });

  it('sends a heartbeat on every clock period with counters and the agent’s own health', async () => {
    const k = kernel();
    const beats = heartbeats(k.bus);
    const ch = workChannel();
    const rt = new AgentRuntime(
      k,
      {
        name: 'counter',
        trading: false,
        start(r) {
          r.subscribe(ch, () => {});
        },
        health: () => ({ connected: true, lag: 3 }),
      },
      { heartbeatMs: 1_000 },
    );
    await rt.start();
    k.bus.publish(ch, { n: 1 });
    k.bus.publish(ch, { n: 2 });
    await k.bus.idle();
    k.clock.advanceTo(3_500); // three periods after the start at t=1000 → t=2000, 3000
    await k.bus.idle();
    expect(beats.map((b) => b.ts)).toEqual([1_000, 2_000, 3_000]);
    const last = beats.at(-1)!;
    expect(last).toMatchObject({ type: 'heartbeat', agent: 'counter', instance: 'proc-1', state: 'running' });
    expect(last.pid).toBe(process.pid);
    expect(last.details).toEqual({ processed: 2, failed: 0, trading: false, connected: true, lag: 3 });
    await rt.stop();
    k.clock.advanceTo(10_000);
    await k.bus.idle();
    expect(beats.map((b) => b.state)).toEqual(['running', 'running', 'running', 'stopped']);
  });

  it('HALT_ALL halts trading agents until RESUME; data agents keep running', async () => {
    const k = kernel();
    const seen: string[] = [];
    const agent = (name: string, trading: boolean): Agent => ({
      name,
      trading,
      start() {},
      onSystem(c, r) {
        seen.push(`${name}:${c.command}:${r.state}`);
      },
    });
    const { runtimes, stop } = await startAgents(k, [agent('executor', true), agent('watcher', false)]);
    const [executor, watcher] = runtimes as [AgentRuntime, AgentRuntime];
    k.bus.publish(channels.system, cmd('HALT_ALL'));
    await k.bus.idle();
    expect(executor.state).toBe('halted');
    expect(executor.halted).toBe(true);
    expect(watcher.state).toBe('running');
    expect(watcher.halted).toBe(false);
    // a RESUME aimed at another agent does not lift the halt
    k.bus.publish(channels.system, cmd('RESUME', 'watcher'));
    await k.bus.idle();
    expect(executor.state).toBe('halted');
    // pausing a halted agent and resuming it: paused over halted, and a RESUME lifts both
    k.bus.publish(channels.system, cmd('PAUSE', 'executor'));
    await k.bus.idle();
    expect(executor.state).toBe('paused');
    expect(executor.halted).toBe(true);
    k.bus.publish(channels.system, cmd('RESUME'));
    await k.bus.idle();
    expect(executor.state).toBe('running');
    expect(seen).toContain('executor:HALT_ALL:halted');
    expect(seen).toContain('watcher:HALT_ALL:running');
    expect(seen).toContain('executor:RESUME:running');
    await stop();
    expect(runtimes.every((r) => r.state === 'stopped')).toBe(true);
  });

  it('PAUSE stops deliveries to the targeted agent; RESUME delivers what waited', async () => {
    const k = kernel();
    const ch = workChannel();
    const a: number[] = [];
    const b: number[] = [];
    const mk = (name: string, into: number[]): Agent => ({
      name,
      trading: false,
      start(r) {
        r.subscribe(ch, (m) => {
          into.push(m.body.n);
        });
      },
    });
    const { runtimes, stop } = await startAgents(k, [mk('a', a), mk('b', b)]);
    k.bus.publish(channels.system, cmd('PAUSE', 'a'));
    await k.bus.idle();
    expect(runtimes[0]!.state).toBe('paused');
    expect(runtimes[1]!.state).toBe('running');
    k.bus.publish(ch, { n: 1 });
    k.bus.publish(ch, { n: 2 });
    await k.bus.idle();
    expect(a).toEqual([]);
    expect(b).toEqual([1, 2]);
    k.bus.publish(channels.system, cmd('RESUME', 'a'));
    await k.bus.idle();
    expect(runtimes[0]!.state).toBe('running');
    expect(a).toEqual([1, 2]);
    await stop();
  });

  it('isolates a failing handler: retried, dead-lettered, counted; the agent keeps running', async () => {
    const k = kernel();
    const beats = heartbeats(k.bus);
    const ch = workChannel();
    const ok: number[] = [];
    const dead: DeadLetter[] = [];
    k.bus.subscribe(channels.deadLetter(ch), { group: 'dlq' }, (m) => {
      dead.push(m.body);
    });
    const rt = new AgentRuntime(k, {
      name: 'fragile',
      trading: false,
      start(r) {
        r.subscribe(ch, async (m) => {
          if (m.body.n < 0) throw new Error(`negative ${m.body.n}`);
          ok.push(m.body.n);
        });
      },
    });
    await rt.start();
    k.bus.publish(ch, { n: 1 });
    const bad = k.bus.publish(ch, { n: -1 });
    k.bus.publish(ch, { n: 2 });
    await k.bus.idle();
    expect(ok).toEqual([1, 2]);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ messageId: bad, group: 'fragile', attempts: 3 });
    expect(dead[0]!.error).toContain('negative -1');
    expect(rt.state).toBe('running');
    rt.heartbeat();
    await k.bus.idle();
    expect(beats.at(-1)!.details).toMatchObject({ processed: 2, failed: 3 });
    await rt.stop();
  });

  for (const transport of ['inproc', 'redis'] as const) {
    it(`stops gracefully (${transport}): the message in hand finishes and is acked`, async () => {
      const prefix = `rt:${randomUUID()}:`;
      const bus =
        transport === 'inproc'
          ? createInProcBus()
          : createRedisBus({
              url: 'redis://127.0.0.1:6379',
              name: 'rt',
              keyPrefix: prefix,
              log: silentLogger(),
            });
      const k = kernel(bus);
      const ch = workChannel();
      let release: () => void = () => {};
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const started: number[] = [];
      const finished: number[] = [];
      const rt = new AgentRuntime(k, {
        name: 'slow',
        trading: false,
        start(r) {
          r.subscribe(ch, async (m) => {
            started.push(m.body.n);
            await gate;
            finished.push(m.body.n);
          });
        },
      });
      await rt.start();
      await bus.flush();
      bus.publish(ch, { n: 1 });
      await waitFor(() => started.length === 1, 'the handler to start');
      let stopDone = false;
      const stopping = rt.stop().then(() => {
        stopDone = true;
      });
      await new Promise((r) => setTimeout(r, 50));
      expect(stopDone).toBe(false); // waits for the message in hand
      release();
      await stopping;
      expect(finished).toEqual([1]);
      expect(rt.state).toBe('stopped');
      expect(bus.stats().acked).toBe(1);
      if (transport === 'redis') {
        const admin = new Redis('redis://127.0.0.1:6379');
        expect(await admin.xpending(prefix + ch.name, 'slow')).toEqual([0, null, null, null]);
        const keys = await admin.keys(`${prefix}*`);
        if (keys.length > 0) await admin.del(...keys);
        await admin.quit();
      }
    });
  }
  for (const transport of ['inproc', 'redis'] as const) {
    it(`an agent started after the listings were published still gets them (facts channels, ${transport}); not older books`, async () => {
      const prefix = `rt:${randomUUID()}:`;
      const bus =
        transport === 'inproc'
          ? createInProcBus()
          : createRedisBus({
              url: 'redis://127.0.0.1:6379',
              name: 'rt',
              keyPrefix: prefix,
              log: silentLogger(),
            });
      const k = kernel(bus);
      const m1 = market('kalshi', 'm1', KALSHI);
      expect(channels.markets('kalshi').facts).toBe(true);
      expect(channels.books('kalshi').facts).toBeUndefined();
      k.bus.publish(channels.markets('kalshi'), m1);
      k.bus.publish(channels.books('kalshi'), book(m1, 'm1:yes', [['0.40', '10']]));
      await k.bus.flush();
      const markets: string[] = [];
      const books: string[] = [];
      const late: Agent = {
        name: `late-${transport}`,
        trading: false,
        start(rt) {
          rt.subscribe(channels.markets('kalshi'), (m) => {
            markets.push(m.body.marketId);
          });
          rt.subscribe(channels.books('kalshi'), (m) => {
            books.push(m.body.tokenId);
          });
        },
      };
      const run = await startAgents(k, [late]);
      try {
        k.bus.publish(channels.books('kalshi'), book(m1, 'm1:no', [['0.55', '10']]));
        await waitFor(() => markets.length === 1 && books.length === 1, 'the listing and the new book');
        expect(markets).toEqual(['m1']);
        expect(books).toEqual(['m1:no']);
      } finally {
        await run.stop();
        if (transport === 'redis') {
          const admin = new Redis('redis://127.0.0.1:6379');
          const keys = await admin.keys(`${prefix}*`);
          if (keys.length > 0) await admin.del(...keys);
          await admin.quit();
        }
      }
    });
  }
});
