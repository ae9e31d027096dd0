/**
 * The Redis Streams transport: one stream per channel (`<keyPrefix><channel name>`), one Redis consumer group per
 * bus group, at-least-once with XACK, stale pending entries claimed by the rest of the group after the visibility
 * timeout, poison messages to the dead-letter channel, MAXLEN ~ retention.
 *
 * Nothing Redis-specific leaks out: an entry carries the publisher's message id (`i`) and the JSON body (`d`); the
 * envelope id is that message id, kept on redelivery. Stream ids, group names and clients stay in here.
 *
 * Throughput: publishes within a tick are buffered and written as one pipelined burst of XADDs on a lean
 * connection of the bus's own (redis-writer.ts); a subscription reads up to `readCount` entries per XREADGROUP
 * through the process's one reader connection (redis-reader.ts: every subscription's reads share it); acks are batched
 * into the next write (the reader's next read, behind it, or else a publish), and an ack is only sent once every
 * publish made before it (such as the handler's own outputs) is confirmed written, so a crash never acks a message
 * whose outputs were lost. A lazy subscription (`lazyMs`) is not watched for wake-ups: see redis-reader.ts.
 *
 * Consumer groups: a subscription makes its group (XGROUP CREATE … MKSTREAM) before its first read, at the end of
 * the stream — a group sees only what is written after it exists. So nothing is written while an agent set starts
 * (`hold()`, used by startAgents) until every agent's groups are made; and every group this bus made is made again,
 * from the stream's start, first thing on each reconnect of the write connection (a Redis restarted without
 * persistence has lost them, and the streams). At start the bus warns when Redis persistence (AOF) is off: a restart
 * then loses every pending message, and production requires `appendonly yes`.
 *
 * Redelivery: each subscription periodically lists the group's entries idle past its visibility timeout
 * (XPENDING … IDLE, which also gives their delivery counts, unlike XAUTOCLAIM) and XCLAIMs those of other
 * consumers at once, its own only when long overdue — so a stale message goes to another consumer when there is
 * one. A message delivered more than maxAttempts times is dead-lettered instead.
 */

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { type Channel, channels, type DeadLetter } from '../channels.ts';
import type { Logger } from '../log.ts';
import { Fifo } from './fifo.ts';
import { RedisReadMux, type Rider } from './redis-reader.ts';
import { ioredisUrl } from './redis-url.ts';
import { bulk, encodeCommand, RespBuffer, RespWriter } from './redis-writer.ts';
import {
  type Bus,
  type BusStats,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_VISIBILITY_TIMEOUT_MS,
  type DeliveryControl,
  type Envelope,
  errorText,
  type Handler,
  type PublishOptions,
  type SubscribeOptions,
  type Subscription,
} from './types.ts';

export interface RedisBusOptions {
  /** redis:// or rediss:// URL. */
  readonly url: string;
  /** Prefix of generated message ids (the process instance name). */
  readonly name?: string;
  /** Approximate number of entries kept per stream (XADD MAXLEN ~). Default 100,000. */
  readonly maxLen?: number;
  readonly log?: Logger;
  /** Prepended to every key (tests use a random one per test). Default ''. */
  readonly keyPrefix?: string;
  /** Most entries taken per XREADGROUP (fewer when handlers are slow). Default 1,000. */
  readonly readCount?: number;
  /** Longest a read blocks before the subscription checks for stale entries. Default 2,000 ms. */
  readonly blockMs?: number;
  /** Visibility timeout of subscriptions that set none. Default 30,000 ms. */
  readonly visibilityTimeoutMs?: number;
  /** close() gives pending writes and acks this long when Redis is unreachable. Default 10,000 ms. */
  readonly closeTimeoutMs?: number;
  /** Warn at start when Redis persistence (AOF) is off. Default true. */
  readonly checkPersistence?: boolean;
}

const BULK_D = Buffer.from(bulk('d'));

const ACK_CHUNK = 2_000;
/** Longest acks wait for a publish to go out with; this many go at once. */
const ACK_DELAY_MS = 2;
const ACK_ALONE = 1_000;
/** Write bursts awaiting their replies; beyond this, publishes wait and coalesce into the next burst. */
const MAX_BATCHES_IN_FLIGHT = 32;

/** Far enough in the past that any consumer's visibility timeout has elapsed: hands an entry back at once. */
const RELEASE_IDLE_MS = 365 * 24 * 3600 * 1000;

/** A subscription's stream and group, shared by all its acks. */
export interface AckTarget {
  readonly key: string;
  readonly group: string;
}

interface Batch {
  lastSeq: number;
  /** RESP-encoded XADDs */
  payload: Buffer;
  entries: number;
  ackTargets: AckTarget[];
  ackSids: string[];
  done: boolean;
  failed: boolean;
}

