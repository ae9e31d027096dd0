// `npm run docs:examples`: runs every command whose output the README shows and writes that output into
// README.md between `<!-- example:NAME -->` and `<!-- /example -->`, so the examples are generated, not typed.
// `--check` writes nothing and exits 1 when the README differs (test/docs/readme-examples.test.ts does the same).
// Each example runs `bin/pm-arb.js` in a fresh temporary directory with a clean environment (no .env, no
// settings from the shell), on the seeded simulation; timings are masked so the output is the same every run.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distributedAgents } from '../src/app/assemble.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(root, 'bin', 'pm-arb.js');

export interface ExampleStep {
  /** arguments of `pm-arb` */
  readonly args: readonly string[];
  /** extra environment (shown before the command, as a shell would take it) */
  readonly env?: Readonly<Record<string, string>>;
  /** the exit code the step must end with (default 0): a different one fails the generation */
  readonly exitCode?: number;
  /** include stderr in the shown output (default: stdout only) */
  readonly stderr?: boolean;
  /** run it but show only the command, followed by this shell comment (output shown in another example) */
  readonly hideOutput?: string;
}

export interface Example {
  readonly name: string;
  readonly steps: readonly ExampleStep[];
  /** Instead of steps: text made from the code (not run here; a test runs it), e.g. the distributed commands. */
  readonly text?: () => string;
}

/** Timings and other per-run values, replaced by a fixed mark. */
const MASKS: readonly [RegExp, string][] = [
  [/[\d,.]+ events\/s/g, '… events/s'],
  [/wall time [\d.]+ ?m?s/g, 'wall time … s'],
  [/ in [\d.]+ s:/g, ' in … s:'],
];

/**
 * The distributed example: every agent `pm-arb run` starts, each as its own process (distributedAgents in
 * src/app/assemble.ts); test/app/distributed.test.ts runs these processes and waits for a stored fill.
 */
export function distributedExample(): string {
  const agents = distributedAgents('sim').map((a) => `pm-arb agent ${a.join(' ')} &`);
  return [
    '# the same REDIS_URL and DATABASE_URL for every process (one terminal or machine each, or `&` as here)',
    'export REDIS_URL=redis://127.0.0.1:6379 DATABASE_URL=postgres://postgres@127.0.0.1:5432/pmarb',
    'pm-arb db migrate',
    ...agents,
    'pm-arb status                         # every agent running, its heartbeat',
    'pm-arb trades                         # fills within a minute or two (the sim market, paper trading)',
    'pm-arb dashboard                      # http://127.0.0.1:8787: the shared store, live over Redis',
    'pm-arb halt --reason "maintenance"; pm-arb resume',
  ].join('\n');
}

/** The examples, in README order. Short seeded runs, so the README test stays quick. */
export const EXAMPLES: readonly Example[] = [
  {
    name: 'config-error',
    steps: [
      { args: ['run', '--feeds', 'sim'], env: { DRAWDOWN_LIMIT_PCT: 'abc' }, exitCode: 2, stderr: true },
    ],
  },
  { name: 'help', steps: [{ args: ['--help'] }] },
  { name: 'distributed', steps: [], text: distributedExample },
  {
    name: 'simulate-replay',
    steps: [
      { args: ['simulate', '--seed', '7', '--minutes', '5', '--out', 'sim-7.jsonl'] },
      { args: ['replay', 'sim-7.jsonl'] },
    ],
  },
  {
    name: 'backtest',
    steps: [
      { args: ['simulate', '--seed', '7', '--minutes', '5', '--out', 'sim-7.jsonl'] },
      { args: ['backtest', '--capture', 'sim-7.jsonl'] },
    ],
  },
  {
    // the reports on a store the backtest above keeps (deterministic, unlike a wall-clock `npm start`)
    name: 'decisions',
    steps: [
      { args: ['simulate', '--seed', '7', '--minutes', '5', '--out', 'sim-7.jsonl'] },
      {
        args: ['backtest', '--capture', 'sim-7.jsonl', '--store-dir', 'bt-7'],
        hideOutput: 'the report shown under Backtest',
      },
      { args: ['decisions', '--limit', '3'], env: { DATA_DIR: 'bt-7' }, stderr: true },
    ],
  },
];

/** Environment variables a step keeps from the caller's: enough to run node, nothing that configures pm-arb. */
const KEEP_ENV = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SYSTEMROOT', 'PMARB_FROM_SOURCE'];

function runStep(step: ExampleStep, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: Record<string, string> = {};
  for (const k of KEEP_ENV) if (process.env[k] !== undefined) env[k] = process.env[k] as string;
  Object.assign(env, step.env, { NO_COLOR: '1' });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...step.args], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

function mask(text: string): string {
  let out = text;
  for (const [re, by] of MASKS) out = out.replace(re, by);
  return out;
}

function shown(step: ExampleStep): string {
  const env = Object.entries(step.env ?? {}).map(([k, v]) => `${k}=${v} `);
  return `$ ${env.join('')}pm-arb ${step.args.join(' ')}`;
}

/** Runs one example and returns its block: each command line, then its (masked) output. */
export async function renderExample(example: Example): Promise<string> {
  if (example.text) return example.text();
  const cwd = await mkdtemp(join(tmpdir(), 'pm-arb-example-'));
  try {
    const lines: string[] = [];
    for (const step of example.steps) {
      const r = await runStep(step, cwd);
      const want = step.exitCode ?? 0;
      if (r.code !== want) {
        throw new Error(
          `example ${example.name}: \`${shown(step)}\` exited ${r.code}, expected ${want}\n${r.stdout}${r.stderr}`,
        );
      }
      if (step.hideOutput !== undefined) {
        lines.push(`${shown(step)}   # ${step.hideOutput}`);
        continue;
      }
      lines.push(shown(step));
      // the temporary directory is a per-run value too
      const out = mask((r.stdout + (step.stderr ? r.stderr : '')).replace(/\s+$/, '')).replaceAll(cwd, '…');
      if (out !== '') lines.push(out);
    }
    return lines.join('\n');
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

const MARKER = /<!-- example:([\w-]+) -->\n[\s\S]*?<!-- \/example -->/g;

/** The README with every example block regenerated; fails on a marker with no example or an example with none. */
export async function regenerateReadme(readme: string, examples = EXAMPLES): Promise<string> {
  const names = [...readme.matchAll(MARKER)].map((m) => m[1] as string);
  for (const n of names) {
    if (!examples.some((e) => e.name === n)) throw new Error(`README has example ${n}, which is not defined`);
  }
  for (const e of examples) {
    if (!names.includes(e.name))
      throw new Error(`example ${e.name} has no <!-- example:${e.name} --> in README`);
  }
  const blocks = new Map<string, string>();
  for (const e of examples) blocks.set(e.name, await renderExample(e));
  return readme.replace(
    MARKER,
    (_all, name: string) =>
      `<!-- example:${name} -->\n\`\`\`\n${blocks.get(name)}\n\`\`\`\n<!-- /example -->`,
  );
}

export const README_PATH = join(root, 'README.md');

async function main(): Promise<number> {
  const check = process.argv.includes('--check');
  const before = await readFile(README_PATH, 'utf8');
  const after = await regenerateReadme(before);
  if (after === before) {
    process.stdout.write('README examples are up to date\n');
    return 0;
  }
  if (check) {
    process.stderr.write("README examples differ from the commands' output: run `npm run docs:examples`\n");
    return 1;
  }
  await writeFile(README_PATH, after);
  process.stdout.write('README examples regenerated\n');
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main();
}
