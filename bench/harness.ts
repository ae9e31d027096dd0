/**
 * Benchmark plumbing: every `bench/*.bench.ts` exports `run(ctx)`; `bench/run.ts` runs them all and writes
 * bench/results.json in the format of shared/BENCHMARKS.md. `ctx.quick` (BENCH_QUICK=1) means fewer runs and
 * smaller sizes, same metric names.
 *
 * Figures from a shared 2-core machine are only as good as what they say about the machine: `createRecorder`
 * (used by bench/run.ts) appends to every figure's note the 1-minute load average seen while it was measured
 * (from the start of its bench or the previous figure to this one), marks a figure measured while the load
 * exceeded the cores as busy, and makes every throughput figure (a `/s` unit in bench/targets.ts) say its rate
 * per CPU-second of the process — the figure a busy machine disturbs least.
 */
import { readFileSync } from 'node:fs';
import { isThroughput, TARGETS, verdict } from './targets.ts';

export interface RecordOptions {
  /**
   * The same work per CPU-second (user + system, all threads, GC included) of the process that did it: given for
   * every throughput figure (or the note says "per CPU-second" itself).
   */
  readonly perCpuS?: number;
  /** Whose CPU `perCpuS` counts when it is not the bench process, e.g. "redis-benchmark". */
  readonly cpuOf?: string;
}

export interface BenchContext {
  readonly quick: boolean;
  /** Records a figure (already a median of several runs) and how it was measured. */
  record(name: string, value: number, note: string, options?: RecordOptions): void;
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

/**
 * CPU seconds (user + system) the main thread alone has used so far (Linux: /proc/self/task/<pid>/stat, 10 ms
 * ticks): what bounds the wall clock when helper threads (a worker, GC) have a core of their own. NaN where there
 * is no /proc.
 */
export function mainThreadCpuNow(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime (fields 14, 15) in USER_HZ
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU seconds (user + system) used so far by this process's children that have exited and been reaped
 * (spawnSync, or a spawned child after its 'exit'): Linux's cutime + cstime from /proc/self/stat. NaN where
 * there is no /proc.
 */
export function childCpuNow(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // fields after "pid (comm)": state is field 3, cutime field 16, cstime field 17 (proc(5)); comm may hold spaces
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[13]) + Number(f[14])) / 100; // USER_HZ: 100 on every Linux Node supports
  } catch {
    return Number.NaN;
  }
}

/** High-resolution now in nanoseconds as a number (fine for intervals below ~100 days). */
export const nowNs = (): number => Number(process.hrtime.bigint());

export interface RecorderOptions {
  readonly quick: boolean;
  /** Cores of the machine: a 1-minute load average above this while a figure ran marks it busy. */
  readonly cpus: number;
  /** os.loadavg (injected by the test). */
  readonly loadavg: () => readonly number[];
  /** Where figure lines go (stdout in bench/run.ts). */
  readonly write: (text: string) => void;
  /** Where progress lines go (stderr in bench/run.ts). */
  readonly log?: (text: string) => void;
}

