/**
 * DRAWDOWN_ACTION=flatten end to end on the in-process bus: when the drawdown stop fires, the risk guardian
 * records why (an alert, and the rule and reason on its decisions) and publishes sells that the paper executor
 * carries out, closing the unhedged position; with the default (block) it only refuses new risk.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createExecutor } from '../../src/agents/executor.ts';
import { createRiskGuardian } from '../../src/agents/risk-guardian.ts';
import { channels } from '../../src/core/channels.ts';
import type { Config } from '../../src/core/config.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import type { RiskState } from '../../src/risk/portfolio.ts';
import { $, book, config, fill, type Harness, harness, leg, market, request, sh } from '../risk/fixtures.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** After a run: 100 shares of m1 YES bought at 0.50, marked at 0.50; the high-water mark was $600. */
function restored(): {
  risk: RiskState;
  inventory: { strategy: string; venue: 'polymarket'; marketId: string; tokenId: string; shares: number }[];
} {
  const l = new Ledger({ initialCash: $(500) });
  l.applyFill(fill({ side: 'buy', price: $(0.5), shares: sh(100) }));
  l.mark('polymarket', 'm1-yes', $(0.5));
  return {
    risk: {
      version: 1,
      ledger: l.snapshot(),
      highWaterMark: $(600),
      drawdownHalted: false,
      dailyWindowStart: 0,
      dailyStartEquity: $(500),
      killSwitch: false,
      allocations: null,
      reservations: [],
    },
    inventory: [{ strategy: 's1', venue: 'polymarket', marketId: 'm1', tokenId: 'm1-yes', shares: sh(100) }],
  };
}

async function setup(action: 'block' | 'flatten') {
  const cfg: Config = { ...config, paperLatencyMs: 0, risk: { ...config.risk, drawdownAction: action } };
  const st = restored();
  const guardian = createRiskGuardian({ initial: st.risk });
  const executor = createExecutor({ initial: { version: 1, inventory: st.inventory, requests: [] } });
  h = await harness([guardian, executor], cfg);
  const decisions = h.collect(channels.riskDecisions);
  const fills = h.collect(channels.fills);
  const alerts = h.collect(channels.alerts);
  await h.publish(channels.markets('polymarket'), market('polymarket', 'm1'));
  // a day later than the restored window: the daily loss starts afresh
  await h.publish(
    channels.books('polymarket'),
    book('polymarket', 'm1', 'm1-yes', [[0.5, 500]], [[0.52, 500]]),
  );
  return { h, guardian, decisions, fills, alerts };
}

describe('drawdown stop: block or flatten', () => {
  it('flatten: the stop sells the unhedged position into the bids, and says why', async () => {
    const { h, guardian, decisions, fills, alerts } = await setup('flatten');
    expect(guardian.portfolio!.drawdownHalted).toBe(false);
    // the bid falls to 0.30: equity $480, 20% below $600 — the stop
    await h.publish(
      channels.books('polymarket'),
      book('polymarket', 'm1', 'm1-yes', [[0.3, 500]], [[0.32, 500]]),
    );
    await h.settle();
    expect(guardian.portfolio!.drawdownHalted).toBe(true);
    expect(alerts).toEqual([
      expect.objectContaining({
        level: 'critical',
        title: 'drawdown stop',
        body: expect.stringContaining('DRAWDOWN_ACTION=flatten'),
      }),
    ]);
    expect(decisions).toEqual([
      expect.objectContaining({
        verdict: 'approve',
        rule: 'drawdown_stop_flatten',
        reason: expect.stringMatching(/^drawdown \$120 from the high-water mark \$600 reached the 20% stop/),
        legs: [expect.objectContaining({ side: 'sell', tokenId: 'm1-yes', shares: sh(100) })],
      }),
    ]);
    expect(fills).toEqual([
      expect.objectContaining({ side: 'sell', price: $(0.3), shares: sh(100), kind: 'trade' }),
    ]);
    expect(guardian.portfolio!.ledger.positions()).toEqual([]);
    // nothing left to sell: no more decisions on later books; new risk is still refused until RESUME
    await h.publish(
      channels.books('polymarket'),
      book('polymarket', 'm1', 'm1-yes', [[0.3, 500]], [[0.32, 500]]),
    );
    await h.publish(channels.tradeRequests, request([leg('polymarket', 'm1', 'buy', 0.32, 10)]));
    expect(decisions.slice(1)).toEqual([
      expect.objectContaining({ verdict: 'reject', rule: 'drawdown_stop' }),
    ]);
  });

  it('block (the default): the stop refuses new risk and keeps the position', async () => {
    const { h, guardian, decisions, fills, alerts } = await setup('block');
    await h.publish(
      channels.books('polymarket'),
      book('polymarket', 'm1', 'm1-yes', [[0.3, 500]], [[0.32, 500]]),
    );
    expect(guardian.portfolio!.drawdownHalted).toBe(true);
    expect(alerts).toEqual([
      expect.objectContaining({ body: expect.stringContaining('DRAWDOWN_ACTION=block') }),
    ]);
    expect(decisions).toEqual([]);
    expect(fills).toEqual([]);
    expect(guardian.portfolio!.ledger.holding('s1', 'polymarket', 'm1-yes')).toBe(sh(100));
  });
});
