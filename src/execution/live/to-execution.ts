/**
 * The live venue clients' vocabulary → the execution layer's (src/execution/types.ts): order requests in, order
 * reports out. Pure mappings, so the live ExecutionClient that wires a venue client, its report stream and the
 * order state machine together stays a thin shell.
 */

import type {
  LiveFill,
  LiveOrderSpec,
  LiveOrderStatus,
  LiveReport,
  PolymarketOrderFacts,
  RejectReason,
  SubmitResult,
} from '../../venues/live/types.ts';
import type { FillReport, OrderReport, OrderRequest, OrderStatus, ReasonCode } from '../types.ts';

export function toOrderStatus(s: LiveOrderStatus): OrderStatus {
  switch (s) {
    case 'pending':
      return 'new';
    case 'open':
      return 'acknowledged';
    default:
      return s;
  }
}

const REASONS: Readonly<Record<RejectReason, ReasonCode>> = {
  cap_exceeded: 'venue_rejected',
  insufficient_funds: 'insufficient_funds',
  invalid_price: 'off_price_grid',
  invalid_size: 'below_min_size',
  post_only_would_cross: 'invalid_order',
  fok_not_filled: 'fok_not_fillable',
  no_liquidity: 'no_liquidity',
  market_closed: 'market_not_open',
  trading_paused: 'market_not_open',
  duplicate: 'duplicate_order',
  bad_signature: 'venue_rejected',
  unauthorized: 'venue_rejected',
  rate_limited: 'rate_limited',
  invalid_order: 'invalid_order',
  not_found: 'venue_rejected',
  unsupported: 'invalid_order',
  other: 'venue_rejected',
};

export const toReasonCode = (r: RejectReason): ReasonCode => REASONS[r];

export function toFillReport(f: LiveFill): FillReport {
  return {
    fillId: f.fillId,
    price: f.price,
    shares: f.shares,
    fee: f.fee,
    liquidity: f.liquidity,
    settlement: f.settlement,
  };
}

/** What the venue client needs beyond the request: market facts from the market record and the decision time. */
export interface SpecFacts {
  readonly tickSize: number;
  readonly polymarket?: PolymarketOrderFacts;
  /** Epoch ms of the decision; must be the same after a restart (Polymarket signs it into the order id). */
  readonly createdAt: number;
  readonly postOnly?: boolean;
}

export function specFromRequest(req: OrderRequest, facts: SpecFacts): LiveOrderSpec {
  return {
    clientOrderId: req.clientOrderId,
    requestId: req.requestId,
    legIndex: req.legIndex,
    venue: req.venue,
    marketId: req.marketId,
    tokenId: req.tokenId,
    side: req.side,
    limitPrice: req.limitPrice,
    shares: req.shares,
    type: req.type,
    expiresAt: req.expiresAt,
    postOnly: facts.postOnly,
    createdAt: facts.createdAt,
    tickSize: facts.tickSize,
    polymarket: facts.polymarket,
  };
}

/** The report a submit result makes, or undefined for `unknown` (the caller keeps the order `new` and asks later). */
export function reportFromSubmit(req: OrderRequest, r: SubmitResult, ts: number): OrderReport | undefined {
  if (r.kind === 'unknown') return undefined;
  if (r.kind === 'rejected') {
    return {
      clientOrderId: req.clientOrderId,
      venue: req.venue,
      status: 'rejected',
      reason: toReasonCode(r.reason),
      detail: r.message,
      ts,
    };
  }
  const status = toOrderStatus(r.order.status);
  const immediateMiss = status === 'cancelled' && r.order.filledShares === 0 && req.type === 'FOK';
  return {
    clientOrderId: req.clientOrderId,
    venue: req.venue,
    venueOrderId: r.order.venueOrderId,
    status,
    filledShares: r.order.filledShares,
    reason: immediateMiss ? 'fok_not_fillable' : status === 'cancelled' ? 'depth_exhausted' : undefined,
    ts,
  };
}

/** A user-channel / polling report → an order report (its status stays the order's current one for a fill). */
export function reportFromLive(r: LiveReport, currentStatus: OrderStatus): OrderReport | undefined {
  if (r.kind === 'order') {
    if (!r.order.clientOrderId) return undefined;
    return {
      clientOrderId: r.order.clientOrderId,
      venue: r.order.venue,
      venueOrderId: r.order.venueOrderId,
      status: toOrderStatus(r.order.status),
      filledShares: r.order.filledShares,
      ts: r.ts,
    };
  }
  if (!r.fill.clientOrderId) return undefined;
  return {
    clientOrderId: r.fill.clientOrderId,
    venue: r.fill.venue,
    venueOrderId: r.fill.venueOrderId,
    status: currentStatus,
    fill: toFillReport(r.fill),
    ts: r.fill.ts,
  };
}
