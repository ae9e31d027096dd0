/**
 * The simulated market: a seeded, deterministic generator of raw frames in the venues' real wire formats.
 *
 * What it simulates (all from one seeded PRNG, no Math.random, no wall clock):
 * - spot per asset (BTC, ETH): a random walk with jumps, published as Binance combined-stream `trade` and
 *   `bookTicker` frames and as Chainlink price reports (Polymarket RTDS `crypto_prices_chainlink` shape);
 * - crypto threshold markets on BOTH venues for the same asset/strike/expiry (Gamma market objects with
 *   JSON-string arrays and feeSchedule; Kalshi market objects with *_dollars/*_fp fields and KXBTCD-style
 *   tickers), some worded "below" on Polymarket (YES/NO inverted), several strikes per expiry (logically linked:
 *   above 100k implies above 99k); BTC markets settle on Binance BTC/USDT, ETH markets on Chainlink ETH/USD;
 * - non-crypto binary markets (some on both venues), and a Polymarket negRisk event with an "Other" placeholder;
 * - books that follow fair value with a lag and noise (Polymarket WS `book`/`price_change`, Kalshi WS
 *   `orderbook_snapshot`/`orderbook_delta` with seq), trades, and resolutions at expiry (`market_resolved`,
 *   Kalshi market `finalized`), after which a new market of the same tenor is listed;
 * - injected mispricings of each kind: cross-venue, YES+NO rebalancing, negRisk sum < 1, oracle lag,
 *   combinatorial (a higher strike priced above a lower one).
 *
 * Same options and seed → the same frames, byte for byte. `advance(t)` returns every frame up to time t.
 */

import { flat, flatten } from '../../core/flat.ts';
import { formatFixed, toDecimal } from '../../core/money.ts';
import { normCdf } from '../../core/normal.ts';
import type { RawFrame } from '../../feeds/types.ts';
import { LEVELS, Levels } from './levels.ts';
import { createRng, type Rng } from './prng.ts';

export type MispricingKind = 'cross_venue' | 'rebalancing' | 'negrisk' | 'oracle_lag' | 'combinatorial';
export const MISPRICING_KINDS: readonly MispricingKind[] = [
  'cross_venue',
  'rebalancing',
  'negrisk',
  'oracle_lag',
  'combinatorial',
];

export interface SimOptions {
  /** PRNG seed (default 1). */
  readonly seed?: number;
  /** Simulated start time, epoch ms (default 2026-11-26T14:00:00Z, fixed so captures are reproducible). */
  readonly start?: number;
  /** Crypto threshold markets per venue (default 12). */
  readonly markets?: number;
  /** Book re-quotes per simulated second, across all markets (default 20). */
  readonly eventRate?: number;
  /** Injected mispricings per simulated minute (default 2). */
  readonly mispricingRate?: number;
  /** How far books lag fair value, ms (default 1500; Kalshi lags 500 ms more). */
  readonly lagMs?: number;
  /** Standard deviation of quote noise, in cents (default 0.4). */
  readonly noiseCents?: number;
  /** Interval of spot trades/bookTickers per asset, ms (default 250). */
  readonly spotIntervalMs?: number;
  /** Interval of Chainlink reports per asset, ms (default 1000). */
  readonly chainlinkIntervalMs?: number;
  /** Tenors of the crypto markets, minutes (default 15, 30, 60, 1440). */
  readonly tenorsMinutes?: readonly number[];
  /** A stress scenario on top of the normal market (default none). */
  readonly stress?: SimStress;
  /**
   * The demo's showcase: from this time (epoch ms) on, one mispricing of each kind in turn, every
   * SHOWCASE_EVERY_MS, before the random ones resume, so a short run shows every kind (default none).
   */
  readonly showcaseFrom?: number;
}

/** Gap between the showcase's mispricings: each kind is on the books for a few seconds before the next. */
export const SHOWCASE_EVERY_MS = 7_000;

/**
 * Stress: an oracle crash, wider spreads, a venue that goes silent. Times are ms after the start. None of it
 * draws from the PRNG, so up to the first stress the frames are those of the same seed without stress.
 */
export interface SimStress {
  /** Every asset's spot falls `crashPct`% (default 30) over `crashMs` (default 60 s) from this time on. */
  readonly crashAtMs?: number;
  readonly crashPct?: number;
  readonly crashMs?: number;
  /** From `spreadAtMs` (default 0) on, every book's spread is `spreadMult` times as wide. */
  readonly spreadMult?: number;
  readonly spreadAtMs?: number;
  /** From `dropAtMs` (default 0) on, nothing more comes from this venue: no books, trades, listings or resolutions. */
  readonly dropVenue?: 'polymarket' | 'kalshi';
  readonly dropAtMs?: number;
}

/** The `--stress` preset for a run of `minutes`: crash at a third, spreads ×4 from then, Kalshi gone at two thirds. */
export function stressPreset(minutes: number): SimStress {
  const ms = minutes * 60_000;
  return {
    crashAtMs: Math.round(ms / 3),
    crashPct: 30,
    crashMs: 60_000,
    spreadMult: 4,
    spreadAtMs: Math.round(ms / 3),
    dropVenue: 'kalshi',
    dropAtMs: Math.round((2 * ms) / 3),
  };
}

export interface SimPairInfo {
  readonly kind: 'crypto' | 'binary' | 'negrisk';
  readonly polymarket: { readonly marketId: string; readonly yesToken: string; readonly noToken: string };
  readonly kalshi: { readonly marketId: string; readonly yesToken: string; readonly noToken: string };
  readonly inverted: boolean;
  readonly asset?: string;
  readonly strike?: number;
  readonly expiry?: number;
  readonly group?: number;
  readonly settlement?: 'binance' | 'chainlink';
}

export interface SimDescription {
  readonly pairs: readonly SimPairInfo[];
  readonly negRisk: readonly {
    readonly marketId: string;
    readonly yesToken: string;
    readonly other: boolean;
  }[];
}

export const DEFAULT_SIM_START = Date.UTC(2026, 10, 26, 14, 0, 0);

// ------------------------------------------------------------------------------------------------ model types

type AssetSym = 'BTC' | 'ETH';

interface Asset {
  sym: AssetSym;
  name: string;
  /** settles on */
  oracle: 'binance' | 'chainlink';
  spot: number;
  chainlink: number;
  vol: number;
  step: number;
  hist: { t: number[]; s: number[]; head: number };
  tradeId: number;
  updateId: number;
}

interface CryptoTopic {
  kind: 'crypto';
  asset: Asset;
  strike: number;
  expiry: number;
  tenorMin: number;
  group: number;
}
interface BinaryTopic {
  kind: 'binary';
  /** logit of fair value */
  x: number;
}
interface NegRiskTopic {
  kind: 'negrisk';
  weights: number[];
  index: number;
}
type Topic = CryptoTopic | BinaryTopic | NegRiskTopic;

interface Dist {
  /** cents added to the YES mid */
  shift: number;
  /** cents subtracted from the whole NO book (Polymarket rebalancing) */
  noShift: number;
  until: number;
  kind: MispricingKind | '';
}

/** price cents → size in centi-shares, best level first (see Levels) */
type Side = Levels;

interface BaseMarket {
  topic: Topic;
  /** YES pays when the condition is false ("below" wording of an above-topic). */
  inverted: boolean;
  spread: number;
  dist: Dist;
  frozenUntil: number;
  live: boolean;
  endMs: number;
}

interface PmMarket extends BaseMarket {
  venue: 'polymarket';
  gammaId: string;
  conditionId: string;
  yesToken: string;
  noToken: string;
  /** Absent on crypto markets: built from the topic when a frame needs it (see pmText). */
  text?: PmText;
  feeRate: number;
  feeType: string;
  negRiskId?: string;
  eventId: string;
  groupItemTitle?: string;
  other?: boolean;
  yes: { bids: Side; asks: Side };
  no: { bids: Side; asks: Side };
}

interface KxMarket extends BaseMarket {
  venue: 'kalshi';
  ticker: string;
  eventTicker: string;
  seriesTicker: string;
  marketId: string;
  /** Absent on crypto markets: built from the topic when a frame needs it (see kxText). */
  text?: KxText;
  floorStrike?: number;
  yesBids: Side;
  noBids: Side;
}

type AnyMarket = PmMarket | KxMarket;

