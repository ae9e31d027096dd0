/**
 * Paginated, filtered reads for people: the dashboard's read API and the CLI reports (trades, positions,
 * decisions, P&L). Large tables page on the server with a keyset cursor (newest first), so a page costs the same
 * on the first and on the ten-thousandth page; small ones (positions, links) use limit/offset.
 *
 * Units as everywhere in the store: amounts come back as integer micro-units (parseMicro of the numeric text),
 * times as epoch ms. Formatting for display is the caller's business.
 */
import { parseMicro } from '../core/money.ts';
import type { Queryable } from './db.ts';
import { pairKeyOf } from './rows.ts';

type R = Record<string, unknown>;
const str = (v: unknown): string => String(v);
const int = (v: unknown): number => Number(v);
const mic = (v: unknown): number => parseMicro(String(v));
const optStr = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

/** One page of a newest-first listing. `next` is the cursor of the following (older) page, null at the end. */
export interface Page<T> {
  readonly rows: T[];
  readonly next: string | null;
  /**
   * Rows matching the filters, counted up to `COUNT_CAP` (then `totalCapped`), on the first page only (null on
   * the pages a cursor reaches: the first page already said).
   */
  readonly total: number | null;
  readonly totalCapped: boolean;
}

/** Counting past this many matching rows costs more than it tells (the UI shows "10,000+"). */
export const COUNT_CAP = 10_000;

export class BadCursorError extends Error {
  override name = 'BadCursorError';
}

/** Cursor text: "<ts>.<key>" where key is the row's tie-breaker (an id or a sequence number). */
export function encodeCursor(ts: number, key: string): string {
  return `${ts}.${Buffer.from(key, 'utf8').toString('base64url')}`;
}

export function decodeCursor(cursor: string): { ts: number; key: string } {
  const i = cursor.indexOf('.');
  const ts = Number(cursor.slice(0, i));
  const key = Buffer.from(cursor.slice(i + 1), 'base64url').toString('utf8');
  if (i <= 0 || !Number.isSafeInteger(ts) || key === '') {
    throw new BadCursorError(`not a page cursor: ${JSON.stringify(cursor)} (use the "next" value of a page)`);
  }
  return { ts, key };
}

