/**
 * memory.rss_mb_100k_markets: the resident memory of one `pm-arb run` process (in-process bus, PGlite in a
 * temporary DATA_DIR, no dashboard) on the simulated market with 50,000 crypto threshold markets per venue
 * (100,000 markets with books), after 5 minutes of simulated flow (real time: `run` trades on the wall clock).
 * RSS is read from /proc every second; memory.rss_growth_pct_2_to_5_min compares minute 5 with minute 2
 * (the process must be stable, not growing). Quick mode: 5,000 markets per venue and 12 s (sampled at 6 s and
 * 12 s): the same figures at a smaller size, not the target's.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from './harness.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const LIMIT_MB = 4_096;

function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined; // gone
  }
}

export async function run(ctx: BenchContext): Promise<void> {
  const perVenue = ctx.quick ? 2_000 : 50_000;
  const [earlyS, endS] = ctx.quick ? [4, 8] : [120, 300];
  // the figure is read before the stop: quick mode does not wait out a slow graceful shutdown (it took ~13 s)
  const graceMs = ctx.quick ? 2_000 : 15_000;
  const dir = mkdtempSync(join(tmpdir(), 'pm-arb-bench-mem-'));
  const child = spawn(
    process.execPath,
    [
      join(root, 'bin/pm-arb.js'),
      'run',
      '--feeds',
      'sim',
      '--sim-markets',
      String(perVenue),
      '--no-dashboard',
    ],
    {
      cwd: dir,
      env: { ...process.env, DATA_DIR: dir, LOG_LEVEL: 'warn', REDIS_URL: '', DATABASE_URL: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr.on('data', (d) => {
    err = (err + d).slice(-4000);
  });
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  const samples: { s: number; mb: number }[] = [];
  const t0 = performance.now();
  try {
    for (;;) {
      const s = (performance.now() - t0) / 1000;
      const mb = rssMb(child.pid!);
      if (mb === undefined || child.exitCode !== null) throw new Error(`pm-arb run ended early: ${err}`);
      samples.push({ s, mb });
      // a shared machine: stop well before the process could starve the others (the figure then says so)
      if (s >= endS || mb > LIMIT_MB) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    child.kill('SIGINT');
    const code = await Promise.race([exited, new Promise((r) => setTimeout(r, graceMs, 'timeout'))]);
    if (code === 'timeout') child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  const stopped =
    samples.at(-1)!.mb > LIMIT_MB
      ? `; STOPPED at ${LIMIT_MB} MB after ${samples.at(-1)!.s.toFixed(0)} s`
      : '';
  const at = (sec: number): number => samples.find((x) => x.s >= sec)?.mb ?? Number.NaN;
  const early = at(earlyS);
  const end = samples.at(-1)!.mb;
  const peak = Math.max(...samples.map((x) => x.mb));
  const growth = ((end - early) / early) * 100;
  ctx.record(
    'memory.rss_growth_pct_2_to_5_min',
    growth,
    `RSS at ${endS} s vs ${earlyS} s of the same \`pm-arb run\` (${(2 * perVenue).toLocaleString('en-US')} markets): ${early.toFixed(0)} → ${end.toFixed(0)} MB`,
  );
  ctx.record(
    'memory.rss_mb_100k_markets',
    end,
    `RSS of one \`pm-arb run --feeds sim --sim-markets ${perVenue}\` (${(2 * perVenue).toLocaleString('en-US')} markets with books, in-process bus, PGlite) after ${endS} s of simulated flow; peak ${peak.toFixed(0)} MB${stopped}${ctx.quick ? '; QUICK: a smaller size than the target' : ''}`,
  );
}