/**
 * The texts of a listing. A crypto market keeps none: they are built from its topic whenever a frame needs them
 * (listing, resolution), so 100,000 simulated markets do not hold ~100 MB of prose the venue frames already carry.
 */
interface PmText {
  question: string;
  description: string;
  slug: string;
  resolutionSource: string;
  eventTitle: string;
}
interface KxText {
  title: string;
  yesSub: string;
  rulesPrimary: string;
  rulesSecondary: string;
  settlementName: string;
  settlementUrl: string;
}

interface Pair {
  pm: PmMarket;
  kx?: KxMarket;
}

// ------------------------------------------------------------------------------------------------ formatting

const ET = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  year: 'numeric',
  month: 'long',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  hour12: true,
});
const ET24 = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  year: '2-digit',
  month: 'short',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
});

/**
 * The parts of `t` in `fmt`, remembered per (formatter, time): a market's texts are built from its expiry, which
 * thousands of markets share (a roll-over lists a quarter of 100,000 markets at once), and formatToParts was the
 * largest cost of a listing. Bounded: cleared past PARTS_CACHE_MAX entries.
 */
const partsCache = new Map<Intl.DateTimeFormat, Map<number, Record<string, string>>>();
const PARTS_CACHE_MAX = 4096;
function parts(fmt: Intl.DateTimeFormat, t: number): Record<string, string> {
  let byTime = partsCache.get(fmt);
  if (!byTime) {
    byTime = new Map();
    partsCache.set(fmt, byTime);
  }
  let out = byTime.get(t);
  if (out) return out;
  out = {};
  for (const p of fmt.formatToParts(new Date(t))) out[p.type] = p.value;
  if (byTime.size >= PARTS_CACHE_MAX) byTime.clear();
  byTime.set(t, out);
  return out;
}

/** "December 31, 2026 at 12:00 PM ET" */
export function etLong(t: number): string {
  const p = parts(ET, t);
  return `${p.month} ${p.day}, ${p.year} at ${p.hour}:${p.minute} ${p.dayPeriod} ET`;
}
/** "Dec 31, 2026 at 12:00 PM ET" (Kalshi style) */
function etShort(t: number): string {
  const p = parts(ET, t);
  return `${p.month!.slice(0, 3)} ${p.day}, ${p.year} at ${p.hour}:${p.minute} ${p.dayPeriod} ET`;
}
/** "26DEC3112" or "26DEC311215" when not on the hour (Kalshi event ticker date). */
function kalshiDate(t: number): string {
  const p = parts(ET24, t);
  const hour = p.hour === '24' ? '00' : p.hour!;
  const base = `${p.year}${p.month!.toUpperCase()}${p.day}${hour}`;
  return p.minute === '00' ? base : `${base}${p.minute}`;
}
/** ISO time without milliseconds, remembered per time like `parts` (every listed market carries a few). */
const isoCache = new Map<number, string>();
function iso(t: number): string {
  let s = isoCache.get(t);
  if (s === undefined) {
    s = new Date(t).toISOString().replace('.000Z', 'Z');
    if (isoCache.size >= PARTS_CACHE_MAX) isoCache.clear();
    isoCache.set(t, s);
  }
  return s;
}
// formatters made once: toLocaleString builds one per call, slow across tens of thousands of simulated markets
const USD = new Intl.NumberFormat('en-US');
const USD2 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const usd = (n: number): string => `$${USD.format(n)}`;
const usd2 = (n: number): string => `$${USD2.format(n)}`;
/** cents → Polymarket price string ("0.45") */
const pmPrice = (c: number): string => toDecimal(c * 10_000);
/** centi-shares → Polymarket size string ("250", "26.66") */
const pmSize = (cs: number): string => toDecimal(cs * 10_000);
/** cents → Kalshi dollars ("0.4500") */
const kxPrice = (c: number): string => formatFixed(c * 100, 4);
/** centi-contracts → Kalshi count_fp ("250.00", "-12.00") */
const kxCount = (cs: number): string => formatFixed(cs, 2);
/** spot → Binance 8-decimal string */
const e8 = (x: number): string => `${x.toFixed(2)}000000`;

const YEAR_MS = 365 * 24 * 3600 * 1000;
/** Page sizes of the REST listings, the venues' own: Gamma `limit` 500, Kalshi events 200, markets 1000. */
const GAMMA_PAGE = 500;
const KALSHI_EVENTS_PAGE = 200;
const KALSHI_MARKETS_PAGE = 1000;
const clampC = (c: number): number => Math.min(99, Math.max(1, c));

/** Where a crypto market settles, in the words of its listing. */
function cryptoSource(asset: Asset): { pair: string; srcName: string; srcUrl: string; srcText: string } {
  const pair = asset.sym === 'BTC' ? 'BTC/USDT' : 'ETH/USD';
  return {
    pair,
    srcName: asset.oracle === 'binance' ? 'Binance' : 'Chainlink',
    srcUrl:
      asset.oracle === 'binance'
        ? `https://www.binance.com/en/trade/${asset.sym}_USDT`
        : `https://data.chain.link/streams/${asset.sym.toLowerCase()}-usd`,
    srcText:
      asset.oracle === 'binance'
        ? `the Binance ${pair} price (the close of the 1 minute candle ending at that time)`
        : `the Chainlink ${pair} data stream price at that time`,
  };
}

/** A Polymarket market's texts: stored ones, or a crypto market's built from its topic (flat, see `flatten`). */
function pmText(m: PmMarket): PmText {
  if (m.text) return m.text;
  const t = m.topic as CryptoTopic;
  const { asset, strike, expiry } = t;
  const { pair, srcName, srcUrl, srcText } = cryptoSource(asset);
  const dateText = etLong(expiry);
  const word = m.inverted ? 'below' : 'above';
  return {
    question: flatten(`Will the price of ${asset.name} be ${word} ${usd(strike)} on ${dateText}?`),
    description: flatten(
      `This market will resolve to "Yes" if the price of ${asset.name} (${asset.sym}) is ${word} ${usd(strike)} on ${dateText}, ` +
        `according to ${srcText}. Otherwise, this market will resolve to "No".\n` +
        `The resolution source for this market is ${srcName}, specifically the ${pair} price available at ${srcUrl}.`,
    ),
    slug: flatten(`${asset.name.toLowerCase()}-${word}-${strike}-on-${expiry}`),
    resolutionSource: srcUrl,
    eventTitle: flatten(`${asset.name} above ___ on ${dateText}?`),
  };
}

/** A Kalshi market's texts: stored ones, or a crypto market's built from its topic. */
function kxText(k: KxMarket): KxText {
  if (k.text) return k.text;
  const { asset, strike, expiry } = k.topic as CryptoTopic;
  const { pair, srcName, srcUrl, srcText } = cryptoSource(asset);
  return {
    title: flatten(`${asset.name} price on ${etShort(expiry)}?`),
    yesSub: flatten(`${usd(strike)} or above`),
    rulesPrimary: flatten(
      `If the price of ${asset.name} is above ${usd2(strike)} on ${etShort(expiry)} according to ${srcText}, then the market resolves to Yes.`,
    ),
    rulesSecondary: flatten(
      `The settlement source is ${srcName} ${pair} (${srcUrl}). If the source is unavailable at expiry, the last price published before expiry is used.`,
    ),
    settlementName: srcName,
    settlementUrl: srcUrl,
  };
}

// ------------------------------------------------------------------------------------------------ the simulator

interface Scheduled {
  at: number;
  seq: number;
  run: () => void;
}

export interface SimStats {
  frames: number;
  requotes: number;
  trades: number;
  resolutions: number;
  mispricings: Record<string, number>;
}

