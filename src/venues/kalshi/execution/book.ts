/**
 * Kalshi's single YES book and our per-outcome tokens: `<ticker>:yes` / `<ticker>:no`, buy/sell at a price of
 * that outcome. Buy YES = bid at p, sell YES = ask at p, buy NO at q = ask at 1 − q, sell NO at q = bid at 1 − q.
 */
import { formatFixed, MICRO, type Price } from '../../../core/money.ts';

export type BookSide = 'bid' | 'ask';

/** `<ticker>:yes|no` → parts. */
export function splitToken(tokenId: string): { ticker: string; outcome: 'yes' | 'no' } {
  const i = tokenId.lastIndexOf(':');
  const outcome = tokenId.slice(i + 1);
  if (i <= 0 || (outcome !== 'yes' && outcome !== 'no')) {
    throw new Error(`Kalshi token id must be <ticker>:yes or <ticker>:no, got ${tokenId}`);
  }
  return { ticker: tokenId.slice(0, i), outcome };
}

/** Our (token, side, price) → the YES book's (side, price). */
export function toBook(
  outcome: 'yes' | 'no',
  side: 'buy' | 'sell',
  price: Price,
): { side: BookSide; price: Price } {
  const yesSide: BookSide = side === 'buy' ? 'bid' : 'ask';
  if (outcome === 'yes') return { side: yesSide, price };
  return { side: yesSide === 'bid' ? 'ask' : 'bid', price: MICRO - price };
}

/** A YES-book (side, yes price) back to our orientation: the spec's when known, else bid → buy YES, ask → buy NO. */
export function fromBook(
  ticker: string,
  book: BookSide,
  yesPrice: Price,
  known?: { tokenId: string; side: 'buy' | 'sell' },
): { tokenId: string; side: 'buy' | 'sell'; price: Price } {
  if (known) {
    const { outcome } = splitToken(known.tokenId);
    return {
      tokenId: known.tokenId,
      side: known.side,
      price: outcome === 'yes' ? yesPrice : MICRO - yesPrice,
    };
  }
  return book === 'bid'
    ? { tokenId: `${ticker}:yes`, side: 'buy', price: yesPrice }
    : { tokenId: `${ticker}:no`, side: 'buy', price: MICRO - yesPrice };
}

/** A price as Kalshi's request fields take it: 2 to 4 decimals ("0.60", "0.4525"). */
export function kalshiPrice(p: Price): string {
  return formatFixed(p, 6, 4)
    .replace(/(\.\d\d\d?)0$/, '$1')
    .replace(/(\.\d\d)0$/, '$1');
}
