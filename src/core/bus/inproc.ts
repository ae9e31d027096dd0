/**
 * The in-process transport: the embedded default, and a real implementation of the bus contract (groups,
 * at-least-once with ack, visibility-timeout redelivery, retries and dead letters, bounded retention).
 *
 * Each consumer has a FIFO queue drained in a microtask, one message at a time, so order is kept per consumer
 * and a synchronous handler costs a function call, not a promise. Objects are handed over by reference; they are
 * readonly by type, so no copy is made.
 */
import { type Channel, channels, type DeadLetter } from '../channels.ts';
import { type Clock, type TimerHandle, wallClock } from '../clock.ts';
import { Fifo } from './fifo.ts';
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

export interface InProcBusOptions {
  /** Prefix of generated message ids (keep it fixed for deterministic replay). */
  readonly name?: string;
  /** Messages kept per channel for groups that start from the beginning (default 10,000). */
  readonly maxLen?: number;
  /**
   * The process's injected clock (default: the wall clock). Visibility deadlines, dead-letter stamps and the timer
   * that checks them run on it, so on a simulated clock a redelivery happens when time is advanced to the deadline,
   * never after a real wait. The timer is set only while manual-ack messages are unacked, for the earliest deadline.
   */
  readonly clock?: Clock;
  /**
   * A running system's bus: after draining one consumer for this many wall-clock ms, the rest of its queue waits
   * for the next turn of the event loop (setImmediate), so timers, sockets and signals run between (a burst of
   * 100k market listings otherwise keeps everything else — the dashboard, Ctrl-C — waiting for seconds). Unset
   * (the default, and always in a backtest): a consumer drains its whole queue in microtasks, so the interleaving
   * of consumers never depends on timing and replays stay exact.
   */
  readonly yieldAfterMs?: number;
}

/** How many messages a drain handles between two looks at the wall clock (it costs ~30 ns; messages ~1 µs). */
const YIELD_CHECK_EVERY = 32;

/**
 * A delivery: the envelope itself, its `attempt` the delivery's. A publish queues the one envelope for every group
 * (no wrapper object per message); a retry or redelivery queues a copy with the next attempt, never a mutation.
 */
type Item = Envelope<unknown>;

interface PendingEntry {
  item: Item;
  consumer: Consumer;
  deadline: number;
}

interface Consumer {
  name: string;
  group: Group;
  handler: Handler<unknown>;
  manual: boolean;
  maxAttempts: number;
  visibilityMs: number;
  queue: Fifo<Item>;
  scheduled: boolean;
  running: boolean;
  paused: boolean;
  closed: boolean;
  /** counted in `busy`: has queued or running work and is not paused or closed */
  active: boolean;
  /** the async handler in hand, so close() can let it finish */
  inflight: Promise<void> | undefined;
  /** with yieldAfterMs: when this consumer's current slice of the event loop ends (performance.now()) */
  sliceEnd: number | undefined;
}

interface Group {
  name: string;
  channel: ChannelState;
  consumers: Consumer[];
  rr: number;
  pending: Map<string, PendingEntry>;
}

interface ChannelState {
  name: string;
  groups: Map<string, Group>;
  /** `groups` in creation order, as an array: a publish walks it without a Map iterator */
  groupList: Group[];
  retained: Envelope<unknown>[];
}

export class InProcBus implements Bus {
  readonly transport = 'inproc' as const;
  private readonly name: string;
  private readonly maxLen: number;
  private readonly clock: Clock;
  private readonly yieldAfterMs: number | undefined;
  private readonly chans = new Map<string, ChannelState>();
  private seq = 0;
  private busy = 0; // consumers with queued or running work
  /** One promise for everyone waiting on the same idle moment (a backtest awaits idle() before every frame). */
  private idleWait: { promise: Promise<void>; resolve: () => void } | undefined;
  /** The one-shot timer due at the earliest visibility deadline, and that deadline. */
  private sweeper: TimerHandle | undefined;
  private sweepAt = Number.POSITIVE_INFINITY;
  private closed = false;
  /**
   * Scheduled drains, in the order they were scheduled, and how many each microtask runs (see schedule): the
   * consumers one publish wakes share one microtask, run one after the other as their own microtasks would run.
   */
  private readonly ready = new Fifo<Consumer>();
  private readonly batches = new Fifo<number>();
  /** While publish() routes: drains scheduled now join one batch (one microtask for every group of the message). */
  private batching = false;
  private batchSize = 0;
  private readonly runBatchFn = (): void => this.runBatch();
  private readonly counters: BusStats = {
    published: 0,
    delivered: 0,
    acked: 0,
    failed: 0,
    deadLettered: 0,
    redelivered: 0,
  };