export class SimMarket {
  readonly start: number;
  private readonly rng: Rng;
  private readonly o: Required<Omit<SimOptions, 'seed' | 'start' | 'stress' | 'showcaseFrom'>>;
  /** Kinds still to show, in order (SimOptions.showcaseFrom). */
  private readonly showcase: MispricingKind[] = [];
  private readonly showcaseFrom: number | undefined;
  private readonly stress: SimStress;
  private now: number;
  private out: RawFrame[] = [];
  private seq = 0;
  /** A binary min-heap on (at, seq): the next event in O(log n), not a scan of every scheduled one. */
  private readonly sched: Scheduled[] = [];
  private readonly assets: Asset[];
  /** The listed pairs and markets not resolved yet: a resolved one leaves them at the next re-quote (dropResolved). */
  private pairs: Pair[] = [];
  private markets: AnyMarket[] = [];
  private readonly negRisk: PmMarket[] = [];
  private kxSeq = { book: 0, trade: 0 };
  private gammaId = 700_000;
  private groupSeq = 0;
  /**
   * Strikes listed per `asset|expiry` (one market each), and per stride where a probe from a taken strike may jump
   * to (every strike it skips stays taken), so listing N groups on one expiry is not O(N²). Forgotten once the
   * expiry is past: nothing is listed on a past expiry.
   */
  private readonly listed = new Map<
    string,
    { taken: Set<number>; jumps: Map<number, Map<number, number>> }
  >();
  /** The crypto pairs of each group, in listing order (a roll-over looks its group up; forgotten once it did). */
  private readonly groupPairs = new Map<number, Pair[]>();
  /** A market resolved since `markets` and `pairs` were last filtered on `live`. */
  private resolvedListed = false;
  /** Kalshi series whose fee schedule was published. */
  private readonly seriesListed = new Set<string>();
  private started = false;
  readonly stats: SimStats = { frames: 0, requotes: 0, trades: 0, resolutions: 0, mispricings: {} };

  constructor(opts: SimOptions = {}) {
    this.rng = createRng(opts.seed ?? 1);
    this.start = opts.start ?? DEFAULT_SIM_START;
    this.now = this.start;
    this.o = {
      markets: opts.markets ?? 12,
      eventRate: opts.eventRate ?? 20,
      mispricingRate: opts.mispricingRate ?? 2,
      lagMs: opts.lagMs ?? 1500,
      noiseCents: opts.noiseCents ?? 0.4,
      spotIntervalMs: opts.spotIntervalMs ?? 250,
      chainlinkIntervalMs: opts.chainlinkIntervalMs ?? 1000,
      tenorsMinutes: opts.tenorsMinutes ?? [15, 30, 60, 1440],
    };
    this.stress = opts.stress ?? {};
    this.showcaseFrom = opts.showcaseFrom;
    if (opts.showcaseFrom !== undefined) this.showcase.push(...MISPRICING_KINDS);
    const r = this.rng;
    const mkAsset = (
      sym: AssetSym,
      name: string,
      spot: number,
      vol: number,
      step: number,
      oracle: Asset['oracle'],
    ): Asset => ({
      sym,
      name,
      oracle,
      spot,
      chainlink: spot,
      vol,
      step,
      hist: { t: [this.start], s: [spot], head: 0 },
      tradeId: 4_000_000_000 + r.int(0, 1_000_000),
      updateId: 60_000_000_000 + r.int(0, 1_000_000),
    });
    this.assets = [
      mkAsset('BTC', 'Bitcoin', Math.round(97_000 + r.next() * 4_000), 0.6, 1000, 'binance'),
      mkAsset('ETH', 'Ethereum', Math.round(3_300 + r.next() * 300), 0.75, 50, 'chainlink'),
    ];
  }

  /** Current simulated time. */
  get time(): number {
    return this.now;
  }

  /**
   * What the simulator listed and has not resolved yet (a resolved market is dropped at the next re-quote), for
   * tests and demos: the crypto pairs (same asset, strike and expiry on both
   * venues; `inverted` when Polymarket words it "below") and the negRisk group's YES tokens.
   */
  describe(): SimDescription {
    return {
      pairs: this.pairs
        .filter((p) => p.kx)
        .map((p) => ({
          kind: p.pm.topic.kind,
          polymarket: { marketId: p.pm.conditionId, yesToken: p.pm.yesToken, noToken: p.pm.noToken },
          kalshi: { marketId: p.kx!.ticker, yesToken: `${p.kx!.ticker}:yes`, noToken: `${p.kx!.ticker}:no` },
          inverted: p.pm.inverted,
          ...(p.pm.topic.kind === 'crypto'
            ? {
                asset: p.pm.topic.asset.sym,
                strike: p.pm.topic.strike,
                expiry: p.pm.topic.expiry,
                group: p.pm.topic.group,
                settlement: p.pm.topic.asset.oracle,
              }
            : {}),
        })),
      negRisk: this.negRisk.map((m) => ({
        marketId: m.conditionId,
        yesToken: m.yesToken,
        other: m.other === true,
      })),
    };
  }

  /**
   * Every frame with ts ≤ t (the listing and first snapshots come first, at the start time). With `maxFrames`,
   * stops after the event that brought the frames out to that many: the rest comes with the next call (see
   * `due`), and the frames, in sequence, are the same whatever the batches (a roll-over relisting a quarter of
   * 100,000 markets need not be made in one go).
   */
  advance(t: number, maxFrames = Number.POSITIVE_INFINITY): RawFrame[] {
    this.out = [];
    if (!this.started) this.init();
    let done = true;
    for (;;) {
      const top = this.sched[0];
      if (!top || top.at > t) break;
      if (this.out.length >= maxFrames) {
        done = false;
        break;
      }
      const s = this.popSched();
      if (s.at > this.now) this.now = s.at;
      s.run();
    }
    // only once every event up to t has run: an event left for the next call runs at its own time
    if (done && t > this.now) this.now = t;
    const frames = this.out;
    this.out = [];
    this.stats.frames += frames.length;
    return frames;
  }

  /** Whether events up to `t` are still to run (an advance(t, maxFrames) stopped early). */
  due(t: number): boolean {
    const top = this.sched[0];
    return top !== undefined && top.at <= t;
  }

  // -------------------------------------------------------------------------------------------- set-up

  private at(at: number, run: () => void): void {
    const h = this.sched;
    const item: Scheduled = { at, seq: this.seq++, run };
    let i = h.length;
    h.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = item;
  }

