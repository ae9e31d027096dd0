/**
 * The batched writer: callers hand it rows (synchronously, off the hot path) with a callback to run once those
 * rows are committed; it writes them in one transaction per batch — one COPY per insert-only table, one multi-row
 * INSERT … SELECT FROM unnest(…) ON CONFLICT per upserted table, and the whole batch again through ON CONFLICT
 * statements when a COPY meets a key already stored — and then runs the callbacks (the persister acks there).
 *
 * When the database fails, the batch is kept and retried with exponential backoff; nothing is acked meanwhile,
 * so a crash during an outage loses nothing (the bus redelivers). Duplicate keys are harmless: events are
 * ignored (ON CONFLICT DO NOTHING, after a COPY that met one), state rows replace the stored row only when they are not older.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { Db, Queryable } from './db.ts';
import { errText } from './db.ts';
import {
  cleanText,
  type Row,
  type RowOf,
  SPECS,
  type SpecName,
  type StateOp,
  type TableSpec,
} from './rows.ts';
import { applyStateOps } from './system-state.ts';

export interface BatchWriterOptions {
  readonly db: Db;
  readonly clock: Clock;
  readonly log?: Logger;
  /** A batch is written when it holds this many rows … (default 2,000) */
  readonly maxBatchRows?: number;
  /** … or this long after its first row arrived (default 100 ms). */
  readonly flushIntervalMs?: number;
  /** Retry backoff after a failed write: first delay and ceiling (default 100 ms … 5 s). */
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** Hour (UTC) at which the daily-loss window restarts (config.risk.dailyLossResetHourUtc). */
  readonly dailyLossResetHourUtc?: number;
}

export interface WriterStats {
  rowsWritten: number;
  batches: number;
  failures: number;
  /** Entries whose rows the database refused (data errors), handed to their poison callback. */
  poisoned: number;
  /** Rows waiting (buffered or in the batch being written). */
  buffered: number;
  lastError: string | null;
}

/** What one caller added (one bus message): written, or found poisonous, as a unit. */
interface Entry {
  readonly rows: readonly RowOf[];
  readonly state: readonly StateOp[];
  readonly done: (() => void) | undefined;
  readonly poison: ((reason: string) => void) | undefined;
}

interface Batch {
  rows: Map<SpecName, Row[]>;
  state: StateOp[];
  done: (() => void)[];
  count: number;
  entries: Entry[];
}

const emptyBatch = (): Batch => ({ rows: new Map(), state: [], done: [], count: 0, entries: [] });

/**
 * An error the data itself caused (SQLSTATE class 22 data exception — e.g. 22021 invalid byte sequence — or 23
 * integrity violation): writing the same rows again cannot succeed, unlike a connection loss.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23)/.test(code);
}

/** Builds `INSERT … SELECT * FROM unnest($1::t1[], …) ON CONFLICT …` for a table spec. */
export function insertSql(spec: TableSpec): string {
  const cols = spec.columns.map(([c]) => c);
  // jsonb goes as one JSON array (no array-literal escaping of every quote), split back on the server
  const params = spec.columns.map(([, t], i) =>
    t === 'jsonb'
      ? `ARRAY(SELECT NULLIF(e.value, 'null'::jsonb) FROM jsonb_array_elements($${i + 1}::jsonb) WITH ORDINALITY e(value, n) ORDER BY e.n)`
      : `$${i + 1}::${t}[]`,
  );
  let sql = `INSERT INTO ${spec.table} (${cols.join(', ')}) SELECT * FROM unnest(${params.join(', ')})`;
  if (spec.upsert) {
    const set = cols.filter((c) => !spec.key.includes(c)).map((c) => `${c} = EXCLUDED.${c}`);
    const { newer, grows } = spec.upsert;
    const notOlder = `EXCLUDED.${newer} >= ${spec.table}.${newer}`;
    const where = grows
      ? `(${notOlder} AND coalesce(EXCLUDED.${grows}, 0) >= coalesce(${spec.table}.${grows}, 0)) OR coalesce(EXCLUDED.${grows}, 0) > coalesce(${spec.table}.${grows}, 0)`
      : notOlder;
    sql += ` ON CONFLICT (${spec.key.join(', ')}) DO UPDATE SET ${set.join(', ')} WHERE ${where}`;
  } else {
    sql += ` ON CONFLICT (${spec.key.join(', ')}) DO NOTHING`;
  }
  return sql;
}

const SQL = new Map<SpecName, string>(Object.entries(SPECS).map(([k, v]) => [k as SpecName, insertSql(v)]));

