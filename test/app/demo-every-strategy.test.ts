// The demo's promise: in `npm start`'s first minute every strategy trades. The same assembly `run` starts, on a
// simulated clock: a capture of the seeded market with the showcase `run` turns on (one mispricing of each kind
// from 8 s on, 7 s apart), through runBacktest (venue watchers, matcher, scanner, strategies, guardian, paper
// executor, allocator), with the default risk settings.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../src/app/backtest.ts';
import { createCaptureWriter } from '../../src/capture/writer.ts';
import { loadConfig } from '../../src/core/config.ts';
import { simulateFrames } from '../../src/venues/sim/feed.ts';
import { DEFAULT_SIM_START, SimMarket } from '../../src/venues/sim/market.ts';

const dir = mkdtempSync(join(tmpdir(), 'pm-arb-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the demo (run --feeds sim) in its first minute', () => {
  it('every strategy (sniper, cross-venue, rebalancing, combinatorial) gets a fill within 60 s', async () => {
    const path = join(dir, 'demo.jsonl');
    const out = createCaptureWriter({ path, flushIntervalMs: 0 });
    for (const f of simulateFrames({ seed: 1, minutes: 1, showcaseFrom: DEFAULT_SIM_START + 8_000 }))
      out.write(f);
    await out.close();
    const report = await runBacktest({
      capturePath: path,
      config: { ...loadConfig({}), logLevel: 'silent' },
    });
    const traded = report.strategies.filter((s) => s.trades > 0).map((s) => s.strategy);
    expect(traded.sort()).toEqual([
      'combinatorial-arb',
      'cross-venue-arb',
      'oracle-sniper',
      'rebalancing-arb',
    ]);
    // no request was turned away by the book's drawdown budget: each strategy's allocation bounds its own swing
    expect(report.decisions.byRule.drawdown_budget ?? 0).toBe(0);
  }, 60_000);

  // negRisk: the simulator injects mispricings into its one negRisk group, but that group is augmented (an "Other"
  // placeholder, as on Polymarket), so a YES sum under 1 there is no arbitrage and the scanner rightly skips it
  it('a 5-minute seeded simulation (pm-arb simulate defaults) holds every opportunity kind and injects negRisk mispricings', async () => {
    const path = join(dir, 'five.jsonl');
    const sim = new SimMarket({ seed: 7 });
    const out = createCaptureWriter({ path, flushIntervalMs: 0 });
    const end = sim.start + 5 * 60_000;
    for (let t = sim.start; ; t = Math.min(end, t + 1000)) {
      for (const f of sim.advance(t)) out.write(f);
      if (t >= end) break;
    }
    await out.close();
    expect(sim.stats.mispricings.negrisk ?? 0).toBeGreaterThan(0);
    const report = await runBacktest({
      capturePath: path,
      config: { ...loadConfig({}), logLevel: 'silent' },
    });
    for (const kind of ['combinatorial', 'cross_venue', 'oracle_lag', 'rebalancing']) {
      expect(report.opportunities.byKind[kind] ?? 0).toBeGreaterThan(0);
    }
  }, 60_000);
});
