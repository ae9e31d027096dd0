/**
 * `pm-arb matches`: what the market matcher makes of a set of listings, or what the running system links.
 *
 *   pm-arb matches --capture FILE.jsonl [--json] [--min-confidence X]
 *       decodes the market listings of a raw capture with the venue decoders and runs the matcher exactly as the
 *       agent does (rules, then the LLM when ANTHROPIC_API_KEY is set, the verdict cache, manual overrides);
 *       prints every judged pair, accepted or not.
 *   pm-arb matches approve|reject <a> <b> [--relation R]   (a, b as venue:id) edits the manual override list.
 *   pm-arb matches [--json]     lists the running system's links (PostgreSQL when DATABASE_URL is set, else the
 *                               match file under DATA_DIR).
 */
import type { Command } from 'commander';
import { readCapture } from '../../capture/reader.ts';
import { type Config, loadConfig, loadDotEnv } from '../../core/config.ts';
import { createLogger } from '../../core/log.ts';
import {
  type Market,
  type MarketLink,
  type MarketRef,
  type MatchRelation,
  MatchRelationSchema,
  type OracleLink,
  VenueSchema,
} from '../../core/messages.ts';
import { createAnthropicJudge } from '../../matcher/llm.ts';
import { type MatchDecision, Matcher } from '../../matcher/matcher.ts';
import { createJsonMatchStore, type MatchStore, matchFilePath } from '../../matcher/store.ts';
import { createDecoders } from '../../venues/registry.ts';
import { baseSource } from '../../venues/types.ts';
import { UsageError } from '../main.ts';

/** Capture sources that carry market listings. */
export const LISTING_SOURCES = [
  'polymarket.gamma.markets',
  'polymarket.gamma.events',
  'kalshi.rest.markets',
  'kalshi.rest.events',
] as const;

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

