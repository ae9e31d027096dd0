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
 */

import type { Agent, AgentRuntime, HealthDetails } from '../core/agent.ts';
import { Fifo } from '../core/bus/fifo.ts';
import { channels } from '../core/channels.ts';
import { InvariantError } from '../core/invariant.ts';
import type { Leg, RiskDecision, SystemCommand, TradeRequest } from '../core/messages.ts';
import { OracleSourceSchema, VENUES } from '../core/messages.ts';
import type { Money } from '../core/money.ts';
import { signDecision } from '../execution/decision-auth.ts';
import { Flattener, stopInForce } from '../risk/flatten.ts';
import { Portfolio, type RiskState } from '../risk/portfolio.ts';
import { evaluateRequest } from '../risk/rules.ts';
import { retainedMarkets } from './market-history.ts';

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
  const counts = { requests: 0, approved: 0, reduced: 0, rejected: 0, duplicates: 0 };
  const byRule: Record<string, number> = {};

  function decide(req: TradeRequest): void {
    const runtime = rt!;
    const p = pf!;
    const id = typeof req?.id === 'string' ? req.id : '';
    if (id !== '' && decided.has(id)) {
      counts.duplicates++;
      return;
    }
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
    if (id !== '') {
      decided.add(id);
      order.push(id);
      if (order.length > window) decided.delete(order.shift()!);
    }
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
    };
    runtime.publish(channels.riskDecisions, signDecision(decision, runtime));
  }

  /** At a stop: an alert once, and with DRAWDOWN_ACTION=flatten the sells that close unhedged positions. */
  let stopped = false;
  const flattener = new Flattener();
  function afterUpdate(): void {
    const runtime = rt!;
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
    const ids = (kind: string): string => runtime.kernel.ids.next(kind);
    for (const d of flattener.plan(pf!, now, ids, `${stop.rule}_flatten`, stop.reason)) {
      byRule[d.rule] = (byRule[d.rule] ?? 0) + 1;
      runtime.publish(channels.riskDecisions, signDecision(d, runtime));
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
      pf = new Portfolio({
        risk: runtime.config.risk,
        probationAllocation: opts.probationAllocation,
        initial: opts.initial,
      });
      const p = pf;
      for (const id of opts.decided ?? []) {
        if (decided.has(id)) continue;
        decided.add(id);
        order.push(id);
        if (order.length > window) decided.delete(order.shift()!);
      }
      for (const r of opts.pending ?? []) {
        p.reserve(r.requestId, r.strategy, r.legs);
        decided.add(r.requestId);
      }
      // the markets published before this start (a restart: the group's position is past them)
      for (const m of await retainedMarkets(runtime)) p.onMarket(m);
      for (const v of VENUES) {
        runtime.subscribe(channels.markets(v), (m) => p.onMarket(m.body));
        runtime.subscribe(channels.books(v), (m) => {
          p.onBook(m.body, runtime.clock.now());
          afterUpdate();
        });
      }
      // for their staleness flag (a request built on a tick its feed now flags stale is rejected) and as a sign
      // of life of their feed
      for (const src of OracleSourceSchema.options)
        runtime.subscribe(channels.ticks(src), (m) => p.onTick(m.body, runtime.clock.now()));
      // feed agents' heartbeats: a feed whose books do not change is still heard from (freshness, above)
      runtime.subscribe(channels.health, (m) => p.onFeedHeartbeat(m.body, runtime.clock.now()));
      runtime.subscribe(channels.links, (m) => p.onLink(m.body));
      runtime.subscribe(channels.resolutions, (m) => p.onResolution(m.body));
      runtime.subscribe(channels.fills, (m) => {
        p.onFill(m.body, runtime.clock.now());
        afterUpdate();
      });
      runtime.subscribe(channels.executions, (m) => p.onReport(m.body));
      runtime.subscribe(channels.allocations, (m) => p.onAllocation(m.body));
      runtime.subscribe(channels.tradeRequests, (m) => decide(m.body));
    },
    onSystem(cmd: SystemCommand, runtime: AgentRuntime) {
      if (!pf) return;
      if (cmd.command === 'HALT_ALL') pf.killSwitch = true;
      if (cmd.command === 'RESUME' && (cmd.target === undefined || cmd.target === runtime.agent.name))
        pf.resume();
    },
    health(): HealthDetails {
      return {
        ...counts,
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
