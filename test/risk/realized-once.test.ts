/**
 * A realized loss counts once in the guardian's daily loss and drawdown (exact money): partial fills and a leg-risk
 * unwind go into its ledger as fills, and nothing else (the ExecutionReport's legRiskCost, the reservation released
 * by the report, a redelivered fill or report) moves its equity again. The guardian and the executor run on one
 * in-process bus; the expected equity is computed here from the fills themselves.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createExecutor } from '../../src/agents/executor.ts';
import { createRiskGuardian, type RiskGuardian } from '../../src/agents/risk-guardian.ts';
import { channels } from '../../src/core/channels.ts';
import type { ExecutionReport, Fill, RiskDecision } from '../../src/core/messages.ts';
import { notional } from '../../src/core/money.ts';
import { $, book, type Harness, harness, leg, market, request, sh, wideLimits } from './fixtures.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** Cash a fill moves: a buy pays notional + fee, a sell gets notional − fee (the ledger's rounding). */
const cashOf = (f: Fill): number =>
  f.side === 'buy'
    ? -(notional(f.price, f.shares, 'ceil') + f.fee)
    : notional(f.price, f.shares, 'floor') - f.fee;

describe('realized loss counts once in the daily loss and the drawdown', () => {
  it('two partial fills on one leg, the other leg short, the excess unwound at a loss', async () => {
    const guardian = createRiskGuardian({});
    h = await harness([guardian, createExecutor({ latencyMs: 0 })], wideLimits);
    const fills = h.collect(channels.fills);
    const reports = h.collect(channels.executions);
    const decisions = h.collect(channels.riskDecisions) as RiskDecision[];
    // Kalshi: fees rounded up to the cent per fill, so the money is not round
    for (const id of ['k1', 'k2']) await h.publish(channels.markets('kalshi'), market('kalshi', id));
    // leg 0 fills 10 in two pieces (0.41 then 0.45); leg 1 finds only 4 (of 10); leg 0's excess of 6 is sold back
    // into the 0.30 bid
    await h.publish(
      channels.books('kalshi'),
      book(
        'kalshi',
        'k1',
        'k1-yes',
        [[0.3, 100]],
        [
          [0.41, 3],
          [0.45, 7],
        ],
      ),
    );
    await h.publish(channels.books('kalshi'), book('kalshi', 'k2', 'k2-yes', [[0.2, 100]], [[0.48, 4]]));
    const pf = (guardian as RiskGuardian).portfolio!;
    const start = pf.equity;
    expect(start).toBe(wideLimits.risk.initialBankroll);
    expect(pf.dailyStartEquity).toBe(start);
    expect(pf.highWaterMark).toBe(start);

    await h.publish(
      channels.tradeRequests,
      request([leg('kalshi', 'k1', 'buy', 0.5, 10), leg('kalshi', 'k2', 'buy', 0.5, 10)], {
        expectedEdge: $(0.5),
      }),
    );
    await h.settle();
    expect(decisions).toEqual([expect.objectContaining({ verdict: 'approve' })]);
    expect(fills.map((f) => [f.tokenId, f.side, f.price, f.shares, f.kind])).toEqual([
      ['k1-yes', 'buy', $(0.41), sh(3), 'trade'],
      ['k1-yes', 'buy', $(0.45), sh(7), 'trade'],
      ['k2-yes', 'buy', $(0.48), sh(4), 'trade'],
      ['k1-yes', 'sell', $(0.3), sh(6), 'unwind'],
    ]);
    expect(reports).toEqual([expect.objectContaining({ status: 'unwound' })]);
    const report = reports[0] as ExecutionReport;

    // what the account holds now: the cash the four fills moved, and 4 + 4 shares marked at the best bids
    const cash = wideLimits.risk.initialBankroll + fills.reduce((s, f) => s + cashOf(f), 0);
    const marked = notional($(0.3), sh(4), 'floor') + notional($(0.2), sh(4), 'floor');
    const loss = start - (cash + marked);
    expect(loss).toBeGreaterThan(0);
    expect(pf.equity).toBe(cash + marked);
    expect(pf.dailyStartEquity - pf.equity).toBe(loss);
    expect(pf.highWaterMark - pf.equity).toBe(loss);
    // the unwind's part of it is the report's legRiskCost: inside that loss, not added to it
    const bought = fills.filter((f) => f.tokenId === 'k1-yes' && f.side === 'buy');
    const legCash = bought.reduce((s, f) => s - cashOf(f), 0);
    const unwind = fills.find((f) => f.kind === 'unwind')!;
    expect(report.legRiskCost).toBe(Math.round((legCash * 6) / 10) - cashOf(unwind));
    expect(report.legRiskCost).toBeLessThan(loss);
    // the report released the reservation: nothing of the request is held twice (as pending and as position)
    expect(pf.reservedRequests()).toBe(0);
    expect(pf.openOrders).toBe(0);

    // at-least-once delivery: the same fills and report again change nothing
    for (const f of fills.slice()) await h.publish(channels.fills, f);
    await h.publish(channels.executions, report);
    expect(pf.equity).toBe(cash + marked);
    expect(pf.dailyStartEquity - pf.equity).toBe(loss);
    expect(pf.highWaterMark - pf.equity).toBe(loss);
    expect(pf.ledger.cash()).toBe(cash);
  });
});
