/**
 * `npm run bench`: runs every bench/*.bench.ts (or those named on the command line), prints each figure and
 * writes bench/results.json afresh.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchContext, BenchModule } from './harness.ts';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.env.BENCH_QUICK === '1';
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const metrics: Record<string, number> = {};
const notes: Record<string, string> = {};
const ctx: BenchContext = {
  quick,
  record(name, value, note) {
    metrics[name] = Number.isFinite(value) ? Math.round(value * 1000) / 1000 : value;
    notes[name] = note;
    process.stdout.write(`${name.padEnd(44)} ${String(metrics[name]).padStart(14)}   ${note}\n`);
  },
  log(message) {
    process.stderr.write(`  ${message}\n`);
  },
};

const started = Date.now();
let failed = 0;
for (const f of files) {
  process.stderr.write(`# ${basename(f)}${quick ? ' (quick)' : ''}\n`);
  try {
    const mod = (await import(pathToFileURL(join(here, f)).href)) as BenchModule;
    await mod.run(ctx);
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
process.stderr.write(
  `wrote bench/results.json (${Object.keys(metrics).length} figures, ${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
);
process.exitCode = failed > 0 ? 1 : 0;
