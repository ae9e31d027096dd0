/**
 * Reconciliation, pure: what one venue says (positions, open orders, cash) against what we believe (the ledger's
 * positions and cash, the order state machine's orders) → a list of typed mismatches with the numbers on both
 * sides, and whether they are bad enough to halt.
 *
 * Kinds:
 * - `position`: shares held differ (venue vs ledger), per token;
 * - `unknown_open_order`: an order rests at the venue that the state machine does not have open (placed by hand,
 *   by another process, or lost on a crash) — money at risk we do not track;
 * - `missing_open_order`: the state machine has an order open that the venue no longer lists (filled or
 *   cancelled without our hearing of it);
 * - `filled_mismatch`: an open order's filled size differs;
 * - `cash`: available collateral differs.
 * Values are integers in the unit named (micro-shares, micro-dollars, orders). Nothing here reads a clock or does
 * I/O: the caller fetches both sides at one moment and stamps the result.
 */
import type { ReconciliationMismatch, Venue } from '../core/messages.ts';
import type { Money, Qty } from '../core/money.ts';
import type { OrderState } from './types.ts';

export type MismatchKind =
  | 'position'
  | 'unknown_open_order'
  | 'missing_open_order'
  | 'filled_mismatch'
  | 'cash';

export interface Mismatch {
  readonly kind: MismatchKind;
  readonly venue: Venue;
  readonly marketId?: string;
  readonly tokenId?: string;
  readonly clientOrderId?: string;
  readonly venueOrderId?: string;
  readonly unit: 'shares' | 'usd' | 'orders';
  /** What the venue says, what we believe, and venue − ours (integers in `unit`'s micro-units; orders: a count). */
  readonly venueValue: number;
  readonly ourValue: number;
  readonly diff: number;
}

export interface VenueView {
  readonly positions: readonly { marketId: string; tokenId: string; shares: Qty }[];
  readonly openOrders: readonly {
    venueOrderId: string;
    clientOrderId: string;
    marketId: string;
    tokenId: string;
    shares: Qty;
    filledShares: Qty;
  }[];
  /** Available collateral, micro-dollars; omit to skip the cash check. */
  readonly cash?: Money;
  /**
   * Tokens whose positions were read. Polymarket reads balances per token, so only those can be compared;
   * undefined = the venue listed every position (Kalshi).
   */
  readonly coveredTokens?: ReadonlySet<string>;
}

export interface OurView {
  readonly positions: readonly { venue: Venue; marketId: string; tokenId: string; shares: Qty }[];
  readonly orders: readonly OrderState[];
  /** The ledger's cash on this venue, micro-dollars; omit to skip the cash check. */
  readonly cash?: Money;
}

export interface Tolerances {
  /** Share differences up to this are rounding, not a mismatch (default 0). */
  readonly shares?: Qty;
  /** Cash differences up to this are not reported (default 0). */
  readonly cash?: Money;
}

const OPEN = new Set(['new', 'acknowledged', 'partially_filled']);

