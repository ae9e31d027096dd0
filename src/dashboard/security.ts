/**
 * Who may read and who may act.
 *
 * - Reading: open on a loopback address (127.0.0.1, ::1), where the Host header must name the loopback address
 *   too (a page on another site that rebinds its DNS name to 127.0.0.1 gets 403). On any other address the
 *   server refuses to start without DASHBOARD_TOKEN, and then every request needs it: `Authorization: Bearer
 *   <DASHBOARD_TOKEN>` (scripts) or the session cookie the /login form sets (browsers; HttpOnly, SameSite=Strict).
 * - Acting (halt, resume, strategy on/off, match review, alert settings): `Authorization: Bearer <control
 *   token>` on every request. The control token is CONTROL_TOKEN, or, when unset, a random one kept in
 *   DATA_DIR/control-token (mode 0600) so the local CLI can read it. It also grants reading.
 * - Cross-site requests: a state-changing request must carry the token in a header (a form on another site
 *   cannot), be JSON (Content-Type application/json, so a cross-site fetch needs a CORS preflight, which this
 *   server never grants), and, when the browser says where it comes from (Origin, Sec-Fetch-Site), come from
 *   this very origin.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import type { Context, MiddlewareHandler } from 'hono';
import { ConfigError } from '../core/config.ts';

export const CONTROL_TOKEN_FILE = 'control-token';
export const SESSION_COOKIE = 'pmarb_session';

export interface ControlToken {
  readonly token: string;
  /** Where it comes from, for the start banner (never the token itself). */
  readonly source: 'CONTROL_TOKEN' | 'file';
  /** The file holding it (source 'file'). */
  readonly path?: string;
}

const TOKEN_TEXT = /^[A-Za-z0-9_-]{32,256}$/;

export function controlTokenPath(dataDir: string): string {
  return resolve(dataDir, CONTROL_TOKEN_FILE);
}

/**
 * The control token: CONTROL_TOKEN when set; else the one in DATA_DIR/control-token when that file is private
 * (mode 0600) and well-formed, so every process on one DATA_DIR and the CLI share it; else a new random one,
 * written there with mode 0600.
 */
