/**
 * `pm-arb matches`: what the market matcher makes of a set of listings or of labelled pairs, what the running
 * system links, and the review queue.
 *
 *   pm-arb matches [--json]                 the running system's links (PostgreSQL when DATABASE_URL is set, else
 *                                           the match file under DATA_DIR) and the manual overrides
 *   pm-arb matches --capture FILE [--json]  decodes the listings of a raw capture and runs the matcher as the agent
 *                                           does (rules, the LLM when ANTHROPIC_API_KEY is set, the cache, the
 *                                           overrides); an audit: it reads the live match file, writes only
 *                                           DATA_DIR/matches-audit.json
 *   pm-arb matches --review [--json] [--interactive] [--approve ID [--relation R] | --reject ID] [--note T]
 *                                           lists the pairs waiting for a person (both questions and rules side by
 *                                           side), and approves or rejects them
 *   pm-arb matches --eval PAIRS.jsonl [--json]   runs the matcher on labelled pairs and scores it
 *   pm-arb matches approve|reject <a> [b]   (a, b as venue:id, or one review id) a manual override
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { type Config, loadConfig, loadDotEnv } from '../../core/config.ts';
import {
  isLinkRelation,
  type Market,
  type MarketLink,
  type MarketRef,
  type MatchRelation,
  MatchRelationSchema,
  type OracleLink,
  VenueSchema,
} from '../../core/messages.ts';
import { baseSource } from '../../feeds/types.ts';
import type { EvalReport } from '../../matcher/eval.ts';
import type { MatchDecision } from '../../matcher/matcher.ts';
import {
  approvePair,
  approveReview,
  type ReviewEntry,
  ReviewError,
  rejectPair,
  rejectReview,
  reviewQueue,
} from '../../matcher/review.ts';
import {
  createJsonMatchStore,
  type FileMatchStore,
  type MarketBrief,
  type MatchStore,
  matchFilePath,
  overlayMatchStore,
} from '../../matcher/store.ts';
import { requireCapture } from '../files.ts';
import { UsageError } from '../main.ts';

/** Capture sources that carry market listings. */
export const LISTING_SOURCES = [
  'polymarket.gamma.markets',
  'polymarket.gamma.events',
  'kalshi.rest.markets',
  'kalshi.rest.events',
] as const;

/** Where audits (--capture, --eval) keep their verdict cache: never the live match file. */
export const AUDIT_FILE = 'matches-audit.json';

export interface JsonLink {
  readonly a: { readonly venue: string; readonly id: string };
  readonly b: { readonly venue: string; readonly id: string };
  readonly relation: MatchRelation;
  readonly confidence: number;
  readonly stage: MarketLink['stage'];
  readonly reasons: readonly string[];
}

/** The latest listing of every market in a capture, through the venue decoders. */
export async function marketsFromCapture(path: string): Promise<{ markets: Market[]; rejected: number }> {
  const [{ readCapture }, { createDecoders }] = await Promise.all([
    import('../../capture/reader.ts'),
    import('../../venues/registry.ts'), // every venue's decoder: only the modes that decode load it
  ]);
  const set = createDecoders();
  const latest = new Map<string, Market>();
  let rejected = 0;
  const sink = {
    emit(e: { type: string }) {
      if (e.type === 'market') {
        const m = e as Market;
        latest.set(`${m.venue}:${m.marketId}`, m);
      }
    },
    reject() {
      rejected++;
    },
  };
  for await (const frame of readCapture(path)) {
    const src = baseSource(frame.source);
    if (!(LISTING_SOURCES as readonly string[]).includes(src)) continue;
    set.route(frame, sink);
  }
  const order = (m: Market): string => `${m.venue === 'polymarket' ? 0 : 1}:${m.marketId}`;
  return { markets: [...latest.values()].sort((x, y) => (order(x) < order(y) ? -1 : 1)), rejected };
}

export interface CaptureMatchResult {
  readonly decisions: MatchDecision[];
  readonly oracleLinks: OracleLink[];
  readonly markets: number;
  readonly rulesOnly: boolean;
}

/**
 * What running the matcher needs (the matcher, the LLM judge, the logger), loaded by the modes that run it: the
 * listing and review modes answer without them.
 */
