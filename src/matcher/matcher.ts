/**
 * The market matcher: the same code path for the running agent and for `pm-arb matches`.
 *
 * Per market: its settlement facts and, for crypto markets, an OracleLink. Per candidate pair (candidates.ts):
 *   manual override → rules stage (rules.ts; decides, or says it cannot) → cached LLM verdict (keyed on both
 *   market versions) → the LLM (llm.ts), whose answer is cached durably before use → the confidence threshold.
 * Without an LLM, an undetermined pair is `different` with the reason "undetermined".
 */
import type { Logger } from '../core/log.ts';
import type { Market, MarketLink, MarketRef, MatchRelation, OracleLink } from '../core/messages.ts';
import { CandidateIndex, type CandidateOptions } from './candidates.ts';
import { extractFacts, type MarketFacts, oracleLinkOf } from './facts.ts';
import type { LlmJudge } from './llm.ts';
import { compareFacts } from './rules.ts';
import { type MatchOverride, type MatchStore, pairKey, type StoredVerdict, verdictKey } from './store.ts';

export type MatchStage = MarketLink['stage'];

export interface MatchDecision {
  readonly a: Market;
  readonly b: Market;
  readonly relation: MatchRelation;
  readonly confidence: number;
  readonly stage: MatchStage;
  readonly reasons: readonly string[];
}

export interface MatcherOptions {
  readonly store: MatchStore;
  /** Absent: rules only. */
  readonly llm?: LlmJudge;
  readonly minConfidence: number;
  readonly now: () => number;
  readonly log: Logger;
  readonly candidates?: CandidateOptions;
}

export interface MarketOutcome {
  readonly oracleLink: OracleLink | undefined;
  /** every candidate pair judged, accepted or not */
  readonly decisions: readonly MatchDecision[];
  /** links to publish: accepted relations, and `different` where it withdraws an earlier link */
  readonly links: readonly MarketLink[];
}

const ref = (m: Market): MarketRef => ({ venue: m.venue, marketId: m.marketId });
const key = (m: Market): string => `${m.venue}:${m.marketId}`;
const before = (x: Market, y: Market): boolean =>
  x.venue !== y.venue ? x.venue === 'polymarket' : x.marketId < y.marketId;

export class Matcher {
  private readonly o: MatcherOptions;
  private readonly index: CandidateIndex;
  private readonly markets = new Map<string, { market: Market; facts: MarketFacts }>();
  private readonly published = new Map<string, MatchRelation>();
  private overrides = new Map<string, MatchOverride>();
  readonly stats = { markets: 0, pairs: 0, llmCalls: 0, cacheHits: 0, links: 0 };

  constructor(o: MatcherOptions) {
    this.o = o;
    this.index = new CandidateIndex(o.candidates);
  }

  get rulesOnly(): boolean {
    return this.o.llm === undefined;
  }

  /** Loads the manual overrides. */
  async init(): Promise<void> {
    this.overrides = new Map((await this.o.store.listOverrides()).map((x) => [pairKey(x.a, x.b), x]));
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
    this.markets.set(k, { market: m, facts });
    const oracleLink = m.status === 'open' ? oracleLinkOf(m, facts) : undefined;
    if (m.status !== 'open') {
      this.index.remove(k);
      return { oracleLink, decisions: [], links: [] };
    }
    const cands = this.index.add(m, facts);
    const decisions: MatchDecision[] = [];
    const links: MarketLink[] = [];
    for (const c of cands) {
      // canonical order (Polymarket first, then by id) so a pair reads the same whichever market came first
      const d = before(m, c) ? await this.decide(m, c) : await this.decide(c, m);
      decisions.push(d);
      const l = await this.publishable(d);
      if (l) links.push(l);
    }
    return { oracleLink, decisions, links };
  }

  /**
   * Re-reads the override list from the store (the CLI edits it while the agent runs) and re-judges the pairs
   * whose override changed; returns the links to publish.
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
      const a = this.markets.get(`${o.a.venue}:${o.a.marketId}`);
      const b = this.markets.get(`${o.b.venue}:${o.b.marketId}`);
      if (!a || !b) continue;
      const l = await this.publishable(await this.decide(a.market, b.market));
      if (l) out.push(l);
    }
    return out;
  }

  /** Replaces the override of a pair and re-judges it when both markets are known. */
  async setOverride(o: MatchOverride): Promise<MarketLink | undefined> {
    await this.o.store.setOverride(o);
    this.overrides.set(pairKey(o.a, o.b), o);
    const a = this.markets.get(`${o.a.venue}:${o.a.marketId}`);
    const b = this.markets.get(`${o.b.venue}:${o.b.marketId}`);
    if (!a || !b) return undefined;
    return this.publishable(await this.decide(a.market, b.market));
  }

