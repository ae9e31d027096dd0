/**
 * Reads: what restart recovery and the dashboard ask of the store. Every amount comes back through parseMicro
 * (numeric → exact decimal string → integer micro-units).
 */
import type {
  AllocationExplanation,
  EquitySnapshot,
  Fill,
  Order,
  Position,
  Resolution,
  RiskDecision,
  StrategyPerformance,
} from '../core/messages.ts';
import { parseMicro } from '../core/money.ts';
import type { Queryable } from './db.ts';
import { fillFromRow, type LedgerBase, loadFillHistory } from './snapshots.ts';
import { readSystemState, type SystemState } from './system-state.ts';

export { fillFromRow };

type R = Record<string, unknown>;
const str = (v: unknown): string => String(v);
const int = (v: unknown): number => Number(v);
const mic = (v: unknown): number => parseMicro(String(v));
const optStr = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));

export function orderFromRow(r: R): Order {
  const reason = optStr(r.reason);
  return {
    type: 'order',
    id: str(r.id),
    requestId: str(r.request_id),
    strategy: str(r.strategy),
    legIndex: int(r.leg_index),
    venue: str(r.venue) as Order['venue'],
    marketId: str(r.market_id),
    tokenId: str(r.token_id),
    side: str(r.side) as Order['side'],
    limitPrice: mic(r.limit_price),
    shares: mic(r.shares),
    filledShares: mic(r.filled_shares),
    tif: str(r.tif) as Order['tif'],
    status: str(r.status) as Order['status'],
    ...(reason !== undefined ? { reason } : {}),
    createdAt: int(r.created_at),
    updatedAt: int(r.updated_at),
  };
}

export function positionFromRow(r: R): Position {
  const strategy = str(r.strategy);
  return {
    type: 'position',
    venue: str(r.venue) as Position['venue'],
    marketId: str(r.market_id),
    tokenId: str(r.token_id),
    ...(strategy !== '' ? { strategy } : {}),
    shares: mic(r.shares),
    costBasis: mic(r.cost_basis),
    realizedPnl: mic(r.realized_pnl),
    mark: mic(r.mark),
    unrealizedPnl: mic(r.unrealized_pnl),
    ts: int(r.ts),
    ...(Array.isArray(r.bundle_ids) ? { bundleIds: (r.bundle_ids as unknown[]).map(String) } : {}),
  };
}

export function equityFromRow(r: R): EquitySnapshot {
  return {
    type: 'equity',
    cash: mic(r.cash),
    positionsValue: mic(r.positions_value),
    equity: mic(r.equity),
    realizedPnl: mic(r.realized_pnl),
    unrealizedPnl: mic(r.unrealized_pnl),
    highWaterMark: mic(r.high_water_mark),
    ts: int(r.ts),
  };
}

/** Every fill in the order it happened (time, then arrival). */
export async function loadFills(q: Queryable, opts: { strategy?: string } = {}): Promise<Fill[]> {
  const r = opts.strategy
    ? await q.query<R>('SELECT * FROM fills WHERE strategy = $1 ORDER BY ts, seq', [opts.strategy])
    : await q.query<R>('SELECT * FROM fills ORDER BY ts, seq');
  return r.rows.map(fillFromRow);
}

export async function openOrders(q: Queryable): Promise<Order[]> {
  const r = await q.query<R>(
    "SELECT * FROM orders WHERE status IN ('new', 'acknowledged', 'partially_filled') ORDER BY created_at, id",
  );
  return r.rows.map(orderFromRow);
}

export interface LatestAllocation {
  readonly id: string;
  readonly ts: number;
  /** strategy → micro-dollars */
  readonly allocations: Record<string, number>;
  readonly scores: Record<string, number>;
  /** strategy → the round's inputs, weight and reason (rounds written before migration 6 have none). */
  readonly explanations: Record<string, AllocationExplanation>;
}

