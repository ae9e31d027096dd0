import type { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Every `pm-arb` subcommand, in the order `--help` lists them: the names a module registers and how to load it.
 * Loaded lazily so that a command pays only for its own imports (`pm-arb status` never loads PGlite or viem).
 * Add one entry per command module.
 */
export const COMMAND_MODULES: readonly {
  names: readonly string[];
  /** other names of those commands (commander aliases) */
  aliases?: readonly string[];
  load: () => Promise<Register>;
}[] = [
  { names: ['agent'], load: async () => (await import('./agent.ts')).registerAgentCommand },
  { names: ['halt', 'resume'], load: async () => (await import('./control.ts')).registerControlCommands },
  { names: ['status'], load: async () => (await import('./status.ts')).registerStatusCommand },
  {
    names: ['trades', 'decisions', 'positions', 'pnl'],
    aliases: ['fills'],
    load: async () => (await import('./reports.ts')).registerReportCommands,
  },
  { names: ['db'], load: async () => (await import('./db.ts')).registerDbCommand },
  { names: ['run'], load: async () => (await import('./run.ts')).registerRunCommand },
  { names: ['dashboard'], load: async () => (await import('./dashboard.ts')).registerDashboardCommand },
  { names: ['record'], load: async () => (await import('./record.ts')).registerRecordCommand },
  { names: ['replay'], load: async () => (await import('./replay.ts')).registerReplayCommand },
  { names: ['simulate'], load: async () => (await import('./simulate.ts')).registerSimulateCommand },
  { names: ['backtest'], load: async () => (await import('./backtest.ts')).registerBacktestCommand },
  { names: ['matches'], load: async () => (await import('./matches.ts')).registerMatchesCommand },
  { names: ['doctor'], load: async () => (await import('./doctor.ts')).registerDoctorCommand },
  { names: ['audit'], load: async () => (await import('./audit.ts')).registerAuditCommand },
];

/** Registers the commands named in `only` (every command when absent), in the order of COMMAND_MODULES. */
export async function registerCommands(program: Command, only?: string): Promise<void> {
  const mods = COMMAND_MODULES.filter(
    (m) => only === undefined || m.names.includes(only) || m.aliases?.includes(only),
  );
  for (const register of await Promise.all(mods.map((m) => m.load()))) register(program);
}
