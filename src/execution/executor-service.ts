/**
 * The executor's execution layer (src/agents/executor.ts is the bus shell around it): the execution engine and its
 * clients, exactly-once intents, the lease, resume after a restart, standby and takeover, lost decisions and the
 * settlement of resolutions. Approved (or reduced) RiskDecisions go to the execution engine (./engine.ts), which sends
 * each leg to the client of its venue and turns their execution reports into Orders, Fills and one ExecutionReport
 * per request. Paper mode: one paper client per venue (./paper-client.ts) with its own seeded latency distribution
 * (median `config.paperLatencyMs`, or a fixed `latencyMs`), queue position for resting orders.
 *
 * Exactly once (src/execution/intents.ts): a decision is acked on the bus only after its intent was recorded in
 * the store and its orders handed to the clients (the client order ids derive from the request id,
 * src/execution/ids.ts); a decision whose intent exists is never executed again, whoever took it. At start (and on
 * becoming the lease holder) the intents left unfinished are resumed: paper orders that were never sent are sent,
 * paper orders that died with their process are closed as cancelled (with their ExecutionReport, so the guardian
 * releases the reservation); live ones are resubmitted, which the live client turns into a lookup by client order
 * id. With a lease (src/execution/lease.ts; the Redis deployment) only its holder takes decisions: the others of
 * the group keep their decisions subscription paused, and the holder checks the lease right before it submits.
 * A decision carrying an older guardian fencing token than the newest guardian's (src/execution/intents.ts) is
 * refused: the guardian that made it was fenced out; unless another decision of the request was taken, the refusal
 * ends the request with a `rejected` ExecutionReport (the reservation of the approval is released). A paper client
 * fills nothing once the lease has lapsed.
 *
 * HALT_ALL rejects new decisions and cancels open orders. A broken order invariant throws an
 * ExecutionInvariantError, which faults the agent and halts trading (src/core/agent.ts).
 */

import type { AgentRuntime, HealthDetails } from '../core/agent.ts';
import { type DeliveryControl, type Envelope, errorText, type Subscription } from '../core/bus/types.ts';
import { channels } from '../core/channels.ts';
import type { ExecutionReport, Resolution, RiskDecision, SystemCommand, Venue } from '../core/messages.ts';
import { acceptDecision } from './decision-auth.ts';
import { createExecutionEngine, type ExecutionEngine, type ExecutorState } from './engine.ts';
import { createMemoryIntentStore, type ExecutionIntent, type IntentStore } from './intents.ts';
import { constantLatency, logNormalLatency, paperMedianMs, seedFrom } from './latency.ts';
import type { ExecutorLease } from './lease.ts';
import { createPaperClients } from './paper-client.ts';
import type { ExecutionClient, MarketEvent } from './types.ts';

export interface ExecutorOptions {
  readonly name?: string;
  /** A fixed latency for every order (tests); default: each venue's seeded distribution (PAPER_LATENCY_MS, PAPER_LATENCY_BY_VENUE). */
  readonly latencyMs?: number;
  /** Seed of the paper latency streams (default: derived from the kernel's instance name). */
  readonly seed?: number;
  /** Resting GTC orders expire after this long (default 60 s). */
  readonly gtcTtlMs?: number;
  readonly initial?: ExecutorState;
  /**
   * The venues' execution clients (default: paper clients). `mayTrade` is false once this executor is fenced out
   * (its lease lapsed or lost): paper clients end their orders then instead of filling them.
   */
  readonly clients?: (rt: AgentRuntime, mayTrade: () => boolean) => ReadonlyMap<Venue, ExecutionClient>;
  /**
   * HALT_ALL also asks every client to cancel all open orders of its account (live: orders this process does not
   * track, from before a restart, included), not only the orders of the requests in flight.
   */
  readonly cancelAllOnHalt?: boolean;
  /**
   * Where execution intents are recorded before orders go out (default: memory, exactly-once for this process's
   * life only). A function is called at start (e.g. to open the store).
   */
  readonly intents?: IntentStore | ((rt: AgentRuntime) => IntentStore | Promise<IntentStore>);
  /** One active executor per venue account (the Redis deployment); none: this executor is the only one. */
  readonly lease?: (rt: AgentRuntime) => ExecutorLease;
  /**
   * The state as the store has it now, read when a standby becomes the active executor (the holdings the previous
   * one traded meanwhile); none: the standby keeps what it started with.
   */
  readonly reload?: () => Promise<ExecutorState | undefined>;
  /** Redelivered to another executor of the group when not acked within this long (default: the bus's 30 s). */
  readonly visibilityTimeoutMs?: number;
  /**
   * Approved decisions the store holds without an ExecutionReport, after a restart of a process whose bus did not
   * survive it (the in-process bus: `pm-arb run`). Those whose intent the store has are resumed as usual; the others
   * never reached an executor and never will (their message is gone), yet the guardian reserves them again
   * (RecoveryState.pendingDecisions): each gets a `rejected` report, its one release. Never on Redis, where the
   * stream still holds them for the executor group.
   */
  readonly lost?: readonly { readonly requestId: string; readonly strategy: string }[];
}

