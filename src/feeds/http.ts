/**
 * A small JSON HTTP client for venue REST APIs, on undici.
 *
 * Each call: waits for the rate limiter, sends with a whole-request timeout, retries with exponential backoff
 * and full jitter on 429, 5xx, timeouts, dropped connections and unparseable bodies (honouring Retry-After),
 * and returns the parsed JSON together with the raw text. `onResponse(req, data)` sees every successful
 * response so a caller can record raw frames. Failures are typed: `HttpError` with `status` (0 when no HTTP
 * status was received) and `kind`.
 */
import { Agent, type Dispatcher, request } from 'undici';
import { Backoff, type BackoffOptions, sleep } from './backoff.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { RawRequest } from './types.ts';

export type HttpErrorKind = 'status' | 'timeout' | 'network' | 'parse' | 'aborted';

export class HttpError extends Error {
  override name = 'HttpError';
  /** HTTP status, 0 when none was received (timeout, network). */
  readonly status: number;
  readonly kind: HttpErrorKind;
  readonly req: RawRequest;
  /** Response body (truncated to 2 kB) when there was one. */
  readonly body: string;
  /** Attempts made, including the one that failed. */
  readonly attempts: number;
  /** The Retry-After header of a 429/503, as sent. */
  retryAfter: string | undefined;
  constructor(
    kind: HttpErrorKind,
    status: number,
    req: RawRequest,
    message: string,
    body = '',
    attempts = 1,
  ) {
    super(`${req.method} ${req.path}: ${message}`);
    this.kind = kind;
    this.status = status;
    this.req = req;
    this.body = body.length > 2048 ? `${body.slice(0, 2048)}…` : body;
    this.attempts = attempts;
  }
  /** 429, 5xx, timeouts, dropped connections and broken bodies are worth another try. */
  get retryable(): boolean {
    if (this.kind === 'aborted') return false;
    if (this.kind !== 'status') return true;
    return this.status === 429 || this.status === 408 || this.status >= 500;
  }
}

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface HttpRequestOptions {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path below the base URL, starting with `/`. */
  readonly path: string;
  readonly query?: Query;
  /** JSON body (serialized here). */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  /** Retries after the first attempt (default: the client's). */
  readonly retries?: number;
  /** Rate-limit key (default `<rateAlias> <path>`). */
  readonly rateKey?: string;
  /** Tokens this call costs (default 1). */
  readonly cost?: number;
  readonly signal?: AbortSignal;
}

export interface HttpResponse<T = unknown> {
  readonly status: number;
  readonly data: T;
  /** The body exactly as received. */
  readonly text: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly req: RawRequest;
  readonly attempts: number;
}

export interface RetryInfo {
  readonly req: RawRequest;
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: HttpError;
}

export interface HttpClientOptions {
  readonly baseUrl: string;
  /** Whole-request timeout, ms (default 10 s). */
  readonly timeoutMs?: number;
  /**
   * Retries after the first attempt (default 3), for every method: pass `retries: 0` on a request that must not
   * be repeated (an order placement), since a timeout does not say whether the server acted on it.
   */
  readonly retries?: number;
  readonly backoff?: BackoffOptions;
  readonly limiter?: RateLimiter;
  /** Prefix of rate-limit keys, e.g. `gamma` → `gamma /markets`. */
  readonly rateAlias?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Longest Retry-After honoured, ms (default 60 s); longer values are capped. */
  readonly maxRetryAfterMs?: number;
  /** Every successful response, for raw-frame recording. */
  readonly onResponse?: (req: RawRequest, data: unknown, res: { status: number; text: string }) => void;
  readonly onRetry?: (info: RetryInfo) => void;
}

export interface HttpClient {
  readonly baseUrl: string;
  request<T = unknown>(opts: HttpRequestOptions): Promise<HttpResponse<T>>;
  get<T = unknown>(path: string, query?: Query, opts?: Partial<HttpRequestOptions>): Promise<HttpResponse<T>>;
  post<T = unknown>(
    path: string,
    body: unknown,
    opts?: Partial<HttpRequestOptions>,
  ): Promise<HttpResponse<T>>;
  /** Counters: requests, retries, failures, by status class. */
  stats(): Readonly<Record<string, number>>;
  close(): Promise<void>;
}

