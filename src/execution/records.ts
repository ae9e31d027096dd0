/**
 * The bus records of execution: an order's state as an Order message and a confirmed venue fill as a Fill. One
 * builder for the executor's engine and for the reconciler's re-adopted orders, so both publish the same shape.
 */
import type { Fill, Order, TimeInForce } from '../core/messages.ts';
import type { FillReport, OrderRequest, OrderState } from './types.ts';

export function orderRecord(s: OrderState, tif: TimeInForce): Order {
  const q = s.request;
  return {
    type: 'order',
    id: q.clientOrderId,
    requestId: q.requestId,
    strategy: q.strategy,
    legIndex: q.legIndex,
    venue: q.venue,
    marketId: q.marketId,
    tokenId: q.tokenId,
    side: q.side,
    limitPrice: q.limitPrice,
    shares: q.shares,
    filledShares: s.filledShares,
    tif,
    status: s.status,
    ...(s.detail && s.status !== 'filled' ? { reason: s.detail } : {}),
    ...(s.venueOrderId ? { venueOrderId: s.venueOrderId } : {}),
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

/** A venue fill of `q` as the ledger books it (its id is the venue's fill id, so a repeat is the same fill). */
export function fillRecord(q: OrderRequest, f: FillReport, ts: number, bundleId?: string): Fill {
  return {
    type: 'fill',
    id: `${q.venue}:${f.fillId}`,
    orderId: q.clientOrderId,
    requestId: q.requestId,
    strategy: q.strategy,
    venue: q.venue,
    marketId: q.marketId,
    tokenId: q.tokenId,
    side: q.side,
    price: f.price,
    shares: f.shares,
    fee: f.fee,
    liquidity: f.liquidity,
    kind: q.purpose === 'unwind' ? 'unwind' : 'trade',
    ts,
    ...(bundleId !== undefined ? { bundleId } : {}),
  };
}
