import type { Command } from 'commander';
import { registerDbCommand } from './db.ts';
import { registerRecordCommand } from './record.ts';
import { registerReplayCommand } from './replay.ts';
import { registerRunCommand } from './run.ts';
import { registerSimulateCommand } from './simulate.ts';

/** Every `pm-arb` subcommand, in the order `--help` lists them. Add one line per command. */
export function registerCommands(program: Command): void {
  void program;
  registerDbCommand(program);
  registerRunCommand(program);
  registerRecordCommand(program);
  registerReplayCommand(program);
  registerSimulateCommand(program);
}
