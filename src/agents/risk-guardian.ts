/**
 * Risk guardian agent: every TradeRequest gets one RiskDecision (approve, reduce or reject, with the rule that
 * fired and a reason) on channels.riskDecisions. The rules are pure (src/risk/rules.ts); this agent keeps the
 * portfolio they read (src/risk/portfolio.ts) current from fills, books, execution reports, markets and
 * allocations, and reserves the exposure of each approval until its execution report.
 *
 * Every request is also sized to the loss budgets (src/risk/loss-budget.ts): settled the worst way, the book and
 * the request must stay within the drawdown and daily-loss limits. Links and resolutions feed what settles with
 * what. At the drawdown stop or the daily-loss limit it publishes an alert once, and with DRAWDOWN_ACTION=flatten
 * approved sells of every unhedged position (src/risk/flatten.ts).
 *
 * Freshness is judged here, never taken from the request: a leg's book must have reached the guardian and not be
 * flagged stale, and its feed must have been heard from (a book, a tick, or the feed agent's heartbeat on the
 * health channel) within STALE_AFTER_MS by the guardian's clock — a feed process that died silently flags nothing.
 *
 * HALT_ALL (rt.halted) rejects everything until RESUME; RESUME also lifts a drawdown stop. A redelivered request
 * is recognised by its id and not decided twice. `initial` restores a RiskState snapshot after a restart; the
 * markets come from the bus's retained history of the markets channels at start.
 *
 * One active guardian at a time (the Redis deployment; `lease`, src/execution/lease.ts, role `risk-guardian`): two
 * guardians of one consumer group would each see half the requests, so each would judge the limits on half the
 * approvals. Only the lease holder consumes the shared group (requests, fills, execution reports, allocations,
 * resolutions); a standby keeps those subscriptions paused and follows only the market view (markets, books, ticks,
 * feed heartbeats, links, resolutions) in a group of its own, so it is ready. On becoming the holder it takes the
 * account state as the store has it then (`reload`: ledger, high-water mark, stops, pending reservations, decided
 * requests), records its fencing token where the executors check it (`fences`), and resumes the shared group where
 * the previous holder left it. Every decision carries the token (`fence`, signed with the rest): the executor
 * refuses one older than the newest guardian's. The lease is checked right before each decision: a guardian paused
 * past its lease (SIGSTOP) decides nothing on resume, and leaves the request unacked for the holder.
 */

import type { Agent, AgentRuntime, HealthDetails } from '../core/agent.ts';
import { Fifo } from '../core/bus/fifo.ts';
import { type Envelope, errorText, type Subscription } from '../core/bus/types.ts';
import { type Channel, channels } from '../core/channels.ts';
import { InvariantError } from '../core/invariant.ts';
import type { Leg, RiskDecision, SystemCommand, TradeRequest } from '../core/messages.ts';
import { OracleSourceSchema, VENUES } from '../core/messages.ts';
import type { Money } from '../core/money.ts';
import { signDecision } from '../execution/decision-auth.ts';
import type { FenceStore } from '../execution/intents.ts';
import type { Lease } from '../execution/lease.ts';
import { Flattener, stopInForce } from '../risk/flatten.ts';
import { Portfolio, type RiskState } from '../risk/portfolio.ts';
import { evaluateRequest } from '../risk/rules.ts';
import { retainedMarkets } from './market-history.ts';

/** Longest an oracle tick or execution report waits for another message to wake the guardian with (see below). */
const TICK_LAZY_MS = 100;

export interface RiskGuardianOptions {
  readonly name?: string;
  readonly initial?: RiskState;
  /** Approved requests not yet reported after a restart: reserved again before the first request is decided. */
  readonly pending?: readonly { requestId: string; strategy: string; legs: readonly Leg[] }[];
  /** Request ids decided before a restart (a redelivery of one is not decided again). */
  readonly decided?: readonly string[];
  /** Cap for strategies no Allocation names yet (default: the allocator's probation amount, when given). */
  readonly probationAllocation?: Money;
  /** Remember this many decided request ids for duplicate detection (default 100,000). */
  readonly dedupeWindow?: number;
  /** One active guardian (the Redis deployment); none: this guardian is the only one. */
  readonly lease?: (rt: AgentRuntime) => Lease;
  /** Where the active guardian records its fencing token for the executors (the store); none: not recorded. */
  readonly fences?: FenceStore;
  /**
   * The account state as the store has it now, read when a standby becomes the active guardian (and at a start
   * without `initial`); none: it keeps what it has.
   */
  readonly reload?: () => Promise<GuardianRestore | undefined>;
}

/** What a guardian restores: its state, the approvals not yet reported, and the requests already decided. */
export interface GuardianRestore {
  readonly risk: RiskState;
  readonly pending?: RiskGuardianOptions['pending'];
  readonly decided?: readonly string[];
}