export function resolveControlToken(opts: {
  readonly configured: string | undefined;
  readonly dataDir: string;
}): ControlToken {
  if (opts.configured) return { token: opts.configured, source: 'CONTROL_TOKEN' };
  const path = controlTokenPath(opts.dataDir);
  try {
    const st = statSync(path);
    const text = readFileSync(path, 'utf8').trim();
    if ((st.mode & 0o077) === 0 && TOKEN_TEXT.test(text)) return { token: text, source: 'file', path };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(
        `cannot read the control token file ${path}: ${(err as Error).message}. ` +
          'Fix its permissions, delete it (a new one is made), or set CONTROL_TOKEN.',
      );
    }
  }
  const token = randomBytes(32).toString('base64url');
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${token}\n`, { mode: 0o600 });
    chmodSync(path, 0o600); // an existing file keeps its old mode on write
  } catch (err) {
    throw new Error(
      `cannot write the control token to ${path}: ${(err as Error).message}. ` +
        'Make DATA_DIR writable, or set CONTROL_TOKEN.',
    );
  }
  return { token, source: 'file', path };
}

/** Reads the control token a running process uses (for the CLI): CONTROL_TOKEN, else DATA_DIR/control-token. */
export function readControlToken(opts: {
  configured: string | undefined;
  dataDir: string;
}): string | undefined {
  if (opts.configured) return opts.configured;
  try {
    const text = readFileSync(controlTokenPath(opts.dataDir), 'utf8').trim();
    return TOKEN_TEXT.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/** 127.0.0.1, any 127.x address, ::1 and "localhost" are loopback; everything else (0.0.0.0 too) is not. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return isLoopbackHost(h.slice(7));
  return false;
}

/** A configuration that would expose the dashboard: a usage error (exit 2), with what to set. */
export class UnsafeBindError extends ConfigError {
  override name = 'UnsafeBindError';
}

/** A non-loopback address needs DASHBOARD_TOKEN; a too-short token is refused. */
export function checkBind(host: string, readToken: string | undefined): void {
  if (readToken !== undefined && readToken.length < 16) {
    throw new UnsafeBindError(
      'DASHBOARD_TOKEN is too short: use at least 16 characters (e.g. `openssl rand -hex 24`)',
    );
  }
  if (!isLoopbackHost(host) && readToken === undefined) {
    throw new UnsafeBindError(
      `refusing to serve the dashboard on ${host} without DASHBOARD_TOKEN: anyone who can reach that address ` +
        'could read your positions. Set DASHBOARD_TOKEN (e.g. `openssl rand -hex 24`), or keep ' +
        'DASHBOARD_HOST=127.0.0.1 and reach it through an SSH tunnel.',
    );
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time comparison of two secrets (of any length). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** The session cookie value for a read token: an HMAC, so the cookie never carries the token itself. */
export function sessionValue(readToken: string): string {
  return createHmac('sha256', readToken).update('pm-arb dashboard session v1').digest('base64url');
}

export function bearer(c: Context): string | undefined {
  const h = c.req.header('authorization');
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}

function cookie(c: Context, name: string): string | undefined {
  const h = c.req.header('cookie');
  if (!h) return undefined;
  for (const part of h.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export interface AccessOptions {
  readonly controlToken: string;
  readonly readToken: string | undefined;
  /** The address the server listens on: the Host check applies on loopback without a read token. */
  readonly host: string;
}

/** A JSON error body with a message a person can act on. */
export function problem(
  c: Context,
  status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 500 | 503,
  message: string,
) {
  return c.json({ error: message }, status);
}

/** True when the request carries the read token (header or session cookie) or the control token. */
export function canRead(c: Context, o: AccessOptions): boolean {
  if (o.readToken === undefined) return true;
  const b = bearer(c);
  if (b !== undefined && (sameSecret(b, o.readToken) || sameSecret(b, o.controlToken))) return true;
  const s = cookie(c, SESSION_COOKIE);
  return s !== undefined && sameSecret(s, sessionValue(o.readToken));
}

export function hasControlToken(c: Context, o: AccessOptions): boolean {
  const b = bearer(c);
  return b !== undefined && sameSecret(b, o.controlToken);
}

/**
 * Host check (DNS rebinding): without a read token the data is open to whoever reaches the socket, so the
 * request must name a loopback host. With a read token the token is the guard (and reverse proxies may send
 * their public name).
 */
export function hostGuard(o: AccessOptions): MiddlewareHandler {
  return async (c, next) => {
    if (o.readToken === undefined) {
      const host = c.req.header('host') ?? new URL(c.req.url).host;
      const name = host.replace(/:\d+$/, '');
      if (!isLoopbackHost(name)) {
        return problem(
          c,
          403,
          `this dashboard answers to 127.0.0.1/localhost only (Host: ${host}); to serve it under another name set DASHBOARD_TOKEN`,
        );
      }
    }
    await next();
  };
}

/** Read access for every request except public paths; browsers without a session go to /login. */
export function readGuard(o: AccessOptions, isPublic: (path: string) => boolean): MiddlewareHandler {
  return async (c, next) => {
    if (isPublic(c.req.path) || canRead(c, o)) {
      await next();
      return;
    }
    const wantsHtml = (c.req.header('accept') ?? '').includes('text/html');
    if (wantsHtml && c.req.method === 'GET') return c.redirect('/login', 303);
    return problem(
      c,
      401,
      'this dashboard needs DASHBOARD_TOKEN: send "Authorization: Bearer <token>" or sign in at /login',
    );
  };
}

/**
 * The request comes from this server's own pages, or from no browser at all (a script or the CLI send no
 * Origin and no Sec-Fetch-Site). Origin must name the host the request was sent to (Host or X-Forwarded-Host).
 */
export function sameOrigin(c: Context): { ok: true } | { ok: false; why: string } {
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return { ok: false, why: `cross-site request refused (Sec-Fetch-Site: ${site})` };
  }
  const origin = c.req.header('origin');
  if (origin !== undefined) {
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      return { ok: false, why: `cross-site request refused (Origin: ${origin})` };
    }
    const hosts = [c.req.header('host'), c.req.header('x-forwarded-host'), new URL(c.req.url).host].filter(
      (h): h is string => h !== undefined,
    );
    if (!hosts.includes(originHost))
      return { ok: false, why: `cross-site request refused (Origin: ${origin})` };
  }
  return { ok: true };
}

/** Control access: the control token in the Authorization header, a JSON body, and no cross-site origin. */
export function controlGuard(o: AccessOptions): MiddlewareHandler {
  return async (c, next) => {
    const origin = sameOrigin(c);
    if (!origin.ok) return problem(c, 403, origin.why);
    if (!hasControlToken(c, o)) {
      return problem(
        c,
        401,
        'control needs the control token: send "Authorization: Bearer <token>" (CONTROL_TOKEN, or the file ' +
          `DATA_DIR/${CONTROL_TOKEN_FILE} when CONTROL_TOKEN is not set)`,
      );
    }
    if (c.req.method !== 'GET') {
      const type = c.req.header('content-type') ?? '';
      if (!/^application\/json\b/i.test(type)) {
        return problem(c, 415, 'send the request body as JSON (Content-Type: application/json)');
      }
    }
    await next();
  };
}

/** Headers on every response: no framing (the kill switch cannot be clickjacked), no sniffing, own scripts only. */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Cross-Origin-Opener-Policy', 'same-origin');
    c.header('Cross-Origin-Resource-Policy', 'same-origin');
    c.header(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
  };
}