interface RawEntry {
  /** stream entry id (internal) */
  sid: string;
  fields: string[] | null;
  attempt: number;
}

type Waiter = () => void;

const EMPTY = Buffer.alloc(0);

const noop = (): void => {};

export class RedisBus implements Bus {
  readonly transport = 'redis' as const;
  readonly keyPrefix: string;
  readonly maxLen: number;
  readonly log: Logger | undefined;
  readonly readCount: number;
  readonly blockMs: number;
  readonly visibilityMs: number;
  private readonly closeTimeoutMs: number;
  private readonly url: string;
  private readonly idPrefix: string;
  private readonly instanceName: string;
  /** Group admin, pending-entry sweeps and claims, history. */
  readonly cmd: Redis;
  /** Every subscription's reads, on one blocking connection (created with the first subscription). */
  private muxInstance: RedisReadMux | undefined;
  private readonly writer: RespWriter;
  private seq = 0;

  // ---- write path
  private readonly out = new RespBuffer();
  private outEntries = 0;
  /** start of an XADD to a stream, up to the message id, per stream */
  private readonly xaddHead = new Map<string, Buffer>();
  private adminWait: Promise<void> | undefined;
  private pubSeq = 0;
  private confirmedSeq = 0;
  // pending acks as parallel arrays (no object per ack); `ackAfter` is non-decreasing
  private ackTargets: AckTarget[] = [];
  private ackSids: string[] = [];
  private ackAfter: number[] = [];
  private batches: Batch[] = [];
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Acks ready with no publish to ride with wait for one this long at most (see pump). */
  private ackTimer: NodeJS.Timeout | undefined;
  private ackNow = false;
  /** Ack batches riding the reader's reads (riders()), not yet answered. */
  private riding = 0;
  private flushWaiters: { seq: number; acks: boolean; resolve: Waiter }[] = [];
  private readonly admin = new Set<Promise<unknown>>();
  private readonly groups = new Map<string, Promise<void>>();
  /** Every (stream, group) this bus made, re-made on a reconnect of the writer. */
  private readonly madeGroups = new Map<string, { key: string; group: string }>();
  private holds = 0;

  private readonly subs = new Set<RedisSubscription>();
  private closed = false;
  readonly counters: BusStats = {
    published: 0,
    delivered: 0,
    acked: 0,
    failed: 0,
    deadLettered: 0,
    redelivered: 0,
  };

  constructor(opts: RedisBusOptions) {
    this.url = opts.url;
    this.keyPrefix = opts.keyPrefix ?? '';
    this.maxLen = opts.maxLen ?? 100_000;
    this.log = opts.log;
    this.readCount = opts.readCount ?? 1_000;
    this.blockMs = opts.blockMs ?? 2_000;
    this.visibilityMs = opts.visibilityTimeoutMs ?? DEFAULT_VISIBILITY_TIMEOUT_MS;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 10_000;
    this.instanceName = opts.name ?? 'm';
    this.idPrefix = `${this.instanceName}-${randomBytes(4).toString('hex')}`;
    this.cmd = this.connection('cmd');
    this.writer = new RespWriter(this.url, this.log, false);
    // a Redis that restarted without persistence lost the groups: made again (from the stream's start, so what others
    // wrote since the restart is not skipped) before this connection writes anything else
    this.writer.onReconnect = () => {
      if (this.madeGroups.size === 0) return undefined;
      let payload = '';
      for (const { key, group } of this.madeGroups.values())
        payload += encodeCommand(['XGROUP', 'CREATE', key, group, '0', 'MKSTREAM']);
      return { payload, count: this.madeGroups.size };
    };
    if (opts.checkPersistence !== false)
      void this.persistence().then((p) => {
        if (p && !p.aof)
          this.log?.warn(
            { appendonly: 'no', save: p.save || '(none)' },
            'Redis persistence (AOF) is off: a Redis restart loses every stream, consumer group and pending ' +
              'message; production requires appendonly yes',
          );
      });
  }