async function matcherModules() {
  const [{ createLogger }, { judgeFromConfig }, { Matcher }, evalModule] = await Promise.all([
    import('../../core/log.ts'),
    import('../../matcher/llm.ts'),
    import('../../matcher/matcher.ts'),
    import('../../matcher/eval.ts'),
  ]);
  const quietLog = (config: Config) => createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  return { quietLog, judgeFromConfig, Matcher, ...evalModule };
}

/** Runs the matcher over markets as the agent would; `store` keeps the cache and overrides. */
export async function matchMarkets(
  markets: readonly Market[],
  config: Config,
  store: MatchStore,
  minConfidence = config.matchMinConfidence,
): Promise<CaptureMatchResult> {
  const { quietLog, judgeFromConfig, Matcher } = await matcherModules();
  const log = quietLog(config);
  const now = () => Date.now();
  const llm = judgeFromConfig(config, store, now, log);
  // links of a capture are not the running system's: keep them out of the store's link list
  const scoped: MatchStore = { ...store, putLink: async () => {} };
  const m = new Matcher({ store: scoped, llm, minConfidence, now, log });
  await m.init();
  const decisions: MatchDecision[] = [];
  const oracleLinks: OracleLink[] = [];
  for (const mk of markets) {
    const out = await m.onMarket(mk);
    decisions.push(...out.decisions);
    if (out.oracleLink) oracleLinks.push(out.oracleLink);
  }
  return { decisions, oracleLinks, markets: markets.length, rulesOnly: !llm };
}

export const toJsonLink = (d: MatchDecision): JsonLink => ({
  a: { venue: d.a.venue, id: d.a.marketId },
  b: { venue: d.b.venue, id: d.b.marketId },
  relation: d.relation,
  confidence: d.confidence,
  stage: d.stage,
  reasons: [...d.reasons],
});

const linkToJson = (l: MarketLink): JsonLink => ({
  a: { venue: l.a.venue, id: l.a.marketId },
  b: { venue: l.b.venue, id: l.b.marketId },
  relation: l.relation,
  confidence: l.confidence,
  stage: l.stage,
  reasons: [...l.reasons],
});

const clip = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

const RANK: Record<MatchRelation, number> = {
  identical: 0,
  inverted: 1,
  implies: 2,
  exclusive: 3,
  undetermined: 4,
  different: 5,
};

/** Links, best first; ids in full so they can be copied into approve/reject. */
function table(rows: readonly { link: JsonLink; aTitle?: string; bTitle?: string }[]): string {
  const out: string[] = [];
  const sorted = [...rows].sort((x, y) => RANK[x.link.relation] - RANK[y.link.relation]);
  for (const r of sorted) {
    const l = r.link;
    out.push(
      `${l.relation.padEnd(12)} ${l.confidence.toFixed(2)}  ${l.stage.padEnd(6)}  ${l.a.venue}:${l.a.id}${r.aTitle ? `  "${clip(r.aTitle, 70)}"` : ''}`,
    );
    out.push(`${' '.repeat(28)}${l.b.venue}:${l.b.id}${r.bTitle ? `  "${clip(r.bTitle, 70)}"` : ''}`);
    for (const reason of l.reasons.slice(0, 4)) out.push(`${' '.repeat(28)}- ${clip(reason, 120)}`);
  }
  return out.join('\n');
}

/** "kalshi:KXBTCD-26DEC3112-T100000" → MarketRef (ids may contain colons). */
export function parseRef(text: string): MarketRef {
  const i = text.indexOf(':');
  const venue = VenueSchema.safeParse(text.slice(0, Math.max(0, i)));
  if (i <= 0 || !venue.success || i === text.length - 1) {
    throw new UsageError(
      `a market is venue:id with venue polymarket or kalshi, e.g. kalshi:KXBTCD-26DEC3112-T100000; got "${text}"`,
    );
  }
  return { venue: venue.data, marketId: text.slice(i + 1) };
}

function configFromEnv(): Config {
  loadDotEnv();
  return loadConfig();
}

function fraction(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !(n >= 0 && n <= 1))
    throw new UsageError(`${name} must be a number from 0 to 1, got "${v}"`);
  return n;
}

function relationOpt(v: string | undefined): MatchRelation | undefined {
  if (v === undefined) return undefined;
  const r = MatchRelationSchema.safeParse(v);
  if (!r.success || !isLinkRelation(r.data)) {
    throw new UsageError(`--relation must be identical, inverted, implies or exclusive; got "${v}"`);
  }
  return r.data;
}

