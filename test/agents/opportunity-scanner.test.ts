import { describe, expect, it } from 'vitest';
import { createOpportunityScannerAgent } from '../../src/agents/opportunity-scanner.ts';
import { startAgents } from '../../src/core/agent.ts';
import { channels } from '../../src/core/channels.ts';
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
    k.bus.publish(channels.books('kalshi'), book(b, noOf(b), [['0.55', '100']], [], { receiveTime: 7_000 }));
    await k.bus.idle();
    expect(opps).toHaveLength(1); // the Polymarket book is now older than STALE_AFTER_MS
    await run.stop();
    await k.bus.close();
  });
});
