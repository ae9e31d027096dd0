/**
 * A live venue order client (Polymarket CLOB V2, Kalshi) behind the kernel's ExecutionClient interface: order
 * requests in through `specFromRequest`, results and the report stream (user channel + polling) out as typed order
 * reports through `to-execution.ts`, each applied to the client's record of the order by the order state machine.
 *
 * What the request does not carry (tick, Polymarket protocol facts, the decision time that Polymarket signs) comes
 * from `facts`, read from the market record by the caller. A submit whose outcome the venue could not tell
 * (`unknown`) leaves the order `new` and rejects, so the executor knows to ask `status` later; the report stream
 * settles it meanwhile. Nothing here reads an error's wording.
 */

import { orderNotional } from '../../venues/live/caps.ts';
import type { ReportStream } from '../../venues/live/reports.ts';
import type { LiveOrderSpec, LiveReport, VenueOrderClient } from '../../venues/live/types.ts';
import { applyReport, isDone, isTerminal, newOrderState } from '../order-state.ts';
import type { ExecutionClient, MarketEvent, OrderReport, OrderRequest, OrderState } from '../types.ts';
import type { OrderJournal } from './order-journal.ts';
import { reportFromLive, reportFromSubmit, type SpecFacts, specFromRequest } from './to-execution.ts';

export interface LiveExecutionClientOptions {
  readonly client: VenueOrderClient;
  /** The venue's report stream; started by `start()`. */
  readonly reports?: ReportStream;
  readonly now: () => number;
  /** Market facts for a request; undefined = the market is unknown (the order is rejected unsent). */
  readonly facts: (req: OrderRequest) => SpecFacts | undefined;
  /** 'shadow': the client given is the shadow recorder (orders built and logged, not sent). */
  readonly mode?: 'live' | 'shadow';
  /**
   * When this process started (default: when the client was made). An order of a decision made before it may
   * already be at the venue (a redelivery after a restart): it is looked up by client order id first and, when
   * found, tracked instead of sent again — a venue may accept a used client id once its order is done.
   */
  readonly startedAt?: number;
  /** Market data from the bus (where `facts` reads ticks and neg-risk from). */
  readonly onMarketData?: (e: MarketEvent) => void;
  /**
   * The journal of orders sent (order-journal.ts): written before each order leaves; at `start()` the orders an
   * earlier process sent and never saw end are re-adopted (looked up by client order id and tracked again).
   */
  readonly journal?: OrderJournal;
  /**
   * Reports of re-adopted orders (no executor run waits for them): whoever books them (the reconciler publishes
   * their Orders and Fills). An order is re-adopted only until a redelivered decision submits it again.
   */
  readonly onAdopted?: (r: OrderReport, state: OrderState) => void;
}

/** The live ExecutionClient, with what reconciliation reads: the order state machine's orders. */
export interface LiveExecutionClient extends ExecutionClient {
  /** Every order this client tracks (sent by this process, or re-adopted at start). */
  orderStates(): OrderState[];
  /** Client order ids re-adopted at start. */
  adopted(): string[];
}

/** A journalled order the venue does not know this long after it was sent never reached it. */
const ABANDON_AFTER_MS = 10 * 60_000;

/** Early fills kept for orders not known yet, by venue order id (oldest dropped first). */
const EARLY_LIMIT = 1_000;

interface Tracked {
  spec: LiveOrderSpec | undefined;
  state: OrderState;
  /** Re-adopted at start: its reports go to `onAdopted` (kept here too, for a redelivered decision). */
  adopted?: OrderReport[];
}

