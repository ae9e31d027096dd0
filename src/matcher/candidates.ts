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
 * Structure: crypto markets are also indexed by asset and settlement day, so same-asset markets of one day meet
 * whatever their wording (cross-venue and same-venue, for implies/exclusive links), nearest strikes first.
 */
import type { Market } from '../core/messages.ts';
import type { MarketFacts } from './facts.ts';
import { normalizeTokens } from './normalize.ts';

export interface CandidateOptions {
  /** Posting lists longer than this are never walked, only tested (default 1,000). */
  readonly maxPosting?: number;
  /** Postings walked per new market at most, rarest tokens first (default 600). */
  readonly visitBudget?: number;
  /** Markets met in the walk that are scored further (commoner tokens, cosine) (default 32). */
  readonly refine?: number;
  /** Text candidates kept per new market (default 5). */
  readonly maxCandidates?: number;
  /** Cosine similarity a text candidate must reach (default 0.2). */
  readonly minScore?: number;
  /** Share of the best candidate's score the others must reach (default 0.5). */
  readonly relativeScore?: number;
  /** Same-asset, same-day crypto markets kept per new market, nearest strikes first (default 6). */
  readonly maxStructural?: number;
}

interface Entry {
  /** dense integer id: postings and the score buffer are indexed by it */
  readonly id: number;
  readonly key: string;
  readonly venue: string;
  readonly market: Market;
  readonly tokens: readonly string[];
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
  const ids = [m.marketId, m.eventId ?? '', m.slug ?? ''].join(' ');
  return normalizeTokens(ids).filter((t) => /^d\d\d-\d\d$/.test(t));
}

/** Normalized tokens of a market. */
export function marketTokens(m: Market): string[] {
  const toks = new Set(normalizeTokens(marketText(m)));
  for (const t of idDates(m)) toks.add(t);
  return [...toks];
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

  constructor(o: CandidateOptions = {}) {
    this.o = {
      maxPosting: 1_000,
      visitBudget: 600,
      refine: 32,
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
    const day = c?.expiry !== undefined ? Math.floor(c.expiry / DAY) : undefined;
    const structKey = c && day !== undefined ? `${c.asset}|${day}` : undefined;
    const entry: Entry = {
      id: this.byId.length,
      key,
      venue: m.venue,
      market: m,
      tokens: toks,
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

  /** The n touched entries with the highest partial scores (insertion into a short list). */
  private topTouched(n: number): [Entry, number][] {
    const top: [Entry, number][] = [];
    const buf = this.scoreBuf;
    for (const id of this.touched) {
      const sc = buf[id]!;
      if (top.length === n && sc <= top[n - 1]![1]) continue;
      let at = top.length;
      while (at > 0 && sc > top[at - 1]![1]) at--;
      top.splice(at, 0, [this.byId[id]!, sc]);
      if (top.length > n) top.pop();
    }
    return top;
  }

  private query(q: Entry): Market[] {
    const out = new Map<string, Market>();
    if (q.structKey) {
      const s = this.structural.get(q.structKey);
      if (s) {
        // a day of one asset can list hundreds of strikes: keep the nearest ones (implies/exclusive arbitrage
        // lives between neighbours; the same strike on the other venue is distance 0)
        const near: [number, Entry][] = [];
        for (const e of s) {
          const d =
            q.strike === undefined || e.strike === undefined
              ? Number.MAX_SAFE_INTEGER
              : Math.abs(e.strike - q.strike);
          near.push([d, e]);
        }
        near.sort((x, y) => x[0] - y[0] || (x[1].key < y[1].key ? -1 : 1));
        for (const [, e] of near.slice(0, this.o.maxStructural)) out.set(e.key, e.market);
      }
    }
    const venue = q.venue;
    const toks: { w2: number; lists: Set<number>[]; size: number }[] = [];
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
      if (size > 0) toks.push({ w2: w * w, lists, size });
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
    // 2. the best markets met so far (by raw score) are the pool; the commoner tokens only add to them: a
    // membership test each, not a walk of a long posting list
    const pool = this.topTouched(this.o.refine);
    for (; i < toks.length; i++) {
      const t = toks[i]!;
      for (const b of pool) if (t.lists.some((s) => s.has(b[0].id))) b[1] += t.w2;
    }
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