  /**
   * Redis's persistence settings (CONFIG GET appendonly / save); undefined when they cannot be read (CONFIG renamed
   * or disabled, as managed services do): nothing is assumed then.
   */
  async persistence(): Promise<{ aof: boolean; save: string } | undefined> {
    try {
      const a = (await this.cmd.call('CONFIG', 'GET', 'appendonly')) as string[];
      const s = (await this.cmd.call('CONFIG', 'GET', 'save')) as string[];
      if (a.length < 2) return undefined;
      return { aof: a[1] === 'yes', save: s[1] ?? '' };
    } catch {
      return undefined;
    }
  }

  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      if (this.holds === 0) this.kick();
    };
  }

  /** A connection that retries for ever: while Redis is away, commands wait in the offline queue. */
  connection(role: string): Redis {
    const r = new Redis(ioredisUrl(this.url), {
      maxRetriesPerRequest: null,
      retryStrategy: (times) => Math.min(50 * times, 500),
      // the instance name lets CLIENT LIST tell processes apart
      connectionName: `pm-arb:${this.instanceName}:${role}`,
    });
    let lastLogged = 0;
    r.on('error', (err: Error) => {
      const now = Date.now();
      if (now - lastLogged < 5_000) return;
      lastLogged = now;
      this.log?.warn({ role, err: errorText(err) }, 'redis connection error (retrying)');
    });
    return r;
  }

  get mux(): RedisReadMux {
    this.muxInstance ??= new RedisReadMux(
      new RespWriter(this.url, this.log, true, `pm-arb:${this.instanceName}:reader`),
      this.cmd,
      this.blockMs,
      () => {
        for (const s of this.subs) s.reconnected();
      },
      this.log,
      () => this.riders(),
    );
    return this.muxInstance;
  }

  /** Ends a subscription's waiting read (no reader connection is made for it). */
  cancelRead(owner: object): void {
    this.muxInstance?.cancel(owner);
  }

  key(channel: string): string {
    return this.keyPrefix + channel;
  }

  // ------------------------------------------------------------------ publish

  publish<T>(channel: Channel<T>, body: T, opts?: PublishOptions): string {
    if (this.closed) throw new Error('bus is closed');
    const id = opts?.id ?? `${this.idPrefix}-${++this.seq}`;
    const key = this.key(channel.name);
    let head = this.xaddHead.get(key);
    if (head === undefined) {
      head = Buffer.from(
        `*10\r\n${bulk('XADD')}${bulk(key)}${bulk('MAXLEN')}${bulk('~')}${bulk(String(this.maxLen))}${bulk('*')}${bulk('i')}`,
      );
      this.xaddHead.set(key, head);
    }
    const out = this.out;
    out.raw(head);
    out.bulk(id);
    out.raw(BULK_D);
    out.bulk(JSON.stringify(body));
    this.outEntries++;
    this.pubSeq++;
    this.counters.published++;
    this.kick();
    return id;
  }

  /** Queues an XACK to go out after every publish made so far is written. */
  ack(target: AckTarget, sid: string): void {
    if (this.closed) return; // too late: the entry stays pending and is redelivered
    this.ackTargets.push(target);
    this.ackSids.push(sid);
    this.ackAfter.push(this.pubSeq);
    this.kick();
  }

  private get acksPending(): boolean {
    return this.ackSids.length > 0 || this.batches.length > 0 || this.riding > 0;
  }

  private kick(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.retryTimer || this.holds > 0) return;
    // consumer groups are made on the command connection: let them exist before the entries they must see
    if (this.admin.size > 0) {
      this.adminWait ??= this.settleAdmin().then(() => {
        this.adminWait = undefined;
        this.pump();
      });
      return;
    }
    while (this.batches.length < MAX_BATCHES_IN_FLIGHT) {
      const after = this.ackAfter;
      let ackN = 0;
      if (after.length > 0 && after[after.length - 1]! <= this.confirmedSeq) ackN = after.length;
      else while (ackN < after.length && after[ackN]! <= this.confirmedSeq) ackN++;
      if (this.outEntries === 0 && ackN === 0) break;
      // acks alone wait a moment for the next publish to ride with: off every message's critical path, while a write
      // of their own costs this process and Redis a wake-up each (one per message handled at a steady rate)
      if (
        this.outEntries === 0 &&
        ackN < ACK_ALONE &&
        !this.ackNow &&
        !this.flushWaiters.some((w) => w.acks)
      ) {
        // while reads are waiting, the next read takes them (riders()) within its wait: the timer is a fallback
        this.ackTimer ??= setTimeout(
          () => {
            this.ackTimer = undefined;
            this.ackNow = true;
            try {
              this.pump();
            } finally {
              this.ackNow = false;
            }
          },
          this.muxInstance?.reading ? this.blockMs : ACK_DELAY_MS,
        );
        break;
      }
      const batch: Batch = {
        lastSeq: this.pubSeq,
        payload: this.outEntries > 0 ? this.out.take() : EMPTY,
        entries: this.outEntries,
        ackTargets: [],
        ackSids: [],
        done: false,
        failed: false,
      };
      if (ackN === after.length) {
        batch.ackTargets = this.ackTargets;
        batch.ackSids = this.ackSids;
        this.ackTargets = [];
        this.ackSids = [];
        this.ackAfter = [];
      } else if (ackN > 0) {
        batch.ackTargets = this.ackTargets.splice(0, ackN);
        batch.ackSids = this.ackSids.splice(0, ackN);
        this.ackAfter.splice(0, ackN);
      }
      this.outEntries = 0;
      if (this.ackTimer && this.ackSids.length === 0) {
        clearTimeout(this.ackTimer);
        this.ackTimer = undefined;
      }
      this.batches.push(batch);
      this.send(batch);
    }
  }

  private send(batch: Batch): void {
    const acks = encodeAcks(batch.ackTargets, batch.ackSids);
    this.writer.send([batch.payload, acks.payload], batch.entries + acks.count).then(
      (replies) => this.sent(batch, replies),
      (err: unknown) => {
        this.onBatchError(batch, err instanceof Error ? err : new Error(String(err)));
        this.settle();
      },
    );
  }

  private sent(batch: Batch, replies: readonly unknown[]): void {
    // an ack that fails (group gone) is not worth retrying; entries that failed to be written are
    let err: Error | undefined;
    for (let i = 0; i < batch.entries && !err; i++)
      if (replies[i] instanceof Error) err = replies[i] as Error;
    if (err) this.onBatchError(batch, err);
    else {
      batch.ackTargets = [];
      batch.ackSids = [];
      batch.payload = EMPTY;
      batch.done = true;
    }
    this.settle();
  }

  /**
   * The acks ready to go (every publish before them confirmed), as commands for the reader's next write: a process
   * that handled messages reads again at once, so its acks ride that write instead of costing one of their own (a
   * system call here and a wake-up of Redis, per message at a steady rate). They are a batch like the writer's (in
   * order with them; re-sent on the writer if the reader's write fails).
   */
  riders(): Rider | undefined {
    if (this.closed || this.retryTimer || this.holds > 0) return undefined;
    const after = this.ackAfter;
    let ackN = 0;
    while (ackN < after.length && after[ackN]! <= this.confirmedSeq) ackN++;
    if (ackN === 0) return undefined;
    const targets = this.ackTargets.splice(0, ackN);
    const sids = this.ackSids.splice(0, ackN);
    this.ackAfter.splice(0, ackN);
    if (this.ackTimer && this.ackSids.length === 0) {
      clearTimeout(this.ackTimer);
      this.ackTimer = undefined;
    }
    // not in `batches`: they confirm no publish, and wait for the read they ride, which must not hold back the
    // confirmation of the writer's batches
    this.riding++;
    const acks = encodeAcks(targets, sids);
    return {
      payload: acks.payload,
      count: acks.count,
      done: (ok) => {
        this.riding--;
        if (!ok && !this.closed) {
          // the connection dropped with them in flight: queued again, ready at once (their publishes are confirmed)
          this.ackTargets.unshift(...targets);
          this.ackSids.unshift(...sids);
          this.ackAfter.unshift(...sids.map(() => 0));
        }
        this.wakeFlushWaiters();
        this.kick();
      },
    };
  }

  private onBatchError(batch: Batch, err: Error): void {
    batch.failed = true;
    if (this.closed) return;
    this.log?.warn({ err: errorText(err), entries: batch.entries }, 'redis write failed; retrying');
  }

  /** Confirms finished batches in order; re-sends the first failed one after a pause. */
  private settle(): void {
    while (this.batches.length > 0 && this.batches[0]!.done) {
      this.confirmedSeq = this.batches.shift()!.lastSeq;
    }
    const head = this.batches[0];
    if (head?.failed && !this.retryTimer) {
      // wait for everything in flight, then re-send every unconfirmed batch in order
      if (this.batches.some((b) => !b.done && !b.failed)) return;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        for (const b of this.batches) {
          if (b.done) continue;
          b.failed = false;
          this.send(b);
        }
      }, 200);
    }
    this.wakeFlushWaiters();
    this.pump();
  }

  private wakeFlushWaiters(): void {
    if (this.flushWaiters.length === 0) return;
    const acksDone = !this.acksPending;
    this.flushWaiters = this.flushWaiters.filter((w) => {
      if (this.confirmedSeq >= w.seq && (!w.acks || acksDone)) {
        w.resolve();
        return false;
      }
      return true;
    });
  }

  /** Also waits until every subscription's reader is connected, so a publish that follows has a taker. */
  async flush(): Promise<void> {
    await this.settleAdmin();
    if (this.subs.size > 0) await this.mux.ready;
    await this.waitWritten(false);
  }

  /** Waits until publishes so far are written; with `acks`, until every queued ack is sent too. */
  waitWritten(acks: boolean): Promise<void> {
    const seq = this.pubSeq;
    const acksDone = !this.acksPending;
    if (this.confirmedSeq >= seq && (!acks || acksDone)) return Promise.resolve();
    return new Promise((resolve) => {
      this.flushWaiters.push({ seq, acks, resolve });
      // acks riding a blocked read come back when it ends: end it now
      if (acks && this.riding > 0) this.muxInstance?.hurry();
      this.kick();
    });
  }

  private async settleAdmin(): Promise<void> {
    while (this.admin.size > 0) await Promise.allSettled([...this.admin]);
  }

  /** Runs an admin command on the command connection, tracked so flush() waits for it. */
  track<T>(p: Promise<T>): Promise<T> {
    this.admin.add(p);
    const done = (): void => {
      this.admin.delete(p);
    };
    p.then(done, done);
    return p;
  }

  idle(): Promise<void> {
    return this.flush();
  }

  stats(): BusStats {
    return { ...this.counters };
  }

  // ------------------------------------------------------------------ groups and subscriptions

  /** Creates the consumer group once (at the end of the stream, or its start); the stream is made if needed. */
  ensureGroup(key: string, group: string, from: 'new' | 'start', force = false): Promise<void> {
    const k = `${key}\u0000${group}`;
    let p = force ? undefined : this.groups.get(k);
    if (!p) {
      p = this.track(
        (
          this.cmd.call(
            'XGROUP',
            'CREATE',
            key,
            group,
            from === 'start' ? '0' : '$',
            'MKSTREAM',
          ) as Promise<unknown>
        ).then(
          () => undefined,
          (err: unknown) => {
            if (err instanceof Error && /BUSYGROUP/.test(err.message)) return;
            this.groups.delete(k);
            throw err;
          },
        ),
      );
      this.groups.set(k, p);
      this.madeGroups.set(k, { key, group });
    }
    return p;
  }

  forgetGroup(key: string, group: string): void {
    this.groups.delete(`${key}\u0000${group}`);
    this.madeGroups.delete(`${key}\u0000${group}`);
  }

  subscribe<T>(channel: Channel<T>, opts: SubscribeOptions, handler: Handler<T>): Subscription {
    if (this.closed) throw new Error('bus is closed');
    const sub = new RedisSubscription(this, channel as Channel<unknown>, opts, handler as Handler<unknown>);
    this.subs.add(sub);
    sub.onClosed = () => this.subs.delete(sub);
    sub.start();
    return sub;
  }

  deadLetter(
    channel: string,
    group: string,
    messageId: string,
    attempts: number,
    error: string,
    body: unknown,
  ) {
    this.counters.deadLettered++;
    const dl: DeadLetter = {
      type: 'dead_letter',
      channel,
      group,
      messageId,
      attempts,
      error,
      body,
      ts: Date.now(),
    };
    this.publish(channels.deadLetter(channel), dl);
  }

  async history<T>(channel: Channel<T>, limit: number): Promise<Envelope<T>[]> {
    if (limit <= 0) return [];
    const res = (await this.cmd.call('XREVRANGE', this.key(channel.name), '+', '-', 'COUNT', limit)) as [
      string,
      string[],
    ][];
    const out: Envelope<T>[] = [];
    for (let i = res.length - 1; i >= 0; i--) {
      const d = decode(channel, res[i]![1]);
      if (d.ok) out.push({ id: d.id, channel: channel.name, body: d.body as T, attempt: 1 });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // with Redis unreachable, shutting down must not hang for ever: give the last writes a bounded time
    let timer: NodeJS.Timeout | undefined;
    const give = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), this.closeTimeoutMs);
    });
    const done = (async () => {
      await Promise.allSettled([...this.subs].map((s) => s.close()));
      await this.waitWritten(true);
      return 'done' as const;
    })();
    const timedOut = (await Promise.race([done, give])) === 'timeout';
    clearTimeout(timer);
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.ackTimer) clearTimeout(this.ackTimer);
    if (timedOut) {
      this.log?.error(
        { unwritten: this.pubSeq - this.confirmedSeq, unsentAcks: this.ackSids.length },
        'redis bus closed before every write reached Redis (unacked messages will be redelivered)',
      );
      for (const sub of this.subs) sub.abort();
      this.muxInstance?.abort();
      await this.writer.close();
      this.cmd.disconnect();
      return;
    }
    await this.muxInstance?.close();
    await this.writer.close();
    await this.cmd.quit().catch(noop);
    this.cmd.disconnect();
  }
}

