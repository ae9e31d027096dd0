/**
 * A strategy stops asking once the guardian refuses it at the daily-loss limit (every request is refused then, so
 * each one would only fill the bus and the decision log), and asks again from the next daily-loss window, where the
 * guardian takes requests again. The guardian stays the authority: it is the one that refuses, and its first
 * refusal is what the strategy learns from. The oracle sniper and the risk guardian run on one in-process bus.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRiskGuardian } from '../../src/agents/risk-guardian.ts';
import { createStrategyRunnerAgent } from '../../src/agents/strategy-runner.ts';
import { createIds } from '../../src/core/agent.ts';
import { channels } from '../../src/core/channels.ts';
import type { Opportunity, RiskDecision, TradeRequest } from '../../src/core/messages.ts';
import { Portfolio } from '../../src/risk/portfolio.ts';
import { dailyWindowStart } from '../../src/risk/rules.ts';
import { oracleSniper } from '../../src/strategies/plugins.ts';
import { StrategyRunner, spentUntil } from '../../src/strategies/runner.ts';
import { $, book, config, type Harness, harness, market, sh } from '../risk/fixtures.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const T0 = 1_700_000_000_000; // 2023-11-14 22:13:20 UTC: the next daily-loss window opens at 00:00
const DAY = 86_400_000;

/** A sniper opportunity: buy 10 m1-yes at 0.40 (the book's ask), worth 0.55 by the oracle. */
function opp(id: string, now: number): Opportunity {
  return {
    type: 'opportunity',
    id,
    kind: 'oracle_lag',
    legs: [
      {
        venue: 'polymarket',
        marketId: 'm1',
        tokenId: 'm1-yes',
        side: 'buy',
        limitPrice: $(0.4),
        shares: sh(10),
      },
    ],
    edge: $(1.5),
    edgeBps: 3_750,
    cost: $(4),
    fees: 0,
    shares: sh(10),
    signal: 0.15,
    detectedAt: now,
    expiresAt: now + 5_000,
    data: [],
  };
}

describe('the daily-loss limit and the strategies', () => {
  it('the oracle sniper stops requesting at the daily-loss limit and resumes at the next daily window', async () => {
    // the account lost $100 today from a $600 start: past the 10% daily limit ($60), within the 20% drawdown
    const state = new Portfolio({ risk: config.risk }).snapshot();
    const initial = {
      ...state,
      dailyWindowStart: dailyWindowStart(T0, config.risk.dailyLossResetHourUtc),
      dailyStartEquity: $(600),
      highWaterMark: $(500),
    };
    h = await harness(
      [
        createRiskGuardian({ initial }),
        createStrategyRunnerAgent({ strategies: [oracleSniper()], probationBundles: 1 }),
      ],
      config,
      T0,
    );
    const requests = h.collect(channels.tradeRequests) as TradeRequest[];
    const decisions = h.collect(channels.riskDecisions) as RiskDecision[];
    const quote = async () => {
      await h!.publish(channels.markets('polymarket'), market('polymarket', 'm1'));
      await h!.publish(
        channels.books('polymarket'),
        book('polymarket', 'm1', 'm1-yes', [[0.38, 100]], [[0.4, 100]], h!.clock.now()),
      );
    };
    await quote();
    // one opportunity every 3 s (past the sniper's 2 s cooldown) for a minute
    for (let i = 0; i < 20; i++) {
      h.clock.advanceTo(T0 + i * 3_000);
      await h.publish(channels.opportunities, opp(`o${i}`, h.clock.now()));
    }
    // the first request is refused at the daily limit; the sniper asks nothing more that day
    expect(decisions.map((d) => [d.verdict, d.rule])).toEqual([['reject', 'daily_loss']]);
    expect(requests).toHaveLength(1);

    // the next daily window: the guardian starts the day from the equity now, and the sniper asks again
    const next = dailyWindowStart(T0, config.risk.dailyLossResetHourUtc) + DAY;
    h.clock.advanceTo(next + 1_000);
    await quote();
    await h.publish(channels.opportunities, opp('o-next', h.clock.now()));
    expect(requests).toHaveLength(2);
    expect(decisions.at(-1)).toMatchObject({ requestId: requests[1]!.id, verdict: 'approve' });
  });

  it('the drawdown stop pauses a strategy until RESUME or an approval of one of its requests', () => {
    let now = T0;
    const r = new StrategyRunner({
      strategies: [oracleSniper()],
      defaultAllocation: $(100),
      now: () => now,
      ids: createIds('x'),
    });
    const reject = (req: TradeRequest, rule: string): RiskDecision => ({
      type: 'risk_decision',
      id: `d-${req.id}`,
      requestId: req.id,
      strategy: req.strategy,
      verdict: 'reject',
      rule,
      reason: '',
      legs: [],
      tif: 'IOC',
      decidedAt: now,
    });
    const ask = (i: number): readonly TradeRequest[] => {
      now = T0 + i * 3_000;
      return r.onOpportunity(opp(`o${i}`, now), false);
    };
    // a budget refusal is about that request: the next opportunity is asked for
    r.onRiskDecision(reject(ask(0)[0]!, 'drawdown_budget'));
    const second = ask(1);
    expect(second).toHaveLength(1);
    // the drawdown stop refuses everything until an operator RESUME: nothing is asked, a day later either
    r.onRiskDecision(reject(second[0]!, 'drawdown_stop'));
    expect(ask(2)).toEqual([]);
    expect(ask(30_000)).toEqual([]);
    expect(r.stats.skippedStop).toBe(2);
    r.budgetMayHaveRoom(); // the agent calls it on RESUME
    const third = ask(30_001);
    expect(third).toHaveLength(1);
    // an approval of one of its requests in flight also says no stop is in force (the marks came back)
    const fourth = ask(30_002);
    r.onRiskDecision(reject(fourth[0]!, 'drawdown_stop'));
    expect(ask(30_003)).toEqual([]);
    r.onRiskDecision({ ...reject(third[0]!, 'ok'), verdict: 'approve' });
    expect(ask(30_004)).toHaveLength(1);
  });

  it('only the stops that refuse every request pause a strategy', () => {
    const d = (rule: string): RiskDecision => ({
      type: 'risk_decision',
      id: 'd',
      requestId: 'r',
      strategy: 's',
      verdict: 'reject',
      rule,
      reason: '',
      legs: [],
      tif: 'IOC',
      decidedAt: T0,
    });
    expect(spentUntil(d('daily_loss'), 0)).toBe(dailyWindowStart(T0, 0) + DAY);
    expect(spentUntil(d('daily_loss'), 6)).toBe(dailyWindowStart(T0, 6) + DAY);
    expect(spentUntil(d('drawdown_stop'), 0)).toBe(Number.POSITIVE_INFINITY);
    // about this request (its size, its market, the room the budget leaves it): another one may pass
    for (const rule of ['daily_loss_budget', 'drawdown_budget', 'strategy_loss_budget', 'position_limit'])
      expect(spentUntil(d(rule), 0)).toBeUndefined();
  });
});
