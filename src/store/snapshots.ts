/**
 * Ledger snapshots: restart cost independent of history. A snapshot row (migration 26) holds the ledger and the
 * bundles that replaying the stored fills up to a point makes, and that point: `fill_seq` (every fill with
 * seq ≤ it is in) and the (ts, seq) of the last of them in replay order. Restore = the newest snapshot + the fills
 * stored after it, which is exactly the full replay (every fill in (ts, seq) order) as long as none of those sorts
 * before the snapshot's last fill; when one does (a fill stamped earlier but stored later), the snapshot is not
 * used and everything is replayed (`fallback` says why).
 *
 * Snapshots are money-exact JSON of integer micro-units, made from zero starting cash (the bankroll comes from the
 * config at restore, as in a full replay) with no marks (the last persisted marks are put back at restore) and no
 * fill ids (the ids of the newest FILL_ID_WINDOW fills are read with them, for redelivery dedupe).
 *
 * `writeLedgerSnapshot` rolls the newest snapshot forward (the persister calls it at start, every
 * SNAPSHOT_EVERY_FILLS fills or SNAPSHOT_EVERY_MS, and when it stops). It takes `LOCK TABLE fills IN SHARE MODE`:
 * writers of fills still in flight commit first, so no fill with a lower seq becomes visible after the snapshot.
 */
import type { Fill } from '../core/messages.ts';
import type { Money } from '../core/money.ts';
import { parseMicro } from '../core/money.ts';
import { BundleBook, type BundleSnapshot } from '../ledger/bundles.ts';
import { Ledger, type LedgerSnapshot } from '../ledger/ledger.ts';
import type { Queryable } from './db.ts';

/**
 * Fill ids remembered at restore against redelivery: the Redis streams keep ~100,000 entries (MAXLEN ~), so a
 * consumer group's backlog of fills is never longer; the in-process bus keeps nothing across a restart.
 */
export const FILL_ID_WINDOW = 100_000;
export const SNAPSHOT_EVERY_FILLS = 10_000;
export const SNAPSHOT_EVERY_MS = 300_000;

export interface LedgerBase {
  /** Every fill with seq ≤ this is in the snapshot. */
  readonly fillSeq: number;
  /** The last fill in replay order (ts, then seq): a fill stored later that sorts before it voids the snapshot. */
  readonly lastTs: number;
  readonly lastSeq: number;
  readonly fills: number;
  /** From zero starting cash, no marks, no fill ids. */
  readonly ledger: LedgerSnapshot;
  /** No fill ids. */
  readonly bundles: BundleSnapshot;
}

export interface FillHistory {
  readonly base: LedgerBase | null;
  /** The fills after the base in replay order (ts, seq); every fill when there is no base. */
  readonly tail: Fill[];
  /** Ids of the newest fills in the base (at most FILL_ID_WINDOW), in replay order. */
  readonly baseIds: string[];
  /** Fills in all (base + tail). */
  readonly total: number;
  /** The highest seq seen and the last fill in replay order (undefined: no fills). */
  readonly maxSeq: number;
  readonly last: { readonly ts: number; readonly seq: number } | undefined;
  /** Why the stored snapshot was not used, when it was not. */
  readonly fallback?: string;
}

type R = Record<string, unknown>;
const str = (v: unknown): string => String(v);
const int = (v: unknown): number => Number(v);
const mic = (v: unknown): number => parseMicro(String(v));
const obj = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

export function fillFromRow(r: R): Fill {
  return {
    type: 'fill',
    id: str(r.id),
    orderId: str(r.order_id),
    requestId: str(r.request_id),
    strategy: str(r.strategy),
    venue: str(r.venue) as Fill['venue'],
    marketId: str(r.market_id),
    tokenId: str(r.token_id),
    side: str(r.side) as Fill['side'],
    price: mic(r.price),
    shares: mic(r.shares),
    fee: mic(r.fee),
    liquidity: str(r.liquidity) as Fill['liquidity'],
    kind: str(r.kind) as Fill['kind'],
    ts: int(r.ts),
    ...(r.bundle_id !== null && r.bundle_id !== undefined ? { bundleId: str(r.bundle_id) } : {}),
  };
}

export async function latestLedgerBase(q: Queryable): Promise<LedgerBase | null> {
  const r = await q.query<R>('SELECT * FROM ledger_snapshots ORDER BY fill_seq DESC LIMIT 1');
  const row = r.rows[0];
  if (!row) return null;
  return {
    fillSeq: int(row.fill_seq),
    lastTs: int(row.last_ts),
    lastSeq: int(row.last_seq),
    fills: int(row.fills),
    ledger: obj<LedgerSnapshot>(row.ledger),
    bundles: obj<BundleSnapshot>(row.bundles),
  };
}

/**
 * The stored fills as a base and a tail: the newest snapshot and the fills after it, or (no usable snapshot, or
 * `snapshot: false`) every fill. `ids: false` skips reading the dedupe window (the snapshot writer needs none).
 */
