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
  // a folder per run: the capture read worker is bundled next to the entry, where src/capture/worker-client.ts
  // looks for it (`capture-read-worker.mjs`), and stays until the process exits (a replay starts it)
  const dir = join(
    root,
    'node_modules',
    '.cache',
    'pm-arb-bench',
    `${entry.replace(/[^A-Za-z0-9]+/g, '_')}-${process.pid}`,
  );
  mkdirSync(dir, { recursive: true });
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  await build({
    entryPoints: {
      entry: join(root, entry),
      'capture-read-worker': join(root, 'src/capture/read-worker.ts'),
    },
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  return (await import(pathToFileURL(join(dir, 'entry.mjs')).href)) as T;
}
