/**
 * Faults stop trading: an invariant broken on a message (a fill that would make a naked short) or an error inside
 * a clock timer faults the agent, dead-letters the cause with the error, halts trading (HALT_ALL with the reason)
 * and publishes a critical alert; the fill is never recorded as seen, so a redelivery is not taken for a duplicate.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createCapitalAllocator } from '../../src/agents/capital-allocator.ts';
import type { Agent, AgentRuntime } from '../../src/core/agent.ts';
import { channels } from '../../src/core/channels.ts';
import { InvariantError } from '../../src/core/invariant.ts';
import type { Fill } from '../../src/core/messages.ts';
import { $, fill, type Harness, harness, sh } from '../risk/fixtures.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** A trading agent that only watches whether it is halted. */
function watcher(): Agent & { rt?: AgentRuntime } {
  const a: Agent & { rt?: AgentRuntime } = {
    name: 'trader',
    trading: true,
    start(rt) {
      a.rt = rt;
    },
  };
  return a;
}

describe('faults stop trading', () => {
  it('a fill that would make a naked short: fault, HALT_ALL, alert, dead letter; the redelivery is no duplicate', async () => {
    const allocator = createCapitalAllocator();
    const trader = watcher();
    h = await harness([allocator, trader]);
    const dead = h.collect(channels.deadLetter(channels.fills));
    const system = h.collect(channels.system);
    const alerts = h.collect(channels.alerts);
    const health = h.collect(channels.health);
    const ok = fill({ side: 'buy', price: $(0.4), shares: sh(2) });
    await h.publish(channels.fills, ok);
    const naked: Fill = fill({ side: 'sell', price: $(0.5), shares: sh(3) });
    await h.publish(channels.fills, naked);

    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ group: 'capital-allocator', attempts: 1, body: naked });
    expect(dead[0]!.error).toMatch(/LedgerInvariantError: .*no naked shorts/);
    expect(system).toMatchObject([
      { command: 'HALT_ALL', reason: expect.stringMatching(/^fault in capital-allocator: .*naked/) },
    ]);
    expect(alerts).toMatchObject([{ level: 'critical', title: 'fault: capital-allocator' }]);
    expect(health.filter((b) => b.agent === 'capital-allocator').at(-1)?.state).toBe('faulted');
    expect(trader.rt!.halted).toBe(true);
    expect(trader.rt!.state).toBe('halted');

    // the ledger never recorded the bad fill; the faulted agent takes no further work
    expect(allocator.ledger!.snapshot().fillIds).toEqual([ok.id]);
    await h.publish(channels.fills, naked);
    expect(dead).toHaveLength(1);
    expect(system).toHaveLength(1);

    // a fresh allocator (the restart after a fault) given the redelivery faults again: it is not a duplicate
    const again = createCapitalAllocator();
    const h2 = await harness([again]);
    try {
      const dead2 = h2.collect(channels.deadLetter(channels.fills));
      await h2.publish(channels.fills, ok);
      await h2.publish(channels.fills, naked);
      expect(dead2).toHaveLength(1);
    } finally {
      await h2.stop();
    }
  });

  it('an error inside a clock timer faults the agent and halts trading, and the process goes on', async () => {
    const trader = watcher();
    const broken: Agent = {
      name: 'broken',
      trading: false,
      start(rt) {
        rt.clock.after(1_000, () => {
          throw new InvariantError('timer state broke');
        });
        rt.clock.after(2_000, () => {
          throw new Error('a plain bug');
        });
      },
    };
    h = await harness([broken, trader]);
    const system = h.collect(channels.system);
    const alerts = h.collect(channels.alerts);
    const dead = h.collect(channels.deadLetter('timer.broken'));
    expect(() => h!.clock.advanceTo(h!.clock.now() + 5_000)).not.toThrow();
    await h.settle();
    expect(system).toMatchObject([
      { command: 'HALT_ALL', reason: expect.stringContaining('timer state broke') },
    ]);
    expect(alerts).toMatchObject([{ level: 'critical', title: 'fault: broken' }]);
    expect(dead.map((d) => d.error)).toEqual(['InvariantError: timer state broke', 'Error: a plain bug']);
    expect(trader.rt!.halted).toBe(true);
  });

  it('a plain handler error is not a fault: retried, then dead-lettered, and trading goes on', async () => {
    const trader = watcher();
    const flaky: Agent = {
      name: 'flaky',
      trading: false,
      start(rt) {
        rt.subscribe(channels.alerts, () => {
          throw new Error('bad message');
        });
      },
    };
    h = await harness([flaky, trader]);
    const dead = h.collect(channels.deadLetter(channels.alerts));
    const system = h.collect(channels.system);
    await h.publish(channels.alerts, { type: 'alert', level: 'info', title: 't', body: 'b', ts: 0 });
    expect(dead).toMatchObject([{ attempts: 3, error: 'Error: bad message' }]);
    expect(system).toHaveLength(0);
    expect(trader.rt!.halted).toBe(false);
  });
});
