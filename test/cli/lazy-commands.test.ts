/**
 * The CLI loads commands lazily: `pm-arb <command>` loads that command's module only, and the root help comes
 * from summaries written at build time (dist/commands.json). These must say what the real commands say.
 */
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_MODULES } from '../../src/cli/commands/index.ts';
import { buildProgram, commandSummaries, registerSummaries, rootProgram } from '../../src/cli/main.ts';

function helpOf(program: Command): string {
  program.configureOutput({ getOutHelpWidth: () => 100 });
  return program.helpInformation();
}

describe('lazy command loading', () => {
  it('every module registers exactly the names the table gives it, in the table order', async () => {
    const names = (await buildProgram()).commands.map((c) => c.name());
    expect(names).toEqual(COMMAND_MODULES.flatMap((m) => m.names));
  });

  it('the root help from summaries is the root help with every command loaded', async () => {
    const full = await buildProgram();
    const light = rootProgram();
    registerSummaries(light, await commandSummaries());
    expect(helpOf(light)).toEqual(helpOf(full));
    expect(helpOf(light)).toContain('backtest [options]');
  });

  it('a command line loads only the command it names (and `help <name>` that command)', async () => {
    expect((await buildProgram(['status', '--json'])).commands.map((c) => c.name())).toEqual(['status']);
    expect((await buildProgram(['help', 'halt'])).commands.map((c) => c.name())).toEqual(['halt', 'resume']);
    // no build summaries next to the sources: the root loads every command
    expect((await buildProgram(['--help'])).commands.length).toBe(
      COMMAND_MODULES.flatMap((m) => m.names).length,
    );
  });
});
