/** `pm-arb db` on the embedded database (a fresh DATA_DIR) and on PostgreSQL (a schema of its own). */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.ts';
import { MIGRATIONS } from '../../src/store/migrations.ts';
import { fillRow } from '../../src/store/rows.ts';
import { writeRows } from '../../src/store/writer.ts';
import { TEST_PG_URL, testSchema } from './pg.ts';
import * as S from './samples.ts';

const root = join(import.meta.dirname, '..', '..');
const cli = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, [join(root, 'bin', 'pm-arb.js'), 'db', ...args], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('pm-arb db', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pm-arb-db-cli-'));
  const schema = testSchema('cli');
  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    const db = await openDb({ url: TEST_PG_URL });
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.close();
  });

  it('PGlite: status names a missing database without creating it, migrate applies, status shows applied and row counts; data survives a reopen', async () => {
    const env = { DATA_DIR: dataDir };
    // status never creates a database: it says where it looked and how to make one
    const before = cli(['status', '--json'], env);
    expect(before.status).toBe(1);
    expect(before.stderr).toContain(`no database in ${join(dataDir, 'pglite')}`);
    expect(before.stderr).toContain('pm-arb db migrate');

    const mig = cli(['migrate'], env);
    expect(mig.status).toBe(0);
    const versions = MIGRATIONS.map((m) => m.version);
    expect(mig.stdout).toContain(`applied migration${versions.length > 1 ? 's' : ''} ${versions.join(', ')}`);

    // write through the library, read the count through the CLI (a separate process opening the same files)
    const db = await openDb({ dataDir: join(dataDir, 'pglite') });
    await writeRows(db, 'fills', [fillRow(S.fill(1)).row, fillRow(S.fill(2)).row]);
    await db.close();
    const after = JSON.parse(cli(['status', '--json'], env).stdout);
    expect(after.pending).toEqual([]);
    expect(after.rows.fills).toBe(2);
    expect(after.rows.system_state).toBe(1);
    const text = cli(['status'], env).stdout;
    expect(text).toMatch(/backend:\s+pglite/);
    expect(text).toMatch(/fills\s+2/);

    const pruned = JSON.parse(cli(['prune', '--json'], { ...env, RETENTION_HEARTBEATS_DAYS: '3' }).stdout);
    expect(pruned.retention.heartbeatsDays).toBe(3);
    expect(pruned.deleted).toEqual({
      opportunities: 0,
      agent_heartbeats: 0,
      book_history: 0,
      oracle_history: 0,
      execution_intents: 0,
    });
  }, 180_000);

  it('PostgreSQL via DATABASE_URL', async () => {
    const env = { DATABASE_URL: `${TEST_PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}` };
    // the schema must exist for search_path to land in it
    const db = await openDb({ url: TEST_PG_URL, schema });
    await db.close();
    expect(cli(['migrate'], env).status).toBe(0);
    const st = JSON.parse(cli(['status', '--json'], env).stdout);
    expect(st.backend).toBe('postgres');
    expect(st.applied.map((a: { version: number }) => a.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(st.rows.fills).toBe(0);
  }, 60_000);
});

describe('the embedded database is one process at a time', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pm-arb-db-lock-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('a second process is refused with a clear message while the first has it open; a stale lock is taken over', async () => {
    const dir = join(dataDir, 'pglite');
    const db = await openDb({ dataDir: dir });
    const r = cli(['status'], { DATA_DIR: dataDir });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`is in use by process ${process.pid}`);
    expect(r.stderr).toContain('DATABASE_URL');
    await db.close();
    // a lock left by a process that no longer exists does not keep anyone out
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    writeFileSync(`${dir}.lock`, dead.stdout);
    const again = await openDb({ dataDir: dir });
    expect(readFileSync(`${dir}.lock`, 'utf8')).toBe(String(process.pid));
    await again.close();
    expect(existsSync(`${dir}.lock`)).toBe(false);
  }, 120_000);
});