/** One XACK per (stream, group), in bounded argument lists. */
function encodeAcks(
  targets: readonly AckTarget[],
  sids: readonly string[],
): { payload: string; count: number } {
  let payload = '';
  let count = 0;
  if (sids.length === 0) return { payload, count };
  const byTarget = new Map<AckTarget, string[]>();
  for (let i = 0; i < sids.length; i++) {
    const t = targets[i]!;
    let list = byTarget.get(t);
    if (!list) {
      list = [];
      byTarget.set(t, list);
    }
    list.push(sids[i]!);
  }
  for (const [t, list] of byTarget) {
    for (let i = 0; i < list.length; i += ACK_CHUNK) {
      payload += encodeCommand(['XACK', t.key, t.group, ...list.slice(i, i + ACK_CHUNK)]);
      count++;
    }
  }
  return { payload, count };
}

type Decoded =
  | { ok: true; id: string; body: unknown }
  | { ok: false; id: string; raw: unknown; error: string };

/** Entry fields → message, validated against the channel's schema (the edge where data enters the process). */
function decode(channel: Channel<unknown>, fields: string[] | null, fallbackId = 'unknown'): Decoded {
  let id: string | undefined;
  let data: string | undefined;
  if (fields) {
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const f = fields[i];
      if (f === 'i') id = fields[i + 1];
      else if (f === 'd') data = fields[i + 1];
    }
  }
  if (id === undefined || data === undefined) {
    const raw: Record<string, string> = {};
    if (fields) for (let i = 0; i + 1 < fields.length; i += 2) raw[fields[i]!] = fields[i + 1]!;
    return {
      ok: false,
      id: id ?? fallbackId,
      raw,
      error: 'malformed entry: expected fields i (id) and d (JSON body)',
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch (err) {
    return { ok: false, id, raw: data, error: `not JSON: ${errorText(err)}` };
  }
  // the hand-written check of a hot message type (fast-check.ts) first: zod only for what it refuses, which also
  // gives the error text and keeps zod the judge of any message the check would wrongly refuse
  const fast = channel.check?.(json);
  if (fast !== undefined) return { ok: true, id, body: fast };
  const r = channel.schema.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.map((x) => `${x.path.join('.') || '(root)'}: ${x.message}`).join('; ');
    return { ok: false, id, raw: json, error: `failed validation for ${channel.name}: ${issues}` };
  }
  return { ok: true, id, body: r.data };
}