/** Deliveries of a decision (or a resolution) before it is dead-lettered: ~10 min at the default 30 s timeout. */
export const DECISION_ATTEMPTS = 20;

/**
 * The paper clients of one venue each (also what shadow mode wraps). `mayTrade`: the executor's fence (no fill once
 * it says no).
 */
export function paperClients(
  rt: AgentRuntime,
  opts: ExecutorOptions,
  mayTrade?: () => boolean,
): ReadonlyMap<Venue, ExecutionClient> {
  const seed = opts.seed ?? seedFrom(rt.kernel.instance);
  return createPaperClients({
    clock: rt.clock,
    ...(mayTrade ? { mayTrade } : {}),
    latency: (venue) =>
      opts.latencyMs !== undefined
        ? constantLatency(opts.latencyMs)
        : logNormalLatency({ medianMs: paperMedianMs(rt.config, venue), seed, venue }),
  });
}

/** One start of the executor: the handlers of its subscriptions, bound to this start's engine. */
export interface ExecutorRun {
  /** A market published before this start (a restart, a standby taking over). */
  retained(m: MarketEvent): void;
  /** Market data (markets, books, trades). */
  data(m: MarketEvent): void;
  resolution(m: Envelope<Resolution>, ctl: DeliveryControl): void;
  decision(m: Envelope<RiskDecision>, ctl: DeliveryControl): Promise<void>;
  /** Once subscribed: resumes and takes decisions (no lease), or stands by and tries for the lease. */
  lead(decisions: Subscription, resolutions: Subscription): Promise<void>;
}

export interface ExecutorService {
  start(rt: AgentRuntime): Promise<ExecutorRun>;
  stop(): Promise<void>;
  onSystem(cmd: SystemCommand, rt: AgentRuntime): void;
  snapshot(): ExecutorState;
  restingOrders(): number;
  health(): HealthDetails;
}