  private popSched(): Scheduled {
    const h = this.sched;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const c = l + 1 < h.length && before(h[l + 1]!, h[l]!) ? l + 1 : l;
        if (!before(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  /** The first strike from `strike` on, in steps of `stride`, not yet listed for `key`; taken for the caller. */
  private takeStrike(key: string, strike: number, stride: number): number {
    let at = this.listed.get(key);
    if (!at) {
      at = { taken: new Set(), jumps: new Map() };
      this.listed.set(key, at);
    }
    const taken = at.taken;
    let jumps = at.jumps.get(stride);
    if (!jumps) {
      jumps = new Map();
      at.jumps.set(stride, jumps);
    }
    let s = strike;
    const path: number[] = [];
    while (taken.has(s)) {
      path.push(s);
      s = jumps.get(s) ?? s + stride;
    }
    for (const p of path) jumps.set(p, s);
    taken.add(s);
    return s;
  }

  private emit(source: string, data: unknown, req?: RawFrame['req']): void {
    const drop = this.stress.dropVenue;
    if (drop && this.now >= this.start + (this.stress.dropAtMs ?? 0) && source.startsWith(`${drop}.`)) return;
    this.out.push(
      req
        ? { ts: this.now, source: `sim.${source}`, data, req }
        : { ts: this.now, source: `sim.${source}`, data },
    );
  }

  private init(): void {
    this.started = true;
    const r = this.rng;
    const tenors = this.o.tenorsMinutes;
    // crypto threshold markets: groups of up to 3 strikes per (asset, expiry)
    let made = 0;
    let g = 0;
    while (made < this.o.markets) {
      const asset = this.assets[g % 2]!;
      const tenor = tenors[Math.floor(g / 2) % tenors.length]!;
      const n = Math.min(3, this.o.markets - made);
      this.makeCryptoGroup(asset, tenor, this.firstExpiry(tenor), n);
      made += n;
      g++;
    }
    this.makeBinaries();
    this.makeNegRisk();
    this.listing(this.markets, true);
    // schedules
    for (const a of this.assets) {
      this.at(this.now + this.o.spotIntervalMs, () => this.spotTick(a));
      this.at(this.now + this.o.chainlinkIntervalMs, () => this.chainlinkTick(a));
    }
    if (this.o.eventRate > 0)
      this.at(this.now + Math.ceil(r.exp(this.o.eventRate) * 1000), () => this.requoteEvent());
    if (this.showcase.length > 0) {
      this.at(Math.max(this.now + 1, this.showcaseFrom ?? 0), () => this.mispricingEvent());
    } else if (this.o.mispricingRate > 0) {
      this.at(this.now + Math.ceil(r.exp(this.o.mispricingRate / 60) * 1000), () => this.mispricingEvent());
    }
  }

  private firstExpiry(tenorMin: number): number {
    const ms = tenorMin * 60_000;
    if (tenorMin >= 1440) {
      // next day 12:00 PM ET (17:00 UTC in winter, 16:00 in summer: use 17:00 UTC, labels come from the tz)
      const d = new Date(this.start);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1, 17, 0, 0);
    }
    return (Math.floor(this.start / ms) + 1) * ms;
  }

  private newDist(): Dist {
    return { shift: 0, noShift: 0, until: 0, kind: '' };
  }

  private makeCryptoGroup(asset: Asset, tenorMin: number, expiry: number, n: number): void {
    const r = this.rng;
    const group = this.groupSeq++;
    const atm = Math.round(asset.spot / asset.step) * asset.step;
    const offsets = n === 1 ? [0] : n === 2 ? [0, 1] : [-1, 0, 1];
    const kDate = kalshiDate(expiry);
    const series = asset.sym === 'BTC' ? 'KXBTCD' : 'KXETHD';
    const eventTicker = flat(series, '-', kDate);
    for (let j = 0; j < offsets.length; j++) {
      // one market per (asset, expiry, strike): a rolled-over group can land on another group's expiry
      const strike = this.takeStrike(
        `${asset.sym}|${expiry}`,
        atm + offsets[j]! * asset.step,
        offsets.length * asset.step,
      );
      const topic: CryptoTopic = { kind: 'crypto', asset, strike, expiry, tenorMin, group };
      const inverted = (group + j) % 4 === 3;
      const pm = this.newPm(topic, inverted, {
        feeRate: 0.07,
        feeType: 'crypto_fees',
        endMs: expiry,
      });
      const ticker = flat(eventTicker, '-T', strike);
      const kx: KxMarket = {
        venue: 'kalshi',
        topic,
        inverted: false,
        spread: r.int(1, 2),
        dist: this.newDist(),
        frozenUntil: 0,
        live: true,
        endMs: expiry,
        ticker,
        eventTicker,
        seriesTicker: series,
        marketId: this.uuid(),
        floorStrike: strike,
        yesBids: new Levels(-1),
        noBids: new Levels(-1),
      };
      this.markets.push(pm, kx);
      const listedPair = { pm, kx };
      this.pairs.push(listedPair);
      const members = this.groupPairs.get(group);
      if (members) members.push(listedPair);
      else this.groupPairs.set(group, [listedPair]);
      this.at(expiry, () => this.expire(pm, kx));
    }
  }

  private newPm(
    topic: Topic,
    inverted: boolean,
    f: {
      text?: PmText;
      feeRate: number;
      feeType: string;
      endMs: number;
      negRiskId?: string;
      eventId?: string;
      groupItemTitle?: string;
      other?: boolean;
    },
  ): PmMarket {
    const r = this.rng;
    const gammaId = String(++this.gammaId);
    return {
      venue: 'polymarket',
      topic,
      inverted,
      spread: r.int(1, 2),
      dist: this.newDist(),
      frozenUntil: 0,
      live: true,
      endMs: f.endMs,
      gammaId,
      conditionId: flat('0x', r.hex(64)),
      yesToken: r.digits(77),
      noToken: r.digits(77),
      ...(f.text ? { text: f.text } : {}),
      feeRate: f.feeRate,
      feeType: f.feeType,
      ...(f.negRiskId ? { negRiskId: f.negRiskId } : {}),
      eventId: f.eventId ?? String(300_000 + Number(gammaId)),
      ...(f.groupItemTitle ? { groupItemTitle: f.groupItemTitle } : {}),
      ...(f.other ? { other: true } : {}),
      yes: { bids: new Levels(-1), asks: new Levels(1) },
      no: { bids: new Levels(-1), asks: new Levels(1) },
    };
  }

  private makeBinaries(): void {
    const r = this.rng;
    const far = this.start + 30 * 24 * 3600_000;
    const defs: { pm?: [string, string]; kx?: [string, string, string, string]; p: number }[] = [
      {
        p: 0.35,
        pm: [
          'Will the Federal Reserve cut interest rates at its December 2026 meeting?',
          'This market will resolve to "Yes" if the Federal Reserve announces a cut of its target federal funds rate at its December 2026 FOMC meeting, according to the official FOMC statement. Otherwise "No".',
        ],
        kx: [
          'KXFEDCUT',
          'KXFEDCUT-26DEC',
          'Will the Federal Reserve cut rates at its December 2026 meeting?',
          'If the Federal Reserve announces a cut of the target federal funds rate at its December 2026 meeting, according to the FOMC statement, then the market resolves to Yes.',
        ],
      },
      {
        p: 0.55,
        pm: [
          'Will US CPI inflation for November 2026 be above 3.0%?',
          'This market will resolve to "Yes" if the year-over-year CPI-U inflation rate for November 2026 published by the Bureau of Labor Statistics is above 3.0%. Otherwise "No".',
        ],
        kx: [
          'KXCPIYOY',
          'KXCPIYOY-26NOV',
          'Will CPI inflation for November 2026 be above 3.0%?',
          'If the year-over-year CPI-U inflation for November 2026, as published by the Bureau of Labor Statistics, is above 3.0%, then the market resolves to Yes.',
        ],
      },
      {
        p: 0.2,
        pm: [
          'Will SpaceX land a Starship booster on the launch tower before January 1, 2027?',
          'This market will resolve to "Yes" if SpaceX catches a Starship Super Heavy booster with the launch tower before January 1, 2027, ET. Otherwise "No".',
        ],
      },
      {
        p: 0.3,
        kx: [
          'KXSNOWNYC',
          'KXSNOWNYC-26DEC25',
          'Will it snow in Central Park on Dec 25, 2026?',
          'If measurable snowfall (0.1 inches or more) is recorded at Central Park, New York, on Dec 25, 2026 according to the National Weather Service, then the market resolves to Yes.',
        ],
      },
    ];
    for (const d of defs) {
      const topic: BinaryTopic = { kind: 'binary', x: Math.log(d.p / (1 - d.p)) };
      let pm: PmMarket | undefined;
      if (d.pm) {
        pm = this.newPm(topic, false, {
          text: {
            question: d.pm[0],
            description: d.pm[1],
            slug: d.pm[0]
              .toLowerCase()
              .replace(/[^a-z0-9]+/g, '-')
              .replace(/^-|-$/g, ''),
            resolutionSource: '',
            eventTitle: d.pm[0],
          },
          feeRate: 0.04,
          feeType: 'politics_fees',
          endMs: far,
        });
        this.markets.push(pm);
      }
      if (d.kx) {
        const kx: KxMarket = {
          venue: 'kalshi',
          topic,
          inverted: false,
          spread: r.int(1, 2),
          dist: this.newDist(),
          frozenUntil: 0,
          live: true,
          endMs: far,
          ticker: `${d.kx[1]}-Y`,
          eventTicker: d.kx[1],
          seriesTicker: d.kx[0],
          marketId: this.uuid(),
          text: {
            title: d.kx[2],
            yesSub: 'Yes',
            rulesPrimary: d.kx[3],
            rulesSecondary: '',
            settlementName: 'Official source',
            settlementUrl: '',
          },
          yesBids: new Levels(-1),
          noBids: new Levels(-1),
        };
        this.markets.push(kx);
        if (pm) this.pairs.push({ pm, kx });
      }
    }
  }

  private makeNegRisk(): void {
    const names = ['Gavin Newsom', 'Alexandria Ocasio-Cortez', 'Pete Buttigieg', 'Josh Shapiro', 'Other'];
    const weights = [0.32, 0.18, 0.14, 0.12, 0.24];
    const negRiskId = `0x${this.rng.hex(64)}`;
    const eventId = '990001';
    const end = Date.UTC(2028, 7, 31, 0, 0, 0);
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const other = name === 'Other';
      const question = other
        ? 'Will another person win the 2028 Democratic presidential nomination?'
        : `Will ${name} win the 2028 Democratic presidential nomination?`;
      const pm = this.newPm({ kind: 'negrisk', weights, index: i }, false, {
        text: {
          question,
          description: `This market will resolve to "Yes" if ${other ? 'a person not listed in this event' : name} wins and accepts the 2028 nomination of the Democratic Party for U.S. president. Otherwise "No".`,
          slug: `democratic-nominee-2028-${name.toLowerCase().replace(/[^a-z]+/g, '-')}`,
          resolutionSource: '',
          eventTitle: 'Democratic Presidential Nominee 2028',
        },
        feeRate: 0.04,
        feeType: 'politics_fees',
        endMs: end,
        negRiskId,
        eventId,
        groupItemTitle: name,
        other,
      });
      this.markets.push(pm);
      this.negRisk.push(pm);
    }
  }

  private uuid(): string {
    const h = this.rng.hex(32);
    // joined, not a template: one flat string instead of a tree of slices and cons strings (~750 B per id)
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join('-');
  }

  // -------------------------------------------------------------------------------------------- fair value

  private spotAt(a: Asset, t: number): number {
    const h = a.hist;
    // binary search the last sample at or before t
    let lo = h.head;
    let hi = h.t.length - 1;
    if (h.t[lo]! > t) return h.s[lo]!;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (h.t[mid]! <= t) lo = mid;
      else hi = mid - 1;
    }
    return h.s[lo]!;
  }

