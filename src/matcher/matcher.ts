/**
 * The market matcher: the same code path for the running agent, `pm-arb matches --capture` and `--eval`.
 *
 * Per market: its settlement facts and, for crypto markets, an OracleLink. Per candidate pair (candidates.ts):
 *   manual override → rules stage (rules.ts; decides, or says `undetermined`) → cached LLM verdict (keyed on both
 *   market versions) → the LLM (llm.ts, pairs batched per request), whose answer is cached durably before use →
 *   the consistency checks and the confidence threshold.
 * What nobody settled is `undetermined` and waits in the review queue (review.ts), as do LLM links below the
 * review mark; without an LLM every pair the rules cannot settle is `undetermined`. Only confirmed relations
 * (identical, inverted, implies, exclusive from the rules, the LLM above MATCH_MIN_CONFIDENCE, or a person) are
 * published as links for the scanner to trade.
 */
import type { Logger } from '../core/log.ts';
import {
  instrumentKey,
  isLinkRelation,
  type Market,
  type MarketLink,
  type MarketRef,
  type MatchRelation,
  type OracleLink,
} from '../core/messages.ts';
import { CandidateIndex, type CandidateOptions } from './candidates.ts';
import { extractFacts, type MarketFacts, oracleLinkGap, oracleLinkOf } from './facts.ts';
import type { LlmJudge } from './llm.ts';
import { compareFacts, type RulesVerdict, UNDETERMINED } from './rules.ts';
import {
  briefOf,
  type MatchOverride,
  type MatchStore,
  pairKey,
  pairKeyOfKeys,
  refKey,
  type StoredVerdict,
  type VerdictUsage,
  verdictKey,
} from './store.ts';

export type MatchStage = MarketLink['stage'];

export interface MatchDecision {
  readonly a: Market;
  readonly b: Market;
  readonly relation: MatchRelation;
  readonly confidence: number;
  readonly stage: MatchStage;
  readonly reasons: readonly string[];
  readonly quotesA?: readonly string[];
  readonly quotesB?: readonly string[];
  /** the LLM's tokens and cost for this verdict (stage llm only; a cached verdict cost nothing now) */
  readonly usage?: VerdictUsage;
}

export interface MatcherOptions {
  readonly store: MatchStore;
  /** Absent: rules only. */
  readonly llm?: LlmJudge;
  /** LLM links below this confidence are `undetermined` (MATCH_MIN_CONFIDENCE). */
  readonly minConfidence: number;
  /** LLM links below this confidence are traded but also queued for review (default 0.9). */
  readonly reviewBelow?: number;
  readonly now: () => number;
  readonly log: Logger;
  readonly candidates?: CandidateOptions;
}

export interface MarketOutcome {
  readonly oracleLink: OracleLink | undefined;
  /** every candidate pair judged, accepted or not */
  readonly decisions: readonly MatchDecision[];
  /** links to publish: confirmed relations, and `different`/`undetermined` where they withdraw an earlier link */
  readonly links: readonly MarketLink[];
}

export const DEFAULT_REVIEW_BELOW = 0.9;

const ref = (m: Market): MarketRef => ({ venue: m.venue, marketId: m.marketId });
// interned: one key string per market in the process (instrumentKey's table), not one per agent and use
const key = (m: Market): string => instrumentKey(m.venue, m.marketId);

/** Canonical order of a pair (Polymarket first, then by id), so it reads the same whichever came first. */
export const canonicalPair = (x: Market, y: Market): [Market, Market] =>
  (x.venue !== y.venue ? x.venue === 'polymarket' : x.marketId < y.marketId) ? [x, y] : [y, x];

/** Whether a decision waits for a person: nothing decided, or an LLM link below the review mark. */
export function needsReview(
  d: Pick<MatchDecision, 'relation' | 'stage' | 'confidence'>,
  below: number,
): boolean {
  if (d.relation === 'undetermined') return true;
  return (d.stage === 'llm' || d.stage === 'cache') && isLinkRelation(d.relation) && d.confidence < below;
}

