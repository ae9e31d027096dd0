/**
 * The `pm-arb` command. Each subcommand lives in src/cli/commands/<name>.ts and registers itself here.
 * Every failure gets one shape, `pm-arb: what was wrong[: what to do]` on stderr, and an exit code:
 *   2  usage and input errors: unknown command or option, bad argument, a file that cannot be used, configuration
 *   1  runtime failures: the database, the network, a process that does not answer
 * A closed stdout (`pm-arb trades | head -1`) ends the command quietly.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Help } from 'commander';
import { redactSecrets } from '../core/redact.ts';
import { COMMAND_MODULES, registerCommands } from './commands/index.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Input the command cannot use (a file that is missing, empty, not a capture, not writable): exit 2, no usage. */
export class InputError extends UsageError {
  override name = 'InputError';
}

/** The package version (package.json above src/cli/, or above dist/ when running the build). */
export function version(): string {
  for (const up of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string;
        version: string;
      };
      if (pkg.name === 'pm-arb') return pkg.version;
    } catch {
      // not this one
    }
  }
  return 'unknown';
}

/**
 * A reader that went away (`| head`) closes the pipe: the next write fails with EPIPE. That ends the command
 * quietly (exit 0 as `head` asked for no more), not with a stack trace.
 */
let pipeGuarded = false;
function quietOnClosedPipe(): void {
  if (pipeGuarded) return;
  pipeGuarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
}

const ERRNO_WHY: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
};

/** One line for an error no command turned into a message of its own. */
export function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { path?: string };
  if (e && typeof e.code === 'string' && ERRNO_WHY[e.code] && typeof e.path === 'string') {
    return `cannot ${e.syscall ?? 'use'} ${e.path}: ${ERRNO_WHY[e.code]}`;
  }
  // PostgreSQL: nothing on search_path to create tables in (a DATABASE_URL naming a schema that does not exist)
  if (e && e.code === '3F000') {
    return (
      `the database has no schema to create tables in (${e.message}): create the schema, or point DATABASE_URL ` +
      'at one that exists (e.g. ?options=-c%20search_path%3Dpublic)'
    );
  }
  return err instanceof Error ? err.message : String(err);
}
function fullName(c: Command): string {
  const names: string[] = [];
  for (let x: Command | null = c; x?.parent; x = x.parent) names.unshift(x.name());
  return names.join(' ');
}

/** One row of the root help: what `pm-arb --help` shows for a command without loading it. */
export interface CommandSummary {
  name: string;
  term: string;
  description: string;
}

/** The command `argv` runs (`help <name>` counts as <name>), or undefined for the root (help, no command). */
function commandIn(argv: readonly string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return COMMAND_MODULES.some(
    (m) => name !== undefined && (m.names.includes(name) || m.aliases?.includes(name)),
  )
    ? name
    : undefined;
}

/**
 * Registers light stand-ins for the root help and usage errors (the rows `npm run build` wrote into
 * dist/commands.json), so `pm-arb --help` loads no command module.
 */
export function registerSummaries(program: Command, rows: readonly CommandSummary[]): void {
  const terms = new Map(rows.map((r) => [r.name, r.term]));
  const plain = new Help(); // for the implicit `help [command]` row
  program.configureHelp({ subcommandTerm: (c) => terms.get(c.name()) ?? plain.subcommandTerm(c) });
  for (const r of rows) {
    program
      .command(r.name)
      .description(r.description)
      .action(() => {
        throw new Error(`the build in dist/ is out of date (no module for ${r.name}): run npm run build`);
      });
  }
}

/** The rows of dist/commands.json next to the built main.js; none when running the sources (tsx). */
function builtSummaries(): CommandSummary[] | undefined {
  const path = join(import.meta.dirname, 'commands.json');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as CommandSummary[]) : undefined;
}

/** The root help's rows with every command loaded (written into dist/commands.json by `npm run build`). */
export async function commandSummaries(): Promise<CommandSummary[]> {
  const program = await buildProgram();
  const help = program.createHelp();
  return program.commands.map((c) => ({
    name: c.name(),
    term: help.subcommandTerm(c),
    description: help.subcommandDescription(c),
  }));
}

/**
 * The program for `argv`: only the command it names is loaded; for the root (help, no or an unknown command)
 * the prebuilt summaries stand in when there are any, otherwise every command is loaded. No argv: all of them.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = rootProgram();
  const name = argv && commandIn(argv);
  const summaries = argv && !name ? builtSummaries() : undefined;
  if (summaries) registerSummaries(program, summaries);
  else await registerCommands(program, name);
  program.commands.forEach(function walk(c: Command): void {
    c.exitOverride();
    // after a usage error, print that command's usage (not the whole manual)
    c.showHelpAfterError(`usage: pm-arb ${fullName(c)} ${c.usage()}\n(run with --help for details)`);
    c.commands.forEach(walk);
  });
  return program;
}

/** The root command without subcommands: name, description, version, error handling. */
export function rootProgram(): Command {
  return new Command()
    .name('pm-arb')
    .description(
      'Prediction-market arbitrage agents: watch Polymarket and Kalshi, match markets, find and trade arbitrage ' +
        'under a risk guardian. Paper trading unless live is asked for twice (PAPER_TRADING=false and --live).',
    )
    .version(version(), '-V, --version', 'print the version')
    .showHelpAfterError(true)
    .exitOverride();
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  quietOnClosedPipe();
  const program = await buildProgram(argv);
  if (argv.length === 0) {
    program.outputHelp();
    return 2;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are "errors" in commander's model but not for us
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      ) {
        return 0;
      }
      return 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(
        `pm-arb: ${redactSecrets(err.message)}\n${err instanceof InputError ? '' : '(run with --help for usage)\n'}`,
      );
      return 2;
    }
    // imported here, on the error path only: at the top it would load zod before even `--help`
    const { ConfigError } = await import('../core/config.ts');
    if (err instanceof ConfigError) {
      process.stderr.write(`pm-arb: ${redactSecrets(err.message)}\n`);
      return 2;
    }
    process.stderr.write(`pm-arb: ${redactSecrets(describeError(err))}\n`);
    return 1;
  }
}