export interface Recorder {
  readonly ctx: BenchContext;
  readonly metrics: Record<string, number>;
  readonly notes: Record<string, string>;
  /** Names of the figures measured on a busy machine. */
  readonly busy: Set<string>;
  /** A bench module starts: the load window of its first figure opens here. */
  begin(): void;
  /** Takes a load-average sample into the current window (bench/run.ts calls it every second). */
  sample(): void;
  /** The load window so far, as the notes word it, and whether it counts as busy. */
  load(): { text: string; busy: boolean };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export function createRecorder(o: RecorderOptions): Recorder {
  const metrics: Record<string, number> = {};
  const notes: Record<string, string> = {};
  const busy = new Set<string>();
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  let five = 0;
  const sample = (): void => {
    const [l1 = 0, l5 = 0] = o.loadavg();
    lo = Math.min(lo, l1);
    hi = Math.max(hi, l1);
    five = l5;
  };
  const open = (): void => {
    lo = Number.POSITIVE_INFINITY;
    hi = Number.NEGATIVE_INFINITY;
    sample();
  };
  const load = (): { text: string; busy: boolean } => {
    sample();
    const range = hi - lo < 0.005 ? hi.toFixed(2) : `${lo.toFixed(2)}–${hi.toFixed(2)}`;
    const isBusy = hi > o.cpus;
    return {
      text:
        `load avg ${range} (1-min, while measured; 5-min ${five.toFixed(2)}; ${o.cpus} cores)` +
        (isBusy ? ', BUSY machine' : ''),
      busy: isBusy,
    };
  };
  open();
  const ctx: BenchContext = {
    quick: o.quick,
    record(name, value, note, options) {
      const target = TARGETS[name];
      const rounded = Number.isFinite(value) ? Math.round(value * 1000) / 1000 : value;
      metrics[name] = rounded;
      let text = note;
      let noCpu = false;
      if (options?.perCpuS !== undefined) {
        text +=
          `; per CPU-second of ${options.cpuOf ?? 'the process'}: ${fmt(options.perCpuS)} ${target?.unit ?? ''}`.trimEnd();
      } else if (isThroughput(name) && !/per CPU-second/i.test(note)) {
        noCpu = true;
        text += '; per CPU-second: not measured';
      }
      const l = load();
      text += `; ${l.text}`;
      if (o.quick) text += '; BENCH_QUICK (fewer runs, smaller sizes)';
      notes[name] = text;
      if (l.busy) busy.add(name);
      else busy.delete(name);
      const v = verdict(name, rounded, metrics, o.quick);
      const flags = [l.busy ? `BUSY (load ${hi.toFixed(1)})` : '', noCpu ? 'no per-CPU rate' : '']
        .filter(Boolean)
        .join(', ');
      o.write(
        `${name.padEnd(42)} ${String(rounded).padStart(13)} ${(target?.unit ?? '').padEnd(8)} ` +
          `${(target?.text ?? '(no target)').padEnd(30)} ${(v || '-').padEnd(10)} ${flags}`.trimEnd() +
          `\n    ${text}\n`,
      );
      open(); // the next figure's window starts now
    },
    log(message) {
      o.log?.(`  ${message}\n`);
    },
  };
  return { ctx, metrics, notes, busy, begin: open, sample, load };
}

/**
 * The benches a command line names: a bench's whole name means that bench only ("pipeline" is not also
 * "pipeline-redis"); another word means every bench whose name contains it ("parse"). No names: all of them.
 */
export function selectBenches(
  all: readonly string[],
  names: readonly string[],
): { benches: string[]; unknown: string[] } {
  const unknown = names.filter((n) => !all.some((b) => b.includes(n)));
  const benches = all.filter(
    (b) => names.length === 0 || names.some((n) => n === b || (!all.includes(n) && b.includes(n))),
  );
  return { benches, unknown };
}

/** One bench module's run, kept in bench/results.json beside the figures. */
export interface BenchRun {
  at: string;
  quick: boolean;
  wall_s: number;
  /** CPU seconds of the bench process, and of its children (agents, the CLI, redis-benchmark) */
  cpu_s: number;
  child_cpu_s: number;
  figures: string[];
  failed?: string;
}

/** bench/results.json: the format of shared/BENCHMARKS.md, plus `runs` (when each bench last ran, and its cost). */
export interface Results {
  at: string;
  machine: { cpus: number; model: string; node: string };
  metrics: Record<string, number>;
  notes: Record<string, string>;
  runs: Record<string, BenchRun>;
}

/**
 * The results to write: a run of some benches (`npm run bench -- replay`) replaces the figures, notes and run
 * records of the benches it ran and keeps every other figure of `prev`; with no `prev` it is the whole file.
 */
export function mergeResults(prev: Partial<Results> | undefined, next: Results): Results {
  if (!prev) return next;
  // what the benches that ran wrote last time goes too: a bench that now fails leaves no stale figure behind
  const ran = new Set(
    Object.keys(next.runs).flatMap((b) => [...(prev.runs?.[b]?.figures ?? []), ...next.runs[b]!.figures]),
  );
  const keep = <T>(m: Record<string, T> | undefined): Record<string, T> =>
    Object.fromEntries(Object.entries(m ?? {}).filter(([k]) => !ran.has(k)));
  return {
    ...next,
    metrics: { ...keep(prev.metrics), ...next.metrics },
    notes: { ...keep(prev.notes), ...next.notes },
    runs: { ...prev.runs, ...next.runs },
  };
}
