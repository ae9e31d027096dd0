/**
 * Live reconciliation for `pm-arb run --live`: at start and every RECONCILE_INTERVAL_MS, each live venue's
 * positions, open orders and balance are read and compared (src/execution/reconcile.ts) with our books: the
 * positions of the fills (the store's fills at start, then every fill on the bus) and the live clients' order
 * state machines. Each difference goes out as a `reconciliation_mismatch` event with both numbers; one bad enough
 * to halt (RECONCILE_HALT_SHARES, RECONCILE_HALT_CASH_USD, any untracked open order) on two runs in a row — both
 * sides are read a few milliseconds apart, so a fill on its way is not a mismatch — publishes HALT_ALL (the
 * executor cancels every open order at each venue) and a critical alert.
 *
 * Cash: the venue's available balance on the first run where positions and orders agree and none is open is the
 * baseline; afterwards the expected balance is that baseline plus the cash flows of the fills booked since, compared
 * only while neither side has an order open (resting orders hold collateral the venues count differently).
 *
 * It also books the orders re-adopted at start (sent by an earlier process that died with them in flight, found
 * again through the live clients' journal): their Order updates and confirmed Fills are published here, as the
 * executor does for its own, so the ledger equals the venue after a crash.
 */
import type { Agent, AgentRuntime, HealthDetails } from '../core/agent.ts';
import { errorText } from '../core/bus/types.ts';
import { channels } from '../core/channels.ts';
import type { TimerHandle } from '../core/clock.ts';
import type { Fill, SystemCommand, TimeInForce, Venue } from '../core/messages.ts';
import { type Money, mulDiv, ONE, type Qty } from '../core/money.ts';
import type { LiveExecution } from '../execution/live/live-execution.ts';
import {
  haltWorthy,
  type Mismatch,
  mismatchEvents,
  type OurView,
  reconcile,
  type VenueView,
} from '../execution/reconcile.ts';
import { fillRecord, orderRecord } from '../execution/records.ts';
import type { OrderReport, OrderState } from '../execution/types.ts';
import type { PositionQuery } from '../venues/live/types.ts';

export interface ReconcilerOptions {
  readonly live: Pick<
    LiveExecution,
    'venueClients' | 'liveClients' | 'polymarketFacts' | 'onAdopted' | 'venues'
  >;
  /** Fills already booked before this process (the store's), so positions start where the ledger is. */
  readonly fills?: readonly Fill[];
  /**
   * Restart recovery from a ledger snapshot: the holdings the store's fills made (all strategies) and the ids of
   * the fills they include (not booked again when seen on the bus); `fills` then adds nothing already in them.
   */
  readonly restored?: {
    readonly positions: readonly { venue: Venue; marketId: string; tokenId: string; shares: Qty }[];
    readonly fillIds: readonly string[];
  };
  /** Default config.live.reconcileIntervalMs. */
  readonly intervalMs?: number;
  /** Each run's outcome, for the operator (run prints it). */
  readonly onRun?: (r: ReconcileRun) => void;
}

export interface ReconcileRun {
  readonly venue: Venue;
  readonly ts: number;
  readonly mismatches: readonly Mismatch[];
  /** Mismatches past a halt threshold on this run (they halt when the next run sees them again). */
  readonly haltWorthy: readonly Mismatch[];
  /** Past a threshold on this run and the one before: these halted trading. */
  readonly halting: readonly Mismatch[];
  readonly positions: number;
  readonly openOrders: number;
  readonly cash: Money;
  /** The venue could not be read: nothing compared. */
  readonly error?: string;
}

export interface Reconciler extends Agent {
  /** One reconciliation of every live venue now. */
  runOnce(): Promise<ReconcileRun[]>;
}

const OPEN = new Set(['new', 'acknowledged', 'partially_filled']);
const TIF: Record<string, TimeInForce> = { FAK: 'IOC', FOK: 'FOK', GTC: 'GTC', GTD: 'GTC' };

/** Cash a fill moved: a buy pays price × shares + fee, a sell receives price × shares − fee (micro-dollars). */
function cashFlow(f: Pick<Fill, 'side' | 'price' | 'shares' | 'fee'>): Money {
  const gross = mulDiv(f.price, f.shares, ONE, 'round');
  return f.side === 'buy' ? -gross - f.fee : gross - f.fee;
}

