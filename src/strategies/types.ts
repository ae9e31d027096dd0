/**
 * The strategy plugin interface: a strategy looks at an opportunity and, within the capital it may use, proposes
 * the legs of one trade-request group (or nothing). The runner (src/agents/strategy-runner.ts) owns everything
 * else: allocation, enable/disable, cooldowns, HALT_ALL, ids and the clock.
 */
import type { Leg, Opportunity, OpportunityType, TimeInForce } from '../core/messages.ts';
import type { Money, Qty } from '../core/money.ts';

export interface StrategySettings {
  /** Smallest edge, in basis points of capital committed, worth a request. */
  readonly minEdgeBps: number;
  /** Smallest edge in micro-dollars worth a request. */
  readonly minEdge: Money;
  /** Most shares per leg in one request. */
  readonly maxShares: Qty;
  /** After a request on a set of instruments, wait this long before another on the same set. */
  readonly cooldownMs: number;
  readonly tif: TimeInForce;
}

export interface StrategyContext {
  readonly now: number;
  /** Capital this strategy may commit in one request, micro-dollars. */
  readonly capital: Money;
}

export interface Proposal {
  readonly legs: readonly Leg[];
  /** Expected edge net of fees at the proposed sizes. */
  readonly expectedEdge: Money;
}

export interface Strategy {
  readonly name: string;
  readonly description: string;
  /** Opportunity kinds it trades. */
  readonly kinds: readonly OpportunityType[];
  readonly settings: StrategySettings;
  propose(o: Opportunity, ctx: StrategyContext): Proposal | undefined;
}
