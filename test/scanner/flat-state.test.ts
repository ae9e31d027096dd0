/**
 * The scanner keeps what a book update checks first (tops, sibling tops, open flags, first link, group sums) in
 * flat records that it updates incrementally (src/scanner/flat.ts). Whatever the order of market, link and book
 * messages — markets re-listed with new tokens, closed and reopened, moved between negRisk groups, placeholders,
 * links arriving before or after their markets, oracle links (replaced, expired, on either token, with ticks
 * fresh and stale), slotted and unslotted books — a scanner built that way must price exactly like a fresh scanner
 * fed only the final markets, links, oracle links, the ticks and the latest books, and count oracle_lag's pricing
 * (priced, skipped) the same per update.
 */
import { describe, expect, it } from 'vitest';
import type {
  Market,
  MarketLink,
  OracleLink,
  OracleTick,
  OrderBook,
  Venue,
} from '../../src/core/messages.ts';
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

type Pricing = ReturnType<Scanner['pricingReport']>;

/** What one update added to oracle_lag's pricing counts. */
function pricingDelta(before: Pricing, after: Pricing): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const b = before[k];
    const priced = v.priced - (b?.priced ?? 0);
    if (priced !== 0) out[`${k} priced`] = priced;
    for (const [reason, n] of Object.entries(v.skipped)) {
      const d = n - (b?.skipped[reason] ?? 0);
      if (d !== 0) out[`${k} ${reason}`] = d;
    }
  }
  return out;
}

/** A probe: its opportunities and what it added to the pricing counts. */
const probe = (s: Scanner, b: OrderBook) => {
  const before = s.pricingReport();
  const opportunities = shape(s, b);
  return { opportunities, pricing: pricingDelta(before, s.pricingReport()) };
};

const SPOT = 100_000 * 100_000_000;

/**
 * Runs one random scenario; returns how many probes found an opportunity, an oracle_lag one, and priced
 * oracle_lag.
 */
function run(seed: number): { found: number; lagFound: number; priced: number } {
  const r = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const ids = Array.from({ length: 10 }, (_, i) => `f${seed}m${i}`);
  const venueOf = (i: number): Venue => (i % 2 === 0 ? 'polymarket' : 'kalshi');
  // the latest of each message, as the fresh scanner gets them
  const markets = new Map<string, Market>();
  const links: MarketLink[] = [];
  const books = new Map<string, OrderBook>();
  const oracleLinks = new Map<string, OracleLink>();
  const ticks: OracleTick[] = [];
  let issue = 0;
  let found = 0;
  let lagFound = 0;
  let priced = 0;
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
    } else if (x < 0.27) {
      const m = markets.get(ids[i]!) ?? markets.get(ids[0]!);
      if (!m) continue;
      // its YES token as the link's YES, or its NO token (a link stated the other way round); noToken or not
      const swap = r() < 0.2;
      const kind = pick(['above', 'below', 'range'] as const);
      const strike = Math.round(SPOT * (0.995 + r() * 0.01));
      const link: OracleLink = {
        type: 'oracle_link',
        market: { venue: m.venue, marketId: m.marketId },
        symbol: 'BTC/USD',
        asset: 'BTC',
        kind,
        strike,
        ...(kind === 'range' ? { upper: strike + Math.round(SPOT * 0.01) } : {}),
        expiry: r() < 0.1 ? 500 : 1_000 + 3_600_000,
        settlementSource: pick(['chainlink', 'binance:BTC/USDT candle1m_close']),
        yesToken: m.outcomes[swap ? 1 : 0]!.tokenId,
        ...(r() < 0.7 ? { noToken: m.outcomes[swap ? 0 : 1]!.tokenId } : {}),
      };
      oracleLinks.set(m.marketId, link);
      s.onOracleLink(link);
    } else if (x < 0.3) {
      const tick: OracleTick = {
        type: 'tick',
        source: pick(['chainlink', 'binance']),
        symbol: pick(['BTC/USD', 'BTC/USDT']),
        price: Math.round(SPOT * (0.995 + r() * 0.01)),
        stale: r() < 0.1,
        receiveTime: 500 + step,
      };
      ticks.push(tick);
      s.onTick(tick);
    } else sendBook();

    if (step % 50 !== 49) continue;
    // a fresh scanner with the final state only
    const { s: fresh } = scanner(1_000, { dedupe: false });
    for (const link of links) fresh.onLink(link);
    for (const m of markets.values()) fresh.onMarket(m);
    for (const link of oracleLinks.values()) fresh.onOracleLink(link);
    for (const tick of ticks) fresh.onTick(tick);
    for (const b of books.values()) fresh.onBook(b);
    // every latest book again, to both: the same opportunities (or none) from the same state
    for (const b of books.values()) {
      const got = probe(s, b);
      expect(got).toEqual(probe(fresh, b));
      if (got.opportunities.length > 0) found++;
      if (got.opportunities.some((o) => o.kind === 'oracle_lag')) lagFound++;
      if (Object.keys(got.pricing).some((k) => k.endsWith('priced'))) priced++;
    }
  }
  return { found, lagFound, priced };
}

describe('scanner: the flat hot state', () => {
  it('prices like a scanner built from the final state, whatever the order of updates', () => {
    let found = 0;
    let lagFound = 0;
    let priced = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const got = run(seed);
      found += got.found;
      lagFound += got.lagFound;
      priced += got.priced;
    }
    // the scenarios do cross edges: the comparisons are not all of empty lists
    expect(found).toBeGreaterThan(20);
    // and oracle_lag is priced, and found, on updates of oracle-linked markets
    expect(priced).toBeGreaterThan(20);
    expect(lagFound).toBeGreaterThan(0);
  });
});