  /** Fair value of the topic's YES (0..1), as seen `lag` ms ago. */
  private fair(topic: Topic, lag: number): number {
    switch (topic.kind) {
      case 'crypto': {
        const t = this.now - lag;
        const s =
          topic.asset.oracle === 'binance' ? this.spotAt(topic.asset, t) : this.spotAt(topic.asset, t);
        const tau = (topic.expiry - t) / YEAR_MS;
        if (tau <= 0) return s > topic.strike ? 1 : 0;
        const sd = topic.asset.vol * Math.sqrt(tau);
        return normCdf((Math.log(s / topic.strike) - 0.5 * sd * sd) / sd);
      }
      case 'binary':
        return 1 / (1 + Math.exp(-topic.x));
      case 'negrisk': {
        let sum = 0;
        for (const w of topic.weights) sum += w;
        return topic.weights[topic.index]! / sum;
      }
    }
  }

  // -------------------------------------------------------------------------------------------- quoting

  /** Target YES book of a market in cents: [bids, asks] as maps. */
  private target(m: AnyMarket, prev: { bids: Side; asks: Side }): { bids: Side; asks: Side } {
    const lag = this.o.lagMs + (m.venue === 'kalshi' ? 500 : 0);
    let f = this.fair(m.topic, lag);
    if (m.inverted) f = 1 - f;
    const mid = f * 100 + this.rng.gauss() * this.o.noiseCents + (m.dist.until > this.now ? m.dist.shift : 0);
    const st = this.stress;
    const spread =
      st.spreadMult !== undefined && this.now >= this.start + (st.spreadAtMs ?? 0)
        ? Math.max(1, Math.round(m.spread * st.spreadMult))
        : m.spread;
    // never crossed or locked: 1 ≤ best bid < best ask ≤ 99
    const bb = Math.min(98, clampC(Math.round(mid - spread / 2)));
    const ba = Math.min(99, bb + spread);
    const bids = new Levels(-1);
    const asks = new Levels(1);
    for (let k = 0; k < LEVELS; k++) {
      const pb = bb - k;
      if (pb >= 1) bids.push(pb, this.sizeFor(prev.bids.get(pb)));
      const pa = ba + k;
      if (pa <= 99) asks.push(pa, this.sizeFor(prev.asks.get(pa)));
    }
    return { bids, asks };
  }

  /** Keeps most existing sizes so a re-quote changes a few levels, not all. */
  private sizeFor(prev: number | undefined): number {
    if (prev !== undefined && this.rng.next() < 0.9) return prev;
    const r = this.rng.next();
    // mostly whole shares, sometimes fractional
    return r < 0.8 ? this.rng.int(20, 1500) * 100 : this.rng.int(2000, 150_000);
  }

  private requote(m: AnyMarket, snapshot: boolean): void {
    if (!m.live) return;
    if (!snapshot && m.frozenUntil > this.now) return;
    this.stats.requotes++;
    if (m.venue === 'polymarket') this.requotePm(m, snapshot);
    else this.requoteKx(m, snapshot);
  }

  private requotePm(m: PmMarket, snapshot: boolean): void {
    const yes = this.target(m, m.yes);
    const cut = m.dist.until > this.now ? m.dist.noShift : 0;
    // the NO book mirrors YES through 1 (complementary orders), shifted down in a rebalancing mispricing
    const no: { bids: Side; asks: Side } = { bids: new Levels(-1), asks: new Levels(1) };
    for (let i = 0; i < yes.asks.size; i++) {
      const p = 100 - yes.asks.priceAt(i) - cut;
      if (p >= 1) no.bids.push(p, yes.asks.sizeAt(i));
    }
    for (let i = 0; i < yes.bids.size; i++) {
      const p = 100 - yes.bids.priceAt(i) - cut;
      if (p <= 99 && p >= 1) no.asks.push(p, yes.bids.sizeAt(i));
    }
    if (snapshot) {
      m.yes = yes;
      m.no = no;
      return;
    }
    const changes: unknown[] = [];
    this.diffPm(m.yesToken, m.yes, yes, changes);
    this.diffPm(m.noToken, m.no, no, changes);
    m.yes = yes;
    m.no = no;
    if (changes.length === 0) return;
    this.emit('polymarket.ws.market', {
      market: m.conditionId,
      price_changes: changes,
      timestamp: String(this.now),
      event_type: 'price_change',
    });
  }

  private diffPm(
    asset: string,
    before: { bids: Side; asks: Side },
    after: { bids: Side; asks: Side },
    out: unknown[],
  ): void {
    const bestBid = maxKey(after.bids);
    const bestAsk = minKey(after.asks);
    const bb = bestBid === undefined ? '0' : pmPrice(bestBid);
    const ba = bestAsk === undefined ? '1' : pmPrice(bestAsk);
    // levels best first, then the levels gone (the order of the venue's price_change)
    const side = (b: Side, a: Side, name: 'BUY' | 'SELL'): void => {
      for (let i = 0; i < a.size; i++) {
        const p = a.priceAt(i);
        const s = a.sizeAt(i);
        if (b.get(p) !== s) out.push(this.change(asset, p, s, name, bb, ba));
      }
      for (let i = 0; i < b.size; i++) {
        const p = b.priceAt(i);
        if (!a.has(p)) out.push(this.change(asset, p, 0, name, bb, ba));
      }
    };
    side(before.bids, after.bids, 'BUY');
    side(before.asks, after.asks, 'SELL');
  }

  private change(asset: string, p: number, s: number, side: string, bb: string, ba: string): unknown {
    return {
      asset_id: asset,
      price: pmPrice(p),
      size: pmSize(s),
      side,
      hash: this.rng.hex(40),
      best_bid: bb,
      best_ask: ba,
    };
  }

  private requoteKx(m: KxMarket, snapshot: boolean): void {
    const yes = this.target(m, { bids: m.yesBids, asks: m.noBids.mirror() });
    const noBids = yes.asks.mirror();
    if (snapshot) {
      m.yesBids = yes.bids;
      m.noBids = noBids;
      return;
    }
    // as on the venue, liquidity leaves before the new orders arrive: decreases first, so no intermediate book
    // is crossed (a YES bid at or above the implied YES ask)
    const deltas = [...this.diffKx('yes', m.yesBids, yes.bids), ...this.diffKx('no', m.noBids, noBids)];
    m.yesBids = yes.bids;
    m.noBids = noBids;
    for (const d of deltas) if (d.delta < 0) this.emitDelta(m, d);
    for (const d of deltas) if (d.delta > 0) this.emitDelta(m, d);
  }

  private diffKx(
    side: 'yes' | 'no',
    before: Side,
    after: Side,
  ): { side: 'yes' | 'no'; price: number; delta: number }[] {
    const prices = new Set<number>();
    for (let i = 0; i < before.size; i++) prices.add(before.priceAt(i));
    for (let i = 0; i < after.size; i++) prices.add(after.priceAt(i));
    const out: { side: 'yes' | 'no'; price: number; delta: number }[] = [];
    for (const p of [...prices].sort((a, b) => a - b)) {
      const d = (after.get(p) ?? 0) - (before.get(p) ?? 0);
      if (d !== 0) out.push({ side, price: p, delta: d });
    }
    return out;
  }

