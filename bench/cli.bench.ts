/**
 * cli.startup_ms: `pm-arb --help` as a user runs it (node bin/pm-arb.js after `npm ci`, which builds dist/),
 * process start to exit, median of several runs; `node -e 0` alongside as the floor. The build is refreshed
 * first (not timed) so that the figure is the built CLI, not the tsx fallback of a stale tree.
 * cli.status_first_line_ms: `pm-arb status` against the local Redis, start to its first line of output
 * (the ≤ 500 ms "first line of work" aim of issue 19).
 */
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchContext, median, repeat } from './harness.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin/pm-arb.js');

function timeMs(args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function firstLineMs(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.stdout.once('data', () => resolve(performance.now() - t0));
    child.on('exit', (code) =>
      reject(new Error(`${args.join(' ')} exited ${code} before any output: ${err}`)),
    );
  });
}

export async function run(ctx: BenchContext): Promise<void> {
  const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], {
    cwd: root,
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`npm run build failed: ${build.stderr}`);
  const runs = ctx.quick ? 3 : 11;
  const env = { ...process.env, PMARB_FROM_SOURCE: '' };
  timeMs([bin, '--help'], env); // warm the file cache
  const floor = await repeat(runs, () => timeMs(['-e', '0']));
  const help = await repeat(runs, () => timeMs([bin, '--help'], env));
  const tsx = await repeat(ctx.quick ? 1 : 3, () =>
    timeMs([bin, '--help'], { ...env, PMARB_FROM_SOURCE: '1' }),
  );
  ctx.record(
    'cli.startup_ms',
    median(help),
    `\`pm-arb --help\` (built dist/), process start to exit, median of ${runs}; node -e 0: ${median(floor).toFixed(0)} ms; ` +
      `the same from the sources through tsx (PMARB_FROM_SOURCE=1): ${median(tsx).toFixed(0)} ms`,
  );
  const redis = { ...env, REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' };
  const status = await repeat(runs, () => firstLineMs([bin, 'status'], redis));
  ctx.record(
    'cli.status_first_line_ms',
    median(status),
    `\`pm-arb status\` against the local Redis, process start to its first line of output, median of ${runs} (aim ≤ 500)`,
  );
}
