/**
 * Executor agent, paper mode. Takes approved (or reduced) RiskDecisions, waits `config.paperLatencyMs` on the
 * clock, then fills each leg against the venue's book as it is at that moment (src/execution/paper.ts). It
 * publishes an Order per leg, a Fill per price level taken, and one ExecutionReport per request group.
 *
 * - IOC fills what it can and cancels the rest; FOK dry-runs every leg first and trades only if all fill in full;
 *   GTC (single-leg) rests the remainder and fills, as maker at its limit, when a later book crosses it, until it
 *   fills or `gtcTtlMs` passes. Multi-leg groups always trade immediate-or-cancel.
 * - Multi-leg groups go together: when a leg fills short, the other legs' excess over the matched size is unwound
 *   at the best available prices (sold back, or bought back for a sell leg); the round-trip loss is the group's
 *   legRiskCost.
 * - Sells need inventory (tracked from this executor's own fills): a sell leg is cut to what the strategy holds.
 * - A redelivered decision (same requestId) never trades twice. HALT_ALL rejects new decisions and cancels
 *   resting orders. A Resolution settles inventory in that market with settlement fills (1 or 0 per share).
 */

import type { Agent, AgentRuntime, HealthDetails } from '../core/agent.ts';
import { channels } from '../core/channels.ts';
import type { TimerHandle } from '../core/clock.ts';
import type {
  ExecutionReport,
  Fill,
  Leg,
  Market,
  Order,
  OrderBook,
  Resolution,
  RiskDecision,
  SystemCommand,
  TimeInForce,
} from '../core/messages.ts';
import { instrumentKey, VENUES } from '../core/messages.ts';
import { type Money, mulDiv, ONE, type Qty } from '../core/money.ts';
import { acceptDecision } from '../execution/decision-auth.ts';
import { type MatchResult, PaperBooks } from '../execution/paper.ts';
import { lotSize } from '../risk/rules.ts';

/** Resting GTC orders expire after this long unless told otherwise. */
export const DEFAULT_GTC_TTL_MS = 60_000;

export interface ExecutorState {
  readonly version: 1;
  readonly inventory: readonly {
    strategy: string;
    venue: Leg['venue'];
    marketId: string;
    tokenId: string;
    shares: Qty;
  }[];
  readonly requests: readonly string[];
}

export interface ExecutorOptions {
  readonly name?: string;
  /** Overrides config.paperLatencyMs. */
  readonly latencyMs?: number;
  /** Resting GTC orders expire after this long (default 60 s). */
  readonly gtcTtlMs?: number;
  readonly initial?: ExecutorState;
}

interface InventoryEntry {
  strategy: string;
  venue: Leg['venue'];
  marketId: string;
  tokenId: string;
  shares: Qty;
}

interface Resting {
  order: Order;
  market: Market;
  remaining: Qty;
  group: GroupState;
  timer: TimerHandle | undefined;
}

interface GroupState {
  decision: RiskDecision;
  fills: number;
  fees: Money;
  filledAll: boolean;
  anyFill: boolean;
}

export interface Executor extends Agent {
  snapshot(): ExecutorState;
  /** Resting GTC orders right now. */
  restingOrders(): number;
}

