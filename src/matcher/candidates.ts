/**
 * Candidate pairs, without comparing every market with every other.
 *
 * Text: every market's text (question, Kalshi `yes_sub_title` / Polymarket group item title, event title,
 * outcome labels other than Yes/No; the slug or ticker when there is no question; date codes from tickers and
 * slugs) becomes normalized tokens (normalize.ts: names, numbers, dates, aliases), kept in an inverted index per
 * venue. A new market walks the postings of its rarest tokens in the other venue's index, within a fixed budget
 * of postings (twins meet on a name, a number, a date); its commoner tokens are then only tested against the best
 * markets met (a set lookup each, never a walk of a long posting list). The markets are scored by the cosine
 * similarity of IDF-weighted tokens, discounted when their end dates are far apart, and the best few kept. Work per
 * market is bounded by the budget, not by the listing size: the whole step is linear in the number of markets.
 * Structure: crypto markets are also indexed by asset and settlement instant, so same-asset markets settling
 * together meet whatever their wording (cross-venue and same-venue, for implies/exclusive links), nearest strikes
 * first.
 */
import type { Market } from '../core/messages.ts';
import type { MarketFacts } from './facts.ts';
import { idDateTokens, normalizeTokens } from './normalize.ts';

export interface CandidateOptions {
  /** Posting lists longer than this are never walked, only tested (default 500). */
  readonly maxPosting?: number;
  /** Postings walked per new market at most, rarest tokens first (default 200). */
  readonly visitBudget?: number;
  /** Markets met in the walk that the commoner tokens are tested against (default 128). */
  readonly pool?: number;
  /** Of those, the ones ranked by cosine in the end (default 16). */
  readonly refine?: number;
  /** Text candidates kept per new market (default 5). */
  readonly maxCandidates?: number;
  /** Cosine similarity a text candidate must reach (default 0.2). */
  readonly minScore?: number;
  /** Share of the best candidate's score the others must reach (default 0.5). */
  readonly relativeScore?: number;
  /** Same-asset crypto markets settling at the same instant kept per new market, nearest strikes first (default 6). */
  readonly maxStructural?: number;
}

interface Entry {
  /** dense integer id: postings and the score buffer are indexed by it */
  readonly id: number;
  readonly key: string;
  readonly venue: string;
  readonly market: Market;
  readonly tokens: readonly string[];
  /** the tokens as interned numbers: membership tests scan this short array, not a long posting set */
  readonly tokIds: Int32Array;
  readonly structKey: string | undefined;
  readonly strike: number | undefined;
  /** end time, NaN when none (kept here: reading it off the market objects of many shapes is slow) */
  readonly end: number;
  /** squared norm of the IDF vector, and the index size it was computed at */
  norm2: number;
  normAt: number;
}

const mk = (m: Market): string => `${m.venue}:${m.marketId}`;
const DAY = 86_400_000;

/** Everything a market says about what it is, for the text index. */
export function marketText(m: Market): string {
  const parts = [m.question, m.subtitle ?? '', m.eventTitle ?? ''];
  const labels = m.outcomes.filter((o) => o.side === 'other').map((o) => o.label);
  if (labels.length > 0) parts.push(labels.join(' '));
  if (m.question.trim() === '') parts.push(m.slug ?? '', m.marketId, m.eventId ?? '');
  return parts.filter((p) => p !== '').join(' \n ');
}

/** Date tokens a ticker or slug carries (Kalshi 26FEB25, slug 2026-02-25), for markets with a question too. */
function idDates(m: Market): string[] {
  return idDateTokens([m.marketId, m.eventId ?? '', m.slug ?? ''].join(' ')).filter((t) => t.startsWith('d'));
}

/** Normalized tokens of a market. */
export function marketTokens(m: Market): string[] {
  const toks = new Set(normalizeTokens(marketText(m)));
  for (const t of idDates(m)) toks.add(t);
  return [...toks];
}

function hasToken(ids: Int32Array, id: number): boolean {
  for (let i = 0; i < ids.length; i++) if (ids[i] === id) return true;
  return false;
}