export interface RiskGuardian extends Agent {
  /** The live portfolio (read-only use: tests, benchmarks, the store's snapshotter). */
  readonly portfolio: Portfolio | undefined;
  snapshot(): RiskState | undefined;
}

export function createRiskGuardian(opts: RiskGuardianOptions = {}): RiskGuardian {
  let pf: Portfolio | undefined;
  let rt: AgentRuntime | undefined;
  const decided = new Set<string>();
  // a ring buffer: dropping the oldest id is O(1) (an array's shift copies up to `window` ids per decision)
  const order = new Fifo<string>();
  const window = opts.dedupeWindow ?? 100_000;
  const counts = { requests: 0, approved: 0, reduced: 0, rejected: 0, duplicates: 0, leaseLost: 0 };
  const byRule: Record<string, number> = {};
  let lease: Lease | undefined;
  let fence: number | undefined;
  /** Holds the lease (or has none to hold): consumes the shared group and decides. */
  let active = false;
  let attempts = 0;
  let stopping = false;
  let leaseTimer: { cancel(): void } | undefined;
  /** The subscriptions of the shared group: paused while standing by. */
  const shared: Subscription[] = [];

  function remember(id: string): void {
    if (decided.has(id)) return;
    decided.add(id);
    order.push(id);
    if (order.length > window) decided.delete(order.shift()!);
  }

  /** False when this guardian may not decide (not the holder, or its lease lapsed: it stands down). */
  function mayDecide(runtime: AgentRuntime): boolean {
    if (!active) return false;
    if (lease && !lease.validAt(runtime.clock.now())) {
      void standDown(runtime, 'the lease lapsed before the decision');
      return false;
    }
    return true;
  }

  /** Decides a request; false when it was left undecided for the active guardian (not acked). */
  function decide(req: TradeRequest): boolean {
    const runtime = rt!;
    const p = pf!;
    const id = typeof req?.id === 'string' ? req.id : '';
    if (id !== '' && decided.has(id)) {
      counts.duplicates++;
      return true;
    }
    if (!mayDecide(runtime)) return false;
    const now = runtime.clock.now();
    // a halt restored from state holds until RESUME even if this runtime never saw the HALT_ALL
    if (runtime.halted) p.killSwitch = true;
    p.refresh(now);
    let ev: ReturnType<typeof evaluateRequest>;
    try {
      ev = evaluateRequest(req, p, runtime.config.risk, now);
    } catch (err) {
      // malformed input that got past the checks: reject, never crash
      ev = { verdict: 'reject', rule: 'invalid_request', reason: String(err), legs: [], expectedEdge: 0 };
    }
    // checked before anything is recorded: a broken approval faults the guardian and its redelivery is no duplicate
    if (ev.verdict !== 'reject') assertWithinRequest(req, ev.legs);
    if (id !== '') remember(id);
    counts.requests++;
    if (ev.verdict !== 'reject') p.reserve(id, req.strategy, ev.legs);
    if (ev.verdict === 'approve') counts.approved++;
    else if (ev.verdict === 'reduce') counts.reduced++;
    else counts.rejected++;
    byRule[ev.rule] = (byRule[ev.rule] ?? 0) + 1;
    const decision: RiskDecision = {
      type: 'risk_decision',
      id: runtime.kernel.ids.next('decision'),
      requestId: id,
      strategy: typeof req?.strategy === 'string' ? req.strategy : '',
      verdict: ev.verdict,
      rule: ev.rule,
      reason: ev.reason,
      legs: ev.legs,
      tif: req?.tif === 'IOC' || req?.tif === 'FOK' || req?.tif === 'GTC' ? req.tif : 'IOC',
      decidedAt: now,
      bundleId: typeof req?.bundleId === 'string' && req.bundleId !== '' ? req.bundleId : id,
      ...(fence !== undefined ? { fence } : {}),
    };
    runtime.publish(channels.riskDecisions, signDecision(decision, runtime));
    return true;
  }

  async function standDown(runtime: AgentRuntime, why: string): Promise<void> {
    if (!active || !lease) return;
    active = false;
    counts.leaseLost++;
    for (const sub of shared) sub.pause();
    runtime.log.error({ why }, 'no longer the active risk guardian: deciding nothing');
    await lease.release().catch(() => {});
  }

  /** Renews the lease while active; otherwise tries to take it, and takes over with the stored state. */
  async function tryLead(runtime: AgentRuntime): Promise<void> {
    if (!lease || stopping) return;
    if (active) {
      if (!(await lease.renew())) await standDown(runtime, 'lease lost');
      return;
    }
    attempts++;
    const token = await lease.acquire();
    if (token === undefined) return;
    if (opts.fences && !(await opts.fences.advance(token, runtime.kernel.instance, runtime.clock.now()))) {
      // the store has seen a newer token than the lease's counter gives (Redis lost its last writes in a restart)
      const newest = await opts.fences.newest();
      runtime.log.warn(
        { token, newest },
        'guardian lease token older than the store fence: raising the counter',
      );
      await lease.floor(newest);
      await lease.release();
      return;
    }
    fence = token;
    if (attempts > 1 || !opts.initial) {
      // a takeover (or a start without restored state): the account state as the store has it now
      let fresh: GuardianRestore | undefined;
      try {
        fresh = await opts.reload?.();
      } catch (err) {
        // never active on a state it could not read: the lease goes back (this one or another tries again)
        runtime.log.error({ err: errorText(err) }, 'could not read the guardian state: not taking over');
        await lease.release().catch(() => {});
        return;
      }
      if (fresh) {
        pf!.adopt(fresh.risk);
        for (const id of fresh.decided ?? []) remember(id);
        for (const r of fresh.pending ?? []) {
          pf!.reserve(r.requestId, r.strategy, r.legs);
          remember(r.requestId);
        }
      }
    }
    runtime.log.info({ lease: lease.name, token }, 'active risk guardian');
    active = true;
    for (const sub of shared) sub.resume();
  }

  /** At a stop: an alert once, and with DRAWDOWN_ACTION=flatten the sells that close unhedged positions. */
  let stopped = false;
  const flattener = new Flattener();
  function afterUpdate(): void {
    const runtime = rt!;
    if (!active) return; // the active guardian alerts and flattens
    const stop = stopInForce(pf!, runtime.config.risk);
    if (!stop) {
      stopped = false;
      return;
    }
    const now = runtime.clock.now();
    if (!stopped) {
      stopped = true;
      runtime.publish(channels.alerts, {
        type: 'alert',
        level: 'critical',
        title: stop.rule === 'drawdown_stop' ? 'drawdown stop' : 'daily loss limit',
        body: stop.reason,
        ts: now,
      });
    }
    if (runtime.config.risk.drawdownAction !== 'flatten' || runtime.halted) return;
    if (!mayDecide(runtime)) return; // the active guardian flattens
    const ids = (kind: string): string => runtime.kernel.ids.next(kind);
    for (const d of flattener.plan(pf!, now, ids, `${stop.rule}_flatten`, stop.reason)) {
      byRule[d.rule] = (byRule[d.rule] ?? 0) + 1;
      const fenced = fence !== undefined ? { ...d, fence } : d;
      runtime.publish(channels.riskDecisions, signDecision(fenced, runtime));
    }
  }

  return {
    name: opts.name ?? 'risk-guardian',
    trading: true,
    get portfolio() {
      return pf;
    },
    snapshot: () => pf?.snapshot(),
    async start(runtime) {
      rt = runtime;
      stopping = false;
      active = !opts.lease;
      pf = new Portfolio({
        risk: runtime.config.risk,
        probationAllocation: opts.probationAllocation,
        initial: opts.initial,
      });
      const p = pf;
      for (const id of opts.decided ?? []) remember(id);
      for (const r of opts.pending ?? []) {
        p.reserve(r.requestId, r.strategy, r.legs);
        decided.add(r.requestId);
      }
      // the market view: with a lease, every guardian of the group follows all of it (a group of its own), so a
      // standby is ready; without one, the agent's group (it is the only consumer)
      const view = opts.lease
        ? ({ group: `${runtime.agent.name}@${runtime.kernel.instance}`, ephemeral: true } as const)
        : {};
      // the account: the shared group, consumed by the active guardian only (a standby leaves it to the holder; a
      // message it took anyway, after a RESUME, goes back to the group unacked). Without a lease this guardian is
      // always the active one and acks everything it handles: the bus acks on return (no ack closure and pending
      // entry per message, on the path of every request)
      const account = <T>(
        channel: Channel<T>,
        fn: (m: Envelope<T>) => boolean | undefined,
        lazyMs?: number,
      ): void => {
        const lazy = lazyMs === undefined ? {} : { lazyMs };
        shared.push(
          opts.lease
            ? runtime.subscribe(
                channel,
                (m, ctl) => {
                  if (!active) return;
                  if (fn(m) !== false) ctl.ack();
                },
                { ack: 'manual', ...lazy },
              )
            : runtime.subscribe(
                channel,
                (m) => {
                  fn(m);
                },
                lazy,
              ),
        );
      };
      // the markets published before this start (a restart: the group's position is past them)
      for (const m of await retainedMarkets(runtime)) p.onMarket(m);
      for (const v of VENUES) {
        runtime.subscribe(channels.markets(v), (m) => p.onMarket(m.body), view);
        runtime.subscribe(
          channels.books(v),
          (m) => {
            p.onBook(m.body, runtime.clock.now());
            afterUpdate();
          },
          view,
        );
      }
      // for their staleness flag (a request built on a tick its feed now flags stale is rejected) and as a sign
      // of life of their feed. Lazy: a tick alone does not wake the guardian (a wake-up per tick was a third of its
      // CPU); the ticks come with the next request, handed over before it (so the ticks published before a request are
      // normally seen before it is decided), and within TICK_LAZY_MS otherwise
      for (const src of OracleSourceSchema.options)
        runtime.subscribe(channels.ticks(src), (m) => p.onTick(m.body, runtime.clock.now()), {
          ...view,
          lazyMs: TICK_LAZY_MS,
        });
      // feed agents' heartbeats: a feed whose books do not change is still heard from (freshness, above)
      runtime.subscribe(channels.health, (m) => p.onFeedHeartbeat(m.body, runtime.clock.now()), view);
      runtime.subscribe(channels.links, (m) => p.onLink(m.body), view);
      // resolutions: in the view (a standby's settlement graph stays current) and in the shared group (the ones
      // published while no guardian ran); applying one twice changes nothing
      if (opts.lease) runtime.subscribe(channels.resolutions, (m) => p.onResolution(m.body), view);
      account(channels.resolutions, (m) => {
        p.onResolution(m.body);
        return undefined;
      });
      account(channels.fills, (m) => {
        p.onFill(m.body, runtime.clock.now());
        afterUpdate();
        return undefined;
      });
      // lazy: a report changes only what the next request is judged on, and comes with it, handed over first
      account(
        channels.executions,
        (m) => {
          p.onReport(m.body);
          // a request with a report is finished (also one refused as a fenced-out guardian's decision): a redelivery
          // of it decided now would reserve for a decision no executor takes any more
          if (typeof m.body.requestId === 'string') remember(m.body.requestId);
          return undefined;
        },
        TICK_LAZY_MS,
      );
      account(channels.allocations, (m) => {
        p.onAllocation(m.body);
        return undefined;
      });
      account(channels.tradeRequests, (m) => decide(m.body));
      if (!opts.lease) return;
      for (const sub of shared) sub.pause();
      lease = opts.lease(runtime);
      await tryLead(runtime).catch((err: unknown) =>
        runtime.log.error({ err: errorText(err) }, 'guardian lease: first attempt failed'),
      );
      const l = lease;
      leaseTimer = runtime.clock.every(Math.max(50, Math.floor(l.ttlMs / 3)), () => {
        void tryLead(runtime).catch((err: unknown) =>
          runtime.log.warn({ err: errorText(err) }, 'guardian lease attempt failed'),
        );
      });
    },
    async stop() {
      stopping = true;
      leaseTimer?.cancel();
      if (lease) {
        active = false;
        await lease.release().catch(() => {});
        await lease.close();
      }
    },
    onSystem(cmd: SystemCommand, runtime: AgentRuntime) {
      // a RESUME lifts a PAUSE of every subscription: a standby's shared ones stay paused
      if (cmd.command === 'RESUME' && !active) for (const sub of shared) sub.pause();
      if (!pf) return;
      if (cmd.command === 'HALT_ALL') pf.killSwitch = true;
      if (cmd.command === 'RESUME' && (cmd.target === undefined || cmd.target === runtime.agent.name))
        pf.resume();
    },
    health(): HealthDetails {
      return {
        ...counts,
        active,
        ...(fence !== undefined ? { fence } : {}),
        openOrders: pf?.openOrders ?? 0,
        drawdownHalted: pf?.drawdownHalted ?? false,
        equity: pf?.equity ?? 0,
        // the guardian's own view of the drawdown and daily-loss limits (the dashboard's Risk page shows it)
        highWaterMark: pf?.highWaterMark ?? 0,
        dailyStartEquity: pf?.dailyStartEquity ?? 0,
        ...Object.fromEntries(Object.entries(byRule).map(([k, v]) => [`rule.${k}`, v])),
      };
    },
  };
}

/** An approval never asks for more than the strategy did: the same legs, no larger, at no worse a limit. */
export function assertWithinRequest(req: TradeRequest, legs: readonly Leg[]): void {
  const asked = req.legs;
  const ok =
    legs.length === asked.length &&
    legs.every((l, i) => {
      const a = asked[i]!;
      return (
        l.venue === a.venue &&
        l.tokenId === a.tokenId &&
        l.side === a.side &&
        l.shares > 0 &&
        l.shares <= a.shares &&
        (l.side === 'buy' ? l.limitPrice <= a.limitPrice : l.limitPrice >= a.limitPrice)
      );
    });
  if (!ok) throw new RiskInvariantError(`approval of ${req.id} exceeds the request (legs, size or limit)`);
}

export class RiskInvariantError extends InvariantError {
  override name = 'RiskInvariantError';
}
