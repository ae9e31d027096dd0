/**
 * The venue-neutral side of execution: approved decisions → one order per leg at the client of the leg's venue →
 * execution reports through the order state machine → Orders, Fills and one ExecutionReport per request on the
 * bus (through the sink). Paper and live clients look the same from here; nothing reads a message's wording.
 *
 * - Legs go to their venues independently (each client has its own latency); nothing is atomic across venues.
 * - IOC → FAK, FOK → FOK (a multi-leg FOK first checks every leg against the client's view of the book and sends
 *   nothing unless all would fill in full), GTC (single leg) → GTD with the time to live. Multi-leg groups always
 *   trade immediate-or-cancel.
 * - Leg risk: once every leg is done, the legs' excess over the matched size (the smallest filled fraction) is
 *   unwound with a marketable FAK order at the leg's venue (sold back, or bought back for a sell leg); what the
 *   round trip cost is the group's legRiskCost.
 * - Sells need inventory (from this executor's own fills): a sell leg is cut to what the strategy holds.
 * - A redelivered decision (same requestId) never trades twice. A halt cancels every open leg order (unwinds go on:
 *   they close risk).
 * - A Resolution settles inventory in that market with settlement fills (1 or 0 per share).
 */
import type { IdGen } from '../core/agent.ts';
import type { Clock } from '../core/clock.ts';
import { isInvariantError } from '../core/invariant.ts';
import {
  type ExecutionReport,
  type Fill,
  instrumentKey,
  type Leg,
  type Order,
  type Resolution,
  type RiskDecision,
  type TimeInForce,
  type Venue,
} from '../core/messages.ts';
import { type Money, mulDiv, ONE, type Qty } from '../core/money.ts';
import { lotSize } from '../risk/rules.ts';
import { clientOrderId } from './ids.ts';
import { applyReport, isDone, isTerminal, newOrderState } from './order-state.ts';
import { fillRecord, orderRecord } from './records.ts';
import type {
  ExecutionClient,
  MarketEvent,
  OrderReport,
  OrderRequest,
  OrderState,
  OrderType,
} from './types.ts';

/** Resting GTC orders expire after this long unless told otherwise. */
export const DEFAULT_GTC_TTL_MS = 60_000;

export interface InventoryEntry {
  strategy: string;
  venue: Venue;
  marketId: string;
  tokenId: string;
  shares: Qty;
}

export interface ExecutorState {
  readonly version: 1;
  readonly inventory: readonly InventoryEntry[];
  readonly requests: readonly string[];
  /**
   * Markets the store has as resolved while `inventory` holds shares in them (restart recovery): the executor
   * settles them once it is the active one, as it would have on the resolution itself.
   */
  readonly resolved?: readonly Resolution[];
}

/** Where the engine's output goes (the executor agent publishes it on the bus). */
export interface ExecutionSink {
  order(o: Order): void;
  fill(f: Fill): void;
  report(r: ExecutionReport): void;
}

export interface ExecutionEngineOptions {
  readonly clients: ReadonlyMap<Venue, ExecutionClient>;
  readonly clock: Clock;
  readonly ids: IdGen;
  readonly sink: ExecutionSink;
  readonly gtcTtlMs?: number;
  readonly initial?: ExecutorState;
  /** A submit the client could not settle (live: the venue may or may not have the order). */
  readonly onSubmitError?: (order: OrderRequest, err: unknown) => void;
  /** An invariant broke outside a handler's call stack (an async submit or cancel): the owner faults. */
  readonly onFault?: (err: unknown) => void;
  /** Executed request ids remembered against redelivery (default SEEN_REQUESTS). */
  readonly seenWindow?: number;
}

interface Run {
  readonly group: Group;
  readonly index: number;
  state: OrderState;
  unwind: Run | undefined;
  /** What the decision asked of this leg (a sell may be sent smaller). */
  readonly wanted: Qty;
  /** Clock times of its first and latest fill (leg exposure). */
  firstFillAt: number | undefined;
  lastFillAt: number | undefined;
}

interface Group {
  readonly d: RiskDecision;
  readonly tif: TimeInForce;
  readonly legs: Run[];
  phase: 'legs' | 'unwinding' | 'done';
  cancelWhy: string | undefined;
}

