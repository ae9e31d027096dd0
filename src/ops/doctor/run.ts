/**
 * `pm-arb doctor`: the production checklist. Runs every check (configuration first: nothing else runs on an
 * invalid one), prints one line per check — ok / warn / fail / skip, with the fix under each warn and fail — and
 * tells the caller whether anything failed.
 */
import { type Config, ConfigError, loadConfig } from '../../core/config.ts';
import { alertsCheck, anthropicCheck, configCheck, databaseCheck, diskCheck, redisCheck } from './checks.ts';
import { type Check, type CheckResult, type DoctorContext, fail } from './types.ts';
import { VENUE_CHECKS } from './venues.ts';

export interface DoctorOptions {
  readonly env?: Record<string, string | undefined>;
  readonly sendTestAlert?: boolean;
  readonly timeoutMs?: number;
  /** Venue checks (default VENUE_CHECKS): the live-execution layer may pass its own. */
  readonly venueChecks?: readonly Check[];
}

export interface DoctorReport {
  readonly ok: boolean;
  readonly counts: Readonly<Record<CheckResult['status'], number>>;
  readonly checks: readonly CheckResult[];
}

export async function runDoctor(opts: DoctorOptions = {}): Promise<DoctorReport> {
  let config: Config;
  try {
    config = loadConfig(opts.env ?? process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return report([
      fail(
        'config',
        err.message.replace(/\nFix these.*$/s, ''),
        'fix these in the environment or .env (see .env.example)',
      ),
    ]);
  }
  const ctx: DoctorContext = {
    config,
    sendTestAlert: opts.sendTestAlert === true,
    timeoutMs: opts.timeoutMs ?? 5_000,
    now: () => Date.now(),
  };
  const checks: Check[] = [
    configCheck,
    redisCheck,
    databaseCheck,
    diskCheck,
    ...(opts.venueChecks ?? VENUE_CHECKS),
    anthropicCheck,
    alertsCheck,
  ];
  // independent of each other: run them at once, print them in order
  const results = await Promise.all(
    checks.map((c) =>
      c(ctx).catch((err: unknown) => [
        fail(
          c.name.replace(/Check$/, '') || 'check',
          `the check itself failed: ${String(err)}`,
          'report this as a bug',
        ),
      ]),
    ),
  );
  return report(results.flat());
}

function report(checks: CheckResult[]): DoctorReport {
  const counts = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) counts[c.status]++;
  return { ok: counts.fail === 0, counts, checks };
}

/** The report as lines; `title: false` leaves out its first line (`pm-arb doctor` prints that before the checks). */
export function formatDoctorReport(r: DoctorReport, { title = true }: { title?: boolean } = {}): string {
  const w = Math.max(...r.checks.map((c) => c.name.length), 6);
  const lines = title ? ['pm-arb doctor'] : [];
  for (const c of r.checks) {
    const pad = ' '.repeat(2 + 4 + 2 + w + 2);
    const detail = c.detail.split('\n').join(`\n${pad}`);
    lines.push(`  ${c.status.padEnd(4)}  ${c.name.padEnd(w)}  ${detail}`);
    if (c.fix) lines.push(`${pad}fix: ${c.fix}`);
  }
  lines.push(
    `${r.counts.fail} fail, ${r.counts.warn} warn, ${r.counts.ok} ok, ${r.counts.skip} skipped` +
      (r.ok ? '' : ' — fix the failures above before trading'),
  );
  return `${lines.join('\n')}\n`;
}
