#!/usr/bin/env node
/**
 * `npm run build` (also run by `npm ci` through `prepare`): compiles src/ ahead of time into dist/ so that
 * bin/pm-arb.js starts without loading a TypeScript compiler. One esbuild bundle of our own code (dependencies
 * stay in node_modules), split at every dynamic import() so that a command loads only what it uses. Types are
 * not checked here (`npm run typecheck` does that). bin/pm-arb.js runs dist/ only while it is newer than every
 * file of src/; otherwise it runs the sources through tsx.
 */
import { cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const out = join(root, 'dist');
if (!existsSync(src)) process.exit(0); // an install without the sources (e.g. a dependency-only layer)

const { build } = await import('esbuild');
const started = Date.now();
rmSync(out, { recursive: true, force: true });
await build({
  // the capture read worker is its own entry: src/capture/worker-client.ts starts it from next to its chunk
  entryPoints: { main: join(src, 'cli/main.ts'), 'capture-read-worker': join(src, 'capture/read-worker.ts') },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
// the root help's rows, so that `pm-arb --help` loads no command module (src/cli/main.ts: registerSummaries)
const { commandSummaries } = await import(pathToFileURL(join(out, 'main.js')).href);
writeFileSync(join(out, 'commands.json'), `${JSON.stringify(await commandSummaries(), null, 1)}\n`);
// the dashboard reads its page assets next to the module that serves them (import.meta.dirname = dist/)
cpSync(join(src, 'dashboard/public'), join(out, 'public'), { recursive: true });
writeFileSync(join(out, 'BUILT'), `${new Date().toISOString()}\n`);
process.stderr.write(`pm-arb: built dist/ in ${Date.now() - started} ms\n`);
