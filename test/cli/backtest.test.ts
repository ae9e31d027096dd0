import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BacktestReport,
  createLiveCounters,
  formatBacktestReport,
  renderLiveSummary,
  runBacktest,
} from '../../src/app/backtest.ts';
import { createCaptureWriter } from '../../src/capture/writer.ts';
import { main } from '../../src/cli/main.ts';
import { InProcBus } from '../../src/core/bus/inproc.ts';
import { channels } from '../../src/core/channels.ts';
import { parseMicro } from '../../src/core/money.ts';
import { SimMarket, type SimStress, stressPreset } from '../../src/venues/sim/market.ts';
import { $, config, fill, sh } from '../risk/fixtures.ts';

let dir: string;
let capture: string;
let first: BacktestReport;

/** The same steps as `pm-arb simulate`: a seeded simulated market written as a capture. */
async function simulate(path: string, minutes: number, seed: number, stress?: SimStress): Promise<void> {
  const sim = new SimMarket({
    seed,
    markets: 8,
    eventRate: 20,
    mispricingRate: 6,
    ...(stress ? { stress } : {}),
  });
  const out = createCaptureWriter({ path, flushIntervalMs: 0 });
  const end = sim.start + minutes * 60_000;
  for (let t = sim.start; ; t = Math.min(end, t + 1000)) {
    for (const f of sim.advance(t)) out.write(f);
    if (t >= end) break;
  }
  await out.close();
}

const cfg = { ...config, logLevel: 'silent' as const };
const m = (s: string): number => parseMicro(s);
const total = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pm-arb-bt-'));
  capture = join(dir, 'sim.jsonl');
  await simulate(capture, 20, 7);
  first = await runBacktest({ capturePath: capture, seed: 3, config: cfg });
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('backtest on a simulated capture', () => {
  it('runs the pipeline and every strategy with opportunities of its kind trades', () => {
    expect(first.events.total).toBeGreaterThan(10_000);
    expect(first.opportunities.total).toBeGreaterThan(0);
    expect(first.requests).toBeGreaterThan(0);
    expect(first.fills.total).toBeGreaterThan(0);
    const traded = first.strategies.filter((s) => s.trades > 0).map((s) => s.strategy);
    const kinds = Object.keys(first.opportunities.byKind);
    const byKind: Record<string, string> = {
      cross_venue: 'cross-venue-arb',
      rebalancing: 'rebalancing-arb',
      combinatorial: 'combinatorial-arb',
      oracle_lag: 'oracle-sniper',
    };
    for (const k of kinds) expect(traded).toContain(byKind[k]);
  });

  it('its report adds up', () => {
    const r = first;
    expect(r.decisions.total).toBe(r.requests);
    expect(total(r.decisions.byVerdict)).toBe(r.decisions.total);
    expect(total(r.decisions.byRule)).toBe(r.decisions.total);
    // every approved or reduced decision gets exactly one execution report
    expect(total(r.executions.byStatus)).toBe(
      (r.decisions.byVerdict.approve ?? 0) + (r.decisions.byVerdict.reduce ?? 0),
    );
    expect(total(r.fills.byKind)).toBe(r.fills.total);
    expect(total(r.events.byType)).toBe(r.events.total);
    expect(total(r.opportunities.byKind)).toBe(r.opportunities.total);
    expect(m(r.pnl.total)).toBe(m(r.pnl.realized) + m(r.pnl.unrealized));
    expect(m(r.pnl.finalEquity)).toBe(m(r.pnl.initialEquity) + m(r.pnl.total));
    const stratPnl = r.strategies.reduce((a, s) => a + m(s.pnl), 0);
    expect(stratPnl).toBe(m(r.pnl.total));
    const trades = r.strategies.reduce((a, s) => a + s.trades, 0);
    expect(trades).toBeLessThanOrEqual(total(r.executions.byStatus));
    expect(Object.keys(r.allocations).sort()).toEqual(r.strategies.map((s) => s.strategy).sort());
    expect(formatBacktestReport(r)).toContain('max drawdown');
  });

  it('lists per opportunity kind and settlement source what was priced and what was skipped, and why', () => {
    const r = first;
    // the simulator's BTC markets settle on Binance BTC/USDT, its ETH markets on Chainlink (README)
    expect(Object.keys(r.pricing).sort()).toEqual(['oracle_lag|binance:BTC/USDT', 'oracle_lag|chainlink']);
    const text = formatBacktestReport(r);
    for (const [k, v] of Object.entries(r.pricing)) {
      expect(v.priced).toBeGreaterThan(0);
      for (const [why, n] of Object.entries(v.skipped)) {
        expect([
          'source_stale',
          'no_feed',
          'basis_unmeasured',
          'strike_pending',
          'window_unobserved',
          'model',
          'fees_unknown',
        ]).toContain(why);
        expect(n).toBeGreaterThan(0);
      }
      expect(text).toContain(`  priced on   ${k}: ${v.priced} priced, skipped `);
    }
  });

  it('keeps both limits, counts bundles, and explains every allocation', () => {
    const r = first;
    expect(r.pnl.maxDrawdownPct).toBeLessThanOrEqual(cfg.risk.drawdownLimitBps / 100);
    expect(r.pnl.maxDailyLossPct).toBeLessThanOrEqual(cfg.risk.dailyLossLimitBps / 100);
    for (const s of r.strategies) {
      // a bundle is won or lost once, when it closes
      expect(s.wins + s.losses).toBeLessThanOrEqual(s.trades - s.openBundles);
      expect(s.reason).toMatch(/^(probation: \d+ of the \d+ closed bundles needed|score -?[\d.]+ = Sharpe)/);
    }
    const text = formatBacktestReport(r);
    expect(text).toMatch(/strategy\s+bundles\s+open\s+wins\s+losses/);
    for (const s of r.strategies) expect(text).toContain(`  ${s.strategy}: ${s.reason}`);
  });

  it('a rerun is identical apart from timing', async () => {
    const again = await runBacktest({ capturePath: capture, seed: 3, config: cfg });
    expect({ ...again, timing: null }).toEqual({ ...first, timing: null });
  }, 120_000);

  it('--seed only labels the run: another seed gives the same results', async () => {
    const other = await runBacktest({ capturePath: capture, seed: 9, config: cfg });
    expect(other.seed).toBe(9);
    expect({ ...other, seed: 3, timing: null }).toEqual({ ...first, timing: null });
  }, 120_000);

  it('pm-arb backtest --json prints one JSON object', async () => {
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((c: string) => {
      chunks.push(String(c));
      return true;
    }) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(['backtest', '--capture', capture, '--seed', '3', '--json']);
    } finally {
      process.stdout.write = write;
    }
    expect(code).toBe(0);
    const out = JSON.parse(chunks.join('')) as BacktestReport;
    expect(out.requests).toBe(first.requests);
    expect(out.timing.eventsPerSec).toBeGreaterThan(0);
  }, 120_000);

  it('pm-arb backtest names a missing capture', async () => {
    const err: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((c: string) => {
      err.push(String(c));
      return true;
    }) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main(['backtest', '--capture', join(dir, 'missing.jsonl')]);
    } finally {
      process.stderr.write = write;
    }
    expect(code).toBe(2);
    expect(err.join('')).toMatch(/no such file.*pm-arb simulate/);
  });

  it('a capture of bad lines gives an empty, well-formed report', async () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, 'not json\n{"ts":1}\n');
    const r = await runBacktest({ capturePath: bad, config: cfg });
    expect(r.events.badLines).toBe(2);
    expect(r.requests).toBe(0);
    expect(r.pnl.total).toBe('0');
  });
});