export function createLiveExecutionClient(opts: LiveExecutionClientOptions): LiveExecutionClient {
  const { client, now } = opts;
  const venue = client.venue;
  const orders = new Map<string, Tracked>();
  const byVenueId = new Map<string, string>();
  const listeners: ((r: OrderReport) => void)[] = [];
  const startedAt = opts.startedAt ?? now();
  /**
   * Fills naming a venue order id not known yet, by that id. A venue may report an order's first fills before the
   * submit reply that names the order arrives (the Polymarket user channel knows the order hash only, and an IOC
   * order that matched at once has its trade events sent ahead of the POST /order reply): they wait here and are
   * applied as soon as a report maps the id to our order. Bounded; the report stream also leaves them unseen, so
   * polling delivers them again if they are dropped from here.
   */
  const early = new Map<string, LiveReport[]>();

  function emit(r: OrderReport): void {
    const t = orders.get(r.clientOrderId);
    if (!t) return;
    t.state = applyReport(t.state, r);
    const learnt = r.venueOrderId !== undefined && !byVenueId.has(r.venueOrderId);
    if (r.venueOrderId) byVenueId.set(r.venueOrderId, r.clientOrderId);
    if (t.spec && isTerminal(t.state.status)) {
      opts.reports?.untrack(r.clientOrderId);
      // ended: a later process need not ask about it (its fills still arrive by the report stream meanwhile)
      if (isDone(t.state)) opts.journal?.done(r.clientOrderId);
    }
    if (t.adopted) {
      t.adopted.push(r);
      opts.onAdopted?.(r, t.state);
    } else for (const l of listeners) l(r);
    if (learnt) {
      const waiting = early.get(r.venueOrderId!);
      early.delete(r.venueOrderId!);
      for (const f of waiting ?? []) onLive(f);
    }
  }

  /** A report from the stream, applied to our order; `false` when it is for no order we know (yet). */
  function onLive(live: LiveReport): boolean {
    const vid = live.kind === 'order' ? live.order.venueOrderId : live.fill.venueOrderId;
    // an empty client id (the Polymarket user channel has none) falls back to the venue order id
    const id =
      (live.kind === 'order' ? live.order.clientOrderId : live.fill.clientOrderId) || byVenueId.get(vid);
    const t = id === undefined ? undefined : orders.get(id);
    if (id === undefined || !t) {
      // an order update is superseded by the submit reply that comes after it; a fill is not: it is kept
      if (live.kind === 'fill' && vid) {
        const kept = early.get(vid) ?? [];
        const same = (x: LiveReport): boolean =>
          x.kind === 'fill' &&
          x.fill.fillId === live.fill.fillId &&
          x.fill.settlement === live.fill.settlement;
        if (!kept.some(same)) {
          if (!early.has(vid) && early.size >= EARLY_LIMIT) early.delete(early.keys().next().value!);
          early.set(vid, [...kept, live]);
        }
      }
      return false;
    }
    const withId =
      live.kind === 'order'
        ? { ...live, order: { ...live.order, clientOrderId: id } }
        : { ...live, fill: { ...live.fill, clientOrderId: id } };
    const r = reportFromLive(withId, t.state.status);
    // a terminal order's late order update says nothing new; its late fills still count
    if (r && !(live.kind === 'order' && isTerminal(t.state.status) && r.status !== t.state.status)) emit(r);
    return true;
  }

  /** The orders an earlier process sent and never saw end: tracked again, each looked up once now. */
  async function adoptFromJournal(): Promise<void> {
    for (const e of opts.journal?.pending ?? []) {
      if (e.spec.venue !== venue || orders.has(e.spec.clientOrderId)) continue;
      const t: Tracked = { spec: e.spec, state: newOrderState(e.req, e.at), adopted: [] };
      orders.set(e.spec.clientOrderId, t);
      opts.reports?.track(e.spec);
    }
    for (const [id, t] of orders) {
      if (!t.adopted || !t.spec) continue;
      let found: Awaited<ReturnType<VenueOrderClient['lookup']>>;
      try {
        found = await client.lookup(t.spec);
      } catch {
        continue; // the venue could not be asked: the report stream keeps asking
      }
      if (!found) {
        // not found: still on its way (a slow venue), or it never arrived — after ABANDON_AFTER_MS it cannot
        // arrive any more (requests time out long before), so it is dropped from tracking and the journal
        if (now() - t.state.createdAt > ABANDON_AFTER_MS) {
          orders.delete(id);
          opts.reports?.untrack(id);
          opts.journal?.done(id);
        }
        continue;
      }
      const order = { ...found, clientOrderId: id };
      const r = reportFromLive({ kind: 'order', order, ts: now(), source: 'poll' }, t.state.status);
      if (r) emit(r);
    }
  }

  function cancelledReport(clientOrderId: string, venueOrderId: string): OrderReport {
    return { clientOrderId, venue, venueOrderId, status: 'cancelled', reason: 'cancel_requested', ts: now() };
  }

  return {
    venue,
    mode: opts.mode ?? 'live',
    async start() {
      opts.reports?.start(onLive);
      await adoptFromJournal();
    },
    async stop() {
      await opts.reports?.stop();
    },
    async submit(req) {
      const known = orders.get(req.clientOrderId);
      if (known?.adopted) {
        // a redelivered decision for an order re-adopted at start: never sent again; its executor run gets the
        // order's story so far and follows it from here
        const history = known.adopted;
        known.adopted = undefined;
        for (const r of history) for (const l of listeners) l(r);
        return;
      }
      if (known) return;
      const t: Tracked = { spec: undefined, state: newOrderState(req, now()) };
      orders.set(req.clientOrderId, t);
      const facts = opts.facts(req);
      if (!facts) {
        emit({
          clientOrderId: req.clientOrderId,
          venue,
          status: 'rejected',
          reason: 'unknown_market',
          ts: now(),
        });
        return;
      }
      t.spec = specFromRequest(req, facts);
      opts.reports?.track(t.spec);
      opts.journal?.sent({ req, spec: t.spec, at: now() });
      if (req.resumed === true || (req.decidedAt !== undefined && req.decidedAt < startedAt)) {
        const found = await client.lookup(t.spec);
        if (found) {
          const order = { ...found, clientOrderId: req.clientOrderId };
          const r = reportFromLive({ kind: 'order', order, ts: now(), source: 'poll' }, t.state.status);
          if (r) emit(r);
          return;
        }
      }
      const res = await client.submit(t.spec);
      const r = reportFromSubmit(req, res, now());
      if (r) emit(r);
      else throw new Error(`${venue} could not say whether it has order ${req.clientOrderId}`);
    },
    async cancel(clientOrderId) {
      const t = orders.get(clientOrderId);
      const vid = t?.state.venueOrderId;
      if (!t || !vid || isTerminal(t.state.status)) return;
      const res = await client.cancel({ venueOrderId: vid, marketId: t.state.request.marketId });
      if (res.kind === 'cancelled' && !isTerminal(t.state.status)) emit(cancelledReport(clientOrderId, vid));
    },
    /**
     * Kalshi: new limit and/or new total size (filled + remaining) of a resting order, under the same client order
     * id. Polymarket has no amend: refused with an error saying so (cancel and place a new order instead). The
     * notional caps were reserved at submit, so an amend may not raise the order's notional; nor go below what
     * has filled. A venue refusal is thrown (the order stays as it was); the amended order is reported.
     */
    async amend(clientOrderId, change) {
      const t = orders.get(clientOrderId);
      const vid = t?.state.venueOrderId;
      if (!t?.spec || !vid || isTerminal(t.state.status))
        throw new Error(`${venue}: order ${clientOrderId} is not resting here: nothing to amend`);
      const q = t.state.request;
      const limitPrice = change.limitPrice ?? q.limitPrice;
      const shares = change.shares ?? q.shares;
      if (shares <= t.state.filledShares)
        throw new Error(
          `${venue}: amend of ${clientOrderId} to ${shares} shares, not above the ${t.state.filledShares} filled`,
        );
      if (orderNotional({ limitPrice, shares }) > orderNotional(t.spec))
        throw new Error(
          `${venue}: amend of ${clientOrderId} would raise its notional above what the caps allowed at submit; cancel and submit a new order`,
        );
      const res = await client.amend(
        {
          venue,
          clientOrderId,
          venueOrderId: vid,
          marketId: q.marketId,
          tokenId: t.spec.tokenId,
          side: q.side,
          limitPrice: t.spec.limitPrice,
          shares: t.spec.shares,
          filledShares: t.state.filledShares,
          status: t.state.filledShares > 0 ? 'partially_filled' : 'open',
        },
        { limitPrice, shares },
      );
      if (res.kind === 'rejected')
        throw new Error(`${venue}: amend of ${clientOrderId} refused (${res.reason}): ${res.message}`);
      if (res.kind === 'unknown')
        throw new Error(`${venue}: amend of ${clientOrderId} unresolved: ${res.message} (ask status)`);
      t.spec = { ...t.spec, limitPrice, shares };
      t.state = { ...t.state, request: { ...q, limitPrice, shares } };
      const r = reportFromLive(
        { kind: 'order', order: { ...res.order, clientOrderId }, ts: now(), source: 'poll' },
        t.state.status,
      );
      if (r) emit(r);
    },
    async cancelAll(scope) {
      if (scope?.marketId) {
        for (const [id, t] of orders)
          if (t.state.request.marketId === scope.marketId && !isTerminal(t.state.status))
            await this.cancel(id);
        return;
      }
      const res = await client.cancelAll();
      for (const vid of res.cancelled) {
        const id = byVenueId.get(vid);
        const t = id ? orders.get(id) : undefined;
        if (id && t && !isTerminal(t.state.status)) emit(cancelledReport(id, vid));
      }
    },
    async status(clientOrderId) {
      const t = orders.get(clientOrderId);
      if (!t?.spec) return t?.state;
      const found = await client.lookup(t.spec);
      if (found && !isTerminal(t.state.status)) {
        const r = reportFromLive({ kind: 'order', order: found, ts: now(), source: 'poll' }, t.state.status);
        if (r) emit(r);
      }
      return t.state;
    },
    orderStates: () => [...orders.values()].map((t) => t.state),
    adopted: () => [...orders.entries()].filter(([, t]) => t.adopted).map(([id]) => id),
    ...(opts.onMarketData ? { onMarketData: opts.onMarketData } : {}),
    onReport(listener) {
      listeners.push(listener);
      return () => {
        const i = listeners.indexOf(listener);
        if (i >= 0) listeners.splice(i, 1);
      };
    },
  };
}
