/**
 * pipeline.tick_to_decision_p99_us: an oracle tick in → the risk decision out, in-process.
 *
 * The real agents on the in-process bus — opportunity scanner, strategy runner, risk guardian — with one
 * Polymarket "BTC above $100,000" market linked to the oracle. Every tick moves spot enough across the strike
 * that the scanner sees an oracle-lag opportunity, the oracle sniper requests a trade and the guardian decides.
 * The clock is simulated and advanced past the strategy's cooldown between ticks; the time measured is wall
 * time from publish(tick) to the decision handler. The bench releases each decision's reservation (an
 * ExecutionReport) outside the measured span so the guardian keeps approving.
 */

import { createOpportunityScannerAgent } from '../src/agents/opportunity-scanner.ts';
import { createRiskGuardian } from '../src/agents/risk-guardian.ts';
import { createStrategyRunnerAgent } from '../src/agents/strategy-runner.ts';
import { createIds, type Kernel, startAgents } from '../src/core/agent.ts';
import { InProcBus } from '../src/core/bus/inproc.ts';
import { channels } from '../src/core/channels.ts';
import { SimClock } from '../src/core/clock.ts';
import { loadConfig } from '../src/core/config.ts';
import { silentLogger } from '../src/core/log.ts';
import type { Market } from '../src/core/messages.ts';
import { type BenchContext, median, nowNs, percentile } from './harness.ts';

const E8 = 100_000_000;

async function once(
  ticks: number,
): Promise<{ p99: number; p50: number; decisions: number; approved: number }> {
  const config = { ...loadConfig({ INITIAL_BANKROLL: '1000000' }), logLevel: 'silent' as const };
  const clock = new SimClock(Date.UTC(2026, 10, 26, 14));
  const bus = new InProcBus({ name: 'pb', maxLen: 0, clock });
  const kernel: Kernel = { config, bus, clock, log: silentLogger(), ids: createIds('pb'), instance: 'pb' };
  const agents = [createOpportunityScannerAgent(), createStrategyRunnerAgent(), createRiskGuardian()];
  const running = await startAgents(kernel, agents, { heartbeatMs: 3_600_000 });
  const market: Market = {
    type: 'market',
    venue: 'polymarket',
    marketId: 'btc-100k',
    question: 'Will BTC be above $100,000 at 15:00 UTC?',
    rules: '',
    outcomes: [
      { tokenId: 'btc-yes', label: 'Yes', side: 'yes' },
      { tokenId: 'btc-no', label: 'No', side: 'no' },
    ],
    tickSize: 10_000,
    minSize: 5_000_000,
    fees: { kind: 'polymarket', rate: 0, exponent: 1, takerOnly: true, rebateRate: 0 },
    endTime: clock.now() + 86_400_000,
    status: 'open',
    version: '1',
    receiveTime: clock.now(),
  };
  bus.publish(channels.markets('polymarket'), market);
  bus.publish(channels.oracleLinks, {
    type: 'oracle_link',
    market: { venue: 'polymarket', marketId: 'btc-100k' },
    symbol: 'BTC/USDT',
    asset: 'BTC',
    kind: 'above',
    strike: 100_000 * E8,
    expiry: clock.now() + 86_400_000,
    settlementSource: 'binance',
    yesToken: 'btc-yes',
    noToken: 'btc-no',
  });
  await bus.idle();
  const lat = new Float64Array(ticks);
  let n = 0;
  let t0 = 0;
  let approved = 0;
  let measuring = false;
  const decided: string[] = [];
  bus.subscribe(channels.riskDecisions, { group: 'bench' }, (m) => {
    // decisions that come of the book updates (before the tick) are not timed
    if (measuring && n < ticks) lat[n++] = (nowNs() - t0) / 1000;
    if (m.body.verdict !== 'reject') approved++;
    decided.push(m.body.requestId);
  });
  for (let i = 0; i < ticks; i++) {
    clock.advanceTo(clock.now() + 2_000);
    const now = clock.now();
    // fresh books both sides at 0.50: whichever side spot favours is cheap against fair
    for (const tok of ['btc-yes', 'btc-no']) {
      bus.publish(channels.books('polymarket'), {
        type: 'book',
        venue: 'polymarket',
        marketId: 'btc-100k',
        tokenId: tok,
        bids: [[480_000, 500_000_000]],
        asks: [[500_000, 500_000_000]],
        stale: false,
        receiveTime: now,
      });
    }
    await bus.idle();
    const spot = (i % 2 === 0 ? 104_000 : 96_000) * E8;
    const before = n;
    measuring = true;
    t0 = nowNs();
    bus.publish(channels.ticks('binance'), {
      type: 'tick',
      source: 'binance',
      symbol: 'BTC/USDT',
      price: spot,
      stale: false,
      receiveTime: now,
    });
    await bus.idle();
    measuring = false;
    if (n === before) lat[n++] = Number.NaN; // no decision came of this tick
    for (const requestId of decided.splice(0)) {
      bus.publish(channels.executions, {
        type: 'execution_report',
        id: `x${requestId}`,
        requestId,
        strategy: 'oracle-sniper',
        status: 'failed',
        fills: 0,
        legRiskCost: 0,
        fees: 0,
        ts: now,
      });
    }
    await bus.idle();
  }
  await running.stop();
  await bus.close();
  const got = Array.from(lat.subarray(0, n)).filter((v) => Number.isFinite(v));
  return { p99: percentile(got, 99), p50: percentile(got, 50), decisions: got.length, approved };
}

export async function run(ctx: BenchContext): Promise<void> {
  const ticks = ctx.quick ? 1_000 : 5_000;
  const runs = ctx.quick ? 3 : 5;
  await once(200); // warm-up
  const res: Awaited<ReturnType<typeof once>>[] = [];
  for (let i = 0; i < runs; i++) res.push(await once(ticks));
  const p99 = median(res.map((r) => r.p99));
  const p50 = median(res.map((r) => r.p50));
  const last = res.at(-1)!;
  ctx.log(
    `tick→decision p50 ${p50.toFixed(1)} µs, p99 ${p99.toFixed(1)} µs; ${last.decisions}/${ticks} ticks decided, ${last.approved} approved`,
  );
  ctx.record(
    'pipeline.tick_to_decision_p99_us',
    p99,
    `median of ${runs} runs × ${ticks} ticks; scanner → strategy runner → risk guardian on the in-process bus; p50 ${p50.toFixed(1)} µs; ${last.decisions}/${ticks} ticks led to a decision`,
  );
}