/** A pair with state, under both its markets' keys in Matcher.pairsOf. */
interface PairState {
  readonly a: string;
  readonly b: string;
  /** the relation last published for the pair (undefined: none) */
  published: MatchRelation | undefined;
}

interface Pending {
  readonly i: number;
  readonly a: Market;
  readonly b: Market;
  readonly rv: RulesVerdict;
  readonly vk: string;
}

export class Matcher {
  private readonly o: MatcherOptions;
  private readonly index: CandidateIndex;
  private readonly markets = new Map<string, { market: Market; facts: MarketFacts }>();
  private overrides = new Map<string, MatchOverride>();
  private queued = new Set<string>();
  /**
   * market key → its pairs with state (a published relation, a review item or a stored link), each pair one object
   * in both markets' arrays, so a resolved market's pairs are no scan. The published relation lives here too: a
   * Map per market and a Map of published relations, both keyed by pair-key strings (two market keys joined),
   * were ~0.7 KB a market at 100,000 markets; a pair's key is built only when it is forgotten.
   */
  private readonly pairsOf = new Map<string, PairState[]>();
  readonly stats = {
    markets: 0,
    pairs: 0,
    llmPairs: 0,
    cacheHits: 0,
    links: 0,
    undetermined: 0,
    llmCostMicro: 0,
    /** open crypto markets left without an oracle link (settlement facts unread) */
    oracleUnread: 0,
  };

  constructor(o: MatcherOptions) {
    this.o = o;
    this.index = new CandidateIndex(o.candidates);
  }

  get rulesOnly(): boolean {
    return this.o.llm === undefined;
  }

  /** Loads the manual overrides and the review queue. */
  async init(): Promise<void> {
    this.overrides = new Map((await this.o.store.listOverrides()).map((x) => [pairKey(x.a, x.b), x]));
    const review = await this.o.store.listReview();
    this.queued = new Set(review.map((r) => r.key));
    // what earlier runs stored is dropped too when its market resolves
    for (const r of review) this.indexPair(r.a, r.b);
    for (const l of await this.o.store.listLinks()) this.indexPair(l.a, l.b);
  }

  /** A market arrived or changed. A market already seen at the same version costs a map lookup. */
  async onMarket(m: Market): Promise<MarketOutcome> {
    const k = key(m);
    const prev = this.markets.get(k);
    if (prev && prev.market.version === m.version && prev.market.status === m.status) {
      return { oracleLink: undefined, decisions: [], links: [] };
    }
    this.stats.markets++;
    const facts = extractFacts(m);
    // a resolved market is matched no more: dropped (a roll-over relists markets all day), not kept as seen
    if (m.status === 'resolved') this.markets.delete(k);
    else this.markets.set(k, { market: m, facts });
    const oracleLink = m.status === 'open' ? oracleLinkOf(m, facts) : undefined;
    if (m.status === 'open' && facts.crypto && !oracleLink) {
      // unread settlement facts mean no link, never a guess: say which and why
      this.stats.oracleUnread++;
      this.o.log.info(
        { venue: m.venue, marketId: m.marketId, reason: oracleLinkGap(m, facts) ?? 'unknown' },
        'matcher: crypto market not priced (settlement facts unread)',
      );
    }
    if (m.status !== 'open') {
      this.index.remove(k);
      if (m.status === 'resolved') await this.forget(k);
      return { oracleLink, decisions: [], links: [] };
    }
    const cands = this.index.add(m, facts);
    const decisions = await this.decideMany(cands.map((c) => canonicalPair(m, c)));
    const links: MarketLink[] = [];
    for (const d of decisions) {
      const l = await this.publishable(d);
      if (l) links.push(l);
    }
    return { oracleLink, decisions, links };
  }

