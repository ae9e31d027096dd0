import type { Command } from 'commander';
import { registerAgentCommand } from './agent.ts';
import { registerAuditCommand } from './audit.ts';
import { registerBacktestCommand } from './backtest.ts';
import { registerControlCommands } from './control.ts';
import { registerDashboardCommand } from './dashboard.ts';
import { registerDbCommand } from './db.ts';
import { registerDoctorCommand } from './doctor.ts';
import { registerMatchesCommand } from './matches.ts';
import { registerRecordCommand } from './record.ts';
import { registerReplayCommand } from './replay.ts';
import { registerReportCommands } from './reports.ts';
import { registerRunCommand } from './run.ts';
import { registerSimulateCommand } from './simulate.ts';
import { registerStatusCommand } from './status.ts';

/** Every `pm-arb` subcommand, in the order `--help` lists them. Add one line per command. */
export function registerCommands(program: Command): void {
  void program;
  registerAgentCommand(program);
  registerControlCommands(program);
  registerStatusCommand(program);
  registerReportCommands(program);
  registerDbCommand(program);
  registerRunCommand(program);
  registerDashboardCommand(program);
  registerRecordCommand(program);
  registerReplayCommand(program);
  registerSimulateCommand(program);
  registerBacktestCommand(program);
  registerMatchesCommand(program);
  registerDoctorCommand(program);
  registerAuditCommand(program);
}
