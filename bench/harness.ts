/**
 * Benchmark plumbing: every `bench/*.bench.ts` exports `run(ctx)`; `bench/run.ts` runs them all and writes
 * bench/results.json in the format of shared/BENCHMARKS.md. `ctx.quick` (BENCH_QUICK=1) means fewer runs and
 * smaller sizes, same metric names.
 */
export interface BenchContext {
  readonly quick: boolean;
  /** Records a figure (already a median of several runs) and how it was measured. */
  record(name: string, value: number, note: string): void;
  log(message: string): void;
}

export type BenchModule = { run(ctx: BenchContext): Promise<void> };

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(values: readonly number[] | Float64Array, p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = Float64Array.from(values).sort();
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

/** Runs `fn` `times` times and returns every result (the caller takes the median). */
export async function repeat(times: number, fn: (i: number) => Promise<number> | number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < times; i++) out.push(await fn(i));
  return out;
}

/** CPU seconds (user + system) this process has used so far: the denominator of a rate per CPU-second. */
export function cpuNow(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
}

/** High-resolution now in nanoseconds as a number (fine for intervals below ~100 days). */
export const nowNs = (): number => Number(process.hrtime.bigint());
