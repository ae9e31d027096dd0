/**
 * Candidate pairs, without comparing every market with every other.
 *
 * Text: every market's text (question, Kalshi `yes_sub_title` / Polymarket group item title, event title,
 * outcome labels other than Yes/No; the slug or ticker when there is no question; date codes from tickers and
 * slugs) becomes normalized tokens (normalize.ts: names, numbers, dates, aliases), kept in an inverted index per
 * venue. A new market looks up its rarest tokens first in the other venue's index, within a fixed budget of
 * postings visited (tokens so common that their posting list is long carry no signal and are skipped), scores the
 * markets met by cosine similarity of IDF-weighted tokens, discounts end dates far apart, and keeps the best few.
 * Work per market is bounded by the budget, not by the listing size: the whole step is linear in the number of
 * markets.
 * Structure: crypto markets are also indexed by asset and settlement day, so same-asset markets of one day meet
 * whatever their wording (cross-venue and same-venue, for implies/exclusive links), nearest strikes first.
 */
import type { Market } from '../core/messages.ts';
import type { MarketFacts } from './facts.ts';
import { normalizeTokens } from './normalize.ts';

export interface CandidateOptions {
  /** Posting lists longer than this are skipped (default 5,000). */
  readonly maxPosting?: number;
  /** Postings visited per new market at most, rarest tokens first (default 20,000). */
  readonly visitBudget?: number;
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
  readonly key: string;
  readonly market: Market;
  readonly tokens: readonly string[];
  readonly structKey: string | undefined;
  readonly strike: number | undefined;
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

/** Keeps end dates close: a weight in (0, 1] for how far apart two markets end. */
function endWeight(a: Market, b: Market): number {
  if (a.endTime === null || b.endTime === null) return 1;
  const gap = Math.abs(a.endTime - b.endTime);
  return gap <= 2 * DAY ? 1 : gap <= 45 * DAY ? 0.9 : gap <= 400 * DAY ? 0.75 : 0.5;
}

export class CandidateIndex {
  private readonly o: Required<CandidateOptions>;
  private readonly entries = new Map<string, Entry>();
  /** venue → token → entries */
  private readonly postings = new Map<string, Map<string, Set<Entry>>>();
  private readonly structural = new Map<string, Set<Entry>>();

  constructor(o: CandidateOptions = {}) {
    this.o = {
      maxPosting: 5_000,
      visitBudget: 20_000,
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
    const entry: Entry = { key, market: m, tokens: toks, structKey, strike: c?.strike, norm2: 0, normAt: 0 };
    const found = this.query(entry);
    this.entries.set(key, entry);
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
      s.add(entry);
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
    const vp = this.postings.get(e.market.venue);
    for (const t of e.tokens) {
      const s = vp?.get(t);
      s?.delete(e);
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
    // rarest tokens first, within the visit budget
    const venue = q.market.venue;
    const weighted: [string, number, Set<Entry>[]][] = [];
    let qNorm2 = 0;
    for (const t of q.tokens) {
      const lists: Set<Entry>[] = [];
      let df = 0;
      for (const [v, vp] of this.postings) {
        const s = vp.get(t);
        if (s) {
          if (v !== venue) lists.push(s);
          df += s.size;
        }
      }
      const w = this.idf(df + 1);
      qNorm2 += w * w;
      const dfOther = lists.reduce((n, s) => n + s.size, 0);
      if (dfOther > 0 && dfOther <= this.o.maxPosting) weighted.push([t, w, lists]);
    }
    this.lastRanked = [];
    if (weighted.length === 0 || qNorm2 === 0) return [...out.values()];
    weighted.sort((x, y) => y[1] - x[1]);
    const scores = new Map<Entry, number>();
    let visited = 0;
    for (const [, w, lists] of weighted) {
      const size = lists.reduce((n, s) => n + s.size, 0);
      if (visited + size > this.o.visitBudget && visited > 0) break;
      visited += size;
      const w2 = w * w;
      for (const s of lists) for (const e of s) scores.set(e, (scores.get(e) ?? 0) + w2);
    }
    const ranked: [Entry, number][] = [];
    const qn = Math.sqrt(qNorm2);
    for (const [e, s] of scores) {
      const cos = (s / (qn * Math.sqrt(this.norm2(e)))) * endWeight(q.market, e.market);
      ranked.push([e, cos]);
    }
    ranked.sort((x, y) => y[1] - x[1] || (x[0].key < y[0].key ? -1 : 1));
    this.lastRanked = ranked.slice(0, 20).map(([e, sc]) => [e.key, sc]);
    // an absolute floor, and a share of the best score: a market with one clear twin does not also get the noise
    const floor = Math.max(this.o.minScore, (ranked[0]?.[1] ?? 0) * this.o.relativeScore);
    for (const [e, sc] of ranked.slice(0, this.o.maxCandidates)) if (sc >= floor) out.set(e.key, e.market);
    return [...out.values()];
  }

  /** Text scores of the last market added, best first (for tests and tuning). */
  lastRanked: [string, number][] = [];
}
