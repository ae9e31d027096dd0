/**
 * The agent runtime: lifecycle, subscriptions, heartbeats, system commands and graceful shutdown.
 *
 * An agent is a small object with start/stop; the runtime gives it a context (bus, clock, config, logger, ids)
 * and does the rest: every subscription is in the agent's consumer group, a failing message is isolated by the
 * bus (retried, then dead-lettered), HALT_ALL puts trading agents in `halted` until RESUME, PAUSE stops
 * deliveries, and a heartbeat goes out on the health channel on a clock timer.
 *
 * Faults stop trading. A handler that throws an InvariantError (src/core/invariant.ts), or any error thrown inside
 * one of the agent's clock timers, faults the agent: the message goes to the dead-letter channel with the error
 * at once (it is not retried, and the agent's state never recorded it), the agent stops taking work, HALT_ALL goes
 * out with the reason, and a critical alert is published.
 */
import { hostname } from 'node:os';
import {
  type Bus,
  type DeliveryControl,
  type Envelope,
  errorText,
  type Handler,
  type SubscribeOptions,
  type Subscription,
} from './bus/types.ts';
import { type Channel, channels } from './channels.ts';
import type { Clock, TimerHandle } from './clock.ts';
import type { Config } from './config.ts';
import type { HaltSource } from './halt.ts';
import { isInvariantError } from './invariant.ts';
import type { Logger } from './log.ts';
import type { AgentState, SystemCommand } from './messages.ts';
import { verifySignature } from './signing.ts';

/** Deterministic ids: `<kind>-<prefix>-<n>`; the prefix tells processes apart. */
export interface IdGen {
  next(kind: string): string;
}

export function createIds(prefix: string): IdGen {
  // per kind its counter and `<kind>-<prefix>-` (one lookup, no map write nor head string per id: one per opportunity)
  const counters = new Map<string, { n: number; readonly head: string }>();
  return {
    next(kind) {
      let c = counters.get(kind);
      if (c === undefined) {
        c = { n: 0, head: `${kind}-${prefix}-` };
        counters.set(kind, c);
      }
      return c.head + ++c.n;
    },
  };
}

/** What every agent is built with. Built once per process and passed in; never a module-level singleton. */
export interface Kernel {
  readonly config: Config;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly log: Logger;
  readonly ids: IdGen;
  /** Process-unique name used for consumer names and heartbeats. */
  readonly instance: string;
}

export type HealthDetails = Record<string, number | string | boolean | null>;

export interface Agent {
  readonly name: string;
  /** Trading agents stop taking new risk under HALT_ALL; data agents keep running. */
  readonly trading: boolean;
  start(rt: AgentRuntime): void | Promise<void>;
  stop?(): void | Promise<void>;
  /** Counters and feed health for the heartbeat. */
  health?(): HealthDetails;
  /** Called after the runtime applied a system command (state already changed). */
  onSystem?(cmd: SystemCommand, rt: AgentRuntime): void;
}

export interface AgentRuntimeOptions {
  readonly heartbeatMs?: number;
  /**
   * Where the durable halt state is (store, Redis key). A trading agent reads it before it starts and after
   * every reconnect; while it cannot, it counts as halted and tries again every `haltRetryMs` (default 1 s).
   */
  readonly haltSource?: HaltSource;
  readonly haltRetryMs?: number;
}

export class AgentRuntime {
  readonly kernel: Kernel;
  readonly agent: Agent;
  private current: AgentState = 'stopped';
  private readonly subs: Subscription[] = [];
  private systemSub: Subscription | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private readonly heartbeatMs: number;
  private processed = 0;
  private failed = 0;
  /** HALT_ALL in force (trading agents) and PAUSE in force: independent, so lifting one keeps the other. */
  private haltFlag = false;
  private pauseFlag = false;
  /** The durable halt state could not be read: no new risk until it can. */
  private haltUnknown = false;
  private haltRetry: TimerHandle | undefined;
  private readonly haltSource: HaltSource | undefined;
  private readonly haltRetryMs: number;
  private readonly guardedClock: Clock;

  constructor(kernel: Kernel, agent: Agent, opts: AgentRuntimeOptions = {}) {
    this.kernel = kernel;
    this.agent = agent;
    this.heartbeatMs = opts.heartbeatMs ?? 5_000;
    this.haltSource = agent.trading ? opts.haltSource : undefined;
    this.haltRetryMs = opts.haltRetryMs ?? 1_000;
    this.guardedClock = guardClock(kernel.clock, (err) => this.onTimerError(err));
  }