export async function latestAllocation(q: Queryable): Promise<LatestAllocation | null> {
  const r = await q.query<R>(
    `SELECT id, strategy, capital, score, ts, explanation FROM allocations
     WHERE id = (SELECT id FROM allocations ORDER BY ts DESC, id DESC LIMIT 1) ORDER BY strategy`,
  );
  const first = r.rows[0];
  if (!first) return null;
  const allocations: Record<string, number> = {};
  const scores: Record<string, number> = {};
  const explanations: Record<string, AllocationExplanation> = {};
  for (const row of r.rows) {
    allocations[str(row.strategy)] = mic(row.capital);
    if (row.score !== null && row.score !== undefined) scores[str(row.strategy)] = Number(row.score);
    if (row.explanation !== null && typeof row.explanation === 'object')
      explanations[str(row.strategy)] = row.explanation as AllocationExplanation;
  }
  return { id: str(first.id), ts: int(first.ts), allocations, scores, explanations };
}

export async function latestEquity(q: Queryable): Promise<EquitySnapshot | null> {
  const r = await q.query<R>('SELECT * FROM equity_snapshots ORDER BY ts DESC, id DESC LIMIT 1');
  return r.rows[0] ? equityFromRow(r.rows[0]) : null;
}

/** Open positions, latest state. */
export async function latestPositions(
  q: Queryable,
  opts: { includeClosed?: boolean } = {},
): Promise<Position[]> {
  const r = await q.query<R>(
    `SELECT * FROM positions ${opts.includeClosed ? '' : 'WHERE shares <> 0'} ORDER BY venue, market_id, token_id, strategy`,
  );
  return r.rows.map(positionFromRow);
}

/** Equity curve from `since` (epoch ms), oldest first, at most `limit` points. */
export async function equityCurve(q: Queryable, since = 0, limit = 10_000): Promise<EquitySnapshot[]> {
  const r = await q.query<R>('SELECT * FROM equity_snapshots WHERE ts >= $1 ORDER BY ts, id LIMIT $2', [
    String(since),
    limit,
  ]);
  return r.rows.map(equityFromRow);
}

/** Decision counts per rule and verdict since `since`. */
export async function decisionsByRule(
  q: Queryable,
  since = 0,
): Promise<{ rule: string; verdict: RiskDecision['verdict']; count: number }[]> {
  const r = await q.query<R>(
    `SELECT rule, verdict, count(*) AS n FROM risk_decisions WHERE decided_at >= $1
     GROUP BY rule, verdict ORDER BY count(*) DESC, rule, verdict`,
    [String(since)],
  );
  return r.rows.map((x) => ({
    rule: str(x.rule),
    verdict: str(x.verdict) as RiskDecision['verdict'],
    count: int(x.n),
  }));
}

/** Latest performance per strategy, best P&L first. */
export async function leaderboard(q: Queryable): Promise<StrategyPerformance[]> {
  const r = await q.query<R>(
    `SELECT * FROM (SELECT DISTINCT ON (strategy) * FROM strategy_performance ORDER BY strategy, ts DESC, id DESC) t
     ORDER BY pnl DESC, strategy`,
  );
  return r.rows.map((x) => ({
    type: 'strategy_performance',
    strategy: str(x.strategy),
    trades: int(x.trades),
    wins: int(x.wins),
    losses: int(x.losses),
    pnl: mic(x.pnl),
    sharpe: Number(x.sharpe),
    maxDrawdown: mic(x.max_drawdown),
    allocation: mic(x.allocation),
    ts: int(x.ts),
  }));
}

/**
 * Restart reads at most this many of the newest requests executed and decisions made: what the executor
 * (SEEN_REQUESTS) and the risk guardian remember against a redelivered request, so restart cost does not grow
 * with history past it.
 */
export const RESTORE_WINDOW = 100_000;

