/**
 * Builds the Kernel (config, bus, clock, logger, ids) for one process. The transport is the only thing that
 * differs between one process (in-process bus) and many (Redis Streams on REDIS_URL).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createIds, type Kernel } from './agent.ts';
import { createInProcBus } from './bus/inproc.ts';
import type { Bus } from './bus/types.ts';
import { type Clock, wallClock } from './clock.ts';
import type { Config } from './config.ts';
import { createLogger, type Logger } from './log.ts';

export interface KernelOptions {
  readonly config: Config;
  /** 'inproc' (default) or 'redis' (needs config.redisUrl). */
  readonly transport?: 'inproc' | 'redis';
  readonly clock?: Clock;
  readonly log?: Logger;
  /**
   * Process-unique instance name; default `<host>-<pid>-<boot>` (see `defaultInstance`). Fix it for deterministic
   * replay.
   */
  readonly instance?: string;
  /** The host and PID the default instance name is made of (tests simulate a restarted container's PID 1). */
  readonly host?: string;
  readonly pid?: number;
}

/**
 * `<host>-<pid>-<boot>`: the boot part is random per process start, so a process restarted with the same host and
 * PID (a container's PID 1) never repeats the ids of its previous life (ids are `<kind>-<instance>-<n>`).
 */
export function defaultInstance(
  host: string = hostname(),
  pid: number = process.pid,
  boot: string = randomBytes(4).toString('hex'),
): string {
  return `${host}-${pid}-${boot}`;
}

/**
 * A kernel's in-process bus drains one consumer at most this long before letting timers, sockets and signals in
 * (see InProcBusOptions.yieldAfterMs); backtests build their own bus without it.
 */
export const IN_PROC_YIELD_MS = 10;

/**
 * Messages the in-process bus of a kernel keeps per channel (for late subscribers and `history`). Why not the
 * bus default of 10,000: a `pm-arb run` has ~30 channels, and the slow ones (equity, health, decisions, fills)
 * take hours to reach 10,000, so the process kept growing for hours (the live heap's growth between two heap
 * snapshots of a run, two minutes apart, was almost all retained envelopes). In one process every agent subscribes before flow starts; the readers
 * of retained history ask for at most 2,000 (halt.ts health beats) or 1,000 (dashboard dead letters).
 */
export const IN_PROC_RETENTION = 2_000;

export async function createBus(
  config: Config,
  transport: 'inproc' | 'redis',
  instance: string,
  log: Logger,
  clock: Clock = wallClock(),
): Promise<Bus> {
  if (transport === 'inproc')
    return createInProcBus({
      name: instance,
      clock,
      maxLen: IN_PROC_RETENTION,
      yieldAfterMs: IN_PROC_YIELD_MS,
    });
  if (!config.redisUrl) {
    throw new Error(
      'REDIS_URL is not set: the Redis transport needs it (e.g. REDIS_URL=redis://127.0.0.1:6379)',
    );
  }
  const { createRedisBus } = await import('./bus/redis.ts');
  return createRedisBus({
    url: config.redisUrl,
    name: instance,
    maxLen: config.redisStreamMaxLen,
    visibilityTimeoutMs: config.redisVisibilityTimeoutMs,
    keyPrefix: config.redisKeyPrefix,
    log,
  });
}

export async function createKernel(opts: KernelOptions): Promise<Kernel> {
  const instance = opts.instance ?? defaultInstance(opts.host, opts.pid);
  const log = opts.log ?? createLogger(opts.config.logLevel);
  const clock = opts.clock ?? wallClock();
  const bus = await createBus(opts.config, opts.transport ?? 'inproc', instance, log, clock);
  return {
    config: opts.config,
    bus,
    clock,
    log,
    ids: createIds(instance),
    instance,
  };
}
