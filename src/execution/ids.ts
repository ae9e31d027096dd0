/**
 * Client order ids: ours, deterministic, so a retried or restarted submission carries the same id and can never
 * become a second order. `<requestId>.<legIndex>` for a leg, `<requestId>.<legIndex>.u` for the unwind of its
 * excess. Venues with an id format of their own derive theirs from this one with `uuidFromId` (core/hash.ts).
 */
export function clientOrderId(
  requestId: string,
  legIndex: number,
  purpose: 'trade' | 'unwind' = 'trade',
): string {
  if (!Number.isInteger(legIndex) || legIndex < 0) throw new Error(`leg index must be ≥ 0, got ${legIndex}`);
  return purpose === 'trade' ? `${requestId}.${legIndex}` : `${requestId}.${legIndex}.u`;
}
