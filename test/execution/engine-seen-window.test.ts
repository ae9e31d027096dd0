/**
 * The execution engine remembers executed request ids against redelivery, but only a window of the newest: the
 * set used to grow for the whole run, in memory and in every state snapshot.
 */
import { describe, expect, it } from 'vitest';
import { createIds } from '../../src/core/agent.ts';
import { SimClock } from '../../src/core/clock.ts';
import type { RiskDecision } from '../../src/core/messages.ts';
import { createExecutionEngine } from '../../src/execution/engine.ts';
import type { ExecutionClient } from '../../src/execution/types.ts';

const client: ExecutionClient = {
  venue: 'polymarket',
  mode: 'paper',
  submit: () => Promise.resolve(),
  cancel: () => Promise.resolve(),
  cancelAll: () => Promise.resolve(),
  status: () => Promise.resolve(undefined),
  onReport: () => () => {},
};

const decision = (i: number): RiskDecision => ({
  type: 'risk_decision',
  id: `rd-${i}`,
  requestId: `req-${i}`,
  strategy: 's1',
  verdict: 'approve',
  rule: 'ok',
  reason: 'test',
  legs: [
    {
      venue: 'polymarket',
      marketId: 'm1',
      tokenId: 't1',
      side: 'buy',
      limitPrice: 450_000,
      shares: 5_000_000,
    },
  ],
  tif: 'IOC',
  decidedAt: 1,
});

function engine(initial?: readonly string[]) {
  return createExecutionEngine({
    clients: new Map([['polymarket', client]]),
    clock: new SimClock(0),
    ids: createIds('t'),
    sink: { fill: () => {}, order: () => {}, report: () => {} },
    seenWindow: 4,
    ...(initial ? { initial: { version: 1 as const, inventory: [], requests: initial } } : {}),
  });
}

describe('execution engine: executed request ids', () => {
  it('keeps only the newest seenWindow ids, in memory and in the snapshot', () => {
    const e = engine();
    // halted: each decision is recorded as seen and reported rejected, no order is sent
    for (let i = 0; i < 50; i++) e.decide(decision(i), true);
    expect(e.snapshot().requests).toEqual(['req-46', 'req-47', 'req-48', 'req-49']);
    e.decide(decision(49), true); // a redelivery inside the window is still a duplicate
    expect(e.counts()).toMatchObject({ decisions: 51, duplicates: 1 });
    e.decide(decision(0), true); // forgotten long ago: decided again, and the window still holds 4
    expect(e.counts()).toMatchObject({ decisions: 52, duplicates: 1 });
    expect(e.snapshot().requests).toHaveLength(4);
  });

  it('bounds a restored state the same way', () => {
    const e = engine(Array.from({ length: 10 }, (_, i) => `req-${i}`));
    expect(e.snapshot().requests).toEqual(['req-6', 'req-7', 'req-8', 'req-9']);
  });
});