/** Collects WHERE clauses and their positional parameters. */
class Where {
  readonly parts: string[] = [];
  readonly params: unknown[] = [];
  p(v: unknown): string {
    this.params.push(v);
    return `$${this.params.length}`;
  }
  add(clause: string): void {
    this.parts.push(clause);
  }
  sql(): string {
    return this.parts.length > 0 ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

async function cappedCount(
  q: Queryable,
  from: string,
  w: Where,
): Promise<{ total: number; capped: boolean }> {
  const r = await q.query<{ n: string }>(
    `SELECT count(*) AS n FROM (SELECT 1 FROM ${from} ${w.sql()} LIMIT ${COUNT_CAP + 1}) t`,
    w.params,
  );
  const n = int(r.rows[0]?.n ?? 0);
  return { total: Math.min(n, COUNT_CAP), capped: n > COUNT_CAP };
}

async function keysetPage<T>(
  q: Queryable,
  o: {
    select: string;
    from: string;
    where: Where;
    tsCol: string;
    keyCol: string;
    keyType: 'text' | 'bigint';
    cursor: string | undefined;
    limit: number;
    map: (r: R) => T;
    keyOf: (r: R) => [number, string];
  },
): Promise<Page<T>> {
  const count =
    o.cursor === undefined ? await cappedCount(q, o.from, o.where) : { total: null, capped: false };
  const w = new Where();
  w.parts.push(...o.where.parts);
  w.params.push(...o.where.params);
  if (o.cursor !== undefined) {
    const c = decodeCursor(o.cursor);
    if (o.keyType === 'bigint' && !/^\d+$/.test(c.key)) throw new BadCursorError('not a page cursor');
    w.add(`(${o.tsCol}, ${o.keyCol}) < (${w.p(String(c.ts))}::bigint, ${w.p(c.key)}::${o.keyType})`);
  }
  const r = await q.query<R>(
    `SELECT ${o.select} FROM ${o.from} ${w.sql()} ORDER BY ${o.tsCol} DESC, ${o.keyCol} DESC LIMIT ${o.limit + 1}`,
    w.params,
  );
  const more = r.rows.length > o.limit;
  const rows = more ? r.rows.slice(0, o.limit) : r.rows;
  const last = rows.at(-1);
  return {
    rows: rows.map(o.map),
    next: more && last ? encodeCursor(...o.keyOf(last)) : null,
    total: count.total,
    totalCapped: count.capped,
  };
}

// ------------------------------------------------------------------ markets (names for ids)

export interface MarketName {
  readonly venue: string;
  readonly marketId: string;
  readonly question: string;
  readonly endTime: number | null;
  readonly status: string;
}

/** Question, end time and status of the markets named, keyed "venue:marketId". */
export async function marketNames(
  q: Queryable,
  refs: readonly { venue: string; marketId: string }[],
): Promise<Map<string, MarketName>> {
  const out = new Map<string, MarketName>();
  if (refs.length === 0) return out;
  const uniq = [...new Map(refs.map((r) => [`${r.venue}:${r.marketId}`, r])).values()];
  const r = await q.query<R>(
    `SELECT m.venue, m.market_id, m.question, m.end_time, m.status FROM markets m
     JOIN unnest($1::text[], $2::text[]) AS k(venue, market_id) ON m.venue = k.venue AND m.market_id = k.market_id`,
    [uniq.map((x) => x.venue), uniq.map((x) => x.marketId)],
  );
  for (const row of r.rows) {
    out.set(`${str(row.venue)}:${str(row.market_id)}`, {
      venue: str(row.venue),
      marketId: str(row.market_id),
      question: str(row.question),
      endTime: row.end_time === null ? null : int(row.end_time),
      status: str(row.status),
    });
  }
  return out;
}

/** Outcome labels and sides of the tokens named, keyed "venue:tokenId". */
export async function tokenLabels(
  q: Queryable,
  refs: readonly { venue: string; tokenId: string }[],
): Promise<Map<string, { label: string; side: string }>> {
  const out = new Map<string, { label: string; side: string }>();
  if (refs.length === 0) return out;
  const uniq = [...new Map(refs.map((r) => [`${r.venue}:${r.tokenId}`, r])).values()];
  const r = await q.query<R>(
    `SELECT t.venue, t.token_id, t.label, t.side FROM outcome_tokens t
     JOIN unnest($1::text[], $2::text[]) AS k(venue, token_id) ON t.venue = k.venue AND t.token_id = k.token_id`,
    [uniq.map((x) => x.venue), uniq.map((x) => x.tokenId)],
  );
  for (const row of r.rows) {
    out.set(`${str(row.venue)}:${str(row.token_id)}`, { label: str(row.label), side: str(row.side) });
  }
  return out;
}

export interface MarketDetail extends MarketName {
  readonly rules: string;
  readonly eventId: string | null;
  readonly outcomes: { tokenId: string; label: string; side: string }[];
}

export async function marketDetail(
  q: Queryable,
  venue: string,
  marketId: string,
): Promise<MarketDetail | null> {
  const r = await q.query<R>('SELECT * FROM markets WHERE venue = $1 AND market_id = $2', [venue, marketId]);
  const m = r.rows[0];
  if (!m) return null;
  const t = await q.query<R>(
    'SELECT token_id, label, side FROM outcome_tokens WHERE venue = $1 AND market_id = $2 ORDER BY position',
    [venue, marketId],
  );
  return {
    venue,
    marketId,
    question: str(m.question),
    rules: str(m.rules),
    eventId: optStr(m.event_id),
    endTime: m.end_time === null ? null : int(m.end_time),
    status: str(m.status),
    outcomes: t.rows.map((x) => ({ tokenId: str(x.token_id), label: str(x.label), side: str(x.side) })),
  };
}

// ------------------------------------------------------------------ fills

export interface FillRow {
  readonly id: string;
  readonly seq: number;
  readonly ts: number;
  readonly orderId: string;
  readonly requestId: string;
  readonly strategy: string;
  readonly venue: string;
  readonly marketId: string;
  readonly tokenId: string;
  readonly side: string;
  readonly price: number;
  readonly shares: number;
  readonly fee: number;
  readonly liquidity: string;
  readonly kind: string;
}

export interface FillFilter {
  readonly strategy?: string;
  readonly venue?: string;
  readonly kind?: string;
  readonly marketId?: string;
  /** Fills at or after this time (epoch ms). */
  readonly since?: number;
  readonly cursor?: string;
  readonly limit?: number;
}

export function fillsPage(q: Queryable, f: FillFilter = {}): Promise<Page<FillRow>> {
  const w = new Where();
  if (f.strategy) w.add(`strategy = ${w.p(f.strategy)}`);
  if (f.venue) w.add(`venue = ${w.p(f.venue)}`);
  if (f.kind) w.add(`kind = ${w.p(f.kind)}`);
  if (f.marketId) w.add(`market_id = ${w.p(f.marketId)}`);
  if (f.since !== undefined) w.add(`ts >= ${w.p(String(f.since))}::bigint`);
  return keysetPage(q, {
    select: '*',
    from: 'fills',
    where: w,
    tsCol: 'ts',
    keyCol: 'seq',
    keyType: 'bigint',
    cursor: f.cursor,
    limit: f.limit ?? 50,
    keyOf: (r) => [int(r.ts), str(r.seq)],
    map: (r) => ({
      id: str(r.id),
      seq: int(r.seq),
      ts: int(r.ts),
      orderId: str(r.order_id),
      requestId: str(r.request_id),
      strategy: str(r.strategy),
      venue: str(r.venue),
      marketId: str(r.market_id),
      tokenId: str(r.token_id),
      side: str(r.side),
      price: mic(r.price),
      shares: mic(r.shares),
      fee: mic(r.fee),
      liquidity: str(r.liquidity),
      kind: str(r.kind),
    }),
  });
}

// ------------------------------------------------------------------ risk decisions

export interface DecisionRow {
  readonly id: string;
  readonly requestId: string;
  readonly strategy: string;
  readonly verdict: string;
  readonly rule: string;
  readonly reason: string;
  readonly legs: {
    venue: string;
    marketId: string;
    tokenId: string;
    side: string;
    limitPrice: number;
    shares: number;
  }[];
  readonly decidedAt: number;
}

export interface DecisionFilter {
  readonly rule?: string;
  readonly verdict?: string;
  readonly strategy?: string;
  readonly since?: number;
  readonly cursor?: string;
  readonly limit?: number;
}

export function decisionsPage(q: Queryable, f: DecisionFilter = {}): Promise<Page<DecisionRow>> {
  const w = new Where();
  if (f.rule) w.add(`rule = ${w.p(f.rule)}`);
  if (f.verdict) w.add(`verdict = ${w.p(f.verdict)}`);
  if (f.strategy) w.add(`strategy = ${w.p(f.strategy)}`);
  if (f.since !== undefined) w.add(`decided_at >= ${w.p(String(f.since))}::bigint`);
  return keysetPage(q, {
    select: '*',
    from: 'risk_decisions',
    where: w,
    tsCol: 'decided_at',
    keyCol: 'id',
    keyType: 'text',
    cursor: f.cursor,
    limit: f.limit ?? 50,
    keyOf: (r) => [int(r.decided_at), str(r.id)],
    map: (r) => ({
      id: str(r.id),
      requestId: str(r.request_id),
      strategy: str(r.strategy),
      verdict: str(r.verdict),
      rule: str(r.rule),
      reason: str(r.reason),
      legs: json<DecisionRow['legs']>(r.legs),
      decidedAt: int(r.decided_at),
    }),
  });
}

/** Time of the first stored decision, or null. */
export async function firstDecisionAt(q: Queryable): Promise<number | null> {
  const r = await q.query<R>('SELECT min(decided_at) AS t FROM risk_decisions');
  const t = r.rows[0]?.t;
  return t === null || t === undefined ? null : int(t);
}

/** Decisions per time bucket, rule and verdict since `since` (for "decisions by rule over time"). */
export async function decisionTimeline(
  q: Queryable,
  since: number,
  until: number,
  buckets: number,
): Promise<{ bucketMs: number; rows: { bucket: number; rule: string; verdict: string; count: number }[] }> {
  const bucketMs = Math.max(1_000, Math.ceil((until - since) / Math.max(1, buckets)));
  const r = await q.query<R>(
    `SELECT floor((decided_at - $1::bigint) / $2::bigint) AS b, rule, verdict, count(*) AS n
     FROM risk_decisions WHERE decided_at >= $1::bigint AND decided_at <= $3::bigint
     GROUP BY b, rule, verdict ORDER BY b, rule, verdict`,
    [String(since), String(bucketMs), String(until)],
  );
  return {
    bucketMs,
    rows: r.rows.map((x) => ({
      bucket: since + int(x.b) * bucketMs,
      rule: str(x.rule),
      verdict: str(x.verdict),
      count: int(x.n),
    })),
  };
}

// ------------------------------------------------------------------ opportunities and what became of them

export type OpportunityOutcome =
  | {
      readonly status: 'traded';
      readonly strategy: string;
      readonly execution: string;
      readonly fills: number;
    }
  | { readonly status: 'rejected'; readonly strategy: string; readonly rule: string; readonly reason: string }
  | {
      readonly status: 'failed';
      readonly strategy: string;
      readonly execution: string;
      readonly reason: string;
    }
  | { readonly status: 'approved' | 'requested'; readonly strategy: string }
  | { readonly status: 'expired' | 'open' };

export interface OpportunityRow {
  readonly id: string;
  readonly kind: string;
  readonly legs: DecisionRow['legs'];
  readonly edge: number;
  readonly edgeBps: number;
  readonly cost: number;
  readonly fees: number;
  readonly shares: number;
  readonly signal: number;
  readonly detectedAt: number;
  readonly expiresAt: number;
  readonly note: string | null;
  /** One per trade request made from it (several strategies may act on one opportunity). */
  readonly outcomes: OpportunityOutcome[];
}

export const OPPORTUNITY_OUTCOMES = ['traded', 'rejected', 'expired'] as const;

export interface OpportunityFilter {
  readonly kind?: string;
  readonly venue?: string;
  /** Opportunities a strategy made a request from. */
  readonly strategy?: string;
  readonly outcome?: (typeof OPPORTUNITY_OUTCOMES)[number];
  /** Detected at or after this time (epoch ms). */
  readonly since?: number;
  /** For `expired`: the time that counts as now. */
  readonly now: number;
  readonly cursor?: string;
  readonly limit?: number;
}

const TRADED = "('filled', 'partial', 'unwound')";

export async function opportunitiesPage(q: Queryable, f: OpportunityFilter): Promise<Page<OpportunityRow>> {
  const w = new Where();
  if (f.kind) w.add(`o.kind = ${w.p(f.kind)}`);
  if (f.since !== undefined) w.add(`o.detected_at >= ${w.p(String(f.since))}::bigint`);
  if (f.venue) w.add(`o.legs @> ${w.p(JSON.stringify([{ venue: f.venue }]))}::jsonb`);
  if (f.strategy) {
    w.add(
      `EXISTS (SELECT 1 FROM trade_requests r WHERE r.opportunity_id = o.id AND r.strategy = ${w.p(f.strategy)})`,
    );
  }
  if (f.outcome === 'traded') {
    w.add(`EXISTS (SELECT 1 FROM trade_requests r JOIN execution_reports e ON e.request_id = r.id
             WHERE r.opportunity_id = o.id AND e.status IN ${TRADED})`);
  } else if (f.outcome === 'rejected') {
    w.add(`EXISTS (SELECT 1 FROM trade_requests r JOIN risk_decisions d ON d.request_id = r.id
             WHERE r.opportunity_id = o.id AND d.verdict = 'reject')`);
  } else if (f.outcome === 'expired') {
    w.add(`NOT EXISTS (SELECT 1 FROM trade_requests r WHERE r.opportunity_id = o.id)`);
    w.add(`o.expires_at < ${w.p(String(f.now))}::bigint`);
  }
  const page = await keysetPage(q, {
    select: 'o.*',
    from: 'opportunities o',
    where: w,
    tsCol: 'o.detected_at',
    keyCol: 'o.id',
    keyType: 'text',
    cursor: f.cursor,
    limit: f.limit ?? 50,
    keyOf: (r) => [int(r.detected_at), str(r.id)],
    map: (r) => ({
      id: str(r.id),
      kind: str(r.kind),
      legs: json<DecisionRow['legs']>(r.legs),
      edge: mic(r.edge),
      edgeBps: int(r.edge_bps),
      cost: mic(r.cost),
      fees: mic(r.fees),
      shares: mic(r.shares),
      signal: Number(r.signal),
      detectedAt: int(r.detected_at),
      expiresAt: int(r.expires_at),
      note: optStr(r.note),
      outcomes: [] as OpportunityOutcome[],
    }),
  });
  const ids = page.rows.map((r) => r.id);
  if (ids.length === 0) return page;
  const o = await q.query<R>(
    `SELECT r.id AS request_id, r.opportunity_id, r.strategy,
       d.verdict, d.rule, d.reason, e.status AS exec_status, e.fills AS exec_fills, e.reason AS exec_reason
     FROM trade_requests r
     LEFT JOIN LATERAL (SELECT verdict, rule, reason FROM risk_decisions WHERE request_id = r.id
                        ORDER BY decided_at DESC, id DESC LIMIT 1) d ON true
     LEFT JOIN LATERAL (SELECT status, fills, reason FROM execution_reports WHERE request_id = r.id
                        ORDER BY ts DESC, id DESC LIMIT 1) e ON true
     WHERE r.opportunity_id = ANY($1::text[]) ORDER BY r.created_at, r.id`,
    [ids],
  );
  const by = new Map<string, OpportunityOutcome[]>();
  for (const x of o.rows) {
    const list = by.get(str(x.opportunity_id)) ?? [];
    list.push(outcomeOf(x));
    by.set(str(x.opportunity_id), list);
  }
  return {
    ...page,
    rows: page.rows.map((r) => {
      const outcomes = by.get(r.id);
      return {
        ...r,
        outcomes: outcomes ?? [{ status: r.expiresAt < f.now ? 'expired' : 'open' }],
      };
    }),
  };
}

function outcomeOf(x: R): OpportunityOutcome {
  const strategy = str(x.strategy);
  const exec = optStr(x.exec_status);
  if (exec !== null) {
    if (['filled', 'partial', 'unwound'].includes(exec)) {
      return { status: 'traded', strategy, execution: exec, fills: int(x.exec_fills) };
    }
    return { status: 'failed', strategy, execution: exec, reason: optStr(x.exec_reason) ?? '' };
  }
  const verdict = optStr(x.verdict);
  if (verdict === 'reject') {
    return { status: 'rejected', strategy, rule: str(x.rule), reason: str(x.reason) };
  }
  if (verdict !== null) return { status: 'approved', strategy };
  return { status: 'requested', strategy };
}

// ------------------------------------------------------------------ positions

export interface PositionRow {
  readonly venue: string;
  readonly marketId: string;
  readonly tokenId: string;
  readonly strategy: string;
  readonly shares: number;
  readonly costBasis: number;
  readonly realizedPnl: number;
  readonly mark: number;
  readonly unrealizedPnl: number;
  readonly ts: number;
}

export interface PositionFilter {
  readonly status?: 'open' | 'closed';
  readonly strategy?: string;
  readonly venue?: string;
  readonly limit?: number;
  readonly offset?: number;
}

export async function positionsPage(
  q: Queryable,
  f: PositionFilter = {},
): Promise<{ rows: PositionRow[]; total: number }> {
  const w = new Where();
  w.add(f.status === 'closed' ? 'shares = 0' : 'shares <> 0');
  if (f.strategy) w.add(`strategy = ${w.p(f.strategy)}`);
  if (f.venue) w.add(`venue = ${w.p(f.venue)}`);
  const n = await q.query<{ n: string }>(`SELECT count(*) AS n FROM positions ${w.sql()}`, w.params);
  const r = await q.query<R>(
    `SELECT * FROM positions ${w.sql()} ORDER BY ts DESC, venue, market_id, token_id, strategy
     LIMIT ${f.limit ?? 100} OFFSET ${f.offset ?? 0}`,
    w.params,
  );
  return {
    total: int(n.rows[0]?.n ?? 0),
    rows: r.rows.map((x) => ({
      venue: str(x.venue),
      marketId: str(x.market_id),
      tokenId: str(x.token_id),
      strategy: str(x.strategy),
      shares: mic(x.shares),
      costBasis: mic(x.cost_basis),
      realizedPnl: mic(x.realized_pnl),
      mark: mic(x.mark),
      unrealizedPnl: mic(x.unrealized_pnl),
      ts: int(x.ts),
    })),
  };
}

/** Open exposure (cost basis, value at mark, unrealized P&L, count) per venue and per market. */
export async function exposure(q: Queryable): Promise<{
  venues: { venue: string; cost: number; value: number; unrealized: number; positions: number }[];
  markets: { venue: string; marketId: string; cost: number }[];
}> {
  const r = await q.query<R>(
    `SELECT venue, market_id, sum(cost_basis) AS cost, sum(cost_basis + unrealized_pnl) AS value,
       sum(unrealized_pnl) AS unrealized, count(*) AS n
     FROM positions WHERE shares <> 0 GROUP BY venue, market_id ORDER BY venue, market_id`,
  );
  const venues = new Map<
    string,
    { venue: string; cost: number; value: number; unrealized: number; positions: number }
  >();
  const markets: { venue: string; marketId: string; cost: number }[] = [];
  for (const x of r.rows) {
    const venue = str(x.venue);
    const v = venues.get(venue) ?? { venue, cost: 0, value: 0, unrealized: 0, positions: 0 };
    v.cost += mic(x.cost);
    v.value += mic(x.value);
    v.unrealized += mic(x.unrealized);
    v.positions += int(x.n);
    venues.set(venue, v);
    markets.push({ venue, marketId: str(x.market_id), cost: mic(x.cost) });
  }
  return { venues: [...venues.values()], markets };
}

// ------------------------------------------------------------------ equity, days, allocations

export interface EquityPoint {
  readonly ts: number;
  readonly equity: number;
  readonly cash: number;
  readonly highWaterMark: number;
}

/**
 * The equity curve between `since` and `until`, at most `points` points: the last snapshot of each of `points`
 * equal time buckets (the curve a person sees; the full history stays in the table).
 */
export async function equitySeries(
  q: Queryable,
  since: number,
  until: number,
  points: number,
): Promise<EquityPoint[]> {
  const width = Math.max(1, Math.ceil((until - since + 1) / Math.max(1, points)));
  const r = await q.query<R>(
    `SELECT DISTINCT ON (b) floor((ts - $1::bigint) / $2::bigint) AS b, ts, equity, cash, high_water_mark
     FROM equity_snapshots WHERE ts >= $1::bigint AND ts <= $3::bigint ORDER BY b, ts DESC, id DESC`,
    [String(since), String(width), String(until)],
  );
  return r.rows.map((x) => ({
    ts: int(x.ts),
    equity: mic(x.equity),
    cash: mic(x.cash),
    highWaterMark: mic(x.high_water_mark),
  }));
}

/** First and last equity snapshot times, or null when there is none. */
export async function equitySpan(q: Queryable): Promise<{ first: number; last: number } | null> {
  const r = await q.query<R>('SELECT min(ts) AS a, max(ts) AS b FROM equity_snapshots');
  const x = r.rows[0];
  if (!x || x.a === null || x.a === undefined) return null;
  return { first: int(x.a), last: int(x.b) };
}

export interface DayFigures {
  /** Start of the day window (epoch ms; days start at `resetHourUtc`:00 UTC). */
  readonly day: number;
  readonly endEquity: number;
  readonly fills: number;
  readonly fees: number;
}

/** Per-day equity at the close, fill count and fees, newest first, at most `days` days. */
export async function dailyFigures(q: Queryable, resetHourUtc: number, days: number): Promise<DayFigures[]> {
  const off = String(resetHourUtc * 3_600_000);
  const e = await q.query<R>(
    `SELECT DISTINCT ON (d) floor((ts - $1::bigint) / 86400000) AS d, equity
     FROM equity_snapshots ORDER BY d DESC, ts DESC, id DESC LIMIT $2`,
    [off, days],
  );
  const f = await q.query<R>(
    `SELECT floor((ts - $1::bigint) / 86400000) AS d, count(*) AS n, sum(fee) AS fees
     FROM fills GROUP BY d ORDER BY d DESC LIMIT $2`,
    [off, days],
  );
  const fills = new Map(f.rows.map((x) => [int(x.d), { n: int(x.n), fees: mic(x.fees) }]));
  return e.rows.map((x) => {
    const d = int(x.d);
    return {
      day: d * 86_400_000 + resetHourUtc * 3_600_000,
      endEquity: mic(x.equity),
      fills: fills.get(d)?.n ?? 0,
      fees: fills.get(d)?.fees ?? 0,
    };
  });
}

/** Allocation per strategy over time: the last allocation of each of `points` time buckets, oldest first. */
export async function allocationSeries(
  q: Queryable,
  since: number,
  until: number,
  points: number,
): Promise<{ ts: number; allocations: Record<string, number> }[]> {
  const width = Math.max(1, Math.ceil((until - since + 1) / Math.max(1, points)));
  const r = await q.query<R>(
    `WITH picks AS (
       SELECT DISTINCT ON (b) floor((ts - $1::bigint) / $2::bigint) AS b, id, ts
       FROM allocations WHERE ts >= $1::bigint AND ts <= $3::bigint ORDER BY b, ts DESC, id DESC)
     SELECT p.ts, a.id, a.strategy, a.capital FROM picks p JOIN allocations a ON a.id = p.id
     ORDER BY p.ts, a.id, a.strategy`,
    [String(since), String(width), String(until)],
  );
  const out: { ts: number; allocations: Record<string, number> }[] = [];
  let last: string | undefined;
  for (const x of r.rows) {
    if (str(x.id) !== last) {
      out.push({ ts: int(x.ts), allocations: {} });
      last = str(x.id);
    }
    out.at(-1)!.allocations[str(x.strategy)] = mic(x.capital);
  }
  return out;
}

/** First and last allocation times, or null when there is none. */
export async function allocationSpan(q: Queryable): Promise<{ first: number; last: number } | null> {
  const r = await q.query<R>('SELECT min(ts) AS a, max(ts) AS b FROM allocations');
  const x = r.rows[0];
  if (!x || x.a === null || x.a === undefined) return null;
  return { first: int(x.a), last: int(x.b) };
}

/** Orders not yet finished. */
export async function openOrderCount(q: Queryable): Promise<number> {
  const r = await q.query<{ n: string }>(
    "SELECT count(*) AS n FROM orders WHERE status IN ('new', 'acknowledged', 'partially_filled')",
  );
  return int(r.rows[0]?.n ?? 0);
}

// ------------------------------------------------------------------ agents and feeds

export interface AgentRow {
  readonly agent: string;
  readonly instance: string;
  readonly state: string;
  readonly pid: number;
  readonly host: string;
  readonly ts: number;
  readonly details: Record<string, number | string | boolean | null>;
  /** The heartbeat before the latest one, for rates (null when there is none recent). */
  readonly previous: { ts: number; details: Record<string, number | string | boolean | null> } | null;
}

/**
 * The most recent heartbeat of any instance of `agent` (state, time, details), or null when it never sent one. An
 * instance standing by for a lease (`details.active` false: a second guardian or executor) is passed over: its
 * view of the account is not the one in force.
 */
export async function latestHeartbeatOf(
  q: Queryable,
  agent: string,
): Promise<Pick<AgentRow, 'instance' | 'state' | 'ts' | 'details'> | null> {
  const r = await q.query<R>(
    `SELECT instance, state, ts, details FROM agent_status
     WHERE agent = $1 AND COALESCE(details->>'active', 'true') <> 'false'
     ORDER BY ts DESC, instance LIMIT 1`,
    [agent],
  );
  const x = r.rows[0];
  if (!x) return null;
  return {
    instance: str(x.instance),
    state: str(x.state),
    ts: int(x.ts),
    details: json<AgentRow['details']>(x.details),
  };
}

/** The latest heartbeat of every agent instance, with the one before it when it is recent (for rates). */
export async function agentRows(q: Queryable, now: number, recentMs = 120_000): Promise<AgentRow[]> {
  const latest = await q.query<R>('SELECT * FROM agent_status ORDER BY agent, instance');
  const prev = await q.query<R>(
    `SELECT agent, instance, ts, details FROM (
       SELECT agent, instance, ts, details,
         row_number() OVER (PARTITION BY agent, instance ORDER BY ts DESC, id DESC) AS rn
       FROM agent_heartbeats WHERE ts >= $1::bigint) t
     WHERE rn = 2`,
    [String(now - recentMs)],
  );
  const before = new Map(prev.rows.map((x) => [`${str(x.agent)}\u0000${str(x.instance)}`, x]));
  return latest.rows.map((x) => {
    const p = before.get(`${str(x.agent)}\u0000${str(x.instance)}`);
    return {
      agent: str(x.agent),
      instance: str(x.instance),
      state: str(x.state),
      pid: int(x.pid),
      host: str(x.host),
      ts: int(x.ts),
      details: json<AgentRow['details']>(x.details),
      previous: p ? { ts: int(p.ts), details: json<AgentRow['details']>(p.details) } : null,
    };
  });
}

// ------------------------------------------------------------------ market links

export interface LinkRow {
  readonly a: { venue: string; marketId: string; question: string | null };
  readonly b: { venue: string; marketId: string; question: string | null };
  readonly relation: string;
  readonly confidence: number;
  readonly stage: string;
  readonly reasons: string[];
  readonly decidedAt: number;
}

export interface LinkFilter {
  readonly relation?: string;
  readonly stage?: string;
  /** Text searched in both questions and ids (case-insensitive). */
  readonly search?: string;
  readonly limit?: number;
  readonly offset?: number;
}

export async function linksPage(
  q: Queryable,
  f: LinkFilter = {},
): Promise<{ rows: LinkRow[]; total: number }> {
  const w = new Where();
  if (f.relation) w.add(`l.relation = ${w.p(f.relation)}`);
  if (f.stage) w.add(`l.stage = ${w.p(f.stage)}`);
  if (f.search) {
    const p = w.p(`%${f.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    w.add(
      `(ma.question ILIKE ${p} OR mb.question ILIKE ${p} OR l.a_market ILIKE ${p} OR l.b_market ILIKE ${p})`,
    );
  }
  const n = await q.query<{ n: string }>(`SELECT count(*) AS n FROM ${LINKS_FROM} ${w.sql()}`, w.params);
  const r = await q.query<R>(
    `SELECT l.*, ma.question AS a_question, mb.question AS b_question FROM ${LINKS_FROM} ${w.sql()}
     ORDER BY l.decided_at DESC, l.pair_key LIMIT ${f.limit ?? 50} OFFSET ${f.offset ?? 0}`,
    w.params,
  );
  return { total: int(n.rows[0]?.n ?? 0), rows: r.rows.map(linkFromRow) };
}

const LINKS_FROM = `market_matches l
    LEFT JOIN markets ma ON ma.venue = l.a_venue AND ma.market_id = l.a_market
    LEFT JOIN markets mb ON mb.venue = l.b_venue AND mb.market_id = l.b_market`;

function linkFromRow(x: R): LinkRow {
  return {
    a: { venue: str(x.a_venue), marketId: str(x.a_market), question: optStr(x.a_question) },
    b: { venue: str(x.b_venue), marketId: str(x.b_market), question: optStr(x.b_question) },
    relation: str(x.relation),
    confidence: Number(x.confidence),
    stage: str(x.stage),
    reasons: json<string[]>(x.reasons),
    decidedAt: int(x.decided_at),
  };
}

/** The stored link of a pair (either order), or null. */
export async function linkByPair(
  q: Queryable,
  a: { venue: string; marketId: string },
  b: { venue: string; marketId: string },
): Promise<LinkRow | null> {
  const r = await q.query<R>(
    `SELECT l.*, ma.question AS a_question, mb.question AS b_question FROM ${LINKS_FROM} WHERE l.pair_key = $1`,
    [pairKeyOf(a, b)],
  );
  return r.rows[0] ? linkFromRow(r.rows[0]) : null;
}

// ------------------------------------------------------------------ control actions (audit)

export interface ControlAction {
  readonly id: string;
  readonly action: string;
  readonly target: string | null;
  readonly params: Record<string, unknown>;
  readonly reason: string;
  readonly actor: string;
  /** 'dashboard' (the web UI), 'api' (a token holder's script or the CLI) */
  readonly source: string;
  readonly remote: string | null;
  readonly outcome: 'ok' | 'failed';
  readonly detail: string | null;
  readonly at: number;
}

export async function recordControlAction(q: Queryable, a: ControlAction): Promise<void> {
  await q.query(
    `INSERT INTO control_actions (id, action, target, params, reason, actor, source, remote, outcome, detail, at)
     VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11::bigint) ON CONFLICT (id) DO NOTHING`,
    [
      a.id,
      a.action,
      a.target,
      JSON.stringify(a.params),
      a.reason,
      a.actor,
      a.source,
      a.remote,
      a.outcome,
      a.detail,
      String(a.at),
    ],
  );
}

export function controlActionsPage(
  q: Queryable,
  f: { action?: string; cursor?: string; limit?: number } = {},
): Promise<Page<ControlAction>> {
  const w = new Where();
  if (f.action) w.add(`action = ${w.p(f.action)}`);
  return keysetPage(q, {
    select: '*',
    from: 'control_actions',
    where: w,
    tsCol: 'at',
    keyCol: 'id',
    keyType: 'text',
    cursor: f.cursor,
    limit: f.limit ?? 50,
    keyOf: (r) => [int(r.at), str(r.id)],
    map: (r) => ({
      id: str(r.id),
      action: str(r.action),
      target: optStr(r.target),
      params: json<Record<string, unknown>>(r.params),
      reason: str(r.reason),
      actor: str(r.actor),
      source: str(r.source),
      remote: optStr(r.remote),
      outcome: str(r.outcome) as ControlAction['outcome'],
      detail: optStr(r.detail),
      at: int(r.at),
    }),
  });
}

// ------------------------------------------------------------------ alerts

export function alertLogPage(
  q: Queryable,
  f: { level?: string; cursor?: string; limit?: number } = {},
): Promise<Page<{ id: string; level: string; title: string; body: string; ts: number }>> {
  const w = new Where();
  if (f.level) w.add(`level = ${w.p(f.level)}`);
  return keysetPage(q, {
    select: '*',
    from: 'alert_log',
    where: w,
    tsCol: 'ts',
    keyCol: 'id',
    keyType: 'text',
    cursor: f.cursor,
    limit: f.limit ?? 50,
    keyOf: (r) => [int(r.ts), str(r.id)],
    map: (r) => ({
      id: str(r.id),
      level: str(r.level),
      title: str(r.title),
      body: str(r.body),
      ts: int(r.ts),
    }),
  });
}

/** Alert settings with their update time, by key. */
export async function alertSettingRows(
  q: Queryable,
): Promise<{ key: string; value: unknown; updatedAt: number }[]> {
  const r = await q.query<R>('SELECT key, value, updated_at FROM alert_settings ORDER BY key');
  return r.rows.map((x) => ({
    key: str(x.key),
    value: json<unknown>(x.value),
    updatedAt: int(x.updated_at),
  }));
}