/** The k-th largest value (1-based) of xs, by selection in place (Hoare): linear on average, no sort. */
function kthLargest(xs: Float64Array, k: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  const want = k - 1;
  while (lo < hi) {
    const pivot = xs[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (xs[i]! > pivot) i++;
      while (xs[j]! < pivot) j--;
      if (i <= j) {
        const t = xs[i]!;
        xs[i] = xs[j]!;
        xs[j] = t;
        i++;
        j--;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else return xs[want]!;
  }
  return xs[want]!;
}

/** The n pairs with the highest scores, best first. */
function topOf(xs: [Entry, number][], n: number): [Entry, number][] {
  if (xs.length <= n) return xs;
  return xs.sort((x, y) => y[1] - x[1] || x[0].id - y[0].id).slice(0, n);
}

/** Ranking order: higher score first, then by key (deterministic). */
const better = (e: Entry, score: number, than: readonly [Entry, number]): boolean =>
  score > than[1] || (score === than[1] && e.key < than[0].key);

/** Keeps end dates close: a weight in (0, 1] for how far apart two markets end. */
function endWeight(a: number, b: number): number {
  const gap = Math.abs(a - b);
  if (Number.isNaN(gap)) return 1;
  return gap <= 2 * DAY ? 1 : gap <= 45 * DAY ? 0.9 : gap <= 400 * DAY ? 0.75 : 0.5;
}

export class CandidateIndex {
  private readonly o: Required<CandidateOptions>;
  private readonly entries = new Map<string, Entry>();
  private readonly byId: (Entry | undefined)[] = [];
  /** venue → token → entry ids */
  private readonly postings = new Map<string, Map<string, Set<number>>>();
  private readonly structural = new Map<string, Set<Entry>>();
  /** partial scores by entry id, and the ids touched by the current query (reset after it) */
  private scoreBuf = new Float64Array(1_024);
  private readonly touched: number[] = [];
  private readonly tokenIds = new Map<string, number>();

  constructor(o: CandidateOptions = {}) {
    this.o = {
      maxPosting: 500,
      visitBudget: 200,
      pool: 128,
      refine: 16,
      maxCandidates: 5,
      minScore: 0.2,
      relativeScore: 0.5,
      maxStructural: 6,
      ...o,
    };
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): Market | undefined {
    return this.entries.get(key)?.market;
  }

  /** Adds or replaces a market; returns the candidates it forms with markets already indexed. */
  add(m: Market, facts: MarketFacts): Market[] {
    const key = mk(m);
    this.remove(key);
    const toks = marketTokens(m);
    const c = facts.crypto;
    // one asset at one settlement instant (and window start for up/down): the markets that can be identical,
    // inverted, implied or exclusive; another instant is a different settlement anyway
    const structKey = c && c.expiry !== undefined ? `${c.asset}|${c.start ?? ''}|${c.expiry}` : undefined;
    const entry: Entry = {
      id: this.byId.length,
      key,
      venue: m.venue,
      market: m,
      tokens: toks,
      tokIds: Int32Array.from(toks, (t) => this.tokenId(t)),
      structKey,
      strike: c?.strike,
      end: m.endTime ?? Number.NaN,
      norm2: 0,
      normAt: 0,
    };
    const found = this.query(entry);
    this.entries.set(key, entry);
    this.byId.push(entry);
    if (this.scoreBuf.length < this.byId.length) {
      const grown = new Float64Array(this.scoreBuf.length * 2);
      grown.set(this.scoreBuf);
      this.scoreBuf = grown;
    }
    let vp = this.postings.get(m.venue);
    if (!vp) {
      vp = new Map();
      this.postings.set(m.venue, vp);
    }
    for (const t of toks) {
      let s = vp.get(t);
      if (!s) {
        s = new Set();
        vp.set(t, s);
      }
      s.add(entry.id);
    }
    if (structKey) {
      let s = this.structural.get(structKey);
      if (!s) {
        s = new Set();
        this.structural.set(structKey, s);
      }
      s.add(entry);
    }
    return found;
  }

  remove(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.byId[e.id] = undefined;
    const vp = this.postings.get(e.venue);
    for (const t of e.tokens) {
      const s = vp?.get(t);
      s?.delete(e.id);
      if (s?.size === 0) vp!.delete(t);
    }
    if (e.structKey) this.structural.get(e.structKey)?.delete(e);
  }

  private tokenId(t: string): number {
    let id = this.tokenIds.get(t);
    if (id === undefined) {
      id = this.tokenIds.size;
      this.tokenIds.set(t, id);
    }
    return id;
  }

  private idf(df: number): number {
    return Math.log(1 + (this.entries.size + 1) / (1 + df));
  }

  /** Squared norm of an entry's IDF vector, recomputed when the index has doubled since. */
  private norm2(e: Entry): number {
    const n = this.entries.size;
    if (e.normAt > 0 && n < 2 * e.normAt) return e.norm2;
    let s = 0;
    for (const t of e.tokens) {
      const w = this.idf(this.dfAll(t));
      s += w * w;
    }
    e.norm2 = s;
    e.normAt = Math.max(1, n);
    return s;
  }

  private dfAll(t: string): number {
    let df = 0;
    for (const vp of this.postings.values()) df += vp.get(t)?.size ?? 0;
    return df;
  }

  /** The touched entries with the n highest partial scores (and any tied with the n-th), without sorting them. */
  private topTouched(n: number): [Entry, number][] {
    const buf = this.scoreBuf;
    const ids = this.touched;
    let floor = Number.NEGATIVE_INFINITY;
    if (ids.length > n) {
      const sc = Float64Array.from(ids, (id) => buf[id]!);
      floor = kthLargest(sc, n);
    }
    // above the n-th score, then as many tied with it as fit (ties beyond n are dropped in id order)
    const out: [Entry, number][] = [];
    for (const id of ids) if (buf[id]! > floor) out.push([this.byId[id]!, buf[id]!]);
    for (const id of ids) if (out.length < n && buf[id]! === floor) out.push([this.byId[id]!, buf[id]!]);
    return out;
  }

  private query(q: Entry): Market[] {
    const out = new Map<string, Market>();
    if (q.structKey) {
      const s = this.structural.get(q.structKey);
      if (s) {
        // an instant of one asset can list a hundred strikes: keep the nearest ones (implies/exclusive arbitrage
        // lives between neighbours; the same strike on the other venue is distance 0), by insertion
        const n = this.o.maxStructural;
        const near: [number, Entry][] = [];
        for (const e of s) {
          const d =
            q.strike === undefined || e.strike === undefined
              ? Number.MAX_SAFE_INTEGER
              : Math.abs(e.strike - q.strike);
          const closer = (x: [number, Entry]) => d < x[0] || (d === x[0] && e.key < x[1].key);
          if (near.length === n && !closer(near[n - 1]!)) continue;
          let at = near.length;
          while (at > 0 && closer(near[at - 1]!)) at--;
          near.splice(at, 0, [d, e]);
          if (near.length > n) near.pop();
        }
        for (const [, e] of near) out.set(e.key, e.market);
      }
    }
    const venue = q.venue;
    const toks: { w2: number; lists: Set<number>[]; size: number; id: number }[] = [];
    let qNorm2 = 0;
    for (const t of q.tokens) {
      const lists: Set<number>[] = [];
      let df = 0;
      let size = 0;
      for (const [v, vp] of this.postings) {
        const s = vp.get(t);
        if (!s) continue;
        df += s.size;
        if (v !== venue) {
          lists.push(s);
          size += s.size;
        }
      }
      const w = this.idf(df + 1);
      qNorm2 += w * w;
      if (size > 0) toks.push({ w2: w * w, lists, size, id: this.tokenIds.get(t)! });
    }
    this.lastRanked = [];
    if (toks.length === 0) return [...out.values()];
    toks.sort((x, y) => y.w2 - x.w2);
    // 1. the postings of the rarest tokens, within the visit budget: where twins meet (a name, a number, a date)
    const buf = this.scoreBuf;
    const touched = this.touched;
    let visited = 0;
    let i = 0;
    for (; i < toks.length; i++) {
      const t = toks[i]!;
      if (t.size > this.o.maxPosting || (visited > 0 && visited + t.size > this.o.visitBudget)) break;
      visited += t.size;
      for (const s of t.lists) {
        for (const id of s) {
          if (buf[id] === 0) touched.push(id);
          buf[id]! += t.w2;
        }
      }
    }
    // 2. the commoner tokens are tested against the best markets met (a scan of each one's few token ids, never
    // a walk of a long posting list), so markets that tie on the rare tokens (every "GDP above 2.5%") are told
    // apart by the next ones
    let pool = this.topTouched(this.o.pool);
    for (; i < toks.length; i++) {
      const t = toks[i]!;
      for (const b of pool) if (hasToken(b[0].tokIds, t.id)) b[1] += t.w2;
    }
    pool = topOf(pool, this.o.refine);
    for (const id of touched) buf[id] = 0;
    touched.length = 0;
    // the best few, kept by insertion (sorting every market met would cost more than meeting them)
    const keep = Math.max(this.o.maxCandidates, 20);
    const ranked: [Entry, number][] = [];
    const qn = Math.sqrt(qNorm2);
    for (const [e, sc] of pool) {
      const cos = (sc / (qn * Math.sqrt(this.norm2(e)))) * endWeight(q.end, e.end);
      if (ranked.length === keep && !better(e, cos, ranked[keep - 1]!)) continue;
      let at = ranked.length;
      while (at > 0 && better(e, cos, ranked[at - 1]!)) at--;
      ranked.splice(at, 0, [e, cos]);
      if (ranked.length > keep) ranked.pop();
    }
    this.lastRanked = ranked.map(([e, sc]) => [e.key, sc]);
    // an absolute floor, and a share of the best score: a market with one clear twin does not also get the noise
    const floor = Math.max(this.o.minScore, (ranked[0]?.[1] ?? 0) * this.o.relativeScore);
    for (const [e, sc] of ranked.slice(0, this.o.maxCandidates)) if (sc >= floor) out.set(e.key, e.market);
    return [...out.values()];
  }

  /** Text scores of the last market added, best first (for tests and tuning). */
  lastRanked: [string, number][] = [];
}
