/**
 * Nothing lost on a non-persistent Redis (issue 12, item 6):
 * - an agent set starting up writes nothing until every agent's consumer groups exist, so a message one agent
 *   publishes while starting reaches an agent started after it (its group used to be made after the write, at the
 *   end of the stream, and never saw it);
 * - after a Redis restart that lost everything, the bus makes its groups again before its next write;
 * - at start the bus warns when Redis persistence (AOF) is off, and says nothing when CONFIG cannot be read.
 * The restarts use a redis-server of this test's own on a spare port, never the shared one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Agent, createIds, type Kernel, startAgents } from '../../src/core/agent.ts';
import { createRedisBus, type RedisBus } from '../../src/core/bus/redis.ts';
import type { Channel } from '../../src/core/channels.ts';
import { wallClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import { type Logger, silentLogger } from '../../src/core/log.ts';
import { waitFor } from '../contract/bus-contract.ts';
import { freePort, waitForPort } from '../helpers/net.ts';

const Num = z.object({ n: z.number().int() });
const chan = (name: string): Channel<{ n: number }> => ({ name, schema: Num });

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A redis-server of our own (no persistence unless asked), restartable on the same port. */
async function ownRedis(extra: string[] = []) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pmarb-redis-'));
  let proc: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--appendonly',
        'no',
        '--save',
        '',
        '--dir',
        dir,
        ...extra,
      ],
      { stdio: 'ignore' },
    );
    await waitForPort(port);
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  };
  await start();
  cleanups.push(stop);
  return { url: `redis://127.0.0.1:${port}`, start, stop };
}

/** A logger that keeps the warnings' messages. */
function warnings(): { log: Logger; warns: string[] } {
  const warns: string[] = [];
  const log = pino(
    { level: 'warn' },
    {
      write(line: string) {
        const o = JSON.parse(line) as { level: number; msg: string };
        if (o.level === 40) warns.push(o.msg);
      },
    },
  );
  return { log, warns };
}

function bus(url: string, o: { log?: Logger; prefix?: string } = {}): RedisBus {
  const b = createRedisBus({
    url,
    keyPrefix: o.prefix ?? `groups:${randomUUID()}:`,
    log: o.log ?? silentLogger(),
    blockMs: 200,
  }) as RedisBus;
  cleanups.push(() => b.close());
  return b;
}

describe('redis bus: consumer groups before anything is published', () => {
  it('an agent started after another gets what that one published while starting', async () => {
    const b = bus('redis://127.0.0.1:6379');
    const prefix = b.keyPrefix;
    cleanups.push(async () => {
      const admin = new Redis('redis://127.0.0.1:6379');
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    });
    const ch = chan('early');
    const got: number[] = [];
    const early: Agent = {
      name: 'early',
      trading: false,
      // publishes, then takes a while to finish starting (connecting to a venue, reading the store)
      start: async (rt) => {
        rt.publish(ch, { n: 1 });
        await new Promise((r) => setTimeout(r, 300));
      },
    };
    const late: Agent = {
      name: 'late',
      trading: false,
      start: (rt) => {
        rt.subscribe(ch, (m) => {
          got.push(m.body.n);
        });
      },
    };
    const kernel: Kernel = {
      config: loadConfig({}),
      bus: b,
      clock: wallClock(),
      log: silentLogger(),
      ids: createIds('g'),
      instance: `groups-${process.pid}`,
    };
    const running = await startAgents(kernel, [early, late], { heartbeatMs: 3_600_000 });
    cleanups.push(() => running.stop());
    await waitFor(() => got.length === 1, 'the message published before the later agent subscribed', 10_000);
    expect(got).toEqual([1]);
  });

  it('a Redis restarted without its data gets the groups back before the bus writes again', async () => {
    const r = await ownRedis();
    const consumer = bus(r.url);
    const publisher = bus(r.url, { prefix: consumer.keyPrefix });
    const ch = chan('restart');
    const got: number[] = [];
    consumer.subscribe(ch, { group: 'g1' }, (m) => {
      got.push(m.body.n);
    });
    await consumer.flush();
    publisher.publish(ch, { n: 1 });
    await waitFor(() => got.length === 1, 'the first message', 10_000);

    await r.stop();
    await r.start(); // empty: no AOF, no snapshot
    // the consumer's own write connection comes back first thing with its group re-made
    consumer.publish(chan('other'), { n: 0 });
    await consumer.flush();
    const admin = new Redis(r.url);
    cleanups.push(async () => void (await admin.quit()));
    const groups = (await admin.call('XINFO', 'GROUPS', consumer.key(ch.name))) as unknown[][];
    expect(groups.map((g) => g[1])).toEqual(['g1']);
    // written after the restart by another process: delivered
    publisher.publish(ch, { n: 2 });
    await publisher.flush();
    await waitFor(() => got.length === 2, 'the message published after the restart', 15_000);
    expect(got).toEqual([1, 2]);
  });

  it('warns at start when persistence is off; says nothing when CONFIG cannot be read', async () => {
    const off = await ownRedis();
    const w1 = warnings();
    const b1 = bus(off.url, { log: w1.log });
    expect(await b1.persistence()).toEqual({ aof: false, save: '' });
    await waitFor(() => w1.warns.length > 0, 'the warning', 5_000);
    expect(w1.warns.join('\n')).toMatch(
      /Redis persistence \(AOF\) is off.*production requires appendonly yes/,
    );

    const aof = await ownRedis(['--appendonly', 'yes']);
    const w2 = warnings();
    const b2 = bus(aof.url, { log: w2.log });
    expect(await b2.persistence()).toMatchObject({ aof: true });

    const locked = await ownRedis(['--rename-command', 'CONFIG', '']);
    const w3 = warnings();
    const b3 = bus(locked.url, { log: w3.log });
    expect(await b3.persistence()).toBeUndefined();
    // the bus works all the same
    const got: number[] = [];
    b3.subscribe(chan('locked'), { group: 'g' }, (m) => {
      got.push(m.body.n);
    });
    await b3.flush();
    b3.publish(chan('locked'), { n: 7 });
    await waitFor(() => got.length === 1, 'delivery without CONFIG', 10_000);
    await b2.flush();
    expect(w2.warns.filter((m) => /persistence/.test(m))).toEqual([]);
    expect(w3.warns.filter((m) => /persistence/.test(m))).toEqual([]);
  });
});
