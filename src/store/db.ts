/**
 * One small `Db` interface over two backends: embedded PGlite (real Postgres in WASM, file-backed under
 * config.dataDir) by default, and a PostgreSQL server through `pg` when DATABASE_URL is set. The same migrations
 * and queries run on both.
 *
 * Exactness: `numeric` and `bigint` columns come back as decimal strings on both backends (pg does this by default;
 * PGlite is told to), so money is read with parseMicro and never passes through a float.
 */
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../core/config.ts';
import { redactSecrets } from '../core/redact.ts';

export interface QueryResult<R> {
  readonly rows: R[];
  /** Rows inserted/updated/deleted (or returned). */
  readonly rowCount: number;
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Runs one or more statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * `COPY <table> (<columns>) FROM …` with `text` in COPY's text format (src/store/writer.ts builds it): from
   * STDIN on PostgreSQL (inside a transaction only), from a blob on PGlite. Absent where there is no such path.
   */
  copyFrom?(table: string, columns: readonly string[], text: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly backend: 'pglite' | 'postgres';
  /** Where the data lives, for humans (a path, or the URL without its password). */
  readonly location: string;
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export class DbUnavailableError extends Error {
  override name = 'DbUnavailableError';
}

export interface OpenDbOptions {
  /** postgres://… → PostgreSQL; absent → PGlite. */
  readonly url?: string | undefined;
  /** PGlite data directory (default ./data/pglite); 'memory://' for an in-memory database. */
  readonly dataDir?: string;
  /**
   * PGlite only: a new database starts as a copy of these files (a tarball from PGlite's dumpDataDir) instead of
   * running initdb, which costs seconds of CPU (benchmarks open many throwaway databases).
   */
  readonly template?: Blob;
  /** PostgreSQL only: a schema of its own (created if missing) put first on search_path, e.g. for tests. */
  readonly schema?: string;
  /** PostgreSQL only: pool size (default 4). */
  readonly poolSize?: number;
  /** PostgreSQL only: connect timeout (default 5 s). */
  readonly connectTimeoutMs?: number;
}

/** Opens the database the config names: PostgreSQL on DATABASE_URL, else PGlite under DATA_DIR/pglite. */
export function openDbFromConfig(
  config: Config,
  extra: Omit<OpenDbOptions, 'url' | 'dataDir'> = {},
): Promise<Db> {
  return openDb({ ...extra, url: config.databaseUrl, dataDir: resolve(config.dataDir, 'pglite') });
}

export async function openDb(opts: OpenDbOptions): Promise<Db> {
  if (opts.url) return openPostgres(opts.url, opts);
  return openPglite(opts.dataDir ?? resolve('data', 'pglite'), opts.template);
}

/** Where `openDbFromConfig` will open the store, for people: "PGlite in /abs/data/pglite" or "PostgreSQL <url>". */
export function storeWhere(config: Pick<Config, 'databaseUrl' | 'dataDir'>): string {
  return config.databaseUrl
    ? `PostgreSQL ${redactUrl(config.databaseUrl)}`
    : `PGlite in ${resolve(config.dataDir, 'pglite')}`;
}

/** postgres://user:secret@host/db?password=x → postgres://user@host/db?password=*** */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    return redactSecrets(u.toString().replace(/:@/, '@'));
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

async function openPostgres(url: string, opts: OpenDbOptions): Promise<Db> {
  const pg = (await import('pg')).default;
  const { from: copyFromStdin } = await import('pg-copy-streams');
  if (opts.schema !== undefined && !SCHEMA_NAME.test(opts.schema)) {
    throw new Error(`schema name must be lower-case letters, digits and _: ${JSON.stringify(opts.schema)}`);
  }
  const location = redactUrl(url) + (opts.schema ? ` (schema ${opts.schema})` : '');
  // Type parsers per pool, not global: numeric and int8 stay strings (pg's default), timestamps too.
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 4,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 10_000,
    ...(opts.schema ? { options: `-c search_path=${opts.schema},public` } : {}),
  });
  // An idle connection dropped by the server must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  try {
    const c = await pool.connect();
    try {
      if (opts.schema) await c.query(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}`);
    } finally {
      c.release();
    }
  } catch (err) {
    await pool.end().catch(() => {});
    throw new DbUnavailableError(
      `cannot connect to PostgreSQL at ${location}: ${errText(err)}. ` +
        'Is the server running and DATABASE_URL right? Unset DATABASE_URL to use the embedded database instead.',
    );
  }
  const wrap = (
    q: (sql: string, params?: unknown[]) => Promise<{ rows: unknown[]; rowCount: number | null }>,
  ) =>
    ({
      async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
        const r = await q(sql, params ? [...params] : undefined);
        return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
      },
      async exec(sql: string): Promise<void> {
        await q(sql);
      },
    }) satisfies Queryable;
  const base = wrap((sql, params) => pool.query(sql, params));
  let closed = false;
  return {
    backend: 'postgres',
    location,
    ...base,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken = false;
      // A checked-out client has no pool listener: a dropped connection must fail the query, not the process.
      const onError = (): void => {
        broken = true;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const tx: Queryable = {
          ...wrap((sql, params) => client.query(sql, params)),
          async copyFrom(table, columns, text): Promise<void> {
            const stream = client.query(copyFromStdin(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
            // resolves once the server has taken every row (pg-copy-streams finishes on CommandComplete)
            await pipeline(Readable.from([text]), stream);
          },
        };
        const out = await fn(tx);
        await client.query('COMMIT');
        return out;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true; // the connection is gone; do not return it to the pool
        }
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken ? true : undefined);
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite is one process at a time: two opening the same files would corrupt them. A lock file (<dir>.lock) holding the owner's
 * pid keeps a second process out (a lock left by a dead process is taken over). Returns the release function.
 */
function lockDataDir(dataDir: string): () => void {
  const path = `${dataDir.replace(/[\\/]+$/, '')}.lock`; // beside the data directory, not in it
  for (let tries = 0; tries < 3; tries++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      const release = (): void => {
        try {
          if (readFileSync(path, 'utf8') === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
      process.once('exit', release);
      return () => {
        process.off('exit', release);
        release();
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new DbUnavailableError(
          `the embedded database in ${dataDir} is in use by process ${owner} (pm-arb run?). PGlite takes one ` +
            'process at a time: stop that process, or set DATABASE_URL to share a PostgreSQL server.',
        );
      }
      try {
        unlinkSync(path); // stale: its owner is gone
      } catch {
        // someone else removed it first
      }
    }
  }
  throw new DbUnavailableError(`cannot take the lock ${path}: another process keeps taking it`);
}

/** PGlite's shared_buffers (Postgres's default is 128MB). */
export const PGLITE_SHARED_BUFFERS = '16MB';

async function openPglite(dataDir: string, template?: Blob): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  const memory = dataDir.startsWith('memory://');
  if (!memory) mkdirSync(dataDir, { recursive: true });
  const unlock = memory ? () => {} : lockDataDir(dataDir);
  const keep = (x: string): string => x;
  let db: InstanceType<typeof PGlite>;
  try {
    db = await PGlite.create(memory ? undefined : dataDir, {
      parsers: { 1700: keep, 20: keep },
      // PGlite's buffer pool lives in its WASM heap, which never shrinks: Postgres's default 128 MB pool filled up
      // with the chart history of a large market and stayed resident (a file-backed store's pages stay in the OS's
      // file cache anyway). `pm-arb run` at 20,000 markets: RSS −150 MB
      startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
      // a template only seeds a new database: an existing one keeps its files
      ...(template && (memory || !existsSync(join(dataDir, 'PG_VERSION'))) ? { loadDataDir: template } : {}),
    });
  } catch (err) {
    unlock();
    throw new DbUnavailableError(
      `cannot open the embedded database in ${dataDir}: ${errText(err)}. ` +
        'Is another process using it? PGlite takes one process at a time; set DATABASE_URL to share a server.',
    );
  }
  const wrap = (q: {
    query: (
      sql: string,
      params?: unknown[],
      options?: { blob?: Blob },
    ) => Promise<{ rows: unknown[]; affectedRows?: number }>;
    exec: (sql: string) => Promise<unknown>;
  }) =>
    ({
      async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
        const r = await q.query(sql, params ? [...params] : undefined);
        return { rows: r.rows as R[], rowCount: r.affectedRows ?? r.rows.length };
      },
      async exec(sql: string): Promise<void> {
        await q.exec(sql);
      },
      async copyFrom(table: string, columns: readonly string[], text: string): Promise<void> {
        // PGlite reads COPY's input from the blob handed to the query, under the name /dev/blob
        await q.query(`COPY ${table} (${columns.join(', ')}) FROM '/dev/blob'`, [], {
          blob: new Blob([text]),
        });
      },
    }) satisfies Queryable;
  const base = wrap(db);
  let closed = false;
  return {
    backend: 'pglite',
    location: memory ? 'memory://' : dataDir,
    ...base,
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return db.transaction((tx) => fn(wrap(tx)));
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      try {
        await db.close();
      } finally {
        unlock();
      }
    },
  };
}

export function errText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return errText(err.errors[0]);
  if (err instanceof Error) return redactSecrets(err.message || err.name);
  return redactSecrets(String(err));
}