export async function loadFillHistory(
  q: Queryable,
  opts: { snapshot?: boolean; ids?: boolean } = {},
): Promise<FillHistory> {
  let base = opts.snapshot === false ? null : await latestLedgerBase(q);
  let rows = await fillsAfter(q, base?.fillSeq ?? -1);
  let fallback: string | undefined;
  if (base) {
    const b = base;
    const early = rows.find((x) => x.ts < b.lastTs || (x.ts === b.lastTs && x.seq < b.lastSeq));
    if (early) {
      fallback = `fill ${early.fill.id} (ts ${early.ts}) was stored after the snapshot at seq ${b.fillSeq} but sorts before its last fill (ts ${b.lastTs}): replaying every fill`;
      base = null;
      rows = await fillsAfter(q, -1);
    }
  }
  let baseIds: string[] = [];
  if (base && opts.ids !== false) {
    const r = await q.query<{ id: string }>(
      `SELECT id FROM (SELECT id, ts, seq FROM fills WHERE seq <= $1 ORDER BY seq DESC LIMIT $2) w ORDER BY ts, seq`,
      [String(base.fillSeq), FILL_ID_WINDOW],
    );
    baseIds = r.rows.map((x) => str(x.id));
  }
  const lastRow = rows[rows.length - 1];
  let maxSeq = base?.fillSeq ?? 0;
  for (const x of rows) if (x.seq > maxSeq) maxSeq = x.seq;
  return {
    base,
    tail: rows.map((x) => x.fill),
    baseIds,
    total: (base?.fills ?? 0) + rows.length,
    maxSeq,
    last: lastRow
      ? { ts: lastRow.ts, seq: lastRow.seq }
      : base
        ? { ts: base.lastTs, seq: base.lastSeq }
        : undefined,
    ...(fallback ? { fallback } : {}),
  };
}

async function fillsAfter(q: Queryable, seq: number): Promise<{ fill: Fill; ts: number; seq: number }[]> {
  const r = await q.query<R>('SELECT * FROM fills WHERE seq > $1 ORDER BY ts, seq', [String(seq)]);
  return r.rows.map((row) => ({ fill: fillFromRow(row), ts: int(row.ts), seq: int(row.seq) }));
}

/**
 * The ledger and bundles of a fill history, from `initialCash` (split across venues as a fresh ledger does). The
 * same result as replaying every stored fill into a fresh ledger; the ledger remembers `baseIds` and the tail's
 * ids against redelivery (`dedupe: false`: none).
 */
export function replayHistory(
  h: Pick<FillHistory, 'base' | 'tail' | 'baseIds'>,
  initialCash: Money,
  opts: { dedupe?: boolean } = {},
): { ledger: Ledger; bundles: BundleBook } {
  const dedupe = opts.dedupe !== false;
  let ledger: Ledger;
  let bundles: BundleBook;
  if (h.base) {
    const fresh = new Ledger({ initialCash, dedupe: false }).snapshot();
    ledger = Ledger.restore(
      { ...h.base.ledger, initialCash: fresh.initialCash, fillIds: dedupe ? h.baseIds : [] },
      { dedupe },
    );
    bundles = BundleBook.restore({ ...h.base.bundles, fillIds: dedupe ? h.baseIds : [] });
  } else {
    ledger = new Ledger({ initialCash, dedupe });
    bundles = new BundleBook();
  }
  for (const f of h.tail) {
    ledger.applyFill(f);
    bundles.applyFill(f);
  }
  return { ledger, bundles };
}

export interface SnapshotWritten {
  readonly written: boolean;
  /** Fills in the snapshot now newest (0: none). */
  readonly fills: number;
  /** Fills replayed to make it (the tail of the previous one). */
  readonly replayed: number;
  readonly fallback?: string;
}

/**
 * Rolls the newest snapshot forward over the fills stored since (nothing when there are fewer than `minFills`,
 * default 1), keeping the two newest snapshots. Safe to run from several processes: the same fills make the same
 * snapshot, and a second one for the same fill_seq is ignored.
 */
export async function writeLedgerSnapshot(
  db: { transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> },
  now: number,
  opts: { minFills?: number } = {},
): Promise<SnapshotWritten> {
  return db.transaction(async (tx) => {
    // in-flight writers of fills commit first (and new ones wait): no gap in seq can fill in behind the snapshot
    await tx.query('LOCK TABLE fills IN SHARE MODE');
    const h = await loadFillHistory(tx, { ids: false });
    const none = {
      written: false,
      fills: h.base?.fills ?? 0,
      replayed: 0,
      ...(h.fallback ? { fallback: h.fallback } : {}),
    };
    if (!h.last || h.tail.length < Math.max(1, opts.minFills ?? 1)) return none;
    const { ledger, bundles } = replayHistory(h, 0, { dedupe: false });
    const ledgerSnap: LedgerSnapshot = { ...ledger.snapshot(), marks: {}, fillIds: [] };
    const bundleSnap: BundleSnapshot = { ...bundles.snapshot(), fillIds: [] };
    const r = await tx.query(
      `INSERT INTO ledger_snapshots (fill_seq, last_ts, last_seq, fills, ledger, bundles, created_at)
       VALUES ($1::bigint, $2::bigint, $3::bigint, $4::bigint, $5::jsonb, $6::jsonb, $7::bigint)
       ON CONFLICT (fill_seq) DO NOTHING`,
      [
        String(h.maxSeq),
        String(h.last.ts),
        String(h.last.seq),
        String(h.total),
        JSON.stringify(ledgerSnap),
        JSON.stringify(bundleSnap),
        String(now),
      ],
    );
    await tx.query(
      `DELETE FROM ledger_snapshots WHERE fill_seq < (SELECT min(fill_seq) FROM
         (SELECT fill_seq FROM ledger_snapshots ORDER BY fill_seq DESC LIMIT 2) k)`,
    );
    return {
      written: r.rowCount > 0,
      fills: h.total,
      replayed: h.tail.length,
      ...(h.fallback ? { fallback: h.fallback } : {}),
    };
  });
}