  constructor(opts: InProcBusOptions = {}) {
    this.name = opts.name ?? 'm';
    this.maxLen = opts.maxLen ?? 10_000;
    this.clock = opts.clock ?? wallClock();
    this.yieldAfterMs = opts.yieldAfterMs;
  }

  private now(): number {
    return this.clock.now();
  }

  publish<T>(channel: Channel<T>, body: T, opts?: PublishOptions): string {
    if (this.closed) throw new Error('bus is closed');
    const id = opts?.id ?? `${this.name}-${++this.seq}`;
    const env: Envelope<unknown> = { id, channel: channel.name, body, attempt: 1 };
    this.counters.published++;
    const ch = this.chan(channel.name);
    if (this.maxLen > 0) {
      ch.retained.push(env);
      // amortised trim: let it grow 10% past the bound, then cut back
      if (ch.retained.length > this.maxLen * 1.1 + 16)
        ch.retained.splice(0, ch.retained.length - this.maxLen);
    }
    const gs = ch.groupList;
    // routing runs no handler, so nothing can queue a microtask (or publish) between these groups' drains: one
    // microtask for them all runs them in the same order as a microtask each (3 allocations per drain, 5 per book)
    this.batching = true;
    this.batchSize = 0;
    for (let i = 0; i < gs.length; i++) this.route(gs[i]!, env);
    this.batching = false;
    if (this.batchSize > 0) this.queueBatch(this.batchSize);
    return id;
  }

  subscribe<T>(channel: Channel<T>, opts: SubscribeOptions, handler: Handler<T>): Subscription {
    if (this.closed) throw new Error('bus is closed');
    const ch = this.chan(channel.name);
    let group = ch.groups.get(opts.group);
    const isNewGroup = !group;
    if (!group) {
      group = { name: opts.group, channel: ch, consumers: [], rr: 0, pending: new Map() };
      ch.groups.set(opts.group, group);
      ch.groupList.push(group);
    }
    const consumer: Consumer = {
      name: opts.consumer ?? `c${++this.seq}`,
      group,
      handler: handler as Handler<unknown>,
      manual: opts.ack === 'manual',
      maxAttempts: opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      visibilityMs: opts.visibilityTimeoutMs ?? DEFAULT_VISIBILITY_TIMEOUT_MS,
      queue: new Fifo(),
      scheduled: false,
      running: false,
      paused: false,
      closed: false,
      active: false,
      inflight: undefined,
      sliceEnd: undefined,
    };
    group.consumers.push(consumer);
    if (isNewGroup && opts.from === 'start') {
      for (const env of ch.retained) this.enqueue(consumer, env);
    }
    return {
      close: async () => {
        this.closeConsumer(consumer);
        // graceful: the message in hand finishes (and is acked) before close resolves
        await consumer.inflight;
      },
      pause: () => {
        consumer.paused = true;
        this.track(consumer);
      },
      resume: () => {
        consumer.paused = false;
        this.track(consumer);
        this.schedule(consumer);
      },
    };
  }

  async flush(): Promise<void> {
    // Nothing is buffered: a publish is routed synchronously.
  }

