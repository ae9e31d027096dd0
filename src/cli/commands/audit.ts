/**
 * `pm-arb audit [--json]`: checks that what was published, stored and believed adds up (src/store/audit.ts):
 * fills on the bus vs the store, the ledger rebuilt from fills vs positions and cash, orders vs fills and the
 * open-order limit, decisions executed or approved twice. Exit 1 on any inconsistency.
 */
import type { Command } from 'commander';
import { loadConfig, loadDotEnv } from '../../core/config.ts';
import type { Fill } from '../../core/messages.ts';
import type { AuditCheck } from '../../store/audit.ts';
import { redactUrl, storeWhere } from '../../store/db.ts';

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description(
      'check the books add up: fills published vs stored, ledger vs positions vs cash, orders vs fills, duplicates (exit 1 if not)',
    )
    .option('--json', 'print JSON')
    .option('--max-items <n>', 'discrepancies shown per check', '20')
    .action(async (opts: { json?: boolean; maxItems: string }) => {
      loadDotEnv();
      const config = loadConfig();
      // said at once, on stderr (stdout is the report): the bus, the store and their drivers load after it
      process.stderr.write(
        `(from ${config.redisUrl ? `Redis ${redactUrl(config.redisUrl)} and ` : ''}${storeWhere(config)})\n`,
      );
      const [
        { channels },
        { pingRedis },
        { createBus },
        { createLogger },
        { renderAudit, runAudit },
        { openDbFromConfig },
        { migrate },
      ] = await Promise.all([
        import('../../core/channels.ts'),
        import('../../core/halt.ts'),
        import('../../core/kernel.ts'),
        import('../../core/log.ts'),
        import('../../store/audit.ts'),
        import('../../store/db.ts'),
        import('../../store/migrations.ts'),
      ]);
      let published: { id: string; body: Fill }[] | undefined;
      let busProblem: AuditCheck | undefined;
      if (config.redisUrl) {
        try {
          await pingRedis(config.redisUrl, 5_000);
          const bus = await createBus(config, 'redis', `audit-${process.pid}`, createLogger('warn'));
          try {
            published = (await bus.history(channels.fills, config.redisStreamMaxLen)).map((m) => ({
              id: m.id,
              body: m.body,
            }));
          } finally {
            await bus.close();
          }
        } catch (err) {
          busProblem = {
            name: 'fills published vs stored',
            ok: false,
            summary: 'the bus could not be read',
            problems: [(err as Error).message],
          };
        }
      }
      const db = await openDbFromConfig(config);
      try {
        await migrate(db);
        const report = await runAudit({
          db,
          config,
          publishedFills: published,
          maxItems: Math.max(1, Number(opts.maxItems) || 20),
        });
        const checks = busProblem
          ? report.checks.map((c) => (c.name === busProblem.name ? busProblem : c))
          : report.checks;
        const final = { ok: checks.every((c) => c.ok), checks };
        process.stdout.write(opts.json ? `${JSON.stringify(final)}\n` : `${renderAudit(final).join('\n')}\n`);
        if (!final.ok) process.exitCode = 1;
      } finally {
        await db.close();
      }
    });
}
