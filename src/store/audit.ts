/**
 * `pm-arb audit`: does what the system published, stored and believes add up? Each check is read-only and says
 * what it compared and every discrepancy it found (first `maxItems`):
 *
 * - fills published vs stored: fill ids retained on the Redis fills stream missing from the store; one fill id
 *   published with two different contents (an id reused: one of them is lost downstream);
 * - ledger vs positions vs cash: the ledger rebuilt from the stored fills against the positions table (shares
 *   per instrument and strategy) and against the cash of the latest equity snapshot (replayed up to its time);
 * - open orders vs fills and limits: each order's filled shares against its stored fills, filled never above the
 *   order, open orders within MAX_OPEN_ORDERS (the guardian's reservations live in its memory: an open order is
 *   what it reserves for);
 * - duplicates: a decision executed twice (two orders for one request leg; its unwind order excepted), two
 *   approvals of one request.
 */
import type { Config } from '../core/config.ts';
import type { Fill } from '../core/messages.ts';
import { parseMicro, toDecimal } from '../core/money.ts';
import { canonicalJson } from '../core/signing.ts';
import { Ledger } from '../ledger/ledger.ts';
import type { Queryable } from './db.ts';
import { loadFills } from './queries.ts';

export interface AuditCheck {
  readonly name: string;
  readonly ok: boolean;
  /** Skipped checks (nothing to compare with) are ok and say why. */
  readonly skipped?: string;
  /** What was compared, for a person. */
  readonly summary: string;
  readonly problems: readonly string[];
}

export interface AuditReport {
  readonly ok: boolean;
  readonly checks: readonly AuditCheck[];
}

export interface AuditInput {
  readonly db: Queryable;
  readonly config: Pick<Config, 'risk'>;
  /** The fills still retained on the bus (Redis), or undefined when there is no bus to read. */
  readonly publishedFills?: readonly { readonly id: string; readonly body: Fill }[] | undefined;
  readonly maxItems?: number;
}

const sharesText = (micro: number): string => toDecimal(micro);

function check(name: string, summary: string, problems: string[], max: number): AuditCheck {
  const shown =
    problems.length > max ? [...problems.slice(0, max), `… and ${problems.length - max} more`] : problems;
  return { name, ok: problems.length === 0, summary, problems: shown };
}

