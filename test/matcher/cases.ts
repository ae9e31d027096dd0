/** Real-world-shaped markets for matcher tests (wording modelled on live Polymarket and Kalshi listings). */
import type { Market } from '../../src/core/messages.ts';

const KALSHI_FEES = { kind: 'kalshi', takerCoeff: 70_000, makerCoeff: 0 } as const;
const PM_FEES = {
  kind: 'polymarket',
  rate: 70_000,
  exponent: 1,
  takerOnly: true,
  rebateRate: 200_000,
} as const;

export function pm(
  id: string,
  question: string,
  rules: string,
  endIso: string,
  extra: Partial<Market> = {},
): Market {
  return {
    type: 'market',
    venue: 'polymarket',
    marketId: id,
    question,
    rules,
    outcomes: [
      { tokenId: `${id}-yes`, label: 'Yes', side: 'yes' },
      { tokenId: `${id}-no`, label: 'No', side: 'no' },
    ],
    tickSize: 10_000,
    minSize: 5_000_000,
    fees: PM_FEES,
    endTime: Date.parse(endIso),
    status: 'open',
    version: 'v1',
    receiveTime: 0,
    ...extra,
  };
}

export function kalshi(
  ticker: string,
  title: string,
  rules: string,
  closeIso: string,
  extra: Partial<Market> = {},
): Market {
  return {
    type: 'market',
    venue: 'kalshi',
    marketId: ticker,
    eventId: ticker.split('-').slice(0, 2).join('-'),
    question: title,
    rules,
    outcomes: [
      { tokenId: `${ticker}:yes`, label: 'Yes', side: 'yes' },
      { tokenId: `${ticker}:no`, label: 'No', side: 'no' },
    ],
    tickSize: 10_000,
    minSize: 1_000_000,
    fees: KALSHI_FEES,
    endTime: Date.parse(closeIso),
    status: 'open',
    version: 'v1',
    receiveTime: 0,
    ...extra,
  };
}

const BRTI = (hour: string, cmp: string) =>
  `If the simple average of the sixty seconds of CF Benchmarks' Bitcoin Real-Time Index (BRTI) before ${hour} EST on Dec 31, 2026 is ${cmp}, then the market resolves to Yes. Outcome verified from CF Benchmarks.`;

/** Kalshi BTC daily threshold at 12 PM ET, $100,000 strike (hour only in ticker and rules). */
export const kxT100k12 = kalshi(
  'KXBTCD-26DEC3112-T100000',
  'Bitcoin price on Dec 31, 2026?',
  BRTI('12 PM', 'above $100,000.00'),
  '2026-12-31T17:00:00Z',
);
/** Same strike, one hour later. */
export const kxT100k13 = kalshi(
  'KXBTCD-26DEC3113-T100000',
  'Bitcoin price on Dec 31, 2026?',
  BRTI('1 PM', 'above $100,000.00'),
  '2026-12-31T18:00:00Z',
);
export const kxT90k12 = kalshi(
  'KXBTCD-26DEC3112-T90000',
  'Bitcoin price on Dec 31, 2026?',
  BRTI('12 PM', 'above $90,000.00'),
  '2026-12-31T17:00:00Z',
);
/** YES here is "at or below 100k": NO of the "above 100k" market. */
export const kxBelow100k12 = kalshi(
  'KXBTCD-26DEC3112-T100000L',
  'Bitcoin below $100,000 on Dec 31, 2026 at 12pm EST?',
  BRTI('12 PM', '$100,000.00 or below'),
  '2026-12-31T17:00:00Z',
);
export const kxRange99750 = kalshi(
  'KXBTC-26DEC3112-B99750',
  'Bitcoin price range on Dec 31, 2026?',
  BRTI('12 PM', 'between $99,500 and $99,999.99'),
  '2026-12-31T17:00:00Z',
);
export const kxRange100250 = kalshi(
  'KXBTC-26DEC3112-B100250',
  'Bitcoin price range on Dec 31, 2026?',
  BRTI('12 PM', 'between $100,000 and $100,499.99'),
  '2026-12-31T17:00:00Z',
);

