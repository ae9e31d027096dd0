/** The executor's restorable state (its snapshot): what the store rebuilds after a restart. */
import type { Leg } from '../core/messages.ts';
import type { Qty } from '../core/money.ts';

export interface ExecutorState {
  readonly version: 1;
  readonly inventory: readonly {
    strategy: string;
    venue: Leg['venue'];
    marketId: string;
    tokenId: string;
    shares: Qty;
  }[];
  readonly requests: readonly string[];
}