/** The live match file: what the running agent reads and writes (overrides, review queue, cache, spending). */
const liveStore = (config: Config): FileMatchStore => createJsonMatchStore(matchFilePath(config.dataDir));

/** An audit's store: reads the live file, writes only DATA_DIR/matches-audit.json. */
function auditStore(config: Config): { store: MatchStore; flush(): void } {
  const audit = createJsonMatchStore(join(config.dataDir, AUDIT_FILE));
  return { store: overlayMatchStore(liveStore(config), audit), flush: () => audit.flush() };
}

async function listRunning(config: Config, json: boolean): Promise<void> {
  let links: MarketLink[] | undefined;
  let from = '';
  if (config.databaseUrl) {
    try {
      const { openDbFromConfig } = await import('../../store/db.ts');
      const { createSqlMatchStore } = await import('../../store/match-store.ts');
      const db = await openDbFromConfig(config);
      try {
        links = await createSqlMatchStore(db).listLinks();
        from = 'the store (market_matches)';
      } finally {
        await db.close();
      }
    } catch (err) {
      process.stderr.write(`matches: store not readable (${(err as Error).message}); using the match file\n`);
    }
  }
  const store = liveStore(config);
  if (!links) {
    links = await store.listLinks();
    from = store.path;
  }
  const rows = links.map(linkToJson);
  if (json) {
    process.stdout.write(`${JSON.stringify({ links: rows })}\n`);
    return;
  }
  const overrides = await store.listOverrides();
  process.stdout.write(`${rows.length} links from ${from}\n`);
  if (rows.length > 0) process.stdout.write(`${table(rows.map((link) => ({ link })))}\n`);
  if (overrides.length > 0) {
    process.stdout.write(`\nmanual overrides:\n`);
    for (const o of overrides) {
      process.stdout.write(
        `  ${o.decision.padEnd(7)} ${o.a.venue}:${o.a.marketId}  ${o.b.venue}:${o.b.marketId}${o.relation ? `  (${o.relation})` : ''}\n`,
      );
    }
  }
  const queued = (await reviewQueue(store)).length;
  if (queued > 0) process.stdout.write(`\n${queued} pairs wait for review: pm-arb matches --review\n`);
}

async function runCapture(config: Config, path: string, json: boolean, minConfidence: number): Promise<void> {
  // the first line at once, on stderr: decoding the listings and matching them take a while on a big capture
  if (!json)
    process.stderr.write(`matches: the listings in ${path} (${(statSync(path).size / 1e6).toFixed(1)} MB)\n`);
  const { markets, rejected } = await marketsFromCapture(path);
  const audit = auditStore(config);
  const res = await matchMarkets(markets, config, audit.store, minConfidence);
  audit.flush();
  const rows = res.decisions.map((d) => ({
    link: toJsonLink(d),
    aTitle: d.a.question,
    bTitle: d.b.question,
  }));
  if (json) {
    process.stdout.write(`${JSON.stringify({ links: rows.map((r) => r.link) })}\n`);
    return;
  }
  const accepted = rows.filter((r) => isLinkRelation(r.link.relation)).length;
  const undetermined = rows.filter((r) => r.link.relation === 'undetermined').length;
  process.stdout.write(
    `${res.markets} markets, ${rows.length} candidate pairs, ${accepted} linked, ${undetermined} undetermined` +
      `${res.rulesOnly ? ' (rules only: ANTHROPIC_API_KEY is not set)' : ''}` +
      `${rejected > 0 ? `; ${rejected} listing frames rejected by the decoders` : ''}\n`,
  );
  if (rows.length > 0) process.stdout.write(`${table(rows)}\n`);
  if (res.oracleLinks.length > 0) {
    process.stdout.write(`\n${res.oracleLinks.length} oracle links:\n`);
    for (const l of res.oracleLinks) {
      const strike = l.strike === undefined ? '' : ` ${(l.strike / 1e8).toLocaleString('en-US')}`;
      const upper = l.upper === undefined ? '' : `–${(l.upper / 1e8).toLocaleString('en-US')}`;
      process.stdout.write(
        `  ${l.market.venue}:${l.market.marketId}  ${l.asset} ${l.kind}${strike}${upper}  ${new Date(l.expiry).toISOString()}  ${l.symbol} (${l.settlementSource})\n`,
      );
    }
  }
}

// ---------------------------------------------------------------- --eval