  /**
   * Re-reads the override list from the store (the CLI or the dashboard edits it while the agent runs) and
   * re-judges the pairs whose override changed; returns the links to publish.
   */
  async refreshOverrides(): Promise<MarketLink[]> {
    const fresh = new Map((await this.o.store.listOverrides()).map((x) => [pairKey(x.a, x.b), x]));
    const changed: MatchOverride[] = [];
    for (const [k, o] of fresh) {
      const old = this.overrides.get(k);
      if (!old || old.decision !== o.decision || old.relation !== o.relation || old.at !== o.at)
        changed.push(o);
    }
    this.overrides = fresh;
    const out: MarketLink[] = [];
    for (const o of changed) {
      const l = await this.rejudge(o);
      if (l) out.push(l);
    }
    return out;
  }

  /** Replaces the override of a pair and re-judges it when both markets are known. */
  async setOverride(o: MatchOverride): Promise<MarketLink | undefined> {
    await this.o.store.setOverride(o);
    this.overrides.set(pairKey(o.a, o.b), o);
    return this.rejudge(o);
  }

  /** Judges one pair. */
  async decide(a: Market, b: Market): Promise<MatchDecision> {
    return (await this.decideMany([[a, b]]))[0]!;
  }

  /**
   * Judges pairs: overrides, rules and the cache first; what remains goes to the LLM in batches. Updates the
   * review queue. Decisions come back in the order of the pairs.
   */
  async decideMany(pairs: readonly (readonly [Market, Market])[]): Promise<MatchDecision[]> {
    const out: MatchDecision[] = new Array(pairs.length);
    const pending: Pending[] = [];
    for (let i = 0; i < pairs.length; i++) {
      const [a, b] = pairs[i]!;
      this.stats.pairs++;
      const rv = compareFacts(this.facts(a), this.facts(b));
      const ov = this.overrides.get(pairKey(ref(a), ref(b)));
      if (ov) {
        out[i] = this.manual(a, b, ov, rv);
        continue;
      }
      if (rv.decided) {
        const [x, y] = rv.swap ? [b, a] : [a, b];
        out[i] = {
          a: x,
          b: y,
          relation: rv.relation,
          confidence: rv.confidence,
          stage: 'rules',
          reasons: rv.reasons,
        };
        continue;
      }
      const vk = verdictKey(ref(a), a.version, ref(b), b.version);
      const cached = await this.o.store.getVerdict(vk);
      if (cached && cached.stage === 'llm') {
        this.stats.cacheHits++;
        out[i] = this.fromVerdict(cached, 'cache', a, b);
        continue;
      }
      if (!this.o.llm) {
        out[i] = {
          a,
          b,
          relation: 'undetermined',
          confidence: 0,
          stage: 'rules',
          reasons: [...rv.reasons, 'rules only (ANTHROPIC_API_KEY is not set): queued for review'],
        };
        continue;
      }
      pending.push({ i, a, b, rv, vk });
    }
    if (pending.length > 0) await this.askLlm(pending, out);
    for (const d of out) await this.track(d);
    return out;
  }

  /** The MarketLink of a decision. */
  linkOf(d: MatchDecision): MarketLink {
    return {
      type: 'link',
      a: ref(d.a),
      b: ref(d.b),
      relation: d.relation,
      confidence: Math.min(1, Math.max(0, d.confidence)),
      stage: d.stage,
      reasons: [...d.reasons],
      decidedAt: this.o.now(),
    };
  }

  // ---------------------------------------------------------------- internals

  /** Records that a pair has state (a published relation, a review item or a stored link) under both markets. */
  private indexPair(a: MarketRef, b: MarketRef): PairState {
    const ka = refKey(a);
    const kb = refKey(b);
    const found = this.pairState(ka, kb);
    if (found) return found;
    const p: PairState = { a: ka, b: kb, published: undefined };
    for (const mk of [ka, kb]) {
      const pairs = this.pairsOf.get(mk);
      if (pairs) pairs.push(p);
      else this.pairsOf.set(mk, [p]);
    }
    return p;
  }

  /** The state of the pair of the markets keyed `ka` and `kb` (either order), if it has any. */
  private pairState(ka: string, kb: string): PairState | undefined {
    const pairs = this.pairsOf.get(ka);
    if (!pairs) return undefined;
    for (const p of pairs) if ((p.a === ka && p.b === kb) || (p.a === kb && p.b === ka)) return p;
    return undefined;
  }

