/**
 * The match review queue: judged pairs nobody may trade on yet and no person has ruled on — verdicts the rules
 * could not settle ("undetermined", or "different" at confidence 0), and LLM verdicts below the confidence a link
 * needs. A pair with a manual override, or already linked with a tradeable relation, is not in the queue.
 */
import type { MarketLink, MarketRef } from '../core/messages.ts';
import { type MatchOverride, pairKey, type StoredVerdict } from '../matcher/store.ts';

export interface ReviewItem {
  readonly a: MarketRef;
  readonly b: MarketRef;
  readonly relation: string;
  readonly confidence: number;
  readonly stage: string;
  readonly reasons: readonly string[];
  readonly differences: readonly string[];
  readonly decidedAt: number;
  /** Why it waits for a person. */
  readonly why: 'undetermined' | 'low_confidence';
}

export function reviewQueue(
  verdicts: readonly StoredVerdict[],
  overrides: readonly MatchOverride[],
  links: readonly MarketLink[],
  minConfidence: number,
): ReviewItem[] {
  const ruled = new Set(overrides.map((o) => pairKey(o.a, o.b)));
  const linked = new Set(links.filter((l) => l.relation !== 'different').map((l) => pairKey(l.a, l.b)));
  const latest = new Map<string, StoredVerdict>();
  for (const v of verdicts) {
    const k = pairKey(v.a, v.b);
    const prev = latest.get(k);
    if (!prev || v.decidedAt >= prev.decidedAt) latest.set(k, v);
  }
  const out: ReviewItem[] = [];
  for (const [k, v] of latest) {
    if (ruled.has(k) || linked.has(k)) continue;
    const relation = String(v.relation);
    const undetermined = relation === 'undetermined' || (relation === 'different' && v.confidence === 0);
    const low = relation !== 'different' && !undetermined && v.confidence < minConfidence;
    if (!undetermined && !low) continue;
    out.push({
      a: v.a,
      b: v.b,
      relation,
      confidence: v.confidence,
      stage: v.stage,
      reasons: v.reasons,
      differences: v.differences ?? [],
      decidedAt: v.decidedAt,
      why: undetermined ? 'undetermined' : 'low_confidence',
    });
  }
  return out.sort((x, y) => y.decidedAt - x.decidedAt || (pairKey(x.a, x.b) < pairKey(y.a, y.b) ? -1 : 1));
}
