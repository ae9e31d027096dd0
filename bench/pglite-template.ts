/**
 * A migrated PGlite data directory as a tarball, for benches that open throwaway PGlite databases: PGlite runs
 * initdb in WASM for every new database (≈ 4–6 CPU-seconds on the 2-core machine) and the migrations take
 * about one more; that is setup, not what a bench measures. The tarball is made once per PGlite version and
 * migration set and kept in node_modules/.cache; `openDb({ template })` starts a database from it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDb } from '../src/store/db.ts';
import { MIGRATIONS, migrate } from '../src/store/migrations.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function pgliteTemplate(): Promise<Blob> {
  const pkg = join(root, 'node_modules', '@electric-sql', 'pglite', 'package.json'); // not in its exports map
  const { version } = JSON.parse(readFileSync(pkg, 'utf8')) as { version: string };
  const schema = createHash('sha256').update(JSON.stringify(MIGRATIONS)).digest('hex').slice(0, 12);
  const dir = join(root, 'node_modules', '.cache', 'pm-arb-bench');
  const file = join(dir, `pglite-${version}-${schema}.tar`);
  if (!existsSync(file)) {
    const data = mkdtempSync(join(tmpdir(), 'pm-arb-pglite-template-'));
    try {
      const db = await openDb({ dataDir: data });
      await migrate(db);
      await db.close();
      const { PGlite } = await import('@electric-sql/pglite');
      const raw = await PGlite.create(data);
      // uncompressed: gunzipping ~40 MB would cost every later open more CPU than the disk space is worth
      const tar = Buffer.from(await (await raw.dumpDataDir('none')).arrayBuffer());
      await raw.close();
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${file}.${process.pid}`, tar);
      renameSync(`${file}.${process.pid}`, file); // whole or absent, should two benches race
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  }
  return new Blob([readFileSync(file)]);
}