  private emitDelta(m: KxMarket, d: { side: 'yes' | 'no'; price: number; delta: number }): void {
    this.emit('kalshi.ws', {
      type: 'orderbook_delta',
      sid: 1,
      seq: ++this.kxSeq.book,
      msg: {
        market_ticker: m.ticker,
        market_id: m.marketId,
        price_dollars: kxPrice(d.price),
        delta_fp: kxCount(d.delta),
        side: d.side,
        ts: new Date(this.now).toISOString(),
        ts_ms: this.now,
      },
    });
  }

  // -------------------------------------------------------------------------------------------- listings

  /** REST listings (Gamma, Kalshi) and first book snapshots of `ms`. */
  private listing(ms: readonly AnyMarket[], first: boolean): void {
    const pms = ms.filter((m): m is PmMarket => m.venue === 'polymarket');
    const kxs = ms.filter((m): m is KxMarket => m.venue === 'kalshi');
    for (const m of ms) this.requote(m, true);
    if (pms.length > 0) {
      // in pages, as the venue serves them: a listing of 50,000 markets is 100 frames, not one, so the feed can
      // hand the event loop back between them (one page at the sizes of the default market: frames unchanged)
      const gamma = pms.map((m) => this.gammaMarket(m));
      for (let i = 0; i < gamma.length; i += GAMMA_PAGE) {
        this.emit('polymarket.gamma.markets', gamma.slice(i, i + GAMMA_PAGE), {
          method: 'GET',
          path: '/markets',
          query: { active: 'true', closed: 'false', limit: String(GAMMA_PAGE), offset: String(i) },
        });
      }
      const nr = pms.filter((m) => m.negRiskId);
      if (first && nr.length > 0) {
        const e = nr[0]!;
        this.emit('polymarket.gamma.events', [this.gammaEvent(e, nr)], {
          method: 'GET',
          path: '/events',
          query: { active: 'true', closed: 'false', limit: '100', offset: '0' },
        });
      }
    }
    if (kxs.length > 0) {
      // fees are per series on Kalshi: the series' schedule comes before its markets
      for (const k of kxs) {
        if (this.seriesListed.has(k.seriesTicker)) continue;
        this.seriesListed.add(k.seriesTicker);
        this.emit(
          'kalshi.rest.series',
          { series: { ticker: k.seriesTicker, fee_type: 'quadratic', fee_multiplier: 1 } },
          { method: 'GET', path: `/trade-api/v2/series/${k.seriesTicker}` },
        );
      }
      const events = new Map<string, KxMarket>();
      for (const k of kxs) if (!events.has(k.eventTicker)) events.set(k.eventTicker, k);
      const evs = [...events.values()].map((k) => this.kalshiEvent(k));
      // paged with a cursor, as the venue does (every event page before the first market page)
      for (let i = 0; i < evs.length; i += KALSHI_EVENTS_PAGE) {
        const more = i + KALSHI_EVENTS_PAGE < evs.length;
        this.emit(
          'kalshi.rest.events',
          { events: evs.slice(i, i + KALSHI_EVENTS_PAGE), cursor: more ? `e${i + KALSHI_EVENTS_PAGE}` : '' },
          {
            method: 'GET',
            path: '/trade-api/v2/events',
            query: {
              status: 'open',
              limit: String(KALSHI_EVENTS_PAGE),
              ...(i > 0 ? { cursor: `e${i}` } : {}),
            },
          },
        );
      }
      const kms = kxs.map((k) => this.kalshiMarket(k));
      for (let i = 0; i < kms.length; i += KALSHI_MARKETS_PAGE) {
        const more = i + KALSHI_MARKETS_PAGE < kms.length;
        this.emit(
          'kalshi.rest.markets',
          {
            markets: kms.slice(i, i + KALSHI_MARKETS_PAGE),
            cursor: more ? `m${i + KALSHI_MARKETS_PAGE}` : '',
          },
          {
            method: 'GET',
            path: '/trade-api/v2/markets',
            query: {
              status: 'open',
              limit: String(KALSHI_MARKETS_PAGE),
              ...(i > 0 ? { cursor: `m${i}` } : {}),
            },
          },
        );
      }
    }
    if (pms.length > 0) {
      const books: unknown[] = [];
      for (const m of pms) {
        books.push(this.pmBook(m, m.yesToken, m.yes), this.pmBook(m, m.noToken, m.no));
      }
      // the first snapshots come in batches too (one frame per subscription message of up to GAMMA_PAGE assets)
      for (let i = 0; i < books.length; i += GAMMA_PAGE)
        this.emit('polymarket.ws.market', books.slice(i, i + GAMMA_PAGE));
    }
    for (const k of kxs) {
      const msg: Record<string, unknown> = { market_ticker: k.ticker, market_id: k.marketId };
      if (k.yesBids.size > 0)
        msg.yes_dollars_fp = ascLevels(k.yesBids).map(([p, s]) => [kxPrice(p), kxCount(s)]);
      if (k.noBids.size > 0)
        msg.no_dollars_fp = ascLevels(k.noBids).map(([p, s]) => [kxPrice(p), kxCount(s)]);
      this.emit('kalshi.ws', { type: 'orderbook_snapshot', sid: 1, seq: ++this.kxSeq.book, msg });
    }
  }

  private pmBook(m: PmMarket, asset: string, b: { bids: Side; asks: Side }): unknown {
    // P8: bids ascending, asks descending (best last)
    return {
      market: m.conditionId,
      asset_id: asset,
      timestamp: String(this.now),
      hash: this.rng.hex(40),
      bids: ascLevels(b.bids).map(([p, s]) => ({ price: pmPrice(p), size: pmSize(s) })),
      asks: ascLevels(b.asks)
        .reverse()
        .map(([p, s]) => ({ price: pmPrice(p), size: pmSize(s) })),
      event_type: 'book',
      tick_size: '0.01',
      last_trade_price: '',
    };
  }

  private gammaMarket(m: PmMarket): Record<string, unknown> {
    const bb = maxKey(m.yes.bids) ?? 0;
    const ba = minKey(m.yes.asks) ?? 100;
    const mid = (bb + ba) / 2;
    const yesP = toDecimal(Math.round(mid * 5000) * 2);
    const noP = toDecimal(1_000_000 - Math.round(mid * 5000) * 2);
    const t = pmText(m);
    const out: Record<string, unknown> = {
      id: m.gammaId,
      question: t.question,
      conditionId: m.conditionId,
      slug: t.slug,
      resolutionSource: t.resolutionSource,
      endDate: iso(m.endMs),
      liquidity: '25000.5',
      startDate: iso(this.start - 86_400_000),
      description: t.description,
      outcomes: '["Yes", "No"]',
      outcomePrices: JSON.stringify([yesP, noP]),
      volume: '10250.25',
      active: true,
      closed: false,
      enableOrderBook: true,
      orderPriceMinTickSize: 0.01,
      orderMinSize: 5,
      volumeNum: 10250.25,
      liquidityNum: 25000.5,
      endDateIso: iso(m.endMs).slice(0, 10),
      clobTokenIds: JSON.stringify([m.yesToken, m.noToken]),
      acceptingOrders: true,
      negRisk: m.negRiskId !== undefined,
      ...(m.negRiskId ? { negRiskMarketID: m.negRiskId, negRiskRequestID: `0x${this.rng.hex(64)}` } : {}),
      ...(m.groupItemTitle ? { groupItemTitle: m.groupItemTitle } : {}),
      negRiskOther: m.other === true,
      spread: (ba - bb) / 100,
      bestBid: bb / 100,
      bestAsk: ba / 100,
      lastTradePrice: bb / 100,
      feesEnabled: true,
      feeType: m.feeType,
      feeSchedule: { exponent: 1, rate: m.feeRate, takerOnly: true, rebateRate: 0.25 },
      events: [
        {
          id: m.eventId,
          slug: t.slug,
          title: t.eventTitle,
          negRisk: m.negRiskId !== undefined,
          ...(m.negRiskId ? { negRiskMarketID: m.negRiskId, negRiskAugmented: true } : {}),
        },
      ],
    };
    return out;
  }

  private gammaEvent(e: PmMarket, ms: readonly PmMarket[]): Record<string, unknown> {
    return {
      id: e.eventId,
      ticker: 'democratic-presidential-nominee-2028',
      slug: 'democratic-presidential-nominee-2028',
      title: pmText(e).eventTitle,
      description: 'Who will win the 2028 Democratic presidential nomination?',
      endDate: iso(e.endMs),
      active: true,
      closed: false,
      negRisk: true,
      negRiskMarketID: e.negRiskId,
      enableNegRisk: true,
      negRiskAugmented: true,
      markets: ms.map((m) => {
        const g = this.gammaMarket(m);
        delete g.events;
        return g;
      }),
    };
  }