  get state(): AgentState {
    return this.current;
  }
  get log(): Logger {
    return this.kernel.log;
  }
  /** The kernel's clock, with the agent's timers guarded: an error thrown inside one faults the agent. */
  get clock(): Clock {
    return this.guardedClock;
  }
  get bus(): Bus {
    return this.kernel.bus;
  }
  get config(): Config {
    return this.kernel.config;
  }
  /** True while HALT_ALL is in force, or the halt state cannot be read (trading agents only). */
  get halted(): boolean {
    return this.haltFlag || this.haltUnknown;
  }

  /** Subscribes in this agent's consumer group (or `opts.group`), counting outcomes for the heartbeat. */
  subscribe<T>(channel: Channel<T>, handler: Handler<T>, opts: Partial<SubscribeOptions> = {}): Subscription {
    const group = opts.group ?? this.agent.name;
    // the async outcome is a method (afterAsync): a closure here over msg and ctl made V8 allocate a context on
    // every message, synchronous ones too
    const wrapped: Handler<T> = (msg, ctl) => {
      try {
        const out = handler(msg, ctl);
        if (out && typeof (out as Promise<void>).then === 'function')
          return this.afterAsync(out as Promise<void>, channel.name, group, msg, ctl);
        this.processed++;
        return undefined;
      } catch (err) {
        this.onHandlerError(channel.name, msg.id, err);
        if (!isInvariantError(err)) throw err;
        this.onInvariant(channel.name, group, msg, err, ctl);
        return undefined;
      }
    };
    const sub = this.kernel.bus.subscribe(
      channel,
      // a group new to a facts channel (listings, links) reads what was published before it existed
      {
        group,
        consumer: this.kernel.instance,
        ...(channel.facts ? { from: 'start' as const } : {}),
        ...opts,
      },
      wrapped,
    );
    if (this.pauseFlag || this.current === 'faulted') sub.pause();
    this.subs.push(sub);
    return sub;
  }

  publish<T>(channel: Channel<T>, body: T): string {
    return this.kernel.bus.publish(channel, body);
  }

  /** An async handler's outcome: counted when it resolves; an error is handled as a synchronous one is. */
  private afterAsync(
    out: Promise<void>,
    channel: string,
    group: string,
    msg: Envelope<unknown>,
    ctl: DeliveryControl,
  ): Promise<void> {
    return out.then(
      () => {
        this.processed++;
      },
      (err: unknown) => {
        this.onHandlerError(channel, msg.id, err);
        if (!isInvariantError(err)) throw err;
        this.onInvariant(channel, group, msg, err, ctl);
      },
    );
  }

  async start(): Promise<void> {
    this.current = 'starting';
    // A group of its own per agent instance: every agent sees every system command.
    this.systemSub = this.kernel.bus.subscribe(
      channels.system,
      {
        group: `${this.agent.name}@${this.kernel.instance}`,
        consumer: this.kernel.instance,
        ephemeral: true,
      },
      (msg) => this.onSystemMessage(msg.id, msg.body),
    );
    if (this.haltSource) {
      await this.syncHalt('start');
      this.haltSource.onReconnect?.(() => void this.syncHalt('reconnect'));
    }
    try {
      await this.agent.start(this);
    } catch (err) {
      this.current = 'faulted';
      this.heartbeat();
      throw err;
    }
    if (this.current === 'starting') this.current = this.settledState();
    this.heartbeat();
    this.heartbeatTimer = this.kernel.clock.every(this.heartbeatMs, () => this.heartbeat());
  }

  /** Graceful stop: no new deliveries, the message in hand finishes and is acked, then the agent closes. */
  async stop(): Promise<void> {
    if (this.current === 'stopped') return;
    this.heartbeatTimer?.cancel();
    this.haltRetry?.cancel();
    await Promise.all(this.subs.map((s) => s.close()));
    await this.systemSub?.close();
    try {
      await this.agent.stop?.();
    } finally {
      this.current = 'stopped';
      this.heartbeat();
    }
  }