export function evalJson(r: EvalReport): unknown {
  const side = (m: Market) => ({ venue: m.venue, id: m.marketId, question: m.question });
  return {
    rulesOnly: r.rulesOnly,
    pairs: r.pairs,
    evaluated: r.evaluated,
    skipped: r.skipped,
    markets: r.markets,
    candidatesPerMarket: r.candidatesPerMarket,
    byLabel: r.byLabel,
    confusion: r.confusion,
    relatedProposed: r.relatedProposed,
    nearMissesIdenticalOrInverted: r.nearMissesIdenticalOrInverted,
    rulesUndecided: r.rulesUndecided,
    undecidedReportedUndetermined: r.undecidedReportedUndetermined,
    llmCostUsd: r.llmCostMicro / 1e6,
    nearMissesLinked: r.nearMissesLinked.map((x) => ({
      line: x.line,
      verdict: x.verdict,
      confidence: x.confidence,
      stage: x.stage,
      a: side(x.a),
      b: side(x.b),
      reasons: x.reasons,
    })),
    results: r.results.map((x) => ({
      line: x.line,
      label: x.label,
      verdict: x.verdict,
      proposed: x.proposed,
      confidence: x.confidence,
      stage: x.stage,
      a: side(x.a),
      b: side(x.b),
      reasons: x.reasons,
    })),
  };
}

