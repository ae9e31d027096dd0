/**
 * The paper fill model: orders fill against the venue's book as it stands when they arrive, never "at the
 * requested price".
 *
 * - A buy walks the asks from the best up to its limit, a sell the bids down to its limit; each price level
 *   touched is one fill at that level's price, so a large order pays the slippage of the levels it eats.
 * - The limit is moved onto the market's tick (buys round down, sells up); the order's size is cut to the venue's
 *   lot (Kalshi whole contracts, Polymarket 0.01 shares) and must reach the market's minimum size.
 * - Each fill pays the venue's taker fee (src/core/fees.ts) on its own price and size.
 * - Liquidity we took stays taken: the model remembers what each level gave until the next book update for that
 *   instrument replaces the book, so two orders in a row cannot both eat the same level.
 * - A resting (GTC) order fills, as maker at its own limit, when a later book crosses it; the paper client
 *   (paper-client.ts) also fills it from trades at its price once the queue ahead of it has traded.
 */
import { tradeFee } from '../core/fees.ts';
import type { Market, OrderBook, Side } from '../core/messages.ts';
import { instrumentKey } from '../core/messages.ts';
import { type Money, notional, ONE, type Price, type Qty } from '../core/money.ts';
import { lotSize } from '../risk/rules.ts';
import type { ReasonCode } from './types.ts';

export interface FillPiece {
  readonly price: Price;
  readonly shares: Qty;
  readonly fee: Money;
  readonly liquidity: 'taker' | 'maker';
}

export interface MatchResult {
  readonly pieces: FillPiece[];
  readonly filled: Qty;
  /** Σ price × shares, micro-dollars (rounded per fill as the ledger does). */
  readonly gross: Money;
  readonly fees: Money;
  /** Why nothing (or not everything) filled: the typed code decides, the text is for people. */
  readonly code?: ReasonCode;
  readonly reason?: string;
}

export interface MatchRequest {
  readonly side: Side;
  readonly limitPrice: Price;
  readonly shares: Qty;
  /** Market orders closing leg risk are not held to the market's minimum size (only to the lot). */
  readonly ignoreMinSize?: boolean;
}

interface BookEntry {
  book: OrderBook;
  /**
   * price → shares already taken from that level since this book arrived; made on the first take (at 100,000
   * markets two empty Maps per book were ~150 MB, and almost no book is ever taken from)
   */
  takenAsks: Map<number, number> | undefined;
  takenBids: Map<number, number> | undefined;
}

/** The taken map of a side of `e` ('asks' or 'bids'), made when asked to. */
function takenOf(e: BookEntry, asks: boolean): Map<number, number> {
  if (asks) {
    e.takenAsks ??= new Map();
    return e.takenAsks;
  }
  e.takenBids ??= new Map();
  return e.takenBids;
}

const EMPTY: MatchResult = Object.freeze({ pieces: [], filled: 0, gross: 0, fees: 0 });

/** The limit moved onto the tick grid, conservatively (buys down, sells up). */
export function onTick(price: Price, tick: Price, side: Side): Price {
  if (!(tick > 0)) return price;
  const q = side === 'buy' ? Math.floor(price / tick) : Math.ceil(price / tick);
  return q * tick;
}

/**
 * Walks `levels` (best first) for up to `want` shares within `limit`, skipping what `taken` says is gone.
 * Pure; returns [price, shares] per level touched.
 */
export function walkLevels(
  levels: readonly (readonly number[])[],
  side: Side,
  limit: Price,
  want: Qty,
  lot: Qty,
  taken?: ReadonlyMap<number, number>,
): [Price, Qty][] {
  const out: [Price, Qty][] = [];
  let left = want;
  for (const lv of levels) {
    if (left <= 0) break;
    const price = lv[0]!;
    const size = lv[1]!;
    if (side === 'buy' ? price > limit : price < limit) break;
    const avail = size - (taken?.get(price) ?? 0);
    if (avail <= 0) continue;
    let q = Math.min(left, avail);
    q -= q % lot;
    if (q <= 0) continue;
    out.push([price, q]);
    left -= q;
  }
  return out;
}

/** Latest books per instrument with the liquidity paper orders took from them. */
export class PaperBooks {
  private readonly books = new Map<string, BookEntry>();

  /** A new book replaces the old one; what we took from the old one is forgotten (the venue's book moved on). */
  onBook(book: OrderBook): void {
    const k = instrumentKey(book.venue, book.tokenId);
    const e = this.books.get(k);
    if (e) {
      e.book = book;
      if (e.takenAsks?.size) e.takenAsks.clear();
      if (e.takenBids?.size) e.takenBids.clear();
    } else this.books.set(k, { book, takenAsks: undefined, takenBids: undefined });
  }

  /** Drops an instrument's book (its market resolved: nothing trades on it any more). */
  forget(venue: string, tokenId: string): void {
    this.books.delete(`${venue}:${tokenId}`);
  }

  get(venue: string, tokenId: string): OrderBook | undefined {
    return this.books.get(`${venue}:${tokenId}`)?.book;
  }

