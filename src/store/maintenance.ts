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
}

export const retentionFromConfig = (c: Config): Retention => ({
  opportunitiesDays: c.store.retentionOpportunitiesDays,
  heartbeatsDays: c.store.retentionHeartbeatsDays,
  historyDays: c.store.retentionHistoryDays,
});

const DAY_MS = 86_400_000;

/** Deletes opportunities, heartbeat history and sampled history older than their retention. Returns rows deleted. */
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
