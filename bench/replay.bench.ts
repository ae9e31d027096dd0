/**
 * replay.frames_s: raw capture frames per second through the real decoders into the in-process bus, on a
 * simulated capture (`pm-arb simulate` output) read from disk line by line. One subscriber per channel stands in
 * for the downstream agents; the engine awaits bus.idle() as it does in a backtest. Median of several runs.
 * The timed code is the esbuild build a user runs (bench/built.ts), not the sources through tsx, with the capture
 * read worker as `pm-arb replay` uses it (src/capture/worker-client.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCaptureWriter } from '../src/capture/writer.ts';
import type { RawFrame } from '../src/feeds/types.ts';
import { simulateFrames } from '../src/venues/sim/feed.ts';
import { importBuilt } from './built.ts';
import { type BenchContext, mainThreadCpuNow, median, repeat } from './harness.ts';

export async function run(ctx: BenchContext): Promise<void> {
  const minutes = ctx.quick ? 1 : 10;
  const runs = ctx.quick ? 3 : 5;
  const dir = mkdtempSync(join(tmpdir(), 'pmarb-bench-replay-'));
  const path = join(dir, 'sim.jsonl');
  const w = createCaptureWriter({ path, flushIntervalMs: 0 });
  for (const f of simulateFrames({ seed: 1, minutes, eventRate: 200 })) w.write(f);
  await w.close();
  ctx.log(`capture: ${w.lines} frames, ${(w.bytes / 1e6).toFixed(1)} MB (${minutes} simulated minutes)`);
  // the code `pm-arb replay` runs: the esbuild build, not the sources through tsx (bench/built.ts)
  const {
    readCaptureBatches,
    replay,
    createInProcBus,
    channels,
    SimClock,
    createDecoders,
    tuneV8ForThroughput,
  } = await importBuilt<typeof import('./replay-entry.ts')>('bench/replay-entry.ts');
  // with the V8 tuning `pm-arb replay` applies (src/core/v8-tuning.ts), undone for the benches after this one
  const untune = tuneV8ForThroughput();

  let events = 0;
  const downstream = () => {
    const bus = createInProcBus({ name: 'bench', maxLen: 0 });
    let delivered = 0;
    const count = (): void => {
      delivered++;
    };
    for (const v of ['polymarket', 'kalshi'] as const) {
      bus.subscribe(channels.books(v), { group: 'down' }, count);
      bus.subscribe(channels.markets(v), { group: 'down' }, count);
      bus.subscribe(channels.trades(v), { group: 'down' }, count);
    }
    bus.subscribe(channels.resolutions, { group: 'down' }, count);
    for (const s of ['binance', 'chainlink'] as const)
      bus.subscribe(channels.ticks(s), { group: 'down' }, count);
    return { bus, delivered: () => delivered };
  };
  const wall: number[] = [];
  const mainRates: number[] = [];
  const rates = await repeat(runs, async () => {
    const { bus, delivered } = downstream();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const m0 = mainThreadCpuNow();
    const r = await replay({
      frames: readCaptureBatches(path, { worker: true }),
      clock: new SimClock(),
      decoders: createDecoders(),
      publish: bus,
    });
    const cpu = process.cpuUsage(c0);
    const secs = (performance.now() - t0) / 1000;
    mainRates.push(r.frames / (mainThreadCpuNow() - m0));
    await bus.close();
    events = delivered();
    wall.push(r.frames / secs);
    // per CPU-second of this process: a second opinion when the 2-core machine is shared with other work
    return r.frames / ((cpu.user + cpu.system) / 1e6);
  });
  // the figure is wall-clock frames/s; the CPU-time rate goes in the note (GC threads can make it the lower one)
  // the same without the file: frames already parsed in memory (decoders + bus only)
  const frames: RawFrame[] = [];
  for await (const batch of readCaptureBatches(path)) for (const f of batch) frames.push(f);
  rmSync(dir, { recursive: true, force: true });
  untune();
  const memRates = await repeat(runs, async () => {
    const { bus } = downstream();
    const c0 = process.cpuUsage();
    const r = await replay({ frames, clock: new SimClock(), decoders: createDecoders(), publish: bus });
    const cpu = process.cpuUsage(c0);
    await bus.close();
    return r.frames / ((cpu.user + cpu.system) / 1e6);
  });
  ctx.record(
    'replay.frames_s_parsed',
    median(memRates),
    `median of ${runs} runs, frames per CPU-second: the same frames already parsed in memory → decoders → in-process bus`,
  );
  ctx.record(
    'replay.frames_s',
    median(wall),
    `median of ${runs} runs, wall clock (per CPU-second of the process: ${Math.round(median(rates))}/s, of its ` +
      `main thread: ${Math.round(median(mainRates))}/s; the capture read worker takes the rest): ` +
      `${w.lines} simulated frames read from disk → decoders → in-process bus (${events} events delivered per run)`,
  );
}