/** Runs the matcher over markets as the agent would; `store` keeps the cache and overrides. */
export async function matchMarkets(
  markets: readonly Market[],
  config: Config,
  store: MatchStore,
  minConfidence = config.matchMinConfidence,
): Promise<CaptureMatchResult> {
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const llm = config.anthropic.apiKey
    ? createAnthropicJudge({
        apiKey: config.anthropic.apiKey,
        baseUrl: config.anthropic.baseUrl,
        model: config.anthropic.model,
        log,
      })
    : undefined;
  // links of a capture are not the running system's: keep them out of the store's link list
  const scoped: MatchStore = { ...store, putLink: async () => {}, listLinks: store.listLinks };
  const m = new Matcher({ store: scoped, llm, minConfidence, now: () => Date.now(), log });
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

function table(rows: readonly { link: JsonLink; aTitle?: string; bTitle?: string }[]): string {
  const out: string[] = [];
  const rank: Record<string, number> = { identical: 0, inverted: 1, implies: 2, exclusive: 3, different: 4 };
  const sorted = [...rows].sort((x, y) => (rank[x.link.relation] ?? 9) - (rank[y.link.relation] ?? 9));
  for (const r of sorted) {
    const l = r.link;
    out.push(
      `${l.relation.padEnd(10)} ${l.confidence.toFixed(2)}  ${l.stage.padEnd(6)}  ${l.a.venue}:${clip(l.a.id, 40)}${r.aTitle ? `  "${clip(r.aTitle, 60)}"` : ''}`,
    );
    out.push(
      `${' '.repeat(26)}${l.b.venue}:${clip(l.b.id, 40)}${r.bTitle ? `  "${clip(r.bTitle, 60)}"` : ''}`,
    );
    for (const reason of l.reasons.slice(0, 4)) out.push(`${' '.repeat(26)}- ${clip(reason, 120)}`);
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

function minConfidenceOpt(v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new UsageError(`--min-confidence must be a number from 0 to 1, got "${v}"`);
  return n;
}

async function listRunning(config: Config, json: boolean): Promise<void> {
  let links: MarketLink[] | undefined;
  let from = '';
  if (config.databaseUrl) {
    try {
      const { openDbFromConfig } = await import('../../store/db.ts');
      const db = await openDbFromConfig(config);
      try {
        const res = await db.query<Record<string, unknown>>(
          'SELECT a_venue, a_market, b_venue, b_market, relation, confidence, stage, reasons, decided_at FROM market_matches ORDER BY decided_at',
        );
        links = res.rows.map((r) => ({
          type: 'link',
          a: { venue: r.a_venue as MarketRef['venue'], marketId: String(r.a_market) },
          b: { venue: r.b_venue as MarketRef['venue'], marketId: String(r.b_market) },
          relation: r.relation as MatchRelation,
          confidence: Number(r.confidence),
          stage: r.stage as MarketLink['stage'],
          reasons: (typeof r.reasons === 'string' ? JSON.parse(r.reasons) : r.reasons) as string[],
          decidedAt: Number(r.decided_at),
        }));
        from = 'the store (market_matches)';
      } finally {
        await db.close();
      }
    } catch (err) {
      process.stderr.write(`matches: store not readable (${(err as Error).message}); using the match file\n`);
    }
  }
  const store = createJsonMatchStore(matchFilePath(config.dataDir));
  if (!links) {
    links = await store.listLinks();
    from = matchFilePath(config.dataDir);
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
}

export function registerMatchesCommand(program: Command): void {
  const cmd = program
    .command('matches')
    .description(
      'market matches: judge the listings of a capture, list the running system’s links, or approve/reject a pair',
    )
    .option('--capture <file>', 'raw capture (.jsonl) whose market listings to match')
    .option('--json', 'one JSON object {"links": [...]} on stdout')
    .option('--min-confidence <x>', 'LLM confidence needed to accept a link (default MATCH_MIN_CONFIDENCE)')
    .action(async (o: { capture?: string; json?: boolean; minConfidence?: string }) => {
      const config = configFromEnv();
      const minConfidence = minConfidenceOpt(o.minConfidence, config.matchMinConfidence);
      if (!o.capture) {
        await listRunning(config, o.json === true);
        return;
      }
      const { markets, rejected } = await marketsFromCapture(o.capture);
      const store = createJsonMatchStore(matchFilePath(config.dataDir));
      const res = await matchMarkets(markets, config, store, minConfidence);
      const rows = res.decisions.map((d) => ({
        link: toJsonLink(d),
        aTitle: d.a.question,
        bTitle: d.b.question,
      }));
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ links: rows.map((r) => r.link) })}\n`);
        return;
      }
      const accepted = rows.filter((r) => r.link.relation !== 'different').length;
      process.stdout.write(
        `${res.markets} markets, ${rows.length} candidate pairs, ${accepted} linked` +
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
            `  ${l.market.venue}:${clip(l.market.marketId, 40)}  ${l.asset} ${l.kind}${strike}${upper}  ${new Date(l.expiry).toISOString()}  ${l.symbol} (${l.settlementSource})\n`,
          );
        }
      }
    });
  for (const decision of ['approve', 'reject'] as const) {
    cmd
      .command(`${decision} <a> <b>`)
      .description(`${decision} the pair a, b (venue:id) whatever the matcher says`)
      .option('--relation <r>', 'approve only: identical | inverted | implies (a implies b) | exclusive')
      .option('--note <text>', 'why, for the record')
      .action(async (a: string, b: string, o: { relation?: string; note?: string }) => {
        const config = configFromEnv();
        const ra = parseRef(a);
        const rb = parseRef(b);
        let relation: MatchRelation | undefined;
        if (o.relation !== undefined) {
          if (decision === 'reject') throw new UsageError('--relation applies to approve only');
          const r = MatchRelationSchema.safeParse(o.relation);
          if (!r.success || r.data === 'different') {
            throw new UsageError(
              `--relation must be identical, inverted, implies or exclusive; got "${o.relation}"`,
            );
          }
          relation = r.data;
        }
        const path = matchFilePath(config.dataDir);
        await createJsonMatchStore(path).setOverride({
          a: ra,
          b: rb,
          decision,
          ...(relation ? { relation } : {}),
          ...(o.note ? { note: o.note } : {}),
          at: Date.now(),
        });
        process.stdout.write(
          `${decision === 'approve' ? 'approved' : 'rejected'} ${a} ${b}${relation ? ` as ${relation}` : ''} (in ${path}; the matcher applies it when it next sees the pair)\n`,
        );
      });
  }
}