class RedisSubscription implements Subscription {
  onClosed: () => void = noop;
  private readonly key: string;
  private readonly group: string;
  private readonly target: AckTarget;
  private readonly consumer: string;
  private readonly manual: boolean;
  private readonly maxAttempts: number;
  private readonly visibilityMs: number;
  private readonly sweepMs: number;
  private readonly reader: Redis;
  private readonly local = new Fifo<RawEntry>();
  /** manual mode: delivered and not yet acked */
  private readonly unacked = new Set<string>();
  private inHand: string | undefined;
  private paused = false;
  private closed = false;
  private needRecover = true;
  private nextSweep = 0;
  /** entries per read, adapted to the handler's speed */
  private count: number;
  private msPerEntry = 0;
  private wake: Waiter | undefined;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly bus: RedisBus,
    private readonly channel: Channel<unknown>,
    private readonly opts: SubscribeOptions,
    private readonly handler: Handler<unknown>,
  ) {
    this.key = bus.key(channel.name);
    this.group = opts.group;
    this.target = { key: this.key, group: this.group };
    this.consumer = opts.consumer ?? `c-${randomBytes(6).toString('hex')}`;
    this.manual = opts.ack === 'manual';
    this.maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.visibilityMs = opts.visibilityTimeoutMs ?? bus.visibilityMs;
    this.count = bus.readCount;
    this.sweepMs = Math.max(20, Math.round(Math.min(this.visibilityMs / 3, bus.blockMs)));
    // sweeps, claims and tidying go on the command connection; reads through the bus's reader (mux)
    this.reader = bus.cmd;
  }

  /** The reader connection came back: entries delivered while a reply was in flight sit in our pending list. */
  reconnected(): void {
    this.needRecover = true;
  }

  start(): void {
    // issued now, on the command connection, so it is ordered before any publish that follows
    this.bus.ensureGroup(this.key, this.group, this.opts.from ?? 'new').catch(noop);
    this.loop = this.run();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.poke();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      try {
        await this.bus.ensureGroup(this.key, this.group, this.opts.from ?? 'new');
        break;
      } catch (err) {
        this.bus.log?.warn(
          { stream: this.key, err: errorText(err) },
          'cannot create consumer group; retrying',
        );
        await this.sleep(200);
      }
    }
    while (!this.closed) {
      if (this.paused) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        continue;
      }
      try {
        if (this.local.length === 0) {
          if (this.needRecover) {
            this.needRecover = false;
            await this.recover();
          } else if (Date.now() >= this.nextSweep) {
            await this.sweep();
            // on a grid shared by every subscription of the process: their reads end, and their re-reads cut the
            // shared reader's wait short, at one moment per interval rather than at as many moments as there are
            // subscriptions (each such cut costs a message arriving then a few round trips)
            this.nextSweep = (Math.floor(Date.now() / this.sweepMs) + 1) * this.sweepMs;
          } else {
            await this.read(Math.max(1, Math.ceil(this.nextSweep - Date.now())));
          }
          continue;
        }
        const t0 = performance.now();
        let handled = 0;
        while (this.local.length > 0 && !this.paused && !this.closed) {
          const e = this.local.shift()!;
          const r = this.deliver(e);
          if (r) await r;
          handled++;
        }
        this.adapt(handled, performance.now() - t0);
      } catch (err) {
        if (this.closed) break;
        const msg = errorText(err);
        if (/NOGROUP/.test(msg)) {
          // the stream or group was deleted under us (a Redis restart without persistence): make it again from
          // the stream's start, so what was published since the restart, before this read, is not skipped
          this.bus.log?.warn({ stream: this.key, group: this.group }, 'consumer group lost; re-created');
          await this.bus.ensureGroup(this.key, this.group, 'start', true).catch(noop);
        } else {
          this.bus.log?.warn(
            { stream: this.key, group: this.group, err: msg },
            'redis read failed; retrying',
          );
          await this.sleep(100);
        }
      }
    }
  }

  /**
   * Takes no more per read than the handler gets through in half the visibility timeout, so entries waiting
   * here are not claimed by the rest of the group as if this consumer had died.
   */
  private adapt(handled: number, ms: number): void {
    if (handled === 0) return;
    const perEntry = ms / handled;
    this.msPerEntry = this.msPerEntry === 0 ? perEntry : 0.7 * this.msPerEntry + 0.3 * perEntry;
    const fit = Math.floor(this.visibilityMs / 2 / Math.max(this.msPerEntry, 1e-3));
    this.count = Math.max(1, Math.min(this.bus.readCount, fit));
  }

  private async read(blockMs: number): Promise<void> {
    const lazyMs = this.opts.lazyMs;
    const entries = await this.bus.mux.read(this, {
      key: this.key,
      group: this.group,
      consumer: this.consumer,
      count: this.count,
      blockMs: lazyMs === undefined ? blockMs : Math.max(1, Math.min(blockMs, lazyMs)),
      lazy: lazyMs !== undefined,
    });
    for (const [sid, fields] of entries) this.local.push({ sid, fields, attempt: 1 });
  }

  /** Whether an entry is already held here (queued, in the handler, or delivered and awaiting a manual ack). */
  private holds(sid: string): boolean {
    return sid === this.inHand || this.unacked.has(sid) || this.local.has((e) => e.sid === sid);
  }

  /** Takes back our own pending entries (after a start or a reconnect). */
  private async recover(): Promise<void> {
    const pending = (await this.reader.call(
      'XPENDING',
      this.key,
      this.group,
      '-',
      '+',
      1000,
      this.consumer,
    )) as [string, string, number, number][];
    const sids = pending.filter((p) => !this.holds(p[0])).map((p) => p[0]);
    if (sids.length > 0) await this.claim(sids, 0, new Map(pending.map((p) => [p[0], p[3]])));
  }

  /** Claims entries of the group left unacked past the visibility timeout (another consumer's, or ours long since). */
  private async sweep(): Promise<void> {
    const sids: string[] = [];
    const deliveries = new Map<string, number>();
    let start = '-';
    // page on past entries we hold ourselves, so they cannot hide stale ones behind them
    for (let page = 0; page < 5 && sids.length === 0; page++) {
      const pending = (await this.reader.call(
        'XPENDING',
        this.key,
        this.group,
        'IDLE',
        this.visibilityMs,
        start,
        '+',
        200,
      )) as [string, string, number, number][];
      for (const [sid, owner, idle, count] of pending) {
        // our own: only once long overdue, and not while in the handler or still queued here
        if (owner === this.consumer) {
          if (idle < 2 * this.visibilityMs || sid === this.inHand) continue;
          if (this.local.has((e) => e.sid === sid)) continue;
        }
        sids.push(sid);
        deliveries.set(sid, count);
      }
      if (pending.length < 200) break;
      start = `(${pending[pending.length - 1]![0]}`;
    }
    if (sids.length > 0) await this.claim(sids, this.visibilityMs, deliveries);
  }

  private async claim(sids: string[], minIdle: number, deliveries: Map<string, number>): Promise<void> {
    const res = (await this.reader.call('XCLAIM', this.key, this.group, this.consumer, minIdle, ...sids)) as [
      string,
      string[] | null,
    ][];
    const gone: string[] = [];
    for (const [sid, fields] of res) {
      if (!fields) {
        gone.push(sid); // trimmed away while pending: nothing left to deliver
        continue;
      }
      this.unacked.delete(sid);
      const attempt = (deliveries.get(sid) ?? 1) + 1;
      this.bus.counters.redelivered++;
      if (attempt > this.maxAttempts) {
        const d = decode(this.channel, fields);
        this.bus.deadLetter(
          this.channel.name,
          this.group,
          d.id,
          attempt - 1,
          `not acknowledged within ${this.visibilityMs} ms`,
          d.ok ? d.body : d.raw,
        );
        this.bus.ack(this.target, sid);
        continue;
      }
      this.local.push({ sid, fields, attempt });
    }
    for (const sid of gone) this.bus.ack(this.target, sid);
  }

  /** Runs the handler for one entry; returns a promise only when the handler is async. */
  private deliver(e: RawEntry): Promise<void> | undefined {
    const d = decode(this.channel, e.fields);
    if (!d.ok) {
      this.bus.log?.warn({ stream: this.key, messageId: d.id, err: d.error }, 'dead-lettered a bad entry');
      this.bus.deadLetter(this.channel.name, this.group, d.id, e.attempt, d.error, d.raw);
      this.bus.ack(this.target, e.sid);
      return undefined;
    }
    const counters = this.bus.counters;
    counters.delivered++;
    const env: Envelope<unknown> = { id: d.id, channel: this.channel.name, body: d.body, attempt: e.attempt };
    let ctl: DeliveryControl = NOOP_CTL;
    if (this.manual) {
      let acked = false;
      this.unacked.add(e.sid);
      ctl = {
        ack: () => {
          if (acked) return;
          acked = true;
          this.unacked.delete(e.sid);
          counters.acked++;
          this.bus.ack(this.target, e.sid);
        },
      };
    }
    this.inHand = e.sid;
    let out: void | Promise<void>;
    try {
      out = this.handler(env, ctl);
    } catch (err) {
      this.onFailure(e, d.id, d.body, err);
      return undefined;
    }
    if (out && typeof (out as Promise<void>).then === 'function') {
      return (out as Promise<void>).then(
        () => this.done(e),
        (err: unknown) => this.onFailure(e, d.id, d.body, err),
      );
    }
    this.done(e);
    return undefined;
  }

  private done(e: RawEntry): void {
    this.inHand = undefined;
    if (this.manual) return;
    this.bus.counters.acked++;
    this.bus.ack(this.target, e.sid);
  }

  private onFailure(e: RawEntry, id: string, body: unknown, err: unknown): void {
    this.inHand = undefined;
    this.unacked.delete(e.sid);
    this.bus.counters.failed++;
    if (e.attempt >= this.maxAttempts) {
      this.bus.log?.warn(
        { stream: this.key, messageId: id, err: errorText(err) },
        'dead-lettered a failing message',
      );
      this.bus.deadLetter(this.channel.name, this.group, id, e.attempt, errorText(err), body);
      this.bus.ack(this.target, e.sid);
      return;
    }
    // retried at once, at the front, so this consumer's order is kept
    this.local.unshift({ sid: e.sid, fields: e.fields, attempt: e.attempt + 1 });
  }

  /** Graceful: the message in hand finishes and is acked; what is left is handed back to the group at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.poke();
    // a read waiting on the shared reader ends now (one already sent returns its entries, released below)
    this.bus.cancelRead(this);
    await this.loop;
    const left = [...this.local.drainAll().map((e) => e.sid), ...this.unacked];
    this.unacked.clear();
    if (left.length > 0) {
      // mark them long idle so any other consumer of the group claims them on its next sweep
      await (
        (this.reader.call as (...a: unknown[]) => Promise<unknown>)(
          'XCLAIM',
          this.key,
          this.group,
          this.consumer,
          0,
          left,
          'IDLE',
          RELEASE_IDLE_MS,
          'JUSTID',
        ) as Promise<unknown>
      ).catch(noop);
    }
    await this.bus.waitWritten(true);
    await this.tidy().catch(noop);
    this.onClosed();
  }

  /** Drops the connection at once (close() gave up waiting for Redis). */
  abort(): void {
    this.closed = true;
    this.poke();
    this.onClosed();
  }

  /** Leaves no litter: an ephemeral group goes, and so does a consumer name with nothing pending. */
  private async tidy(): Promise<void> {
    if (this.opts.ephemeral) {
      await this.reader.call('XGROUP', 'DESTROY', this.key, this.group);
      this.bus.forgetGroup(this.key, this.group);
      return;
    }
    const mine = (await this.reader.call(
      'XPENDING',
      this.key,
      this.group,
      '-',
      '+',
      1,
      this.consumer,
    )) as unknown[];
    if (mine.length === 0)
      await this.reader.call('XGROUP', 'DELCONSUMER', this.key, this.group, this.consumer);
  }
}

const NOOP_CTL: DeliveryControl = { ack() {} };

export function createRedisBus(opts: RedisBusOptions): Bus {
  return new RedisBus(opts);
}
