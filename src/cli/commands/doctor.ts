/**
 * `pm-arb doctor [--json] [--send-test-alert] [--timeout-ms N]`: the production checklist (src/ops/doctor/).
 * Exit 0 when nothing failed (warnings allowed), 1 when a check failed.
 */
import type { Command } from 'commander';
import { loadDotEnv } from '../../core/config.ts';
import { UsageError } from '../main.ts';

/** The first line of the report (formatDoctorReport's, written before the checks start). */
const DOCTOR_TITLE = 'pm-arb doctor';

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
      // the title at once: the checks load the SDKs and drivers, then wait on the network
      if (!o.json) process.stdout.write(`${DOCTOR_TITLE}\n`);
      const { formatDoctorReport, runDoctor } = await import('../../ops/doctor/run.ts');
      const r = await runDoctor({ sendTestAlert: o.sendTestAlert === true, timeoutMs });
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : formatDoctorReport(r, { title: false }));
      if (!r.ok) process.exitCode = 1;
    });
}
