/**
 * Exactly-one-order submission, shared by the venue clients.
 *
 * A POST that times out, loses its connection or answers 5xx does not say whether the venue placed the order
 * ("HTTP error but the order was placed"). So after such an answer the order is looked up by its client order id
 * before anything else; only when the venue confirms it has no such order is the request sent again, byte for
 * byte (same client order id, same signature), which the venue dedups. A "duplicate" refusal also means "it is
 * already there": it is resolved by a lookup, never reported as a rejection. When the venue cannot even be
 * asked, the result is `unknown`: the caller keeps tracking the order as pending and a later lookup settles it.
 *
 * Waiting between lookups uses real timers: this is transport plumbing, not data.
 */
import { sleep } from '../../feeds/backoff.ts';
import type { Ambiguous, LiveOrderState, Rejection, SubmitResult } from './types.ts';

export type SendOutcome =
  | { readonly kind: 'accepted'; readonly order: LiveOrderState }
  | Rejection
  | Ambiguous;

export type LookupOutcome =
  | { readonly kind: 'found'; readonly order: LiveOrderState }
  | { readonly kind: 'absent' }
  | { readonly kind: 'error'; readonly message: string };

export interface SubmitSteps {
  send(): Promise<SendOutcome>;
  lookup(): Promise<LookupOutcome>;
}

export interface SubmitPolicy {
  /** Sends at most this many times (default 3). */
  readonly maxSends?: number;
  /**
   * Waits before each lookup after an ambiguous answer, ms (default [0, 250, 1000]): "absent" needs every one of
   * them to find nothing, so an order the venue is still processing has time to show up.
   */
  readonly lookupDelaysMs?: readonly number[];
  readonly signal?: AbortSignal;
}

const DEFAULT_DELAYS = [0, 250, 1_000] as const;

/** Looks the order up until found, or absent on every try; an error on every try is `error`. */
async function resolve(steps: SubmitSteps, policy: SubmitPolicy): Promise<LookupOutcome> {
  let lastError: LookupOutcome | undefined;
  let sawAbsent = false;
  for (const delay of policy.lookupDelaysMs ?? DEFAULT_DELAYS) {
    if (delay > 0) await sleep(delay, policy.signal);
    const r = await steps.lookup();
    if (r.kind === 'found') return r;
    if (r.kind === 'absent') sawAbsent = true;
    else lastError = r;
  }
  // absent only when the venue answered "absent" and never failed to answer
  if (sawAbsent && lastError === undefined) return { kind: 'absent' };
  return lastError ?? { kind: 'absent' };
}

export async function submitOnce(steps: SubmitSteps, policy: SubmitPolicy = {}): Promise<SubmitResult> {
  const maxSends = policy.maxSends ?? 3;
  let last = '';
  for (let attempt = 1; attempt <= maxSends; attempt++) {
    const out = await steps.send();
    if (out.kind === 'accepted') return { kind: 'accepted', order: out.order, resolvedBy: 'response' };
    if (out.kind === 'rejected' && out.reason !== 'duplicate') return out;
    last = out.message;
    const found = await resolve(steps, policy);
    if (found.kind === 'found') return { kind: 'accepted', order: found.order, resolvedBy: 'lookup' };
    if (found.kind === 'error') {
      return { kind: 'unknown', message: `${last}; looking the order up failed: ${found.message}` };
    }
    if (out.kind === 'rejected') {
      // the venue says duplicate but does not show the order: do not send again, let polling settle it
      return { kind: 'unknown', message: `venue reports a duplicate it cannot show: ${out.message}` };
    }
  }
  return { kind: 'unknown', message: `sent ${maxSends} times without a definite answer (last: ${last})` };
}
