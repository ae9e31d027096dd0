/**
 * Polymarket fee schedules (docs/settlement.md, "Polymarket fees"). Every market's rate comes from its own
 * `feeSchedule` (Gamma) or `fee_schedule` (websocket `new_market`); the formula is in core/fees.ts. A market
 * that charges fees without a schedule is `unknown` (never priced) until a Gamma listing carries it; a fill on
 * it meanwhile is charged the highest category rate published.
 */
import type { FeeSchedule } from '../../core/messages.ts';

export const NO_FEES: FeeSchedule = {
  kind: 'polymarket',
  rate: 0,
  exponent: 1,
  takerOnly: true,
  rebateRate: 0,
};
/** Alias kept for tests and tools that build fee-free Polymarket markets. */
export const POLYMARKET_NO_FEES = NO_FEES;

/** The highest taker rate Polymarket publishes for a category (crypto; one source quotes 0.072): the bound. */
const HIGHEST_RATE = 72_000;

export const polymarketFeesPending = (reason: string): FeeSchedule => ({
  kind: 'unknown',
  reason,
  bound: { kind: 'polymarket', rate: HIGHEST_RATE, exponent: 1, takerOnly: true, rebateRate: 0 },
});
