/**
 * The `pm-arb` command. Each subcommand lives in src/cli/commands/<name>.ts and registers itself here.
 * Usage errors (unknown command or option, bad argument) print what was wrong and the usage, exit code 2.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Help } from 'commander';
import { COMMAND_MODULES, registerCommands } from './commands/index.ts';

export class UsageError extends Error {
  override name = 'UsageError';
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
  return COMMAND_MODULES.some((m) => name !== undefined && m.names.includes(name)) ? name : undefined;
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
  const program = new Command();
  program
    .name('pm-arb')
    .description(
      'Prediction-market arbitrage agents: watch Polymarket and Kalshi, match markets, find and trade arbitrage ' +
        'under a risk guardian. Paper trading unless live is asked for twice (PAPER_TRADING=false and --live).',
    )
    .showHelpAfterError(true)
    .exitOverride();
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

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
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
      process.stderr.write(`pm-arb: ${err.message}\n(run with --help for usage)\n`);
      return 2;
    }
    // imported here, on the error path only: at the top it would load zod before even `--help`
    const { ConfigError } = await import('../core/config.ts');
    if (err instanceof ConfigError) {
      process.stderr.write(`pm-arb: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`pm-arb: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
