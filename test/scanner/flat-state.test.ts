/**
 * The scanner keeps what a book update checks first (tops, sibling tops, open flags, first link, group sums) in
 * flat records that it updates incrementally (src/scanner/flat.ts). Whatever the order of market, link and book
 * messages — markets re-listed with new tokens, closed and reopened, moved between negRisk groups, placeholders,
 * links arriving before or after their markets, slotted and unslotted books — a scanner built that way must
 * price exactly like a fresh scanner fed only the final markets, links and latest books.
 */
import { describe, expect, it } from 'vitest';
import type { Market, MarketLink, OrderBook, Venue } from '../../src/core/messages.ts';
import { mulberry32 } from '../../src/core/prng.ts';
import { tokenSlot } from '../../src/core/token-slots.ts';
import type { Scanner } from '../../src/scanner/scanner.ts';
import { KALSHI, market, NO_FEES, PM_FEES_4, scanner } from './build.ts';

const RELATIONS: MarketLink['relation'][] = ['identical', 'inverted', 'implies', 'exclusive', 'different'];

/**
 * What a probe returns, without the ids (two scanners number their opportunities independently) and with a
 * group's legs in token order (a group lists its members in the order they joined, which a fresh scanner does
 * not replay).
 */
const shape = (s: Scanner, b: OrderBook) =>
  s.onBook(b).map(({ id: _id, legs, data, ...rest }) => ({
    ...rest,
    legs: [...legs].sort((x, y) => x.tokenId.localeCompare(y.tokenId)),
    data: [...data].sort((x, y) => x.key.localeCompare(y.key)),
  }));

/** Runs one random scenario; returns how many probes found an opportunity. */
function run(seed: number): number {
  const r = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const ids = Array.from({ length: 10 }, (_, i) => `f${seed}m${i}`);
  const venueOf = (i: number): Venue => (i % 2 === 0 ? 'polymarket' : 'kalshi');
  // the latest of each message, as the fresh scanner gets them
  const markets = new Map<string, Market>();
  const links: MarketLink[] = [];
  const books = new Map<string, OrderBook>();
  let issue = 0;
  let found = 0;
  const { s } = scanner(1_000, { dedupe: false });
  const listMarket = (i: number, fresh: boolean): void => {
    const prev = markets.get(ids[i]!);
    const base = market(venueOf(i), ids[i]!, pick([PM_FEES_4, KALSHI, NO_FEES]), {
      status: r() < 0.8 ? 'open' : 'closed',
      ...(r() < 0.5 ? { negRiskGroup: pick(['g1', 'g2']) } : {}),
      ...(r() < 0.1 ? { placeholder: true } : {}),
    });
    // a re-listing keeps its tokens, or gets new ones (never seen before: their books start afresh)
    const outcomes =
      prev && !fresh
        ? prev.outcomes
        : base.outcomes.map((o) => ({ ...o, tokenId: `${o.tokenId}-${seed}-${issue++}` }));
    if (prev && prev.outcomes !== outcomes) for (const o of prev.outcomes) books.delete(o.tokenId);
    const m = { ...base, outcomes };
    markets.set(m.marketId, m);
    s.onMarket(m);
  };
  const sendBook = (): void => {
    const m = markets.get(pick(ids));
    if (!m) return;
    const tokenId = pick(m.outcomes).tokenId;
    const ask = 30 + Math.floor(r() * 45);
    const b: OrderBook = {
      type: 'book',
      venue: m.venue,
      marketId: m.marketId,
      tokenId,
      asks: [
        [ask * 10_000, 100_000_000],
        [(ask + 1) * 10_000, 100_000_000],
      ],
      bids: [[(ask - 3 - Math.floor(r() * 30)) * 10_000, 100_000_000]],
      stale: r() < 0.05,
      receiveTime: 1_000,
      ...(r() < 0.7 ? { slot: tokenSlot(m.venue, tokenId) } : {}),
    };
    books.set(tokenId, b);
    s.onBook(b);
  };
  for (let step = 0; step < 400; step++) {
    const x = r();
    const i = Math.floor(r() * ids.length);
    if (x < 0.15) listMarket(i, r() < 0.3);
    else if (x < 0.22) {
      const j = (i + 1 + Math.floor(r() * (ids.length - 1))) % ids.length;
      const link: MarketLink = {
        type: 'link',
        a: { venue: venueOf(i), marketId: ids[i]! },
        b: { venue: venueOf(j), marketId: ids[j]! },
        relation: pick(RELATIONS),
        confidence: 0.9,
        stage: 'rules',
        reasons: [],
        decidedAt: 0,
      };
      links.push(link);
      s.onLink(link);
    } else sendBook();

    if (step % 50 !== 49) continue;
    // a fresh scanner with the final state only
    const { s: fresh } = scanner(1_000, { dedupe: false });
    for (const link of links) fresh.onLink(link);
    for (const m of markets.values()) fresh.onMarket(m);
    for (const b of books.values()) fresh.onBook(b);
    // every latest book again, to both: the same opportunities (or none) from the same state
    for (const b of books.values()) {
      const got = shape(s, b);
      expect(got).toEqual(shape(fresh, b));
      if (got.length > 0) found++;
    }
  }
  return found;
}

describe('scanner: the flat hot state', () => {
  it('prices like a scanner built from the final state, whatever the order of updates', () => {
    let found = 0;
    for (let seed = 1; seed <= 12; seed++) found += run(seed);
    // the scenarios do cross edges: the comparisons are not all of empty lists
    expect(found).toBeGreaterThan(20);
  });
});
