/**
 * An authenticated trading path: with RISK_SIGNING_KEY set, the guardian signs its decisions and the executor
 * executes only those with a valid signature; an unsigned or forged approval (anyone who can write to the bus)
 * goes to the dead-letter channel with the reason, and nothing is ordered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createExecutor } from '../../src/agents/executor.ts';
import { createRiskGuardian } from '../../src/agents/risk-guardian.ts';
import { channels, type DeadLetter } from '../../src/core/channels.ts';
import type { Leg, RiskDecision } from '../../src/core/messages.ts';
import { signed, verifySignature } from '../../src/core/signing.ts';
import { book, config, type Harness, harness, leg, market, request, wideLimits } from '../risk/fixtures.ts';

const KEY = 'risk-key-for-tests';
const keyed = { ...config, signing: { riskKey: KEY, controlKey: undefined } };

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const approval = (legs: Leg[], id: string): RiskDecision => ({
  type: 'risk_decision',
  id,
  requestId: `r-${id}`,
  strategy: 's1',
  verdict: 'approve',
  rule: 'ok',
  reason: '',
  legs,
  tif: 'IOC',
  decidedAt: 0,
});

describe('signed risk decisions', () => {
  it('the executor executes a decision signed with the key, and dead-letters unsigned and forged ones', async () => {
    h = await harness([createExecutor({ latencyMs: 0 })], keyed);
    const orders = h.collect(channels.orders);
    const dead = h.collect(channels.deadLetter(channels.riskDecisions)) as DeadLetter[];
    await h.publish(channels.markets('polymarket'), market('polymarket', 'm1'));
    await h.publish(
      channels.books('polymarket'),
      book('polymarket', 'm1', 'm1-yes', [[0.4, 100]], [[0.45, 100]]),
    );
    const legs = [leg('polymarket', 'm1', 'buy', 0.5, 10)];

    await h.publish(channels.riskDecisions, approval(legs, 'unsigned'));
    await h.publish(channels.riskDecisions, signed(approval(legs, 'forged'), 'not the key'));
    // a signed decision altered afterwards (more shares) no longer verifies
    const tampered = {
      ...signed(approval(legs, 'tampered'), KEY),
      legs: [leg('polymarket', 'm1', 'buy', 0.5, 90)],
    };
    await h.publish(channels.riskDecisions, tampered);
    h.clock.advanceTo(h.clock.now() + 10);
    await h.settle();
    expect(orders).toHaveLength(0);
    expect(dead.map((d) => [(d.body as RiskDecision).id, d.error])).toEqual([
      ['unsigned', 'refused: unsigned (RISK_SIGNING_KEY)'],
      ['forged', 'refused: bad signature (RISK_SIGNING_KEY)'],
      ['tampered', 'refused: bad signature (RISK_SIGNING_KEY)'],
    ]);

    await h.publish(channels.riskDecisions, signed(approval(legs, 'good'), KEY));
    h.clock.advanceTo(h.clock.now() + 10);
    await h.settle();
    // one order (its state updates: new, then filled), for the signed decision only
    expect([...new Set(orders.map((o) => o.requestId))]).toEqual(['r-good']);
  });

  it('the guardian signs what it decides, and the signature verifies under the key', async () => {
    h = await harness([createRiskGuardian({ probationAllocation: 1_000_000_000 })], {
      ...wideLimits,
      signing: { riskKey: KEY, controlKey: undefined },
    });
    const decisions = h.collect(channels.riskDecisions);
    await h.publish(channels.markets('polymarket'), market('polymarket', 'm1'));
    await h.publish(
      channels.books('polymarket'),
      book('polymarket', 'm1', 'm1-yes', [[0.4, 100]], [[0.45, 100]]),
    );
    await h.publish(channels.tradeRequests, request([leg('polymarket', 'm1', 'buy', 0.45, 1)]));
    expect(decisions).toHaveLength(1);
    expect(typeof decisions[0]!.sig).toBe('string');
    expect(verifySignature(decisions[0]!, KEY)).toEqual({ ok: true });
    expect(verifySignature(decisions[0]!, 'other')).toEqual({ ok: false, reason: 'bad signature' });
  });
});