  /**
   * A market resolved: its pairs' published relations, review items and stored links go (the scanner drops its
   * links on the market message itself). Overrides and cached verdicts stay: see MatchStore.forgetPairs.
   */
  private async forget(mk: string): Promise<void> {
    const pairs = this.pairsOf.get(mk);
    if (!pairs) return;
    this.pairsOf.delete(mk);
    const pks: string[] = [];
    for (const p of pairs) {
      const other = p.a === mk ? p.b : p.a;
      const pk = pairKeyOfKeys(mk, other);
      pks.push(pk);
      this.queued.delete(pk);
      const theirs = this.pairsOf.get(other);
      const at = theirs ? theirs.indexOf(p) : -1;
      if (at >= 0) {
        theirs!.splice(at, 1);
        if (theirs!.length === 0) this.pairsOf.delete(other);
      }
    }
    await this.o.store.forgetPairs(pks);
  }

  private facts(m: Market): MarketFacts {
    const e = this.markets.get(key(m));
    return e && e.market.version === m.version ? e.facts : extractFacts(m);
  }

  private async rejudge(o: MatchOverride): Promise<MarketLink | undefined> {
    const a = this.markets.get(`${o.a.venue}:${o.a.marketId}`);
    const b = this.markets.get(`${o.b.venue}:${o.b.marketId}`);
    if (!a || !b) return undefined;
    return this.publishable(await this.decide(...canonicalPair(a.market, b.market)));
  }

  private manual(a: Market, b: Market, ov: MatchOverride, rv: RulesVerdict): MatchDecision {
    const note = ov.note ? [ov.note] : [];
    if (ov.decision === 'reject') {
      return {
        a,
        b,
        relation: 'different',
        confidence: 1,
        stage: 'manual',
        reasons: ['manually rejected', ...note],
      };
    }
    const judged = rv.decided && isLinkRelation(rv.relation) ? rv.relation : undefined;
    const relation = ov.relation ?? judged ?? 'identical';
    // keep the pair in the order it was approved (matters for implies)
    const [x, y] = ov.a.venue === a.venue && ov.a.marketId === a.marketId ? [a, b] : [b, a];
    return { a: x, b: y, relation, confidence: 1, stage: 'manual', reasons: ['manually approved', ...note] };
  }

  private async askLlm(pending: readonly Pending[], out: MatchDecision[]): Promise<void> {
    const llm = this.o.llm!;
    this.stats.llmPairs += pending.length;
    const results = await llm.judgeBatch(
      pending.map((p) => ({ a: p.a, b: p.b, notes: p.rv.reasons.filter((r) => r !== UNDETERMINED) })),
    );
    for (let j = 0; j < pending.length; j++) {
      const p = pending[j]!;
      const r = results[j] ?? { failure: 'no LLM result', cacheable: false };
      this.stats.llmCostMicro += r.usage?.costMicro ?? 0;
      if (!r.verdict && !r.cacheable) {
        // not a final word (failure, malformed, over budget): undetermined now, asked again another time
        out[p.i] = {
          a: p.a,
          b: p.b,
          relation: 'undetermined',
          confidence: 0,
          stage: 'llm',
          reasons: [r.failure ?? 'no usable LLM verdict', ...p.rv.reasons.filter((x) => x !== UNDETERMINED)],
          ...(r.usage ? { usage: r.usage } : {}),
        };
        continue;
      }
      const v = r.verdict;
      const stored: StoredVerdict = {
        key: p.vk,
        a: ref(p.a),
        b: ref(p.b),
        aVersion: p.a.version,
        bVersion: p.b.version,
        relation: v ? v.relation : 'undetermined',
        confidence: v ? v.confidence : 0,
        stage: 'llm',
        reasons: v?.reasoning ? [v.reasoning] : [],
        ...(v ? { sameEvent: v.same_event, differences: v.resolution_differences } : {}),
        ...(v ? { quotesA: v.quotes_a, quotesB: v.quotes_b } : {}),
        ...(r.failure ? { failure: r.failure } : {}),
        ...(r.usage ? { usage: r.usage } : {}),
        decidedAt: this.o.now(),
      };
      await this.o.store.putVerdict(stored);
      out[p.i] = { ...this.fromVerdict(stored, 'llm', p.a, p.b), ...(r.usage ? { usage: r.usage } : {}) };
    }
  }

