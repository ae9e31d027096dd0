/**
 * The live order contract every venue client implements (Polymarket CLOB V2, Kalshi): what goes in (a fully
 * specified order with a deterministic client order id), what comes back (typed results with typed statuses and
 * reason codes, never a status read from an error's wording), and the reads reconciliation needs.
 *
 * This sits below the kernel's execution interface (src/execution/): an adapter there maps these results onto the
 * venue-neutral order state machine. Money is exact: prices and sizes in micro-units (core/money.ts).
 */
import type { Side, Venue } from '../../core/messages.ts';
import type { Money, Price, Qty } from '../../core/money.ts';

/** Order types as the venues name them: IOC maps to FAK (Polymarket) / immediate_or_cancel (Kalshi). */
export type LiveOrderType = 'GTC' | 'GTD' | 'FOK' | 'FAK';

/** Polymarket facts an order needs that travel on the market record (tick, neg-risk exchange, protocol version). */
export interface PolymarketOrderFacts {
  /** Gamma `version`: "v1" → CTF exchange V2 (domain "2"), "v2" → ExchangeV3 (domain "3"). */
  readonly protocol: 'v1' | 'v2';
  /** Neg-risk markets settle through the neg-risk CTF exchange (protocol v1 only). */
  readonly negRisk: boolean;
}

export interface LiveOrderSpec {
  /** Deterministic, from the trade request id and leg index (ids.ts): the idempotency key at the venue. */
  readonly clientOrderId: string;
  readonly requestId: string;
  readonly legIndex: number;
  readonly venue: Venue;
  /** Polymarket condition id; Kalshi market ticker. */
  readonly marketId: string;
  /** Polymarket token/position id (decimal string); Kalshi `<ticker>:yes` / `<ticker>:no`. */
  readonly tokenId: string;
  readonly side: Side;
  readonly limitPrice: Price;
  readonly shares: Qty;
  readonly type: LiveOrderType;
  /** GTD only: epoch ms after which the order is dead. */
  readonly expiresAt?: number;
  readonly postOnly?: boolean;
  /** Epoch ms the order was decided at (from the injected clock); Polymarket signs it, so a rebuild is identical. */
  readonly createdAt: number;
  /** Market tick size, micro-units (from the market record). */
  readonly tickSize: Price;
  readonly polymarket?: PolymarketOrderFacts;
}

/** Where an order stands at the venue, as far as the client knows. */
export type LiveOrderStatus =
  /** Sent, outcome not known yet (a timeout or dropped connection; resolved by a lookup, never by resending blind). */
  'pending' | 'open' | 'partially_filled' | 'filled' | 'cancelled' | 'rejected' | 'expired';

export const TERMINAL_STATUSES: ReadonlySet<LiveOrderStatus> = new Set([
  'filled',
  'cancelled',
  'rejected',
  'expired',
]);

/** Why an order (or a cancel) was refused: typed, mapped once at the venue edge. */
export type RejectReason =
  /** Refused here before sending: the per-order or per-day notional cap (LIVE_MAX_ORDER_USD / LIVE_MAX_DAILY_USD). */
  | 'cap_exceeded'
  | 'insufficient_funds'
  | 'invalid_price'
  | 'invalid_size'
  | 'post_only_would_cross'
  | 'fok_not_filled'
  | 'no_liquidity'
  | 'market_closed'
  | 'trading_paused'
  | 'duplicate'
  | 'bad_signature'
  | 'unauthorized'
  | 'rate_limited'
  | 'invalid_order'
  | 'not_found'
  | 'unsupported'
  | 'other';

export interface LiveOrderState {
  readonly venue: Venue;
  readonly clientOrderId: string;
  /** Polymarket order hash; Kalshi order_id. */
  readonly venueOrderId: string;
  readonly marketId: string;
  readonly tokenId: string;
  readonly side: Side;
  readonly limitPrice: Price;
  readonly shares: Qty;
  readonly filledShares: Qty;
  readonly status: LiveOrderStatus;
  readonly reason?: RejectReason;
}

/**
 * A fill's settlement state. Kalshi fills are final when reported; Polymarket fills are provisional until the
 * user channel says CONFIRMED (MATCHED → MINED → CONFIRMED), and a FAILED trade is undone.
 */
export type FillSettlement = 'provisional' | 'confirmed' | 'failed';

export interface LiveFill {
  readonly venue: Venue;
  /** Venue trade/fill id; with `settlement` the key that makes reports idempotent. */
  readonly fillId: string;
  readonly venueOrderId: string;
  readonly clientOrderId?: string;
  readonly marketId: string;
  readonly tokenId: string;
  readonly side: Side;
  readonly price: Price;
  readonly shares: Qty;
  readonly fee: Money;
  readonly liquidity: 'taker' | 'maker';
  readonly settlement: FillSettlement;
  /** Venue time of the match (epoch ms) when given, else the receive time. */
  readonly ts: number;
}

/** What the user channels (and the polling fallback) report. */
export type LiveReport =
  | {
      readonly kind: 'order';
      readonly order: LiveOrderState;
      readonly ts: number;
      readonly source: ReportSource;
    }
  | { readonly kind: 'fill'; readonly fill: LiveFill; readonly source: ReportSource };