export function reconcile(venue: Venue, theirs: VenueView, ours: OurView, tol: Tolerances = {}): Mismatch[] {
  const out: Mismatch[] = [];
  const shareTol = tol.shares ?? 0;

  const held = new Map<string, { marketId: string; tokenId: string; shares: Qty }>();
  for (const p of ours.positions) {
    if (p.venue !== venue) continue;
    const cur = held.get(p.tokenId);
    held.set(p.tokenId, { marketId: p.marketId, tokenId: p.tokenId, shares: (cur?.shares ?? 0) + p.shares });
  }
  const atVenue = new Map(theirs.positions.map((p) => [p.tokenId, p]));
  const tokens = new Set([...held.keys(), ...atVenue.keys()]);
  for (const tokenId of [...tokens].sort()) {
    if (theirs.coveredTokens && !theirs.coveredTokens.has(tokenId)) continue;
    const v = atVenue.get(tokenId)?.shares ?? 0;
    const o = held.get(tokenId)?.shares ?? 0;
    if (Math.abs(v - o) <= shareTol) continue;
    out.push({
      kind: 'position',
      venue,
      marketId: atVenue.get(tokenId)?.marketId ?? held.get(tokenId)?.marketId,
      tokenId,
      unit: 'shares',
      venueValue: v,
      ourValue: o,
      diff: v - o,
    });
  }

  const mine = ours.orders.filter((o) => o.request.venue === venue);
  const byVenueId = new Map(mine.filter((o) => o.venueOrderId).map((o) => [o.venueOrderId!, o]));
  const byClientId = new Map(mine.map((o) => [o.request.clientOrderId, o]));
  const seen = new Set<string>();
  for (const vo of theirs.openOrders) {
    const o = byVenueId.get(vo.venueOrderId) ?? byClientId.get(vo.clientOrderId);
    if (!o || !OPEN.has(o.status)) {
      out.push({
        kind: 'unknown_open_order',
        venue,
        marketId: vo.marketId,
        tokenId: vo.tokenId,
        clientOrderId: o?.request.clientOrderId ?? (vo.clientOrderId || undefined),
        venueOrderId: vo.venueOrderId,
        unit: 'shares',
        venueValue: vo.shares - vo.filledShares,
        ourValue: 0,
        diff: vo.shares - vo.filledShares,
      });
      continue;
    }
    seen.add(o.request.clientOrderId);
    if (Math.abs(vo.filledShares - o.filledShares) > shareTol) {
      out.push({
        kind: 'filled_mismatch',
        venue,
        marketId: vo.marketId,
        tokenId: vo.tokenId,
        clientOrderId: o.request.clientOrderId,
        venueOrderId: vo.venueOrderId,
        unit: 'shares',
        venueValue: vo.filledShares,
        ourValue: o.filledShares,
        diff: vo.filledShares - o.filledShares,
      });
    }
  }
  for (const o of mine) {
    // `new` without a venue id may not have reached the venue yet: only orders it acknowledged must be listed
    if (!OPEN.has(o.status) || seen.has(o.request.clientOrderId) || o.status === 'new') continue;
    out.push({
      kind: 'missing_open_order',
      venue,
      marketId: o.request.marketId,
      tokenId: o.request.tokenId,
      clientOrderId: o.request.clientOrderId,
      venueOrderId: o.venueOrderId,
      unit: 'orders',
      venueValue: 0,
      ourValue: 1,
      diff: -1,
    });
  }

  if (theirs.cash !== undefined && ours.cash !== undefined) {
    const d = theirs.cash - ours.cash;
    if (Math.abs(d) > (tol.cash ?? 0)) {
      out.push({ kind: 'cash', venue, unit: 'usd', venueValue: theirs.cash, ourValue: ours.cash, diff: d });
    }
  }
  return out;
}

export interface HaltThresholds {
  /** Largest position difference tolerated without halting, micro-shares (default 0: any difference halts). */
  readonly positionShares?: Qty;
  /** Largest cash difference tolerated, micro-dollars (default $1). */
  readonly cash?: Money;
  /** Orders at the venue we do not track halt trading (default true). */
  readonly unknownOrders?: boolean;
  /**
   * Orders we think open that the venue no longer lists halt trading (default false: usually a fill or cancel
   * whose report is on its way; the polling fallback settles it).
   */
  readonly missingOrders?: boolean;
}

/**
 * The mismatches bad enough to halt trading (empty: carry on, the events still go out). Both sides are read a few
 * milliseconds apart, so a loop should halt only on a mismatch seen on two runs in a row.
 */
export function haltWorthy(mismatches: readonly Mismatch[], t: HaltThresholds = {}): Mismatch[] {
  const halts = (m: Mismatch): boolean => {
    if (m.kind === 'position' || m.kind === 'filled_mismatch')
      return Math.abs(m.diff) > (t.positionShares ?? 0);
    if (m.kind === 'cash') return Math.abs(m.diff) > (t.cash ?? 1_000_000);
    if (m.kind === 'unknown_open_order') return t.unknownOrders ?? true;
    return t.missingOrders ?? false;
  };
  return mismatches.filter(halts);
}

/** The `reconciliation_mismatch` events of one run (ids from the kernel's generator, time from its clock). */
export function mismatchEvents(
  mismatches: readonly Mismatch[],
  halting: readonly Mismatch[],
  nextId: () => string,
  ts: number,
): ReconciliationMismatch[] {
  const halt = new Set(halting);
  return mismatches.map((m) => ({
    type: 'reconciliation_mismatch',
    id: nextId(),
    ...m,
    halt: halt.has(m),
    ts,
  }));
}
