/**
 * Token slots: a dense integer per instrument token (venue + token id), numbered in this process in the order the
 * tokens are first seen. The venue decoders stamp a book's slot (OrderBook.slot) from the per-token state they
 * look up anyway, so that consumers such as the scanner find their own per-token state by indexing an array
 * instead of hashing the token id string again: with 100,000 markets that hash lookup was a few cache misses per
 * book update, more than the rest of the scanner's work.
 *
 * A slot means something only in the process that numbered it: it is not part of any message schema, so the
 * Redis bus's validation drops it and a book read from Redis has none. A slot is a hint: consumers check that
 * the state it leads to is that book's (venue and token id) and fall back to their own lookup otherwise.
 */
const byVenue = new Map<string, Map<string, number>>();
let next = 0;

/** The slot of a venue's token, numbered on first sight (never reused). */
export function tokenSlot(venue: string, tokenId: string): number {
  let m = byVenue.get(venue);
  if (m === undefined) {
    m = new Map();
    byVenue.set(venue, m);
  }
  let s = m.get(tokenId);
  if (s === undefined) {
    s = next++;
    m.set(tokenId, s);
  }
  return s;
}
