/**
 * Order-size lots per venue, for code that holds a leg but not its market record (every venue parser also puts
 * the lot on each market: `Market.lotSize` wins where it is at hand). The numbers live in the venues' folders.
 */
import type { Market, Venue } from '../core/messages.ts';
import type { Qty } from '../core/money.ts';
import { CONTRACT_LOT } from './kalshi/parse.ts';
import { LOT_SIZE } from './polymarket/parse.ts';

export const VENUE_LOTS: Readonly<Record<Venue, Qty>> = { polymarket: LOT_SIZE, kalshi: CONTRACT_LOT };

/** The market's lot when known, else its venue's. */
export function lotOf(venue: Venue, market?: Pick<Market, 'lotSize'>): Qty {
  return market?.lotSize ?? VENUE_LOTS[venue];
}
