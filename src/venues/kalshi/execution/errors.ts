/**
 * Kalshi order answers → typed outcomes, by HTTP status and the machine-readable `error.code` (Kalshi's "Order
 * Errors" page: switch on `code`; read `error.code`, fall back to a top-level `code`; on 400/403/404/409/410/429 an
 * unknown code is still a rejection; 408, 5xx and a dropped connection leave the outcome unknown).
 *
 * Codes verified in the docs: invalid_order, missing_parameters, bad_request. The others below are mapped by
 * status where the docs give no code we could check: 409 (conflict: a client_order_id already used) is taken as
 * "duplicate", so the client looks the order up instead of reporting a rejection.
 */
import type { Ambiguous, Rejection, RejectReason } from '../../live/types.ts';
import type { WireErrorEnvelope } from './wire.ts';

const CODE_REASONS: Readonly<Record<string, RejectReason>> = {
  invalid_order: 'invalid_order',
  missing_parameters: 'invalid_order',
  bad_request: 'invalid_order',
  insufficient_balance: 'insufficient_funds',
  market_closed: 'market_closed',
  trading_is_paused: 'trading_paused',
  exchange_closed: 'trading_paused',
  not_found: 'not_found',
  order_not_found: 'not_found',
};

const STATUS_REASONS: Readonly<Record<number, RejectReason>> = {
  401: 'unauthorized',
  403: 'unauthorized',
  404: 'not_found',
  409: 'duplicate',
  410: 'market_closed',
  429: 'rate_limited',
};

export interface KalshiError {
  readonly code: string;
  readonly message: string;
}

export function parseKalshiError(body: string): KalshiError {
  try {
    const j = JSON.parse(body) as WireErrorEnvelope;
    if (typeof j.error === 'string') return { code: '', message: j.error };
    const code = j.error?.code ?? j.code ?? '';
    const parts = [j.error?.message ?? j.message, j.error?.details ?? j.details].filter((s) => s);
    return { code, message: parts.join(': ') || body };
  } catch {
    return { code: '', message: body };
  }
}

export type KalshiOutcome = Rejection | Ambiguous;

/** A non-2xx answer (status 0 = none at all) → refused for good, or outcome unknown. */
export function classifyKalshiError(status: number, body: string): KalshiOutcome {
  const err = parseKalshiError(body);
  const message = err.code ? `${err.code}: ${err.message}` : err.message || `HTTP ${status}`;
  if (status === 0 || status === 408 || status >= 500) return { kind: 'ambiguous', status, message };
  const byStatus = STATUS_REASONS[status];
  // a status with one meaning (auth, duplicate, rate limit) wins over the code; otherwise the code decides
  if (byStatus && status !== 404) return { kind: 'rejected', reason: byStatus, status, message };
  const reason = CODE_REASONS[err.code] ?? byStatus ?? 'other';
  return { kind: 'rejected', reason, status, message };
}
