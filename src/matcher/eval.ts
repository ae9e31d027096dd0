/**
 * Evaluation of the matcher on labelled pairs (`pm-arb matches --eval PAIRS.jsonl`), in the format of the
 * development set (one JSON object a line):
 *
 *   {"a": SIDE, "b": SIDE, "label": "identical" | "inverted" | "implies" | "exclusive" | "different", …}
 *   SIDE: {"venue", "id", "title", "subtitle", "rules", "rules_secondary", "ticker", "event_ticker", "slug",
 *          "condition_id", "close_time", "floor_strike", "cap_strike", "strike_type", "outcomes"}
 *
 * Every side becomes a Market. All of them go into one candidate index (as a listing would), which shows whether
 * each labelled pair is proposed as a candidate; then every pair is judged by the matcher (rules, and the LLM when
 * one is given), whatever the candidates said, so verdict quality is measured on its own. A pair whose side has no
 * text at all (no title, subtitle, slug or ticker) cannot be matched by anything and is reported as skipped.
 */
import { z } from 'zod';
import { contentVersion } from '../core/hash.ts';
import { isLinkRelation, type Market, type MatchRelation } from '../core/messages.ts';
import { KALSHI_STANDARD_FEES } from '../venues/kalshi/fees.ts';
import { CandidateIndex, type CandidateOptions } from './candidates.ts';
import { extractFacts } from './facts.ts';
import { canonicalPair, type MatchDecision, type Matcher } from './matcher.ts';
import { compareFacts } from './rules.ts';
import { pairKey } from './store.ts';

const str = z.string().optional();
const num = z.union([z.number(), z.string()]).optional();

export const PairSideSchema = z
  .object({
    venue: z.enum(['polymarket', 'kalshi']),
    id: z.union([z.string(), z.number()]).optional(),
    title: str,
    subtitle: str,
    rules: str,
    rules_secondary: str,
    ticker: str,
    event_ticker: str,
    slug: str,
    condition_id: str,
    close_time: str,
    floor_strike: num,
    cap_strike: num,
    strike_type: str,
    outcomes: z.union([z.array(z.string()), z.string()]).optional(),
  })
  .passthrough();
export type PairSide = z.infer<typeof PairSideSchema>;

export const LABELS = ['identical', 'inverted', 'implies', 'exclusive', 'different'] as const;
export type Label = (typeof LABELS)[number];

export const LabelledPairSchema = z
  .object({ a: PairSideSchema, b: PairSideSchema, label: z.enum(LABELS), note: str })
  .passthrough();
export type LabelledPair = z.infer<typeof LabelledPairSchema>;

/** Parses a pairs file; a bad line is an error naming its number and what was wrong. */
export function parsePairs(text: string): { pairs: LabelledPair[]; errors: string[] } {
  const pairs: LabelledPair[] = [];
  const errors: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      errors.push(`line ${i + 1}: not JSON (${(err as Error).message})`);
      return;
    }
    const r = LabelledPairSchema.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      errors.push(`line ${i + 1}: ${issue.path.join('.') || 'pair'}: ${issue.message}`);
      return;
    }
    pairs.push(r.data);
  });
  return { pairs, errors };
}

const text = (s: string | undefined): string => (s ?? '').trim();

/** A side's identity: its venue id, else ticker, condition id, slug, or its text. */
export function sideKey(s: PairSide): string | undefined {
  const id = s.id !== undefined ? String(s.id) : (s.ticker ?? s.condition_id ?? s.slug);
  if (id) return `${s.venue}:${id}`;
  const t = [text(s.title), text(s.subtitle)].join('|');
  return t === '|' ? undefined : `${s.venue}:text-${contentVersion(t).slice(0, 12)}`;
}

