import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareIds, RedisReadMux, type Rider, type StreamEntry } from '../../src/core/bus/redis-reader.ts';
import { encodeCommand, RespWriter } from '../../src/core/bus/redis-writer.ts';
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
/** What rides the mux's next read (the bus gives its acks), set by a test */
let ride: (() => Rider | undefined) | undefined;

beforeEach(() => {
  prefix = `test:${randomUUID()}:`;
  admin = new Redis(REDIS);
  conn = new RespWriter(REDIS);
  cmd = new Redis(REDIS);
  polls = new Map();
  reads = 0;
  tails = new Map();
  ride = undefined;
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
  mux = new RedisReadMux(
    conn,
    cmd,
    10_000,
    () => {},
    undefined,
    () => ride?.(),
  );
});

afterEach(async () => {
  await mux.close();
  await cmd.quit();
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

/**
 * A subscription-like reader: reads in a loop, collecting what it gets, until stopped; `log` gets `key:value` of
 * each entry as it is handed over (the order across readers).
 */
function reader(key: string, count = 100, o: { lazy?: boolean; blockMs?: number; log?: string[] } = {}) {
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
        blockMs: o.blockMs ?? 10_000,
        lazy: o.lazy,
      });
      for (const [, f] of entries) {
        got.push(f![1]!);
        o.log?.push(`${key.slice(prefix.length)}:${f![1]}`);
      }
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

  it('sends what rides a read behind it, in its write, and settles it once the read is answered', async () => {
    const k = `${prefix}r`;
    const counter = `${prefix}rides`;
    await admin.xgroup('CREATE', k, 'g', '$', 'MKSTREAM');
    const events: string[] = [];
    let rides = 0;
    ride = () => {
      if (rides === 0) return undefined;
      rides--;
      return {
        payload: encodeCommand(['INCR', counter]),
        count: 1,
        done: (ok) => events.push(`done ${ok}`),
      };
    };
    const owner = {};
    const req = { key: k, group: 'g', consumer: 'c', count: 10, blockMs: 10_000 };
    const first = mux.read(owner, req);
    await admin.xadd(k, '*', 'v', '1');
    expect(await first).toHaveLength(1);
    // the next read blocks (the stream is known to be drained): what rides it goes behind it
    rides = 1;
    void mux.read(owner, req).then(() => events.push('read'));
    await waitFor(() => rides === 0, 'the rider taken');
    await new Promise((r) => setTimeout(r, 50));
    // behind a blocking read, Redis runs it once the read is answered: not yet
    expect(await admin.get(counter)).toBe(null);
    expect(events).toEqual([]);
    await admin.xadd(k, '*', 'v', '2');
    await waitFor(() => events.length === 2, 'the read and its rider');
    expect(events.sort()).toEqual(['done true', 'read']);
    expect(await admin.get(counter)).toBe('1');
    expect(rides).toBe(0);
  });

  it('a lazy read is not woken by its own stream: it comes with the next read something else wakes, first', async () => {
    const [lazyKey, eagerKey] = [`${prefix}lazy`, `${prefix}eager`];
    for (const k of [lazyKey, eagerKey]) await admin.xgroup('CREATE', k, 'g', '$', 'MKSTREAM');
    const log: string[] = [];
    const lazy = reader(lazyKey, 100, { lazy: true, log });
    const eager = reader(eagerKey, 100, { log });
    await waitFor(() => (polls.get(eagerKey) ?? 0) >= 1, 'the eager read polled');
    await new Promise((r) => setTimeout(r, 50));
    await admin.xadd(lazyKey, '*', 'v', '1');
    await admin.xadd(lazyKey, '*', 'v', '2');
    // its deadline is 10 s off and nothing else rang: it waits
    await new Promise((r) => setTimeout(r, 200));
    expect(lazy.got).toEqual([]);
    await admin.xadd(eagerKey, '*', 'v', 'a');
    await waitFor(() => eager.got.length === 1 && lazy.got.length === 2, 'both read');
    expect(log).toEqual(['lazy:1', 'lazy:2', 'eager:a']);
    await lazy.stop();
    await eager.stop();
  });

  it('a lazy read gets its entries by its deadline when nothing else rings, alone or beside a quiet read', async () => {
    const [lazyKey, quietKey] = [`${prefix}lazy`, `${prefix}quiet`];
    for (const k of [lazyKey, quietKey]) await admin.xgroup('CREATE', k, 'g', '$', 'MKSTREAM');
    const lazy = reader(lazyKey, 100, { lazy: true, blockMs: 30 });
    await admin.xadd(lazyKey, '*', 'v', '1');
    await waitFor(() => lazy.got.length === 1, 'the lazy read alone');
    const quiet = reader(quietKey);
    await waitFor(() => (polls.get(quietKey) ?? 0) >= 1, 'the quiet read polled');
    await admin.xadd(lazyKey, '*', 'v', '2');
    await waitFor(() => lazy.got.length === 2, 'the lazy read beside a quiet one');
    expect(lazy.got).toEqual(['1', '2']);
    expect(quiet.got).toEqual([]);
    await lazy.stop();
    await quiet.stop();
  });

  it('a lazy read rides a poll too: a first read finds its entries after the lazy ones written before them', async () => {
    const [lazyKey, newKey] = [`${prefix}lazy`, `${prefix}new`];
    for (const k of [lazyKey, newKey]) await admin.xgroup('CREATE', k, 'g', '$', 'MKSTREAM');
    const log: string[] = [];
    const lazy = reader(lazyKey, 100, { lazy: true, log });
    await new Promise((r) => setTimeout(r, 50));
    await admin.xadd(lazyKey, '*', 'v', '1');
    await admin.xadd(newKey, '*', 'v', 'a');
    // its first read polls the new stream, and the lazy read goes with it
    const fresh = reader(newKey, 100, { log });
    await waitFor(() => fresh.got.length === 1 && lazy.got.length === 1, 'both read');
    expect(log).toEqual(['lazy:1', 'new:a']);
    await lazy.stop();
    await fresh.stop();
  });
});
