/**
 * `npm run bench`: runs every bench/*.bench.ts (or those named on the command line), prints each figure and
 * writes bench/results.json afresh.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchContext, BenchModule } from './harness.ts';
import { TARGETS, verdict } from './targets.ts';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.env.BENCH_QUICK === '1';
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const metrics: Record<string, number> = {};
const notes: Record<string, string> = {};
const ncpu = cpus().length;
/** The load average beside a figure: other processes on the 2 cores (other helpers, CI) slow wall-clock figures. */
function loadNote(): { text: string; busy: boolean } {
  const [l1, l5] = loadavg();
  const busy = l1! > ncpu * 0.5;
  return {
    text: `load avg ${l1!.toFixed(2)}/${l5!.toFixed(2)} (1/5 min)${busy ? ', BUSY machine' : ''}`,
    busy,
  };
}
const ctx: BenchContext = {
  quick,
  record(name, value, note) {
    metrics[name] = Number.isFinite(value) ? Math.round(value * 1000) / 1000 : value;
    const load = loadNote();
    notes[name] = `${note}; ${load.text}`;
    const target = TARGETS[name];
    const v = verdict(name, metrics[name], metrics, quick);
    process.stdout.write(
      `${name.padEnd(42)} ${String(metrics[name]).padStart(13)} ${(target?.unit ?? '').padEnd(8)} ` +
        `${(target?.text ?? '(no target)').padEnd(30)} ${(v || '-').padEnd(6)}${load.busy ? ' busy' : ''}\n` +
        `    ${note}\n`,
    );
  },
  log(message) {
    process.stderr.write(`  ${message}\n`);
  },
};

const started = Date.now();
let failed = 0;
for (const f of files) {
  process.stderr.write(`# ${basename(f)}${quick ? ' (quick)' : ''}\n`);
  const t0 = Date.now();
  try {
    const mod = (await import(pathToFileURL(join(here, f)).href)) as BenchModule;
    await mod.run(ctx);
    process.stderr.write(`  (${basename(f)}: ${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  } catch (err) {
    failed++;
    process.stderr.write(`  FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
}
const cpu = cpus();
const out = {
  at: new Date().toISOString(),
  machine: { cpus: cpu.length, model: cpu[0]?.model ?? 'unknown', node: process.version },
  metrics,
  notes,
};
writeFileSync(join(here, 'results.json'), `${JSON.stringify(out, null, 2)}\n`);
// the summary: every target of BENCHMARKS.md with its verdict, and the names this run did not produce
const lines = Object.entries(TARGETS).map(([name, t]) => {
  const value = metrics[name];
  const v =
    value === undefined ? (only.length ? 'not run' : 'MISSING') : verdict(name, value, metrics, quick) || '-';
  return `  ${name.padEnd(42)} ${String(value ?? '').padStart(13)} ${t.unit.padEnd(8)} ${t.text.padEnd(30)} ${v}`;
});
const missed = lines.filter((l) => /MISSED|MISSING$/.test(l)).length;
process.stdout.write(`\nsummary (${loadNote().text}):\n${lines.join('\n')}\n${missed} missed or missing\n`);
process.stderr.write(
  `wrote bench/results.json (${Object.keys(metrics).length} figures, ${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
);
process.exitCode = failed > 0 ? 1 : 0;
