/**
 * `pm-arb doctor [--json] [--send-test-alert] [--timeout-ms N]`: the production checklist (src/ops/doctor/).
 * Exit 0 when nothing failed (warnings allowed), 1 when a check failed.
 */
import type { Command } from 'commander';
import { loadDotEnv } from '../../core/config.ts';
import { formatDoctorReport, runDoctor } from '../../ops/doctor/run.ts';
import { UsageError } from '../main.ts';

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'production checklist: config, Redis, PostgreSQL and migrations, venues and credentials, clock skew, ' +
        'balances, Anthropic key, alert channels, disk; exit 1 on any failure',
    )
    .option('--json', 'print one JSON object instead of lines')
    .option('--send-test-alert', 'deliver a test message through every configured alert channel')
    .option('--timeout-ms <ms>', 'per network call', '5000')
    .action(async (o: { json?: boolean; sendTestAlert?: boolean; timeoutMs: string }) => {
      const timeoutMs = Number(o.timeoutMs);
      if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
        throw new UsageError(`--timeout-ms ${JSON.stringify(o.timeoutMs)}: expected a positive whole number`);
      loadDotEnv();
      const r = await runDoctor({ sendTestAlert: o.sendTestAlert === true, timeoutMs });
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : formatDoctorReport(r));
      if (!r.ok) process.exitCode = 1;
    });
}