/** Writes rows of one table with one statement. Upserts keep one row per key (the newest) so no key repeats. */
export async function writeRows(q: Queryable, name: SpecName, rows: readonly Row[]): Promise<void> {
  if (rows.length === 0) return;
  const spec: TableSpec = SPECS[name];
  let use = rows;
  if (spec.upsert) {
    const keyIdx = spec.key.map((k) => spec.columns.findIndex(([c]) => c === k));
    const newerIdx = spec.columns.findIndex(([c]) => c === spec.upsert?.newer);
    const growsIdx = spec.columns.findIndex(([c]) => c === spec.upsert?.grows);
    // (numeric text compared as numbers: shares to the micro-share, within a double's exact integers)
    const grown = (r: Row): number => (growsIdx < 0 ? 0 : Number(r[growsIdx] ?? 0));
    const latest = new Map<string, Row>();
    for (const r of rows) {
      const key = keyIdx.map((i) => r[i]).join('\u0000');
      const prev = latest.get(key);
      if (
        !prev ||
        grown(r) > grown(prev) ||
        (grown(r) === grown(prev) && Number(r[newerIdx]) >= Number(prev[newerIdx]))
      )
        latest.set(key, r);
    }
    use = [...latest.values()];
  }
  const params: string[] = new Array(spec.columns.length);
  for (let c = 0; c < params.length; c++) {
    params[c] = spec.columns[c]![1] === 'jsonb' ? jsonArray(use, c) : arrayLiteral(use, c);
  }
  await q.query(SQL.get(name)!, params);
}

/**
 * Thrown inside a batch's transaction when a COPY hit a key already stored (23505): the transaction is rolled back
 * and `writeBatch` writes the batch again through the ON CONFLICT statements, which skip the duplicates.
 */
class CopyConflict extends Error {
  override name = 'CopyConflict';
}

/**
 * Rows of one table: insert-only rows (events) through COPY where the backend has it, since COPY costs the server
 * about a third less per row than INSERT … SELECT FROM unnest … ON CONFLICT (no array parsing, no speculative
 * insertion: 12.5 → 8.5 µs of PostgreSQL CPU per row, 25 → 16 µs for PGlite); upserts, and every row when `copy`
 * is false, through `writeRows`.
 */
async function writeTable(q: Queryable, name: SpecName, rows: readonly Row[], copy: boolean): Promise<void> {
  const spec: TableSpec = SPECS[name];
  if (!copy || spec.upsert || !q.copyFrom || rows.length === 0) return writeRows(q, name, rows);
  try {
    await q.copyFrom(spec.table, COLUMNS.get(name)!, copyText(spec, rows));
  } catch (err) {
    // a redelivered row (or one repeated within the batch): COPY cannot skip it, the ON CONFLICT path can
    if ((err as { code?: unknown }).code === '23505') throw new CopyConflict(errText(err));
    throw err;
  }
}

const COLUMNS = new Map<SpecName, string[]>(
  Object.entries(SPECS).map(([k, v]) => [k as SpecName, v.columns.map(([c]) => c)]),
);

/**
 * One batch in one transaction: the rows of each table, then the system-state changes. Insert-only tables go
 * through COPY; a batch holding a key that is already stored is written again, whole, through the
 * ON CONFLICT statements (duplicates ignored as ever), so a redelivery costs one more round of that batch only.
 * The persister's path (BatchWriter) and the store bench both write through here.
 */
export async function writeBatch(
  db: Db,
  rows: ReadonlyMap<SpecName, readonly Row[]>,
  state: readonly StateOp[] = [],
  dailyLossResetHourUtc = 0,
): Promise<void> {
  const once = (copy: boolean): Promise<void> =>
    db.transaction(async (tx) => {
      for (const [name, list] of rows) await writeTable(tx, name, list, copy);
      if (state.length > 0) await applyStateOps(tx, state, dailyLossResetHourUtc);
    });
  try {
    await once(true);
  } catch (err) {
    if (!(err instanceof CopyConflict)) throw err;
    await once(false);
  }
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * Rows in COPY's text format: tab between columns, a newline after each row, \N for NULL, backslash, tab, newline
 * and carriage return escaped. Text is cleaned as for the array literals (NUL is refused by text and jsonb).
 */
export function copyText(spec: TableSpec, rows: readonly Row[]): string {
  const json = spec.columns.map(([, t]) => t === 'jsonb');
  const lines: string[] = new Array(rows.length);
  const cells: string[] = new Array(spec.columns.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    for (let c = 0; c < cells.length; c++) {
      const raw = row[c];
      if (raw === null || raw === undefined) {
        cells[c] = '\\N';
        continue;
      }
      // jsonb refuses the \u0000 escape (22P05); text refuses NUL itself (22021)
      let v = json[c] ? (raw.includes('\\u0000') ? raw.replaceAll('\\u0000', '') : raw) : raw;
      if (v.includes('\u0000')) v = cleanText(v);
      cells[c] = COPY_SPECIAL.test(v) ? v.replace(/[\\\t\n\r]/g, (ch) => COPY_ESCAPES[ch]!) : v;
    }
    lines[r] = cells.join('\t');
  }
  return `${lines.join('\n')}\n`;
}

/** Column `c` (JSON texts) as one JSON array; SQL NULL travels as JSON null. */
function jsonArray(rows: readonly Row[], c: number): string {
  const parts: string[] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const t = rows[r]![c] ?? 'null';
    // jsonb refuses the \u0000 escape (22P05)
    parts[r] = t.includes('\\u0000') ? t.replaceAll('\\u0000', '') : t;
  }
  return `[${parts.join(',')}]`;
}

