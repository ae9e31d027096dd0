/** Builders for scanner tests: markets and books in the shapes the venue decoders emit. */
import { createIds } from '../../src/core/agent.ts';
import type { FeeSchedule, Market, OrderBook, Venue } from '../../src/core/messages.ts';
import { parseMicro } from '../../src/core/money.ts';
import { Scanner, type ScannerOptions } from '../../src/scanner/scanner.ts';

export const PM_FEES_4: FeeSchedule = {
  kind: 'polymarket',
  rate: 40_000,
  exponent: 1,
  takerOnly: true,
  rebateRate: 250_000,
};
export const KALSHI: FeeSchedule = { kind: 'kalshi', takerCoeff: 70_000, makerCoeff: 0 };
export const NO_FEES: FeeSchedule = { kind: 'none' };

export function market(venue: Venue, id: string, fees: FeeSchedule, extra: Partial<Market> = {}): Market {
  const yes = venue === 'kalshi' ? `${id}:yes` : `${id}-Y`;
  const no = venue === 'kalshi' ? `${id}:no` : `${id}-N`;
  return {
    type: 'market',
    venue,
    marketId: id,
    question: id,
    rules: '',
    outcomes: [
      { tokenId: yes, label: 'Yes', side: 'yes' },
      { tokenId: no, label: 'No', side: 'no' },
    ],
    tickSize: 10_000,
    minSize: 0,
    fees,
    endTime: null,
    status: 'open',
    version: 'v1',
    receiveTime: 0,
    ...extra,
  };
}

export const yesOf = (m: Market): string => m.outcomes[0]!.tokenId;
export const noOf = (m: Market): string => m.outcomes[1]!.tokenId;

/** Levels from decimal strings: [["0.45", "100"], …] (price dollars, shares). */
export function lv(levels: [string, string][]): [number, number][] {
  return levels.map(([p, s]) => [parseMicro(p), parseMicro(s)]);
}

export function book(
  m: Market,
  tokenId: string,
  asks: [string, string][],
  bids: [string, string][] = [],
  extra: Partial<OrderBook> = {},
): OrderBook {
  return {
    type: 'book',
    venue: m.venue,
    marketId: m.marketId,
    tokenId,
    bids: lv(bids),
    asks: lv(asks),
    stale: false,
    receiveTime: 1_000,
    ...extra,
  };
}

export function scanner(
  now = 1_000,
  extra: Partial<ScannerOptions> = {},
): { s: Scanner; clock: { t: number } } {
  const clock = { t: now };
  const s = new Scanner({ now: () => clock.t, ids: createIds('t'), ...extra });
  return { s, clock };
}
