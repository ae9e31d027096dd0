/**
 * HMAC signatures on the bus: the risk guardian signs its decisions (RISK_SIGNING_KEY) and control commands
 * carry a signature under the control key (CONTROL_SIGNING_KEY), so that someone who can write to Redis cannot
 * approve a trade or halt/resume the system. The MAC covers the message's canonical JSON (keys sorted, `sig`
 * left out); it is compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** JSON with object keys sorted at every level (undefined fields left out): the bytes that are signed. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
}

const mac = (body: object, key: string): string => {
  const { sig: _sig, ...rest } = body as { sig?: unknown };
  return createHmac('sha256', key).update(canonicalJson(rest)).digest('base64url');
};

/** The message with its `sig` set under `key`. */
export function signed<T extends object>(body: T, key: string): T & { sig: string } {
  return { ...body, sig: mac(body, key) };
}

export type Verdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Checks `body.sig` under `key`. */
export function verifySignature(body: object, key: string): Verdict {
  const sig = (body as { sig?: unknown }).sig;
  if (typeof sig !== 'string' || sig === '') return { ok: false, reason: 'unsigned' };
  const want = Buffer.from(mac(body, key));
  const got = Buffer.from(sig);
  if (got.length !== want.length || !timingSafeEqual(got, want))
    return { ok: false, reason: 'bad signature' };
  return { ok: true };
}
