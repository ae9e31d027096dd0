/**
 * Cheap candidate pairs, without comparing every market with every other.
 *
 * Text: an inverted index from normalized tokens (words, entities, numbers with "$100,000" = "100k" = "100000",
 * month names) to markets, per venue. A new market looks up its tokens in the other venue's index, skipping
 * tokens so common that their posting list is long (they carry no signal and would make it O(n²)), scores the
 * markets met by the summed IDF of shared tokens (a weighted overlap), drops pairs whose end dates are far apart,
 * and keeps the best few above a fraction of its own score.
 * Structure: crypto markets are also indexed by asset and settlement day, so same-asset markets of one day meet
 * whatever their wording (cross-venue and same-venue, for implies/exclusive links).
 */
import type { Market } from '../core/messages.ts';
import type { MarketFacts } from './facts.ts';

const STOP = new Set(
  'a an the of on in at by to for and or be is are will was were than this that with from as it its de la what who which how price market yes no before after end above below between over under more less higher lower least most than any'.split(
    ' ',
  ),
);

const MONTH = /^(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*$/;

/** Normalized tokens of a title. */
export function tokens(text: string): string[] {
  const out = new Set<string>();
  const t = text.toLowerCase().replace(/[’']/g, '');
  for (const m of t.matchAll(/\$?\d[\d,]*(?:\.\d+)?\s?[km%]?|[a-z][a-z0-9-]*/g)) {
    let w = m[0]!.trim();
    if (/^\$?\d/.test(w)) {
      let mult = 1;
      if (/k$/.test(w)) mult = 1_000;
      if (/m$/.test(w)) mult = 1_000_000;
      const pct = w.endsWith('%');
      const n = Number(w.replace(/[$,%km\s]/g, ''));
      if (!Number.isFinite(n)) continue;
      w = `${n * mult}${pct ? '%' : ''}`;
    } else {
      if (STOP.has(w) || w.length < 2) continue;
      const mo = MONTH.exec(w);
      if (mo) w = mo[1]!;
      else if (w.length > 3 && w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
    }
    out.add(w);
  }
  return [...out];
}

export interface CandidateOptions {
  /** Posting lists longer than this are skipped (default 2,000). */
  readonly maxPosting?: number;
  /** Candidates kept per new market (default 8). */
  readonly maxCandidates?: number;
  /** Share of the market's own token weight a candidate must reach (default 0.5). */
  readonly minScore?: number;
  /** End times further apart than this are not candidates (default 7 days). */
  readonly maxEndGapMs?: number;
  /** Same-asset, same-day crypto markets kept per new market, nearest strikes first (default 12). */
  readonly maxStructural?: number;
}

interface Entry {
  readonly key: string;
  readonly market: Market;
  readonly tokens: readonly string[];
  readonly structKey: string | undefined;
  readonly strike: number | undefined;
}

const mk = (m: Market): string => `${m.venue}:${m.marketId}`;

export class CandidateIndex {
  private readonly o: Required<CandidateOptions>;
  private readonly entries = new Map<string, Entry>();
  /** venue → token → market keys */
  private readonly postings = new Map<string, Map<string, Set<string>>>();
  private readonly structural = new Map<string, Set<string>>();

  constructor(o: CandidateOptions = {}) {
    this.o = {
      maxPosting: 2_000,
      maxCandidates: 8,
      minScore: 0.5,
      maxEndGapMs: 7 * 86_400_000,
      maxStructural: 12,
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
    const toks = tokens(m.question);
    const c = facts.crypto;
    const day = c?.expiry !== undefined ? Math.floor(c.expiry / 86_400_000) : undefined;
    const structKey = c && day !== undefined ? `${c.asset}|${day}` : undefined;
    const strike = c?.strike;
    const found = this.query(m, toks, structKey, strike);
    const entry: Entry = { key, market: m, tokens: toks, structKey, strike };
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
      s.add(key);
    }
    if (structKey) {
      let s = this.structural.get(structKey);
      if (!s) {
        s = new Set();
        this.structural.set(structKey, s);
      }
      s.add(key);
    }
    return found;
  }

  remove(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    const vp = this.postings.get(e.market.venue);
    for (const t of e.tokens) vp?.get(t)?.delete(key);
    if (e.structKey) this.structural.get(e.structKey)?.delete(key);
  }

  private query(
    m: Market,
    toks: readonly string[],
    structKey: string | undefined,
    strike: number | undefined,
  ): Market[] {
    const key = mk(m);
    const out = new Map<string, Market>();
    if (structKey) {
      const s = this.structural.get(structKey);
      if (s) {
        // a day of one asset can list hundreds of strikes: keep the nearest ones (implies/exclusive arbitrage
        // lives between neighbours; the same strike on the other venue is distance 0)
        const near: [number, Entry][] = [];
        for (const k of s) {
          if (k === key) continue;
          const e = this.entries.get(k);
          if (!e) continue;
          const d =
            strike === undefined || e.strike === undefined
              ? Number.MAX_SAFE_INTEGER
              : Math.abs(e.strike - strike);
          near.push([d, e]);
        }
        near.sort((x, y) => x[0] - y[0]);
        for (const [, e] of near.slice(0, this.o.maxStructural)) out.set(e.key, e.market);
      }
    }
    const n = Math.max(1, this.entries.size);
    const scores = new Map<string, number>();
    let self = 0;
    for (const [venue, vp] of this.postings) {
      if (venue === m.venue) continue;
      for (const t of toks) {
        const s = vp.get(t);
        const df = s?.size ?? 0;
        const idf = Math.log(1 + n / (1 + df));
        self += idf;
        if (!s || df === 0 || df > this.o.maxPosting) continue;
        for (const k of s) scores.set(k, (scores.get(k) ?? 0) + idf);
      }
    }
    if (scores.size > 0 && self > 0) {
      const ranked = [...scores.entries()]
        .filter(([k, sc]) => sc >= this.o.minScore * self && this.datesClose(m, this.entries.get(k)!.market))
        .sort((x, y) => y[1] - x[1])
        .slice(0, this.o.maxCandidates);
      for (const [k] of ranked) out.set(k, this.entries.get(k)!.market);
    }
    return [...out.values()];
  }

  private datesClose(a: Market, b: Market): boolean {
    if (a.endTime === null || b.endTime === null) return true;
    return Math.abs(a.endTime - b.endTime) <= this.o.maxEndGapMs;
  }
}
