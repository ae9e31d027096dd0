/** `pm-arb simulate`: writes a capture of the seeded simulated market (frames with simulated ts). */
import type { Command } from 'commander';
import { createCaptureWriter } from '../../capture/writer.ts';
import { SimMarket } from '../../venues/sim/market.ts';
import { UsageError } from '../main.ts';

export function parseIntOpt(name: string, v: string, min = 0): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`${name} must be a whole number ≥ ${min}, got "${v}"`);
  return n;
}

export function parseNumOpt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${name} must be a number ≥ 0, got "${v}"`);
  return n;
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description(
      'write a capture of the seeded simulated market (replay and backtest read it like a recording)',
    )
    .requiredOption('--out <file>', 'capture file to write (.jsonl)')
    .option('--seed <n>', 'PRNG seed; the same seed gives a byte-identical file', '1')
    .option('--minutes <m>', 'simulated minutes', '10')
    .option('--markets <n>', 'crypto threshold markets per venue', '12')
    .option('--event-rate <r>', 'book re-quotes per simulated second', '20')
    .option('--mispricing-rate <r>', 'injected mispricings per simulated minute', '2')
    .option('--start <iso>', 'simulated start time (default 2026-11-26T14:00:00Z)')
    .action(async (o: Record<string, string>) => {
      const start = o.start === undefined ? undefined : Date.parse(o.start);
      if (start !== undefined && !Number.isFinite(start))
        throw new UsageError(`--start must be an ISO time, got "${o.start}"`);
      const minutes = parseNumOpt('--minutes', o.minutes!);
      const sim = new SimMarket({
        seed: parseIntOpt('--seed', o.seed!),
        markets: parseIntOpt('--markets', o.markets!, 1),
        eventRate: parseNumOpt('--event-rate', o.eventRate!),
        mispricingRate: parseNumOpt('--mispricing-rate', o.mispricingRate!),
        ...(start !== undefined ? { start } : {}),
      });
      const out = createCaptureWriter({ path: o.out!, flushIntervalMs: 0 });
      const end = sim.start + Math.round(minutes * 60_000);
      for (let t = sim.start; ; t = Math.min(end, t + 1000)) {
        for (const f of sim.advance(t)) out.write(f);
        if (t >= end) break;
      }
      await out.close();
      const s = sim.stats;
      process.stderr.write(
        `simulate: wrote ${out.lines} frames (${(out.bytes / 1e6).toFixed(1)} MB) to ${o.out}: ${minutes} min, ` +
          `${s.requotes} re-quotes, ${s.trades} trades, ${s.resolutions} resolutions, mispricings ${JSON.stringify(s.mispricings)}\n`,
      );
    });
}
