/**
 * The alert log in the store: one row per alert the alerts agent handled, with its delivery result. An alert
 * that arrived on the bus keeps the bus message id as its row id, so the persister's copy of it and the
 * delivery record are one row.
 */
import type { Queryable } from '../store/db.ts';
import type { AlertCandidate, HaltCause } from './engine.ts';
import type { DeliveryReport } from './notifier.ts';

export type LogStatus = DeliveryReport['status'] | 'rate_limited' | 'simulated';

export interface AlertLogRow {
  readonly alert: AlertCandidate;
  /** Row id (default alert.id). */
  readonly id?: string;
  readonly status: LogStatus;
  readonly delivery: DeliveryReport['results'];
  readonly deliveredAt: number;
}

export async function writeAlertLog(q: Queryable, row: AlertLogRow): Promise<void> {
  const a = row.alert;
  await q.query(
    `INSERT INTO alert_log (id, level, title, body, ts, kind, dedupe_key, priority, status, delivery, delivered_at)
     VALUES ($1, $2, $3, $4, $5::bigint, $6, $7, $8, $9, $10::jsonb, $11::bigint)
     ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, dedupe_key = EXCLUDED.dedupe_key,
       priority = EXCLUDED.priority, status = EXCLUDED.status, delivery = EXCLUDED.delivery,
       delivered_at = EXCLUDED.delivered_at`,
    [
      row.id ?? a.id,
      a.level,
      a.title,
      a.body,
      String(a.ts),
      a.kind,
      a.key,
      a.priority,
      row.status,
      JSON.stringify(row.delivery),
      String(row.deliveredAt),
    ],
  );
}

export interface AlertLogEntry {
  readonly id: string;
  readonly kind: string | null;
  readonly key: string | null;
  readonly level: string;
  readonly title: string;
  readonly body: string;
  readonly ts: number;
  readonly status: string | null;
  readonly delivery: unknown;
}

/** The newest alerts (all of them, or of some kinds), newest first. */
export async function readAlertLog(
  q: Queryable,
  opts: { limit?: number; kinds?: readonly string[] } = {},
): Promise<AlertLogEntry[]> {
  const params: unknown[] = [opts.limit ?? 100];
  const where = opts.kinds ? 'WHERE kind = ANY($2::text[])' : '';
  if (opts.kinds) params.push([...opts.kinds]);
  const r = await q.query<Record<string, unknown>>(
    `SELECT id, kind, dedupe_key, level, title, body, ts, status, delivery FROM alert_log ${where}
     ORDER BY ts DESC, id DESC LIMIT $1`,
    params,
  );
  return r.rows.map((x) => ({
    id: String(x.id),
    kind: x.kind == null ? null : String(x.kind),
    key: x.dedupe_key == null ? null : String(x.dedupe_key),
    level: String(x.level),
    title: String(x.title),
    body: String(x.body),
    ts: Number(x.ts),
    status: x.status == null ? null : String(x.status),
    delivery: typeof x.delivery === 'string' ? JSON.parse(x.delivery) : x.delivery,
  }));
}

/**
 * What the alerts agent needs after a restart: when each key was last sent within `windowMs`, and whether the
 * last halt/resume alert was a halt (then the halt is still in force as far as the alerts go).
 */
export async function alertRestartState(
  q: Queryable,
  now: number,
  windowMs: number,
): Promise<{ sent: [string, number][]; halt?: { cause: HaltCause; reason: string; since: number } }> {
  const sent = await q.query<{ dedupe_key: string; ts: string }>(
    `SELECT dedupe_key, max(ts)::text AS ts FROM alert_log
     WHERE dedupe_key IS NOT NULL AND status IN ('sent', 'partial', 'rate_limited') AND ts > $1::bigint
     GROUP BY dedupe_key`,
    [String(now - windowMs)],
  );
  const last = await readAlertLog(q, { limit: 1, kinds: ['halt', 'resume'] });
  const h = last[0];
  const cause = (h?.title.match(/HALTED: (.*)$/)?.[1] ?? 'manual halt') as string;
  const byText: Record<string, HaltCause> = {
    'drawdown stop': 'drawdown',
    'daily-loss limit': 'daily_loss',
    fault: 'fault',
  };
  return {
    sent: sent.rows.map((r) => [r.dedupe_key, Number(r.ts)]),
    ...(h?.kind === 'halt'
      ? { halt: { cause: byText[cause] ?? 'manual', reason: h.body, since: h.ts } }
      : {}),
  };
}
