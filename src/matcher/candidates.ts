/**
 * Candidate pairs, without comparing every market with every other.
 *
 * Text: every market's text (question, Kalshi `yes_sub_title` / Polymarket group item title, event title,
 * outcome labels other than Yes/No; the slug or ticker when there is no question; date codes from tickers and
 * slugs) becomes normalized tokens (normalize.ts: names, numbers, dates, aliases), kept in an inverted index per
 * venue. A new market walks the postings of its rarest tokens in the other venue's index, within a fixed budget
 * of postings (twins meet on a name, a number, a date); its next tokens are then only tested against the best
 * markets met (a scan of each one's few token ids, never a walk of a long posting list). The markets are scored by
 * the cosine similarity of IDF-weighted tokens, discounted when their end dates are far apart, and the best few
 * kept. Work per market is bounded by the budget, not by the listing size: the step is linear in the listing.
 * Structure: crypto markets whose settlement instant is read are indexed by asset and instant instead, so
 * same-asset markets settling together meet whatever their wording (cross-venue and same-venue, for
 * implies/exclusive links), nearest strikes first.
 */
import { instrumentKey, type Market } from '../core/messages.ts';
import type { MarketFacts } from './facts.ts';
import { idDateTokens, normalizeInto } from './normalize.ts';

export interface CandidateOptions {
  /** Posting lists longer than this are never walked, only tested (default 500). */
  readonly maxPosting?: number;
  /** …except the rarest token's, when even that is common, up to this length (default 1,000). */
  readonly firstWalk?: number;
  /** Tokens after the walk tested on every market met, before the pool is narrowed (default 2). */
  readonly deepen?: number;
  /** Postings walked per new market at most, rarest tokens first (default 200). */
  readonly visitBudget?: number;
  /** Markets met in the walk that the commoner tokens are tested against (default 24). */
  readonly pool?: number;
  /** Tokens tested against the pool after the walk, rarest first (default 3). */
  readonly refineTokens?: number;
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

interface VenueIndex {
  readonly venue: string;
  readonly postings: (number[] | undefined)[];
  df: Int32Array;
}

/** The markets of one asset at one settlement instant, sorted so the nearest strikes are found by binary search
 * (a ladder lists hundreds of strikes per instant: a scan of the bucket per new market is quadratic). */
interface Bucket {
  /** entries with a strike, by strike then key */
  readonly byStrike: Entry[];
  /** entries without a strike, by key */
  readonly unstruck: Entry[];
  /** every entry, by key (a query without a strike ranks the whole bucket by key alone) */
  readonly byKey: Entry[];
}

/** Strike-then-key order. */
const strikeBefore = (a: Entry, b: Entry): boolean =>
  a.strike! < b.strike! || (a.strike === b.strike && a.key < b.key);
const keyBefore = (a: Entry, b: Entry): boolean => a.key < b.key;

/** First index of a sorted array whose element is not before e. */
function lowerBound(xs: readonly Entry[], e: Entry, before: (a: Entry, b: Entry) => boolean): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (before(xs[mid]!, e)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A token id's bit in the 64-bit signatures (multiplicative hash: consecutive ids spread over the bits). */
const sigBit = (t: number): number => Math.imul(t, 0x9e3779b1) >>> 26;

interface Entry {
  /** dense integer id: postings and the score buffer are indexed by it */
  readonly id: number;
  readonly key: string;
  readonly venue: string;
  readonly market: Market;
  /** the tokens as interned numbers: tokFlat[tokStart, tokStart + tokLen) (one flat array, not a small typed
   * array per market: those cost an ArrayBuffer each and slow the GC) */
  readonly tokStart: number;
  readonly tokLen: number;
  readonly structKey: string | undefined;
  readonly strike: number | undefined;
  /** end time, NaN when none (kept here: reading it off the market objects of many shapes is slow) */
  readonly end: number;
  /** squared norm of the IDF vector, and the index size it was computed at */
  norm2: number;
  normAt: number;
}

// interned: one key string per market in the process (instrumentKey's table)
const mk = (m: Market): string => instrumentKey(m.venue, m.marketId);
/** Words per entry in CandidateIndex.rec: signature low, signature high, token start, token count. */
const REC = 4;
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
  const toks = normalizeInto(marketText(m), new Set<string>());
  for (const t of idDates(m)) toks.add(t);
  return [...toks];
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

/** Keeps in ids the n with the highest scores (ties by id). */
function topOf(ids: number[], scores: Float64Array, n: number): void {
  if (ids.length <= n) return;
  ids.sort((x, y) => scores[y]! - scores[x]! || x - y);
  ids.length = n;
}

/** Strike order: nearer first, then by key. */
const closer = (d: number, e: Entry, than: readonly [number, Entry]): boolean =>
  d < than[0] || (d === than[0] && e.key < than[1].key);

/** Ranking order: higher score first, then by key (deterministic). */
const better = (e: Entry, score: number, than: Entry, thanScore: number): boolean =>
  score > thanScore || (score === thanScore && e.key < than.key);

/** Keeps end dates close: a weight in (0, 1] for how far apart two markets end. */
function endWeight(a: number, b: number): number {
  const gap = Math.abs(a - b);
  if (Number.isNaN(gap)) return 1;
  return gap <= 2 * DAY ? 1 : gap <= 45 * DAY ? 0.9 : gap <= 400 * DAY ? 0.75 : 0.5;
}

export class CandidateIndex {
  private readonly o: Required<CandidateOptions>;
  private readonly entries = new Map<string, Entry>();
  /** entries by id; a removed or replaced market leaves undefined (its ids in postings are skipped) */
  private readonly byId: (Entry | undefined)[] = [];
  /** per venue: token id → entry ids (append-only; dead ids skipped, compacted when they pile up), and token id →
   * live markets with the token (arrays indexed by the dense token id: no hashing per token per query) */
  private readonly venues: VenueIndex[] = [];
  /** capacity of every venue's df array and of tokMark (grown together as tokens are interned) */
  private tokCap = 1_024;
  /** token id → 1-based slot of the tokens being tested on the markets met (0: not tested) */
  private tokMark = new Uint8Array(1_024);
  private readonly structural = new Map<string, Bucket>();
  /** partial scores by entry id, and the ids touched by the current query (reset after it) */
  private scoreBuf = new Float64Array(1_024);
  /** by entry id: alive */
  private alive = new Uint8Array(1_024);
  /** by entry id, REC words each: a 64-bit signature of its token ids (two words, bit = token id hashed mod 64; a
   * test of a token the entry lacks is mostly answered by one read here, without scanning its token ids), then
   * where its token ids sit in tokFlat (start, length). Interleaved: a test of a random entry reads one cache
   * line, not three (on 200k markets these reads miss the cache; they were most of the scan's time) */
  private rec = new Int32Array(REC * 1_024);
  private tokFlat = new Int32Array(16_384);
  private tokUsed = 0;
  private readonly touched: number[] = [];
  private readonly poolIds: number[] = [];
  private selectBuf = new Float64Array(1_024);
  private readonly tokenIds = new Map<string, number>();

  constructor(o: CandidateOptions = {}) {
    this.o = {
      maxPosting: 500,
      visitBudget: 200,
      firstWalk: 1_000,
      deepen: 2,
      pool: 24,
      refineTokens: 3,
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
    const id = this.byId.length;
    const tokStart = this.intern(toks);
    const c = facts.crypto;
    // one asset at one settlement instant (and window start for up/down): the markets that can be identical,
    // inverted, implied or exclusive; another instant is a different settlement anyway
    const structKey = c && c.expiry !== undefined ? `${c.asset}|${c.start ?? ''}|${c.expiry}` : undefined;
    const entry: Entry = {
      id,
      key,
      venue: m.venue,
      market: m,
      tokStart,
      tokLen: toks.length,
      structKey,
      strike: c?.strike,
      end: m.endTime ?? Number.NaN,
      norm2: 0,
      normAt: 0,
    };
    // placed before the query (its id is in no posting list yet, so the query never meets it)
    this.place(entry);
    const found = this.query(entry);
    this.entries.set(key, entry);
    this.byId.push(entry);
    const v = this.venueIndex(m.venue);
    const vp = v.postings;
    const flat = this.tokFlat;
    for (let k = tokStart; k < tokStart + entry.tokLen; k++) {
      const t = flat[k]!;
      const list = vp[t];
      if (list) list.push(entry.id);
      else vp[t] = [entry.id];
      v.df[t]!++;
    }
    if (structKey) {
      let b = this.structural.get(structKey);
      if (!b) {
        b = { byStrike: [], unstruck: [], byKey: [] };
        this.structural.set(structKey, b);
      }
      if (entry.strike === undefined) b.unstruck.splice(lowerBound(b.unstruck, entry, keyBefore), 0, entry);
      else b.byStrike.splice(lowerBound(b.byStrike, entry, strikeBefore), 0, entry);
      b.byKey.splice(lowerBound(b.byKey, entry, keyBefore), 0, entry);
    }
    return found;
  }

  remove(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.byId[e.id] = undefined;
    this.alive[e.id] = 0;
    const v = this.venues.find((x) => x.venue === e.venue);
    if (v) for (let k = e.tokStart; k < e.tokStart + e.tokLen; k++) v.df[this.tokFlat[k]!]!--;
    const b = e.structKey ? this.structural.get(e.structKey) : undefined;
    if (b) {
      const drop = (xs: Entry[], before: (a: Entry, b: Entry) => boolean) => {
        const at = lowerBound(xs, e, before);
        if (xs[at] === e) xs.splice(at, 1);
      };
      if (e.strike === undefined) drop(b.unstruck, keyBefore);
      else drop(b.byStrike, strikeBefore);
      drop(b.byKey, keyBefore);
    }
  }

  /** Interns a new entry's tokens into the end of the flat array; returns where they start. */
  private intern(toks: readonly string[]): number {
    // ids first: interning may grow the per-token arrays, never tokFlat
    const start = this.tokUsed;
    if (start + toks.length > this.tokFlat.length) {
      const t = new Int32Array(Math.max(this.tokFlat.length * 2, start + toks.length));
      t.set(this.tokFlat.subarray(0, start));
      this.tokFlat = t;
    }
    for (let k = 0; k < toks.length; k++) this.tokFlat[start + k] = this.tokenId(toks[k]!);
    this.tokUsed += toks.length;
    return start;
  }

  /** Sizes the id-indexed arrays for a new entry and writes its record (signature, token range). */
  private place(e: Entry): void {
    const need = e.id + 1;
    if (this.scoreBuf.length < need) {
      const cap = this.scoreBuf.length * 2;
      const f = new Float64Array(cap);
      f.set(this.scoreBuf);
      this.scoreBuf = f;
      const a = new Uint8Array(cap);
      a.set(this.alive);
      this.alive = a;
      const r = new Int32Array(REC * cap);
      r.set(this.rec);
      this.rec = r;
    }
    let s0 = 0;
    let s1 = 0;
    for (let k = e.tokStart; k < e.tokStart + e.tokLen; k++) {
      const h = sigBit(this.tokFlat[k]!);
      if (h < 32) s0 |= 1 << h;
      else s1 |= 1 << (h - 32);
    }
    const at = REC * e.id;
    this.rec[at] = s0;
    this.rec[at + 1] = s1;
    this.rec[at + 2] = e.tokStart;
    this.rec[at + 3] = e.tokLen;
    this.alive[e.id] = 1;
  }

  private venueIndex(venue: string): VenueIndex {
    let x = this.venues.find((v) => v.venue === venue);
    if (!x) {
      x = { venue, postings: [], df: new Int32Array(this.tokCap) };
      this.venues.push(x);
    }
    return x;
  }

  private tokenId(t: string): number {
    let id = this.tokenIds.get(t);
    if (id === undefined) {
      id = this.tokenIds.size;
      this.tokenIds.set(t, id);
      if (id >= this.tokCap) {
        this.tokCap *= 2;
        for (const v of this.venues) {
          const df = new Int32Array(this.tokCap);
          df.set(v.df);
          v.df = df;
        }
        this.tokMark = new Uint8Array(this.tokCap);
      }
    }
    return id;
  }

  /** Adds to scores[id] of each of `ids` the weights of the tested tokens it has, in token order: one scan of its
   * token ids for all of them (not one per token), the sums identical to testing them one by one. */
  private scoreTokens(
    ids: readonly number[],
    tested: readonly { w2: number; id: number }[],
    scores: Float64Array,
  ): void {
    if (tested.length > 31) {
      // one bit per tested token in the mask below
      for (let k = 0; k < tested.length; k += 31) this.scoreTokens(ids, tested.slice(k, k + 31), scores);
      return;
    }
    const mark = this.tokMark;
    for (let s = 0; s < tested.length; s++) mark[tested[s]!.id] = s + 1;
    let q0 = 0;
    let q1 = 0;
    for (const t of tested) {
      const h = sigBit(t.id);
      if (h < 32) q0 |= 1 << h;
      else q1 |= 1 << (h - 32);
    }
    const flat = this.tokFlat;
    const rec = this.rec;
    for (const id of ids) {
      const at = REC * id;
      // none of the tested tokens' bits in its signature: it has none of them
      if (((rec[at]! & q0) | (rec[at + 1]! & q1)) === 0) continue;
      let bits = 0;
      const end = rec[at + 2]! + rec[at + 3]!;
      for (let k = rec[at + 2]!; k < end; k++) {
        const s = mark[flat[k]!]!;
        if (s !== 0) bits |= 1 << (s - 1);
      }
      for (let s = 0; bits !== 0; s++, bits >>>= 1) if (bits & 1) scores[id]! += tested[s]!.w2;
    }
    for (const t of tested) mark[t.id] = 0;
  }

  private idf(df: number): number {
    return Math.log(1 + (this.entries.size + 1) / (1 + df));
  }

  private dfAll(t: number): number {
    let n = 0;
    for (const x of this.venues) n += x.df[t]!;
    return n;
  }

  /** Squared norm of an entry's IDF vector, recomputed when the index has grown fourfold since. */
  private norm2(e: Entry): number {
    const n = this.entries.size;
    if (e.normAt > 0 && n < 4 * e.normAt) return e.norm2;
    let s = 0;
    for (let k = e.tokStart; k < e.tokStart + e.tokLen; k++) {
      const w = this.idf(this.dfAll(this.tokFlat[k]!));
      s += w * w;
    }
    e.norm2 = s;
    e.normAt = Math.max(1, n);
    return s;
  }

  /** The live ids of a posting list, compacted in place when dead ids make up half of it. */
  private live(list: number[], liveCount: number): number[] {
    if (list.length > 2 * liveCount + 8) {
      let w = 0;
      for (const id of list) if (this.alive[id] === 1) list[w++] = id;
      list.length = w;
    }
    return list;
  }

  /** The touched entries with the n highest partial scores (and any tied with the n-th), without sorting them,
   * into `out` as ids (the entries' objects, scattered in the heap, are read only for the few ranked at the end). */
  private topTouched(n: number, out: number[]): void {
    const buf = this.scoreBuf;
    const ids = this.touched;
    let floor = Number.NEGATIVE_INFINITY;
    if (ids.length > n) {
      if (this.selectBuf.length < ids.length) this.selectBuf = new Float64Array(ids.length * 2);
      const sc = this.selectBuf.subarray(0, ids.length);
      for (let k = 0; k < ids.length; k++) sc[k] = buf[ids[k]!]!;
      floor = kthLargest(sc, n);
    }
    // above the n-th score, then as many tied with it as fit (ties beyond n are dropped in id order)
    out.length = 0;
    for (const id of ids) if (buf[id]! > floor) out.push(id);
    for (const id of ids) if (out.length < n && buf[id]! === floor) out.push(id);
  }

  private structuralCandidates(q: Entry, out: Map<string, Market>): void {
    const b = q.structKey ? this.structural.get(q.structKey) : undefined;
    if (!b) return;
    // an instant of one asset can list a hundred strikes: keep the nearest ones (implies/exclusive arbitrage lives
    // between neighbours; the same strike on the other venue is distance 0), ties by key
    const n = this.o.maxStructural;
    if (q.strike === undefined) {
      // no distance to rank by: the first keys
      for (const e of b.byKey.slice(0, n)) out.set(e.key, e.market);
      return;
    }
    const qs = q.strike;
    const xs = b.byStrike;
    // walk outwards from the query's strike, nearest first; past the n-th, only what ties with it in distance
    const near: [number, Entry][] = [];
    let lo = lowerBound(xs, q, strikeBefore) - 1;
    let hi = lo + 1;
    let last = -1;
    while (lo >= 0 || hi < xs.length) {
      const dl = lo >= 0 ? qs - xs[lo]!.strike! : Number.POSITIVE_INFINITY;
      const dh = hi < xs.length ? xs[hi]!.strike! - qs : Number.POSITIVE_INFINITY;
      const d = Math.min(dl, dh);
      if (near.length >= n && d > last) break;
      const e = dl <= dh ? xs[lo--]! : xs[hi++]!;
      near.push([d, e]);
      last = d;
    }
    near.sort((x, y) => (closer(x[0], x[1], y) ? -1 : 1));
    for (const [, e] of near.slice(0, n)) out.set(e.key, e.market);
    // markets without a strike rank last (as far as can be), by key
    for (const e of b.unstruck.slice(0, n - Math.min(n, near.length))) out.set(e.key, e.market);
  }

  private query(q: Entry): Market[] {
    const rankE = this.rankE;
    const rankCos = this.rankCos;
    rankE.length = 0;
    rankCos.length = 0;
    // a crypto market whose settlement instant was read meets its twins and neighbours by that instant; its
    // title would only add markets that settle at another time (different, whatever the wording)
    if (q.structKey) {
      const out = new Map<string, Market>();
      this.structuralCandidates(q, out);
      return [...out.values()];
    }
    const venue = q.venue;
    // per token: its weight, and how many other-venue postings it has (walked below from the venues' lists)
    const toks: { w2: number; size: number; id: number }[] = [];
    let qNorm2 = 0;
    for (let k = q.tokStart; k < q.tokStart + q.tokLen; k++) {
      const t = this.tokFlat[k]!;
      let df = 0;
      let size = 0;
      for (const x of this.venues) {
        const n = x.df[t]!;
        if (n === 0) continue;
        df += n;
        if (x.venue !== venue) {
          this.live(x.postings[t]!, n);
          size += n;
        }
      }
      const w = this.idf(df + 1);
      qNorm2 += w * w;
      if (size > 0) toks.push({ w2: w * w, size, id: t });
    }
    if (toks.length === 0) return [];
    toks.sort((x, y) => y.w2 - x.w2);
    const buf = this.scoreBuf;
    const touched = this.touched;
    const alive = this.alive;
    // 1. the postings of the rarest tokens, within the visit budget: where twins meet (a name, a number, a date);
    // when even the rarest is common ("GDP", "Q3", "2.5%"), its list is walked alone, up to a larger bound
    let visited = 0;
    let i = 0;
    for (; i < toks.length; i++) {
      const t = toks[i]!;
      const first = visited === 0 && t.size <= this.o.firstWalk;
      if (!first && (t.size > this.o.maxPosting || visited + t.size > this.o.visitBudget)) break;
      visited += t.size;
      for (const x of this.venues) {
        if (x.venue === venue || x.df[t.id] === 0) continue;
        for (const id of x.postings[t.id]!) {
          if (alive[id] === 0) continue;
          if (buf[id] === 0) touched.push(id);
          buf[id]! += t.w2;
        }
      }
    }
    // 2. the next few tokens are tested on every market met (a scan of its few token ids, never a walk of a long
    // posting list), so markets that tie on the rare tokens (every "GDP above 2.5%") are told apart; the
    // remaining ones only on the best of them
    if (touched.length > this.o.pool) {
      const deep = toks.slice(i, i + this.o.deepen);
      i += deep.length;
      this.scoreTokens(touched, deep, buf);
    }
    const pool = this.poolIds;
    this.topTouched(this.o.pool, pool);
    // the commonest tokens (the lowest weights) would move every score alike: only the next few are tested, on
    // the pool alone
    const refine = toks.slice(i, i + this.o.refineTokens);
    i += refine.length;
    this.scoreTokens(pool, refine, buf);
    topOf(pool, buf, this.o.refine);
    // the best few by cosine, kept by insertion (a total order: the pool's order does not matter)
    const keep = Math.max(this.o.maxCandidates, 20);
    const qn = Math.sqrt(qNorm2);
    for (const id of pool) {
      const e = this.byId[id]!;
      const sc = buf[id]!;
      const cos = (sc / (qn * Math.sqrt(this.norm2(e)))) * endWeight(q.end, e.end);
      if (rankE.length === keep && !better(e, cos, rankE[keep - 1]!, rankCos[keep - 1]!)) continue;
      // insertion in two parallel arrays reused across queries (no pair per market scored)
      let at = rankE.length;
      rankE.push(e);
      rankCos.push(cos);
      while (at > 0 && better(e, cos, rankE[at - 1]!, rankCos[at - 1]!)) {
        rankE[at] = rankE[at - 1]!;
        rankCos[at] = rankCos[at - 1]!;
        at--;
      }
      rankE[at] = e;
      rankCos[at] = cos;
      if (rankE.length > keep) {
        rankE.pop();
        rankCos.pop();
      }
    }
    for (const id of touched) buf[id] = 0;
    touched.length = 0;
    // an absolute floor, and a share of the best score: a market with one clear twin does not also get the noise
    const floor = Math.max(this.o.minScore, (rankCos[0] ?? 0) * this.o.relativeScore);
    // no structural candidates on this path (no settlement instant): the text ones, distinct, are the answer
    const found: Market[] = [];
    const n = Math.min(rankE.length, this.o.maxCandidates);
    for (let k = 0; k < n; k++) if (rankCos[k]! >= floor) found.push(rankE[k]!.market);
    return found;
  }

  /** the text ranking of the last market added, best first: entries and their scores */
  private readonly rankE: Entry[] = [];
  private readonly rankCos: number[] = [];

  /** Text scores of the last market added, best first (for tests and tuning). */
  get lastRanked(): [string, number][] {
    return this.rankE.map((e, k) => [e.key, this.rankCos[k]!]);
  }
}