describe('stress backtest', () => {
  it('an oracle crash, spreads four times as wide and Kalshi going silent: both limits hold', async () => {
    const path = join(dir, 'stress.jsonl');
    await simulate(path, 15, 11, stressPreset(15));
    const r = await runBacktest({ capturePath: path, seed: 1, config: cfg });
    expect(r.fills.total).toBeGreaterThan(0);
    expect(r.pnl.maxDrawdownPct).toBeLessThanOrEqual(cfg.risk.drawdownLimitBps / 100);
    expect(r.pnl.maxDailyLossPct).toBeLessThanOrEqual(cfg.risk.dailyLossLimitBps / 100);
  }, 120_000);
});

describe('live summary', () => {
  it('renders a few lines from running counters', async () => {
    const bus = new InProcBus({ name: 'ls' });
    const { counters, close } = createLiveCounters(bus, { initialCash: $(500) });
    bus.publish(channels.fills, fill({ side: 'buy', price: $(0.4), shares: sh(10), fee: $(0.05) }));
    bus.publish(channels.books('polymarket'), {
      type: 'book',
      venue: 'polymarket',
      marketId: 'm1',
      tokenId: 'm1-yes',
      bids: [[$(0.5), sh(10)]],
      asks: [],
      stale: false,
      receiveTime: 0,
    });
    await bus.idle();
    const lines = renderLiveSummary(counters, { eventsPerSec: 1234 });
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('events 1 (1,234/s)');
    expect(lines[2]).toContain('fills 1');
    expect(lines[2]).toContain('fees $0.05');
    expect(lines[3]).toContain('equity $500.95');
    await close();
    await bus.close();
  });
});