async function runEval(config: Config, path: string, json: boolean, minConfidence: number): Promise<void> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the pairs file ${path}: ${(err as Error).message}`);
  }
  const { quietLog, judgeFromConfig, Matcher, parsePairs, evaluatePairs, formatEvalReport } =
    await matcherModules();
  const { pairs, errors } = parsePairs(text);
  if (errors.length > 0) {
    throw new UsageError(
      `${path} is not a pairs file (one JSON object a line, see README "Evaluating the matcher"):\n  ${errors.slice(0, 10).join('\n  ')}`,
    );
  }
  if (pairs.length === 0) throw new UsageError(`${path} holds no pairs`);
  const log = quietLog(config);
  const audit = auditStore(config);
  const now = () => Date.now();
  // no init(): the matcher's own judgement, without the live manual overrides
  const matcher = new Matcher({
    store: audit.store,
    llm: judgeFromConfig(config, audit.store, now, log),
    minConfidence,
    now,
    log,
  });
  const report = await evaluatePairs(pairs, matcher);
  audit.flush();
  process.stdout.write(json ? `${JSON.stringify(evalJson(report))}\n` : `${formatEvalReport(report)}\n`);
}

// ---------------------------------------------------------------- --review

const WIDTH = 62;

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(/\s+/).filter(Boolean)) {
      if (line.length + word.length + 1 > width && line !== '') {
        out.push(line);
        line = '';
      }
      line = line === '' ? word.slice(0, width) : `${line} ${word}`;
    }
    if (line !== '') out.push(line);
  }
  return out;
}

function column(m: MarketBrief): string[] {
  const end = m.endTime === null ? 'none' : new Date(m.endTime).toISOString().replace('.000Z', 'Z');
  return [
    ...wrap(`Q: ${m.question || '(no question)'}`, WIDTH),
    ...(m.subtitle ? wrap(`subtitle: ${m.subtitle}`, WIDTH) : []),
    ...(m.eventTitle ? wrap(`event: ${m.eventTitle}`, WIDTH) : []),
    ...wrap(`outcomes: ${m.outcomes.join(' / ')}; closes ${end}`, WIDTH),
    ...wrap(`rules: ${clip(m.rules || '(none)', 700)}`, WIDTH),
  ];
}

/** One queued pair: ids in full, then both markets side by side. */
export function formatReviewEntry(r: ReviewEntry): string {
  const out = [
    `${r.id}  ${r.relation} ${r.confidence.toFixed(2)} (${r.stage})  similarity ${r.similarity.toFixed(2)}`,
    `  A ${r.a.venue}:${r.a.marketId}`,
    `  B ${r.b.venue}:${r.b.marketId}`,
    ...r.reasons.slice(0, 4).map((x) => `  - ${clip(x, 150)}`),
  ];
  const left = column(r.a);
  const right = column(r.b);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    out.push(`  ${(left[i] ?? '').padEnd(WIDTH)} │ ${right[i] ?? ''}`);
  }
  if (r.quotesA?.length || r.quotesB?.length) {
    out.push(`  LLM quoted A: ${(r.quotesA ?? []).map((q) => `"${q}"`).join(' ')}`);
    out.push(`  LLM quoted B: ${(r.quotesB ?? []).map((q) => `"${q}"`).join(' ')}`);
  }
  return out.join('\n');
}

const KEYS: Record<string, MatchRelation | 'reject' | 'skip' | 'quit'> = {
  i: 'identical',
  v: 'inverted',
  m: 'implies',
  x: 'exclusive',
  r: 'reject',
  s: 'skip',
  '': 'skip',
  q: 'quit',
};

async function interactiveReview(store: MatchStore, queue: readonly ReviewEntry[]): Promise<void> {
  const rl = createInterface({ input: process.stdin, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  let approved = 0;
  let rejected = 0;
  try {
    for (const r of queue) {
      process.stdout.write(`\n${formatReviewEntry(r)}\n`);
      let action: MatchRelation | 'reject' | 'skip' | 'quit' | undefined;
      while (action === undefined) {
        process.stdout.write(
          'approve as [i]dentical, in[v]erted, [m] A implies B, e[x]clusive; [r]eject; [s]kip; [q]uit > ',
        );
        const next = await lines.next();
        if (next.done) {
          action = 'quit';
          break;
        }
        action = KEYS[String(next.value).trim().toLowerCase()];
        if (action === undefined) process.stdout.write('  (one of i, v, m, x, r, s, q)\n');
      }
      if (action === 'quit') break;
      if (action === 'skip') continue;
      if (action === 'reject') {
        await rejectReview(store, r.id, { at: Date.now() });
        rejected++;
        process.stdout.write(`  rejected ${r.id}\n`);
      } else {
        await approveReview(store, r.id, { relation: action, at: Date.now() });
        approved++;
        process.stdout.write(`  approved ${r.id} as ${action}\n`);
      }
    }
  } finally {
    rl.close();
  }
  process.stdout.write(`\n${approved} approved, ${rejected} rejected\n`);
}

interface ReviewOpts {
  json?: boolean;
  interactive?: boolean;
  approve?: string;
  reject?: string;
  relation?: string;
  note?: string;
  below?: string;
  limit?: string;
}

async function runReview(config: Config, o: ReviewOpts): Promise<void> {
  const file = liveStore(config);
  const below = fraction('--below', o.below, 0.9);
  const limit = o.limit === undefined ? undefined : Number(o.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0))
    throw new UsageError(`--limit must be a positive whole number, got "${o.limit}"`);
  if (o.approve && o.reject) throw new UsageError('give --approve or --reject, not both');
  try {
    if (o.approve || o.reject) {
      const relation = relationOpt(o.relation);
      if (o.reject && relation) throw new UsageError('--relation applies to --approve only');
      const input = { at: Date.now(), ...(o.note ? { note: o.note } : {}) };
      const decided = o.approve
        ? await approveReview(file, o.approve, { ...input, ...(relation ? { relation } : {}) })
        : await rejectReview(file, o.reject!, input);
      file.flush();
      if (o.json) process.stdout.write(`${JSON.stringify({ decided })}\n`);
      else
        process.stdout.write(
          `${decided.decision === 'approve' ? `approved as ${decided.relation}` : 'rejected'}: ${decided.a.venue}:${decided.a.marketId} ${decided.b.venue}:${decided.b.marketId} (in ${file.path}; the running matcher applies it within 10 s)\n`,
        );
      return;
    }
    const queue = await reviewQueue(file, { below, ...(limit ? { limit } : {}) });
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ queue })}\n`);
      return;
    }
    if (queue.length === 0) {
      process.stdout.write(`nothing waits for review in ${file.path}\n`);
      return;
    }
    process.stdout.write(
      `${queue.length} pairs wait for review in ${file.path} (undetermined, and LLM links below ${below}), most alike first\n`,
    );
    if (o.interactive || process.stdin.isTTY) {
      await interactiveReview(file, queue);
      file.flush();
      return;
    }
    for (const r of queue) process.stdout.write(`\n${formatReviewEntry(r)}\n`);
    process.stdout.write(
      '\napprove: pm-arb matches --review --approve ID [--relation identical|inverted|implies|exclusive]\nreject:  pm-arb matches --review --reject ID\n',
    );
  } catch (err) {
    if (err instanceof ReviewError) throw new UsageError(err.message);
    throw err;
  }
}