export interface RecoveryState {
  /**
   * The newest ledger snapshot (src/store/snapshots.ts), or null: replay `fills` from an empty ledger. Restore =
   * `base` + `fills`, exactly what replaying every stored fill gives.
   */
  readonly base: LedgerBase | null;
  /** The fills after `base`, in the order they happened (every fill when there is no base). */
  readonly fills: Fill[];
  /** Ids of the newest fills in `base` (at most FILL_ID_WINDOW), remembered against a redelivered fill. */
  readonly baseFillIds: string[];
  /** Fills in the store (base + tail). */
  readonly fillCount: number;
  /** Why the newest snapshot was not used (a fill stored after it sorts before it), when it was not. */
  readonly snapshotFallback?: string;
  /**
   * Stored resolutions (and markets stored as resolved with a winner) of the markets the restored fills hold
   * shares in: settled at start by the executor (a market that resolved while it was down).
   */
  readonly resolutions: Resolution[];
  /** strategy → enabled, the latest strategy on/off control action that succeeded (none: as configured). */
  readonly strategyControls: Record<string, boolean>;
  readonly highWaterMark: number | null;
  /** The daily-loss window in force: its start, the equity then, and the loss since (≥ 0), micro-dollars. */
  readonly dailyLoss: {
    readonly windowStart: number;
    readonly startEquity: number;
    readonly loss: number;
  } | null;
  readonly halted: boolean;
  readonly haltReason: string | null;
  readonly system: SystemState;
  readonly allocations: LatestAllocation | null;
  readonly openOrders: Order[];
  readonly lastEquity: EquitySnapshot | null;
  /**
   * Trade requests that reached the executor (an order or an execution report exists), the newest
   * RESTORE_WINDOW of them, newest last.
   */
  readonly executedRequests: string[];
  /** The last persisted position rows (their marks value restored positions until fresh books arrive). */
  readonly positions: Position[];
  /**
   * Approved or reduced decisions without an ExecutionReport yet, among the newest RESTORE_WINDOW decisions: the
   * guardian's reservations.
   */
  readonly pendingDecisions: { requestId: string; strategy: string; legs: RiskDecision['legs'] }[];
  /** The most recently decided request ids (at most 100,000, oldest first): a redelivered request is no new one. */
  readonly decidedRequests: string[];
}

/**
 * What the risk guardian, ledger and allocator need to resume exactly where they stopped. One snapshot.
 * `snapshot: false` replays every fill instead of starting from the newest ledger snapshot (same result, slower).
 */
export async function loadRecoveryState(
  db: {
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  },
  opts: { snapshot?: boolean } = {},
): Promise<RecoveryState> {
  return db.transaction(async (tx) => {
    // REPEATABLE READ would be ideal; reading inside one transaction is enough with the persister as sole writer.
    const system = await readSystemState(tx);
    const [history, orders, allocations, lastEquity] = [
      await loadFillHistory(tx, opts.snapshot === false ? { snapshot: false } : {}),
      await openOrders(tx),
      await latestAllocation(tx),
      await latestEquity(tx),
    ];
    // the executor remembers the newest SEEN_REQUESTS (100,000) executed requests: read no more than that
    const executed = await tx.query<{ request_id: string }>(
      `SELECT request_id FROM (SELECT request_id, max(t) AS t FROM (
         (SELECT request_id, created_at AS t FROM orders ORDER BY created_at DESC LIMIT ${RESTORE_WINDOW})
         UNION ALL
         (SELECT request_id, ts AS t FROM execution_reports ORDER BY ts DESC LIMIT ${RESTORE_WINDOW})
       ) u GROUP BY request_id ORDER BY max(t) DESC, request_id DESC LIMIT ${RESTORE_WINDOW}) r
       ORDER BY t, request_id`,
    );
    const positions = await latestPositions(tx);
    // among the newest decisions (the window the guardian remembers as decided)
    const pending = await tx.query<R>(
      `SELECT d.request_id, d.strategy, d.legs FROM (SELECT * FROM risk_decisions
         ORDER BY decided_at DESC, id DESC LIMIT ${RESTORE_WINDOW}) d
       WHERE d.verdict IN ('approve', 'reduce')
         AND NOT EXISTS (SELECT 1 FROM execution_reports e WHERE e.request_id = d.request_id)
       ORDER BY d.decided_at, d.id`,
    );
    const decided = await tx.query<{ request_id: string }>(
      `SELECT request_id FROM (SELECT request_id, decided_at, id FROM risk_decisions
         ORDER BY decided_at DESC, id DESC LIMIT ${RESTORE_WINDOW}) r ORDER BY decided_at, id`,
    );
    const dailyLoss =
      system.dailyWindowStart !== null && system.dailyStartEquity !== null
        ? {
            windowStart: system.dailyWindowStart,
            startEquity: system.dailyStartEquity,
            loss: Math.max(0, system.dailyStartEquity - (system.lastEquity ?? system.dailyStartEquity)),
          }
        : null;
    // the markets the restored fills may hold shares in: the base's open positions and every market of the tail
    const held = new Set<string>();
    for (const p of history.base?.ledger.positions ?? [])
      if (p.shares > 0) held.add(`${p.venue}:${p.marketId}`);
    for (const f of history.tail) held.add(`${f.venue}:${f.marketId}`);
    const resolutions = await resolutionsOf(tx, [...held]);
    const controls = await tx.query<R>(
      `SELECT DISTINCT ON (target) target, params FROM control_actions
       WHERE action = 'strategy' AND outcome = 'ok' AND target IS NOT NULL ORDER BY target, at DESC, id DESC`,
    );
    const strategyControls: Record<string, boolean> = {};
    for (const c of controls.rows) {
      const params = (typeof c.params === 'string' ? JSON.parse(c.params) : c.params) as {
        enabled?: unknown;
      };
      if (typeof params?.enabled === 'boolean') strategyControls[str(c.target)] = params.enabled;
    }
    return {
      base: history.base,
      fills: history.tail,
      baseFillIds: history.baseIds,
      fillCount: history.total,
      ...(history.fallback ? { snapshotFallback: history.fallback } : {}),
      resolutions,
      strategyControls,
      highWaterMark: system.highWaterMark,
      dailyLoss,
      halted: system.halted,
      haltReason: system.haltReason,
      system,
      allocations,
      openOrders: orders,
      lastEquity,
      executedRequests: executed.rows.map((r) => r.request_id),
      positions,
      decidedRequests: decided.rows.map((r) => r.request_id),
      pendingDecisions: pending.rows.map((r) => ({
        requestId: str(r.request_id),
        strategy: str(r.strategy),
        legs: (typeof r.legs === 'string' ? JSON.parse(r.legs) : r.legs) as RiskDecision['legs'],
      })),
    };
  });
}

