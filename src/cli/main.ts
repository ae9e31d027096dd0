/**
 * The `pm-arb` command. Each subcommand lives in src/cli/commands/<name>.ts and registers itself here.
 * Usage errors (unknown command or option, bad argument) print what was wrong and the usage, exit code 2.
 */

import { Command, CommanderError } from 'commander';
import { ConfigError } from '../core/config.ts';
import { redactSecrets } from '../core/redact.ts';
import { registerCommands } from './commands/index.ts';

export class UsageError extends Error {
  override name = 'UsageError';
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
      process.stderr.write(`pm-arb: ${redactSecrets(err.message)}\n(run with --help for usage)\n`);
      return 2;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`pm-arb: ${redactSecrets(err.message)}\n`);
      return 2;
    }
    process.stderr.write(`pm-arb: ${redactSecrets(err instanceof Error ? err.message : String(err))}\n`);
    return 1;
  }
}
