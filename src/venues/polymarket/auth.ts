/**
 * Polymarket CLOB L2 authentication (API-key level), for authenticated reads such as balances and allowances:
 *   POLY_ADDRESS     the signer's wallet address (derived from POLYMARKET_PRIVATE_KEY; EIP-55 checksummed)
 *   POLY_API_KEY     the API key, POLY_PASSPHRASE its passphrase
 *   POLY_TIMESTAMP   epoch seconds, as a decimal string
 *   POLY_SIGNATURE   URL-safe base64 (padding kept) of HMAC-SHA256, keyed with the base64-decoded API secret, over
 *                    timestamp + METHOD + request path (without the query) + body (when there is one).
 * The API credentials are derived once from the wallet (L1) with the official client; this module only uses them.
 */
import { createECDH, createHmac, timingSafeEqual } from 'node:crypto';
import { keccak_256 } from '@noble/hashes/sha3.js';

export interface PolymarketApiCreds {
  readonly apiKey: string;
  readonly secret: string;
  readonly passphrase: string;
}

/** The EIP-55 address of a secp256k1 private key (hex, with or without 0x). */
export function addressFromPrivateKey(privateKeyHex: string): string {
  const hex = privateKeyHex.trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new Error('POLYMARKET_PRIVATE_KEY must be 32 bytes of hex (64 hex digits, optionally with 0x)');
  }
  const ecdh = createECDH('secp256k1');
  ecdh.setPrivateKey(Buffer.from(hex, 'hex'));
  const pub = ecdh.getPublicKey(); // 0x04 ‖ X ‖ Y
  const addr = Buffer.from(keccak_256(pub.subarray(1)))
    .subarray(12)
    .toString('hex');
  const hash = Buffer.from(keccak_256(Buffer.from(addr, 'ascii'))).toString('hex');
  let out = '0x';
  for (let i = 0; i < addr.length; i++)
    out += Number.parseInt(hash[i]!, 16) >= 8 ? addr[i]!.toUpperCase() : addr[i]!;
  return out;
}

export function l2Signature(
  secret: string,
  timestampS: string,
  method: string,
  path: string,
  body?: string,
): string {
  const q = path.indexOf('?');
  const message = timestampS + method.toUpperCase() + (q >= 0 ? path.slice(0, q) : path) + (body ?? '');
  const key = Buffer.from(secret.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return createHmac('sha256', key).update(message).digest('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** The five POLY_* headers for `method path` at `nowMs`. */
export function l2Headers(
  creds: PolymarketApiCreds,
  address: string,
  method: string,
  path: string,
  nowMs: number,
  body?: string,
): Record<string, string> {
  const ts = String(Math.floor(nowMs / 1000));
  return {
    POLY_ADDRESS: address,
    POLY_SIGNATURE: l2Signature(creds.secret, ts, method, path, body),
    POLY_TIMESTAMP: ts,
    POLY_API_KEY: creds.apiKey,
    POLY_PASSPHRASE: creds.passphrase,
  };
}

/** Checks a request's L2 headers (what the CLOB does; used by the fake server). Header names case-insensitive. */
export function verifyL2Headers(
  creds: PolymarketApiCreds & { readonly address: string },
  headers: Readonly<Record<string, string | string[] | undefined>>,
  method: string,
  path: string,
  opts: { nowMs?: number; maxSkewS?: number; body?: string } = {},
): boolean {
  const get = (n: string): string | undefined => {
    const v = headers[n] ?? headers[n.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  };
  const ts = get('POLY_TIMESTAMP');
  const sig = get('POLY_SIGNATURE');
  if (!ts || !sig || !/^\d+$/.test(ts)) return false;
  if (get('POLY_API_KEY') !== creds.apiKey || get('POLY_PASSPHRASE') !== creds.passphrase) return false;
  if (get('POLY_ADDRESS')?.toLowerCase() !== creds.address.toLowerCase()) return false;
  if (opts.nowMs !== undefined && Math.abs(opts.nowMs / 1000 - Number(ts)) > (opts.maxSkewS ?? 30))
    return false;
  const want = Buffer.from(l2Signature(creds.secret, ts, method, path, opts.body));
  const got = Buffer.from(sig);
  return want.length === got.length && timingSafeEqual(want, got);
}
