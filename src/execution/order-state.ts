/**
 * The order state machine: one record per order, changed only by execution reports, in the order the venue sent
 * them. new → acknowledged → partially filled → filled / cancelled / rejected / expired, with the venue's id.
 *
 * - A report carries the status after its event and at most one fill; a fill is counted once per `fillId`
 *   (provisional, then confirmed or failed; a failed fill is taken back out).
 * - A repeated report (same status, no new fill) changes nothing: reports are at-least-once.
 * - An impossible report — leaving a terminal status, filling a rejected order, more shares than ordered, a second
 *   venue order id — is an invariant broken (`ExecutionInvariantError`): the executor faults and trading halts.
 *   Nothing here reads message text; statuses and reasons are typed codes.
 */
import { InvariantError } from '../core/invariant.ts';
import { notional } from '../core/money.ts';
import {
  type FillReport,
  type OrderReport,
  type OrderRequest,
  type OrderState,
  type OrderStatus,
  TERMINAL_STATUSES,
} from './types.ts';

export class ExecutionInvariantError extends InvariantError {
  override name = 'ExecutionInvariantError';
}

/** Statuses each status may move to (besides itself). */
const NEXT: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  new: ['acknowledged', 'partially_filled', 'filled', 'cancelled', 'rejected', 'expired'],
  acknowledged: ['partially_filled', 'filled', 'cancelled', 'expired'],
  partially_filled: ['filled', 'cancelled', 'expired'],
  filled: [],
  cancelled: [],
  rejected: [],
  expired: [],
};

export const isTerminal = (s: OrderStatus): boolean => TERMINAL_STATUSES.has(s);
export const isOpen = (o: OrderState): boolean => !isTerminal(o.status);
/**
 * Terminal, every fill the venue said it made has arrived, and none is still provisional: nothing more will change
 * its size. A provisional fill (Polymarket MATCHED / MINED) may yet be confirmed — only then is it published as a
 * Fill — or fail and be taken back out, so the order (and its request, which would forget it) is not done before.
 * The venue's matched size still counts a fill that failed on chain: it has arrived, as a failure.
 */
export function isDone(o: OrderState): boolean {
  if (!isTerminal(o.status)) return false;
  let failed = 0;
  for (const f of o.fills) {
    if (f.settlement === 'provisional') return false;
    if (f.settlement === 'failed') failed += f.shares;
  }
  return o.filledShares + failed >= o.venueFilledShares;
}

export function newOrderState(request: OrderRequest, ts: number): OrderState {
  return {
    request,
    venueOrderId: undefined,
    status: 'new',
    reason: undefined,
    detail: undefined,
    filledShares: 0,
    confirmedShares: 0,
    venueFilledShares: 0,
    gross: 0,
    fees: 0,
    fills: [],
    createdAt: ts,
    updatedAt: ts,
  };
}

function bad(o: OrderState, why: string): never {
  throw new ExecutionInvariantError(`order ${o.request.clientOrderId} (${o.status}): ${why}`);
}

/** Applies one report; returns the new record (the old one is not changed). */
export function applyReport(o: OrderState, r: OrderReport): OrderState {
  if (r.clientOrderId !== o.request.clientOrderId) bad(o, `report for ${r.clientOrderId}`);
  if (r.venue !== o.request.venue) bad(o, `report from ${r.venue}`);
  if (r.venueOrderId !== undefined && o.venueOrderId !== undefined && r.venueOrderId !== o.venueOrderId)
    bad(o, `venue order id ${r.venueOrderId} after ${o.venueOrderId}`);
  if (r.status !== o.status && !NEXT[o.status].includes(r.status))
    bad(o, `cannot move from ${o.status} to ${r.status}`);
  let next: OrderState = {
    ...o,
    status: r.status,
    venueOrderId: o.venueOrderId ?? r.venueOrderId,
    reason: r.reason ?? o.reason,
    detail: r.detail ?? o.detail,
    venueFilledShares: Math.max(o.venueFilledShares, r.filledShares ?? 0),
    updatedAt: r.ts,
  };
  if (next.venueFilledShares > o.request.shares)
    bad(o, `venue reports ${next.venueFilledShares} filled of ${o.request.shares}`);
  if (r.fill) next = applyFill(next, r.fill, o.status);
  return next;
}

function applyFill(o: OrderState, f: FillReport, before: OrderStatus): OrderState {
  if (!Number.isSafeInteger(f.shares) || f.shares <= 0) bad(o, `fill ${f.fillId} of ${f.shares} shares`);
  if (!Number.isSafeInteger(f.price) || f.price < 0) bad(o, `fill ${f.fillId} at ${f.price}`);
  const i = o.fills.findIndex((x) => x.fillId === f.fillId);
  const prev = i >= 0 ? o.fills[i] : undefined;
  if (prev) {
    // the same execution again: only its settlement may move on (provisional → confirmed / failed)
    if (prev.shares !== f.shares || prev.price !== f.price)
      bad(o, `fill ${f.fillId} changed its size or price`);
    if (prev.settlement === f.settlement) return o;
    if (prev.settlement !== 'provisional')
      bad(o, `fill ${f.fillId} went from ${prev.settlement} to ${f.settlement}`);
    const fills = o.fills.slice();
    fills[i] = f;
    if (f.settlement === 'confirmed') return { ...o, fills, confirmedShares: o.confirmedShares + f.shares };
    // failed: the trade never happened
    return {
      ...o,
      fills,
      filledShares: o.filledShares - f.shares,
      gross: o.gross - notional(f.price, f.shares, 'round'),
      fees: o.fees - f.fee,
    };
  }
  // a fill may win the race against a cancel or an expiry, never against a rejection
  if (before === 'rejected' || o.status === 'rejected') bad(o, `fill ${f.fillId} on a rejected order`);
  if (f.settlement === 'failed') return { ...o, fills: [...o.fills, f] };
  const filledShares = o.filledShares + f.shares;
  if (filledShares > o.request.shares)
    bad(o, `fills of ${filledShares} shares on an order of ${o.request.shares}`);
  return {
    ...o,
    fills: [...o.fills, f],
    filledShares,
    confirmedShares: o.confirmedShares + (f.settlement === 'confirmed' ? f.shares : 0),
    gross: o.gross + notional(f.price, f.shares, 'round'),
    fees: o.fees + f.fee,
  };
}
