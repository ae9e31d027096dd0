/**
 * The execution layer's contract: one venue-neutral client per venue account, behind which paper, shadow and live
 * execution look the same to the executor agent.
 *
 * - The executor turns each leg of an approved RiskDecision into an `OrderRequest` and hands it to the client of
 *   the leg's venue (`submit`). Legs of one request go to their venues independently: nothing here is atomic
 *   across venues, and a leg that fills while another does not is leg risk, unwound by the executor.
 * - Every outcome comes back as an `OrderReport` on the client's report stream (`onReport`): acknowledged by the
 *   venue, filled (partly), cancelled, rejected, expired — a typed `status` and a typed `reason` code, never text
 *   to be parsed. `detail` is for people only. The order state machine (order-state.ts) applies the reports in
 *   order and refuses an impossible transition (an invariant error, which faults the executor).
 * - Client order ids are ours and deterministic: `clientOrderId(requestId, legIndex)` (ids.ts), so a restart or a
 *   retry re-submits the same id and the venue (or the client's lookup by id) recognises it: never a second order.
 *   A venue whose ids have a format of their own (a UUID, an order hash salt) derives it from ours, one way, and
 *   reports under ours.
 * - Fills may be provisional before they are final (Polymarket: MATCHED → MINED → CONFIRMED, or FAILED): a fill is
 *   reported with `settlement: 'provisional'` and later again, under the same `fillId`, as `confirmed` or
 *   `failed`. Paper fills are confirmed at once. The ledger books confirmed fills; a failed one never counted.
 *
 * Implementations: the paper client (paper-client.ts, every venue, fills against the venue's real book with
 * seeded latency and queue position) now; live Polymarket and Kalshi clients (a `mode` of 'live', or 'shadow':
 * orders built and signed but not sent, filled by the paper model) implement the same interface.
 */
import type { Market, OrderBook, Resolution, Side, TradePrint, Venue } from '../core/messages.ts';
import type { Money, Price, Qty } from '../core/money.ts';

/** paper: simulated fills; live: real orders; shadow: live orders built (and logged) but filled on paper. */
export type ExecutionMode = 'paper' | 'live' | 'shadow';

/**
 * GTC rests until filled or cancelled; GTD rests until `expiresAt`; FOK fills in full at once or not at all;
 * FAK (fill-and-kill, a.k.a. IOC) fills what it can at once and cancels the rest.
 */
export type OrderType = 'GTC' | 'GTD' | 'FOK' | 'FAK';

/** Why an order is where it is. Decisions are made on these codes, never on `detail` text. */
export type ReasonCode =
  // refused before it could trade (status `rejected`)
  | 'unknown_market'
  | 'market_not_open'
  | 'below_lot'
  | 'below_min_size'
  | 'off_price_grid'
  | 'no_inventory'
  | 'insufficient_funds'
  | 'invalid_order'
  | 'duplicate_order'
  | 'halted'
  | 'rate_limited'
  | 'venue_rejected'
  // could not trade (in full) at arrival (status `cancelled`, or `rejected` when nothing was possible)
  | 'no_book'
  | 'book_stale'
  | 'no_liquidity'
  | 'depth_exhausted'
  | 'fok_not_fillable'
  // ended while resting
  | 'cancel_requested'
  | 'expired'
  | 'market_resolved'
  | 'venue_cancelled'
  // a paper executor that lost its lease (fenced out) trades nothing more: its orders end instead of filling
  | 'fenced_out';

/** Where an order is. `new`: submitted, not yet acknowledged; the last four are terminal. */
export type OrderStatus =
  | 'new'
  | 'acknowledged'
  | 'partially_filled'
  | 'filled'
  | 'cancelled'
  | 'rejected'
  | 'expired';

export const TERMINAL_STATUSES: ReadonlySet<OrderStatus> = new Set([
  'filled',
  'cancelled',
  'rejected',
  'expired',
]);

/** What the executor asks a venue to do for one leg. */
export interface OrderRequest {
  /** Ours, deterministic (ids.ts): the same request and leg always give the same id. */
  readonly clientOrderId: string;
  readonly requestId: string;
  readonly legIndex: number;
  readonly strategy: string;
  /** `trade` for a leg of the request, `unwind` for closing leg-risk excess. */
  readonly purpose: 'trade' | 'unwind';
  readonly venue: Venue;
  readonly marketId: string;
  readonly tokenId: string;
  readonly side: Side;
  /** Worst acceptable price, micro-dollars per share. */
  readonly limitPrice: Price;
  /** Micro-shares. */
  readonly shares: Qty;
  readonly type: OrderType;
  /** GTD: epoch ms at which the venue cancels it. */
  readonly expiresAt?: number;
  /**
   * The order may already be at the venue: an execution intent resumed after a restart or by another executor
   * (src/execution/intents.ts). A live client looks it up by client order id before sending it, and tracks it
   * when found (paper clients ignore it: their orders die with their process).
   */
  readonly resumed?: boolean;
  /** Closing leg risk: the market's minimum size does not apply (the lot still does). */
  readonly ignoreMinSize?: boolean;
  /**
   * When the decision was made (epoch ms): the same after a restart, so a live order rebuilt from it is identical
   * (Polymarket signs the time into the order, and its hash is the order's id).
   */
  readonly decidedAt?: number;
}

