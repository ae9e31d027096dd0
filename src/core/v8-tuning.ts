/**
 * V8 tuning for the throughput commands (`pm-arb backtest`, `pm-arb replay`): a few seconds of one hot pipeline
 * through a large code base. There the optimizing compiler (TurboFan, on V8's background threads) cost about
 * as much CPU as the main thread itself (~1 s of 2.5–3 s per 30-minute seed-11 backtest): it inlines whole call
 * chains into giant units (the capture hub's play loop took ~0.3 s to compile) and recompiles them after each
 * deoptimization. On the 2-core machine those threads compete with the main thread and the capture read worker.
 * Without inlining: −0.5 CPU-s per backtest (3.18 → 2.65 s, medians of 7 interleaved runs) and the main thread's
 * own CPU unchanged (1.60 → 1.58 s). A node flag given by the user wins.
 */
import { setFlagsFromString } from 'node:v8';

/**
 * Applies the tuning (V8 flags are process-wide and read at each compile: it holds for what compiles after).
 * Returns the undo, for a process that goes on with other work (the benchmarks run one after another in one process).
 */
export function tuneV8ForThroughput(): () => void {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (given.some((a) => /^--(no-?)?turbo[-_]inlining$/.test(a))) return () => undefined;
  setFlagsFromString('--no-turbo-inlining');
  return () => setFlagsFromString('--turbo-inlining');
}
