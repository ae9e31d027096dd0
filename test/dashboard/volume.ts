/**
 * A store with a trading history of a realistic size for the dashboard's scale test and benchmark: `n`
 * opportunities over a day (four kinds, both venues), a trade request for every tenth (half approved and filled,
 * half rejected by a rule) and `fills` fills.
 */
import type { Message, Opportunity } from '../../src/core/messages.ts';
import type { Db } from '../../src/store/db.ts';
import { seed } from './seed.ts';

const KINDS: Opportunity['kind'][] = ['oracle_lag', 'cross_venue', 'rebalancing', 'combinatorial'];
const STRATEGIES = ['oracle-sniper', 'cross-venue-arb', 'rebalancing-arb', 'combinatorial-arb'];
const RULES = ['allocation_cap', 'min_edge', 'position_limit', 'stale_data'];

export async function seedVolume(
  db: Db,
  o: { opportunities: number; fills: number; t0: number },
): Promise<void> {
  const batch: Message[] = [];
  const flush = async (): Promise<void> => {
    await seed(db, batch, `vol-${o.t0}-${batch.length}-${Math.random()}`);
    batch.length = 0;
  };
  for (let i = 0; i < o.opportunities; i++) {
    const venue = i % 2 ? 'kalshi' : 'polymarket';
    const detectedAt = o.t0 + i * 800;
    batch.push({
      type: 'opportunity',
      id: `vopp-${i}`,
      kind: KINDS[i % 4]!,
      legs: [
        {
          venue,
          marketId: `m-${i % 50}`,
          tokenId: `t-${i % 50}`,
          side: 'buy',
          limitPrice: 400_000 + (i % 500),
          shares: 10_000_000,
        },
      ],
      edge: 50_000 + (i % 997),
      edgeBps: 40 + (i % 60),
      cost: 4_000_000,
      fees: 10_000,
      shares: 10_000_000,
      signal: 0.5,
      detectedAt,
      expiresAt: detectedAt + 2_000,
      data: [],
    });
    if (i % 10 === 0) {
      const strategy = STRATEGIES[(i / 10) % 4]!;
      batch.push({
        type: 'trade_request',
        id: `vreq-${i}`,
        strategy,
        opportunityId: `vopp-${i}`,
        kind: KINDS[i % 4]!,
        legs: [
          {
            venue,
            marketId: `m-${i % 50}`,
            tokenId: `t-${i % 50}`,
            side: 'buy',
            limitPrice: 400_000,
            shares: 10_000_000,
          },
        ],
        tif: 'FOK',
        expectedEdge: 50_000,
        createdAt: detectedAt + 1,
        data: [],
      });
      const approve = i % 20 === 0;
      batch.push({
        type: 'risk_decision',
        id: `vdec-${i}`,
        requestId: `vreq-${i}`,
        strategy,
        verdict: approve ? 'approve' : 'reject',
        rule: approve ? 'ok' : RULES[Math.floor(i / 20) % 4]!,
        reason: approve ? 'within every limit' : 'over the limit',
        legs: [],
        tif: 'FOK',
        decidedAt: detectedAt + 2,
      });
      if (approve) {
        batch.push({
          type: 'execution_report',
          id: `vexec-${i}`,
          requestId: `vreq-${i}`,
          strategy,
          status: 'filled',
          fills: 1,
          legRiskCost: 0,
          fees: 10_000,
          ts: detectedAt + 60,
        });
      }
    }
    if (batch.length >= 20_000) await flush();
  }
  for (let i = 0; i < o.fills; i++) {
    batch.push({
      type: 'fill',
      id: `vfill-${i}`,
      orderId: `vord-${i}`,
      requestId: `vreq-${i * 10}`,
      strategy: STRATEGIES[i % 4]!,
      venue: i % 2 ? 'kalshi' : 'polymarket',
      marketId: `m-${i % 50}`,
      tokenId: `t-${i % 50}`,
      side: 'buy',
      price: 400_000 + (i % 500),
      shares: 10_000_000,
      fee: 1_000 + (i % 100),
      liquidity: 'taker',
      kind: 'trade',
      ts: o.t0 + i * 8_000 + 60,
    });
    if (batch.length >= 20_000) await flush();
  }
  await flush();
}