export async function runAudit(input: AuditInput): Promise<AuditReport> {
  const { db } = input;
  const max = input.maxItems ?? 20;
  const checks: AuditCheck[] = [];
  const fills = await loadFills(db);
  const storedIds = new Set(fills.map((f) => f.id));

  // ---- fills published vs stored
  if (!input.publishedFills) {
    checks.push({
      name: 'fills published vs stored',
      ok: true,
      skipped: 'no bus to read (REDIS_URL not set)',
      summary: `${fills.length} fills stored`,
      problems: [],
    });
  } else {
    const problems: string[] = [];
    const byId = new Map<string, string>();
    let missing = 0;
    for (const m of input.publishedFills) {
      const f = m.body;
      const text = canonicalJson(f);
      const seen = byId.get(f.id);
      if (seen !== undefined && seen !== text)
        problems.push(`fill id ${f.id} published twice with different contents (message ${m.id})`);
      byId.set(f.id, text);
    }
    for (const id of byId.keys())
      if (!storedIds.has(id)) {
        missing++;
        problems.push(`fill ${id} published but not stored`);
      }
    checks.push(
      check(
        'fills published vs stored',
        `${input.publishedFills.length} fill messages retained on the bus (${byId.size} ids), ${fills.length} stored, ${missing} missing`,
        problems,
        max,
      ),
    );
  }

  // ---- ledger vs positions vs cash
  {
    const problems: string[] = [];
    const ledger = new Ledger({ initialCash: input.config.risk.initialBankroll });
    for (const f of fills) ledger.applyFill(f);
    const rows = await db.query<{ venue: string; token_id: string; strategy: string; shares: string }>(
      'SELECT venue, token_id, strategy, shares FROM positions',
    );
    const stored = new Map<string, number>();
    for (const r of rows.rows) stored.set(`${r.venue}:${r.token_id}:${r.strategy}`, parseMicro(r.shares));
    const held = new Map<string, number>();
    for (const p of ledger.allPositions()) held.set(`${p.venue}:${p.tokenId}:${p.strategy}`, p.shares);
    for (const k of new Set([...stored.keys(), ...held.keys()])) {
      const a = held.get(k) ?? 0;
      const b = stored.get(k) ?? 0;
      if (a !== b)
        problems.push(`position ${k}: fills say ${sharesText(a)} shares, positions table ${sharesText(b)}`);
    }
    const snap = await db.query<{ id: string; cash: string; ts: string }>(
      'SELECT id, cash, ts FROM equity_snapshots ORDER BY ts DESC, id DESC LIMIT 1',
    );
    let cashNote = 'no equity snapshot';
    const s = snap.rows[0];
    if (s) {
      const at = Number(s.ts);
      const upTo = new Ledger({ initialCash: input.config.risk.initialBankroll });
      for (const f of fills) if (f.ts <= at) upTo.applyFill(f);
      const want = upTo.cash();
      const got = parseMicro(s.cash);
      cashNote = `cash $${toDecimal(got)} at the latest equity snapshot`;
      if (want !== got)
        problems.push(
          `cash: fills up to the latest equity snapshot (${s.id}) give $${toDecimal(want)}, the snapshot says $${toDecimal(got)}`,
        );
    }
    checks.push(
      check(
        'ledger vs positions vs cash',
        `${held.size} instrument positions from ${fills.length} fills vs ${stored.size} rows in positions; ${cashNote}`,
        problems,
        max,
      ),
    );
  }

  // ---- open orders vs fills and limits
  {
    const problems: string[] = [];
    const r = await db.query<{
      id: string;
      status: string;
      shares: string;
      filled_shares: string;
      fills: string;
    }>(
      `SELECT o.id, o.status, o.shares, o.filled_shares, coalesce(sum(f.shares), 0)::text AS fills
         FROM orders o LEFT JOIN fills f ON f.order_id = o.id AND f.kind <> 'settlement'
        GROUP BY o.id, o.status, o.shares, o.filled_shares ORDER BY o.id`,
    );
    let open = 0;
    for (const o of r.rows) {
      const filled = parseMicro(o.filled_shares);
      const viaFills = parseMicro(o.fills);
      const size = parseMicro(o.shares);
      if (o.status === 'new' || o.status === 'partially_filled') open++;
      if (filled !== viaFills)
        problems.push(
          `order ${o.id}: ${sharesText(filled)} shares filled by its state, ${sharesText(viaFills)} in stored fills`,
        );
      if (viaFills > size)
        problems.push(
          `order ${o.id}: fills of ${sharesText(viaFills)} shares exceed its ${sharesText(size)}`,
        );
    }
    const limit = input.config.risk.maxOpenOrders;
    if (open > limit) problems.push(`${open} open orders, above MAX_OPEN_ORDERS=${limit}`);
    checks.push(
      check(
        'open orders vs fills and limits',
        `${r.rows.length} orders, ${open} open (limit ${limit})`,
        problems,
        max,
      ),
    );
  }

  // ---- duplicates
  {
    const problems: string[] = [];
    // a leg's unwind (`<request>.<leg>.u`, src/execution/ids.ts) is an order of its own, not a second execution
    const twice = await db.query<{ request_id: string; leg_index: number; n: string; ids: string }>(
      `SELECT request_id, leg_index, count(*)::text AS n, string_agg(id, ', ' ORDER BY id) AS ids
         FROM orders
        GROUP BY request_id, leg_index, (id = request_id || '.' || leg_index::text || '.u')
       HAVING count(*) > 1 ORDER BY request_id, leg_index`,
    );
    for (const t of twice.rows)
      problems.push(`request ${t.request_id} leg ${t.leg_index} executed ${t.n} times: orders ${t.ids}`);
    const approvals = await db.query<{ request_id: string; n: string }>(
      `SELECT request_id, count(*)::text AS n FROM risk_decisions WHERE verdict <> 'reject'
        GROUP BY request_id HAVING count(*) > 1 ORDER BY request_id`,
    );
    for (const a of approvals.rows) problems.push(`request ${a.request_id} approved ${a.n} times`);
    checks.push(check('duplicates', 'orders per request leg, approvals per request', problems, max));
  }

  return { ok: checks.every((c) => c.ok), checks };
}

export function renderAudit(r: AuditReport): string[] {
  const lines: string[] = [];
  for (const c of r.checks) {
    const mark = c.skipped ? 'SKIP' : c.ok ? 'OK  ' : 'FAIL';
    lines.push(`${mark} ${c.name}: ${c.skipped ? `${c.skipped}; ` : ''}${c.summary}`);
    for (const p of c.problems) lines.push(`       ${p}`);
  }
  lines.push(r.ok ? 'audit: consistent' : 'audit: INCONSISTENT (exit 1)');
  return lines;
}
