/**
 * The kill switch's venue side: cancel every open order on every venue, straight through the venue clients —
 * no bus, no trading process needed (`pm-arb halt --cancel-orders`). Venues are handled in parallel; after the
 * cancel-all each venue is asked for its open orders again, and what still rests gets one more cancel-all, so
 * an order placed in the same instant is not left behind. A venue that cannot be reached is reported, not
 * skipped silently.
 */
import type { Venue } from '../core/messages.ts';

/** What this needs from a venue client (the live clients in src/venues/ have it). */
export interface CancellingClient {
  readonly venue: Venue;
  cancelAll(): Promise<{
    readonly cancelled: readonly string[];
    readonly failed: readonly { readonly venueOrderId: string; readonly message: string }[];
  }>;
  openOrders(): Promise<readonly { readonly venueOrderId: string }[]>;
}

export interface VenueCancelOutcome {
  readonly venue: Venue;
  /** Venue order ids cancelled. */
  readonly cancelled: readonly string[];
  /** Still open after two rounds (the venue refused, or they are being filled). */
  readonly remaining: readonly string[];
  /** Set when the venue could not be asked at all. */
  readonly error?: string;
}

export interface CancelEverywhereResult {
  readonly ok: boolean;
  readonly venues: readonly VenueCancelOutcome[];
}

async function oneVenue(c: CancellingClient): Promise<VenueCancelOutcome> {
  const cancelled: string[] = [];
  try {
    for (let round = 0; round < 2; round++) {
      const r = await c.cancelAll();
      cancelled.push(...r.cancelled);
      const open = await c.openOrders();
      if (open.length === 0) return { venue: c.venue, cancelled, remaining: [] };
      if (round === 1) return { venue: c.venue, cancelled, remaining: open.map((o) => o.venueOrderId) };
    }
  } catch (e) {
    return { venue: c.venue, cancelled, remaining: [], error: (e as Error).message };
  }
  return { venue: c.venue, cancelled, remaining: [] };
}

export async function cancelEverywhere(
  clients: readonly CancellingClient[],
): Promise<CancelEverywhereResult> {
  const venues = await Promise.all(clients.map(oneVenue));
  return { ok: venues.every((v) => !v.error && v.remaining.length === 0), venues };
}
