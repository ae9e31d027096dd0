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

import type { ReportStream } from '../../venues/live/reports.ts';
import type { LiveOrderSpec, VenueOrderClient } from '../../venues/live/types.ts';
import { applyReport, isTerminal, newOrderState } from '../order-state.ts';
import type { ExecutionClient, MarketEvent, OrderReport, OrderRequest, OrderState } from '../types.ts';
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
}

interface Tracked {
  spec: LiveOrderSpec | undefined;
  state: OrderState;
}

export function createLiveExecutionClient(opts: LiveExecutionClientOptions): ExecutionClient {
  const { client, now } = opts;
  const venue = client.venue;
  const orders = new Map<string, Tracked>();
  const byVenueId = new Map<string, string>();
  const listeners: ((r: OrderReport) => void)[] = [];
  const startedAt = opts.startedAt ?? now();

  function emit(r: OrderReport): void {
    const t = orders.get(r.clientOrderId);
    if (!t) return;
    t.state = applyReport(t.state, r);
    if (r.venueOrderId) byVenueId.set(r.venueOrderId, r.clientOrderId);
    if (t.spec && isTerminal(t.state.status)) opts.reports?.untrack(r.clientOrderId);
    for (const l of listeners) l(r);
  }

  function cancelledReport(clientOrderId: string, venueOrderId: string): OrderReport {
    return { clientOrderId, venue, venueOrderId, status: 'cancelled', reason: 'cancel_requested', ts: now() };
  }

  return {
    venue,
    mode: opts.mode ?? 'live',
    async start() {
      opts.reports?.start((live) => {
        const id =
          live.kind === 'order'
            ? (live.order.clientOrderId ?? byVenueId.get(live.order.venueOrderId))
            : (live.fill.clientOrderId ?? byVenueId.get(live.fill.venueOrderId));
        const t = id === undefined ? undefined : orders.get(id);
        if (id === undefined || !t) return;
        const withId =
          live.kind === 'order'
            ? { ...live, order: { ...live.order, clientOrderId: id } }
            : { ...live, fill: { ...live.fill, clientOrderId: id } };
        const r = reportFromLive(withId, t.state.status);
        // a terminal order's late order update says nothing new; its late fills still count
        if (r && !(live.kind === 'order' && isTerminal(t.state.status) && r.status !== t.state.status))
          emit(r);
      });
    },
    async stop() {
      await opts.reports?.stop();
    },
    async submit(req) {
      if (orders.has(req.clientOrderId)) return;
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
