/**
 * The kill switch's durable side. The halt state lives in the store (system_state) and in one Redis key, so a
 * trading agent that starts, or reconnects after Redis lost everything, reads it instead of coming up running;
 * while it cannot read it, it counts as halted.
 *
 * Confirmation: every agent answers each system command on channels.systemAck (its state after applying it);
 * `confirmCommand` publishes a command and waits for the trading agents expected to answer, naming those that
 * did not. Nobody expected is never a success.
 */
import { Redis } from 'ioredis';
import { ioredisUrl } from './bus/redis-url.ts';
import type { Bus } from './bus/types.ts';
import { channels } from './channels.ts';
import type { Heartbeat, SystemAck, SystemCommand } from './messages.ts';
import { redactSecrets } from './redact.ts';

export interface HaltState {
  readonly halted: boolean;
  readonly reason: string | null;
  readonly by: string | null;
  /** When it last changed (epoch ms); null: never. */
  readonly at: number | null;
}

/** Somewhere the halt state is kept. `read` resolves null when nothing was ever recorded there, throws when it cannot tell. */
export interface HaltSource {
  readonly name: string;
  read(): Promise<HaltState | null>;
  /** Calls `fn` each time the source's connection comes back after a loss (read again then). */
  onReconnect?(fn: () => void): void;
}

export interface HaltStore extends HaltSource {
  write(state: HaltState): Promise<void>;
  close(): Promise<void>;
}

/** The newest state of several sources (by `at`); throws when any of them cannot be read. */
export function combinedHaltSource(sources: readonly HaltSource[]): HaltSource {
  return {
    name: sources.map((s) => s.name).join(' + '),
    async read() {
      let best: HaltState | null = null;
      for (const s of sources) {
        let st: HaltState | null;
        try {
          st = await s.read();
        } catch (err) {
          throw new Error(`cannot read the halt state from ${s.name}: ${(err as Error).message}`);
        }
        if (st && (best === null || (st.at ?? 0) > (best.at ?? 0))) best = st;
      }
      return best;
    },
    onReconnect(fn) {
      for (const s of sources) s.onReconnect?.(fn);
    },
  };
}

export const HALT_KEY = 'pmarb.halt';

