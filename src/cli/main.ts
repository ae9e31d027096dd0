/**
 * The `pm-arb` command. Each subcommand lives in src/cli/commands/<name>.ts and registers itself here.
 * Every failure gets one shape, `pm-arb: what was wrong[: what to do]` on stderr, and an exit code:
 *   2  usage and input errors: unknown command or option, bad argument, a file that cannot be used, configuration
 *   1  runtime failures: the database, the network, a process that does not answer
 * A closed stdout (`pm-arb trades | head -1`) ends the command quietly.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../core/config.ts';
import { redactSecrets } from '../core/redact.ts';
import { registerCommands } from './commands/index.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Input the command cannot use (a file that is missing, empty, not a capture, not writable): exit 2, no usage. */
export class InputError extends UsageError {
  override name = 'InputError';
}

/** The package version (package.json beside src/ or dist/). */
export function version(): string {
  try {
    return (
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
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

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('pm-arb')
    .description(
      'Prediction-market arbitrage agents: watch Polymarket and Kalshi, match markets, find and trade arbitrage ' +
        'under a risk guardian. Paper trading unless live is asked for twice (PAPER_TRADING=false and --live).',
    )
    .version(version(), '-V, --version', 'print the version')
    .showHelpAfterError(true)
    .exitOverride();
  registerCommands(program);
  program.commands.forEach(function walk(c: Command): void {
    c.exitOverride();
    // after a usage error, print that command's usage (not the whole manual)
    c.showHelpAfterError(`usage: pm-arb ${fullName(c)} ${c.usage()}\n(run with --help for details)`);
    c.commands.forEach(walk);
  });
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  quietOnClosedPipe();
  const program = buildProgram();
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
    if (err instanceof ConfigError) {
      process.stderr.write(`pm-arb: ${redactSecrets(err.message)}\n`);
      return 2;
    }
    process.stderr.write(`pm-arb: ${redactSecrets(describeError(err))}\n`);
    return 1;
  }
}
