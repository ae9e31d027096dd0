/**
 * cli.startup_ms: `pm-arb --help` as a user runs it (node bin/pm-arb.js after `npm ci`, which builds dist/),
 * process start to exit, median of several runs; `node -e 0` alongside as the floor. The build is refreshed
 * first when src/ is newer (not timed) so that the figure is the built CLI, not the tsx fallback of a stale tree.
 * cli.first_line_ms.<command>: for every command of the README's CLI table, the time from process start to the
 * command's first line of output (the ≤ 500 ms aim of issue 19; a progress line counts, it is what the user sees);
 * cli.first_line_ms_max is the slowest of them. Each note also gives the CPU the command process had used by then,
 * which other load on the machine disturbs far less than the wall time. The commands run on a throwaway DATA_DIR
 * (each command's first line comes before it opens the store), the local Redis under a key prefix of their own, and venue URLs on
 * a closed loopback port (nothing reaches the internet).
 * cli.status_first_line_ms: `pm-arb status` against the local Redis, start to its first line of output.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/** CPU ms (user + system, all threads) a live process has used: /proc/<pid>/stat utime + stime. */
function procCpuMs(pid: number | undefined): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // utime is field 14, stime 15 (proc(5))
    return (Number(f[11]) + Number(f[12])) * 10; // USER_HZ 100
  } catch {
    return Number.NaN;
  }
}

interface FirstLine {
  ms: number;
  cpuMs: number;
}

/**
 * Start to the first line on stdout or stderr (a progress or log line counts: it is what the user sees first);
 * a command still running then is stopped. `done` waits for one that ends by itself (e.g. a file it writes).
 */
function firstLine(args: string[], env: NodeJS.ProcessEnv, done = false): Promise<FirstLine> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let first: FirstLine | undefined;
    const seen = (): void => {
      if (first) return;
      first = { ms: performance.now() - t0, cpuMs: procCpuMs(child.pid) };
      if (!done) child.kill('SIGKILL');
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', (d) => {
      err = (err + d).slice(-2000);
      seen();
    });
    child.on('exit', (code) =>
      first && (!done || code === 0)
        ? resolve(first)
        : reject(new Error(`${args.join(' ')} exited ${code}${first ? '' : ' before any output'}: ${err}`)),
    );
  });
}

