/**
 * The figures `npm run bench` must produce and their targets on the 2-core machine (the table of
 * BENCHMARKS.md). bench/run.ts prints each figure with its target and whether it meets it, and lists the
 * names no bench produced.
 */
export interface Target {
  readonly unit: string;
  /** How the target reads on the line, e.g. "≥ 1,000,000". */
  readonly text: string;
  /** Undefined for a baseline (no target). */
  readonly met?: (value: number, all: Readonly<Record<string, number>>) => boolean;
}

const atLeast = (unit: string, n: number): Target => ({
  unit,
  text: `≥ ${n.toLocaleString('en-US')}`,
  met: (v) => v >= n,
});
const atMost = (unit: string, n: number): Target => ({
  unit,
  text: `≤ ${n.toLocaleString('en-US')}`,
  met: (v) => v <= n,
});
const flat = (label: string): Target => ({
  unit: 'ns',
  text: label === '100k' ? '≤ 2 × _1k and ≤ 2,000' : '(≤ _100k)',
  met:
    label === '100k'
      ? (v, all) =>
          v <= 2_000 &&
          all['scanner.ns_per_update_1k'] !== undefined &&
          v <= 2 * all['scanner.ns_per_update_1k']
      : undefined,
});

export const TARGETS: Readonly<Record<string, Target>> = {
  'bus.inproc.throughput_msgs_s': atLeast('msgs/s', 1_000_000),
  'bus.inproc.latency_p99_us': atMost('µs', 20),
  'bus.redis.baseline_xadd_s': { unit: 'ops/s', text: '(baseline)' },
  'bus.redis.throughput_msgs_s': atLeast('msgs/s', 50_000),
  'bus.redis.ratio': atLeast('ratio', 0.25),
  'bus.redis.latency_p99_us': atMost('µs', 1_000),
  'parse.polymarket.price_change_s': atLeast('frames/s', 500_000),
  'parse.kalshi.orderbook_delta_s': atLeast('frames/s', 500_000),
  'replay.frames_s': atLeast('frames/s', 200_000),
  'scanner.ns_per_update_1k': flat('1k'),
  'scanner.ns_per_update_10k': flat('10k'),
  'scanner.ns_per_update_100k': flat('100k'),
  'backtest.events_s': atLeast('events/s', 250_000),
  'pipeline.tick_to_decision_p99_us': atMost('µs', 250),
  'pipeline.redis.tick_to_decision_p99_us': atMost('µs', 2_000),
  'store.pg.rows_s': atLeast('rows/s', 50_000),
  'store.pglite.rows_s': atLeast('rows/s', 25_000),
  'store.pglite_ratio': atLeast('ratio', 0.5),
  'cli.startup_ms': atMost('ms', 300),
  'memory.rss_mb_100k_markets': {
    unit: 'MB',
    text: '≤ 1,024, growth min 2→5 ≤ 5%',
    met: (v, all) => v <= 1_024 && (all['memory.rss_growth_pct_2_to_5_min'] ?? Number.POSITIVE_INFINITY) <= 5,
  },
  'matcher.candidates_ms_100k': atMost('ms', 10_000),
};

/** A rate per second (a `/s` unit): its note must also give the rate per CPU-second (bench/harness.ts). */
export function isThroughput(name: string): boolean {
  return TARGETS[name]?.unit.endsWith('/s') ?? false;
}

/**
 * Figures whose size BENCH_QUICK=1 shrinks below the size their target is defined at (fewer markets, a shorter
 * capture): no verdict in a quick run.
 */
export const QUICK_SIZED: ReadonlySet<string> = new Set([
  'backtest.events_s', // defined on the 30-minute seed-11 capture; quick runs a 2-minute one
  'matcher.candidates_ms_100k',
  'memory.rss_mb_100k_markets',
  'memory.rss_growth_pct_2_to_5_min',
]);

/** Verdict for a line: "met", "MISSED", "quick-size" or "" (a baseline or a figure without a target). */
export function verdict(
  name: string,
  value: number,
  all: Readonly<Record<string, number>>,
  quick = false,
): string {
  const t = TARGETS[name];
  if (!t?.met) return '';
  if (quick && QUICK_SIZED.has(name)) return 'quick-size';
  return t.met(value, all) ? 'met' : 'MISSED';
}
