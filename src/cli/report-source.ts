/**
 * Where the report commands (`pm-arb trades | positions | decisions | pnl`) read from: the running pm-arb's
 * endpoint when one runs on this DATA_DIR (its embedded database is locked to it), else the store itself through
 * the same read API, served in this process without a socket. Both answer the read API's JSON (src/dashboard/
 * read-api.ts), so a report looks the same whether or not a system is running.
 *
 *   const src = await openReportSource(config);
 *   const page = await src.get('/api/fills', { limit: 20 });
 *   await src.close();
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { wallClock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { connectProcess, ProcessCallError } from '../dashboard/client.ts';
import { type Db, openDbFromConfig, redactUrl } from '../store/db.ts';
import { migrationStatus } from '../store/migrations.ts';
import { requireDataDir } from './files.ts';

export interface ReportSource {
  /** For people: where the figures come from ("the running pm-arb (pid 123)", "PGlite in /x/data/pglite"). */
  readonly via: string;
  get<T>(path: string, params?: Record<string, string | number | undefined>): Promise<T>;
  close(): Promise<void>;
}

/** A report cannot be made (nothing stored yet, a database that does not answer): exit code 1. */
export class ReportError extends Error {
  override name = 'ReportError';
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  return q.size > 0 ? `?${q}` : '';
}

/**
 * `announce` hears where the figures will come from before the store is opened (opening PGlite takes a second or
 * two of CPU): a report command says so at once.
 */
export async function openReportSource(
  config: Config,
  announce?: (via: string) => void,
): Promise<ReportSource> {
  const proc = connectProcess(config);
  if (proc) {
    const via = `the running pm-arb (pid ${proc.pid ?? '?'}, ${proc.url})`;
    announce?.(via);
    return {
      via,
      async get(path, params = {}) {
        try {
          return await proc.get(path, params);
        } catch (err) {
          if (err instanceof ProcessCallError) throw new ReportError(err.message);
          throw err;
        }
      },
      close: async () => {},
    };
  }
  const dataDir = config.databaseUrl ? resolve(config.dataDir) : requireDataDir(config);
  if (!config.databaseUrl && !existsSync(resolve(dataDir, 'pglite'))) {
    throw new ReportError(
      `nothing stored in ${dataDir} (DATA_DIR${process.env.DATA_DIR ? '' : ', by default ./data under the current directory'}): ` +
        'run `npm start` (pm-arb run) first, or set DATA_DIR to the directory a run used',
    );
  }
  announce?.(
    config.databaseUrl
      ? `PostgreSQL ${redactUrl(config.databaseUrl)}`
      : `PGlite in ${resolve(dataDir, 'pglite')}`,
  );
  const db: Db = await openDbFromConfig(config);
  try {
    const st = await migrationStatus(db);
    if (st.pending.length > 0) {
      throw new ReportError(
        `the store in ${db.location} is at an older schema (pending migrations ${st.pending.map((p) => p.version).join(', ')}): run \`pm-arb db migrate\``,
      );
    }
  } catch (err) {
    await db.close();
    throw err;
  }
  // the read API in this process, no socket: the same answers a running process gives
  const { createDashboard } = await import('../dashboard/server.ts');
  const app = createDashboard({
    config,
    clock: wallClock(),
    db,
    role: 'dashboard',
    instance: `report-${process.pid}`,
    builtins: ['read-api'],
    controlToken: randomBytes(24).toString('hex'), // no control routes here; never written anywhere
  });
  const readToken = config.dashboard.readToken;
  return {
    via: `${db.backend === 'pglite' ? 'PGlite in' : 'PostgreSQL'} ${db.location}`,
    async get<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
      const res = await app.app.request(`http://127.0.0.1${path}${query(params)}`, {
        headers: {
          accept: 'application/json',
          ...(readToken ? { authorization: `Bearer ${readToken}` } : {}),
        },
      });
      const body = (await res.json()) as { error?: string };
      if (!res.ok) throw new ReportError(body.error ?? `${res.status} ${res.statusText}`);
      return body as T;
    },
    async close() {
      await app.close();
      await db.close();
    },
  };
}
