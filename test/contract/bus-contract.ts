/**
 * The bus contract, run against every transport (test/core/bus-inproc.test.ts, test/core/bus-redis.test.ts).
 * Each case builds its buses through `makeBus`; transports whose buses talk to each other (Redis) also get the
 * cases that need two processes' worth of buses.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Agent, AgentRuntime, createIds, type Kernel } from '../../src/core/agent.ts';
import type { Bus, Envelope } from '../../src/core/bus/types.ts';
import { channels, type DeadLetter } from '../../src/core/channels.ts';
import { wallClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/log.ts';

export interface BusContractOptions {
  /** Visibility timeout used by the redelivery cases (short, so the suite is quick). */
  readonly visibilityMs: number;
  /** Two buses from makeBus see each other's messages (separate processes on one server). */
  readonly shared: boolean;
  /** How far past maxLen a stream may stay (approximate trimming). */
  readonly retentionSlack: number;
}

export type MakeBus = (o?: { maxLen?: number }) => Promise<Bus>;

export const Num = z.object({ n: z.number().int() });
export type Num = z.infer<typeof Num>;

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let chanSeq = 0;
/** A fresh channel per case, so cases never see each other's messages even on a shared server. */
const fresh = (label: string) => channels.custom(`contract.${label}.${process.pid}.${++chanSeq}`, Num);

