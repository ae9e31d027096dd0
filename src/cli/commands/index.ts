import type { Command } from 'commander';
import { registerAgentCommand } from './agent.ts';
import { registerControlCommands } from './control.ts';
import { registerStatusCommand } from './status.ts';

/** Every `pm-arb` subcommand, in the order `--help` lists them. */
export function registerCommands(program: Command): void {
  registerAgentCommand(program);
  registerControlCommands(program);
  registerStatusCommand(program);
}
