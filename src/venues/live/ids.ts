/**
 * Venue-side order ids, derived one way from our client order id (src/execution/ids.ts: `<requestId>.<leg>`), so a
 * retry, a restart or a second executor that picks up the same decision derives the same venue id, and the venue
 * holds at most one order for it.
 *
 * - Kalshi: client_order_id allows `[A-Za-z0-9_:+=/-]`, at most 64 characters, UUIDs preferred; ours may not fit,
 *   so the venue gets its UUID digest (`uuidFromId`) and reports are mapped back.
 * - Polymarket: no client id field; the order hash is the key, and it is deterministic because the salt comes from
 *   our id (`polymarketSalt`) and the signed timestamp from the decision time.
 */
import { createHash } from 'node:crypto';
import { uuidFromId } from '../../core/hash.ts';

export const kalshiClientOrderId = (ours: string): string => uuidFromId(ours);

/**
 * The Polymarket order salt for a client order id: 48 bits of SHA-256 as a decimal string. Below 2^53, so it
 * survives the JSON number the CLOB expects for `salt`.
 */
export function polymarketSalt(clientId: string): string {
  const h = createHash('sha256').update(`salt:${clientId}`, 'utf8').digest('hex');
  return String(Number.parseInt(h.slice(0, 12), 16));
}