  private kalshiMarket(k: KxMarket, result?: 'yes' | 'no'): Record<string, unknown> {
    const yb = maxKey(k.yesBids);
    const nb = maxKey(k.noBids);
    const t = kxText(k);
    const out: Record<string, unknown> = {
      can_close_early: false,
      close_time: iso(k.endMs),
      created_time: iso(this.start - 86_400_000),
      event_ticker: k.eventTicker,
      expected_expiration_time: iso(k.endMs),
      expiration_time: iso(k.endMs),
      expiration_value: result ? String(k.floorStrike ?? '') : '',
      fractional_trading_enabled: false,
      last_price_dollars: kxPrice(yb ?? 0),
      latest_expiration_time: iso(k.endMs),
      liquidity_dollars: '0.0000',
      market_type: 'binary',
      no_ask_dollars: kxPrice(yb === undefined ? 100 : 100 - yb),
      no_bid_dollars: kxPrice(nb ?? 0),
      no_sub_title: t.yesSub,
      notional_value_dollars: '1.0000',
      open_interest_fp: '1500.00',
      open_time: iso(this.start - 86_400_000),
      price_level_structure: 'linear_cent',
      price_ranges: [{ end: '1.0000', start: '0.0000', step: '0.0100' }],
      response_price_units: 'usd_cent',
      result: result ?? '',
      rules_primary: t.rulesPrimary,
      rules_secondary: t.rulesSecondary,
      settlement_timer_seconds: 60,
      status: result ? 'finalized' : 'active',
      ...(k.floorStrike !== undefined ? { strike_type: 'greater', floor_strike: k.floorStrike } : {}),
      ticker: k.ticker,
      title: t.title,
      updated_time: iso(this.now),
      volume_24h_fp: '3200.00',
      volume_fp: '5400.00',
      yes_ask_dollars: kxPrice(nb === undefined ? 100 : 100 - nb),
      yes_ask_size_fp: kxCount(nb === undefined ? 0 : (k.noBids.get(nb) ?? 0)),
      yes_bid_dollars: kxPrice(yb ?? 0),
      yes_bid_size_fp: kxCount(yb === undefined ? 0 : (k.yesBids.get(yb) ?? 0)),
      yes_sub_title: t.yesSub,
    };
    return out;
  }

  private kalshiEvent(k: KxMarket): Record<string, unknown> {
    const crypto = k.topic.kind === 'crypto';
    const t = kxText(k);
    return {
      category: crypto ? 'Crypto' : 'Economics',
      collateral_return_type: crypto ? 'DIRECNET' : 'MECNET',
      event_ticker: k.eventTicker,
      mutually_exclusive: false,
      series_ticker: k.seriesTicker,
      settlement_sources: t.settlementUrl ? [{ name: t.settlementName, url: t.settlementUrl }] : [],
      strike_date: iso(k.endMs),
      sub_title: crypto ? `On ${etShort(k.endMs)}` : '',
      title: t.title,
    };
  }

  // -------------------------------------------------------------------------------------------- events

  private spotTick(a: Asset): void {
    const r = this.rng;
    const dtYears = this.o.spotIntervalMs / YEAR_MS;
    let ret = a.vol * Math.sqrt(dtYears) * r.gauss();
    // jumps: about one per 10 minutes per asset
    if (r.next() < this.o.spotIntervalMs / 600_000)
      ret += (r.next() < 0.5 ? -1 : 1) * (0.002 + r.next() * 0.004);
    // stress: the crash, spread evenly over its duration
    const st = this.stress;
    if (st.crashAtMs !== undefined) {
      const from = this.start + st.crashAtMs;
      const span = st.crashMs ?? 60_000;
      if (this.now > from && this.now <= from + span) {
        const step = Math.min(this.o.spotIntervalMs, this.now - from);
        ret += Math.log(1 - (st.crashPct ?? 30) / 100) * (step / span);
      }
    }
    this.setSpot(a, a.spot * Math.exp(ret));
    this.at(this.now + this.o.spotIntervalMs, () => this.spotTick(a));
  }

  private setSpot(a: Asset, spot: number): void {
    a.spot = Math.round(spot * 100) / 100;
    const h = a.hist;
    h.t.push(this.now);
    h.s.push(a.spot);
    // keep a minute of history for the lagged fair value
    while (h.head < h.t.length - 1 && h.t[h.head + 1]! < this.now - 60_000) h.head++;
    if (h.head > 4096) {
      h.t = h.t.slice(h.head);
      h.s = h.s.slice(h.head);
      h.head = 0;
    }
    const r = this.rng;
    const stream = `${a.sym.toLowerCase()}usdt`;
    const sym = `${a.sym}USDT`;
    const half = a.sym === 'BTC' ? 0.01 : 0.01;
    this.emit('binance.ws', {
      stream: `${stream}@trade`,
      data: {
        e: 'trade',
        E: this.now,
        s: sym,
        t: ++a.tradeId,
        p: e8(a.spot),
        q: `0.${String(r.int(1000, 99999)).padStart(5, '0')}000`,
        T: this.now - 1,
        m: r.next() < 0.5,
        M: true,
      },
    });
    this.emit('binance.ws', {
      stream: `${stream}@bookTicker`,
      data: {
        u: ++a.updateId,
        s: sym,
        b: e8(a.spot - half),
        B: `${r.int(1, 9)}.${String(r.int(0, 99999)).padStart(5, '0')}000`,
        a: e8(a.spot),
        A: `${r.int(1, 9)}.${String(r.int(0, 99999)).padStart(5, '0')}000`,
      },
    });
  }

  private chainlinkTick(a: Asset): void {
    // Chainlink tracks spot with a small deviation
    a.chainlink = Math.round(a.spot * (1 + this.rng.gauss() * 0.00005) * 100) / 100;
    this.emit('chainlink.ws', chainlinkReport(a.sym, a.chainlink, this.now));
    this.at(this.now + this.o.chainlinkIntervalMs, () => this.chainlinkTick(a));
  }

  private requoteEvent(): void {
    const r = this.rng;
    // rebuilt only after a listing or an expiry (the filter over every market, 20 times a second, was the cost)
    if (this.resolvedListed) this.dropResolved();
    const live = this.markets;
    if (live.length > 0) {
      const m = r.pick(live);
      // non-crypto fair values drift a little on each of their re-quotes
      if (m.topic.kind === 'binary') m.topic.x += r.gauss() * 0.02;
      if (m.topic.kind === 'negrisk') {
        const w = m.topic.weights;
        w[m.topic.index] = Math.max(0.01, w[m.topic.index]! * Math.exp(r.gauss() * 0.02));
      }
      if (m.dist.until !== 0 && m.dist.until <= this.now) m.dist = this.newDist();
      this.requote(m, false);
      if (r.next() < 0.15) this.trade(m);
    }
    this.at(this.now + Math.max(1, Math.ceil(r.exp(this.o.eventRate) * 1000)), () => this.requoteEvent());
  }

  /**
   * Resolved markets out of `markets` and `pairs`, so their books and ids are not kept for the run's life (a
   * roll-over lists a quarter of 100,000 markets anew every 15 minutes). Lazily, at the next re-quote: once per
   * batch of expiries, not a scan per expiry. The order of the others is kept (a re-quote picks among them).
   */
  private dropResolved(): void {
    this.markets = this.markets.filter((m) => m.live);
    this.pairs = this.pairs.filter((p) => p.pm.live);
    this.resolvedListed = false;
  }

