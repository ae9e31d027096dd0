/**
 * Books that cannot be: a price outside [0, 1] or a best bid above the best ask. A decoder set rejects them with
 * the reason (the frame counts as rejected and nothing downstream sees the book), and the ledger never marks a
 * position at such a bid.
 */
import type { Price } from '../core/money.ts';
import { ONE, toDecimal } from '../core/money.ts';

/** Why a book is impossible, or undefined when it is possible. */
export function impossibleBook(b: {
  readonly bids: readonly (readonly number[])[];
  readonly asks: readonly (readonly number[])[];
}): string | undefined {
  for (const [side, levels] of [
    ['bid', b.bids],
    ['ask', b.asks],
  ] as const) {
    for (const l of levels) {
      const p = l[0] as Price;
      if (!Number.isInteger(p) || p < 0 || p > ONE)
        return `impossible book: ${side} price ${Number.isInteger(p) ? toDecimal(p) : String(p)} outside 0..1`;
    }
  }
  const bid = b.bids[0]?.[0];
  const ask = b.asks[0]?.[0];
  if (bid !== undefined && ask !== undefined && bid > ask)
    return `impossible book: best bid ${toDecimal(bid)} above best ask ${toDecimal(ask)}`;
  return undefined;
}
