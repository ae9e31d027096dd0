/**
 * `pm-arb db migrate | status | prune`: the store's schema, what is in it, and retention.
 * Uses DATABASE_URL (PostgreSQL) when set, else the embedded PGlite database under DATA_DIR.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, loadDotEnv } from '../../core/config.ts';
import { type Db, openDbFromConfig, storeWhere } from '../../store/db.ts';
import { prune, retentionFromConfig, storeStatus } from '../../store/maintenance.ts';
import { migrate } from '../../store/migrations.ts';
import { requireDataDir } from '../files.ts';
import { ReportError } from '../report-source.ts';

/** `create`: make the embedded database when it does not exist yet (migrate); otherwise say where it looked. */
async function withDb<T>(fn: (db: Db) => Promise<T>, create = false): Promise<T> {
  loadDotEnv();
  const config = loadConfig();
  if (!config.databaseUrl) {
    const where = resolve(config.dataDir, 'pglite');
    if (create) requireDataDir(config);
    else if (!existsSync(where)) {
      throw new ReportError(
        `no database in ${where} (DATA_DIR${process.env.DATA_DIR ? '' : ', by default ./data under the current directory'}): ` +
          '`pm-arb db migrate` or `npm start` creates it; or set DATA_DIR to the directory a run used',
      );
    }
  }
  // said at once: opening PGlite takes a second or more of CPU
  process.stderr.write(`pm-arb db: opening ${storeWhere(config)}\n`);
  const db = await openDbFromConfig(config);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

const out = (s: string): void => {
  process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
};

export function registerDbCommand(program: Command): void {
  const db = program
    .command('db')
    .description(
      'the store: migrate the schema, show status (backend, migrations, row counts), prune old rows',
    );

  db.command('migrate')
    .description('apply pending schema migrations')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withDb(async (d) => {
        const applied = await migrate(d);
        if (opts.json) out(JSON.stringify({ backend: d.backend, location: d.location, applied }));
        else
          out(
            applied.length === 0
              ? `${d.backend} (${d.location}): schema up to date`
              : `${d.backend} (${d.location}): applied migration${applied.length > 1 ? 's' : ''} ${applied.join(', ')}`,
          );
      }, true);
    });

  db.command('status')
    .description('backend, applied and pending migrations, row counts')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withDb(async (d) => {
        const st = await storeStatus(d);
        if (opts.json) {
          out(JSON.stringify(st));
          return;
        }
        const lines = [`backend:   ${st.backend}`, `location:  ${st.location}`];
        lines.push(
          `applied:   ${st.applied.length === 0 ? '(none)' : st.applied.map((a) => `${a.version} ${a.name}`).join(', ')}`,
        );
        lines.push(
          `pending:   ${st.pending.length === 0 ? '(none)' : st.pending.map((p) => `${p.version} ${p.name}`).join(', ')}`,
        );
        if (st.pending.length > 0) lines.push('           run `pm-arb db migrate` to apply them');
        const names = Object.keys(st.rows);
        if (names.length > 0) {
          lines.push('rows:');
          const w = Math.max(...names.map((n) => n.length));
          for (const n of names) lines.push(`  ${n.padEnd(w)}  ${String(st.rows[n]).padStart(10)}`);
        }
        out(lines.join('\n'));
      });
    });

  db.command('prune')
    .description('delete opportunities, heartbeats and book/oracle history older than RETENTION_*_DAYS')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withDb(async (d) => {
        const retention = retentionFromConfig(loadConfig());
        // A command-line tool, not an agent: the wall clock is the right clock here.
        const deleted = await prune(d, retention, Date.now());
        if (opts.json) out(JSON.stringify({ retention, deleted }));
        else
          out(
            Object.entries(deleted)
              .map(([t, n]) => `${t}: ${n} deleted`)
              .join('\n'),
          );
      });
    });
}
