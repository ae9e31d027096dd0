/**
 * The paper execution client of one venue: the ExecutionClient interface (types.ts) over the paper fill model
 * (paper.ts), on the injected clock.
 *
 * - An order reaches the venue after a latency drawn from the venue's own seeded distribution (latency.ts), so the
 *   legs of one request arrive independently, each against the book as it is when it arrives.
 * - FAK takes what the book gives within the limit and cancels the rest; FOK fills in full or is cancelled.
 * - GTC/GTD take what crosses at arrival and rest the remainder at the back of the queue at their price: the
 *   shares the book shows at that price then are ahead of it. Trades at its price consume that queue first; only
 *   volume beyond it fills the order (as maker, at its price). A level that shrinks below the queue ahead shortens
 *   it; a trade through the price, or a book that crosses it, fills it at once. GTD expires at `expiresAt`.
 * - Every outcome is a typed report (status + reason code) to the listeners, applied to the client's own record
 *   of the order by the order state machine (order-state.ts). Submitting a client order id twice changes nothing.
 * - A cancel reaches a paper order at once, even while it travels (a simplification: a real cancel races it).
 * - `mayTrade` (the executor's lease, src/execution/lease.ts) is asked right before an order would take from the
 *   book or fill: when it says no (the executor was paused past its lease, SIGSTOP, and another took over), the
 *   order is cancelled (`fenced_out`) instead, so a fenced-out executor produces no fill.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Market, TradePrint, Venue } from '../core/messages.ts';
import { instrumentKey, VENUES } from '../core/messages.ts';
import type { Price, Qty } from '../core/money.ts';
import { lotSize } from '../risk/rules.ts';
import type { LatencyModel } from './latency.ts';
import { applyReport, isTerminal, newOrderState } from './order-state.ts';
import { type MatchResult, PaperBooks } from './paper.ts';
import type {
  ExecutionClient,
  MarketEvent,
  OrderReport,
  OrderRequest,
  OrderState,
  OrderStatus,
  Preview,
  ReasonCode,
} from './types.ts';

const DONE: Promise<void> = Promise.resolve();

export interface PaperClientOptions {
  readonly venue: Venue;
  readonly clock: Clock;
  readonly latency: LatencyModel;
  /** False: this client's executor is fenced out; its orders end (`fenced_out`) instead of trading. Default: yes. */
  readonly mayTrade?: () => boolean;
}

interface PaperOrder {
  readonly req: OrderRequest;
  state: OrderState;
  market: Market | undefined;
  arrival: TimerHandle | undefined;
  expiry: TimerHandle | undefined;
  /** On the tick grid, set at arrival. */
  limit: Price;
  /** Shares still to fill (the order cut to the lot at arrival). */
  remaining: Qty;
  /** Shares ahead of it in the queue at its price. */
  queueAhead: Qty;
  fillSeq: number;
}

/**
 * Terminal orders kept for `status` and duplicate submits. Why bounded: every order ever sent used to stay in
 * memory for the whole run. A late status query or a redelivered submit comes within minutes, long before
 * 10,000 newer orders have ended (the engine also remembers executed requests).
 */
export const PAPER_CLOSED_ORDERS = 10_000;

export interface PaperExecutionClient extends ExecutionClient {
  /** Orders in flight or resting. */
  openOrders(): number;
}

