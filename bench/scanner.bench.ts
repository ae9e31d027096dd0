/**
 * scanner.ns_per_update_{1k,10k,100k}: opportunity-scanner work per order-book update with N markets loaded.
 *
 * N binary markets (half Polymarket, half Kalshi, with their venues' fee schedules), every second pair linked
 * cross-venue, one in ten in a 4-outcome negRisk group, one in twenty with an oracle link; two 5-level books
 * per market. Then a stream of book updates on random tokens (prices re-drawn around a no-arbitrage quote, about
 * 1% crossing into an opportunity) is fed to Scanner.onBook and timed. The books carry their token slot, as the
 * venue decoders' books do (src/core/token-slots.ts). The figure is the median over runs of
 * (CPU time ÷ updates) — CPU, not wall time, so that other processes sharing the cores do not inflate it (the
 * wall figure is logged too); it must stay flat in N because each update only touches its market, group, links.
 *
 * The stream asks the same work of every size; only the number of markets differs:
 * - a crossing is undone by the next update (the same token back to its quote), so whether an update finds its
 *   partner crossed does not depend on N (left in place, a crossed token stayed crossed for a few updates at 1k
 *   but for several runs at 100k, where most tokens are never updated);
 * - the clock advances 1 ms per reading and each crossing has its own depth, so dedupe never hides a crossing's
 *   work (with a frozen clock, repeats of the same replayed crossing were suppressed more at some sizes than at
 *   others; live, the clock moves and depth differs).
 * Before, a run published 453 opportunities at 1k, 339 at 10k and 41 at 100k; now about 600 at each size.
 */
import { createIds } from '../src/core/agent.ts';
import type { FeeSchedule, Market, MarketLink, OracleLink, OrderBook, Venue } from '../src/core/messages.ts';
import { mulberry32 } from '../src/core/prng.ts';
import { tokenSlot } from '../src/core/token-slots.ts';
import { Scanner } from '../src/scanner/scanner.ts';
import { type BenchContext, median, nowNs, repeat } from './harness.ts';

const PM: FeeSchedule = {
  kind: 'polymarket',
  rate: 40_000,
  exponent: 1,
  takerOnly: true,
  rebateRate: 250_000,
};
const KX: FeeSchedule = { kind: 'kalshi', takerCoeff: 70_000, makerCoeff: 0 };

const prng = mulberry32;

function market(i: number): Market {
  const venue: Venue = i % 2 === 0 ? 'polymarket' : 'kalshi';
  const id = `m${i}`;
  return {
    type: 'market',
    venue,
    marketId: id,
    question: id,
    rules: '',
    outcomes: [
      { tokenId: `${id}y`, label: 'Yes', side: 'yes' },
      { tokenId: `${id}n`, label: 'No', side: 'no' },
    ],
    tickSize: 10_000,
    minSize: 0,
    fees: venue === 'polymarket' ? PM : KX,
    endTime: null,
    status: 'open',
    version: 'v1',
    receiveTime: 0,
    ...(i % 10 < 4 && i % 40 < 4 ? { negRiskGroup: `g${Math.floor(i / 40)}` } : {}),
  };
}

function levels(best: number, step: number): [number, number][] {
  const out: [number, number][] = [];
  for (let k = 0; k < 5; k++) out.push([best + k * step, 50_000_000 + k * 25_000_000]);
  return out;
}

/** `depth` > 0 makes the best ask `depth` shares deep (a crossing: its own size, see the header). */
function bookFor(m: Market, token: string, cents: number, depth = 0): OrderBook {
  const asks = levels(cents * 10_000, 10_000);
  if (depth > 0) asks[0]![1] = depth * 10_000;
  return {
    type: 'book',
    venue: m.venue,
    marketId: m.marketId,
    tokenId: token,
    // stamped as the venue decoders stamp theirs (from the per-token state they look up anyway)
    slot: tokenSlot(m.venue, token),
    asks,
    bids: levels((cents - 2) * 10_000, -10_000),
    stale: false,
    receiveTime: 1_000,
  };
}

