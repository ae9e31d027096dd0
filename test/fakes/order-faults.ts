/**
 * Faults a fake venue can inflict on its next order requests, in order: the cases a live client must survive.
 * - `reject`: answer this status/body without acting;
 * - `rate_limit`: 429 without acting;
 * - `drop`: cut the connection without acting;
 * - `error_but_placed`: act (place the order) and still answer an error status ("HTTP error but the order was placed");
 * - `drop_after_place`: act, then cut the connection;
 * - `delay`: wait, then act and answer (a client that timed out meanwhile finds the order placed later);
 * - `slow_reply`: act at once (the user channel reports it), answer only after `ms` (reports overtake the reply).
 */
import type { FakeReply } from './http-fake.ts';

export type OrderFault =
  | { readonly kind: 'reject'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'rate_limit' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'error_but_placed'; readonly status?: number }
  | { readonly kind: 'drop_after_place' }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'slow_reply'; readonly ms: number };

export class FaultQueue {
  private readonly queue: OrderFault[] = [];
  push(...faults: OrderFault[]): void {
    this.queue.push(...faults);
  }
  next(): OrderFault | undefined {
    return this.queue.shift();
  }
  get pending(): number {
    return this.queue.length;
  }
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `act` (which places the order and builds the normal reply) under the next fault, if any. */
export async function underFault(
  fault: OrderFault | undefined,
  act: () => FakeReply | Promise<FakeReply>,
  bodies: { readonly rateLimit: unknown; readonly serverError: unknown },
): Promise<FakeReply> {
  if (!fault) return act();
  switch (fault.kind) {
    case 'reject':
      return { status: fault.status, body: fault.body };
    case 'rate_limit':
      return { status: 429, body: bodies.rateLimit };
    case 'drop':
      return { drop: true };
    case 'error_but_placed':
      await act();
      return { status: fault.status ?? 500, body: bodies.serverError };
    case 'drop_after_place':
      await act();
      return { drop: true };
    case 'delay':
      await wait(fault.ms);
      return act();
    case 'slow_reply':
      return { ...(await act()), delayMs: fault.ms };
  }
}
