/**
 * `pm-arb audit`'s checks on a real (embedded) store: a consistent history passes; a fill published but not
 * stored, a fill id reused, a positions row that disagrees with the fills, cash that disagrees, an order whose
 * state disagrees with its fills, a request leg executed twice and a request approved twice are each reported.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.ts';
import { runAudit } from '../../src/store/audit.ts';
import { type Db, openDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { decisionRow, equityRow, fillRow, orderRow, positionRow, type RowOf } from '../../src/store/rows.ts';
import { writeRows } from '../../src/store/writer.ts';
import { decision, fill, order, position } from './samples.ts';

const config = loadConfig({ INITIAL_BANKROLL: '1000', MAX_OPEN_ORDERS: '5' });
let db: Db;

async function write(rows: RowOf[]): Promise<void> {
  for (const r of rows) await writeRows(db, r.spec, [r.row]);
}

// one buy of 10 shares at 0.40 (fee 0.01) through order-1, as every table records it when all went well
const f1 = fill(1, {
  orderId: 'order-1',
  requestId: 'req-1',
  strategy: 'cross',
  venue: 'polymarket',
  marketId: 'm-1',
  tokenId: 't-1',
  side: 'buy',
  price: 400_000,
  shares: 10_000_000,
  fee: 10_000,
  ts: 1_700_000_000_100,
});

beforeAll(async () => {
  db = await openDb({ dataDir: 'memory://' });
  await migrate(db);
  await write([
    fillRow(f1),
    orderRow(order(1, { status: 'filled', filledShares: 10_000_000, shares: 10_000_000 })),
    decisionRow(decision(1, { verdict: 'approve' })),
    positionRow(position({ shares: 10_000_000, strategy: 'cross' })),
    equityRow('eq-1', {
      type: 'equity',
      cash: 1_000_000_000 - 4_000_000 - 10_000,
      positionsValue: 4_000_000,
      equity: 999_990_000,
      realizedPnl: 0,
      unrealizedPnl: -10_000,
      highWaterMark: 1_000_000_000,
      ts: 1_700_000_000_200,
    }),
  ]);
});
afterAll(async () => {
  await db.close();
});

describe('pm-arb audit checks', () => {
  it('a consistent history passes every check', async () => {
    const r = await runAudit({ db, config, publishedFills: [{ id: 'msg-1', body: f1 }] });
    expect(r.checks.map((c) => [c.name, c.ok, c.problems])).toEqual([
      ['fills published vs stored', true, []],
      ['ledger vs positions vs cash', true, []],
      ['open orders vs fills and limits', true, []],
      ['duplicates', true, []],
    ]);
    expect(r.ok).toBe(true);
  });

  it('without a bus the published-vs-stored check is skipped, not passed silently', async () => {
    const r = await runAudit({ db, config });
    expect(r.checks[0]).toMatchObject({ ok: true, skipped: 'no bus to read (REDIS_URL not set)' });
  });

  it('reports a fill published but never stored, and a fill id published with two contents', async () => {
    const lost = fill(2, { id: 'fill-lost' });
    const r = await runAudit({
      db,
      config,
      publishedFills: [
        { id: 'msg-1', body: f1 },
        { id: 'msg-2', body: { ...f1, shares: 5_000_000 } },
        { id: 'msg-3', body: lost },
      ],
    });
    expect(r.ok).toBe(false);
    expect(r.checks[0]!.problems).toEqual([
      'fill id fill-1 published twice with different contents (message msg-2)',
      'fill fill-lost published but not stored',
    ]);
  });

  it('reports positions, cash, order state, double execution and double approval that disagree', async () => {
    const bad = await openDb({ dataDir: 'memory://' });
    try {
      await migrate(bad);
      const rows: RowOf[] = [
        fillRow(f1),
        orderRow(order(1, { status: 'filled', filledShares: 7_000_000, shares: 10_000_000 })),
        orderRow(order(2, { id: 'order-1b', requestId: 'req-1', legIndex: 0 })),
        // an unwind of a leg's excess is an order of its own (src/execution/ids.ts), no second execution
        orderRow(order(3, { id: 'req-2.0', requestId: 'req-2', legIndex: 0 })),
        orderRow(order(4, { id: 'req-2.0.u', requestId: 'req-2', legIndex: 0, side: 'sell' })),
        decisionRow(decision(1, { verdict: 'approve' })),
        decisionRow(decision(1, { id: 'dec-1-again', verdict: 'approve' })),
        positionRow(position({ shares: 12_000_000, strategy: 'cross' })),
        equityRow('eq-1', {
          type: 'equity',
          cash: 1_000_000_000,
          positionsValue: 0,
          equity: 1_000_000_000,
          realizedPnl: 0,
          unrealizedPnl: 0,
          highWaterMark: 1_000_000_000,
          ts: 1_700_000_000_200,
        }),
      ];
      for (const x of rows) await writeRows(bad, x.spec, [x.row]);
      const r = await runAudit({ db: bad, config });
      expect(r.ok).toBe(false);
      const by = Object.fromEntries(r.checks.map((c) => [c.name, c.problems]));
      expect(by['ledger vs positions vs cash']).toEqual([
        'position polymarket:t-1:cross: fills say 10 shares, positions table 12',
        'cash: fills up to the latest equity snapshot (eq-1) give $995.99, the snapshot says $1000',
      ]);
      expect(by['open orders vs fills and limits']).toEqual([
        'order order-1: 7 shares filled by its state, 10 in stored fills',
      ]);
      expect(by.duplicates).toEqual([
        'request req-1 leg 0 executed 2 times: orders order-1, order-1b',
        'request req-1 approved 2 times',
      ]);
    } finally {
      await bad.close();
    }
  });
});