export function createPaperClient(opts: PaperClientOptions): PaperExecutionClient {
  const { venue, clock } = opts;
  const books = new PaperBooks();
  const markets = new Map<string, Market>();
  const orders = new Map<string, PaperOrder>();
  const open = new Set<PaperOrder>();
  /** Ids of terminal orders, oldest first (a Set iterates in insertion order). */
  const closed = new Set<string>();
  const resting = new Map<string, PaperOrder[]>();
  const listeners: ((r: OrderReport) => void)[] = [];
  let venueSeq = 0;
  let stopped = false;

  function emit(
    o: PaperOrder,
    status: OrderStatus,
    extra: Pick<OrderReport, 'reason' | 'detail' | 'fill'> = {},
  ): void {
    const r: OrderReport = {
      clientOrderId: o.req.clientOrderId,
      venue,
      ...(o.state.venueOrderId ? { venueOrderId: o.state.venueOrderId } : {}),
      status,
      ...extra,
      ts: clock.now(),
    };
    o.state = applyReport(o.state, r);
    if (isTerminal(status)) close(o);
    for (const l of listeners) l(r);
  }

  function close(o: PaperOrder): void {
    open.delete(o);
    closed.add(o.req.clientOrderId);
    if (closed.size > PAPER_CLOSED_ORDERS) {
      const oldest = closed.values().next().value as string;
      closed.delete(oldest);
      orders.delete(oldest);
    }
    o.arrival?.cancel();
    o.expiry?.cancel();
    o.arrival = o.expiry = undefined;
    const k = instrumentKey(venue, o.req.tokenId);
    const list = resting.get(k);
    const i = list?.indexOf(o) ?? -1;
    if (i >= 0) {
      list!.splice(i, 1);
      if (list!.length === 0) resting.delete(k);
    }
  }

  /** True (and the order ended `fenced_out`) when the executor may no longer trade. */
  function fencedOut(o: PaperOrder): boolean {
    if (!opts.mayTrade || opts.mayTrade()) return false;
    end(o, 'cancelled', 'fenced_out', 'the executor lost its lease: a newer executor holds the account');
    return true;
  }

  function fills(o: PaperOrder, res: MatchResult): void {
    for (const p of res.pieces) {
      o.remaining -= p.shares;
      emit(o, o.remaining <= 0 ? 'filled' : 'partially_filled', {
        fill: {
          fillId: `${o.req.clientOrderId}:${++o.fillSeq}`,
          price: p.price,
          shares: p.shares,
          fee: p.fee,
          liquidity: p.liquidity,
          settlement: 'confirmed',
        },
      });
    }
  }

  function arrive(o: PaperOrder): void {
    o.arrival = undefined;
    if (fencedOut(o)) return;
    const req = o.req;
    o.state = { ...o.state, venueOrderId: `${venue}-paper-${++venueSeq}` };
    const market = markets.get(req.marketId);
    o.market = market;
    const prep = books.prepare(market, req);
    if ('code' in prep) {
      emit(o, 'rejected', { reason: prep.code, detail: prep.reason });
      return;
    }
    o.limit = prep.limit;
    o.remaining = prep.shares;
    if (req.type === 'FOK') {
      const dry = books.take(market, req.tokenId, req, false);
      if (dry.filled < prep.shares) {
        emit(o, 'cancelled', {
          reason: 'fok_not_fillable',
          detail: dry.reason ?? 'cannot fill in full',
        });
        return;
      }
    }
    const res = books.take(market, req.tokenId, req);
    const immediate = req.type === 'FAK' || req.type === 'FOK';
    if (immediate && res.filled === 0 && (res.code === 'no_book' || res.code === 'book_stale')) {
      emit(o, 'rejected', { reason: res.code, detail: res.reason });
      return;
    }
    fills(o, res);
    if (o.remaining <= 0) return;
    if (immediate) {
      emit(o, 'cancelled', { reason: res.code ?? 'depth_exhausted', detail: res.reason });
      return;
    }
    // rest at the back of the queue at its price
    o.queueAhead = books.levelSize(venue, req.tokenId, req.side, o.limit);
    const k = instrumentKey(venue, req.tokenId);
    let list = resting.get(k);
    if (!list) {
      list = [];
      resting.set(k, list);
    }
    list.push(o);
    if (o.state.status === 'new') emit(o, 'acknowledged');
    if (req.type === 'GTD' && req.expiresAt !== undefined)
      o.expiry = clock.at(req.expiresAt, () => end(o, 'expired', 'expired', 'order expired'));
  }

  function end(o: PaperOrder, status: OrderStatus, reason: ReasonCode, detail: string): void {
    if (isTerminal(o.state.status)) return;
    emit(o, status, { reason, detail });
  }

  function onBook(tokenId: string): void {
    const list = resting.get(instrumentKey(venue, tokenId));
    if (!list) return;
    for (const o of [...list]) {
      const level = books.levelSize(venue, tokenId, o.req.side, o.limit);
      if (level < o.queueAhead) o.queueAhead = level;
      // a fenced-out executor's resting orders end at the next book of their instrument
      if (fencedOut(o)) continue;
      const res = books.crossResting(o.market!, tokenId, o.req.side, o.limit, o.remaining);
      if (res.filled === 0) continue;
      o.queueAhead = 0;
      fills(o, res);
    }
  }

  function onTrade(t: TradePrint): void {
    const list = resting.get(instrumentKey(venue, t.tokenId));
    if (!list) return;
    const lot = lotSize(venue);
    for (const o of [...list]) {
      // a taker on our side trades against the other side of the book, not our level
      if (t.side === o.req.side) continue;
      const buy = o.req.side === 'buy';
      const through = buy ? t.price < o.limit : t.price > o.limit;
      if (!through && t.price !== o.limit) continue;
      let volume = t.size;
      if (through) o.queueAhead = 0;
      else {
        const ahead = Math.min(volume, o.queueAhead);
        o.queueAhead -= ahead;
        volume -= ahead;
      }
      let q = Math.min(volume, o.remaining);
      q -= q % lot;
      if (q > 0 && !fencedOut(o)) fills(o, books.maker(o.market!, o.limit, q));
    }
  }

  function cancelOne(o: PaperOrder, reason: ReasonCode, detail: string): void {
    if (!open.has(o)) return;
    end(o, 'cancelled', reason, detail);
  }

  return {
    venue,
    mode: 'paper',
    // Not `async`: the paper venue works synchronously, and an invariant a report breaks downstream must throw to
    // the caller (the executor's handler faults), not vanish into a rejected promise.
    submit(req) {
      if (stopped || orders.has(req.clientOrderId)) return DONE;
      if (req.venue !== venue) throw new Error(`the ${venue} paper client got an order for ${req.venue}`);
      const o: PaperOrder = {
        req,
        state: newOrderState(req, clock.now()),
        market: undefined,
        arrival: undefined,
        expiry: undefined,
        limit: req.limitPrice,
        remaining: req.shares,
        queueAhead: 0,
        fillSeq: 0,
      };
      orders.set(req.clientOrderId, o);
      open.add(o);
      const ms = opts.latency.sample();
      if (ms <= 0) arrive(o);
      else o.arrival = clock.after(ms, () => arrive(o));
      return DONE;
    },
    cancel(clientOrderId) {
      const o = orders.get(clientOrderId);
      if (o) cancelOne(o, 'cancel_requested', 'cancel requested');
      return DONE;
    },
    cancelAll(scope) {
      for (const o of [...open])
        if (!scope?.marketId || o.req.marketId === scope.marketId)
          cancelOne(o, 'cancel_requested', 'cancel requested');
      return DONE;
    },
    async status(clientOrderId) {
      return orders.get(clientOrderId)?.state;
    },
    onReport(listener) {
      listeners.push(listener);
      return () => {
        const i = listeners.indexOf(listener);
        if (i >= 0) listeners.splice(i, 1);
      };
    },
    onMarketData(e: MarketEvent) {
      if (e.venue !== venue || stopped) return;
      switch (e.type) {
        case 'market':
          markets.set(e.marketId, e);
          return;
        case 'book':
          books.onBook(e);
          if (resting.size > 0) onBook(e.tokenId);
          return;
        case 'trade':
          if (resting.size > 0) onTrade(e);
          return;
        case 'resolution': {
          const m = markets.get(e.marketId);
          if (m) markets.set(e.marketId, { ...m, status: 'resolved', winner: e.winner });
          // the market stays known (an order for it is refused as not open), its books go
          for (const o of m?.outcomes ?? []) books.forget(venue, o.tokenId);
          for (const o of [...open])
            if (o.req.marketId === e.marketId && !o.arrival)
              cancelOne(o, 'market_resolved', 'market resolved');
          return;
        }
      }
    },
    preview(req): Preview {
      const res = books.take(markets.get(req.marketId), req.tokenId, req, false);
      return {
        fillable: res.filled,
        ...(res.code ? { reason: res.code } : {}),
        ...(res.reason ? { detail: res.reason } : {}),
      };
    },
    async stop() {
      stopped = true;
      for (const o of open) {
        o.arrival?.cancel();
        o.expiry?.cancel();
      }
    },
    openOrders: () => open.size,
  };
}

/** One paper client per venue, each with its own latency model. */
export function createPaperClients(opts: {
  readonly clock: Clock;
  readonly latency: (venue: Venue) => LatencyModel;
  readonly mayTrade?: () => boolean;
}): Map<Venue, PaperExecutionClient> {
  return new Map(
    VENUES.map((v) => [
      v,
      createPaperClient({
        venue: v,
        clock: opts.clock,
        latency: opts.latency(v),
        ...(opts.mayTrade ? { mayTrade: opts.mayTrade } : {}),
      }),
    ]),
  );
}
