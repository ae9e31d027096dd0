/**
 * The database side of exactly-once execution (src/execution/intents.ts): execution_intents and executor_fences
 * (migration 20; its rows: one per venue account, and `risk-guardian` for the guardian's lease). A claim and its
 * fence checks run in one transaction.
 */
import type { RiskDecision } from '../core/messages.ts';
import { parseMicro } from '../core/money.ts';
import {
  type ClaimResult,
  type ExecutionIntent,
  type FenceStore,
  GUARDIAN_FENCE,
  type IntentState,
  type IntentStore,
} from '../execution/intents.ts';
import type { Db, Queryable } from './db.ts';

type R = Record<string, unknown>;

const parsed = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

function intentFromRow(r: R): ExecutionIntent {
  const decision = parsed(r.decision) as RiskDecision;
  const legRows = (parsed(r.leg_orders) ?? []) as { leg: number; status: string; filled: string }[];
  const legs: Record<number, { status: string; filledShares: number }> = {};
  for (const l of legRows)
    legs[Number(l.leg)] = { status: String(l.status), filledShares: parseMicro(String(l.filled)) };
  return {
    ...(legRows.length > 0 ? { legs } : {}),
    requestId: String(r.request_id),
    account: String(r.account),
    decision,
    state: String(r.state) as IntentState,
    owner: String(r.owner),
    fence: Number(r.fence),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

async function bumpFence(q: Queryable, account: string, fence: number, owner: string, now: number) {
  const r = await q.query<{ token: string }>(
    `INSERT INTO executor_fences (account, token, owner, at) VALUES ($1, $2::bigint, $3, $4::bigint)
     ON CONFLICT (account) DO UPDATE SET token = EXCLUDED.token, owner = EXCLUDED.owner, at = EXCLUDED.at
       WHERE executor_fences.token <= EXCLUDED.token
     RETURNING token`,
    [account, String(fence), owner, String(now)],
  );
  if (r.rows.length > 0) return { ok: true as const };
  const cur = await q.query<{ token: string }>('SELECT token FROM executor_fences WHERE account = $1', [
    account,
  ]);
  return { ok: false as const, newest: Number(cur.rows[0]?.token ?? 0) };
}

/**
 * The newest fencing token of a lease that is not a venue account's (the risk guardian's, `GUARDIAN_FENCE`), in the
 * same table: the executors' claims read it.
 */
export function createDbFenceStore(db: Db, key: string = GUARDIAN_FENCE): FenceStore {
  return {
    async advance(token, owner, now) {
      return (await bumpFence(db, key, token, owner, now)).ok;
    },
    async newest() {
      const r = await db.query<{ token: string }>('SELECT token FROM executor_fences WHERE account = $1', [
        key,
      ]);
      return Number(r.rows[0]?.token ?? 0);
    },
  };
}

/**
 * Longest a claim's transaction may sit idle between its statements before PostgreSQL ends the session. The claim
 * locks the account's fence row (and the intent's key) until it commits: an executor paused (SIGSTOP) or frozen
 * in the middle of one would hold them until it resumes, and every other executor's claim and takeover
 * (advanceFence) would wait on it meanwhile — the group stalled by its paused member. Cut off, the paused claim
 * fails when it resumes (its decision is not acked, so it is redelivered) and nothing of it was written.
 */
export const CLAIM_IDLE_TIMEOUT_MS = 5_000;

/** The database: the claim and the fence check in one transaction. */
export function createDbIntentStore(db: Db, account = 'paper'): IntentStore {
  return {
    account,
    claim(d, ctx) {
      return db.transaction(async (tx): Promise<ClaimResult> => {
        // (PGlite: one connection in this process, nobody else to block)
        if (db.backend === 'postgres')
          await tx.query(`SET LOCAL idle_in_transaction_session_timeout = ${CLAIM_IDLE_TIMEOUT_MS}`);
        // a decision of a guardian that a newer one fenced out (a pause past its lease) is not executed
        if (d.fence !== undefined) {
          const g = await tx.query<{ token: string }>(
            'SELECT token FROM executor_fences WHERE account = $1',
            [GUARDIAN_FENCE],
          );
          const newest = Number(g.rows[0]?.token ?? 0);
          if (d.fence < newest) {
            // the refusal finishes the request, unless another decision of it was taken (its report ends it)
            const refused = await tx.query(
              `INSERT INTO execution_intents (request_id, account, decision, state, owner, fence, created_at, updated_at)
               VALUES ($1, $2, $3::jsonb, 'done', $4, $5::bigint, $6::bigint, $6::bigint)
               ON CONFLICT (request_id) DO NOTHING RETURNING request_id`,
              [d.requestId, account, JSON.stringify(d), ctx.owner, String(ctx.fence ?? 0), String(ctx.now)],
            );
            return { outcome: 'staleDecision', newest, refused: refused.rows.length > 0 };
          }
        }
        if (ctx.fence !== undefined) {
          const f = await bumpFence(tx, account, ctx.fence, ctx.owner, ctx.now);
          if (!f.ok) return { outcome: 'fenced', newest: f.newest };
        }
        const ins = await tx.query(
          `INSERT INTO execution_intents (request_id, account, decision, state, owner, fence, created_at, updated_at)
           VALUES ($1, $2, $3::jsonb, 'claimed', $4, $5::bigint, $6::bigint, $6::bigint)
           ON CONFLICT (request_id) DO NOTHING RETURNING request_id`,
          [d.requestId, account, JSON.stringify(d), ctx.owner, String(ctx.fence ?? 0), String(ctx.now)],
        );
        if (ins.rows.length > 0) return { outcome: 'new' };
        const have = await tx.query<R>('SELECT * FROM execution_intents WHERE request_id = $1', [
          d.requestId,
        ]);
        return { outcome: 'exists', intent: intentFromRow(have.rows[0]!) };
      });
    },
    async mark(requestId, state, now) {
      // conditional: of two executors finishing one intent (a fenced-out one resuming after a pause, and the holder
      // that closed it meanwhile), exactly one moves it to done
      const r = await db.query(
        state === 'done'
          ? `UPDATE execution_intents SET state = 'done', updated_at = $2::bigint WHERE request_id = $1 AND state <> 'done' RETURNING request_id`
          : `UPDATE execution_intents SET state = 'submitted', updated_at = $2::bigint WHERE request_id = $1 AND state = 'claimed' RETURNING request_id`,
        [requestId, String(now)],
      );
      if (r.rows.length > 0) return true;
      const have = await db.query('SELECT 1 FROM execution_intents WHERE request_id = $1', [requestId]);
      return have.rows.length === 0;
    },
    async newestFence() {
      const r = await db.query<{ token: string }>('SELECT token FROM executor_fences WHERE account = $1', [
        account,
      ]);
      return Number(r.rows[0]?.token ?? 0);
    },
    async advanceFence(fence, owner, now) {
      return (await bumpFence(db, account, fence, owner, now)).ok;
    },
    async unfinished() {
      const r = await db.query<R>(
        `SELECT i.*, (SELECT jsonb_agg(jsonb_build_object('leg', o.leg_index, 'status', o.status,
             'filled', o.filled_shares::text)) FROM orders o WHERE o.request_id = i.request_id AND o.id NOT LIKE '%.u'
           ) AS leg_orders
         FROM execution_intents i
         WHERE i.account = $1
           AND NOT EXISTS (SELECT 1 FROM execution_reports e WHERE e.request_id = i.request_id)
         ORDER BY i.created_at, i.request_id`,
        [account],
      );
      return r.rows.map(intentFromRow);
    },
  };
}