/**
 * The resolutions of these markets ("venue:marketId"): the resolutions channel's, else a market stored as resolved
 * with its winner (a venue listing that showed it resolved).
 */
export async function resolutionsOf(q: Queryable, markets: readonly string[]): Promise<Resolution[]> {
  if (markets.length === 0) return [];
  const r = await q.query<R>(
    `SELECT venue, market_id, winner, event_time, receive_time FROM (
       SELECT venue, market_id, winner, event_time, receive_time, 0 AS pref FROM resolutions
       UNION ALL
       SELECT venue, market_id, winner, NULL AS event_time, updated_at AS receive_time, 1 AS pref FROM markets
       WHERE status = 'resolved' AND winner IS NOT NULL
     ) u WHERE venue || ':' || market_id = ANY($1::text[])
     ORDER BY venue, market_id, pref`,
    [markets],
  );
  const out: Resolution[] = [];
  const seen = new Set<string>();
  for (const x of r.rows) {
    const k = `${str(x.venue)}:${str(x.market_id)}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({
      type: 'resolution',
      venue: str(x.venue) as Resolution['venue'],
      marketId: str(x.market_id),
      winner: str(x.winner),
      ...(x.event_time !== null && x.event_time !== undefined ? { eventTime: int(x.event_time) } : {}),
      receiveTime: int(x.receive_time),
    });
  }
  return out;
}

/** Alert settings (e.g. which levels reach the phone, quiet hours), one JSON value per key. */
export async function getAlertSettings(q: Queryable): Promise<Record<string, unknown>> {
  const r = await q.query<{ key: string; value: unknown }>(
    'SELECT key, value FROM alert_settings ORDER BY key',
  );
  return Object.fromEntries(
    r.rows.map((x) => [x.key, typeof x.value === 'string' ? JSON.parse(x.value) : x.value]),
  );
}

export async function setAlertSetting(q: Queryable, key: string, value: unknown, now: number): Promise<void> {
  await q.query(
    `INSERT INTO alert_settings (key, value, updated_at) VALUES ($1, $2::jsonb, $3::bigint)
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at`,
    [key, JSON.stringify(value), String(now)],
  );
}

/** The alert log, newest first. */
export async function recentAlerts(
  q: Queryable,
  limit = 100,
): Promise<{ id: string; level: string; title: string; body: string; ts: number }[]> {
  const r = await q.query<Record<string, unknown>>(
    'SELECT * FROM alert_log ORDER BY ts DESC, id DESC LIMIT $1',
    [limit],
  );
  return r.rows.map((x) => ({
    id: str(x.id),
    level: str(x.level),
    title: str(x.title),
    body: str(x.body),
    ts: int(x.ts),
  }));
}
