/**
 * The code a user runs, for the throughput benchmarks: `pm-arb` runs the esbuild build in dist/ (scripts/build.mjs),
 * not TypeScript loaded through tsx. tsx's transform keeps function names (a `__name(fn, "…")` call, i.e. an
 * Object.defineProperty, on every closure created), which cost about a tenth of a backtest's CPU time in its hot
 * paths and made `npm run bench` report less than `pm-arb backtest` on the same capture. `importBuilt` bundles an
 * entry module with the options of scripts/build.mjs (dependencies external) into node_modules/.cache and imports
 * it: a second or so, outside the timed part.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Bundles `entry` (a path from the repository root) as scripts/build.mjs does and imports the result. */
export async function importBuilt<T>(entry: string): Promise<T> {
  const dir = join(root, 'node_modules', '.cache', 'pm-arb-bench');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${entry.replace(/[^A-Za-z0-9]+/g, '_')}-${process.pid}.mjs`);
  await build({
    entryPoints: [join(root, entry)],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  try {
    return (await import(pathToFileURL(out).href)) as T;
  } finally {
    rmSync(out, { force: true }); // loaded: the file is not needed any more
  }
}
