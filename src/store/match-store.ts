/**
 * The matcher's MatchStore (src/matcher/store.ts) backed by the database: verdicts keyed on the pair and both
 * market versions (with the LLM's quotes, tokens and cost), manual overrides keyed on the pair, the latest link
 * per pair (the persister writes links from the bus into the same table; both keep the newest by decided_at),
 * the review queue and the LLM spending per UTC day.
 */
import type { MarketLink, MarketRef, MatchRelation } from '../core/messages.ts';
import { parseMicro, toDecimal } from '../core/money.ts';
import type {
  LlmSpend,
  MarketBrief,
  MatchOverride,
  MatchStore,
  ReviewItem,
  StoredVerdict,
} from '../matcher/store.ts';
import type { Queryable } from './db.ts';
import { linkRow, pairKeyOf } from './rows.ts';
import { writeRows } from './writer.ts';

type R = Record<string, unknown>;
const ref = (venue: unknown, marketId: unknown): MarketRef => ({
  venue: String(venue) as MarketRef['venue'],
  marketId: String(marketId),
});
const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

function verdictFromRow(r: R): StoredVerdict {
  return {
    key: String(r.key),
    a: ref(r.a_venue, r.a_market),
    b: ref(r.b_venue, r.b_market),
    aVersion: String(r.a_version),
    bVersion: String(r.b_version),
    relation: String(r.relation) as MatchRelation,
    confidence: Number(r.confidence),
    stage: String(r.stage) as StoredVerdict['stage'],
    reasons: json<string[]>(r.reasons),
    ...(r.same_event !== null && r.same_event !== undefined ? { sameEvent: Boolean(r.same_event) } : {}),
    ...(r.differences !== null && r.differences !== undefined
      ? { differences: json<string[]>(r.differences) }
      : {}),
    ...quotesOf(r.quotes),
    ...(r.failure !== null && r.failure !== undefined ? { failure: String(r.failure) } : {}),
    ...(r.model !== null && r.model !== undefined
      ? {
          usage: {
            model: String(r.model),
            inputTokens: Number(r.input_tokens ?? 0),
            outputTokens: Number(r.output_tokens ?? 0),
            cacheReadTokens: Number(r.cache_read_tokens ?? 0),
            cacheWriteTokens: Number(r.cache_write_tokens ?? 0),
            costMicro: parseMicro(String(r.cost_usd ?? '0')),
            batchSize: Number(r.batch_size ?? 1),
          },
        }
      : {}),
    decidedAt: Number(r.decided_at),
  };
}

function quotesOf(v: unknown): { quotesA?: string[]; quotesB?: string[] } {
  if (v === null || v === undefined) return {};
  const q = json<{ a?: string[]; b?: string[] }>(v);
  return { ...(q.a ? { quotesA: q.a } : {}), ...(q.b ? { quotesB: q.b } : {}) };
}

const quotesJson = (a: readonly string[] | undefined, b: readonly string[] | undefined): string | null =>
  a === undefined && b === undefined ? null : JSON.stringify({ ...(a ? { a } : {}), ...(b ? { b } : {}) });

function reviewFromRow(r: R): ReviewItem {
  return {
    key: String(r.pair_key),
    a: json<MarketBrief>(r.a_brief),
    b: json<MarketBrief>(r.b_brief),
    relation: String(r.relation) as MatchRelation,
    confidence: Number(r.confidence),
    stage: String(r.stage) as ReviewItem['stage'],
    reasons: json<string[]>(r.reasons),
    ...quotesOf(r.quotes),
    queuedAt: Number(r.queued_at),
  };
}

function spendFromRow(r: R | undefined): LlmSpend {
  return {
    requests: Number(r?.requests ?? 0),
    inputTokens: Number(r?.input_tokens ?? 0),
    outputTokens: Number(r?.output_tokens ?? 0),
    cacheReadTokens: Number(r?.cache_read_tokens ?? 0),
    cacheWriteTokens: Number(r?.cache_write_tokens ?? 0),
    costMicro: parseMicro(String(r?.cost_usd ?? '0')),
  };
}