/** A side as the venue parsers would give it, or undefined when it carries no text to match on. */
export function sideToMarket(s: PairSide): Market | undefined {
  const k = sideKey(s);
  if (!k) return undefined;
  if (!text(s.title) && !text(s.subtitle) && !text(s.slug) && !text(s.ticker)) return undefined;
  const marketId = k.slice(k.indexOf(':') + 1);
  const labels = Array.isArray(s.outcomes)
    ? s.outcomes
    : typeof s.outcomes === 'string'
      ? (JSON.parse(s.outcomes) as string[])
      : ['Yes', 'No'];
  const sideOf = (l: string): 'yes' | 'no' | 'other' =>
    l.trim().toLowerCase() === 'yes' ? 'yes' : l.trim().toLowerCase() === 'no' ? 'no' : 'other';
  const end = s.close_time ? Date.parse(s.close_time) : Number.NaN;
  const rules = [s.rules, s.rules_secondary].filter((r): r is string => !!r && r.trim() !== '').join('\n\n');
  return {
    type: 'market',
    venue: s.venue,
    marketId,
    ...(s.event_ticker ? { eventId: s.event_ticker } : {}),
    ...(s.slug || s.ticker ? { slug: s.slug ?? s.ticker } : {}),
    question: text(s.title),
    ...(text(s.subtitle) ? { subtitle: text(s.subtitle) } : {}),
    rules,
    outcomes: labels.map((label, i) => ({
      tokenId: s.venue === 'kalshi' ? `${marketId}:${sideOf(label)}` : `${marketId}-${i}`,
      label,
      side: sideOf(label),
    })),
    tickSize: 10_000,
    minSize: 1_000_000,
    fees: s.venue === 'kalshi' ? KALSHI_STANDARD_FEES : { kind: 'none' },
    endTime: Number.isFinite(end) ? end : null,
    status: 'open',
    version: contentVersion(s),
    receiveTime: 0,
  };
}

/** What the matcher said about a pair, oriented as the label is (a ⇒ b for implies). */
export type Verdict = MatchRelation | 'implied_by';

export interface PairResult {
  readonly line: number;
  readonly label: Label;
  readonly a: Market;
  readonly b: Market;
  readonly proposed: boolean;
  readonly verdict: Verdict;
  readonly confidence: number;
  readonly stage: MatchDecision['stage'];
  readonly reasons: readonly string[];
  readonly note?: string;
}

export interface LabelStats {
  readonly pairs: number;
  readonly proposed: number;
  readonly verdicts: Partial<Record<Verdict, number>>;
  /** of the pairs the matcher called this label, the share labelled so (undefined when it never did) */
  readonly precision: number | undefined;
  /** of the pairs labelled so, the share the matcher called so */
  readonly recall: number;
}

export interface EvalReport {
  readonly rulesOnly: boolean;
  readonly pairs: number;
  readonly evaluated: number;
  readonly skipped: readonly { line: number; label: Label; why: string }[];
  readonly markets: number;
  /** candidates per market over the whole index: mean and max */
  readonly candidatesPerMarket: { readonly mean: number; readonly max: number };
  readonly byLabel: Readonly<Record<Label, LabelStats>>;
  /** label → verdict → count */
  readonly confusion: Readonly<Record<Label, Partial<Record<Verdict, number>>>>;
  /** share of the identical/inverted/implies/exclusive pairs proposed as candidates */
  readonly relatedProposed: number;
  /** pairs labelled different that the matcher linked (any relation it would trade) */
  readonly nearMissesLinked: readonly PairResult[];
  /** near misses called identical or inverted */
  readonly nearMissesIdenticalOrInverted: number;
  /** pairs the rules stage could not settle */
  readonly rulesUndecided: number;
  /** every one of them was reported `undetermined`, unless the LLM or a person decided it */
  readonly undecidedReportedUndetermined: boolean;
  readonly results: readonly PairResult[];
  /** LLM cost of this run, micro-dollars */
  readonly llmCostMicro: number;
}

const orient = (d: MatchDecision, a: Market): Verdict =>
  d.relation === 'implies' && !(d.a.venue === a.venue && d.a.marketId === a.marketId)
    ? 'implied_by'
    : d.relation;