/** Polymarket, settling on the same index and minute as kxT100k12. */
export const pmBrti100k = pm(
  'pm-btc-100k-brti',
  'Will the price of Bitcoin be above $100,000 on December 31, 2026 at 12 PM ET?',
  'This market will resolve to "Yes" if the CF Benchmarks Bitcoin Real-Time Index (BRTI), averaged over the 60 seconds before 12:00 PM ET on December 31, 2026, is above $100,000. Otherwise, this market will resolve to "No".',
  '2026-12-31T17:00:00Z',
);
/** Same strike and day, but the Binance BTC/USDT 1-hour candle close. */
export const pmBinance100k = pm(
  'pm-btc-100k-binance',
  'Will the price of Bitcoin be above $100,000 on December 31?',
  'This market will resolve to "Yes" if the Binance 1 hour candle for BTC/USDT 12:00 in the ET timezone (noon) on the date specified in the title has a final "Close" price higher than the price specified in the title. Otherwise, this market will resolve to "No".',
  '2026-12-31T17:00:00Z',
);
/** Hour only in the rules (noon ET): one hour apart from kxT100k13. */
export const pmBrtiNoHourInTitle = pm(
  'pm-btc-100k-brti-noon',
  'Will Bitcoin be above $100,000 on December 31?',
  'Resolves "Yes" if the CF Benchmarks Bitcoin Real-Time Index (BRTI) 60-second average at 12:00 PM ET on December 31, 2026 is above $100,000.',
  '2026-12-31T17:00:00Z',
);

export const pmGdpReal = pm(
  'pm-gdp-q3',
  'US GDP growth above 2.5% in Q3 2026?',
  'Resolves "Yes" if the annualized real GDP growth rate for Q3 2026 in the Bureau of Economic Analysis (BEA) advance estimate is above 2.5%.',
  '2026-10-30T12:30:00Z',
);
export const kxGdpNominal = kalshi(
  'KXGDPNOM-26Q3-T2.5',
  'GDP growth above 2.5% in Q3 2026?',
  'If nominal GDP growth (current dollars, annualized) for Q3 2026 in the BEA advance estimate is above 2.5%, then the market resolves to Yes.',
  '2026-10-30T12:30:00Z',
);
export const kxGdpReal = kalshi(
  'KXGDP-26Q3-T2.5',
  'GDP growth above 2.5% in Q3 2026?',
  'If real GDP growth (annualized) for Q3 2026 in the BEA advance estimate is above 2.5%, then the market resolves to Yes.',
  '2026-10-30T12:30:00Z',
);
export const kxGdpUnstated = kalshi(
  'KXGDPX-26Q3-T2.5',
  'GDP growth above 2.5% in Q3 2026?',
  'If GDP growth for Q3 2026 in the BEA advance estimate is above 2.5%, then the market resolves to Yes.',
  '2026-10-30T12:30:00Z',
);

/** Not machine-readable for the rules stage: only the LLM can judge. */
export const pmFed = pm(
  'pm-fed-dec',
  'Will the Fed cut interest rates at the December 2026 meeting?',
  'Resolves "Yes" if the FOMC announces a cut to the federal funds target range at its December 2026 meeting.',
  '2026-12-16T19:00:00Z',
);
export const kxFed = kalshi(
  'KXFEDDECISION-26DEC-C25',
  'Fed cuts interest rates in December 2026?',
  'If the Federal Reserve cuts the federal funds target rate at its December 2026 meeting, then the market resolves to Yes.',
  '2026-12-16T19:00:00Z',
);

/** A Gamma up/down market object (wire shape) as the Polymarket decoder would normalize it, for the matcher. */
export function gammaUpDown(g: Record<string, string>): Market {
  const tokens = JSON.parse(g.clobTokenIds!) as string[];
  return pm(g.conditionId!, g.question!, g.description!, g.endDate!, {
    outcomes: [
      { tokenId: tokens[0]!, label: 'Up', side: 'other' },
      { tokenId: tokens[1]!, label: 'Down', side: 'other' },
    ],
  });
}
