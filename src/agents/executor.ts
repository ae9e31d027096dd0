/**
 * Executor agent: a thin shell. Approved (or reduced) RiskDecisions go to the execution engine
 * (src/execution/engine.ts), which sends each leg to the client of its venue and turns their execution reports
 * into Orders, Fills and one ExecutionReport per request; this agent feeds it market data and publishes what it
 * says. Paper mode: one paper client per venue (src/execution/paper-client.ts) with its own seeded latency
 * distribution (median `config.paperLatencyMs`, or a fixed `latencyMs`), queue position for resting orders.
 *
 * HALT_ALL rejects new decisions and cancels open orders. A broken order invariant throws an
 * ExecutionInvariantError, which faults this agent and halts trading (src/core/agent.ts).
 */

import type { Agent, AgentRuntime, HealthDetails } from '../core/agent.ts';
import { errorText } from '../core/bus/types.ts';
import { channels } from '../core/channels.ts';
import type { Venue } from '../core/messages.ts';
import { VENUES } from '../core/messages.ts';
import { acceptDecision } from '../execution/decision-auth.ts';
import {
  createExecutionEngine,
  DEFAULT_GTC_TTL_MS,
  type ExecutionEngine,
  type ExecutorState,
} from '../execution/engine.ts';
import { constantLatency, logNormalLatency, paperMedianMs, seedFrom } from '../execution/latency.ts';
import { createPaperClients } from '../execution/paper-client.ts';
import type { ExecutionClient } from '../execution/types.ts';
import { retainedMarkets } from './market-history.ts';

export { DEFAULT_GTC_TTL_MS, type ExecutorState };

export interface ExecutorOptions {
  readonly name?: string;
  /** A fixed latency for every order (tests); default: each venue's seeded distribution (PAPER_LATENCY_MS, PAPER_LATENCY_BY_VENUE). */
  readonly latencyMs?: number;
  /** Seed of the paper latency streams (default: derived from the kernel's instance name). */
  readonly seed?: number;
  /** Resting GTC orders expire after this long (default 60 s). */
  readonly gtcTtlMs?: number;
  readonly initial?: ExecutorState;
  /** The venues' execution clients (default: paper clients). */
  readonly clients?: (rt: AgentRuntime) => ReadonlyMap<Venue, ExecutionClient>;
  /**
   * HALT_ALL also asks every client to cancel all open orders of its account (live: orders this process does not
   * track, from before a restart, included), not only the orders of the requests in flight.
   */
  readonly cancelAllOnHalt?: boolean;
}

export interface Executor extends Agent {
  snapshot(): ExecutorState;
  /** Orders in flight or resting right now. */
  restingOrders(): number;
}

/** The paper clients of one venue each (also what shadow mode wraps). */
export function paperClients(rt: AgentRuntime, opts: ExecutorOptions): ReadonlyMap<Venue, ExecutionClient> {
  const seed = opts.seed ?? seedFrom(rt.kernel.instance);
  return createPaperClients({
    clock: rt.clock,
    latency: (venue) =>
      opts.latencyMs !== undefined
        ? constantLatency(opts.latencyMs)
        : logNormalLatency({ medianMs: paperMedianMs(rt.config, venue), seed, venue }),
  });
}

export function createExecutor(opts: ExecutorOptions = {}): Executor {
  let engine: ExecutionEngine | undefined;
  let clients: ReadonlyMap<Venue, ExecutionClient> = new Map();
  const empty: ExecutorState = { version: 1, inventory: [], requests: [] };
  return {
    name: opts.name ?? 'executor',
    trading: true,
    async start(rt) {
      clients = (opts.clients ?? ((r) => paperClients(r, opts)))(rt);
      // user channels, report polling: connected before the first order can be sent
      await Promise.all([...clients.values()].map((c) => c.start?.()));
      const e = createExecutionEngine({
        clients,
        clock: rt.clock,
        ids: rt.kernel.ids,
        gtcTtlMs: opts.gtcTtlMs,
        initial: opts.initial,
        sink: {
          order: (o) => rt.publish(channels.orders, o),
          fill: (f) => rt.publish(channels.fills, f),
          report: (r) => rt.publish(channels.executions, r),
        },
        onSubmitError: (q, err) => rt.log.warn({ order: q.clientOrderId, err }, 'submit unsettled'),
        onFault: (err) => rt.fault(errorText(err)),
      });
      engine = e;
      // the markets published before this start (a restart, a standby taking over)
      for (const m of await retainedMarkets(rt)) e.onMarketData(m);
      for (const v of VENUES) {
        rt.subscribe(channels.markets(v), (m) => e.onMarketData(m.body));
        rt.subscribe(channels.books(v), (m) => e.onMarketData(m.body));
        rt.subscribe(channels.trades(v), (m) => e.onMarketData(m.body));
      }
      rt.subscribe(channels.resolutions, (m) => e.onMarketData(m.body));
      // only decisions the guardian signed (when RISK_SIGNING_KEY is set); the rest are dead-lettered
      rt.subscribe(channels.riskDecisions, (m) => {
        if (acceptDecision(m, rt)) e.decide(m.body, rt.halted);
      });
    },
    async stop() {
      await engine?.stop();
    },
    onSystem(cmd, rt) {
      if (cmd.command !== 'HALT_ALL') return;
      engine?.halt('HALT_ALL');
      if (opts.cancelAllOnHalt)
        for (const c of clients.values())
          c.cancelAll().catch((err: unknown) => {
            rt.log.error({ venue: c.venue, err: errorText(err) }, 'HALT_ALL: cancel-all failed');
          });
    },
    snapshot: () => engine?.snapshot() ?? opts.initial ?? empty,
    restingOrders: () => engine?.openOrders() ?? 0,
    health(): HealthDetails {
      return { ...engine?.counts(), resting: engine?.openOrders() ?? 0 };
    },
  };
}