  idle(): Promise<void> {
    if (this.busy === 0) return Promise.resolve();
    if (!this.idleWait) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.idleWait = { promise, resolve };
    }
    return this.idleWait.promise;
  }

  stats(): BusStats {
    return { ...this.counters };
  }

  async history<T>(channel: Channel<T>, limit: number): Promise<Envelope<T>[]> {
    const r = this.chans.get(channel.name)?.retained ?? [];
    // the ring may run up to 10% past maxLen before it is cut back; never show more than the bound
    const n = Math.max(0, Math.min(limit, this.maxLen, r.length));
    return r.slice(r.length - n) as Envelope<T>[];
  }

  async close(): Promise<void> {
    this.closed = true;
    this.sweeper?.cancel();
    this.sweeper = undefined;
    this.sweepAt = Number.POSITIVE_INFINITY;
    for (const ch of this.chans.values()) {
      for (const g of ch.groups.values()) for (const c of g.consumers) c.closed = true;
    }
  }

  // ------------------------------------------------------------------ internals

  private chan(name: string): ChannelState {
    let ch = this.chans.get(name);
    if (!ch) {
      ch = { name, groups: new Map(), groupList: [], retained: [] };
      this.chans.set(name, ch);
    }
    return ch;
  }

  private route(group: Group, item: Item, avoid?: Consumer): void {
    const cs = group.consumers;
    if (cs.length === 0) return; // a group with no consumers left keeps nothing (like a deleted group)
    if (cs.length === 1) {
      // the usual case: one consumer (`rr` still counts, as below, for when a second one joins)
      group.rr++;
      this.enqueue(cs[0]!, item);
      return;
    }
    // as on Redis, where a paused consumer reads nothing: the group's consumers taking work get it, when any do
    let takers = 0;
    for (let i = 0; i < cs.length; i++) if (!cs[i]!.paused && !cs[i]!.closed) takers++;
    // the usual case (every consumer taking, mostly one) reads the group's array: no filtered copy per message
    const pool = takers === cs.length || takers === 0 ? cs : cs.filter((x) => !x.paused && !x.closed);
    let c = pool[group.rr++ % pool.length]!;
    if (avoid && pool.length > 1 && c === avoid) c = pool[group.rr++ % pool.length]!;
    this.enqueue(c, item);
  }

  private enqueue(c: Consumer, item: Item): void {
    c.queue.push(item);
    this.track(c);
    this.schedule(c);
  }

  /** Keeps `busy` equal to the number of consumers with work in hand, and wakes idle() waiters at zero. */
  private track(c: Consumer): void {
    const active = !c.closed && (c.running || (!c.paused && c.queue.length > 0));
    if (active === c.active) return;
    c.active = active;
    this.busy += active ? 1 : -1;
    if (this.busy === 0 && this.idleWait) {
      const w = this.idleWait;
      this.idleWait = undefined;
      w.resolve();
    }
  }

  private schedule(c: Consumer): void {
    if (c.scheduled || c.running || c.paused || c.closed || c.queue.length === 0) return;
    c.scheduled = true;
    this.ready.push(c);
    if (this.batching) this.batchSize++;
    else this.queueBatch(1);
  }

  /** One microtask for the next `n` drains of `ready`. */
  private queueBatch(n: number): void {
    this.batches.push(n);
    // a reaction on a settled promise is the same FIFO microtask as queueMicrotask, without the AsyncResource
    // (async_hooks bookkeeping and a bound function) Node's queueMicrotask makes per call
    RESOLVED.then(this.runBatchFn);
  }

  /**
   * A microtask: drains its batch's consumers in order. Microtasks run in the order they were queued, so the
   * batch is the front of `ready`. An error in one drain does not keep the others from running (as separate
   * microtasks would); the first is rethrown after them.
   */
  private runBatch(): void {
    const n = this.batches.shift()!;
    let failed = false;
    let error: unknown;
    for (let i = 0; i < n; i++) {
      const c = this.ready.shift()!;
      try {
        this.drain(c);
      } catch (err) {
        if (!failed) error = err;
        failed = true;
      }
    }
    if (failed) throw error;
  }

  private drain(c: Consumer): void {
    c.scheduled = false;
    if (c.running) return;
    if (this.yieldAfterMs !== undefined) {
      // The slice spans drains: an async handler ends each drain after one message, and its continuation is a
      // microtask, so only a deadline kept on the consumer ever lets the event loop in.
      const t = performance.now();
      if (c.sliceEnd === undefined) c.sliceEnd = t + this.yieldAfterMs;
      else if (t >= c.sliceEnd) {
        this.yieldTurn(c);
        return;
      }
    }
    c.running = true;
    let n = 0;
    while (!c.paused && !c.closed) {
      if (c.sliceEnd !== undefined && ++n % YIELD_CHECK_EVERY === 0 && performance.now() >= c.sliceEnd) {
        c.running = false;
        this.yieldTurn(c);
        return;
      }
      const item = c.queue.shift();
      if (!item) {
        c.sliceEnd = undefined; // caught up: the next message starts a new slice
        break;
      }
      const result = this.deliver(c, item);
      if (result) {
        // async handler: continue after it settles, keeping per-consumer order
        const next = (): void => {
          c.inflight = undefined;
          c.running = false;
          this.track(c);
          this.schedule(c);
        };
        c.inflight = result.then(next, next);
        return;
      }
    }
    c.running = false;
    this.track(c);
  }

  /** The rest of `c`'s queue on the next turn of the event loop; `scheduled` keeps a publish from draining first. */
  private yieldTurn(c: Consumer): void {
    c.scheduled = true;
    c.sliceEnd = undefined;
    setImmediate(() => this.drain(c));
  }

  /**
   * Runs the handler; returns a promise only when the handler is async. The usual delivery (automatic ack, a
   * synchronous handler) makes no closure: the manual-ack and async paths are methods of their own, so this frame
   * captures nothing and V8 allocates no context per message.
   */
  private deliver(c: Consumer, item: Item): Promise<void> | undefined {
    this.counters.delivered++;
    if (c.manual) return this.deliverManual(c, item);
    let out: void | Promise<void>;
    try {
      out = c.handler(item, NOOP_CTL);
    } catch (err) {
      this.onFailure(c, item, err);
      return undefined;
    }
    if (out && typeof (out as Promise<void>).then === 'function')
      return this.settled(c, item, out as Promise<void>);
    this.counters.acked++;
    return undefined;
  }

  /** deliver() for a manual-ack consumer: pending until acked, redelivered after its visibility timeout. */
  private deliverManual(c: Consumer, item: Item): Promise<void> | undefined {
    const env = item;
    let acked = false;
    const ctl: DeliveryControl = {
      ack: () => {
        if (acked) return;
        acked = true;
        c.group.pending.delete(env.id);
        this.counters.acked++;
      },
    };
    const deadline = this.now() + c.visibilityMs;
    c.group.pending.set(env.id, { item, consumer: c, deadline });
    this.armSweep(deadline);
    let out: void | Promise<void>;
    try {
      out = c.handler(env, ctl);
    } catch (err) {
      c.group.pending.delete(env.id);
      this.onFailure(c, item, err);
      return undefined;
    }
    if (out && typeof (out as Promise<void>).then === 'function')
      return this.settled(c, item, out as Promise<void>);
    return undefined;
  }

  /** An async handler's outcome: acked (automatic ack) when it resolves, a failure when it rejects. */
  private settled(c: Consumer, item: Item, out: Promise<void>): Promise<void> {
    return out.then(
      () => {
        if (!c.manual) this.counters.acked++;
      },
      (err: unknown) => {
        if (c.manual) c.group.pending.delete(item.id);
        this.onFailure(c, item, err);
      },
    );
  }

  private onFailure(c: Consumer, item: Item, err: unknown): void {
    this.counters.failed++;
    if (item.attempt >= c.maxAttempts) {
      this.deadLetter(c.group, item, errorText(err));
      return;
    }
    // retry at the front of this consumer's queue so per-consumer order is kept
    c.queue.unshift({ ...item, attempt: item.attempt + 1 });
  }

  private deadLetter(group: Group, item: Item, error: string): void {
    this.counters.deadLettered++;
    const dl: DeadLetter = {
      type: 'dead_letter',
      channel: group.channel.name,
      group: group.name,
      messageId: item.id,
      attempts: item.attempt,
      error,
      body: item.body,
      ts: this.now(),
    };
    this.publish(channels.deadLetter(group.channel.name), dl);
  }

  /** Makes sure a sweep runs at `deadline` (one timer, for the earliest deadline pending). */
  private armSweep(deadline: number): void {
    if (this.closed || deadline >= this.sweepAt) return;
    this.sweeper?.cancel();
    this.sweepAt = deadline;
    this.sweeper = this.clock.at(deadline, () => {
      this.sweeper = undefined;
      this.sweepAt = Number.POSITIVE_INFINITY;
      this.sweep();
    });
  }

  private sweep(): void {
    if (this.closed) return;
    const now = this.now();
    let next = Number.POSITIVE_INFINITY;
    for (const ch of this.chans.values()) {
      for (const g of ch.groups.values()) {
        if (g.pending.size === 0) continue;
        for (const [id, p] of g.pending) {
          if (p.deadline > now) {
            if (p.deadline < next) next = p.deadline;
            continue;
          }
          g.pending.delete(id);
          this.counters.redelivered++;
          const again: Item = { ...p.item, attempt: p.item.attempt + 1 };
          if (again.attempt > p.consumer.maxAttempts) {
            this.deadLetter(g, p.item, `not acknowledged within ${p.consumer.visibilityMs} ms`);
          } else {
            this.route(g, again, p.consumer);
          }
        }
      }
    }
    if (next < Number.POSITIVE_INFINITY) this.armSweep(next);
  }

  private closeConsumer(c: Consumer): void {
    if (c.closed) return;
    c.closed = true;
    this.track(c);
    const g = c.group;
    g.consumers = g.consumers.filter((x) => x !== c);
    const left = c.queue.drainAll();
    for (const item of left) this.route(g, item);
    // Unacked messages of a closed consumer go back to the group at once.
    for (const [id, p] of g.pending) {
      if (p.consumer !== c) continue;
      g.pending.delete(id);
      this.counters.redelivered++;
      this.route(g, { ...p.item, attempt: p.item.attempt + 1 });
    }
  }
}

const NOOP_CTL: DeliveryControl = { ack() {} };
const RESOLVED: Promise<void> = Promise.resolve();

export function createInProcBus(opts?: InProcBusOptions): Bus {
  return new InProcBus(opts);
}
