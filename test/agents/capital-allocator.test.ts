import { afterEach, describe, expect, it } from 'vitest';
import { createCapitalAllocator } from '../../src/agents/capital-allocator.ts';
import { channels } from '../../src/core/channels.ts';
import { $, book, fill, type Harness, harness, leg, request, sh } from '../risk/fixtures.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe('capital allocator agent', () => {
  it('starts a new strategy on probation at once, then publishes allocation, performance and equity on its timer', async () => {
    const alloc = createCapitalAllocator({ settings: { intervalMs: 60_000 }, equityIntervalMs: 1_000 });
    h = await harness([alloc]);
    const allocations = h.collect(channels.allocations);
    const perf = h.collect(channels.performance);
    const equity = h.collect(channels.equity);
    const positions = h.collect(channels.positions);
    await h.publish(
      channels.tradeRequests,
      request([leg('polymarket', 'm1', 'buy', 0.4, 10)], { strategy: 'alpha' }),
    );
    expect(allocations.at(-1)!.allocations).toEqual({ alpha: $(25) });

    await h.publish(channels.fills, fill({ strategy: 'alpha', side: 'buy', price: $(0.4), shares: sh(10) }));
    await h.publish(
      channels.books('polymarket'),
      book('polymarket', 'm1', 'm1-yes', [[0.5, 100]], [[0.52, 100]]),
    );
    await h.publish(channels.executions, {
      type: 'execution_report',
      id: 'e',
      requestId: 'r',
      strategy: 'alpha',
      status: 'filled',
      fills: 1,
      legRiskCost: 0,
      fees: 0,
      ts: 0,
    });
    h.clock.advanceTo(h.clock.now() + 60_000);
    await h.settle();
    expect(equity.length).toBeGreaterThanOrEqual(60);
    // bankroll $500, bought 10 @ 0.40, marked at 0.50 → equity $501
    expect(equity.at(-1)).toMatchObject({
      equity: $(501),
      cash: $(496),
      positionsValue: $(5),
      unrealizedPnl: $(1),
      highWaterMark: $(501),
    });
    expect(perf.at(-1)).toMatchObject({ strategy: 'alpha', trades: 1, pnl: $(1), allocation: $(25.05) });
    expect(allocations.at(-1)!.scores).toHaveProperty('alpha');
    expect(positions).toEqual([
      expect.objectContaining({
        strategy: 'alpha',
        tokenId: 'm1-yes',
        shares: sh(10),
        costBasis: $(4),
        mark: $(0.5),
        unrealizedPnl: $(1),
      }),
    ]);
    // probation is 5% of the pool (equity $501)
    expect(alloc.allocations()).toEqual({ alpha: $(25.05) });
  });
});
