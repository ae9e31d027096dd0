/** `pm-arb simulate`: writes a capture of the seeded simulated market (frames with simulated ts). */
import type { Command } from 'commander';
import { createCaptureWriter } from '../../capture/writer.ts';
import { SimMarket, type SimStress, stressPreset } from '../../venues/sim/market.ts';
import { requireWritable } from '../files.ts';
import { UsageError } from '../main.ts';
import { parseIntOpt, parseNumOpt } from '../options.ts';

export { parseIntOpt, parseNumOpt };

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
    .option(
      '--stress',
      'stress preset: the oracle crashes 30% in a minute at a third of the run, spreads ×4 from then, Kalshi drops at two thirds',
    )
    .option('--crash-at <min>', 'crash the oracle (every asset) this many minutes in')
    .option('--crash-pct <pct>', 'how far the oracle falls, % (default 30)')
    .option('--crash-minutes <min>', 'over how long (default 1)')
    .option('--spread-mult <x>', 'books this many times as wide (from --spread-at, default the start)')
    .option('--spread-at <min>', 'when spreads widen, minutes in')
    .option('--drop-venue <venue>', 'polymarket or kalshi: nothing more from it after --drop-at')
    .option('--drop-at <min>', 'when the venue drops, minutes in (default the start)')
    .action(async (o: Record<string, string | boolean>) => {
      const start = o.start === undefined ? undefined : Date.parse(String(o.start));
      if (start !== undefined && !Number.isFinite(start))
        throw new UsageError(`--start must be an ISO time, got "${o.start}"`);
      const minutes = parseNumOpt('--minutes', String(o.minutes));
      const stress = parseStress(o, minutes);
      const sim = new SimMarket({
        seed: parseIntOpt('--seed', String(o.seed)),
        markets: parseIntOpt('--markets', String(o.markets), 1),
        eventRate: parseNumOpt('--event-rate', String(o.eventRate)),
        mispricingRate: parseNumOpt('--mispricing-rate', String(o.mispricingRate)),
        ...(start !== undefined ? { start } : {}),
        ...(stress ? { stress } : {}),
      });
      requireWritable(String(o.out), '--out');
      process.stderr.write(`simulate: ${minutes} min of the seed-${o.seed} market → ${o.out}\n`);
      const out = createCaptureWriter({ path: String(o.out), flushIntervalMs: 0 });
      const end = sim.start + Math.round(minutes * 60_000);
      for (let t = sim.start; ; t = Math.min(end, t + 1000)) {
        for (const f of sim.advance(t)) out.write(f);
        if (t >= end) break;
      }
      await out.close();
      const s = sim.stats;
      process.stderr.write(
        `simulate: wrote ${out.lines} frames (${(out.bytes / 1e6).toFixed(1)} MB) to ${o.out}: ${minutes} min, ` +
          `${s.requotes} re-quotes, ${s.trades} trades, ${s.resolutions} resolutions, mispricings ${JSON.stringify(s.mispricings)}` +
          `${stress ? `, stress ${JSON.stringify(stress)}` : ''}\n`,
      );
    });
}

/** The stress options: the preset (--stress) with any of the finer flags on top; undefined when none is given. */
export function parseStress(
  o: Record<string, string | boolean | undefined>,
  minutes: number,
): SimStress | undefined {
  const min = (name: string, v: string | boolean | undefined): number | undefined =>
    v === undefined ? undefined : Math.round(parseNumOpt(name, String(v)) * 60_000);
  let st: SimStress = o.stress ? stressPreset(minutes) : {};
  const crashAt = min('--crash-at', o.crashAt);
  if (crashAt !== undefined) st = { ...st, crashAtMs: crashAt };
  if (o.crashPct !== undefined) {
    const pct = parseNumOpt('--crash-pct', String(o.crashPct));
    if (pct <= 0 || pct >= 100)
      throw new UsageError(`--crash-pct must lie between 0 and 100, got "${o.crashPct}"`);
    st = { ...st, crashPct: pct };
  }
  const crashMs = min('--crash-minutes', o.crashMinutes);
  if (crashMs !== undefined) {
    if (crashMs <= 0) throw new UsageError(`--crash-minutes must be more than 0, got "${o.crashMinutes}"`);
    st = { ...st, crashMs };
  }
  if (o.spreadMult !== undefined) {
    const x = parseNumOpt('--spread-mult', String(o.spreadMult));
    if (x < 1) throw new UsageError(`--spread-mult must be 1 or more, got "${o.spreadMult}"`);
    st = { ...st, spreadMult: x };
  }
  const spreadAt = min('--spread-at', o.spreadAt);
  if (spreadAt !== undefined) st = { ...st, spreadAtMs: spreadAt };
  if (o.dropVenue !== undefined) {
    if (o.dropVenue !== 'polymarket' && o.dropVenue !== 'kalshi')
      throw new UsageError(`--drop-venue must be polymarket or kalshi, got "${o.dropVenue}"`);
    st = { ...st, dropVenue: o.dropVenue };
  }
  const dropAt = min('--drop-at', o.dropAt);
  if (dropAt !== undefined) st = { ...st, dropAtMs: dropAt };
  return Object.keys(st).length > 0 ? st : undefined;
}
