/**
 * Executor agent: a thin shell around the executor service (src/execution/executor-service.ts), which holds the
 * execution engine and its clients, exactly-once intents, the lease (standby and takeover), resume after a
 * restart, lost decisions and the settlement of resolutions. This agent subscribes to the channels, hands the
 * service the decisions, market data, resolutions and HALT_ALL/RESUME, and publishes what it says (through the
 * runtime it is given); health and snapshot are the service's.
 *
 * Market data goes to every executor of the group (a consumer group per instance), so a standby is ready.
 */

import type { Agent } from '../core/agent.ts';
import { channels } from '../core/channels.ts';
import { VENUES } from '../core/messages.ts';
import { DEFAULT_GTC_TTL_MS, type ExecutorState } from '../execution/engine.ts';
import {
  createExecutorService,
  DECISION_ATTEMPTS,
  type ExecutorOptions,
} from '../execution/executor-service.ts';
import { retainedMarkets } from './market-history.ts';

export { paperClients } from '../execution/executor-service.ts';
export { DECISION_ATTEMPTS, DEFAULT_GTC_TTL_MS, type ExecutorOptions, type ExecutorState };

export interface Executor extends Agent {
  snapshot(): ExecutorState;
  /** Orders in flight or resting right now. */
  restingOrders(): number;
}

export function createExecutor(opts: ExecutorOptions = {}): Executor {
  const service = createExecutorService(opts);
  return {
    name: opts.name ?? 'executor',
    trading: true,
    async start(rt) {
      const run = await service.start(rt);
      // every executor of the group sees all market data (a standby is ready to take over)
      const mine = { group: `${rt.agent.name}@${rt.kernel.instance}`, ephemeral: true } as const;
      // the markets published before this start (a restart, a standby taking over)
      for (const m of await retainedMarkets(rt)) run.retained(m);
      for (const v of VENUES) {
        rt.subscribe(channels.markets(v), (m) => run.data(m.body), mine);
        rt.subscribe(channels.books(v), (m) => run.data(m.body), mine);
        rt.subscribe(channels.trades(v), (m) => run.data(m.body), mine);
      }
      // the group's stream position keeps resolutions from while no executor ran (settled on restart); settled by
      // the active executor only: a standby leaves them to it
      const resolutions = rt.subscribe(channels.resolutions, (m, ctl) => run.resolution(m, ctl), {
        ack: 'manual',
        maxAttempts: DECISION_ATTEMPTS,
      });
      // the group exists from the start (nothing published meanwhile is missed); paused unless we lead
      // a store that cannot be written leaves the decision unacked: it comes back after the visibility timeout,
      // DECISION_ATTEMPTS times at most (then the dead-letter channel)
      const decisions = rt.subscribe(channels.riskDecisions, (m, ctl) => run.decision(m, ctl), {
        ack: 'manual',
        maxAttempts: DECISION_ATTEMPTS,
        ...(opts.visibilityTimeoutMs !== undefined ? { visibilityTimeoutMs: opts.visibilityTimeoutMs } : {}),
      });
      await run.lead(decisions, resolutions);
    },
    stop: () => service.stop(),
    onSystem: (cmd, rt) => service.onSystem(cmd, rt),
    snapshot: () => service.snapshot(),
    restingOrders: () => service.restingOrders(),
    health: () => service.health(),
  };
}