  /** Best price still available on a side ('bid' or 'ask'), after what we took. */
  best(venue: string, tokenId: string, side: 'bid' | 'ask'): Price | undefined {
    const e = this.books.get(`${venue}:${tokenId}`);
    if (!e) return undefined;
    const levels = side === 'bid' ? e.book.bids : e.book.asks;
    const taken = side === 'bid' ? e.takenBids : e.takenAsks;
    for (const lv of levels) if (lv[1]! - (taken?.get(lv[0]!) ?? 0) > 0) return lv[0];
    return undefined;
  }

  /** Checks an order against the market's rules; returns the reason it cannot trade, or the effective order. */
  prepare(
    market: Market | undefined,
    req: MatchRequest,
  ): { limit: Price; shares: Qty } | { code: ReasonCode; reason: string } {
    if (!market) return { code: 'unknown_market', reason: 'unknown market' };
    if (market.status !== 'open') return { code: 'market_not_open', reason: `market is ${market.status}` };
    const lot = lotSize(market.venue);
    const shares = req.shares - (req.shares % lot);
    if (shares <= 0) return { code: 'below_lot', reason: `size ${req.shares} is below one lot (${lot})` };
    if (shares < market.minSize && !req.ignoreMinSize) {
      return { code: 'below_min_size', reason: `size ${shares} is below the minimum ${market.minSize}` };
    }
    const limit = onTick(req.limitPrice, market.tickSize, req.side);
    if (limit <= 0 || limit >= ONE)
      return { code: 'off_price_grid', reason: `limit ${req.limitPrice} is off the price grid` };
    return { limit, shares };
  }

  /** Shares resting on `side` at exactly `price` in the current book (the queue a new order joins at the back of). */
  levelSize(venue: string, tokenId: string, side: Side, price: Price): Qty {
    const e = this.books.get(`${venue}:${tokenId}`);
    if (!e) return 0;
    for (const lv of side === 'buy' ? e.book.bids : e.book.asks) if (lv[0] === price) return lv[1]!;
    return 0;
  }

  /** Fills a taker order against the current book (or dry-runs it with `commit` false). */
  take(market: Market | undefined, tokenId: string, req: MatchRequest, commit = true): MatchResult {
    const prep = this.prepare(market, req);
    if ('code' in prep) return { ...EMPTY, code: prep.code, reason: prep.reason };
    const m = market!;
    const e = this.books.get(`${m.venue}:${tokenId}`);
    if (!e) return { ...EMPTY, code: 'no_book', reason: 'no book for the instrument' };
    if (e.book.stale) return { ...EMPTY, code: 'book_stale', reason: 'book is stale' };
    const levels = req.side === 'buy' ? e.book.asks : e.book.bids;
    const taken = req.side === 'buy' ? e.takenAsks : e.takenBids;
    const walked = walkLevels(levels, req.side, prep.limit, prep.shares, lotSize(m.venue), taken);
    return this.finish(m, walked, commit ? takenOf(e, req.side === 'buy') : undefined, 'taker', prep.shares);
  }

  /**
   * A resting order at `limit`: fills against levels of the opposite side that now cross it, as maker at its own
   * price. Returns nothing when the book does not cross.
   */
  crossResting(market: Market, tokenId: string, side: Side, limit: Price, remaining: Qty): MatchResult {
    const e = this.books.get(`${market.venue}:${tokenId}`);
    if (!e || e.book.stale) return EMPTY;
    const levels = side === 'buy' ? e.book.asks : e.book.bids;
    const walked = walkLevels(
      levels,
      side,
      limit,
      remaining,
      lotSize(market.venue),
      side === 'buy' ? e.takenAsks : e.takenBids,
    );
    if (walked.length === 0) return EMPTY;
    const taken = takenOf(e, side === 'buy');
    for (const [p, q] of walked) taken.set(p, (taken.get(p) ?? 0) + q);
    const total = walked.reduce((s, [, q]) => s + q, 0);
    return this.finish(market, [[limit, total]], undefined, 'maker', remaining);
  }

  /** A fill of a resting order as maker at its own price, from traded volume that reached it in the queue. */
  maker(market: Market, price: Price, shares: Qty): MatchResult {
    return this.finish(market, [[price, shares]], undefined, 'maker', shares);
  }

  private finish(
    m: Market,
    walked: [Price, Qty][],
    taken: Map<number, number> | undefined,
    liquidity: 'taker' | 'maker',
    wanted: Qty,
  ): MatchResult {
    const pieces: FillPiece[] = [];
    let filled = 0;
    let gross = 0;
    let fees = 0;
    for (const [price, shares] of walked) {
      const fee = tradeFee(m.fees, price, shares, liquidity);
      pieces.push({ price, shares, fee, liquidity });
      filled += shares;
      gross += notional(price, shares, 'round');
      fees += fee;
      if (taken) taken.set(price, (taken.get(price) ?? 0) + shares);
    }
    if (filled === 0)
      return { pieces, filled, gross, fees, code: 'no_liquidity', reason: 'no liquidity within the limit' };
    if (filled < wanted)
      return {
        pieces,
        filled,
        gross,
        fees,
        code: 'depth_exhausted',
        reason: 'book depth exhausted within the limit',
      };
    return { pieces, filled, gross, fees };
  }
}