/** One execution (trade) against an order. */
export interface FillReport {
  /** Unique per venue, stable across provisional → confirmed/failed reports of the same execution. */
  readonly fillId: string;
  readonly price: Price;
  readonly shares: Qty;
  readonly fee: Money;
  readonly liquidity: 'maker' | 'taker';
  readonly settlement: 'provisional' | 'confirmed' | 'failed';
}

/** An execution report for one order: the order's status after the event, and the fill it carries, if any. */
export interface OrderReport {
  readonly clientOrderId: string;
  readonly venue: Venue;
  /** The venue's own id, once it has one. */
  readonly venueOrderId?: string;
  readonly status: OrderStatus;
  readonly reason?: ReasonCode;
  /** For people (logs, the order's reason on the bus); never parsed. */
  readonly detail?: string;
  readonly fill?: FillReport;
  /**
   * The venue's cumulative filled size of the order, where the report states it (a live order update): its fills
   * may come in reports of their own, before or after. The order counts as done once these have arrived.
   */
  readonly filledShares?: Qty;
  /** Venue time of the event where known, else the client's clock. */
  readonly ts: number;
}

/** The state machine's record of one order (order-state.ts). */
export interface OrderState {
  readonly request: OrderRequest;
  readonly venueOrderId: string | undefined;
  readonly status: OrderStatus;
  readonly reason: ReasonCode | undefined;
  readonly detail: string | undefined;
  /** Provisional and confirmed fills (failed ones are taken back out). */
  readonly filledShares: Qty;
  readonly confirmedShares: Qty;
  /** The largest cumulative filled size a report stated (0 when none did). */
  readonly venueFilledShares: Qty;
  /** Σ price × shares (rounded per fill) and Σ fees of the fills counted in `filledShares`. */
  readonly gross: Money;
  readonly fees: Money;
  readonly fills: readonly FillReport[];
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Market data a client may use (the paper client fills against it; live clients may ignore it). */
export type MarketEvent = Market | OrderBook | TradePrint | Resolution;

export interface ExecutionClient {
  readonly venue: Venue;
  readonly mode: ExecutionMode;
  /** Connects what the client needs (user channels, credentials); idempotent. */
  start?(): Promise<void>;
  /** Stops reporting and releases connections; resting orders stay at the venue. */
  stop?(): Promise<void>;
  /**
   * Sends one order. A venue's refusal is a `rejected` report, not an exception. Resolves once the client has
   * taken the order; rejects only when, after its own lookups by client order id, the client cannot tell whether
   * the venue has it (the executor then asks `status` again later). Submitting a client order id twice never
   * makes a second order.
   */
  submit(order: OrderRequest): Promise<void>;
  /** Asks the venue to cancel; the outcome is a report (`cancelled`, or a fill that won the race). */
  cancel(clientOrderId: string): Promise<void>;
  /** Cancels every open order of this client (optionally of one market only): the kill switch's tool. */
  cancelAll(scope?: { readonly marketId?: string }): Promise<void>;
  /** Changes price and/or size of a resting order, where the venue supports it. */
  amend?(
    clientOrderId: string,
    change: { readonly limitPrice?: Price; readonly shares?: Qty },
  ): Promise<void>;
  /** The order as the venue knows it now, by our id; undefined when the venue has never seen it. */
  status(clientOrderId: string): Promise<OrderState | undefined>;
  /** Subscribes to execution reports, in the order the venue produced them; returns an unsubscribe. */
  onReport(listener: (report: OrderReport) => void): () => void;
  /** Market data, for clients that need it (paper matching); optional. */
  onMarketData?(event: MarketEvent): void;
  /**
   * What an order would fill if it arrived now, from the client's view of the book (no order is sent): the
   * executor's pre-trade check of a multi-leg fill-or-kill. Advisory only: the book can move before it arrives.
   */
  preview?(order: OrderRequest): Preview;
}

export interface Preview {
  readonly fillable: Qty;
  readonly reason?: ReasonCode;
  readonly detail?: string;
}
