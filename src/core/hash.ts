import { createHash } from 'node:crypto';

/** FNV-1a 64-bit of a string, as 16 hex digits: a cheap, stable content version (not for security). */
export function fnv1a64(text: string): string {
  // 64-bit arithmetic on four 16-bit limbs (h0 lowest) in plain numbers: a BigInt multiply per character made
  // this the costliest step of decoding a market listing. prime = 2^40 + 0x1b3: h·prime = h·0x1b3 + (h << 40).
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  for (let i = 0; i < text.length; i++) {
    h0 ^= text.charCodeAt(i); // a UTF-16 unit: 16 bits, the lowest limb
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3;
    let t2 = h2 * 0x1b3 + (h0 << 8);
    const t3 = h3 * 0x1b3 + (h1 << 8);
    const c1 = t1 + (t0 >>> 16);
    h0 = t0 & 0xffff;
    t2 += c1 >>> 16;
    h1 = c1 & 0xffff;
    h3 = (t3 + (t2 >>> 16)) & 0xffff;
    h2 = t2 & 0xffff;
  }
  return hex4(h3) + hex4(h2) + hex4(h1) + hex4(h0);
}

const hex4 = (x: number): string => x.toString(16).padStart(4, '0');

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
