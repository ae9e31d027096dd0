/**
 * Client order ids, derived from the trade request id and the leg index so that a retry, a restart or a second
 * executor that picks up the same decision computes the same id, and the venue holds at most one order for it.
 *
 * The id is `pma-` and 32 hex digits of SHA-256(requestId "#" legIndex): 36 characters from [a-z0-9-], inside
 * Kalshi's client_order_id alphabet and length. Polymarket has no client id field: there the order hash is the
 * key, and it is deterministic because the salt comes from this id (`polymarketSalt`) and the signed timestamp
 * from the decision time.
 */
import { createHash } from 'node:crypto';

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export function clientOrderId(requestId: string, legIndex: number): string {
  if (requestId === '') throw new Error('clientOrderId needs a trade request id');
  if (!Number.isSafeInteger(legIndex) || legIndex < 0) {
    throw new Error(`clientOrderId needs a leg index ≥ 0, got ${legIndex}`);
  }
  return `pma-${sha256(`${requestId}#${legIndex}`).slice(0, 32)}`;
}

/**
 * The Polymarket order salt for a client order id: 48 bits of SHA-256 as a decimal string. Below 2^53, so it
 * survives the JSON number the CLOB expects for `salt`.
 */
export function polymarketSalt(clientId: string): string {
  return String(Number.parseInt(sha256(`salt:${clientId}`).slice(0, 12), 16));
}