/** Runs the candidate index and the matcher over labelled pairs. */
export async function evaluatePairs(
  pairs: readonly LabelledPair[],
  matcher: Matcher,
  candidateOptions?: CandidateOptions,
): Promise<EvalReport> {
  const markets = new Map<string, Market>();
  const skipped: { line: number; label: Label; why: string }[] = [];
  const usable: { line: number; pair: LabelledPair; a: Market; b: Market }[] = [];
  pairs.forEach((p, i) => {
    const a = sideToMarket(p.a);
    const b = sideToMarket(p.b);
    if (!a || !b) {
      skipped.push({
        line: i + 1,
        label: p.label,
        why: `side ${!a ? 'a' : 'b'} (${(!a ? p.a : p.b).venue}) has no title, subtitle, slug or ticker`,
      });
      return;
    }
    const ka = `${a.venue}:${a.marketId}`;
    const kb = `${b.venue}:${b.marketId}`;
    if (!markets.has(ka)) markets.set(ka, a);
    if (!markets.has(kb)) markets.set(kb, b);
    usable.push({ line: i + 1, pair: p, a: markets.get(ka)!, b: markets.get(kb)! });
  });

  // candidates: every market into one index, as a listing arrives
  const index = new CandidateIndex(candidateOptions);
  const proposed = new Set<string>();
  const perMarket = new Map<string, number>();
  for (const m of markets.values()) {
    for (const c of index.add(m, extractFacts(m))) {
      proposed.add(pairKey(m, c));
      for (const k of [`${m.venue}:${m.marketId}`, `${c.venue}:${c.marketId}`])
        perMarket.set(k, (perMarket.get(k) ?? 0) + 1);
    }
  }
  const ref = (m: Market) => ({ venue: m.venue, marketId: m.marketId });

  const decisions = await matcher.decideMany(usable.map((u) => canonicalPair(u.a, u.b)));
  const results: PairResult[] = usable.map((u, i) => {
    const d = decisions[i]!;
    return {
      line: u.line,
      label: u.pair.label,
      a: u.a,
      b: u.b,
      proposed: proposed.has(pairKey(ref(u.a), ref(u.b))),
      verdict: orient(d, u.a),
      confidence: d.confidence,
      stage: d.stage,
      reasons: d.reasons,
      ...(u.pair.note ? { note: u.pair.note } : {}),
    };
  });

  const confusion = Object.fromEntries(LABELS.map((l) => [l, {}])) as Record<
    Label,
    Partial<Record<Verdict, number>>
  >;
  for (const r of results) confusion[r.label][r.verdict] = (confusion[r.label][r.verdict] ?? 0) + 1;
  const byLabel = Object.fromEntries(
    LABELS.map((l) => {
      const mine = results.filter((r) => r.label === l);
      const called = results.filter((r) => r.verdict === l);
      const right = called.filter((r) => r.label === l).length;
      const stats: LabelStats = {
        pairs: mine.length,
        proposed: mine.filter((r) => r.proposed).length,
        verdicts: confusion[l],
        precision: called.length === 0 ? undefined : right / called.length,
        recall: mine.length === 0 ? 1 : right / mine.length,
      };
      return [l, stats];
    }),
  ) as Record<Label, LabelStats>;
  const related = results.filter((r) => r.label !== 'different');
  const nearMissesLinked = results.filter(
    (r) => r.label === 'different' && r.verdict !== 'implied_by' && isLinkRelation(r.verdict),
  );
  const undecided = results.filter((r) => !compareFacts(extractFacts(r.a), extractFacts(r.b)).decided);
  const counts = [...markets.keys()].map((k) => perMarket.get(k) ?? 0);
  return {
    rulesOnly: matcher.rulesOnly,
    pairs: pairs.length,
    evaluated: results.length,
    skipped,
    markets: markets.size,
    candidatesPerMarket: {
      mean: counts.length === 0 ? 0 : counts.reduce((x, y) => x + y, 0) / counts.length,
      max: Math.max(0, ...counts),
    },
    byLabel,
    confusion,
    relatedProposed: related.length === 0 ? 1 : related.filter((r) => r.proposed).length / related.length,
    nearMissesLinked: [
      ...nearMissesLinked,
      ...results.filter((r) => r.label === 'different' && r.verdict === 'implied_by'),
    ],
    nearMissesIdenticalOrInverted: results.filter(
      (r) => r.label === 'different' && (r.verdict === 'identical' || r.verdict === 'inverted'),
    ).length,
    rulesUndecided: undecided.length,
    undecidedReportedUndetermined: undecided.every(
      (r) => r.verdict === 'undetermined' || r.stage === 'llm' || r.stage === 'cache' || r.stage === 'manual',
    ),
    results,
    llmCostMicro: matcher.stats.llmCostMicro,
  };
}

