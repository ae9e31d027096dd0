/**
 * V8 tuning for the throughput commands (`pm-arb backtest`, `pm-arb replay`): a few seconds of one hot pipeline
 * through a large code base. There the optimizing compiler (TurboFan, on V8's background threads) cost ~1 CPU-s
 * of a 3 CPU-s 30-minute seed-11 backtest (the background threads' CPU once put down to GC: with
 * --single-threaded-gc they still used 0.8–1.0 s). It inlined whole call chains into giant units (the capture hub's
 * play loop took ~0.3 s to compile) and recompiled them after each deoptimization; on the 2-core machine those
 * threads compete with the main thread and the capture read worker. Without inlining: 3.05 → 2.58 CPU-s per
 * backtest, main thread 1.54 → 1.52 s (medians of 9 interleaved runs, load ~12). A node flag given by the user wins.
 */
import { setFlagsFromString } from 'node:v8';

/** True when node was given a choice about inlining (`--turbo-inlining`, `--no-turbo-inlining`): the user's wins. */
export function inliningChosen(args: readonly string[]): boolean {
  return args.some((a) => /^--(no-?)?turbo[-_]inlining$/.test(a));
}

/**
 * Applies the tuning (V8 flags are process-wide and read at each compile: it holds for what compiles after).
 * Returns the undo, for a process that goes on with other work (the benchmarks run one after another in one process).
 */
export function tuneV8ForThroughput(): () => void {
  if (inliningChosen([...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]))
    return () => undefined;
  setFlagsFromString('--no-turbo-inlining');
  return () => setFlagsFromString('--turbo-inlining');
}
