/**
 * Per-venue lot and tick for code that holds a leg or a position but not its market record (every venue parser
 * puts both on each market, and the market's values win where it is at hand). The numbers live in the venues'
 * folders; this module only gathers them.
 */
import type { Market, Venue } from '../core/messages.ts';
import type { Qty } from '../core/money.ts';
import { CENT_TICK, CONTRACT_LOT } from './kalshi/parse.ts';
import { DEFAULT_TICK, LOT_SIZE } from './polymarket/parse.ts';

export const VENUE_LOTS: Readonly<Record<Venue, Qty>> = { polymarket: LOT_SIZE, kalshi: CONTRACT_LOT };

/** The market's lot when known, else its venue's. */
export function lotOf(venue: Venue, market?: Pick<Market, 'lotSize'>): Qty {
  return market?.lotSize ?? VENUE_LOTS[venue];
}

export const VENUE_TICKS: Readonly<Record<Venue, Qty>> = { polymarket: DEFAULT_TICK, kalshi: CENT_TICK };

/** The market's tick when known, else its venue's default. */
export function tickOf(venue: Venue, market?: Pick<Market, 'tickSize'>): Qty {
  return market && market.tickSize > 0 ? market.tickSize : VENUE_TICKS[venue];
}
