/**
 * A broken invariant: our own state would become wrong (a naked short in the ledger, an impossible order
 * transition, a risk limit exceeded by an approval). Unlike bad input from outside, which is an event with a
 * reason, this stops trading: the agent runtime dead-letters the message that caused it, faults the agent,
 * publishes HALT_ALL with the reason and a critical alert (src/core/agent.ts).
 *
 * Code that detects one throws an `InvariantError` (or a subclass) before it changes any state, so the message can
 * be redelivered after a fix and is never mistaken for a duplicate.
 */
export class InvariantError extends Error {
  override name = 'InvariantError';
}

export function isInvariantError(err: unknown): err is InvariantError {
  return err instanceof InvariantError;
}
