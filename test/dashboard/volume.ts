/**
 * A store with a trading history of a realistic size for the dashboard's scale test and benchmark: `n`
 * opportunities 800 ms apart (four kinds, both venues), a trade request for every tenth (half approved and filled,
 * half rejected by a rule) and `fills` fills. Generated inside the database (generate_series) in the row shapes
 * the persister writes (src/store/rows.ts: amounts as decimal dollars, legs as JSON in micro-units), so a big
 * history costs seconds, not minutes.
 */
import type { Db } from '../../src/store/db.ts';

const STRATEGIES = "ARRAY['oracle-sniper', 'cross-venue-arb', 'rebalancing-arb', 'combinatorial-arb']";
const KINDS = "ARRAY['oracle_lag', 'cross_venue', 'rebalancing', 'combinatorial']";
const RULES = "ARRAY['allocation_cap', 'min_edge', 'position_limit', 'stale_data']";
const VENUE = (i: string): string => `(CASE WHEN ${i} % 2 = 1 THEN 'kalshi' ELSE 'polymarket' END)`;
const LEGS = (i: string): string =>
  `jsonb_build_array(jsonb_build_object('venue', ${VENUE(i)}, 'marketId', 'm-' || (${i} % 50), 'tokenId', 't-' || (${i} % 50),
     'side', 'buy', 'limitPrice', 400000 + ${i} % 500, 'shares', 10000000))`;

export async function seedVolume(
  db: Db,
  o: { opportunities: number; fills: number; t0: number },
): Promise<void> {
  const t0 = String(o.t0);
  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO opportunities (id, kind, legs, edge, edge_bps, cost, fees, shares, signal, detected_at, expires_at, note)
       SELECT 'vopp-' || i, (${KINDS})[i % 4 + 1], ${LEGS('i')}, (50000 + i % 997)::numeric / 1000000, 40 + i % 60,
         4, 0.01, 10, 0.5, $1::bigint + i * 800, $1::bigint + i * 800 + 2000, NULL
       FROM generate_series(0, $2::int - 1) AS i`,
      [t0, o.opportunities],
    );
    // a request for every tenth opportunity, by the strategies in turn
    await tx.query(
      `INSERT INTO trade_requests (id, strategy, opportunity_id, kind, legs, tif, expected_edge, created_at)
       SELECT 'vreq-' || i, (${STRATEGIES})[(i / 10) % 4 + 1], 'vopp-' || i, (${KINDS})[i % 4 + 1], ${LEGS('i')}, 'FOK',
         0.05, $1::bigint + i * 800 + 1
       FROM generate_series(0, $2::int - 1, 10) AS i`,
      [t0, o.opportunities],
    );
    // every twentieth approved and filled, the others rejected by a rule
    await tx.query(
      `INSERT INTO risk_decisions (id, request_id, strategy, verdict, rule, reason, legs, tif, decided_at)
       SELECT 'vdec-' || i, 'vreq-' || i, (${STRATEGIES})[(i / 10) % 4 + 1],
         CASE WHEN i % 20 = 0 THEN 'approve' ELSE 'reject' END,
         CASE WHEN i % 20 = 0 THEN 'ok' ELSE (${RULES})[(i / 20) % 4 + 1] END,
         CASE WHEN i % 20 = 0 THEN 'within every limit' ELSE 'over the limit' END, '[]'::jsonb, 'FOK',
         $1::bigint + i * 800 + 2
       FROM generate_series(0, $2::int - 1, 10) AS i`,
      [t0, o.opportunities],
    );
    await tx.query(
      `INSERT INTO execution_reports (id, request_id, strategy, status, fills, leg_risk_cost, fees, reason, ts)
       SELECT 'vexec-' || i, 'vreq-' || i, (${STRATEGIES})[(i / 10) % 4 + 1], 'filled', 1, 0, 0.01, NULL,
         $1::bigint + i * 800 + 60
       FROM generate_series(0, $2::int - 1, 20) AS i`,
      [t0, o.opportunities],
    );
    await tx.query(
      `INSERT INTO fills (id, order_id, request_id, strategy, venue, market_id, token_id, side, price, shares, fee,
         liquidity, kind, ts)
       SELECT 'vfill-' || i, 'vord-' || i, 'vreq-' || (i * 10), (${STRATEGIES})[i % 4 + 1], ${VENUE('i')},
         'm-' || (i % 50), 't-' || (i % 50), 'buy', (400000 + i % 500)::numeric / 1000000, 10,
         (1000 + i % 100)::numeric / 1000000, 'taker', 'trade', $1::bigint + i * 8000 + 60
       FROM generate_series(0, $2::int - 1) AS i`,
      [t0, o.fills],
    );
  });
}