const key = (m: Mismatch): string =>
  `${m.venue}|${m.kind}|${m.tokenId ?? ''}|${m.clientOrderId ?? m.venueOrderId ?? ''}`;

export function createReconciler(opts: ReconcilerOptions): Reconciler {
  const positions = new Map<string, { venue: Venue; marketId: string; tokenId: string; shares: Qty }>();
  const booked = new Set<string>();
  /** Cash flow of fills booked since the venue's baseline was read. */
  const flow = new Map<Venue, Money>();
  const baseline = new Map<Venue, Money>();
  let lastHaltKeys = new Set<string>();
  let runtime: AgentRuntime | undefined;
  let running: Promise<ReconcileRun[]> | undefined;
  let halted = false;
  let timer: TimerHandle | undefined;
  const counts = { runs: 0, mismatches: 0, halts: 0, errors: 0, adoptedFills: 0 };

  function book(f: Fill): void {
    if (booked.has(f.id)) return;
    booked.add(f.id);
    const k = `${f.venue}|${f.tokenId}`;
    const p = positions.get(k) ?? { venue: f.venue, marketId: f.marketId, tokenId: f.tokenId, shares: 0 };
    p.shares += f.side === 'buy' ? f.shares : -f.shares;
    positions.set(k, p);
    if (baseline.has(f.venue)) flow.set(f.venue, (flow.get(f.venue) ?? 0) + cashFlow(f));
  }
  for (const p of opts.restored?.positions ?? []) {
    if (p.shares === 0) continue;
    const k = `${p.venue}|${p.tokenId}`;
    const have = positions.get(k);
    if (have) have.shares += p.shares;
    else positions.set(k, { venue: p.venue, marketId: p.marketId, tokenId: p.tokenId, shares: p.shares });
  }
  for (const id of opts.restored?.fillIds ?? []) booked.add(id);
  for (const f of opts.fills ?? []) book(f);

  /** An order re-adopted at start: its Order update, and its fill once confirmed, as the executor would. */
  function onAdopted(rt: AgentRuntime, r: OrderReport, s: OrderState): void {
    const q = s.request;
    rt.publish(channels.orders, orderRecord(s, TIF[q.type] ?? 'IOC'));
    if (r.fill?.settlement !== 'confirmed') return;
    counts.adoptedFills++;
    const fill = fillRecord(q, r.fill, rt.clock.now());
    rt.publish(channels.fills, fill);
  }

  async function venueRun(rt: AgentRuntime, venue: Venue): Promise<ReconcileRun> {
    const vc = opts.live.venueClients.get(venue)!;
    const orders = opts.live.liveClients.get(venue)?.orderStates() ?? [];
    const ours = [...positions.values()].filter((p) => p.venue === venue);
    const ts = rt.clock.now();
    try {
      // Polymarket reads balances per token: the tokens we hold or have orders in
      let queries: PositionQuery[] | undefined;
      if (venue === 'polymarket') {
        const tokens = new Map<string, PositionQuery>();
        for (const x of [
          ...ours.map((p) => ({ marketId: p.marketId, tokenId: p.tokenId })),
          ...orders.map((o) => ({ marketId: o.request.marketId, tokenId: o.request.tokenId })),
        ]) {
          const facts = opts.live.polymarketFacts(x.marketId) ?? { protocol: 'v1' as const, negRisk: false };
          tokens.set(x.tokenId, { ...x, polymarket: facts });
        }
        queries = [...tokens.values()];
      }
      const [held, open, bal] = await Promise.all([vc.positions(queries), vc.openOrders(), vc.balance()]);
      const quiet = open.length === 0 && !orders.some((o) => OPEN.has(o.status));
      const theirs: VenueView = {
        positions: held.map((p) => ({ marketId: p.marketId, tokenId: p.tokenId, shares: p.shares })),
        openOrders: open.map((o) => ({
          venueOrderId: o.venueOrderId,
          clientOrderId: o.clientOrderId,
          marketId: o.marketId,
          tokenId: o.tokenId,
          shares: o.shares,
          filledShares: o.filledShares,
        })),
        ...(quiet && baseline.has(venue) ? { cash: bal.available } : {}),
        ...(queries ? { coveredTokens: new Set(queries.map((q) => q.tokenId)) } : {}),
      };
      const mine: OurView = {
        positions: ours,
        orders,
        ...(quiet && baseline.has(venue) ? { cash: baseline.get(venue)! + (flow.get(venue) ?? 0) } : {}),
      };
      const cfg = rt.config.live;
      // reported from a cent; halting from RECONCILE_HALT_CASH_USD
      const tol = { cash: Math.min(10_000, cfg.reconcileHaltCashUsd) };
      const mismatches = reconcile(venue, theirs, mine, tol);
      // the cash baseline: the balance of the first run on which positions and orders agree and none is open
      if (!baseline.has(venue) && quiet && mismatches.length === 0) {
        baseline.set(venue, bal.available);
        flow.set(venue, 0);
      }
      const worthy = haltWorthy(mismatches, {
        positionShares: cfg.reconcileHaltShares,
        cash: cfg.reconcileHaltCashUsd,
      });
      return {
        venue,
        ts,
        mismatches,
        haltWorthy: worthy,
        halting: [],
        positions: held.filter((p) => p.shares !== 0).length,
        openOrders: open.length,
        cash: bal.available,
      };
    } catch (e) {
      counts.errors++;
      return {
        venue,
        ts,
        mismatches: [],
        haltWorthy: [],
        halting: [],
        positions: 0,
        openOrders: 0,
        cash: 0,
        error: errorText(e),
      };
    }
  }

  async function runAll(rt: AgentRuntime): Promise<ReconcileRun[]> {
    const read: ReconcileRun[] = [];
    for (const venue of opts.live.venues) read.push(await venueRun(rt, venue));
    counts.runs++;
    // halt only on what was halt-worthy on the previous run too (both sides read ms apart: fills in flight)
    const now = new Set(read.flatMap((r) => r.haltWorthy.map(key)));
    const confirmed = new Set([...now].filter((k) => lastHaltKeys.has(k)));
    lastHaltKeys = now;
    const halting: Mismatch[] = [];
    const runs: ReconcileRun[] = [];
    for (const r0 of read) {
      const h = r0.haltWorthy.filter((m) => confirmed.has(key(m)));
      const r = { ...r0, halting: h };
      runs.push(r);
      halting.push(...h);
      const events = mismatchEvents(r.mismatches, h, () => rt.kernel.ids.next('recon'), r.ts);
      counts.mismatches += events.length;
      for (const ev of events) rt.publish(channels.reconciliation, ev);
    }
    if (halting.length > 0 && !halted) {
      halted = true;
      counts.halts++;
      const ts = rt.clock.now();
      const what = halting
        .map(
          (m) =>
            `${m.venue} ${m.kind} ${m.tokenId ?? m.clientOrderId ?? ''}: venue ${m.venueValue}, ours ${m.ourValue}`,
        )
        .join('; ');
      const halt: SystemCommand = {
        type: 'system',
        command: 'HALT_ALL',
        reason: `reconciliation: ${what}`,
        issuedBy: `reconciler@${rt.kernel.instance}`,
        issuedAt: ts,
      };
      rt.publish(channels.system, halt);
      rt.publish(channels.alerts, {
        type: 'alert',
        level: 'critical',
        title: 'reconciliation: venue and books disagree',
        body: `${what} — trading halted (HALT_ALL); check the venue account, then resume`,
        ts,
      });
    }
    for (const r of runs) opts.onRun?.(r);
    return runs;
  }

  function runOnce(): Promise<ReconcileRun[]> {
    const rt = runtime;
    if (!rt) return Promise.resolve([]);
    running ??= runAll(rt).finally(() => {
      running = undefined;
    });
    return running;
  }

  return {
    name: 'reconciler',
    trading: false,
    async start(rt) {
      runtime = rt;
      opts.live.onAdopted((r, s) => onAdopted(rt, r, s));
      rt.subscribe(channels.fills, (m) => book(m.body));
      // the first run is the caller's, once every agent is up (`run` calls runOnce after the executor started
      // the clients, which re-adopt the journal's orders); then every interval
      timer = rt.clock.every(opts.intervalMs ?? rt.config.live.reconcileIntervalMs, () => void runOnce());
    },
    onSystem(cmd) {
      // one halt per episode: a HALT_ALL in force (ours or anyone's) is not repeated; a RESUME re-arms
      if (cmd.command === 'HALT_ALL') halted = true;
      if (cmd.command === 'RESUME' && cmd.target === undefined) halted = false;
    },
    async stop() {
      timer?.cancel();
      await running;
      runtime = undefined;
    },
    runOnce,
    health(): HealthDetails {
      return { ...counts };
    },
  };
}
