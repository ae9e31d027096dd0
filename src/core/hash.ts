import { createHash } from 'node:crypto';

/** FNV-1a 64-bit of a string, as 16 hex digits: a cheap, stable content version (not for security). */
export function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * prime) & mask;
  }
  return h.toString(16).padStart(16, '0');
}

/** Version of a value: the hash of its JSON. */
export function contentVersion(value: unknown): string {
  return fnv1a64(JSON.stringify(value));
}

/** A UUID-shaped digest (version 5 layout) of an id: the same id always gives the same UUID. */
export function uuidFromId(id: string): string {
  const h = createHash('sha1').update(id).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
