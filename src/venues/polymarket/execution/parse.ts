/**
 * Polymarket CLOB trading answers → our typed states and fills (shared by the REST client and the user channel).
 * Sizes and prices arrive as decimal strings and are parsed exactly.
 */
import { tradeFee } from '../../../core/fees.ts';
import type { FeeSchedule, Side } from '../../../core/messages.ts';
import { parseMicro, type Qty } from '../../../core/money.ts';
import type { LiveFill, LiveOrderSpec, LiveOrderState, LiveOrderStatus } from '../../live/types.ts';
import type { WireOpenOrder, WireTrade, WireUserOrderEvent } from './wire.ts';

/** Decimal share/price strings from the CLOB → micro-units ('' counts as 0). */
export function amount(s: string | undefined): number {
  if (s === undefined || s === '') return 0;
  return parseMicro(s, 'floor');
}

export function statusFromClob(
  clob: string,
  filled: Qty,
  shares: Qty,
  type: LiveOrderSpec['type'] | string,
): LiveOrderStatus {
  const immediate = type === 'FOK' || type === 'FAK';
  switch (clob.toLowerCase().replace(/^order_status_/, '')) {
    case 'live':
      return filled > 0 ? 'partially_filled' : 'open';
    case 'matched':
      return filled >= shares ? 'filled' : immediate ? 'cancelled' : 'partially_filled';
    case 'delayed':
      return 'pending';
    case 'canceled':
    case 'canceled_market_resolved':
    case 'unmatched':
      return 'cancelled';
    case 'invalid':
      return 'rejected';
    default:
      return 'pending';
  }
}

/** A /data/order record → the order state. */
export function stateFromOpenOrder(o: WireOpenOrder, clientOrderId = ''): LiveOrderState {
  const shares = amount(o.original_size);
  const filled = amount(o.size_matched);
  return {
    venue: 'polymarket',
    clientOrderId,
    venueOrderId: o.id,
    marketId: o.market,
    tokenId: o.asset_id,
    side: o.side === 'BUY' ? 'buy' : 'sell',
    limitPrice: amount(o.price),
    shares,
    filledShares: filled,
    status: statusFromClob(o.status, filled, shares, o.order_type),
  };
}

const feeSchedule = (feeRateBps: string): FeeSchedule => ({
  kind: 'polymarket',
  rate: Math.round(Number(feeRateBps || '0')) * 100,
  exponent: 1,
  takerOnly: true,
  rebateRate: 0,
});

const settlementOf = (status: string): LiveFill['settlement'] =>
  status === 'CONFIRMED' ? 'confirmed' : status === 'FAILED' ? 'failed' : 'provisional';

/**
 * A trade → our fills in it: the taker side when our order took, else each of our maker orders in it. The fee
 * is the operator's rate on the trade (fee_rate_bps) with the V2 formula, taker only.
 */
export function fillsFromTrade(
  t: WireTrade,
  ours: (order: { owner: string; maker: string }) => boolean,
): LiveFill[] {
  const ts = Number(t.match_time) * 1000;
  const settlement = settlementOf(t.status);
  const out: LiveFill[] = [];
  if (t.trader_side === 'TAKER' && ours({ owner: t.owner, maker: t.maker_address })) {
    const price = amount(t.price);
    const shares = amount(t.size);
    out.push({
      venue: 'polymarket',
      fillId: t.id,
      venueOrderId: t.taker_order_id,
      marketId: t.market,
      tokenId: t.asset_id,
      side: t.side === 'BUY' ? 'buy' : 'sell',
      price,
      shares,
      fee: tradeFee(feeSchedule(t.fee_rate_bps), price, shares, 'taker'),
      liquidity: 'taker',
      settlement,
      ts,
    });
    return out;
  }
  for (const m of t.maker_orders) {
    if (!ours({ owner: m.owner, maker: m.maker_address })) continue;
    const side: Side = m.side ? (m.side === 'BUY' ? 'buy' : 'sell') : t.side === 'BUY' ? 'sell' : 'buy';
    out.push({
      venue: 'polymarket',
      fillId: `${t.id}:${m.order_id}`,
      venueOrderId: m.order_id,
      marketId: t.market,
      tokenId: m.asset_id,
      side,
      price: amount(m.price),
      shares: amount(m.matched_amount),
      fee: 0,
      liquidity: 'maker',
      settlement,
      ts,
    });
  }
  return out;
}

/** A user-channel `order` event → the order state (the event knows the order hash, not our client id). */
export function stateFromOrderEvent(e: WireUserOrderEvent): LiveOrderState {
  const shares = amount(e.original_size);
  const filled = amount(e.size_matched);
  let status: LiveOrderStatus;
  if (e.type === 'CANCELLATION') status = 'cancelled';
  else if (e.status) status = statusFromClob(e.status, filled, shares, e.order_type ?? 'GTC');
  else status = filled >= shares && shares > 0 ? 'filled' : filled > 0 ? 'partially_filled' : 'open';
  return {
    venue: 'polymarket',
    clientOrderId: '',
    venueOrderId: e.id,
    marketId: e.market,
    tokenId: e.asset_id,
    side: e.side === 'BUY' ? 'buy' : 'sell',
    limitPrice: amount(e.price),
    shares,
    filledShares: filled,
    status,
  };
}