export function createExecutor(opts: ExecutorOptions = {}): Executor {
  let rt: AgentRuntime | undefined;
  const books = new PaperBooks();
  const markets = new Map<string, Market>();
  const inventory = new Map<string, InventoryEntry>();
  const seen = new Set<string>();
  /** decisions waiting out the paper latency */
  const inFlight = new Set<TimerHandle>();
  let stopped = false;
  const resting = new Map<string, Resting>();
  const restingByInstrument = new Map<string, Resting[]>();
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

  if (opts.initial) {
    for (const e of opts.initial.inventory) inventory.set(`${e.strategy}|${e.venue}:${e.tokenId}`, { ...e });
    for (const id of opts.initial.requests) seen.add(id);
  }

  const now = (): number => rt!.clock.now();
  const ids = (kind: string): string => rt!.kernel.ids.next(kind);

  function held(strategy: string, venue: string, tokenId: string): Qty {
    return inventory.get(`${strategy}|${venue}:${tokenId}`)?.shares ?? 0;
  }

  function addInventory(
    strategy: string,
    venue: Leg['venue'],
    marketId: string,
    tokenId: string,
    delta: Qty,
  ): void {
    const k = `${strategy}|${venue}:${tokenId}`;
    let e = inventory.get(k);
    if (!e) {
      e = { strategy, venue, marketId, tokenId, shares: 0 };
      inventory.set(k, e);
    }
    e.shares += delta;
    if (e.shares === 0) inventory.delete(k);
  }

  function publishOrder(o: Order): void {
    counts.orders++;
    rt!.publish(channels.orders, o);
  }

  function newOrder(d: RiskDecision, legIndex: number, leg: Leg, tif: TimeInForce): Order {
    const t = now();
    return {
      type: 'order',
      id: ids('order'),
      requestId: d.requestId,
      strategy: d.strategy,
      legIndex,
      venue: leg.venue,
      marketId: leg.marketId,
      tokenId: leg.tokenId,
      side: leg.side,
      limitPrice: leg.limitPrice,
      shares: leg.shares,
      filledShares: 0,
      tif,
      status: 'new',
      createdAt: t,
      updatedAt: t,
    };
  }

  /** Publishes the fills of a match and updates inventory; returns how many fills. */
  function emitFills(
    d: { requestId: string; strategy: string; bundleId?: string },
    orderId: string,
    leg: Pick<Leg, 'venue' | 'marketId' | 'tokenId' | 'side'>,
    res: MatchResult,
    kind: Fill['kind'],
  ): number {
    const t = now();
    for (const p of res.pieces) {
      const fill: Fill = {
        type: 'fill',
        id: ids('fill'),
        orderId,
        requestId: d.requestId,
        strategy: d.strategy,
        venue: leg.venue,
        marketId: leg.marketId,
        tokenId: leg.tokenId,
        side: leg.side,
        price: p.price,
        shares: p.shares,
        fee: p.fee,
        liquidity: p.liquidity,
        kind,
        ts: t,
        ...(d.bundleId !== undefined ? { bundleId: d.bundleId } : {}),
      };
      counts.fills++;
      rt!.publish(channels.fills, fill);
    }
    if (res.filled > 0)
      addInventory(
        d.strategy,
        leg.venue,
        leg.marketId,
        leg.tokenId,
        leg.side === 'buy' ? res.filled : -res.filled,
      );
    return res.pieces.length;
  }

  function report(
    d: RiskDecision,
    status: ExecutionReport['status'],
    fills: number,
    fees: Money,
    legRiskCost: Money,
    reason?: string,
  ): void {
    counts.groups++;
    if (status === 'rejected') counts.rejected++;
    const r: ExecutionReport = {
      type: 'execution_report',
      id: ids('exec'),
      requestId: d.requestId,
      strategy: d.strategy,
      status,
      fills,
      legRiskCost,
      fees,
      ts: now(),
      ...(reason ? { reason } : {}),
    };
    rt!.publish(channels.executions, r);
  }

  function marketOf(leg: Pick<Leg, 'venue' | 'marketId'>): Market | undefined {
    return markets.get(`${leg.venue}:${leg.marketId}`);
  }

  function execute(d: RiskDecision): void {
    const runtime = rt!;
    if (runtime.halted) {
      report(d, 'rejected', 0, 0, 0, 'HALT_ALL in force');
      return;
    }
    const legs = d.legs;
    const multi = legs.length > 1;
    const tif: TimeInForce = multi && d.tif === 'GTC' ? 'IOC' : d.tif;
    // sells are cut to inventory (no naked shorts)
    const effective: Leg[] = legs.map((leg) => {
      if (leg.side !== 'sell') return leg;
      const have = held(d.strategy, leg.venue, leg.tokenId);
      return have >= leg.shares ? leg : { ...leg, shares: have - (have % lotSize(leg.venue)) };
    });
    if (tif === 'FOK') {
      for (let i = 0; i < effective.length; i++) {
        const leg = effective[i]!;
        const dry = books.take(marketOf(leg), leg.tokenId, leg, false);
        if (leg.shares < legs[i]!.shares || dry.filled < leg.shares) {
          const why =
            leg.shares < legs[i]!.shares
              ? 'not enough inventory to sell'
              : (dry.reason ?? 'cannot fill in full');
          for (let j = 0; j < legs.length; j++) {
            publishOrder({
              ...newOrder(d, j, legs[j]!, tif),
              status: 'cancelled',
              reason: `FOK: leg ${i} ${why}`,
            });
          }
          report(d, 'rejected', 0, 0, 0, `FOK: leg ${i} ${why}`);
          return;
        }
      }
    }
    let fills = 0;
    let fees = 0;
    const results: { order: Order; res: MatchResult }[] = [];
    for (let i = 0; i < effective.length; i++) {
      const leg = effective[i]!;
      const order = newOrder(d, i, legs[i]!, tif);
      const res =
        leg.shares > 0
          ? books.take(marketOf(leg), leg.tokenId, leg)
          : { pieces: [], filled: 0, gross: 0, fees: 0, reason: 'no inventory to sell' };
      fills += emitFills(d, order.id, leg, res, 'trade');
      fees += res.fees;
      results.push({ order, res });
    }
    // GTC single leg: rest the remainder
    if (!multi && tif === 'GTC') {
      const { order, res } = results[0]!;
      const leg = effective[0]!;
      const market = marketOf(leg);
      const prep = books.prepare(market, leg);
      const rest = 'reason' in prep ? 0 : prep.shares - res.filled;
      if (market && rest > 0) {
        const o: Order = {
          ...order,
          filledShares: res.filled,
          status: res.filled > 0 ? 'partially_filled' : 'new',
          updatedAt: now(),
        };
        publishOrder(o);
        const group: GroupState = { decision: d, fills, fees, filledAll: false, anyFill: res.filled > 0 };
        addResting({ order: o, market, remaining: rest, group, timer: undefined });
        return;
      }
    }
    let legRisk = 0;
    let unwound = false;
    let unwindShort = '';
    if (multi) {
      // the matched size: the smallest filled fraction across legs
      let j = 0;
      for (let i = 1; i < legs.length; i++) {
        const a = results[i]!.res.filled * legs[j]!.shares;
        const b = results[j]!.res.filled * legs[i]!.shares;
        if (a < b) j = i;
      }
      const fj = results[j]!.res.filled;
      for (let i = 0; i < legs.length; i++) {
        const { order, res } = results[i]!;
        const leg = effective[i]!;
        const lot = lotSize(leg.venue);
        let target = i === j ? fj : mulDiv(legs[i]!.shares, fj, legs[j]!.shares, 'floor');
        target = Math.min(res.filled, target - (target % lot));
        const excess = res.filled - target;
        if (excess <= 0) continue;
        unwound = true;
        const market = marketOf(leg);
        const tick = market?.tickSize && market.tickSize > 0 ? market.tickSize : 1;
        const back = leg.side === 'buy' ? 'sell' : 'buy';
        const limit = back === 'sell' ? tick : ONE - tick;
        const u = books.take(market, leg.tokenId, {
          side: back,
          limitPrice: limit,
          shares: excess,
          ignoreMinSize: true,
        });
        fills += emitFills(d, order.id, { ...leg, side: back }, u, 'unwind');
        counts.unwinds++;
        fees += u.fees;
        // what the excess cost (pro rata of the leg's fills) against what unwinding it brought back
        const legCash = leg.side === 'buy' ? res.gross + res.fees : res.gross - res.fees;
        const excessCash = mulDiv(legCash, excess, res.filled, 'round');
        legRisk += leg.side === 'buy' ? excessCash - (u.gross - u.fees) : u.gross + u.fees - excessCash;
        if (u.filled < excess)
          unwindShort += `leg ${i}: ${excess - u.filled} of ${excess} could not be unwound; `;
      }
    }
    let allFull = true;
    let anyFill = false;
    for (let i = 0; i < legs.length; i++) {
      const { order, res } = results[i]!;
      const full = res.filled >= legs[i]!.shares;
      allFull &&= full;
      anyFill ||= res.filled > 0;
      const o: Order = {
        ...order,
        filledShares: res.filled,
        status: full
          ? 'filled'
          : res.filled === 0 && res.reason && !res.reason.startsWith('no liquidity')
            ? 'rejected'
            : 'cancelled',
        updatedAt: now(),
        ...(res.reason && !full ? { reason: res.reason } : {}),
      };
      publishOrder(o);
    }
    const firstReason = results.find((r) => r.res.reason)?.res.reason;
    const status: ExecutionReport['status'] = unwound
      ? 'unwound'
      : allFull
        ? 'filled'
        : anyFill
          ? 'partial'
          : 'failed';
    const reason = unwound
      ? `leg risk: excess unwound; ${unwindShort}`.trim()
      : allFull
        ? undefined
        : firstReason;
    report(d, status, fills, fees, legRisk, reason);
  }

  function addResting(r: Resting): void {
    resting.set(r.order.id, r);
    const k = instrumentKey(r.order.venue, r.order.tokenId);
    let list = restingByInstrument.get(k);
    if (!list) {
      list = [];
      restingByInstrument.set(k, list);
    }
    list.push(r);
    const ttl = opts.gtcTtlMs ?? DEFAULT_GTC_TTL_MS;
    r.timer = rt!.clock.after(ttl, () => finishResting(r, 'expired', 'GTC order expired'));
  }

  function finishResting(r: Resting, status: Order['status'], reason?: string): void {
    if (!resting.delete(r.order.id)) return;
    r.timer?.cancel();
    const k = instrumentKey(r.order.venue, r.order.tokenId);
    const list = restingByInstrument.get(k);
    if (list) {
      const i = list.indexOf(r);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) restingByInstrument.delete(k);
    }
    const filled = r.order.shares - r.remaining;
    publishOrder({
      ...r.order,
      filledShares: filled,
      status,
      updatedAt: now(),
      ...(reason ? { reason } : {}),
    });
    const g = r.group;
    const st: ExecutionReport['status'] = status === 'filled' ? 'filled' : filled > 0 ? 'partial' : 'failed';
    report(g.decision, st, g.fills, g.fees, 0, status === 'filled' ? undefined : reason);
  }

  function onBook(b: OrderBook): void {
    books.onBook(b);
    if (restingByInstrument.size === 0) return;
    const list = restingByInstrument.get(instrumentKey(b.venue, b.tokenId));
    if (!list) return;
    for (const r of [...list]) {
      const res = books.crossResting(
        r.market,
        r.order.tokenId,
        r.order.side,
        r.order.limitPrice,
        r.remaining,
      );
      if (res.filled === 0) continue;
      r.group.fills += emitFills(r.group.decision, r.order.id, r.order, res, 'trade');
      r.group.fees += res.fees;
      r.remaining -= res.filled;
      if (r.remaining <= 0) finishResting(r, 'filled');
      else {
        r.order = {
          ...r.order,
          filledShares: r.order.shares - r.remaining,
          status: 'partially_filled',
          updatedAt: now(),
        };
        publishOrder(r.order);
      }
    }
  }

  function onResolution(res: Resolution): void {
    const key = `${res.venue}:${res.marketId}`;
    const m = markets.get(key);
    if (m) markets.set(key, { ...m, status: 'resolved', winner: res.winner });
    for (const r of [...resting.values()]) {
      if (r.order.venue === res.venue && r.order.marketId === res.marketId)
        finishResting(r, 'cancelled', 'market resolved');
    }
    const entries = [...inventory.values()].filter(
      (e) => e.venue === res.venue && e.marketId === res.marketId,
    );
    entries.sort((a, b) => (a.strategy + a.tokenId < b.strategy + b.tokenId ? -1 : 1));
    for (const e of entries) {
      const price = e.tokenId === res.winner ? ONE : 0;
      counts.settlements++;
      emitFills(
        { requestId: `settlement:${key}`, strategy: e.strategy },
        `settle:${key}`,
        { venue: e.venue, marketId: e.marketId, tokenId: e.tokenId, side: 'sell' },
        {
          pieces: [{ price, shares: e.shares, fee: 0, liquidity: 'taker' }],
          filled: e.shares,
          gross: 0,
          fees: 0,
        },
        'settlement',
      );
    }
  }

  /** A decision from outside the process may be malformed: such a leg is refused, never traded. */
  function badLeg(legs: readonly Leg[]): string | undefined {
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

  function onDecision(d: RiskDecision): void {
    if (d.verdict === 'reject') return;
    counts.decisions++;
    if (seen.has(d.requestId)) {
      counts.duplicates++;
      return;
    }
    seen.add(d.requestId);
    const bad = !Array.isArray(d.legs) || d.legs.length === 0 ? 'decision has no legs' : badLeg(d.legs);
    if (bad) {
      report(d, 'rejected', 0, 0, 0, bad);
      return;
    }
    const latency = opts.latencyMs ?? rt!.config.paperLatencyMs;
    if (latency <= 0) execute(d);
    else {
      const t = rt!.clock.after(latency, () => {
        inFlight.delete(t);
        if (!stopped) execute(d);
      });
      inFlight.add(t);
    }
  }

  return {
    name: opts.name ?? 'executor',
    trading: true,
    start(runtime) {
      rt = runtime;
      for (const v of VENUES) {
        runtime.subscribe(channels.markets(v), (m) => {
          markets.set(`${m.body.venue}:${m.body.marketId}`, m.body);
        });
        runtime.subscribe(channels.books(v), (m) => onBook(m.body));
      }
      runtime.subscribe(channels.resolutions, (m) => onResolution(m.body));
      runtime.subscribe(channels.riskDecisions, (m) => {
        if (acceptDecision(m, runtime)) onDecision(m.body);
      });
    },
    stop() {
      stopped = true;
      for (const r of [...resting.values()]) r.timer?.cancel();
      for (const t of inFlight) t.cancel();
      inFlight.clear();
    },
    onSystem(cmd: SystemCommand) {
      if (cmd.command === 'HALT_ALL')
        for (const r of [...resting.values()]) finishResting(r, 'cancelled', 'HALT_ALL');
    },
    snapshot: () => ({
      version: 1,
      inventory: [...inventory.values()].map((e) => ({ ...e })),
      requests: [...seen],
    }),
    restingOrders: () => resting.size,
    health(): HealthDetails {
      return { ...counts, resting: resting.size };
    },
  };
}
