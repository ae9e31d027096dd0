/**
 * The one-row `system_state` table: halt flag and reason, high-water mark and the daily-loss window. The persister
 * keeps it current from HALT_ALL/RESUME commands and equity snapshots; the risk guardian may also write it
 * directly (writeSystemState) with the exact figures it uses.
 */
import type { HaltSource } from '../core/halt.ts';
import { parseMicro, toDecimal } from '../core/money.ts';
import type { Queryable } from './db.ts';
import type { StateOp } from './rows.ts';

export interface SystemState {
  readonly halted: boolean;
  readonly haltReason: string | null;
  readonly haltedBy: string | null;
  /** When the halt flag last changed (epoch ms). */
  readonly haltedAt: number | null;
  /** micro-dollars */
  readonly highWaterMark: number | null;
  /** Start of the current daily-loss window (epoch ms). */
  readonly dailyWindowStart: number | null;
  /** Equity at the start of that window, micro-dollars. */
  readonly dailyStartEquity: number | null;
  /** Equity last seen, micro-dollars. */
  readonly lastEquity: number | null;
  /** Time of the last equity snapshot applied (epoch ms). */
  readonly updatedAt: number;
}

interface StateRow {
  halted: boolean;
  halt_reason: string | null;
  halted_by: string | null;
  halted_at: string | null;
  high_water_mark: string | null;
  daily_window_start: string | null;
  daily_start_equity: string | null;
  last_equity: string | null;
  updated_at: string;
}

const num = (v: string | null): number | null => (v === null ? null : Number(v));
const micro = (v: string | null): number | null => (v === null ? null : parseMicro(v));

function fromRow(r: StateRow): SystemState {
  return {
    halted: r.halted,
    haltReason: r.halt_reason,
    haltedBy: r.halted_by,
    haltedAt: num(r.halted_at),
    highWaterMark: micro(r.high_water_mark),
    dailyWindowStart: num(r.daily_window_start),
    dailyStartEquity: micro(r.daily_start_equity),
    lastEquity: micro(r.last_equity),
    updatedAt: Number(r.updated_at),
  };
}

const COLS =
  'halted, halt_reason, halted_by, halted_at, high_water_mark, daily_window_start, daily_start_equity, last_equity, updated_at';

export async function readSystemState(q: Queryable, forUpdate = false): Promise<SystemState> {
  const r = await q.query<StateRow>(
    `SELECT ${COLS} FROM system_state WHERE id = 1${forUpdate ? ' FOR UPDATE' : ''}`,
  );
  const row = r.rows[0];
  if (!row) throw new Error('system_state row is missing: run `pm-arb db migrate`');
  return fromRow(row);
}

async function store(q: Queryable, s: SystemState): Promise<void> {
  const d = (v: number | null): string | null => (v === null ? null : toDecimal(v));
  const i = (v: number | null): string | null => (v === null ? null : String(v));
  await q.query(
    `UPDATE system_state SET halted = $1, halt_reason = $2, halted_by = $3, halted_at = $4::bigint,
       high_water_mark = $5::numeric, daily_window_start = $6::bigint, daily_start_equity = $7::numeric,
       last_equity = $8::numeric, updated_at = $9::bigint
     WHERE id = 1`,
    [
      s.halted,
      s.haltReason,
      s.haltedBy,
      i(s.haltedAt),
      d(s.highWaterMark),
      i(s.dailyWindowStart),
      d(s.dailyStartEquity),
      d(s.lastEquity),
      String(s.updatedAt),
    ],
  );
}

const DAY_MS = 86_400_000;

/** Start (epoch ms) of the daily-loss window holding `ts`, the window restarting at `resetHourUtc`:00 UTC. */
export function dailyWindowStart(ts: number, resetHourUtc: number): number {
  const offset = resetHourUtc * 3_600_000;
  return Math.floor((ts - offset) / DAY_MS) * DAY_MS + offset;
}

/** Folds state changes into a state, in order. Stale changes (older than what is stored) are ignored. */
export function foldState(start: SystemState, ops: readonly StateOp[], resetHourUtc: number): SystemState {
  let s = start;
  for (const op of ops) {
    if (op.kind === 'halt') {
      if (s.haltedAt !== null && op.at < s.haltedAt) continue;
      s = {
        ...s,
        halted: op.halted,
        haltReason: op.halted ? op.reason : null,
        haltedBy: op.by,
        haltedAt: op.at,
      };
    } else {
      const hwm = Math.max(s.highWaterMark ?? op.highWaterMark, op.highWaterMark, op.equity);
      if (op.ts < s.updatedAt) {
        s = { ...s, highWaterMark: hwm };
        continue;
      }
      const window = dailyWindowStart(op.ts, resetHourUtc);
      const sameWindow = s.dailyWindowStart === window && s.dailyStartEquity !== null;
      s = {
        ...s,
        highWaterMark: hwm,
        dailyWindowStart: window,
        dailyStartEquity: sameWindow ? s.dailyStartEquity : op.equity,
        lastEquity: op.equity,
        updatedAt: op.ts,
      };
    }
  }
  return s;
}

/** Applies state changes inside a transaction (row locked, so concurrent writers serialize). */
export async function applyStateOps(
  tx: Queryable,
  ops: readonly StateOp[],
  resetHourUtc: number,
): Promise<void> {
  const before = await readSystemState(tx, true);
  await store(tx, foldState(before, ops, resetHourUtc));
}

/**
 * The system_state writer for the risk guardian: sets the fields given, leaves the others. Use it inside a
 * transaction (db.transaction) when it must agree with other writes.
 */
export async function writeSystemState(q: Queryable, patch: Partial<SystemState>): Promise<SystemState> {
  const before = await readSystemState(q, true);
  const after: SystemState = { ...before, ...patch };
  await store(q, after);
  return after;
}

/** The halt state as the store keeps it, for the agent runtime (src/core/halt.ts). */
export function storeHaltSource(q: Queryable): HaltSource {
  return {
    name: 'the store (system_state)',
    async read() {
      const s = await readSystemState(q);
      if (s.haltedAt === null && !s.halted) return null;
      return { halted: s.halted, reason: s.haltReason, by: s.haltedBy, at: s.haltedAt };
    },
  };
}