const NEEDS_ESCAPE = /[\\"]/;

/**
 * Column `c` of the rows as a PostgreSQL array literal ({"a","b",NULL}), built directly: several times cheaper
 * than the drivers' generic array serializers, and the same text for pg and PGlite.
 */
export function arrayLiteral(rows: readonly Row[], c: number): string {
  const parts: string[] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const raw = rows[r]![c];
    // NUL: PostgreSQL text refuses it (22021), and one such row would fail its whole batch
    const v = raw?.includes('\u0000') ? cleanText(raw) : raw;
    if (v === null || v === undefined) parts[r] = 'NULL';
    else if (NEEDS_ESCAPE.test(v)) parts[r] = `"${v.replace(/[\\"]/g, '\\$&')}"`;
    else parts[r] = `"${v}"`;
  }
  return `{${parts.join(',')}}`;
}

export class BatchWriter {
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly log: Logger | undefined;
  private readonly maxBatchRows: number;
  private readonly flushIntervalMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly resetHour: number;
  private open = emptyBatch();
  private inFlight: Batch | undefined;
  private timer: TimerHandle | undefined;
  private retries = 0;
  private closed = false;
  private waiters: (() => void)[] = [];
  private readonly counters: WriterStats = {
    rowsWritten: 0,
    batches: 0,
    failures: 0,
    poisoned: 0,
    buffered: 0,
    lastError: null,
  };

  constructor(opts: BatchWriterOptions) {
    this.db = opts.db;
    this.clock = opts.clock;
    this.log = opts.log;
    this.maxBatchRows = opts.maxBatchRows ?? 2_000;
    this.flushIntervalMs = opts.flushIntervalMs ?? 100;
    this.retryBaseMs = opts.retryBaseMs ?? 100;
    this.retryMaxMs = opts.retryMaxMs ?? 5_000;
    this.resetHour = opts.dailyLossResetHourUtc ?? 0;
  }

  /**
   * Queues rows (and system-state changes); `onCommit` runs once they are committed. Never waits. When the
   * rows themselves cannot be written (a data error), `onPoison` gets the reason instead and the rest of the
   * batch is still written; without `onPoison` such rows are dropped unacknowledged (logged).
   */
  add(
    rows: readonly RowOf[],
    state: readonly StateOp[] = [],
    onCommit?: () => void,
    onPoison?: (reason: string) => void,
  ): void {
    if (this.closed) throw new Error('writer is closed');
    const b = this.open;
    b.entries.push({ rows, state, done: onCommit, poison: onPoison });
    for (const r of rows) {
      let list = b.rows.get(r.spec);
      if (!list) {
        list = [];
        b.rows.set(r.spec, list);
      }
      list.push(r.row);
    }
    for (const s of state) b.state.push(s);
    if (onCommit) b.done.push(onCommit);
    b.count += rows.length + state.length;
    this.counters.buffered += rows.length;
    this.schedule();
  }

  /** Rows not yet committed. */
  get buffered(): number {
    return this.counters.buffered;
  }

  stats(): WriterStats {
    return { ...this.counters };
  }

