/**
 * Retention and status: `pm-arb db prune` / the persister's prune timer, and `pm-arb db status`.
 */
import type { Config } from '../core/config.ts';
import type { Db, Queryable } from './db.ts';
import { MIGRATIONS, type Migration, migrationStatus, TABLES } from './migrations.ts';

export interface Retention {
  readonly opportunitiesDays: number;
  readonly heartbeatsDays: number;
  readonly historyDays: number;
  /**
   * Closed execution intents (done, with their ExecutionReport stored) older than this (by their last update) are
   * deleted (default 7). An intent is what keeps a redelivered decision from executing twice; a decision is
   * redelivered for minutes at most (then dead-lettered), so days are ample. Open intents are never pruned.
   */
  readonly intentsDays?: number;
}

export const retentionFromConfig = (c: Config): Retention => ({
  opportunitiesDays: c.store.retentionOpportunitiesDays,
  heartbeatsDays: c.store.retentionHeartbeatsDays,
  historyDays: c.store.retentionHistoryDays,
  intentsDays: c.store.retentionIntentsDays,
});

export const DEFAULT_INTENTS_RETENTION_DAYS = 7;

const DAY_MS = 86_400_000;

/**
 * Deletes opportunities, heartbeat history, sampled history and closed execution intents older than their
 * retention (by `now`, the caller's clock). Returns rows deleted per table.
 */
export async function prune(
  q: Queryable,
  retention: Retention,
  now: number,
): Promise<Record<string, number>> {
  const cut = (days: number): string => String(now - days * DAY_MS);
  const targets: [string, string, number][] = [
    ['opportunities', 'detected_at', retention.opportunitiesDays],
    ['agent_heartbeats', 'ts', retention.heartbeatsDays],
    ['book_history', 'ts', retention.historyDays],
    ['oracle_history', 'ts', retention.historyDays],
  ];
  const out: Record<string, number> = {};
  for (const [table, col, days] of targets) {
    const r = await q.query(`DELETE FROM ${table} WHERE ${col} < $1::bigint`, [cut(days)]);
    out[table] = r.rowCount;
  }
  // closed: done, and its report is in the store (a done intent without one is still resumed: its report is
  // published again by the next executor)
  const intents = await q.query(
    `DELETE FROM execution_intents i WHERE i.state = 'done' AND i.updated_at < $1::bigint
       AND EXISTS (SELECT 1 FROM execution_reports e WHERE e.request_id = i.request_id)`,
    [cut(retention.intentsDays ?? DEFAULT_INTENTS_RETENTION_DAYS)],
  );
  out.execution_intents = intents.rowCount;
  return out;
}

export interface StoreStatus {
  readonly backend: Db['backend'];
  readonly location: string;
  readonly applied: { version: number; name: string; appliedAt: string }[];
  readonly pending: { version: number; name: string }[];
  /** Row counts of every table that exists (absent before the first migration). */
  readonly rows: Record<string, number>;
}

export async function storeStatus(
  db: Db,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<StoreStatus> {
  const st = await migrationStatus(db, migrations);
  const rows: Record<string, number> = {};
  const present = await db.query<{ table_name: string }>(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()',
  );
  const have = new Set(present.rows.map((r) => r.table_name));
  for (const t of TABLES) {
    if (!have.has(t)) continue;
    const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`);
    rows[t] = Number(r.rows[0]?.n ?? 0);
  }
  return {
    backend: db.backend,
    location: db.location,
    applied: [...st.applied],
    pending: [...st.pending],
    rows,
  };
}