export type ReportSource = 'socket' | 'poll' | 'response';

/** Definitively refused: the venue did nothing (or the client refused before sending). */
export interface Rejection {
  readonly kind: 'rejected';
  readonly reason: RejectReason;
  /** HTTP status (0 for a refusal before sending). */
  readonly status: number;
  /** The venue's message, for people only. */
  readonly message: string;
}

/** One answer that does not say whether the venue acted: timeout, dropped connection, 5xx. */
export interface Ambiguous {
  readonly kind: 'ambiguous';
  readonly status: number;
  readonly message: string;
}

/**
 * The venue could not be asked what happened. For an order: it may exist, stays `pending`, keeps its cap
 * reservation, and a later `lookup` (polling, reconciliation) settles it. Never resend blind.
 */
export interface Unknown {
  readonly kind: 'unknown';
  readonly message: string;
}

export type SubmitResult =
  /** The venue has the order (it may already be filled). */
  | { readonly kind: 'accepted'; readonly order: LiveOrderState; readonly resolvedBy: 'response' | 'lookup' }
  | Rejection
  | Unknown;

export type CancelResult =
  | { readonly kind: 'cancelled'; readonly venueOrderId: string }
  | Rejection
  | Unknown;

export interface CancelAllResult {
  /** Venue order ids the venue reported cancelled. */
  readonly cancelled: readonly string[];
  /** Ids the venue refused to cancel, with why (already filled, …). */
  readonly failed: readonly { readonly venueOrderId: string; readonly message: string }[];
}

export interface LivePosition {
  readonly venue: Venue;
  readonly marketId: string;
  readonly tokenId: string;
  /** Shares held (micro-shares, ≥ 0). Kalshi's signed position is split into the `:yes` or `:no` token. */
  readonly shares: Qty;
}

export interface LiveBalance {
  readonly venue: Venue;
  /** Collateral available to trade (pUSD on Polymarket, USD on Kalshi), micro-dollars. */
  readonly available: Money;
}

/** Amend (Kalshi): new limit and/or new total size (filled + desired remaining). */
export interface AmendSpec {
  readonly limitPrice: Price;
  readonly shares: Qty;
  /** New client order id after the amend (Kalshi keeps both). */
  readonly newClientOrderId?: string;
}

export type AmendResult = { readonly kind: 'amended'; readonly order: LiveOrderState } | Rejection | Unknown;

/** An order the venue's rules cannot express (off tick, bad size), found before sending. */
export class OrderSpecError extends Error {
  override name = 'OrderSpecError';
  readonly reason: 'invalid_price' | 'invalid_size' | 'invalid_order';
  constructor(reason: 'invalid_price' | 'invalid_size' | 'invalid_order', message: string) {
    super(message);
    this.reason = reason;
  }
}

/** A venue's live order client. Every method is safe to call again; none throws for a venue refusal. */
export interface VenueOrderClient {
  readonly venue: Venue;
  /** Builds and signs the exact request `submit` would send, without sending it (shadow mode, audit). */
  prepare(spec: LiveOrderSpec): Promise<PreparedOrder>;
  /**
   * Sends the order once. A timeout, dropped connection or 5xx is resolved by looking the order up by its client
   * order id before any resend, and a resend is byte-identical (same id, same signature), so the venue holds at
   * most one order per client order id.
   */
  submit(spec: LiveOrderSpec): Promise<SubmitResult>;
  /** Kalshi only; Polymarket answers `rejected/unsupported`. */
  amend(order: LiveOrderState, amend: AmendSpec): Promise<AmendResult>;
  cancel(order: Pick<LiveOrderState, 'venueOrderId' | 'marketId'>): Promise<CancelResult>;
  /** Cancels every open order of the account on this venue. */
  cancelAll(): Promise<CancelAllResult>;
  /** The order as the venue has it now, found by client order id; undefined when the venue has no such order. */
  lookup(spec: LiveOrderSpec): Promise<LiveOrderState | undefined>;
  openOrders(): Promise<LiveOrderState[]>;
  /** Fills since `sinceMs` (epoch ms). */
  fills(sinceMs: number): Promise<LiveFill[]>;
  /** Positions; Polymarket needs the token ids to ask about (the CLOB reads balances per token). */
  positions(tokens?: readonly PositionQuery[]): Promise<LivePosition[]>;
  balance(): Promise<LiveBalance>;
  close(): Promise<void>;
}

export interface PositionQuery {
  readonly marketId: string;
  readonly tokenId: string;
  readonly polymarket?: PolymarketOrderFacts;
}

/** The request `submit` would send: venue, the client order id, its venue id where computable, and the body. */
export interface PreparedOrder {
  readonly venue: Venue;
  readonly clientOrderId: string;
  /** Polymarket: the order hash (known before sending); Kalshi: undefined until the venue assigns one. */
  readonly venueOrderId?: string;
  readonly method: 'POST';
  readonly path: string;
  /** The JSON body exactly as it would go out (signature included, no API secrets). */
  readonly body: unknown;
  /** Notional the caps count for this order, micro-dollars. */
  readonly notional: Money;
}
