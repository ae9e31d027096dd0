import { describe, expect, it } from 'vitest';
import { createMarketMatcherAgent } from '../../src/agents/market-matcher.ts';
import { createOpportunityScannerAgent } from '../../src/agents/opportunity-scanner.ts';
import { createStrategyRunnerAgent } from '../../src/agents/strategy-runner.ts';
import { startAgents } from '../../src/core/agent.ts';
import { channels } from '../../src/core/channels.ts';
import { createMemoryMatchStore } from '../../src/matcher/store.ts';
import { kxT100k12, pmBrti100k } from '../matcher/cases.ts';
import { book, KALSHI, market, noOf, PM_FEES_4, yesOf } from '../scanner/build.ts';
import { record, testKernel } from '../scanner/kernel.ts';

describe('opportunity scanner agent on the in-process bus', () => {
  it('emits a cross-venue opportunity from markets, a link and books; nothing once a book is stale', async () => {
    const k = testKernel();
    const opps = record(k, channels.opportunities);
    const run = await startAgents(k, [createOpportunityScannerAgent()]);
    const a = market('polymarket', 'pmA', PM_FEES_4);
    const b = market('kalshi', 'KXB', KALSHI);
    k.bus.publish(channels.markets('polymarket'), a);
    k.bus.publish(channels.markets('kalshi'), b);
    k.bus.publish(channels.links, {
      type: 'link',
      a: { venue: 'polymarket', marketId: 'pmA' },
      b: { venue: 'kalshi', marketId: 'KXB' },
      relation: 'identical',
      confidence: 0.96,
      stage: 'rules',
      reasons: [],
      decidedAt: 1_000,
    });
    await k.bus.idle();
    k.bus.publish(channels.books('polymarket'), book(a, yesOf(a), [['0.40', '100']]));
    k.bus.publish(channels.books('kalshi'), book(b, noOf(b), [['0.55', '100']]));
    await k.bus.idle();
    expect(opps.map((o) => [o.kind, o.edge, o.legs.map((l) => l.tokenId)])).toEqual([
      ['cross_venue', 2_300_000, ['pmA-Y', 'KXB:no']],
    ]);
    k.clock.advanceTo(1_000 + 6_000);
    // its feed flags the Polymarket book stale: the pair no longer trades
    k.bus.publish(channels.books('polymarket'), book(a, yesOf(a), [['0.40', '100']], [], { stale: true }));
    k.bus.publish(channels.books('kalshi'), book(b, noOf(b), [['0.55', '100']], [], { receiveTime: 7_000 }));
    await k.bus.idle();
    expect(opps).toHaveLength(1);
    await run.stop();
    await k.bus.close();
  });

  it('matcher → scanner → strategy runner: matched markets and books become one cross-venue trade request', async () => {
    const k = testKernel();
    const reqs = record(k, channels.tradeRequests);
    const run = await startAgents(k, [
      createMarketMatcherAgent({ store: createMemoryMatchStore(), llm: null }),
      createOpportunityScannerAgent(),
      createStrategyRunnerAgent(),
    ]);
    k.bus.publish(channels.markets('polymarket'), pmBrti100k);
    k.bus.publish(channels.markets('kalshi'), kxT100k12);
    await k.bus.idle();
    // YES on Polymarket at 0.40 (fee 7% × p(1−p)), NO on Kalshi at 0.55: 1 − 0.95 before fees
    k.bus.publish(channels.books('polymarket'), book(pmBrti100k, 'pm-btc-100k-brti-yes', [['0.40', '100']]));
    k.bus.publish(
      channels.books('kalshi'),
      book(kxT100k12, 'KXBTCD-26DEC3112-T100000:no', [['0.55', '100']]),
    );
    await k.bus.idle();
    expect(reqs).toHaveLength(1);
    const r = reqs[0]!;
    expect(r).toMatchObject({
      strategy: 'cross-venue-arb',
      kind: 'cross_venue',
      tif: 'FOK',
      createdAt: 1_000,
    });
    // on probation (no Allocation yet): a request uses at most $125 (bankroll ÷ 4) ÷ 5 bundles = $25, and the
    // 100 sets cost $98.42 with fees: 25 of them
    expect(r.legs.map((l) => [l.venue, l.tokenId, l.side, l.limitPrice, l.shares])).toEqual([
      ['polymarket', 'pm-btc-100k-brti-yes', 'buy', 400_000, 25_000_000],
      ['kalshi', 'KXBTCD-26DEC3112-T100000:no', 'buy', 550_000, 25_000_000],
    ]);
    // for 100 sets: PM fee 100 × 0.07 × 0.4 × 0.6 = 1.68; Kalshi ceil(1.7325) = 1.74; 5 − 3.42 = 1.58; × 25/100
    expect(r.expectedEdge).toBe(395_000);
    await run.stop();
    await k.bus.close();
  });
});