const pct = (x: number | undefined): string =>
  x === undefined ? '  —' : `${(x * 100).toFixed(0)}%`.padStart(4);

/** The report as a person reads it. */
export function formatEvalReport(r: EvalReport): string {
  const out: string[] = [];
  out.push(
    `${r.evaluated} of ${r.pairs} pairs evaluated (${r.rulesOnly ? 'rules only: ANTHROPIC_API_KEY is not set' : 'rules + LLM'}), ` +
      `${r.markets} markets, ${r.candidatesPerMarket.mean.toFixed(1)} candidates per market on average (max ${r.candidatesPerMarket.max})`,
  );
  for (const s of r.skipped) out.push(`  skipped line ${s.line} (${s.label}): ${s.why}`);
  out.push('');
  const cols: Verdict[] = [
    'identical',
    'inverted',
    'implies',
    'implied_by',
    'exclusive',
    'different',
    'undetermined',
  ];
  out.push(
    `${'label'.padEnd(10)} ${'pairs'.padStart(5)} ${'cands'.padStart(5)} ${'prec'.padStart(4)} ${'rec'.padStart(4)}   verdicts`,
  );
  for (const l of LABELS) {
    const s = r.byLabel[l];
    const v = cols
      .filter((c) => (s.verdicts[c] ?? 0) > 0)
      .map((c) => `${c} ${s.verdicts[c]}`)
      .join(', ');
    out.push(
      `${l.padEnd(10)} ${String(s.pairs).padStart(5)} ${String(s.proposed).padStart(5)} ${pct(s.precision)} ${pct(s.recall)}   ${v}`,
    );
  }
  out.push('');
  out.push('confusion (rows: label, columns: verdict)');
  out.push(`${''.padEnd(10)} ${cols.map((c) => c.slice(0, 10).padStart(11)).join('')}`);
  for (const l of LABELS) {
    out.push(`${l.padEnd(10)} ${cols.map((c) => String(r.confusion[l][c] ?? 0).padStart(11)).join('')}`);
  }
  out.push('');
  out.push(
    `related pairs proposed as candidates: ${(r.relatedProposed * 100).toFixed(1)}%; ` +
      `near misses called identical/inverted: ${r.nearMissesIdenticalOrInverted}; ` +
      `pairs the rules could not settle: ${r.rulesUndecided}, reported undetermined: ${r.undecidedReportedUndetermined ? 'all' : 'NOT ALL'}` +
      (r.rulesOnly ? '' : `; LLM cost $${(r.llmCostMicro / 1e6).toFixed(4)}`),
  );
  if (r.nearMissesLinked.length === 0) out.push('near misses called a match: none');
  else {
    out.push('near misses called a match:');
    for (const x of r.nearMissesLinked) {
      out.push(`  line ${x.line}: ${x.verdict} (${x.stage}, ${x.confidence.toFixed(2)})`);
      out.push(`    ${x.a.venue}:${x.a.marketId}  "${x.a.question}"`);
      out.push(`    ${x.b.venue}:${x.b.marketId}  "${x.b.question}"`);
      for (const reason of x.reasons.slice(0, 3)) out.push(`    - ${reason}`);
    }
  }
  const missed = r.results.filter((x) => x.label !== 'different' && !x.proposed);
  if (missed.length > 0) {
    out.push('related pairs not proposed as candidates:');
    for (const x of missed) out.push(`  line ${x.line} (${x.label}): "${x.a.question}" / "${x.b.question}"`);
  }
  return out.join('\n');
}
