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
  // plain index loops, no [side, levels] tuples: this runs on every book every decoder emits
  const bad = outsideUnit(b.bids);
  if (bad >= 0) return outsideMessage('bid', b.bids[bad]![0]!);
  const badAsk = outsideUnit(b.asks);
  if (badAsk >= 0) return outsideMessage('ask', b.asks[badAsk]![0]!);
  const bid = b.bids[0]?.[0];
  const ask = b.asks[0]?.[0];
  if (bid !== undefined && ask !== undefined && bid > ask)
    return `impossible book: best bid ${toDecimal(bid)} above best ask ${toDecimal(ask)}`;
  return undefined;
}

/** Index of the first level whose price is not an integer in 0..ONE, or -1. */
function outsideUnit(levels: readonly (readonly number[])[]): number {
  for (let i = 0; i < levels.length; i++) {
    const p = levels[i]![0] as Price;
    if (!Number.isInteger(p) || p < 0 || p > ONE) return i;
  }
  return -1;
}

function outsideMessage(side: 'bid' | 'ask', p: number): string {
  return `impossible book: ${side} price ${Number.isInteger(p) ? toDecimal(p as Price) : String(p)} outside 0..1`;
}