  /** Resolves when everything added so far is committed (it keeps retrying while the database is away). */
  flush(): Promise<void> {
    if (this.open.count === 0 && this.open.done.length === 0 && !this.inFlight) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.schedule(true);
    });
  }

  /** Stops taking rows. Pending rows are dropped unless flushed first (their messages stay unacked). */
  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private schedule(now = false): void {
    if (this.inFlight || this.closed) return;
    const full = this.open.count >= this.maxBatchRows;
    if (now || full || this.waiters.length > 0) {
      this.timer?.cancel();
      this.timer = undefined;
      queueMicrotask(() => this.run());
      return;
    }
    if (!this.timer) this.timer = this.clock.after(this.flushIntervalMs, () => this.run());
  }

  private run(): void {
    this.timer = undefined;
    if (this.inFlight || this.closed) return;
    if (this.open.count === 0 && this.open.done.length === 0) {
      this.wake();
      return;
    }
    const batch = this.open;
    this.open = emptyBatch();
    this.inFlight = batch;
    void this.write(batch);
  }

  private async write(batch: Batch): Promise<void> {
    try {
      await writeBatch(this.db, batch.rows, batch.state, this.resetHour);
    } catch (err) {
      if (isDataError(err) && batch.entries.length > 0) {
        await this.isolate(batch, errText(err));
        return;
      }
      this.counters.failures++;
      this.counters.lastError = errText(err);
      const delay = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.min(this.retries, 16));
      this.retries++;
      this.log?.warn(
        { err: this.counters.lastError, rows: batch.count, retryInMs: delay, attempt: this.retries },
        'store write failed; retrying (messages stay unacked)',
      );
      if (this.closed) {
        this.inFlight = undefined;
        return;
      }
      // Merge rows that arrived meanwhile into the retried batch so the next write carries everything.
      this.timer = this.clock.after(delay, () => {
        this.timer = undefined;
        this.inFlight = undefined;
        this.open = mergeBatches(batch, this.open);
        this.run();
      });
      return;
    }
    this.retries = 0;
    this.counters.batches++;
    let written = 0;
    for (const rows of batch.rows.values()) written += rows.length;
    this.counters.rowsWritten += written;
    this.counters.buffered -= written;
    this.counters.lastError = null;
    this.inFlight = undefined;
    for (const done of batch.done) {
      try {
        done();
      } catch (err) {
        this.log?.error({ err: errText(err) }, 'store commit callback failed');
      }
    }
    if (this.open.count > 0 || this.open.done.length > 0) this.schedule(this.waiters.length > 0);
    else this.wake();
  }

  /**
   * A batch failed on its data: each entry is written on its own, so the good ones commit and a bad one is handed
   * to its poison callback with the reason. A connection loss meanwhile puts what is left back for a retry.
   */
  private async isolate(batch: Batch, firstError: string): Promise<void> {
    this.log?.warn(
      { err: firstError, entries: batch.entries.length },
      'store batch rejected its data; isolating the bad rows',
    );
    const left = [...batch.entries];
    while (left.length > 0) {
      const e = left[0]!;
      try {
        await this.db.transaction(async (tx) => {
          const byTable = new Map<SpecName, Row[]>();
          for (const r of e.rows) {
            const list = byTable.get(r.spec) ?? [];
            list.push(r.row);
            byTable.set(r.spec, list);
          }
          for (const [name, rows] of byTable) await writeRows(tx, name, rows);
          if (e.state.length > 0) await applyStateOps(tx, e.state, this.resetHour);
        });
        this.counters.rowsWritten += e.rows.length;
        this.safely(e.done);
      } catch (err) {
        if (!isDataError(err)) {
          // the database went away: retry the rest as a batch, later
          const rest = emptyBatch();
          for (const x of left) appendEntry(rest, x);
          this.inFlight = undefined;
          this.counters.failures++;
          this.counters.lastError = errText(err);
          if (this.closed) return;
          this.timer = this.clock.after(this.retryBaseMs, () => {
            this.timer = undefined;
            this.open = mergeBatches(rest, this.open);
            this.run();
          });
          return;
        }
        const reason = errText(err);
        this.counters.poisoned++;
        this.log?.error({ err: reason, rows: e.rows.map((r) => r.spec) }, 'store rows rejected (poison)');
        if (e.poison) this.safely(() => e.poison!(reason));
      }
      this.counters.buffered -= e.rows.length;
      left.shift();
    }
    this.counters.batches++;
    this.inFlight = undefined;
    if (this.open.count > 0 || this.open.done.length > 0) this.schedule(this.waiters.length > 0);
    else this.wake();
  }

  private safely(fn: (() => void) | undefined): void {
    if (!fn) return;
    try {
      fn();
    } catch (err) {
      this.log?.error({ err: errText(err) }, 'store commit callback failed');
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

function appendEntry(b: Batch, e: Entry): void {
  for (const r of e.rows) {
    const list = b.rows.get(r.spec);
    if (list) list.push(r.row);
    else b.rows.set(r.spec, [r.row]);
  }
  b.state.push(...e.state);
  if (e.done) b.done.push(e.done);
  b.count += e.rows.length + e.state.length;
  b.entries.push(e);
}

function mergeBatches(first: Batch, second: Batch): Batch {
  const out = emptyBatch();
  for (const b of [first, second]) {
    out.entries.push(...b.entries);
    for (const [name, rows] of b.rows) {
      const list = out.rows.get(name);
      if (list) list.push(...rows);
      else out.rows.set(name, [...rows]);
    }
    out.state.push(...b.state);
    out.done.push(...b.done);
    out.count += b.count;
  }
  return out;
}

export const createBatchWriter = (opts: BatchWriterOptions): BatchWriter => new BatchWriter(opts);
