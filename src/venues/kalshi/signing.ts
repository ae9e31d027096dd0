/**
 * Kalshi API-key request signing (K11): every REST call and the websocket handshake carry
 *   KALSHI-ACCESS-KEY        the key id
 *   KALSHI-ACCESS-TIMESTAMP  epoch milliseconds, as a decimal string
 *   KALSHI-ACCESS-SIGNATURE  base64 RSA-PSS/SHA-256 (salt length = digest length) of
 *                            timestamp + METHOD + path, the path from the host root and without the query
 *                            (e.g. `/trade-api/v2/markets`, `/trade-api/ws/v2`).
 * The private key is a PEM file named by KALSHI_PRIVATE_KEY_PATH; it is read once and never logged.
 */
import { constants, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const KALSHI_WS_PATH = '/trade-api/ws/v2';

export const HEADER_KEY = 'KALSHI-ACCESS-KEY';
export const HEADER_TS = 'KALSHI-ACCESS-TIMESTAMP';
export const HEADER_SIG = 'KALSHI-ACCESS-SIGNATURE';

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };

/** The signed text: timestamp + upper-case method + path without its query string. */
export function signingMessage(timestampMs: string, method: string, path: string): string {
  const q = path.indexOf('?');
  return timestampMs + method.toUpperCase() + (q >= 0 ? path.slice(0, q) : path);
}

export interface KalshiSigner {
  readonly keyId: string;
  /** The three auth headers for `method path` at `nowMs`. */
  headers(method: string, path: string, nowMs: number): Record<string, string>;
}

export interface KalshiSignerOptions {
  keyId: string;
  /** PEM text of the RSA private key (PKCS#1 or PKCS#8). */
  privateKeyPem: string;
}

export function createKalshiSigner(opts: KalshiSignerOptions): KalshiSigner {
  if (!opts.keyId) throw new Error('Kalshi signing needs a key id: set KALSHI_API_KEY_ID (or pass keyId)');
  let key: KeyObject;
  try {
    key = createPrivateKey(opts.privateKeyPem);
  } catch (e) {
    throw new Error(
      `Kalshi private key is not a readable PEM (${(e as Error).message}); point KALSHI_PRIVATE_KEY_PATH at the RSA key file Kalshi issued`,
    );
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new Error(`Kalshi private key must be RSA, got ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  return {
    keyId: opts.keyId,
    headers(method, path, nowMs) {
      const ts = String(Math.trunc(nowMs));
      const sig = sign('sha256', Buffer.from(signingMessage(ts, method, path), 'utf8'), { key, ...PSS });
      return { [HEADER_KEY]: opts.keyId, [HEADER_TS]: ts, [HEADER_SIG]: sig.toString('base64') };
    },
  };
}

/** Reads the PEM named by KALSHI_PRIVATE_KEY_PATH; a clear message when it is missing. */
export function loadKalshiPrivateKey(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const path = env.KALSHI_PRIVATE_KEY_PATH;
  if (!path)
    throw new Error(
      'KALSHI_PRIVATE_KEY_PATH is not set: point it at the PEM private key of your Kalshi API key',
    );
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read KALSHI_PRIVATE_KEY_PATH=${path}: ${(e as Error).message}`);
  }
}

/**
 * Checks a request's signature with the public key (what Kalshi's server does; used by the fake server).
 * `headers` are looked up case-insensitively. `maxSkewMs` bounds |now − timestamp| when `nowMs` is given.
 */
export function verifyKalshiSignature(
  publicKeyPem: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  method: string,
  path: string,
  opts: { keyId?: string; nowMs?: number; maxSkewMs?: number } = {},
): boolean {
  const get = (name: string): string | undefined => {
    const v = headers[name] ?? headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  };
  const keyId = get(HEADER_KEY);
  const ts = get(HEADER_TS);
  const sig = get(HEADER_SIG);
  if (!keyId || !ts || !sig || !/^\d+$/.test(ts)) return false;
  if (opts.keyId !== undefined && keyId !== opts.keyId) return false;
  if (opts.nowMs !== undefined && Math.abs(opts.nowMs - Number(ts)) > (opts.maxSkewMs ?? 30_000))
    return false;
  try {
    return verify(
      'sha256',
      Buffer.from(signingMessage(ts, method, path), 'utf8'),
      { key: createPublicKey(publicKeyPem), ...PSS },
      Buffer.from(sig, 'base64'),
    );
  } catch {
    return false;
  }
}