  /**
   * Marks the agent faulted (an invariant broke): it stays up to report, but takes no new work; HALT_ALL goes out
   * with the reason (every trading agent stops taking risk) and a critical alert is published. Once per fault.
   */
  fault(reason: string): void {
    if (this.current === 'faulted') return;
    this.kernel.log.error({ agent: this.agent.name, reason }, 'agent faulted');
    this.current = 'faulted';
    for (const s of this.subs) s.pause();
    const ts = this.kernel.clock.now();
    const halt: SystemCommand = {
      type: 'system',
      command: 'HALT_ALL',
      reason: `fault in ${this.agent.name}: ${reason}`,
      issuedBy: `${this.agent.name}@${this.kernel.instance}`,
      issuedAt: ts,
    };
    this.kernel.bus.publish(channels.system, halt);
    // a faulted agent ignores system commands, so it applies this halt itself (the executor cancels open orders)
    if (this.agent.trading) {
      this.haltFlag = true;
      try {
        this.agent.onSystem?.(halt, this);
      } catch (err) {
        this.kernel.log.error({ agent: this.agent.name, err }, 'halt after a fault failed');
      }
    }
    this.kernel.bus.publish(channels.alerts, {
      type: 'alert',
      level: 'critical',
      title: `fault: ${this.agent.name}`,
      body: `${reason} — trading halted (HALT_ALL); the agent stays faulted until it is restarted`,
      ts,
    });
    this.heartbeat();
  }

  heartbeat(): void {
    this.kernel.bus.publish(channels.health, {
      type: 'heartbeat',
      agent: this.agent.name,
      instance: this.kernel.instance,
      state: this.current,
      pid: process.pid,
      host: hostname(),
      ts: this.kernel.clock.now(),
      details: {
        processed: this.processed,
        failed: this.failed,
        trading: this.agent.trading,
        ...(this.haltUnknown ? { haltStateUnreadable: true } : {}),
        ...(this.agent.health?.() ?? {}),
      },
    });
  }

  private settledState(): AgentState {
    return this.pauseFlag ? 'paused' : this.halted ? 'halted' : 'running';
  }

  /** Reads the durable halt state; on failure counts as halted and retries on a clock timer. */
  private async syncHalt(why: 'start' | 'reconnect' | 'retry'): Promise<void> {
    const source = this.haltSource;
    if (!source || this.current === 'stopped') return;
    try {
      const st = await source.read();
      this.haltFlag = st?.halted ?? false;
      if (this.haltUnknown)
        this.kernel.log.info({ agent: this.agent.name, source: source.name }, 'halt state readable again');
      this.haltUnknown = false;
      this.haltRetry?.cancel();
      this.haltRetry = undefined;
      if (st?.halted)
        this.kernel.log.warn(
          { agent: this.agent.name, reason: st.reason, by: st.by, at: st.at, on: why },
          'halted (durable halt state)',
        );
    } catch (err) {
      if (!this.haltUnknown)
        this.kernel.log.error(
          { agent: this.agent.name, source: source.name, err: (err as Error).message, on: why },
          'cannot read the halt state: taking no new risk until it can',
        );
      this.haltUnknown = true;
      this.haltRetry ??= this.kernel.clock.every(this.haltRetryMs, () => void this.syncHalt('retry'));
    }
    const now = this.current as AgentState; // changed while the read was in flight
    if (now !== 'starting' && now !== 'stopped' && now !== 'faulted') {
      const next = this.settledState();
      if (next !== this.current) {
        this.current = next;
        this.heartbeat();
      }
    }
  }

  /** A command off the bus: checked against the control key (when one is set), applied, then confirmed. */
  private onSystemMessage(id: string, cmd: SystemCommand): void {
    const key = this.kernel.config.signing?.controlKey;
    if (key) {
      const v = verifySignature(cmd, key);
      if (!v.ok) {
        this.kernel.log.error(
          { agent: this.agent.name, command: cmd.command, issuedBy: cmd.issuedBy, why: v.reason },
          'refused a system command without a valid signature',
        );
        // dead-lettered by the trading agents (the ones it was aimed at); the alerts agent raises the alert
        if (this.agent.trading)
          this.kernel.bus.publish(channels.deadLetter(channels.system), {
            type: 'dead_letter',
            channel: channels.system.name,
            group: `${this.agent.name}@${this.kernel.instance}`,
            messageId: id,
            attempts: 1,
            error: `refused: ${v.reason} (CONTROL_SIGNING_KEY)`,
            body: cmd,
            ts: this.kernel.clock.now(),
          });
        this.confirm(id, cmd, v.reason);
        return;
      }
    }
    this.applySystem(cmd);
    this.confirm(id, cmd);
  }

