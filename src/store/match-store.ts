/**
 * The matcher's MatchStore (src/matcher/store.ts) backed by the database: verdicts keyed on the pair and both
 * market versions, manual overrides keyed on the pair, and the latest link per pair (the persister writes links
 * from the bus into the same table; both keep the newest by decided_at).
 */
import type { MarketLink, MarketRef, MatchRelation } from '../core/messages.ts';
import type { MatchOverride, MatchStore, StoredVerdict } from '../matcher/store.ts';
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
    decidedAt: Number(r.decided_at),
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
           confidence, stage, reasons, same_event, differences, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13::jsonb, $14::bigint)
         ON CONFLICT (key) DO UPDATE SET relation = EXCLUDED.relation, confidence = EXCLUDED.confidence,
           stage = EXCLUDED.stage, reasons = EXCLUDED.reasons, same_event = EXCLUDED.same_event,
           differences = EXCLUDED.differences, decided_at = EXCLUDED.decided_at`,
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
  };
}
