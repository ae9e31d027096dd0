import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareIds, RedisReadMux, type StreamEntry } from '../../src/core/bus/redis-reader.ts';
import { waitFor } from '../contract/bus-contract.ts';

const REDIS = 'redis://127.0.0.1:6379';
let prefix = '';
let admin: Redis;
let conn: Redis;
let cmd: Redis;
let mux: RedisReadMux;
/** XREADGROUPs the mux sent, per stream */
let polls: Map<string, number>;

beforeEach(() => {
  prefix = `test:${randomUUID()}:`;
  admin = new Redis(REDIS);
  conn = new Redis(REDIS);
  cmd = new Redis(REDIS);
  polls = new Map();
  // count the mux's polls: every XREADGROUP goes through a pipeline or a call on its connection
  const count = (args: unknown[]): void => {
    if (String(args[0]).toUpperCase() !== 'XREADGROUP') return;
    const key = String(args[args.indexOf('STREAMS') + 1]);
    polls.set(key, (polls.get(key) ?? 0) + 1);
  };
  const pipeline = conn.pipeline.bind(conn);
  conn.pipeline = ((...a: Parameters<Redis['pipeline']>) => {
    const p = pipeline(...a);
    const call = p.call.bind(p);
    p.call = ((...args: unknown[]) => {
      count(args);
      return (call as (...x: unknown[]) => unknown)(...args);
    }) as typeof p.call;
    return p;
  }) as Redis['pipeline'];
  const call = conn.call.bind(conn);
  conn.call = ((...args: unknown[]) => {
    count(args);
    return (call as (...x: unknown[]) => unknown)(...args);
  }) as Redis['call'];
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

  it('polls only the stream that rang: a wake-up does not cost every waiting subscription a read', async () => {
    const keys = Array.from({ length: 10 }, (_, i) => `${prefix}s${i}`);
    for (const k of keys) await admin.xgroup('CREATE', k, 'g', '$', 'MKSTREAM');
    const readers = keys.map((k) => reader(k));
    // every reader polled once and the doorbell is up
    await waitFor(() => keys.every((k) => (polls.get(k) ?? 0) >= 1), 'first polls');
    await new Promise((r) => setTimeout(r, 100));
    const before = new Map(polls);
    for (let n = 0; n < 20; n++) {
      await admin.xadd(keys[3]!, '*', 'v', String(n));
      await waitFor(() => readers[3]!.got.length === n + 1, `entry ${n} read`);
    }
    const extra = (k: string): number => (polls.get(k) ?? 0) - (before.get(k) ?? 0);
    // the stream that rang: about one poll per entry; the nine quiet ones: none beyond a rare deadline re-poll
    expect(extra(keys[3]!)).toBeGreaterThanOrEqual(1);
    expect(extra(keys[3]!)).toBeLessThanOrEqual(40);
    const quiet = keys.filter((_, i) => i !== 3).reduce((s, k) => s + extra(k), 0);
    expect(quiet).toBeLessThanOrEqual(9);
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
});
