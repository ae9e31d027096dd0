/**
 * backtest.events_s: the whole pipeline on a simulated capture with a SimClock (runBacktest: decoders → matcher
 * → scanner → strategies → risk guardian → paper executor → allocator, plus the report's collector), events per
 * wall second. The capture is written first with the simulator (`pm-arb simulate` steps) and is not timed.
 * A second figure isolates this area: the same capture through the risk guardian, executor and allocator
 * only (no matcher/scanner/strategies), which bounds what the trading side costs per event.
 * The timed code is the esbuild build a user runs (bench/built.ts), not the sources through tsx.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCaptureWriter } from '../src/capture/writer.ts';
import { SimMarket } from '../src/venues/sim/market.ts';
import { importBuilt } from './built.ts';
import { type BenchContext, median } from './harness.ts';

type Timed = typeof import('./backtest-entry.ts');

async function simulate(path: string, minutes: number): Promise<void> {
  const sim = new SimMarket({ seed: 11, markets: 12, eventRate: 20, mispricingRate: 2 });
  const out = createCaptureWriter({ path, flushIntervalMs: 0 });
  const end = sim.start + minutes * 60_000;
  for (let t = sim.start; ; t = Math.min(end, t + 1000)) {
    for (const f of sim.advance(t)) out.write(f);
    if (t >= end) break;
  }
  await out.close();
}

export async function run(ctx: BenchContext): Promise<void> {
  const minutes = ctx.quick ? 2 : 30;
  const runs = ctx.quick ? 2 : 3;
  const dir = mkdtempSync(join(tmpdir(), 'pm-arb-bench-bt-'));
  let untune: (() => void) | undefined;
  const capture = join(dir, 'sim.jsonl');
  try {
    await simulate(capture, minutes);
    // the pipeline as `pm-arb backtest` runs it: the esbuild-compiled code, not the sources through tsx
    const {
      runBacktest,
      loadConfig,
      createRiskGuardian,
      createExecutor,
      createCapitalAllocator,
      tuneV8ForThroughput,
    } = await importBuilt<Timed>('bench/backtest-entry.ts');
    // with the V8 tuning `pm-arb backtest` applies (src/core/v8-tuning.ts), undone for the benches after this one
    untune = tuneV8ForThroughput();
    const config = { ...loadConfig({}), logLevel: 'silent' as const };
    const full: number[] = [];
    const cpu: number[] = [];
    let last: Awaited<ReturnType<Timed['runBacktest']>> | undefined;
    for (let i = 0; i < runs; i++) {
      const c0 = process.cpuUsage();
      last = await runBacktest({ capturePath: capture, seed: 1, config });
      const c = process.cpuUsage(c0);
      full.push(last.timing.eventsPerSec);
      // per CPU-second of the process (all its threads, GC included): steadier on the shared 2-core machine
      cpu.push(last.events.total / ((c.user + c.system) / 1e6));
    }
    const trading: number[] = [];
    for (let i = 0; i < (ctx.quick ? 1 : runs); i++) {
      const r = await runBacktest({
        capturePath: capture,
        seed: 1,
        config,
        agents: () => [createRiskGuardian(), createExecutor(), createCapitalAllocator()],
      });
      trading.push(r.timing.eventsPerSec);
    }
    const r = last!;
    ctx.log(
      `${r.events.total} events (${r.events.frames} frames, ${r.events.rejected} rejected), ${r.opportunities.total} opportunities, ` +
        `${r.requests} requests, ${r.fills.total} fills; runs ${full.map((v) => Math.round(v)).join(', ')} events/s, ` +
        `${cpu.map((v) => Math.round(v)).join(', ')} events per CPU-second`,
    );
    ctx.record(
      'backtest.events_s',
      median(full),
      `median of ${runs} runs (wall clock; per CPU-second of the process: ${Math.round(median(cpu))}); ` +
        `${minutes}-min simulated capture (${r.events.total} events, seed 11), whole pipeline incl. ` +
        `capture parsing; trading side alone (guardian+executor+allocator+collector): ${Math.round(median(trading))} events/s`,
    );
  } finally {
    untune?.();
    rmSync(dir, { recursive: true, force: true });
  }
}