const invKey = (strategy: string, venue: string, tokenId: string): string =>
  `${strategy}|${venue}:${tokenId}`;

/**
 * Why bounded: every executed request id was kept for ever, in memory and in every state snapshot (`requests`),
 * so a long run grew without end. A duplicate is a redelivery, which comes within the bus's visibility timeout
 * (minutes), long before 100,000 newer requests were executed; the risk guardian keeps the same window.
 */
export const SEEN_REQUESTS = 100_000;

export interface ExecutionEngine {
  /** A decision from the bus; `halted` = HALT_ALL in force. */
  decide(d: RiskDecision, halted: boolean): void;
  /**
   * Takes the holdings and executed requests of a fresher state (a standby executor becoming the active one:
   * what the previous one traded since this one started). Requests are added; holdings replaced.
   */
  adopt(state: ExecutorState): void;
  /** Whether this engine took the request already (this life, or restored as executed). */
  has(requestId: string): boolean;
  /**
   * An intent an earlier life (or another executor) recorded but did not finish (src/execution/intents.ts):
   * - `resubmit`: the decision again, with the same client order ids and `decidedAt`. Intents whose orders never
   *   left, and every live intent: the requests carry `resumed: true`, and a live client looks such an order up
   *   by client order id first and tracks it if the venue has it (ExecutionClient.submit: an id sent twice is
   *   never a second order), so resubmitting is how a live in-flight order is resumed.
   * - `close`: paper orders that were sent but died with their process (the simulated venue was that process):
   *   every leg ends `cancelled` with `why`, and the request gets its ExecutionReport (the guardian releases its
   *   reservation); fills that happened before stand.
   * - `report`: an intent already done (its executor finished every leg and published its orders before marking
   *   it done) whose report the store does not hold: only the report is made again (same id). Its orders are not
   *   published again: the store may simply not have caught up with them yet (the persister behind), and a
   *   record made from it would move a filled order back to cancelled.
   */
  resume(
    d: RiskDecision,
    how: 'resubmit' | 'close' | 'report',
    halted: boolean,
    why?: string,
    known?: Readonly<Record<number, { readonly status: string; readonly filledShares: Qty }>>,
  ): void;
  /**
   * Refuses a decision without executing any of it (a fenced-out guardian's, src/execution/intents.ts): the request
   * is remembered as taken and gets its `rejected` ExecutionReport (the guardian releases its reservation).
   */
  refuse(d: Pick<RiskDecision, 'requestId' | 'strategy'>, why: string): void;
  onMarketData(e: MarketEvent): void;
  /** Cancels every open leg order (HALT_ALL); unwinds go on. */
  halt(why: string): void;
  stop(): Promise<void>;
  snapshot(): ExecutorState;
  openOrders(): number;
  counts(): Record<string, number>;
}