/** Parses Retry-After (delta-seconds or an HTTP date) into ms from `nowMs`; undefined when absent or bad. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - nowMs);
}

function cleanQuery(q: Query | undefined): Record<string, string> | undefined {
  if (!q) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) if (v !== undefined) out[k] = String(v);
  return out;
}

function headerMap(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h))
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export function createHttpClient(opts: HttpClientOptions): HttpClient {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const defaultRetries = opts.retries ?? 3;
  const maxRetryAfter = opts.maxRetryAfterMs ?? 60_000;
  const dispatcher: Dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 16 });
  const counters: Record<string, number> = { requests: 0, retries: 0, failures: 0, ok: 0 };
  const count = (k: string): void => {
    counters[k] = (counters[k] ?? 0) + 1;
  };

  async function once<T>(r: HttpRequestOptions, raw: RawRequest, attempt: number): Promise<HttpResponse<T>> {
    const method = r.method ?? 'GET';
    const url = new URL(base + r.path);
    if (raw.query) for (const [k, v] of Object.entries(raw.query)) url.searchParams.set(k, v);
    const ctl = new AbortController();
    let timedOut = false;
    const limit = r.timeoutMs ?? timeoutMs;
    const timer = setTimeout(() => {
      timedOut = true;
      ctl.abort(new Error('timeout'));
    }, limit);
    const onOuterAbort = (): void => ctl.abort(r.signal?.reason);
    r.signal?.addEventListener('abort', onOuterAbort, { once: true });
    count('requests');
    try {
      const headers: Record<string, string> = { accept: 'application/json', ...opts.headers, ...r.headers };
      let body: string | undefined;
      if (r.body !== undefined) {
        body = JSON.stringify(r.body);
        headers['content-type'] = 'application/json';
      }
      const res = await request(url, { method, headers, body, signal: ctl.signal, dispatcher });
      const text = await res.body.text();
      const hdrs = headerMap(res.headers as Record<string, string | string[] | undefined>);
      count(`status_${Math.floor(res.statusCode / 100)}xx`);
      if (res.statusCode < 200 || res.statusCode >= 300) {
        const err = new HttpError('status', res.statusCode, raw, `HTTP ${res.statusCode}`, text, attempt);
        err.retryAfter = hdrs['retry-after'];
        throw err;
      }
      let data: T;
      try {
        data = (text === '' ? null : JSON.parse(text)) as T;
      } catch (e) {
        throw new HttpError(
          'parse',
          res.statusCode,
          raw,
          `response is not JSON (${(e as Error).message})`,
          text,
          attempt,
        );
      }
      return { status: res.statusCode, data, text, headers: hdrs, req: raw, attempts: attempt };
    } catch (e) {
      if (e instanceof HttpError) throw e;
      if (timedOut) throw new HttpError('timeout', 0, raw, `timed out after ${limit} ms`, '', attempt);
      if (r.signal?.aborted) throw new HttpError('aborted', 0, raw, 'aborted', '', attempt);
      const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      throw new HttpError('network', 0, raw, msg, '', attempt);
    } finally {
      clearTimeout(timer);
      r.signal?.removeEventListener('abort', onOuterAbort);
    }
  }

  async function doRequest<T>(r: HttpRequestOptions): Promise<HttpResponse<T>> {
    const raw: RawRequest = { method: r.method ?? 'GET', path: r.path, query: cleanQuery(r.query) };
    const retries = r.retries ?? defaultRetries;
    const backoff = new Backoff({ baseMs: 200, maxMs: 10_000, ...opts.backoff });
    const rateKey = r.rateKey ?? (opts.rateAlias ? `${opts.rateAlias} ${r.path}` : r.path);
    for (let attempt = 1; ; attempt++) {
      if (opts.limiter) await opts.limiter.take(rateKey, r.cost ?? 1);
      try {
        const res = await once<T>(r, raw, attempt);
        count('ok');
        opts.onResponse?.(raw, res.data, { status: res.status, text: res.text });
        return res;
      } catch (e) {
        const err = e as HttpError;
        if (!err.retryable || attempt > retries) {
          count('failures');
          throw err;
        }
        const ra = parseRetryAfter(err.retryAfter, Date.now());
        const delay = ra !== undefined ? Math.min(ra, maxRetryAfter) : backoff.next();
        count('retries');
        opts.onRetry?.({ req: raw, attempt, delayMs: delay, error: err });
        await sleep(delay, r.signal);
      }
    }
  }

  return {
    baseUrl: base,
    request: doRequest,
    get: (path, query, o) => doRequest({ ...o, method: 'GET', path, query }),
    post: (path, body, o) => doRequest({ ...o, method: 'POST', path, body }),
    stats: () => ({ ...counters }),
    close: () => dispatcher.close(),
  };
}