  /** Applies the consistency checks and the confidence threshold to an LLM verdict. */
  private fromVerdict(v: StoredVerdict, stage: MatchStage, a: Market, b: Market): MatchDecision {
    const [x, y] = v.a.venue === a.venue && v.a.marketId === a.marketId ? [a, b] : [b, a];
    const quotes = {
      ...(v.quotesA ? { quotesA: v.quotesA } : {}),
      ...(v.quotesB ? { quotesB: v.quotesB } : {}),
    };
    const diffs = v.differences ?? [];
    const reasons = [...v.reasons, ...diffs.map((d) => `difference: ${d}`)];
    const undecided = (why: string): MatchDecision => ({
      a: x,
      b: y,
      relation: 'undetermined',
      confidence: v.confidence,
      stage,
      reasons: [why, ...reasons],
      ...quotes,
    });
    if (v.failure) return undecided(v.failure);
    if (v.relation === 'undetermined') return undecided('LLM: the texts do not settle the pair');
    if (v.relation === 'different') {
      if (diffs.length === 0 && v.sameEvent !== false)
        return undecided('LLM said different without naming a difference');
      return { a: x, b: y, relation: 'different', confidence: v.confidence, stage, reasons, ...quotes };
    }
    if (v.relation === 'identical' || v.relation === 'inverted') {
      if (v.sameEvent === false) return undecided(`LLM said ${v.relation} but not the same event`);
      if (diffs.length > 0) return undecided(`LLM said ${v.relation} but named resolution differences`);
    }
    if (v.confidence < this.o.minConfidence) {
      return undecided(
        `LLM ${v.relation} at confidence ${v.confidence} is below MATCH_MIN_CONFIDENCE ${this.o.minConfidence}: needs review`,
      );
    }
    return { a: x, b: y, relation: v.relation, confidence: v.confidence, stage, reasons, ...quotes };
  }

  /** Keeps the review queue in step with a decision. */
  private async track(d: MatchDecision): Promise<void> {
    const k = pairKey(ref(d.a), ref(d.b));
    if (d.relation === 'undetermined') this.stats.undetermined++;
    if (needsReview(d, this.o.reviewBelow ?? DEFAULT_REVIEW_BELOW)) {
      this.queued.add(k);
      this.indexPair(d.a, d.b);
      await this.o.store.putReview({
        key: k,
        a: briefOf(d.a),
        b: briefOf(d.b),
        relation: d.relation,
        confidence: d.confidence,
        stage: d.stage,
        reasons: [...d.reasons],
        ...(d.quotesA ? { quotesA: d.quotesA } : {}),
        ...(d.quotesB ? { quotesB: d.quotesB } : {}),
        queuedAt: this.o.now(),
      });
    } else if (this.queued.delete(k)) {
      await this.o.store.removeReview(k);
    }
  }

  /** Confirmed links, and a `different`/`undetermined` that withdraws an earlier one; recorded in the store. */
  private async publishable(d: MatchDecision): Promise<MarketLink | undefined> {
    const prior = this.pairState(key(d.a), key(d.b))?.published;
    const linked = isLinkRelation(d.relation);
    if (!linked && (prior === undefined || !isLinkRelation(prior))) return undefined;
    if (prior === d.relation && linked) {
      // unchanged relation: publish again (a market update) but do not rewrite the store
      return this.linkOf(d);
    }
    this.indexPair(d.a, d.b).published = d.relation;
    if (linked) this.stats.links++;
    const link = this.linkOf(d);
    await this.o.store.putLink(link);
    return link;
  }
}

export function createMatcher(o: MatcherOptions): Matcher {
  return new Matcher(o);
}
