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
