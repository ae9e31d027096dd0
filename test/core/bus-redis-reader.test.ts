import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareIds, RedisReadMux, type StreamEntry } from '../../src/core/bus/redis-reader.ts';
import { RespWriter } from '../../src/core/bus/redis-writer.ts';
import { waitFor } from '../contract/bus-contract.ts';

const REDIS = 'redis://127.0.0.1:6379';
let prefix = '';
let admin: Redis;
let conn: RespWriter;
let cmd: Redis;
let mux: RedisReadMux;
/** Streams the mux's XREADGROUPs named, each time (a read of several streams counts for each) */
let polls: Map<string, number>;
/** XREADGROUP commands the mux sent, and tails (XREVRANGE) it read per stream */
let reads = 0;
let tails: Map<string, number>;

beforeEach(() => {
  prefix = `test:${randomUUID()}:`;
  admin = new Redis(REDIS);
  conn = new RespWriter(REDIS);
  cmd = new Redis(REDIS);
  polls = new Map();
  reads = 0;
  tails = new Map();
  // count the mux's reads: every command goes through exec on its connection
  const count = (args: readonly unknown[]): void => {
    const name = String(args[0]).toUpperCase();
    if (name === 'XREVRANGE') tails.set(String(args[1]), (tails.get(String(args[1])) ?? 0) + 1);
    if (name !== 'XREADGROUP') return;
    reads++;
    const at = args.indexOf('STREAMS') + 1;
    const keys = args.slice(at, at + (args.length - at) / 2).map(String);
    for (const key of keys) polls.set(key, (polls.get(key) ?? 0) + 1);
  };
  const exec = conn.exec.bind(conn);
  conn.exec = (cmds) => {
    for (const c of cmds) count(c);
    return exec(cmds);
  };
  mux = new RedisReadMux(conn, cmd, 10_000, () => {});
});

afterEach(async () => {
  await mux.close();
  await cmd.quit();
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

/** A subscription-like reader: reads in a loop, collecting what it gets, until stopped. */
function reader(key: string, count = 100) {
  const got: string[] = [];
  let stop = false;
  const owner = {};
  const loop = (async () => {
    while (!stop) {
      const entries: StreamEntry[] = await mux.read(owner, {
        key,
        group: 'g',
        consumer: 'c',
        count,
        blockMs: 10_000,
      });
      for (const [, f] of entries) got.push(f![1]!);
    }
  })();
  return {
    got,
    async stop() {
      stop = true;
      mux.cancel(owner);
      await loop;
    },
  };
}

describe('redis read mux', () => {
  it('orders stream ids by time then sequence', () => {
    expect(compareIds('10-0', '9-5')).toBe(1);
    expect(compareIds('10-2', '10-10')).toBe(-1);
    expect(compareIds('0-0', '0-0')).toBe(0);
  });

  it('a wake-up costs one read per group and no tail of a quiet stream, however many subscriptions wait', async () => {
    const keys = Array.from({ length: 10 }, (_, i) => `${prefix}s${i}`);
    for (const k of keys) await admin.xgroup('CREATE', k, 'g', '$', 'MKSTREAM');
    const readers = keys.map((k) => reader(k));
    // every reader polled once and the doorbell is up
    await waitFor(() => keys.every((k) => (polls.get(k) ?? 0) >= 1), 'first polls');
    await new Promise((r) => setTimeout(r, 100));
    const readsBefore = reads;
    const tailsBefore = new Map(tails);
    for (let n = 0; n < 20; n++) {
      await admin.xadd(keys[3]!, '*', 'v', String(n));
      await waitFor(() => readers[3]!.got.length === n + 1, `entry ${n} read`);
    }
    // about one XREADGROUP (all ten streams, one group) per entry, not one per waiting subscription
    expect(reads - readsBefore).toBeGreaterThanOrEqual(1);
    expect(reads - readsBefore).toBeLessThanOrEqual(40);
    // no stream's tail is read again (the group got what rang) beyond a rare deadline re-poll
    const extraTails = keys.reduce((s, k) => s + (tails.get(k) ?? 0) - (tailsBefore.get(k) ?? 0), 0);
    expect(extraTails).toBeLessThanOrEqual(10);
    expect(readers[3]!.got).toEqual(Array.from({ length: 20 }, (_, n) => String(n)));
    for (const r of readers) await r.stop();
  });

  it('loses nothing when reads come back full (COUNT reached) or short, on streams written at once', async () => {
    const keys = Array.from({ length: 4 }, (_, i) => `${prefix}b${i}`);
    for (const k of keys) await admin.xgroup('CREATE', k, 'g', '$', 'MKSTREAM');
    const readers = keys.map((k, i) => reader(k, i % 2 === 0 ? 3 : 1_000));
    await waitFor(() => keys.every((k) => (polls.get(k) ?? 0) >= 1), 'first polls');
    const N = 300;
    for (let n = 0; n < N; n++) {
      const p = admin.pipeline();
      for (const k of keys) p.xadd(k, '*', 'v', String(n));
      await p.exec();
      if (n % 37 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    await waitFor(() => readers.every((r) => r.got.length === N), 'every entry read');
    for (const r of readers) expect(r.got).toEqual(Array.from({ length: N }, (_, n) => String(n)));
    for (const r of readers) await r.stop();
  });
  it('a read of several streams that fails (a group gone) fails only its own subscription, and the others read on', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((x) => `${prefix}${x}`) as [string, string, string];
    for (const k of [a, b, c]) await admin.xgroup('CREATE', k, 'g', '$', 'MKSTREAM');
    await admin.xgroup('CREATE', a, 'h', '$', 'MKSTREAM'); // a second group on one stream
    const ra = reader(a);
    const rb = reader(b);
    const other = { got: [] as string[], owner: {} };
    const loopH = (async () => {
      for (;;) {
        const es = await mux.read(other.owner, {
          key: a,
          group: 'h',
          consumer: 'c',
          count: 100,
          blockMs: 10_000,
        });
        if (es.length === 0 && other.got.length >= 3) return;
        for (const [, f] of es) other.got.push(f![1]!);
      }
    })();
    const owner = {};
    const failing = mux.read(owner, { key: c, group: 'g', consumer: 'c', count: 100, blockMs: 10_000 });
    await waitFor(() => (polls.get(c) ?? 0) >= 1, 'c polled');
    // the doorbell is up, with every read behind it: c's group goes away, then b rings
    await new Promise((r) => setTimeout(r, 100));
    await admin.xgroup('DESTROY', c, 'g');
    await admin.xadd(c, '*', 'v', 'x');
    await expect(failing).rejects.toThrow(/NOGROUP/);
    for (let n = 0; n < 3; n++) {
      await admin.xadd(a, '*', 'v', String(n));
      await admin.xadd(b, '*', 'v', String(n));
    }
    await waitFor(() => ra.got.length === 3 && rb.got.length === 3 && other.got.length === 3, 'a and b read');
    expect(ra.got).toEqual(['0', '1', '2']);
    expect(other.got).toEqual(['0', '1', '2']);
    expect(rb.got).toEqual(['0', '1', '2']);
    await ra.stop();
    await rb.stop();
    mux.cancel(other.owner);
    await loopH;
  });
});