function overrideFromRow(r: R): MatchOverride {
  return {
    a: ref(r.a_venue, r.a_market),
    b: ref(r.b_venue, r.b_market),
    decision: String(r.decision) as MatchOverride['decision'],
    ...(r.relation !== null && r.relation !== undefined
      ? { relation: String(r.relation) as MatchRelation }
      : {}),
    at: Number(r.at),
    ...(r.note !== null && r.note !== undefined ? { note: String(r.note) } : {}),
  };
}

function linkFromRow(r: R): MarketLink {
  return {
    type: 'link',
    a: ref(r.a_venue, r.a_market),
    b: ref(r.b_venue, r.b_market),
    relation: String(r.relation) as MatchRelation,
    confidence: Number(r.confidence),
    stage: String(r.stage) as MarketLink['stage'],
    reasons: json<string[]>(r.reasons),
    decidedAt: Number(r.decided_at),
  };
}

export function createSqlMatchStore(db: Queryable): MatchStore {
  return {
    async getVerdict(key) {
      const r = await db.query<R>('SELECT * FROM match_verdicts WHERE key = $1', [key]);
      return r.rows[0] ? verdictFromRow(r.rows[0]) : undefined;
    },
    async putVerdict(v) {
      await db.query(
        `INSERT INTO match_verdicts (key, a_venue, a_market, a_version, b_venue, b_market, b_version, relation,
           confidence, stage, reasons, same_event, differences, decided_at, quotes, failure, model, input_tokens,
           output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, batch_size)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13::jsonb, $14::bigint, $15::jsonb, $16,
           $17, $18, $19, $20, $21, $22::numeric, $23)
         ON CONFLICT (key) DO UPDATE SET relation = EXCLUDED.relation, confidence = EXCLUDED.confidence,
           stage = EXCLUDED.stage, reasons = EXCLUDED.reasons, same_event = EXCLUDED.same_event,
           differences = EXCLUDED.differences, decided_at = EXCLUDED.decided_at, quotes = EXCLUDED.quotes,
           failure = EXCLUDED.failure, model = EXCLUDED.model, input_tokens = EXCLUDED.input_tokens,
           output_tokens = EXCLUDED.output_tokens, cache_read_tokens = EXCLUDED.cache_read_tokens,
           cache_write_tokens = EXCLUDED.cache_write_tokens, cost_usd = EXCLUDED.cost_usd,
           batch_size = EXCLUDED.batch_size`,
        [
          v.key,
          v.a.venue,
          v.a.marketId,
          v.aVersion,
          v.b.venue,
          v.b.marketId,
          v.bVersion,
          v.relation,
          v.confidence,
          v.stage,
          JSON.stringify(v.reasons),
          v.sameEvent ?? null,
          v.differences === undefined ? null : JSON.stringify(v.differences),
          String(v.decidedAt),
          quotesJson(v.quotesA, v.quotesB),
          v.failure ?? null,
          v.usage?.model ?? null,
          v.usage?.inputTokens ?? null,
          v.usage?.outputTokens ?? null,
          v.usage?.cacheReadTokens ?? null,
          v.usage?.cacheWriteTokens ?? null,
          v.usage ? toDecimal(v.usage.costMicro) : null,
          v.usage?.batchSize ?? null,
        ],
      );
    },
    async listVerdicts() {
      const r = await db.query<R>('SELECT * FROM match_verdicts ORDER BY decided_at, key');
      return r.rows.map(verdictFromRow);
    },
    async listOverrides() {
      const r = await db.query<R>('SELECT * FROM match_overrides ORDER BY at, pair_key');
      return r.rows.map(overrideFromRow);
    },
    async setOverride(o) {
      await db.query(
        `INSERT INTO match_overrides (pair_key, a_venue, a_market, b_venue, b_market, decision, relation, note, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::bigint)
         ON CONFLICT (pair_key) DO UPDATE SET a_venue = EXCLUDED.a_venue, a_market = EXCLUDED.a_market,
           b_venue = EXCLUDED.b_venue, b_market = EXCLUDED.b_market, decision = EXCLUDED.decision,
           relation = EXCLUDED.relation, note = EXCLUDED.note, at = EXCLUDED.at`,
        [
          pairKeyOf(o.a, o.b),
          o.a.venue,
          o.a.marketId,
          o.b.venue,
          o.b.marketId,
          o.decision,
          o.relation ?? null,
          o.note ?? null,
          String(o.at),
        ],
      );
    },
    async putLink(l) {
      await writeRows(db, 'marketMatches', [linkRow(l).row]);
    },
    async listLinks() {
      const r = await db.query<R>('SELECT * FROM market_matches ORDER BY pair_key');
      return r.rows.map(linkFromRow);
    },
    async putReview(item) {
      await db.query(
        `INSERT INTO match_review (pair_key, a_venue, a_market, b_venue, b_market, a_brief, b_brief, relation,
           confidence, stage, reasons, quotes, queued_at)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9, $10, $11::jsonb, $12::jsonb, $13::bigint)
         ON CONFLICT (pair_key) DO UPDATE SET a_venue = EXCLUDED.a_venue, a_market = EXCLUDED.a_market,
           b_venue = EXCLUDED.b_venue, b_market = EXCLUDED.b_market, a_brief = EXCLUDED.a_brief,
           b_brief = EXCLUDED.b_brief, relation = EXCLUDED.relation, confidence = EXCLUDED.confidence,
           stage = EXCLUDED.stage, reasons = EXCLUDED.reasons, quotes = EXCLUDED.quotes,
           queued_at = EXCLUDED.queued_at`,
        [
          item.key,
          item.a.venue,
          item.a.marketId,
          item.b.venue,
          item.b.marketId,
          JSON.stringify(item.a),
          JSON.stringify(item.b),
          item.relation,
          item.confidence,
          item.stage,
          JSON.stringify(item.reasons),
          quotesJson(item.quotesA, item.quotesB),
          String(item.queuedAt),
        ],
      );
    },
    async removeReview(key) {
      await db.query('DELETE FROM match_review WHERE pair_key = $1', [key]);
    },
    async forgetPairs(keys) {
      if (keys.length === 0) return;
      // market_matches stays: in the database it is the history of links (the persister writes every link message
      // there too, and reports and the dashboard join trades to it); only the review queue is live-only
      await db.query('DELETE FROM match_review WHERE pair_key = ANY($1::text[])', [keys]);
    },
    async listReview() {
      const r = await db.query<R>('SELECT * FROM match_review ORDER BY queued_at, pair_key');
      return r.rows.map(reviewFromRow);
    },
    async addLlmSpend(day, s) {
      await db.query(
        `INSERT INTO match_llm_spend (day, requests, input_tokens, output_tokens, cache_read_tokens,
           cache_write_tokens, cost_usd)
         VALUES ($1, $2, $3, $4, $5, $6, $7::numeric)
         ON CONFLICT (day) DO UPDATE SET requests = match_llm_spend.requests + EXCLUDED.requests,
           input_tokens = match_llm_spend.input_tokens + EXCLUDED.input_tokens,
           output_tokens = match_llm_spend.output_tokens + EXCLUDED.output_tokens,
           cache_read_tokens = match_llm_spend.cache_read_tokens + EXCLUDED.cache_read_tokens,
           cache_write_tokens = match_llm_spend.cache_write_tokens + EXCLUDED.cache_write_tokens,
           cost_usd = match_llm_spend.cost_usd + EXCLUDED.cost_usd`,
        [
          day,
          s.requests,
          s.inputTokens,
          s.outputTokens,
          s.cacheReadTokens,
          s.cacheWriteTokens,
          toDecimal(s.costMicro),
        ],
      );
    },
    async llmSpend(day) {
      const r = await db.query<R>('SELECT * FROM match_llm_spend WHERE day = $1', [day]);
      return spendFromRow(r.rows[0]);
    },
  };
}