  private confirm(commandId: string, cmd: SystemCommand, refused?: string): void {
    this.kernel.bus.publish(channels.systemAck, {
      type: 'system_ack',
      commandId,
      command: cmd.command,
      agent: this.agent.name,
      instance: this.kernel.instance,
      trading: this.agent.trading,
      halted: this.halted,
      ...(refused ? { refused } : {}),
      ts: this.kernel.clock.now(),
    });
  }

  private applySystem(cmd: SystemCommand): void {
    if (this.current === 'stopped' || this.current === 'faulted') return;
    const mine = cmd.target === undefined || cmd.target === this.agent.name;
    switch (cmd.command) {
      case 'HALT_ALL':
        if (!this.agent.trading) break;
        this.haltFlag = true;
        break;
      case 'PAUSE':
        if (!mine) return;
        if (!this.pauseFlag) for (const s of this.subs) s.pause();
        this.pauseFlag = true;
        break;
      case 'RESUME':
        // a RESUME aimed at another agent lifts neither its pause nor our halt
        if (!mine) return;
        if (this.pauseFlag) for (const s of this.subs) s.resume();
        this.pauseFlag = false;
        this.haltFlag = false;
        break;
    }
    if (this.current !== 'starting') this.current = this.settledState();
    this.kernel.log.info(
      { agent: this.agent.name, command: cmd.command, reason: cmd.reason },
      'system command',
    );
    this.agent.onSystem?.(cmd, this);
    this.heartbeat();
  }

  /** An invariant broke on a message: dead-letter it now with the error (acked, never retried), then fault. */
  private onInvariant(
    channel: string,
    group: string,
    msg: { id: string; body: unknown; attempt: number },
    err: unknown,
    ctl: { ack(): void },
  ): void {
    this.kernel.bus.publish(channels.deadLetter(channel), {
      type: 'dead_letter',
      channel,
      group,
      messageId: msg.id,
      attempts: msg.attempt,
      error: errorText(err),
      body: msg.body,
      ts: this.kernel.clock.now(),
    });
    ctl.ack();
    this.fault(errorText(err));
  }

  /** A timer of the agent threw: there is no message to retry, so the agent faults (the process keeps running). */
  private onTimerError(err: unknown): void {
    this.failed++;
    this.kernel.log.error({ agent: this.agent.name, err }, 'timer failed');
    this.kernel.bus.publish(channels.deadLetter(`timer.${this.agent.name}`), {
      type: 'dead_letter',
      channel: `timer.${this.agent.name}`,
      group: this.agent.name,
      messageId: `timer-${this.kernel.clock.now()}`,
      attempts: 1,
      error: errorText(err),
      body: null,
      ts: this.kernel.clock.now(),
    });
    this.fault(`timer: ${errorText(err)}`);
  }

  private onHandlerError(channel: string, id: string, err: unknown): void {
    this.failed++;
    this.kernel.log.warn({ agent: this.agent.name, channel, messageId: id, err }, 'handler failed');
  }
}

/** The clock with every callback guarded: an error inside a timer goes to `onError` instead of up the stack. */
function guardClock(clock: Clock, onError: (err: unknown) => void): Clock {
  const guard = (fn: () => void) => (): void => {
    try {
      fn();
    } catch (err) {
      onError(err);
    }
  };
  return {
    kind: clock.kind,
    now: () => clock.now(),
    at: (at, fn) => clock.at(at, guard(fn)),
    after: (ms, fn) => clock.after(ms, guard(fn)),
    every: (ms, fn) => clock.every(ms, guard(fn)),
  };
}

/**
 * Starts agents in order; returns a stopper that stops them in reverse order. The bus holds its writes until every
 * agent has started (where it can: Redis), so an agent that publishes while starting cannot publish before the
 * consumer group of an agent started after it exists (a group made later would never see the message).
 */
export async function startAgents(
  kernel: Kernel,
  agents: readonly Agent[],
  opts?: AgentRuntimeOptions,
): Promise<{ runtimes: AgentRuntime[]; stop: () => Promise<void> }> {
  const runtimes: AgentRuntime[] = [];
  const release = kernel.bus.hold?.();
  try {
    for (const a of agents) {
      const rt = new AgentRuntime(kernel, a, opts);
      await rt.start();
      runtimes.push(rt);
    }
  } finally {
    release?.();
  }
  return {
    runtimes,
    stop: async () => {
      for (const rt of [...runtimes].reverse()) await rt.stop();
    },
  };
}

/** Runs `onStop` once on the first SIGINT/SIGTERM; a second signal exits at once. */
export function onShutdownSignal(onStop: (signal: string) => Promise<void>): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(130);
    stopping = true;
    onStop(signal).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
