#!/usr/bin/env node
// Entry point. Runs the ahead-of-time build in dist/ (`npm run build`, which `npm ci` runs through `prepare`)
// when it is newer than every file under src/; otherwise (no build, or sources edited since) it registers the
// tsx loader and runs the sources, so an edited tree never runs stale code. PMARB_FROM_SOURCE=1 forces tsx.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** True when dist/BUILT is newer than every file and folder under src/ (a few ms for ~200 files). */
function builtIsFresh() {
  let built;
  try {
    built = statSync(join(root, 'dist', 'BUILT')).mtimeMs;
  } catch {
    return false;
  }
  const walk = (dir) => {
    if (statSync(dir).mtimeMs > built) return false;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory() ? !walk(p) : statSync(p).mtimeMs > built) return false;
    }
    return true;
  };
  return walk(join(root, 'src'));
}

let main;
if (process.env.PMARB_FROM_SOURCE !== '1' && builtIsFresh()) {
  ({ main } = await import('../dist/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