/** bin/pm-arb.js runs dist/ only while dist/BUILT is newer than every file of src/ (the same test). */
function builtIsFresh(): boolean {
  let built: number;
  try {
    built = statSync(join(root, 'dist', 'BUILT')).mtimeMs;
  } catch {
    return false;
  }
  const walk = (dir: string): boolean =>
    statSync(dir).mtimeMs <= built &&
    readdirSync(dir, { withFileTypes: true }).every((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs <= built,
    );
  return walk(join(root, 'src'));
}

export async function run(ctx: BenchContext): Promise<void> {
  if (!builtIsFresh()) {
    const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], {
      cwd: root,
      encoding: 'utf8',
    });
    if (build.status !== 0) throw new Error(`npm run build failed: ${build.stderr}`);
  }
  const runs = ctx.quick ? 3 : 11;
  const env = { ...process.env, PMARB_FROM_SOURCE: '' };
  timeMs([bin, '--help'], env); // warm the file cache
  const floor = await repeat(runs, () => timeMs(['-e', '0']));
  const help = await repeat(runs, () => timeMs([bin, '--help'], env));
  // the tsx fallback costs seconds of CPU: a quick run leaves it out
  const tsx = ctx.quick
    ? []
    : await repeat(3, () => timeMs([bin, '--help'], { ...env, PMARB_FROM_SOURCE: '1' }));

  // time to the first line of every command of the README's CLI table
  const dir = mkdtempSync(join(tmpdir(), 'pm-arb-bench-cli-'));
  const capture = join(dir, 'sim.jsonl');
  const dead = '127.0.0.1:9'; // a closed port: a command that reaches for a venue gets a refusal, never the internet
  const cmdEnv = {
    ...env,
    DATA_DIR: join(dir, 'data'),
    DATABASE_URL: '',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: `bench-cli-${process.pid}:`,
    LOG_LEVEL: 'info',
    ANTHROPIC_API_KEY: '',
    POLYMARKET_CLOB_URL: `http://${dead}`,
    POLYMARKET_GAMMA_URL: `http://${dead}`,
    POLYMARKET_WS_MARKET_URL: `ws://${dead}`,
    POLYMARKET_WS_USER_URL: `ws://${dead}`,
    BINANCE_API_URL: `http://${dead}`,
    KALSHI_REST_URL: `http://${dead}`,
    KALSHI_WS_URL: `ws://${dead}`,
  };
  // the store directory the report, db, dashboard, audit and run commands look for: each says where it reads from
  // before it opens the store (opening PGlite is not what is measured, and each run stops at the first line)
  mkdirSync(join(dir, 'data', 'pglite'), { recursive: true });
  const pairs = join(root, 'test/matcher/data/pairs-sample.jsonl');
  // [metric suffix, arguments, wait for the exit (a file the next ones read)]
  const commands: [string, string[], boolean][] = [
    ['simulate', ['simulate', '--out', capture, '--minutes', '1'], true], // first: the others read its capture
    ['run', ['run', '--feeds', 'sim', '--no-dashboard', '--duration', '5s'], false],
    ['dashboard', ['dashboard', '--port', '0'], false],
    ['agent', ['agent', 'persister'], false],
    ['halt', ['halt', '--reason', 'bench'], false],
    ['resume', ['resume', '--reason', 'bench'], false],
    ['audit', ['audit'], false],
    ['status', ['status'], false],
    ['trades', ['trades'], false],
    ['decisions', ['decisions'], false],
    ['positions', ['positions'], false],
    ['pnl', ['pnl'], false],
    ['record', ['record', '--feeds', 'sim', '--out', join(dir, 'rec.jsonl'), '--duration', '2s'], false],
    ['replay', ['replay', capture], false],
    ['backtest', ['backtest', '--capture', capture], false],
    ['matches_capture', ['matches', '--capture', capture], false],
    ['matches', ['matches'], false],
    ['matches_review', ['matches', '--review'], false],
    ['matches_eval', ['matches', '--eval', pairs], false],
    ['db_migrate', ['db', 'migrate'], false],
    ['db_status', ['db', 'status'], false],
    ['db_prune', ['db', 'prune'], false],
    ['doctor', ['doctor'], false],
  ];
  const firstLines: string[] = [];
  const perRun = ctx.quick ? 1 : 3;
  let slowest = 0;
  let slowestName = '';
  try {
    for (const [label, args, done] of commands) {
      const r: FirstLine[] = [];
      for (let i = 0; i < perRun; i++) r.push(await firstLine([bin, ...args], cmdEnv, done));
      const ms = median(r.map((x) => x.ms));
      const cpu = median(r.map((x) => x.cpuMs));
      if (ms > slowest) [slowest, slowestName] = [ms, label];
      firstLines.push(`${label} ${ms.toFixed(0)} ms (CPU ${cpu.toFixed(0)} ms)`);
      ctx.record(
        `cli.first_line_ms.${label}`,
        ms,
        `\`pm-arb ${args.join(' ').replaceAll(dir, '$DIR')}\` (built dist/), process start to its first line of ` +
          `output, median of ${perRun} (aim ≤ 500); the CPU the command had used by then ${cpu.toFixed(0)} ms`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  ctx.record(
    'cli.first_line_ms_max',
    slowest,
    `the slowest cli.first_line_ms.<command> (${slowestName}) of ${commands.length} commands (aim ≤ 500): ${firstLines.join(', ')}`,
  );
  ctx.record(
    'cli.startup_ms',
    median(help),
    `\`pm-arb --help\` (built dist/), process start to exit, median of ${runs}; node -e 0: ${median(floor).toFixed(0)} ms` +
      (tsx.length
        ? `; the same from the sources through tsx (PMARB_FROM_SOURCE=1): ${median(tsx).toFixed(0)} ms`
        : '') +
      '; the first line of each command: cli.first_line_ms.<command>',
  );
  const redis = { ...env, REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' };
  const statusRuns = ctx.quick ? 1 : runs;
  const status = await repeat(statusRuns, async () => (await firstLine([bin, 'status'], redis)).ms);
  ctx.record(
    'cli.status_first_line_ms',
    median(status),
    `\`pm-arb status\` against the local Redis, process start to its first line of output, median of ${statusRuns} (aim ≤ 500)`,
  );
}
