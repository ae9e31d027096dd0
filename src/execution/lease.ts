/**
 * One active agent per role (and venue account): a lease with a fencing token. Two roles hold one: the executor
 * (one per venue account) and the risk guardian (one for the system: two guardians would each judge the limits on
 * half the requests).
 *
 * Redis (the distributed deployment): `SET <prefix>pmarb.lease.<role>.<account> <owner>:<token> NX PX ttl`, the
 * token from `INCR` of a counter beside it, so every holder's token is larger than every earlier holder's. The
 * holder renews it every ttl/3 (only while the value is still its own); a holder that cannot renew it in time
 * stops taking decisions. The token goes into every intent claim (src/execution/intents.ts), where the store
 * refuses older ones; and `validAt(now)` is checked right before orders are handed to a client, so an executor
 * that was paused (SIGSTOP) past its lease sees it lapsed on its own clock before it can submit.
 *
 * In one process (in-process bus) there is no lease: nothing else can take the decisions.
 *
 * Memory: two executors of one process share one (tests).
 */
import { Redis } from 'ioredis';
import { ioredisUrl } from '../core/bus/redis-url.ts';

export interface Lease {
  readonly name: string;
  /** Tries to become the holder; the fencing token when it did, undefined when another holds it. */
  acquire(): Promise<number | undefined>;
  /** Extends the lease while it is still ours; false when it was lost (expired and taken, or deleted). */
  renew(): Promise<boolean>;
  /**
   * Makes the next token larger than `token`: the store saw a newer token than this lease's counter gave (a Redis
   * that lost its last writes, or its data, in a restart), so without this no holder could ever pass the fence.
   */
  floor(token: number): Promise<void>;
  /** Gives it up (a graceful stop: the next executor need not wait for the expiry). */
  release(): Promise<void>;
  /** True while the lease held and not yet due to expire at `now` (this process's clock, with a safety margin). */
  validAt(now: number): boolean;
  readonly ttlMs: number;
  close(): Promise<void>;
}

/** The executor's lease (the first role that had one). */
export type ExecutorLease = Lease;

export const DEFAULT_LEASE_TTL_MS = 10_000;

/** Expiry measured from before the command was sent, less this share of the ttl (clock drift, slow replies). */
const MARGIN = 0.2;

export interface RedisLeaseOptions {
  readonly url: string;
  readonly keyPrefix?: string;
  /** Whose lease: `executor` (default) or `risk-guardian`. */
  readonly role?: string;
  /** The venue account the lease is for (one executor per account; the guardian: `all`). */
  readonly account: string;
  /** Who holds it (the kernel's instance). */
  readonly owner: string;
  readonly ttlMs?: number;
  readonly now: () => number;
}

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const FLOOR = `local c = tonumber(redis.call('GET', KEYS[1]) or '0') if c < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end return 1`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export function createRedisLease(o: RedisLeaseOptions): Lease {
  const ttlMs = o.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const key = `${o.keyPrefix ?? ''}pmarb.lease.${o.role ?? 'executor'}.${o.account}`;
  const counter = `${key}.fence`;
  // no offline queue (a lease command must fail fast, not run late); reconnects forever (retryStrategy). A client
  // that still is not ready long after it was last (ended, or stuck connecting) is replaced by a fresh one, so a
  // Redis restart can never leave the lease without a working connection.
  const open = (): Redis => {
    const r = new Redis(ioredisUrl(o.url), {
      lazyConnect: true,
      connectTimeout: Math.max(500, Math.floor(ttlMs / 3)),
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: (times) => Math.min(100 * times, 1_000),
      connectionName: 'pm-arb:lease',
    });
    r.on('error', () => {
      // a lease that cannot be renewed lapses; the executor logs that
    });
    r.on('ready', () => {
      readyAt = Date.now();
    });
    return r;
  };
  /** Wall time (not the injected clock: this is about sockets) the client was last ready, or was created. */
  let readyAt = Date.now();
  let redis = open();
  const stuckMs = Math.max(2_000, 2 * ttlMs);
  let value: string | undefined;
  let until = 0;
  const connect = async (): Promise<void> => {
    if (
      redis.status === 'end' ||
      (redis.status !== 'ready' && redis.status !== 'wait' && Date.now() - readyAt > stuckMs)
    ) {
      redis.disconnect();
      readyAt = Date.now();
      redis = open();
    }
    if (redis.status === 'wait') await redis.connect();
  };
  const expiry = (sentAt: number): number => sentAt + Math.floor(ttlMs * (1 - MARGIN));
  return {
    name: `the Redis lease ${key}`,
    ttlMs,
    async acquire() {
      await connect();
      const sentAt = o.now();
      if ((await redis.exists(key)) === 1) return undefined;
      const token = await redis.incr(counter);
      const v = `${o.owner}:${token}`;
      const ok = await redis.set(key, v, 'PX', ttlMs, 'NX');
      if (ok !== 'OK') return undefined;
      value = v;
      until = expiry(sentAt);
      return token;
    },
    async renew() {
      if (value === undefined) return false;
      const sentAt = o.now();
      try {
        await connect();
        const r = await redis.eval(RENEW, 1, key, value, String(ttlMs));
        if (Number(r) === 1) {
          until = expiry(sentAt);
          return true;
        }
      } catch {
        // unreachable: lapses on its own clock (validAt), renewed again next time if still ours
        return o.now() < until;
      }
      value = undefined;
      until = 0;
      return false;
    },
    async floor(token) {
      await connect();
      await redis.eval(FLOOR, 1, counter, String(token));
    },
    async release() {
      const v = value;
      value = undefined;
      until = 0;
      if (v === undefined) return;
      await connect();
      await redis.eval(RELEASE, 1, key, v).catch(() => {});
    },
    validAt: (now) => value !== undefined && now < until,
    async close() {
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    },
  };
}

/** A lease shared by the agents of one process (tests): `shared` is the "server". */
export function createMemoryLease(
  shared: { holder: string | undefined; expiresAt: number; token: number },
  owner: string,
  now: () => number,
  ttlMs = DEFAULT_LEASE_TTL_MS,
): Lease {
  let mine = false;
  let until = 0;
  const held = (): boolean => shared.holder === owner && now() < shared.expiresAt;
  return {
    name: 'a memory lease',
    ttlMs,
    async acquire() {
      if (shared.holder !== undefined && now() < shared.expiresAt) return undefined;
      shared.token++;
      shared.holder = owner;
      shared.expiresAt = now() + ttlMs;
      mine = true;
      until = now() + Math.floor(ttlMs * (1 - MARGIN));
      return shared.token;
    },
    async renew() {
      if (!mine || !held()) {
        mine = false;
        return false;
      }
      shared.expiresAt = now() + ttlMs;
      until = now() + Math.floor(ttlMs * (1 - MARGIN));
      return true;
    },
    async floor(token) {
      shared.token = Math.max(shared.token, token);
    },
    async release() {
      if (mine && shared.holder === owner) shared.holder = undefined;
      mine = false;
    },
    validAt: (t) => mine && t < until,
    async close() {},
  };
}
