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
import { DEFAULT_SIM_START } from '../../src/venues/sim/market.ts';
import { simulateFrames } from '../../src/venues/sim/feed.ts';

const dir = mkdtempSync(join(tmpdir(), 'pm-arb-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the demo (run --feeds sim) in its first minute', () => {
  it('every strategy gets a fill within 60 s', async () => {
    const path = join(dir, 'demo.jsonl');
    const out = createCaptureWriter({ path, flushIntervalMs: 0 });
    for (const f of simulateFrames({ seed: 1, minutes: 1, showcaseFrom: DEFAULT_SIM_START + 8_000 })) out.write(f);
    await out.close();
    const report = await runBacktest({ capturePath: path, config: { ...loadConfig({}), logLevel: 'silent' } });
    const traded = Object.fromEntries(report.strategies.map((s) => [s.strategy, s.trades]));
    expect(traded).toEqual({
      'combinatorial-arb': expect.any(Number),
      'cross-venue-arb': expect.any(Number),
      'oracle-sniper': expect.any(Number),
      'rebalancing-arb': expect.any(Number),
    });
    for (const [name, bundles] of Object.entries(traded)) expect({ name, bundles }).toEqual({ name, bundles: expect.toSatisfy((n: number) => n > 0) });
  }, 60_000);
});