export function createExecutorService(opts: ExecutorOptions = {}): ExecutorService {
  let engine: ExecutionEngine | undefined;
  let clients: ReadonlyMap<Venue, ExecutionClient> = new Map();
  const empty: ExecutorState = { version: 1, inventory: [], requests: [] };
  let intents: IntentStore | undefined;
  let lease: ExecutorLease | undefined;
  let fence: number | undefined;
  let active = false;
  let decisions: Subscription | undefined;
  /** Resolutions are settled by the active executor: paused with the decisions while standing by. */
  let resolutions: Subscription | undefined;
  let leaseTimer: { cancel(): void } | undefined;
  let stopping = false;
  /** Attempts to become the active executor since start: the first one has the state it was given. */
  let attempts = 0;
  /** Done intents whose report never reached the store: their report, made again, goes out without the check. */
  const republish = new Set<string>();
  /** `opts.lost`, until the first resumeAll has refused those never taken. */
  let lostLeft = opts.lost;
  /** Resolutions the store had for markets held at start: settled with the first market data once active. */
  let toSettle: Resolution[] = [];
  const counts = {
    claimed: 0,
    alreadyTaken: 0,
    resumed: 0,
    fenced: 0,
    leaseLost: 0,
    reportsDropped: 0,
    staleDecisions: 0,
  };

  /** Takes an intent an earlier life or another executor left unfinished. */
  function resumeIntent(rt: AgentRuntime, e: ExecutionEngine, i: ExecutionIntent): void {
    const d = i.decision;
    if (e.has(d.requestId) && i.owner === rt.kernel.instance) return; // ours, in flight in this life
    counts.resumed++;
    const live = d.legs.some((l) => clients.get(l.venue)?.mode === 'live');
    // done, but its report is not in the store: its executor died between the store update and the publish. The
    // report is made again from the orders the store holds and published under the same id (derived from the
    // request: if the first one did get out, consumers see the same report twice and keep one)
    // (only the report: its orders ended before it was marked done, and the store may not hold them yet)
    if (i.state === 'done') republish.add(d.requestId);
    const how = i.state === 'done' ? 'report' : i.state === 'claimed' || live ? 'resubmit' : 'close';
    rt.log.warn(
      { requestId: d.requestId, state: i.state, owner: i.owner, how },
      'resuming an unfinished execution intent',
    );
    e.resume(d, how, rt.halted, undefined, i.legs);
    if (how === 'resubmit') void markSafe(rt, d.requestId, 'submitted');
  }

  async function markSafe(rt: AgentRuntime, requestId: string, state: 'submitted' | 'done'): Promise<void> {
    try {
      await intents?.mark(requestId, state, rt.clock.now());
    } catch (err) {
      rt.log.error({ requestId, state, err: errorText(err) }, 'could not record an execution intent state');
    }
  }

  /**
   * A request's ExecutionReport goes out only from the executor whose store update made its intent done: a
   * fenced-out executor (paused past its lease) finishing an order whose intent the holder closed meanwhile drops
   * its report. A store that cannot be reached: published anyway (its id derives from the request, so a second one
   * is the same report downstream) rather than lost.
   */
  function finish(rt: AgentRuntime, r: ExecutionReport): void {
    if (republish.delete(r.requestId)) {
      rt.publish(channels.executions, r);
      return;
    }
    const failed = (err: unknown): boolean => {
      rt.log.error(
        { requestId: r.requestId, err: errorText(err) },
        'could not record an execution intent state',
      );
      return true;
    };
    let marked: Promise<boolean> | boolean;
    try {
      marked = intents?.mark(r.requestId, 'done', rt.clock.now()) ?? true;
    } catch (err) {
      marked = failed(err);
    }
    if (typeof marked === 'boolean') publishIfWon(rt, r, marked);
    else void marked.catch(failed).then((won) => publishIfWon(rt, r, won));
  }

  function publishIfWon(rt: AgentRuntime, r: ExecutionReport, won: boolean): void {
    if (!won) {
      counts.reportsDropped++;
      rt.log.warn(
        { requestId: r.requestId, status: r.status, fence },
        'execution report dropped: the intent was already closed by another executor',
      );
      return;
    }
    rt.publish(channels.executions, r);
  }

  async function resumeAll(rt: AgentRuntime, e: ExecutionEngine): Promise<void> {
    const open = (await intents?.unfinished()) ?? [];
    for (const i of open) resumeIntent(rt, e, i);
    // an approval without a report and without an intent was never taken (see `lost`); one with an intent is listed
    // in `open` (no report) and was resumed just now
    const taken = new Set(open.map((i) => i.requestId));
    const lost = lostLeft;
    lostLeft = undefined; // once, at the first start: later takeovers hold no lost decisions
    for (const d of lost ?? []) {
      if (taken.has(d.requestId) || e.has(d.requestId)) continue;
      rt.log.warn({ requestId: d.requestId }, 'an approved decision lost with the bus in a restart: refused');
      e.refuse(d, 'approved before a restart, never reached an executor: its message was lost with the bus');
    }
  }

  /**
   * Markets that resolved while no executor ran (the store has the resolution): settled now, as on the resolution
   * itself. Settlement fills have ids of their own (market, strategy, token), so one redelivered from the bus too
   * finds the holdings gone and settles nothing twice.
   */
  function settleResolved(state: ExecutorState | undefined): void {
    toSettle = [...(state?.resolved ?? [])];
  }

  /**
   * Market data, once this executor is active: first the settlements queued at start. Not at start itself: on the
   * in-process bus the agents started after the executor (the capital allocator) would miss the fills; market data
   * flows only once every agent has started (the feeds start last).
   */
  function onData(rt: AgentRuntime, e: ExecutionEngine, m: MarketEvent): void {
    if (active && toSettle.length > 0) {
      const list = toSettle;
      toSettle = [];
      for (const r of list) {
        rt.log.info(
          { venue: r.venue, marketId: r.marketId, winner: r.winner },
          'settling a market that resolved while the executor was down',
        );
        e.onMarketData(r);
      }
    }
    e.onMarketData(m);
  }

  /** A decision off the bus: acked only once its intent is recorded and its orders were handed to the clients. */
  async function onDecision(
    rt: AgentRuntime,
    e: ExecutionEngine,
    m: Envelope<RiskDecision>,
    ctl: DeliveryControl,
  ): Promise<void> {
    // only decisions the guardian signed (when RISK_SIGNING_KEY is set); the rest are dead-lettered
    if (!acceptDecision(m, rt)) return ctl.ack();
    const d = m.body;
    if (d.verdict === 'reject' || e.has(d.requestId)) {
      e.decide(d, rt.halted); // counts the duplicate
      return ctl.ack();
    }
    if (!active) return; // not the lease holder (any more): left for the holder, redelivered after the timeout
    let claim: Awaited<ReturnType<IntentStore['claim']>>;
    try {
      claim = await intents!.claim(d, { owner: rt.kernel.instance, fence, now: rt.clock.now() });
    } catch (err) {
      // not acked: redelivered after the visibility timeout (the store may be back)
      rt.log.error({ requestId: d.requestId, err: errorText(err) }, 'cannot record the execution intent');
      return;
    }
    if (claim.outcome === 'staleDecision') {
      // a guardian paused past its lease published it late. Its approval reserved exposure — in the store, and so in
      // the guardian that took over from it — and it will never execute: the refusal is the request's end, with its
      // report (recorded done by the claim, so the report goes out without the store check). When another decision
      // of the request was taken first, that one's report ends it
      counts.staleDecisions++;
      rt.log.error(
        {
          requestId: d.requestId,
          decision: d.id,
          fence: d.fence,
          newest: claim.newest,
          refused: claim.refused,
        },
        'refused a decision of a fenced-out risk guardian',
      );
      if (claim.refused) {
        republish.add(d.requestId);
        e.refuse(d, `decided by a fenced-out risk guardian (token ${d.fence} < ${claim.newest})`);
      }
      return ctl.ack();
    }
    if (claim.outcome === 'fenced') {
      counts.fenced++;
      rt.log.error(
        { requestId: d.requestId, newest: claim.newest, mine: fence },
        'fenced out by a newer executor',
      );
      await standDown(rt, 'fenced out by a newer lease holder');
      return;
    }
    if (claim.outcome === 'exists') {
      counts.alreadyTaken++;
      if (claim.intent.state !== 'done') resumeIntent(rt, e, claim.intent);
      return ctl.ack();
    }
    counts.claimed++;
    // right before the orders go: a lease that lapsed meanwhile (a pause) leaves the claimed intent to the holder
    if (lease && !lease.validAt(rt.clock.now())) {
      await standDown(rt, 'the lease lapsed before the orders were sent');
      return;
    }
    e.decide(d, rt.halted);
    await markSafe(rt, d.requestId, 'submitted');
    ctl.ack();
  }

  async function standDown(rt: AgentRuntime, why: string): Promise<void> {
    if (!active) return;
    active = false;
    counts.leaseLost++;
    decisions?.pause();
    resolutions?.pause();
    rt.log.error({ why }, 'no longer the active executor: taking no decisions');
    await lease?.release().catch(() => {});
    // its paper orders end now (they could not fill anyway: mayTrade); the new holder closes their intents. Live
    // orders stay: they are real at the venue, and the new holder looks them up by client order id
    for (const c of clients.values())
      if (c.mode === 'paper')
        c.cancelAll().catch((err: unknown) =>
          rt.log.warn({ venue: c.venue, err: errorText(err) }, 'could not cancel paper orders'),
        );
  }

  async function tryLead(rt: AgentRuntime, e: ExecutionEngine): Promise<void> {
    if (!lease || stopping) return;
    if (active) {
      if (!(await lease.renew())) await standDown(rt, 'lease lost');
      return;
    }
    attempts++;
    const token = await lease.acquire();
    if (token === undefined) return;
    fence = token;
    if (!(await intents!.advanceFence(token, rt.kernel.instance, rt.clock.now()))) {
      // the store has seen a newer token than the lease's counter gives (Redis lost its last writes in a restart):
      // the counter is raised past it, so the next attempt can pass the fence
      const newest = await intents!.newestFence();
      rt.log.warn({ token, newest }, 'lease token older than the store fence: raising the lease counter');
      await lease.floor(newest);
      await lease.release();
      return;
    }
    rt.log.info({ lease: lease.name, token }, 'active executor');
    if (attempts > 1 || !opts.initial) {
      // a takeover (or a start without restored state): the holdings as the store has them now
      const fresh = await opts.reload?.().catch((err: unknown) => {
        rt.log.error({ err: errorText(err) }, 'could not reload the executor state');
        return undefined;
      });
      if (fresh) e.adopt(fresh);
      settleResolved(fresh);
    } else settleResolved(opts.initial);
    await resumeAll(rt, e);
    active = true;
    decisions?.resume();
    resolutions?.resume();
  }
  return {
    async start(rt) {
      stopping = false;
      // with a lease, only while it holds (a paused executor resuming past its lease sees it lapsed on its own clock)
      const mayTrade = (): boolean => !opts.lease || lease?.validAt(rt.clock.now()) === true;
      clients = (opts.clients ?? ((r, may) => paperClients(r, opts, may)))(rt, mayTrade);
      // user channels, report polling: connected before the first order can be sent
      await Promise.all([...clients.values()].map((c) => c.start?.()));
      intents =
        typeof opts.intents === 'function'
          ? await opts.intents(rt)
          : (opts.intents ?? createMemoryIntentStore());
      const e = createExecutionEngine({
        clients,
        clock: rt.clock,
        ids: rt.kernel.ids,
        gtcTtlMs: opts.gtcTtlMs,
        initial: opts.initial,
        sink: {
          order: (o) => rt.publish(channels.orders, o),
          fill: (f) => rt.publish(channels.fills, f),
          report: (r) => finish(rt, r),
        },
        onSubmitError: (q, err) => rt.log.warn({ order: q.clientOrderId, err }, 'submit unsettled'),
        onFault: (err) => rt.fault(errorText(err)),
      });
      engine = e;
      return {
        retained: (m) => e.onMarketData(m),
        data: (m) => onData(rt, e, m),
        // settled by the active executor only (settlement fills go out once): a standby leaves them to it
        resolution(m, ctl) {
          if (!active) return;
          onData(rt, e, m.body);
          ctl.ack();
        },
        decision: (m, ctl) => onDecision(rt, e, m, ctl),
        async lead(d, r) {
          decisions = d;
          resolutions = r;
          if (!opts.lease) {
            settleResolved(opts.initial);
            await resumeAll(rt, e);
            active = true;
            return;
          }
          d.pause();
          r.pause();
          lease = opts.lease(rt);
          await tryLead(rt, e).catch((err: unknown) =>
            rt.log.error({ err: errorText(err) }, 'lease: first attempt failed'),
          );
          leaseTimer = rt.clock.every(Math.max(50, Math.floor(lease.ttlMs / 3)), () => {
            void tryLead(rt, e).catch((err: unknown) =>
              rt.log.warn({ err: errorText(err) }, 'lease attempt failed'),
            );
          });
        },
      };
    },
    async stop() {
      stopping = true;
      leaseTimer?.cancel();
      await engine?.stop();
      if (lease) {
        active = false;
        await lease.release().catch(() => {});
        await lease.close();
      }
    },
    onSystem(cmd, rt) {
      // a RESUME lifts a PAUSE of every subscription: a standby's decisions and resolutions stay paused
      if (cmd.command === 'RESUME' && lease !== undefined && !active) {
        decisions?.pause();
        resolutions?.pause();
      }
      if (cmd.command !== 'HALT_ALL') return;
      engine?.halt('HALT_ALL');
      if (opts.cancelAllOnHalt)
        for (const c of clients.values())
          c.cancelAll().catch((err: unknown) => {
            rt.log.error({ venue: c.venue, err: errorText(err) }, 'HALT_ALL: cancel-all failed');
          });
    },
    snapshot: () => engine?.snapshot() ?? opts.initial ?? empty,
    restingOrders: () => engine?.openOrders() ?? 0,
    health(): HealthDetails {
      return {
        ...engine?.counts(),
        ...counts,
        active,
        ...(fence !== undefined ? { fence } : {}),
        resting: engine?.openOrders() ?? 0,
      };
    },
  };
}