export function busContract(name: string, makeBus: MakeBus, opts: BusContractOptions): void {
  describe(`bus contract: ${name}`, () => {
    const open: Bus[] = [];
    const make = async (o?: { maxLen?: number }): Promise<Bus> => {
      const b = await makeBus(o);
      open.push(b);
      return b;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((b) => b.close()));
    });

    it('publishes and subscribes by channel', async () => {
      const bus = await make();
      const ch = fresh('pubsub');
      const other = fresh('other');
      const got: Envelope<Num>[] = [];
      bus.subscribe(ch, { group: 'g' }, (m) => {
        got.push(m);
      });
      bus.subscribe(other, { group: 'g' }, () => {
        throw new Error('wrong channel');
      });
      await bus.flush();
      const ids = [bus.publish(ch, { n: 1 }), bus.publish(ch, { n: 2 })];
      await waitFor(() => got.length === 2, 'two messages');
      expect(got.map((m) => m.body)).toEqual([{ n: 1 }, { n: 2 }]);
      expect(got.map((m) => m.id)).toEqual(ids);
      expect(got.every((m) => m.channel === ch.name && m.attempt === 1)).toBe(true);
      expect(bus.transport).toMatch(/^(inproc|redis)$/);
    });

    it('shares the work among consumers of one group, each message once', async () => {
      const bus = await make();
      const ch = fresh('share');
      const seen = new Map<string, number[]>();
      for (const c of ['a', 'b']) {
        seen.set(c, []);
        bus.subscribe(ch, { group: 'workers', consumer: c }, async (m) => {
          seen.get(c)!.push(m.body.n);
          await sleep(10); // a busy consumer leaves the next message to the other
        });
      }
      await bus.flush();
      await sleep(100); // both consumers waiting (a transport may still be connecting one)
      for (let i = 0; i < 20; i++) {
        bus.publish(ch, { n: i });
        await sleep(3);
      }
      await waitFor(() => seen.get('a')!.length + seen.get('b')!.length === 20, 'all 20');
      await sleep(100);
      const all = [...seen.get('a')!, ...seen.get('b')!].sort((x, y) => x - y);
      expect(all).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(seen.get('a')!.length).toBeGreaterThan(0);
      expect(seen.get('b')!.length).toBeGreaterThan(0);
    });

    it('gives every group every message', async () => {
      const bus = await make();
      const ch = fresh('groups');
      const g1: number[] = [];
      const g2: number[] = [];
      bus.subscribe(ch, { group: 'g1' }, (m) => {
        g1.push(m.body.n);
      });
      bus.subscribe(ch, { group: 'g2' }, async (m) => {
        g2.push(m.body.n);
      });
      await bus.flush();
      for (let i = 0; i < 50; i++) bus.publish(ch, { n: i });
      await waitFor(() => g1.length === 50 && g2.length === 50, 'both groups');
      expect(g1).toEqual(Array.from({ length: 50 }, (_, i) => i));
      expect(g2).toEqual(g1);
    });

    it('keeps publish order for one consumer', async () => {
      const bus = await make();
      const ch = fresh('order');
      const got: number[] = [];
      let flip = false;
      bus.subscribe(ch, { group: 'g' }, (m) => {
        got.push(m.body.n);
        flip = !flip;
        // mix sync and async handling: order must hold either way
        return flip ? sleep(0) : undefined;
      });
      await bus.flush();
      for (let i = 0; i < 1000; i++) bus.publish(ch, { n: i });
      await waitFor(() => got.length === 1000, '1000 messages');
      expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    });

    it('manual ack: an acked message stays done, an unacked one comes back', async () => {
      const bus = await make();
      const ch = fresh('manual');
      const got: Envelope<Num>[] = [];
      bus.subscribe(ch, { group: 'g', ack: 'manual', visibilityTimeoutMs: opts.visibilityMs }, (m, ctl) => {
        got.push(m);
        if (m.body.n === 1 || m.attempt > 1) {
          ctl.ack();
          ctl.ack(); // idempotent
        }
      });
      await bus.flush();
      const id1 = bus.publish(ch, { n: 1 });
      const id2 = bus.publish(ch, { n: 2 });
      await waitFor(() => got.length === 3, 'the redelivery of the unacked message');
      await sleep(opts.visibilityMs * 4);
      expect(got.map((m) => [m.id, m.body.n, m.attempt])).toEqual([
        [id1, 1, 1],
        [id2, 2, 1],
        [id2, 2, 2],
      ]);
      expect(bus.stats().acked).toBe(2);
    });

    it('redelivers a message unacked past the visibility timeout to another consumer, same id', async () => {
      const bus = await make();
      const ch = fresh('visibility');
      const got: { consumer: string; id: string; attempt: number }[] = [];
      for (const c of ['c1', 'c2']) {
        bus.subscribe(
          ch,
          { group: 'g', consumer: c, ack: 'manual', visibilityTimeoutMs: opts.visibilityMs },
          (m, ctl) => {
            got.push({ consumer: c, id: m.id, attempt: m.attempt });
            if (m.attempt > 1) ctl.ack(); // the first delivery is "lost"
          },
        );
      }
      await bus.flush();
      const id = bus.publish(ch, { n: 7 });
      await waitFor(() => got.length === 2, 'the redelivery');
      await sleep(opts.visibilityMs * 3);
      expect(got).toHaveLength(2);
      expect(got[0]!.id).toBe(id);
      expect(got[1]!.id).toBe(id);
      expect(got[1]!.attempt).toBe(2);
      expect(got[1]!.consumer).not.toBe(got[0]!.consumer);
      expect(bus.stats().redelivered).toBeGreaterThanOrEqual(1);
    });

    it('dead-letters a message whose handler fails maxAttempts times, with the error; the consumer goes on', async () => {
      const bus = await make();
      const ch = fresh('poison');
      const attempts: number[] = [];
      const ok: number[] = [];
      const dead: DeadLetter[] = [];
      bus.subscribe(channels.deadLetter(ch), { group: 'dlq-reader' }, (m) => {
        dead.push(m.body);
      });
      bus.subscribe(ch, { group: 'worker', maxAttempts: 3 }, (m) => {
        if (m.body.n === 13) {
          attempts.push(m.attempt);
          throw new Error('boom on 13');
        }
        ok.push(m.body.n);
      });
      await bus.flush();
      bus.publish(ch, { n: 1 });
      const bad = bus.publish(ch, { n: 13 });
      bus.publish(ch, { n: 2 });
      await waitFor(() => dead.length === 1 && ok.length === 2, 'the dead letter and the good messages');
      expect(attempts).toEqual([1, 2, 3]);
      expect(ok).toEqual([1, 2]);
      const dl = dead[0]!;
      expect(dl).toMatchObject({
        type: 'dead_letter',
        channel: ch.name,
        group: 'worker',
        messageId: bad,
        attempts: 3,
      });
      expect(dl.error).toContain('boom on 13');
      expect(dl.body).toEqual({ n: 13 });
      const s = bus.stats();
      expect(s.failed).toBe(3);
      expect(s.deadLettered).toBe(1);
    });

    it('dead-letters a message never acked within the visibility timeout after maxAttempts deliveries', async () => {
      const bus = await make();
      const ch = fresh('never-acked');
      const deliveries: number[] = [];
      const dead: DeadLetter[] = [];
      bus.subscribe(channels.deadLetter(ch), { group: 'dlq-reader' }, (m) => {
        dead.push(m.body);
      });
      bus.subscribe(
        ch,
        { group: 'g', ack: 'manual', maxAttempts: 2, visibilityTimeoutMs: opts.visibilityMs },
        (m) => {
          deliveries.push(m.attempt); // never acks
        },
      );
      await bus.flush();
      const id = bus.publish(ch, { n: 5 });
      await waitFor(() => dead.length === 1, 'the dead letter');
      expect(deliveries).toEqual([1, 2]);
      expect(dead[0]).toMatchObject({ messageId: id, group: 'g', attempts: 2, body: { n: 5 } });
      expect(dead[0]!.error).toMatch(/not acknowledged within/);
    });

    it('keeps retention bounded (maxLen) and history newest last', async () => {
      const maxLen = 200;
      const bus = await make({ maxLen });
      const ch = fresh('retention');
      for (let i = 0; i < maxLen * 5; i++) bus.publish(ch, { n: i });
      await bus.flush();
      const h = await bus.history(ch, maxLen * 10);
      expect(h.length).toBeGreaterThanOrEqual(maxLen);
      expect(h.length).toBeLessThanOrEqual(maxLen + opts.retentionSlack);
      expect(h.at(-1)!.body).toEqual({ n: maxLen * 5 - 1 });
      const ns = h.map((e) => e.body.n);
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
      const last3 = await bus.history(ch, 3);
      expect(last3.map((e) => e.body.n)).toEqual([maxLen * 5 - 3, maxLen * 5 - 2, maxLen * 5 - 1]);
      expect(await bus.history(fresh('empty'), 10)).toEqual([]);
    });

    it('brings system commands to every agent (trading agents halt, data agents keep running)', async () => {
      const config = loadConfig({});
      const busA = await make();
      const busB = opts.shared ? await make() : busA;
      const kernel = (bus: Bus, instance: string): Kernel => ({
        config,
        bus,
        clock: wallClock(),
        log: silentLogger(),
        ids: createIds(instance),
        instance,
      });
      const agent = (name: string, trading: boolean): Agent => ({ name, trading, start() {} });
      const rts = [
        new AgentRuntime(kernel(busA, 'proc-1'), agent('executor', true)),
        new AgentRuntime(kernel(busB, 'proc-2'), agent('executor', true)),
        new AgentRuntime(kernel(busB, 'proc-3'), agent('watcher', false)),
      ];
      for (const rt of rts) await rt.start();
      await busA.flush();
      await busB.flush();
      busA.publish(channels.system, {
        type: 'system',
        command: 'HALT_ALL',
        reason: 'contract',
        issuedBy: 'test',
        issuedAt: Date.now(),
      });
      await waitFor(() => rts[0]!.halted && rts[1]!.halted, 'both executors halted');
      expect(rts[2]!.state).toBe('running');
      busB.publish(channels.system, {
        type: 'system',
        command: 'RESUME',
        reason: 'ok',
        issuedBy: 'test',
        issuedAt: 1,
      });
      await waitFor(() => rts.every((r) => r.state === 'running'), 'all running again');
      for (const rt of rts) await rt.stop();
    });

    it('gives every publish a unique id', async () => {
      const bus = await make();
      const other = opts.shared ? await make() : bus;
      const ch = fresh('ids');
      const ids = new Set<string>();
      for (let i = 0; i < 1000; i++) {
        ids.add(bus.publish(ch, { n: i }));
        ids.add(other.publish(ch, { n: i }));
      }
      expect(ids.size).toBe(2000);
      expect(bus.publish(ch, { n: 0 }, { id: 'chosen-1' })).toBe('chosen-1');
      await bus.flush();
      await other.flush();
    });
  });
}
