/**
 * `npm run bench [-- <bench>...]`: runs every bench/*.bench.ts, or only those named, prints each figure with its
 * target and writes bench/results.json (see `--help`).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type BenchModule,
  type BenchRun,
  childCpuNow,
  cpuNow,
  createRecorder,
  mergeResults,
  type Results,
  selectBenches,
} from './harness.ts';
import { QUICK_SIZED, TARGETS, verdict } from './targets.ts';

const here = dirname(fileURLToPath(import.meta.url));
const resultsPath = join(here, 'results.json');
const all = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .sort();

const HELP = `usage: npm run bench [-- [--list] [<bench>...]]

Runs the benchmarks in bench/*.bench.ts and prints each figure with its unit, target and verdict.
  (no names)   every bench; bench/results.json is written afresh
  <bench>...   only those benches (a name, e.g. "replay", or a part of one: "parse" runs both parsers);
               their figures replace the same names in bench/results.json, the other figures stay
  --list       prints the bench names
  BENCH_QUICK=1  fewer runs and smaller sizes, same names (under a minute on a quiet 2-core machine);
               figures whose target size is shrunk get no verdict ("quick-size")
benches: ${all.join(', ')}
`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(HELP);
  process.exit(0);
}
if (args.includes('--list')) {
  process.stdout.write(`${all.join('\n')}\n`);
  process.exit(0);
}
const only = args.filter((a) => !a.startsWith('-'));
const { benches, unknown } = selectBenches(all, only);
if (unknown.length > 0) {
  process.stderr.write(`no bench named ${unknown.join(', ')}\n${HELP}`);
  process.exit(2);
}

const quick = process.env.BENCH_QUICK === '1';
const ncpu = cpus().length;
const rec = createRecorder({
  quick,
  cpus: ncpu,
  loadavg,
  write: (t) => process.stdout.write(t),
  log: (t) => process.stderr.write(t),
});
// the load average is sampled every second while a bench runs (a bench that blocks the loop is sampled at its figures)
const sampler = setInterval(rec.sample, 1_000);
sampler.unref();

const runs: Record<string, BenchRun> = {};
const started = Date.now();
const cpu0 = cpuNow();
const child0 = childCpuNow();
let failed = 0;
for (const b of benches) {
  process.stderr.write(`# ${b}${quick ? ' (quick)' : ''}\n`);
  const t0 = Date.now();
  const c0 = cpuNow();
  const k0 = childCpuNow();
  const before = new Set(Object.keys(rec.metrics));
  rec.begin();
  let error: string | undefined;
  try {
    const mod = (await import(pathToFileURL(join(here, `${b}.bench.ts`)).href)) as BenchModule;
    await mod.run(rec.ctx);
  } catch (err) {
    failed++;
    error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`  FAILED: ${error}\n`);
  }
  const r: BenchRun = {
    at: new Date().toISOString(),
    quick,
    wall_s: (Date.now() - t0) / 1000,
    cpu_s: cpuNow() - c0,
    child_cpu_s: childCpuNow() - k0,
    figures: Object.keys(rec.metrics).filter((n) => !before.has(n)),
  };
  if (error) r.failed = error.split('\n')[0]!;
  runs[b] = r;
  process.stderr.write(
    `  (${b}: ${r.wall_s.toFixed(1)} s wall, CPU ${r.cpu_s.toFixed(1)} s + children ${r.child_cpu_s.toFixed(1)} s; ${rec.load().text})\n`,
  );
}
clearInterval(sampler);

// a filtered run merges into the last results: its figures replace theirs, the others stay
let prev: Results | undefined;
if (only.length > 0 && existsSync(resultsPath)) {
  try {
    prev = JSON.parse(readFileSync(resultsPath, 'utf8')) as Results;
  } catch {
    process.stderr.write('bench/results.json unreadable: written afresh\n');
  }
}
const cpu = cpus();
const out = mergeResults(prev, {
  at: new Date().toISOString(),
  machine: { cpus: cpu.length, model: cpu[0]?.model ?? 'unknown', node: process.version },
  metrics: rec.metrics,
  notes: rec.notes,
  runs,
});
writeFileSync(resultsPath, `${JSON.stringify(out, null, 2)}\n`);

// the summary: every target of BENCHMARKS.md with its verdict, and the names this run did not produce
const lines = Object.entries(TARGETS).map(([name, t]) => {
  const value = rec.metrics[name];
  const v =
    value === undefined
      ? only.length
        ? 'not run'
        : 'MISSING'
      : verdict(name, value, rec.metrics, quick) || '-';
  const busy = rec.busy.has(name) ? ' (busy)' : '';
  return `  ${name.padEnd(42)} ${String(value ?? '').padStart(13)} ${t.unit.padEnd(8)} ${t.text.padEnd(30)} ${v}${busy}`;
});
const missed = lines.filter((l) => /MISSED|MISSING/.test(l)).length;
// a filtered run lists only the targets it measured
const shown = only.length ? lines.filter((l) => !l.endsWith('not run')) : lines;
const notRun = lines.length - shown.length;
const wall = (Date.now() - started) / 1000;
const busyNote = rec.busy.size > 0 ? `; ${rec.busy.size} figures measured on a BUSY machine` : '';
process.stdout.write(
  `\nsummary (${quick ? 'BENCH_QUICK; ' : ''}load avg now ${loadavg()
    .slice(0, 2)
    .map((l) => l.toFixed(2))
    .join('/')} (1/5 min), ${ncpu} cores${busyNote}):\n${shown.join('\n')}\n${missed} missed or missing` +
    (notRun ? `; ${notRun} targets not in this run` : '') +
    (quick ? `; no verdict in a quick run for ${[...QUICK_SIZED].join(', ')}` : '') +
    '\n',
);
process.stderr.write(
  `wrote bench/results.json (${Object.keys(rec.metrics).length} figures${only.length ? `, merged into ${Object.keys(out.metrics).length}` : ''}; ` +
    `${wall.toFixed(1)} s wall, CPU ${(cpuNow() - cpu0).toFixed(1)} s + children ${(childCpuNow() - child0).toFixed(1)} s)\n`,
);
process.exitCode = failed > 0 ? 1 : 0;
