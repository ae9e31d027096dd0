/**
 * The review queue as plain functions over a MatchStore, for `pm-arb matches --review` and the dashboard's
 * control API alike:
 *
 *   reviewQueue(store, { below, limit })        → ReviewEntry[]   pairs waiting for a person, most alike first
 *   findReview(store, id)                       → ReviewEntry     by short id ("r-1a2b3c4d") or pair key
 *   approveReview(store, id, { relation, note, at }) → MatchOverride
 *   rejectReview(store, id, { note, at })            → MatchOverride
 *   approvePair / rejectPair(store, a, b, …)          the same by venue:id refs, queued or not
 *
 * A decision is a manual override (it wins over every stage; the running matcher re-reads overrides every 10 s
 * and republishes the pair) and takes the pair off the queue. Unknown ids and relations are `ReviewError`s with a
 * message a person can act on.
 */
import { fnv1a64 } from '../core/hash.ts';
import { isLinkRelation, type MarketRef, type MatchRelation } from '../core/messages.ts';
import { DEFAULT_REVIEW_BELOW, needsReview } from './matcher.ts';
import { normalizeTokens } from './normalize.ts';
import { type MarketBrief, type MatchOverride, type MatchStore, pairKey, type ReviewItem } from './store.ts';

export class ReviewError extends Error {
  override name = 'ReviewError';
}

export interface ReviewEntry extends ReviewItem {
  /** short, stable, copyable id of the pair */
  readonly id: string;
  /** how alike the two titles are (shared normalized tokens, 0..1): the queue's order */
  readonly similarity: number;
}

export interface ReviewQueueOptions {
  /** LLM links below this confidence are listed (default 0.9) */
  readonly below?: number;
  readonly limit?: number;
}

export interface DecisionInput {
  /** approve only: the relation to use (default: the queued link relation, else identical) */
  readonly relation?: MatchRelation;
  readonly note?: string;
  /** epoch ms of the decision */
  readonly at: number;
}

/** Short id of a pair: stable, order-independent, copyable. */
export const reviewId = (a: MarketRef, b: MarketRef): string => `r-${fnv1a64(pairKey(a, b)).slice(0, 8)}`;

const briefText = (m: MarketBrief): string => [m.question, m.subtitle ?? '', m.eventTitle ?? ''].join(' ');

function similarity(a: MarketBrief, b: MarketBrief): number {
  const x = new Set(normalizeTokens(briefText(a)));
  const y = normalizeTokens(briefText(b));
  if (x.size + y.length === 0) return 0;
  const shared = y.filter((t) => x.has(t)).length;
  return (2 * shared) / (x.size + y.length);
}

const refOf = (m: MarketBrief): MarketRef => ({ venue: m.venue, marketId: m.marketId });

/** The pairs waiting for a person, most alike first. */
export async function reviewQueue(store: MatchStore, o: ReviewQueueOptions = {}): Promise<ReviewEntry[]> {
  const below = o.below ?? DEFAULT_REVIEW_BELOW;
  const decided = new Set((await store.listOverrides()).map((x) => pairKey(x.a, x.b)));
  const out = (await store.listReview())
    .filter((r) => !decided.has(r.key) && needsReview(r, below))
    .map((r) => ({ ...r, id: reviewId(refOf(r.a), refOf(r.b)), similarity: similarity(r.a, r.b) }))
    .sort((x, y) => y.similarity - x.similarity || x.queuedAt - y.queuedAt || (x.key < y.key ? -1 : 1));
  return o.limit === undefined ? out : out.slice(0, o.limit);
}

/** A queued pair by its short id or its pair key. */
export async function findReview(store: MatchStore, id: string): Promise<ReviewEntry> {
  const hit = (await reviewQueue(store, { below: 1.01 })).find((r) => r.id === id || r.key === id);
  if (!hit) {
    throw new ReviewError(
      `no pair "${id}" in the review queue (list it with: pm-arb matches --review; ids look like r-1a2b3c4d)`,
    );
  }
  return hit;
}

function checkRelation(relation: MatchRelation | undefined): void {
  if (relation !== undefined && !isLinkRelation(relation)) {
    throw new ReviewError(
      `an approved pair is identical, inverted, implies or exclusive; got "${relation}" (reject it instead)`,
    );
  }
}

async function decide(
  store: MatchStore,
  a: MarketRef,
  b: MarketRef,
  decision: 'approve' | 'reject',
  input: DecisionInput,
): Promise<MatchOverride> {
  const o: MatchOverride = {
    a: { venue: a.venue, marketId: a.marketId },
    b: { venue: b.venue, marketId: b.marketId },
    decision,
    ...(decision === 'approve' && input.relation ? { relation: input.relation } : {}),
    at: input.at,
    ...(input.note ? { note: input.note } : {}),
  };
  await store.setOverride(o);
  await store.removeReview(pairKey(a, b));
  return o;
}

/** Approves a pair (a ⇒ b for implies), queued or not. */
export async function approvePair(
  store: MatchStore,
  a: MarketRef,
  b: MarketRef,
  input: DecisionInput,
): Promise<MatchOverride> {
  checkRelation(input.relation);
  return decide(store, a, b, 'approve', input);
}

/** Rejects a pair, queued or not: the matcher treats it as `different`. */
export async function rejectPair(
  store: MatchStore,
  a: MarketRef,
  b: MarketRef,
  input: Omit<DecisionInput, 'relation'>,
): Promise<MatchOverride> {
  return decide(store, a, b, 'reject', input);
}

/** Approves a queued pair; without a relation, the one the LLM proposed, else identical. */
export async function approveReview(
  store: MatchStore,
  id: string,
  input: DecisionInput,
): Promise<MatchOverride> {
  checkRelation(input.relation);
  const r = await findReview(store, id);
  const relation = input.relation ?? (isLinkRelation(r.relation) ? r.relation : 'identical');
  return decide(store, refOf(r.a), refOf(r.b), 'approve', { ...input, relation });
}

/** Rejects a queued pair. */
export async function rejectReview(
  store: MatchStore,
  id: string,
  input: Omit<DecisionInput, 'relation'>,
): Promise<MatchOverride> {
  const r = await findReview(store, id);
  return decide(store, refOf(r.a), refOf(r.b), 'reject', input);
}
