/**
 * The CLI's way into a running process (`pm-arb run`, `pm-arb dashboard`): its endpoint comes from
 * DATA_DIR/control-endpoint.json (written at start, removed at stop; else DASHBOARD_HOST/PORT), the token from
 * CONTROL_TOKEN or DATA_DIR/control-token. Reads (`get`) and control actions (`post`) go through the same HTTP
 * API as the dashboard, so a command works while the embedded database is locked to the running process.
 *
 *   const p = await connectProcess(config);            // null when nothing runs on this DATA_DIR
 *   const fills = await p.get('/api/fills', { limit: 20 });
 *   await p.post('/api/control/halt', { reason: 'news', actor: 'alice' });
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../core/config.ts';
import { readControlToken } from './security.ts';

/**
 * Where a running process says its control endpoint is, for the CLI (`pm-arb halt` and the reports). Kept here,
 * not in server.ts, so that a report command does not load the server (hono, the bus) to find it.
 */
export const ENDPOINT_FILE = 'control-endpoint.json';

export interface ProcessClient {
  /** The process's base URL, e.g. http://127.0.0.1:8787 */
  readonly url: string;
  readonly pid: number | null;
  get<T = unknown>(path: string, params?: Record<string, string | number | undefined>): Promise<T>;
  post<T = unknown>(path: string, body: unknown): Promise<T>;
}

export class ProcessCallError extends Error {
  override name = 'ProcessCallError';
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The endpoint a live process advertises on this DATA_DIR, or null. */
export function advertisedEndpoint(dataDir: string): { url: string; pid: number } | null {
  try {
    const e = JSON.parse(readFileSync(resolve(dataDir, ENDPOINT_FILE), 'utf8')) as {
      url?: unknown;
      pid?: unknown;
    };
    if (typeof e.url !== 'string' || typeof e.pid !== 'number' || !alive(e.pid)) return null;
    return { url: e.url, pid: e.pid };
  } catch {
    return null;
  }
}

/**
 * A client for the process running on config.dataDir, or null when none advertises itself there. `timeoutMs`
 * bounds every call (default 5 s).
 */
export function connectProcess(config: Config, opts: { timeoutMs?: number } = {}): ProcessClient | null {
  const ep = advertisedEndpoint(config.dataDir);
  if (!ep) return null;
  const token = readControlToken({ configured: config.dashboard.controlToken, dataDir: config.dataDir });
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const call = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(`${ep.url}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new ProcessCallError(
        `the running pm-arb (pid ${ep.pid}) did not answer at ${ep.url}: ${(err as Error).message}`,
        null,
      );
    }
    const out = (await res.json().catch(() => ({}))) as { error?: string };
    if (!res.ok) {
      const hint =
        res.status === 401 && !token
          ? ' (no control token: set CONTROL_TOKEN as the running process has it)'
          : '';
      throw new ProcessCallError(`${out.error ?? `${res.status} ${res.statusText}`}${hint}`, res.status);
    }
    return out as T;
  };
  return {
    url: ep.url,
    pid: ep.pid,
    get(path, params = {}) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
      return call('GET', q.size > 0 ? `${path}?${q}` : path);
    },
    post(path, body) {
      return call('POST', path, { source: 'api', ...(body as object) });
    },
  };
}