  private trade(m: AnyMarket): void {
    const r = this.rng;
    this.stats.trades++;
    if (m.venue === 'polymarket') {
      const buy = r.next() < 0.5;
      const p = buy ? minKey(m.yes.asks) : maxKey(m.yes.bids);
      if (p === undefined) return;
      this.emit('polymarket.ws.market', {
        asset_id: m.yesToken,
        event_type: 'last_trade_price',
        fee_rate_bps: '0',
        market: m.conditionId,
        price: pmPrice(p),
        side: buy ? 'BUY' : 'SELL',
        size: pmSize(r.int(5, 500) * 100),
        timestamp: String(this.now),
        transaction_hash: `0x${r.hex(64)}`,
      });
      return;
    }
    const yesTaker = r.next() < 0.5;
    const yesPrice = yesTaker ? minKey(m.noBids.mirror()) : maxKey(m.yesBids);
    if (yesPrice === undefined) return;
    this.emit('kalshi.ws', {
      type: 'trade',
      sid: 2,
      seq: ++this.kxSeq.trade,
      msg: {
        trade_id: this.uuid(),
        market_ticker: m.ticker,
        yes_price_dollars: kxPrice(yesPrice),
        no_price_dollars: kxPrice(100 - yesPrice),
        count_fp: kxCount(r.int(1, 300) * 100),
        taker_side: yesTaker ? 'yes' : 'no',
        ts: Math.floor(this.now / 1000),
      },
    });
  }

  private mispricingEvent(): void {
    const r = this.rng;
    const shown = this.showcase.shift();
    const kind = shown ?? r.pick(MISPRICING_KINDS);
    // a showcased mispricing stays on the books long enough for every agent of a busy machine to act on it
    const until = this.now + (shown ? 6_000 : r.int(3_000, 12_000));
    const touched: AnyMarket[] = [];
    const livePairs = this.pairs.filter((p) => p.pm.live && p.kx?.live);
    switch (kind) {
      case 'cross_venue': {
        if (livePairs.length === 0) break;
        const p = r.pick(livePairs);
        const d = p.pm.spread + p.kx!.spread + r.int(2, 5);
        p.pm.dist = { shift: r.next() < 0.5 ? d : -d, noShift: 0, until, kind };
        touched.push(p.pm);
        break;
      }
      case 'rebalancing': {
        const pms = this.markets.filter(
          (m): m is PmMarket => m.venue === 'polymarket' && m.live && !m.negRiskId,
        );
        if (pms.length === 0) break;
        if (shown) {
          // the showcase's must be worth trading after fees (a random one often is not: a 1-cent cut on a crypto
          // market near 50 cents costs more in taker fees than it pays): the market whose YES+NO pair pays the
          // least in fees, away from the price bounds (where the NO book cannot move down), with the widest cut
          // of the random range
          const inside = pms.filter((x) => {
            const a = minKey(x.yes.asks) ?? 0;
            return a >= 10 && a <= 90;
          });
          const m = (inside.length > 0 ? inside : pms).reduce((best, x) =>
            pairFeeCents(x) < pairFeeCents(best) ? x : best,
          );
          m.dist = { shift: 0, noShift: m.spread + 4, until, kind };
          touched.push(m);
          break;
        }
        const m = r.pick(pms);
        m.dist = { shift: 0, noShift: m.spread + r.int(1, 4), until, kind };
        touched.push(m);
        break;
      }
      case 'negrisk': {
        for (const m of this.negRisk) {
          m.dist = { shift: -(m.spread + r.int(2, 3)), noShift: 0, until, kind };
          touched.push(m);
        }
        break;
      }
      case 'oracle_lag': {
        const a = r.pick(this.assets);
        this.setSpot(a, a.spot * (1 + (r.next() < 0.5 ? -1 : 1) * (0.006 + r.next() * 0.006)));
        for (const m of this.markets) {
          if (m.live && m.topic.kind === 'crypto' && m.topic.asset === a) m.frozenUntil = until;
        }
        this.at(until, () => {
          for (const m of this.markets)
            if (m.topic.kind === 'crypto' && m.topic.asset === a) this.requote(m, false);
        });
        break;
      }
      case 'combinatorial': {
        // a higher strike priced above a lower strike of the same asset and expiry, "above" wording on both
        const groups = new Map<number, PmMarket[]>();
        for (const p of this.pairs) {
          const t = p.pm.topic;
          if (t.kind !== 'crypto' || !p.pm.live || p.pm.inverted) continue;
          const g = groups.get(t.group) ?? [];
          g.push(p.pm);
          groups.set(t.group, g);
        }
        const cands = [...groups.values()].filter((g) => g.length >= 2);
        if (cands.length === 0) break;
        const g = r.pick(cands);
        g.sort((x, y) => (x.topic as CryptoTopic).strike - (y.topic as CryptoTopic).strike);
        const lo = g[0]!;
        const hi = g[g.length - 1]!;
        const gap = Math.round((this.fair(lo.topic, 0) - this.fair(hi.topic, 0)) * 100);
        hi.dist = { shift: gap + lo.spread + r.int(2, 4), noShift: 0, until, kind };
        touched.push(hi);
        break;
      }
    }
    if (touched.length > 0 || kind === 'oracle_lag') {
      this.stats.mispricings[kind] = (this.stats.mispricings[kind] ?? 0) + 1;
    }
    for (const m of touched) this.requote(m, false);
    // and back to normal when it ends
    if (touched.length > 0) {
      this.at(until, () => {
        for (const m of touched) {
          if (m.dist.until === until) m.dist = this.newDist();
          this.requote(m, false);
        }
      });
    }
    if (this.showcase.length > 0) this.at(this.now + SHOWCASE_EVERY_MS, () => this.mispricingEvent());
    else if (this.o.mispricingRate > 0) {
      this.at(this.now + Math.max(1, Math.ceil(r.exp(this.o.mispricingRate / 60) * 1000)), () =>
        this.mispricingEvent(),
      );
    }
  }

  private expire(pm: PmMarket, kx: KxMarket): void {
    const t = pm.topic as CryptoTopic;
    const a = t.asset;
    const settle = a.oracle === 'binance' ? a.spot : a.chainlink;
    const above = settle > t.strike;
    const pmYes = pm.inverted ? settle < t.strike : above;
    pm.live = false;
    kx.live = false;
    this.resolvedListed = true;
    this.stats.resolutions += 2;
    this.emit('polymarket.ws.market', {
      event_type: 'market_resolved',
      id: pm.gammaId,
      market: pm.conditionId,
      assets_ids: [pm.yesToken, pm.noToken],
      winning_asset_id: pmYes ? pm.yesToken : pm.noToken,
      winning_outcome: pmYes ? 'Yes' : 'No',
      timestamp: String(this.now),
      tags: ['crypto'],
    });
    this.emit(
      'kalshi.rest.markets',
      { markets: [this.kalshiMarket(kx, above ? 'yes' : 'no')], cursor: '' },
      { method: 'GET', path: '/trade-api/v2/markets', query: { tickers: kx.ticker } },
    );
    // roll over: list the next market of the same tenor once per group (on its first strike)
    const groupMarkets = this.groupPairs.get(t.group) ?? [];
    if (groupMarkets[0]?.pm === pm) {
      // the group's other strikes expire now too and roll over with this one: the group is not looked up again
      this.groupPairs.delete(t.group);
      this.listed.delete(`${a.sym}|${t.expiry}`);
      const n = groupMarkets.length;
      const next = t.expiry + t.tenorMin * 60_000;
      const before = this.markets.length;
      this.makeCryptoGroup(a, t.tenorMin, next, n);
      this.listing(this.markets.slice(before), false);
    }
  }
}

/** Taker fees of buying one YES+NO set of a Polymarket market at its best asks, in cents (rate × p(1 − p) a leg). */
function pairFeeCents(m: PmMarket): number {
  const p = (minKey(m.yes.asks) ?? 50) / 100;
  return 2 * 100 * m.feeRate * p * (1 - p);
}

/** Heap order of scheduled events: by time, then by the order they were scheduled. */
const before = (a: Scheduled, b: Scheduled): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/** The highest price of a side (a bid side's best, an ask side's farthest level). */
function maxKey(s: Side): number | undefined {
  if (s.size === 0) return undefined;
  return s.dir === -1 ? s.priceAt(0) : s.priceAt(s.size - 1);
}
/** The lowest price of a side. */
function minKey(s: Side): number | undefined {
  if (s.size === 0) return undefined;
  return s.dir === 1 ? s.priceAt(0) : s.priceAt(s.size - 1);
}
function ascLevels(s: Side): [number, number][] {
  return s.ascending();
}

/** A Chainlink price report as the Polymarket RTDS relays it (topic crypto_prices_chainlink). */
export function chainlinkReport(sym: string, price: number, t: number): unknown {
  return {
    topic: 'crypto_prices_chainlink',
    type: 'update',
    timestamp: t,
    payload: { symbol: `${sym.toLowerCase()}/usd`, timestamp: t, value: price },
  };
}