function load(n: number): { s: Scanner; markets: Market[] } {
  // a clock that advances 1 ms per reading (one reading per book update): dedupe entries expire as they do live
  let clock = 1_000;
  const s = new Scanner({ now: () => clock++, ids: createIds('b') });
  const markets: Market[] = [];
  for (let i = 0; i < n; i++) {
    const m = market(i);
    markets.push(m);
    s.onMarket(m);
    // quotes summing to 1.02 on the asks: no arbitrage
    s.onBook(bookFor(m, m.outcomes[0]!.tokenId, 50));
    s.onBook(bookFor(m, m.outcomes[1]!.tokenId, 52));
  }
  for (let i = 0; i + 1 < n; i += 4) {
    const link: MarketLink = {
      type: 'link',
      a: { venue: markets[i]!.venue, marketId: markets[i]!.marketId },
      b: { venue: markets[i + 1]!.venue, marketId: markets[i + 1]!.marketId },
      relation: 'identical',
      confidence: 0.95,
      stage: 'rules',
      reasons: [],
      decidedAt: 0,
    };
    s.onLink(link);
  }
  for (let i = 0; i < n; i += 20) {
    const m = markets[i]!;
    const ol: OracleLink = {
      type: 'oracle_link',
      market: { venue: m.venue, marketId: m.marketId },
      symbol: 'BTC/USD',
      asset: 'BTC',
      kind: 'above',
      strike: 100_000 * 100_000_000,
      expiry: 1_000 + 3_600_000,
      settlementSource: 'chainlink',
      yesToken: m.outcomes[0]!.tokenId,
      noToken: m.outcomes[1]!.tokenId,
    };
    s.onOracleLink(ol);
  }
  s.onTick({
    type: 'tick',
    source: 'chainlink',
    symbol: 'BTC/USD',
    price: 100_000 * 100_000_000,
    stale: false,
    receiveTime: 1_000,
  });
  return { s, markets };
}

function updates(markets: readonly Market[], count: number, seed: number): OrderBook[] {
  const r = prng(seed);
  const out: OrderBook[] = [];
  let crossings = 0;
  while (out.length < count) {
    const m = markets[Math.floor(r() * markets.length)]!;
    const yes = r() < 0.5;
    const token = m.outcomes[yes ? 0 : 1]!.tokenId;
    // mostly 50–51 (YES) and 52–53 (NO): no edge
    const quote = (yes ? 50 : 52) + Math.floor(r() * 2);
    if (r() < 0.01 && out.length + 2 <= count) {
      // about 1% at 45, which crosses into an opportunity (best ask 20.01, 20.02 … shares: never a repeat),
      // then the same token back at its quote, so that no crossing outlives its update (see the header)
      crossings++;
      out.push(bookFor(m, token, 45, 2_000 + crossings));
      out.push(bookFor(m, token, quote));
    } else out.push(bookFor(m, token, quote));
  }
  return out;
}

export async function run(ctx: BenchContext): Promise<void> {
  const sizes: [string, number][] = [
    ['1k', 1_000],
    ['10k', 10_000],
    ['100k', 100_000],
  ];
  // many short runs: the median filters out runs disturbed by GC or other processes
  const perRun = ctx.quick ? 10_000 : 50_000;
  const runs = ctx.quick ? 3 : 15;
  for (const [label, n] of sizes) {
    const { s, markets } = load(n);
    const ups = updates(markets, perRun, n);
    // warm-up (JIT)
    for (let i = 0; i < Math.min(20_000, ups.length); i++) s.onBook(ups[i]!);
    let opps = 0;
    const wall: number[] = [];
    const samples = await repeat(runs, () => {
      const c0 = process.cpuUsage();
      const t0 = nowNs();
      for (let i = 0; i < ups.length; i++) opps += s.onBook(ups[i]!).length;
      wall.push((nowNs() - t0) / ups.length);
      const c = process.cpuUsage(c0);
      return ((c.user + c.system) * 1000) / ups.length;
    });
    ctx.log(
      `scanner ${label}: wall ${median(wall).toFixed(0)} ns/update (inflated when other processes share the cores)`,
    );
    ctx.record(
      `scanner.ns_per_update_${label}`,
      median(samples),
      `Scanner.onBook CPU time per update (process.cpuUsage, so other processes on the machine do not inflate it), ${n} markets loaded (links, negRisk groups, oracle links), ${ups.length} updates × ${runs} runs, median; ${Math.round(opps / runs)} opportunities per run`,
    );
  }
}
