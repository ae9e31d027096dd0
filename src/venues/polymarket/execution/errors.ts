/**
 * Polymarket CLOB answers → typed outcomes. The CLOB has no machine-readable error code: every error body is
 * `{"error": "<message>"}` (docs "Error Codes"). So the decision that matters — refused for good, or outcome
 * unknown — is taken from the HTTP status alone, and the reason code comes from this one table of the documented
 * messages, kept here at the venue edge (unknown text → `other`; nothing above this file reads message text).
 */
import type { Ambiguous, Rejection, RejectReason } from '../../live/types.ts';

/** Documented order-placement messages → reasons. `{id}`/`{price}` parts vary, so each entry is a pattern. */
const MESSAGE_REASONS: readonly (readonly [RegExp, RejectReason])[] = [
  [/not enough balance \/ allowance/, 'insufficient_funds'],
  [/breaks minimum tick size rule/, 'invalid_price'],
  [/lower than the minimum/, 'invalid_size'],
  [/is invalid\. Duplicated\./, 'duplicate'],
  [/^invalid post-only order|crosses the book/, 'post_only_would_cross'],
  [/FOK orders are (fully )?filled or killed/, 'fok_not_filled'],
  [/no orders found to match with FAK order|there are no matching orders/, 'no_liquidity'],
  [/market is not yet ready|closed only mode|address banned/, 'market_closed'],
  [/invalid signature|signer address has to be|order owner has to be/, 'bad_signature'],
  [/invalid expiration/, 'invalid_order'],
  [/Invalid order payload|invalid amounts/, 'invalid_order'],
  [/Unauthorized|Invalid L1 Request headers|Invalid api key/, 'unauthorized'],
  [/Trading is currently|post-only mode/, 'trading_paused'],
  [/not found/, 'not_found'],
];

export function reasonFromMessage(message: string): RejectReason {
  for (const [re, reason] of MESSAGE_REASONS) if (re.test(message)) return reason;
  return 'other';
}

export type ClobOutcome = { readonly kind: 'ok' } | Rejection | Ambiguous;

/** Classifies a response by status (0 = no response at all). */
export function classifyClobStatus(status: number, body: string): ClobOutcome {
  if (status >= 200 && status < 300) return { kind: 'ok' };
  const message = errorMessage(body);
  if (status === 0 || status === 408 || status === 425 || (status >= 500 && status !== 503)) {
    return { kind: 'ambiguous', status, message: message || `HTTP ${status}` };
  }
  if (status === 429) return { kind: 'rejected', reason: 'rate_limited', status, message };
  if (status === 401 || status === 403) return { kind: 'rejected', reason: 'unauthorized', status, message };
  if (status === 503) return { kind: 'rejected', reason: 'trading_paused', status, message };
  if (status === 404) return { kind: 'rejected', reason: 'not_found', status, message };
  return { kind: 'rejected', reason: reasonFromMessage(message), status, message };
}

/** The `error` field of a CLOB error body (or the raw text when it is not JSON). */
export function errorMessage(body: string): string {
  if (body === '') return '';
  try {
    const j = JSON.parse(body) as { error?: unknown };
    if (typeof j.error === 'string') return j.error;
    return j.error === undefined ? body : JSON.stringify(j.error);
  } catch {
    return body;
  }
}