export interface RedisHaltStoreOptions {
  readonly url: string;
  readonly keyPrefix?: string;
  /** A read or write that takes longer fails (default 2 s). */
  readonly timeoutMs?: number;
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`${what}: no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        ok(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        fail(e);
      },
    );
  });

/** The halt state in one Redis key, on a connection of its own that keeps reconnecting (reads fail fast meanwhile). */
export function createRedisHaltStore(o: RedisHaltStoreOptions): HaltStore {
  const key = `${o.keyPrefix ?? ''}${HALT_KEY}`;
  const timeoutMs = o.timeoutMs ?? 2_000;
  const redis = new Redis(ioredisUrl(o.url), {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: (times) => Math.min(100 * times, 1_000),
    connectionName: 'pm-arb:halt',
  });
  redis.on('error', () => {
    // reported by the reads that fail; the connection keeps retrying
  });
  const listeners: (() => void)[] = [];
  let everReady = false;
  redis.on('ready', () => {
    if (everReady) for (const fn of listeners) fn();
    everReady = true;
  });
  const connect = async (): Promise<void> => {
    if (redis.status === 'wait') await withTimeout(redis.connect(), timeoutMs, 'redis');
  };
  return {
    name: 'the Redis halt key',
    async read() {
      await connect();
      const raw = await withTimeout(redis.get(key), timeoutMs, 'redis GET');
      if (raw === null) return null;
      const v = JSON.parse(raw) as HaltState;
      return { halted: v.halted === true, reason: v.reason ?? null, by: v.by ?? null, at: v.at ?? null };
    },
    async write(state) {
      await connect();
      await withTimeout(redis.set(key, JSON.stringify(state)), timeoutMs, 'redis SET');
    },
    onReconnect(fn) {
      listeners.push(fn);
    },
    async close() {
      listeners.length = 0;
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    },
  };
}

/** A connection for one quick question: no retries, no offline queue, errors surface as rejected commands. */
function oneShotRedis(url: string, timeoutMs: number): Redis {
  const redis = new Redis(ioredisUrl(url), {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  return redis;
}

/**
 * Answers a Redis server at `url` within `timeoutMs`, or throws a message a person can act on. The URL shown
 * has its password removed.
 */
export async function pingRedis(url: string, timeoutMs: number): Promise<void> {
  const redis = oneShotRedis(url, timeoutMs);
  try {
    await withTimeout(
      redis.connect().then(() => redis.ping()),
      timeoutMs,
      'connect',
    );
  } catch (err) {
    throw new Error(
      `Redis at ${redactSecrets(url)} is unreachable (${(err as Error).message}; gave up after ${timeoutMs} ms)`,
    );
  } finally {
    redis.disconnect();
  }
}

/** `agent@instance` of the trading agents heard from within `withinMs` before `now`, not stopped. */
export function liveTradingAgents(beats: readonly Heartbeat[], now: number, withinMs: number): string[] {
  const latest = new Map<string, Heartbeat>();
  for (const b of beats) {
    const k = `${b.agent}@${b.instance}`;
    const prev = latest.get(k);
    if (!prev || b.ts >= prev.ts) latest.set(k, b);
  }
  return [...latest.entries()]
    .filter(([, b]) => b.details.trading === true && b.state !== 'stopped' && now - b.ts <= withinMs)
    .map(([k]) => k)
    .sort();
}

/** The trading agents whose heartbeat is on `bus` within `withinMs` (from the health channel's history). */
export async function tradingAgentsOnBus(bus: Bus, withinMs: number, limit = 2_000): Promise<string[]> {
  const beats = await bus.history(channels.health, limit);
  return liveTradingAgents(
    beats.map((b) => b.body),
    Date.now(),
    withinMs,
  );
}

/** How recent a heartbeat must be for its agent to be expected to confirm (three default heartbeats). */
export const EXPECT_WITHIN_MS = 15_000;
/** How long a halt/resume waits for confirmations. */
export const CONFIRM_TIMEOUT_MS = 2_000;

/**
 * The kill switch of a process on the Redis bus (`pm-arb dashboard`, `pm-arb halt`): the halt key, and the
 * trading agents with a recent heartbeat as the ones that must confirm.
 */
export function redisKillSwitch(o: { url: string; keyPrefix: string; bus: Bus; instance: string }): {
  haltStore: HaltStore;
  confirm: { expected: () => Promise<string[]>; timeoutMs: number; group: string };
} {
  return {
    haltStore: createRedisHaltStore({ url: o.url, keyPrefix: o.keyPrefix }),
    confirm: {
      expected: () => tradingAgentsOnBus(o.bus, EXPECT_WITHIN_MS),
      timeoutMs: CONFIRM_TIMEOUT_MS,
      group: `halt-confirm@${o.instance}`,
    },
  };
}

export interface ConfirmResult {
  readonly commandId: string;
  /** `agent@instance` that confirmed the command. */
  readonly confirmed: string[];
  /** Expected, but silent within the time allowed. */
  readonly missing: string[];
}

/**
 * Publishes `cmd` on channels.system and waits (real time, at most `timeoutMs`) until every name `expected`
 * returns has confirmed it on channels.systemAck. `expected` is asked once the acknowledgement subscription is
 * in place.
 */
export async function confirmCommand(
  bus: Bus,
  cmd: SystemCommand,
  o: { expected: () => Promise<readonly string[]> | readonly string[]; timeoutMs: number; group: string },
): Promise<ConfirmResult> {
  const acks = new Map<string, SystemAck>();
  let commandId = '';
  let wake: () => void = () => {};
  const sub = bus.subscribe(channels.systemAck, { group: o.group, ephemeral: true }, (msg) => {
    acks.set(`${msg.body.agent}@${msg.body.instance}`, msg.body);
    wake();
  });
  try {
    await bus.flush(); // the ack group exists before the command goes out
    const expected = [...(await o.expected())];
    commandId = bus.publish(channels.system, cmd);
    await bus.flush();
    const wanted = cmd.command === 'HALT_ALL' ? (a: SystemAck) => a.halted : (a: SystemAck) => !a.halted;
    const done = (): boolean =>
      expected.every((k) => {
        const a = acks.get(k);
        return a !== undefined && a.commandId === commandId && wanted(a);
      });
    const deadline = Date.now() + o.timeoutMs;
    while (!done() && Date.now() < deadline) {
      await new Promise<void>((ok) => {
        const t = setTimeout(ok, Math.max(1, Math.min(50, deadline - Date.now())));
        wake = () => {
          clearTimeout(t);
          ok();
        };
      });
    }
    const ok = (k: string): boolean => {
      const a = acks.get(k);
      return a !== undefined && a.commandId === commandId && wanted(a);
    };
    return { commandId, confirmed: expected.filter(ok), missing: expected.filter((k) => !ok(k)) };
  } finally {
    await sub.close();
  }
}

/**
 * A warning when the Redis at `url` keeps nothing across a restart (no AOF, no RDB snapshots): streams and
 * consumer groups vanish with it. Undefined when it persists, or when it will not say (CONFIG disabled).
 */
export async function redisPersistenceWarning(url: string, timeoutMs = 2_000): Promise<string | undefined> {
  const redis = oneShotRedis(url, timeoutMs);
  try {
    await withTimeout(redis.connect(), timeoutMs, 'connect');
    const aof = (await withTimeout(
      redis.call('CONFIG', 'GET', 'appendonly'),
      timeoutMs,
      'CONFIG',
    )) as string[];
    const save = (await withTimeout(redis.call('CONFIG', 'GET', 'save'), timeoutMs, 'CONFIG')) as string[];
    if (aof[1] === 'yes') return undefined;
    if (save[1] && save[1].trim() !== '')
      return 'Redis persistence is RDB snapshots only (appendonly no): a crash loses what was written since the last snapshot. Production needs appendonly yes.';
    return 'Redis persistence is OFF (appendonly no, no save points): a restart loses every stream and consumer group. Production needs appendonly yes.';
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}