// ---------------------------------------------------------------- the command

export function registerMatchesCommand(program: Command): void {
  const cmd = program
    .command('matches')
    .description(
      'market matches: the running system’s links, an audit of a capture, the review queue, or an evaluation on labelled pairs',
    )
    .option(
      '--capture <file>',
      'raw capture (.jsonl) whose market listings to match (an audit: the live match file is not written)',
    )
    .option('--review', 'the pairs waiting for a person: undetermined, and LLM links below --below')
    .option('--eval <pairs>', 'labelled pairs (.jsonl, dev-set format) to run the matcher on and score')
    .option('--json', 'one JSON object on stdout')
    .option('--min-confidence <x>', 'LLM confidence needed to accept a link (default MATCH_MIN_CONFIDENCE)')
    .option('--approve <id>', 'with --review: approve the queued pair ID')
    .option('--reject <id>', 'with --review: reject the queued pair ID')
    .option('--relation <r>', 'with --approve: identical | inverted | implies (A implies B) | exclusive')
    .option('--note <text>', 'with --approve/--reject: why, for the record')
    .option('--below <x>', 'with --review: list LLM links below this confidence too (default 0.9)')
    .option('--limit <n>', 'with --review: list at most n pairs')
    .option(
      '--interactive',
      'with --review: ask approve/reject for each pair (default when stdin is a terminal)',
    )
    .action(
      async (
        o: ReviewOpts & { capture?: string; review?: boolean; eval?: string; minConfidence?: string },
      ) => {
        const modes = [o.capture, o.review, o.eval].filter((x) => x !== undefined && x !== false);
        if (modes.length > 1) throw new UsageError('give one of --capture, --review or --eval');
        if (!o.review && (o.approve || o.reject || o.interactive || o.below || o.limit)) {
          throw new UsageError(
            '--approve, --reject, --interactive, --below and --limit go with --review (or use: pm-arb matches approve|reject)',
          );
        }
        const config = configFromEnv();
        const minConfidence = fraction('--min-confidence', o.minConfidence, config.matchMinConfidence);
        if (o.review) return runReview(config, o);
        if (o.eval) return runEval(config, o.eval, o.json === true, minConfidence);
        if (o.capture) requireCapture(o.capture, '--capture');
        if (o.capture) return runCapture(config, o.capture, o.json === true, minConfidence);
        return listRunning(config, o.json === true);
      },
    );
  for (const decision of ['approve', 'reject'] as const) {
    cmd
      .command(`${decision} <a> [b]`)
      .description(
        `${decision} the pair a, b (venue:id each) whatever the matcher says, or the queued pair with review id a`,
      )
      .option('--relation <r>', 'approve only: identical | inverted | implies (a implies b) | exclusive')
      .option('--note <text>', 'why, for the record')
      .action(async (a: string, b: string | undefined, o: { relation?: string; note?: string }) => {
        const config = configFromEnv();
        const relation = relationOpt(o.relation);
        if (decision === 'reject' && relation) throw new UsageError('--relation applies to approve only');
        const store = liveStore(config);
        const input = { at: Date.now(), ...(o.note ? { note: o.note } : {}) };
        try {
          let done: Awaited<ReturnType<typeof approvePair>>;
          if (b === undefined) {
            if (!/^r-[0-9a-f]{8}$/.test(a))
              throw new UsageError(`give two markets as venue:id, or one review id (r-1a2b3c4d); got "${a}"`);
            done =
              decision === 'approve'
                ? await approveReview(store, a, { ...input, ...(relation ? { relation } : {}) })
                : await rejectReview(store, a, input);
          } else {
            const ra = parseRef(a);
            const rb = parseRef(b);
            done =
              decision === 'approve'
                ? await approvePair(store, ra, rb, { ...input, ...(relation ? { relation } : {}) })
                : await rejectPair(store, ra, rb, input);
          }
          store.flush();
          process.stdout.write(
            `${decision === 'approve' ? 'approved' : 'rejected'} ${done.a.venue}:${done.a.marketId} ${done.b.venue}:${done.b.marketId}${done.relation ? ` as ${done.relation}` : ''} (in ${store.path}; the matcher applies it when it next sees the pair)\n`,
          );
        } catch (err) {
          if (err instanceof ReviewError) throw new UsageError(err.message);
          throw err;
        }
      });
  }
}