export function createExecutionEngine(opts: ExecutionEngineOptions): ExecutionEngine {
  const { clients, clock, sink } = opts;
  const inventory = new Map<string, InventoryEntry>();
  const seen = new Set<string>();
  const runs = new Map<string, Run>();
  const groups = new Set<Group>();
  const counts = {
    decisions: 0,
    duplicates: 0,
    groups: 0,
    orders: 0,
    fills: 0,
    unwinds: 0,
    settlements: 0,
    rejected: 0,
  };
  for (const e of opts.initial?.inventory ?? [])
    inventory.set(invKey(e.strategy, e.venue, e.tokenId), { ...e });
  const seenWindow = opts.seenWindow ?? SEEN_REQUESTS;
  /** Remembers an executed request id, forgetting the oldest beyond the window (a Set iterates in insertion order). */
  const remember = (id: string): void => {
    seen.add(id);
    if (seen.size > seenWindow) seen.delete(seen.values().next().value as string);
  };
  for (const id of opts.initial?.requests ?? []) remember(id);
  const unsubscribe = [...clients.values()].map((c) => c.onReport(onReport));

  const held = (s: string, v: string, t: string): Qty => inventory.get(invKey(s, v, t))?.shares ?? 0;

  function addInventory(f: Fill): void {
    const k = invKey(f.strategy, f.venue, f.tokenId);
    let e = inventory.get(k);
    if (!e) {
      e = { strategy: f.strategy, venue: f.venue, marketId: f.marketId, tokenId: f.tokenId, shares: 0 };
      inventory.set(k, e);
    }
    e.shares += f.side === 'buy' ? f.shares : -f.shares;
    if (e.shares === 0) inventory.delete(k);
  }

  function publishFill(f: Fill): void {
    counts.fills++;
    addInventory(f);
    sink.fill(f);
  }

  function publishOrder(run: Run): void {
    counts.orders++;
    sink.order(orderRecord(run.state, run.group.tif));
  }

  function report(
    d: RiskDecision,
    status: ExecutionReport['status'],
    fills: number,
    fees: Money,
    legRiskCost: Money,
    reason?: string,
    legExposureMs?: (number | null)[],
  ): void {
    counts.groups++;
    if (status === 'rejected') counts.rejected++;
    sink.report({
      type: 'execution_report',
      // derived from the request (one report per request): a republished report is the same report downstream
      id: `${d.requestId}.exec`,
      requestId: d.requestId,
      strategy: d.strategy,
      status,
      fills,
      legRiskCost,
      fees,
      ts: clock.now(),
      ...(reason ? { reason } : {}),
      ...(legExposureMs ? { legExposureMs } : {}),
    });
  }

  function onReport(r: OrderReport): void {
    const run = runs.get(r.clientOrderId);
    if (!run) return;
    const prev = run.state;
    const next = applyReport(prev, r);
    run.state = next;
    if (next.filledShares > prev.filledShares) {
      const at = clock.now();
      run.firstFillAt ??= at;
      run.lastFillAt = at;
    }
    if (r.fill && r.fill.settlement === 'confirmed' && next.confirmedShares > prev.confirmedShares) {
      publishFill(fillRecord(next.request, r.fill, clock.now(), run.group.d.bundleId));
    }
    if (next !== prev) publishOrder(run);
    if (isDone(next) && !isDone(prev)) progress(run.group);
  }

  /** Registers a run and its first Order message. */
  function open(group: Group, index: number, req: OrderRequest, wanted: Qty): Run {
    const run: Run = {
      group,
      index,
      state: newOrderState(req, clock.now()),
      unwind: undefined,
      wanted,
      firstFillAt: undefined,
      lastFillAt: undefined,
    };
    runs.set(req.clientOrderId, run);
    publishOrder(run);
    return run;
  }

  function send(run: Run): void {
    const q = run.state.request;
    const client = clients.get(q.venue);
    const local = (reason: 'no_inventory' | 'venue_rejected', detail: string): void =>
      onReport({
        clientOrderId: q.clientOrderId,
        venue: q.venue,
        status: 'rejected',
        reason,
        detail,
        ts: clock.now(),
      });
    if (q.shares <= 0) {
      local('no_inventory', 'no inventory to sell');
      return;
    }
    if (!client) {
      local('venue_rejected', `no execution client for ${q.venue}`);
      return;
    }
    client.submit(q).catch((err: unknown) => {
      if (isInvariantError(err)) opts.onFault?.(err);
      else opts.onSubmitError?.(q, err);
    });
  }

  const filledOf = (r: Run | undefined): Qty => r?.state.filledShares ?? 0;

  function progress(g: Group): void {
    if (g.phase === 'legs' && g.legs.every((r) => isDone(r.state))) unwindOrComplete(g);
    else if (g.phase === 'unwinding' && g.legs.every((r) => !r.unwind || isDone(r.unwind.state))) complete(g);
  }

  function unwindOrComplete(g: Group): void {
    const legs = g.legs;
    if (legs.length < 2) {
      complete(g);
      return;
    }
    // the matched size: the smallest filled fraction across legs
    let j = 0;
    for (let i = 1; i < legs.length; i++)
      if (filledOf(legs[i]) * legs[j]!.wanted < filledOf(legs[j]) * legs[i]!.wanted) j = i;
    const fj = filledOf(legs[j]);
    const unwinds: Run[] = [];
    for (const run of legs) {
      const q = run.state.request;
      const lot = lotSize(q.venue);
      let target = run.index === j ? fj : mulDiv(run.wanted, fj, legs[j]!.wanted, 'floor');
      target = Math.min(run.state.filledShares, target - (target % lot));
      const excess = run.state.filledShares - target;
      if (excess <= 0) continue;
      const tick = marketTicks.get(instrumentKey(q.venue, q.marketId)) ?? 1;
      const back = q.side === 'buy' ? 'sell' : 'buy';
      run.unwind = open(
        g,
        run.index,
        {
          ...q,
          clientOrderId: clientOrderId(q.requestId, run.index, 'unwind'),
          purpose: 'unwind',
          side: back,
          limitPrice: back === 'sell' ? tick : ONE - tick,
          shares: excess,
          type: 'FAK',
          expiresAt: undefined,
          ignoreMinSize: true,
        },
        excess,
      );
      unwinds.push(run.unwind);
    }
    if (unwinds.length === 0) {
      complete(g);
      return;
    }
    g.phase = 'unwinding';
    for (const u of unwinds) {
      counts.unwinds++;
      send(u);
    }
  }

  function complete(g: Group): void {
    g.phase = 'done';
    groups.delete(g);
    let fills = 0;
    let fees = 0;
    let legRisk = 0;
    let short = '';
    let allFull = true;
    let anyFill = false;
    let firstReason: string | undefined;
    for (const run of g.legs) {
      const s = run.state;
      runs.delete(s.request.clientOrderId);
      fills += s.fills.filter((f) => f.settlement !== 'failed').length;
      fees += s.fees;
      allFull &&= s.filledShares >= run.wanted;
      anyFill ||= s.filledShares > 0;
      firstReason ??= s.status !== 'filled' ? s.detail : undefined;
      const u = run.unwind?.state;
      if (!u) continue;
      runs.delete(u.request.clientOrderId);
      fills += u.fills.filter((f) => f.settlement !== 'failed').length;
      fees += u.fees;
      // what the excess cost (pro rata of the leg's fills) against what unwinding it brought back
      const excess = u.request.shares;
      const buy = s.request.side === 'buy';
      const legCash = buy ? s.gross + s.fees : s.gross - s.fees;
      const excessCash = mulDiv(legCash, excess, s.filledShares, 'round');
      legRisk += buy ? excessCash - (u.gross - u.fees) : u.gross + u.fees - excessCash;
      if (u.filledShares < excess)
        short += `leg ${run.index}: ${excess - u.filledShares} of ${excess} could not be unwound; `;
    }
    const unwound = g.legs.some((r) => r.unwind);
    const status = unwound ? 'unwound' : allFull ? 'filled' : anyFill ? 'partial' : 'failed';
    const reason = unwound
      ? `leg risk: excess unwound; ${short}`.trim()
      : allFull
        ? undefined
        : (g.cancelWhy ?? firstReason);
    report(g.d, status, fills, fees, legRisk, reason, exposures(g));
  }

  /**
   * Per leg of a multi-leg group with a fill: ms from the leg's first fill until it was hedged (the last trade
   * fill of the group) or, when its excess was unwound, until the unwind's last fill (now, if it filled nothing).
   */
  function exposures(g: Group): (number | null)[] | undefined {
    if (g.legs.length < 2 || g.legs.every((r) => r.firstFillAt === undefined)) return undefined;
    let hedgedAt = 0;
    for (const r of g.legs)
      if (r.lastFillAt !== undefined && r.lastFillAt > hedgedAt) hedgedAt = r.lastFillAt;
    return g.legs.map((r) => {
      if (r.firstFillAt === undefined) return null;
      const end = r.unwind ? (r.unwind.lastFillAt ?? clock.now()) : hedgedAt;
      return Math.max(0, end - r.firstFillAt);
    });
  }

  /** Multi-leg FOK: every leg checked against the client's book first; a miss sends nothing. */
  function fokMiss(g: Group, reqs: OrderRequest[]): string | undefined {
    for (let i = 0; i < reqs.length; i++) {
      const q = reqs[i]!;
      if (q.shares < g.d.legs[i]!.shares) return `FOK: leg ${i} not enough inventory to sell`;
      const p = clients.get(q.venue)?.preview?.(q);
      if (p && p.fillable < q.shares) return `FOK: leg ${i} ${p.detail ?? 'cannot fill in full'}`;
    }
    return undefined;
  }

  /** A decision from outside the process may be malformed: such a leg is refused, never traded. */
  function badLeg(legs: readonly Leg[]): string | undefined {
    if (!Array.isArray(legs) || legs.length === 0) return 'decision has no legs';
    for (let i = 0; i < legs.length; i++) {
      const l = legs[i];
      if (!l || typeof l !== 'object') return `leg ${i} is missing`;
      if (l.side !== 'buy' && l.side !== 'sell') return `leg ${i}: bad side`;
      if (!Number.isSafeInteger(l.shares) || l.shares <= 0) return `leg ${i}: bad size`;
      if (!Number.isSafeInteger(l.limitPrice) || l.limitPrice <= 0 || l.limitPrice >= ONE)
        return `leg ${i}: bad price`;
      if (typeof l.tokenId !== 'string' || typeof l.marketId !== 'string') return `leg ${i}: bad instrument`;
    }
    return undefined;
  }

  const marketTicks = new Map<string, number>();

  function decide(d: RiskDecision, halted: boolean, resumed = false): void {
    if (d.verdict === 'reject') return;
    counts.decisions++;
    if (seen.has(d.requestId)) {
      counts.duplicates++;
      return;
    }
    remember(d.requestId);
    const bad = badLeg(d.legs);
    if (bad) {
      report(d, 'rejected', 0, 0, 0, bad);
      return;
    }
    if (halted) {
      report(d, 'rejected', 0, 0, 0, 'HALT_ALL in force');
      return;
    }
    const multi = d.legs.length > 1;
    const tif: TimeInForce = multi && d.tif === 'GTC' ? 'IOC' : d.tif;
    const type: OrderType = tif === 'FOK' ? 'FOK' : tif === 'GTC' ? 'GTD' : 'FAK';
    const now = clock.now();
    const reqs: OrderRequest[] = d.legs.map((leg, i) => {
      const have = leg.side === 'sell' ? held(d.strategy, leg.venue, leg.tokenId) : leg.shares;
      const shares = have >= leg.shares ? leg.shares : have - (have % lotSize(leg.venue));
      return {
        clientOrderId: clientOrderId(d.requestId, i),
        requestId: d.requestId,
        legIndex: i,
        strategy: d.strategy,
        purpose: 'trade',
        venue: leg.venue,
        marketId: leg.marketId,
        tokenId: leg.tokenId,
        side: leg.side,
        limitPrice: leg.limitPrice,
        shares,
        type,
        decidedAt: d.decidedAt,
        ...(resumed ? { resumed: true } : {}),
        ...(type === 'GTD' ? { expiresAt: now + (opts.gtcTtlMs ?? DEFAULT_GTC_TTL_MS) } : {}),
      };
    });
    const g: Group = { d, tif, legs: [], phase: 'legs', cancelWhy: undefined };
    const miss = tif === 'FOK' ? fokMiss(g, reqs) : undefined;
    if (miss) {
      for (const q of reqs) {
        const run: Run = {
          group: g,
          index: q.legIndex,
          unwind: undefined,
          wanted: q.shares,
          firstFillAt: undefined,
          lastFillAt: undefined,
          state: { ...newOrderState(q, now), status: 'cancelled', detail: miss },
        };
        publishOrder(run);
      }
      report(d, 'rejected', 0, 0, 0, miss);
      return;
    }
    groups.add(g);
    // every leg is registered before any is sent: a leg that completes at once cannot finish the group early
    for (const q of reqs) g.legs.push(open(g, q.legIndex, q, d.legs[q.legIndex]!.shares));
    for (const run of [...g.legs]) send(run);
  }

  function settle(venue: Venue, marketId: string, winner: string): void {
    const entries = [...inventory.values()].filter((e) => e.venue === venue && e.marketId === marketId);
    entries.sort((a, b) => (a.strategy + a.tokenId < b.strategy + b.tokenId ? -1 : 1));
    const key = `${venue}:${marketId}`;
    for (const e of entries) {
      counts.settlements++;
      publishFill({
        type: 'fill',
        id: `settle:${key}:${e.strategy}:${e.tokenId}`,
        orderId: `settle:${key}`,
        requestId: `settlement:${key}`,
        strategy: e.strategy,
        venue,
        marketId,
        tokenId: e.tokenId,
        side: 'sell',
        price: e.tokenId === winner ? ONE : 0,
        shares: e.shares,
        fee: 0,
        liquidity: 'taker',
        kind: 'settlement',
        ts: clock.now(),
      });
    }
  }

  function close(
    d: RiskDecision,
    why: string,
    known: Readonly<Record<number, { readonly status: string; readonly filledShares: Qty }>>,
    orders = true,
  ): void {
    remember(d.requestId);
    const bad = badLeg(d.legs);
    if (bad) {
      report(d, 'rejected', 0, 0, 0, bad);
      return;
    }
    const now = clock.now();
    const g: Group = { d, tif: d.tif, legs: [], phase: 'done', cancelWhy: why };
    let filled = 0;
    d.legs.forEach((leg, i) => {
      const k = known[i];
      if (k && k.filledShares > 0) filled++;
      // an order the store already holds as ended keeps its state; only open or unknown ones are closed
      if (!orders || (k && isTerminal(k.status as OrderState['status']))) return;
      const q: OrderRequest = {
        clientOrderId: clientOrderId(d.requestId, i),
        requestId: d.requestId,
        legIndex: i,
        strategy: d.strategy,
        purpose: 'trade',
        venue: leg.venue,
        marketId: leg.marketId,
        tokenId: leg.tokenId,
        side: leg.side,
        limitPrice: leg.limitPrice,
        shares: leg.shares,
        type: 'FAK',
        decidedAt: d.decidedAt,
      };
      publishOrder({
        group: g,
        index: i,
        unwind: undefined,
        wanted: leg.shares,
        firstFillAt: undefined,
        lastFillAt: undefined,
        state: {
          ...newOrderState(q, now),
          status: 'cancelled',
          detail: why,
          filledShares: k?.filledShares ?? 0,
          confirmedShares: k?.filledShares ?? 0,
        },
      });
    });
    report(d, filled > 0 ? 'partial' : 'failed', 0, 0, 0, why);
  }

  return {
    decide: (d, halted) => decide(d, halted),
    has: (requestId) => seen.has(requestId),
    adopt(state) {
      inventory.clear();
      for (const e of state.inventory) inventory.set(invKey(e.strategy, e.venue, e.tokenId), { ...e });
      for (const id of state.requests) remember(id);
    },
    resume(d, how, halted, why, known) {
      if (runs.has(clientOrderId(d.requestId, 0)) || [...groups].some((g) => g.d.requestId === d.requestId))
        return; // in flight in this life
      if (how !== 'resubmit') {
        close(
          d,
          why ?? 'executor restarted: the paper order ended with its process',
          known ?? {},
          how === 'close',
        );
        return;
      }
      seen.delete(d.requestId);
      decide(d, halted, true);
    },
    refuse(d, why) {
      remember(d.requestId);
      sink.report({
        type: 'execution_report',
        id: `${d.requestId}.exec`,
        requestId: d.requestId,
        strategy: d.strategy,
        status: 'rejected',
        fills: 0,
        legRiskCost: 0,
        fees: 0,
        ts: clock.now(),
        reason: why,
      });
      counts.groups++;
      counts.rejected++;
    },
    onMarketData(e) {
      if (e.type === 'market')
        marketTicks.set(instrumentKey(e.venue, e.marketId), e.tickSize > 0 ? e.tickSize : 1);
      clients.get(e.venue)?.onMarketData?.(e);
      if (e.type === 'resolution') settle(e.venue, e.marketId, e.winner);
    },
    halt(why) {
      for (const g of groups) g.cancelWhy ??= why;
      // the legs' orders are cancelled; unwinds stay: they close risk rather than take it
      for (const run of [...runs.values()]) {
        const q = run.state.request;
        if (q.purpose !== 'trade' || isTerminal(run.state.status)) continue;
        clients
          .get(q.venue)
          ?.cancel(q.clientOrderId)
          .catch((err: unknown) => {
            if (isInvariantError(err)) opts.onFault?.(err);
          });
      }
    },
    async stop() {
      for (const u of unsubscribe) u();
      await Promise.all([...clients.values()].map((c) => c.stop?.()));
    },
    snapshot: () => ({
      version: 1,
      inventory: [...inventory.values()].map((e) => ({ ...e })),
      requests: [...seen],
    }),
    openOrders: () => [...runs.values()].filter((r) => !isTerminal(r.state.status)).length,
    counts: () => ({ ...counts }),
  };
}
