/**
 * Client order ids: ours, deterministic, so a retried or restarted submission carries the same id and can never
 * become a second order. `<requestId>.<legIndex>` for a leg, `<requestId>.<legIndex>.u` for the unwind of its
 * excess. Venues with an id format of their own derive theirs from this one with `uuidFromId`.
 */
import { createHash } from 'node:crypto';

export function clientOrderId(
  requestId: string,
  legIndex: number,
  purpose: 'trade' | 'unwind' = 'trade',
): string {
  if (!Number.isInteger(legIndex) || legIndex < 0) throw new Error(`leg index must be ≥ 0, got ${legIndex}`);
  return purpose === 'trade' ? `${requestId}.${legIndex}` : `${requestId}.${legIndex}.u`;
}

/** A UUID-shaped digest (version 5 layout) of an id: the same id always gives the same UUID. */
export function uuidFromId(id: string): string {
  const h = createHash('sha1').update(id).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