  /** Judges one pair. */
  async decide(a: Market, b: Market): Promise<MatchDecision> {
    this.stats.pairs++;
    const fa = this.facts(a);
    const fb = this.facts(b);
    const rv = compareFacts(fa, fb);
    const ov = this.overrides.get(pairKey(ref(a), ref(b)));
    if (ov) {
      if (ov.decision === 'reject') {
        return {
          a,
          b,
          relation: 'different',
          confidence: 1,
          stage: 'manual',
          reasons: ['manually rejected', ...(ov.note ? [ov.note] : [])],
        };
      }
      const judged = rv.decided && rv.relation !== 'different' ? rv.relation : undefined;
      const relation = ov.relation ?? judged ?? 'identical';
      const [x, y] = this.orient(a, b, ov);
      return {
        a: x,
        b: y,
        relation,
        confidence: 1,
        stage: 'manual',
        reasons: ['manually approved', ...(ov.note ? [ov.note] : [])],
      };
    }
    if (rv.decided) {
      const [x, y] = rv.swap ? [b, a] : [a, b];
      return {
        a: x,
        b: y,
        relation: rv.relation,
        confidence: rv.confidence,
        stage: 'rules',
        reasons: rv.reasons,
      };
    }
    const vk = verdictKey(ref(a), a.version, ref(b), b.version);
    const cached = await this.o.store.getVerdict(vk);
    if (cached && cached.stage === 'llm') {
      this.stats.cacheHits++;
      return this.fromVerdict(cached, 'cache', a, b);
    }
    const llm = this.o.llm;
    if (!llm) {
      return { a, b, relation: 'different', confidence: 0, stage: 'rules', reasons: rv.reasons };
    }
    this.stats.llmCalls++;
    const v = await llm.judge(
      a,
      b,
      rv.reasons.filter((r) => r !== 'undetermined'),
    );
    if (!v) {
      return {
        a,
        b,
        relation: 'different',
        confidence: 0,
        stage: 'llm',
        reasons: ['no usable LLM verdict (logged)'],
      };
    }
    const stored: StoredVerdict = {
      key: vk,
      a: ref(a),
      b: ref(b),
      aVersion: a.version,
      bVersion: b.version,
      relation: v.relation,
      confidence: v.confidence,
      stage: 'llm',
      reasons: v.reasoning ? [v.reasoning] : [],
      sameEvent: v.same_event,
      differences: v.resolution_differences,
      decidedAt: this.o.now(),
    };
    await this.o.store.putVerdict(stored);
    return this.fromVerdict(stored, 'llm', a, b);
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

  private facts(m: Market): MarketFacts {
    const e = this.markets.get(key(m));
    return e && e.market.version === m.version ? e.facts : extractFacts(m);
  }

  /** Keeps the manual pair in the order it was given (matters for implies). */
  private orient(a: Market, b: Market, ov: MatchOverride): [Market, Market] {
    return ov.a.venue === a.venue && ov.a.marketId === a.marketId ? [a, b] : [b, a];
  }

  /** Applies the consistency checks and the confidence threshold to an LLM verdict. */
  private fromVerdict(v: StoredVerdict, stage: MatchStage, a: Market, b: Market): MatchDecision {
    const [x, y] = v.a.venue === a.venue && v.a.marketId === a.marketId ? [a, b] : [b, a];
    const reasons = [...v.reasons, ...(v.differences ?? []).map((d) => `difference: ${d}`)];
    let relation = v.relation;
    if ((relation === 'identical' || relation === 'inverted') && v.sameEvent === false) {
      relation = 'different';
      reasons.push('LLM: not the same event');
    }
    if ((relation === 'identical' || relation === 'inverted') && (v.differences?.length ?? 0) > 0) {
      relation = 'different';
      reasons.push('resolution rules differ');
    }
    if (relation !== 'different' && v.confidence < this.o.minConfidence) {
      relation = 'different';
      reasons.push(`confidence ${v.confidence} below ${this.o.minConfidence}`);
    }
    return { a: x, b: y, relation, confidence: v.confidence, stage, reasons };
  }

  /** Accepted links, and a `different` that withdraws an earlier one; recorded in the store for listing. */
  private async publishable(d: MatchDecision): Promise<MarketLink | undefined> {
    const pk = pairKey(ref(d.a), ref(d.b));
    const prior = this.published.get(pk);
    if (d.relation === 'different' && (prior === undefined || prior === 'different')) return undefined;
    if (prior === d.relation && d.relation !== 'different') {
      // unchanged relation: publish again (a market update) but do not rewrite the store
      return this.linkOf(d);
    }
    this.published.set(pk, d.relation);
    if (d.relation !== 'different') this.stats.links++;
    const link = this.linkOf(d);
    await this.o.store.putLink(link);
    return link;
  }
}

export function createMatcher(o: MatcherOptions): Matcher {
  return new Matcher(o);
}
