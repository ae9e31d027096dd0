import type { Command } from 'commander';
import { registerDbCommand } from './db.ts';

/** Every `pm-arb` subcommand, in the order `--help` lists them. Add one line per command. */
export function registerCommands(program: Command): void {
  void program;
  registerDbCommand(program);
}
