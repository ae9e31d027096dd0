/**
 * From what the store kept to the `initial` states the trading agents take after a restart: the risk guardian's
 * RiskState, the capital allocator's ledger/allocations/high-water mark, the executor's inventory and executed
 * requests — all rebuilt from the stored fills (the ledger's own replay), plus the HALT_ALL to republish when the
 * system was halted (the agent runtime starts un-halted).
 *
 * Usage at start (e.g. in `pm-arb run`):
 *   const rec = await loadRecoveryState(db);
 *   const st = restoreStates(rec, config, clock.now());
 *   createRiskGuardian({ initial: st.risk }); createCapitalAllocator({ initial: st.allocator });
 *   createExecutor({ initial: st.executor }); … after startAgents: if (st.halt) bus.publish(channels.system, st.halt)
 */

import type { Config } from '../core/config.ts';
import type { SystemCommand } from '../core/messages.ts';
import type { Money } from '../core/money.ts';
import type { ExecutorState } from '../execution/engine.ts';
import { BundleBook, type BundleSnapshot } from '../ledger/bundles.ts';
import { Ledger, type LedgerSnapshot } from '../ledger/ledger.ts';
import type { RiskState } from '../risk/portfolio.ts';
import type { RecoveryState } from './queries.ts';
import { dailyWindowStart } from './system-state.ts';

export interface RestoredStates {
  readonly ledger: LedgerSnapshot;
  readonly risk: RiskState;
  readonly allocator: {
    ledger: LedgerSnapshot;
    allocations?: Record<string, Money>;
    highWaterMark: Money;
    bundles: BundleSnapshot;
  };
  readonly executor: ExecutorState;
  /** Approved requests whose ExecutionReport the store does not hold: reserved again by the guardian. */
  readonly pendingDecisions: RecoveryState['pendingDecisions'];
  readonly decidedRequests: readonly string[];
  /** A HALT_ALL to publish once the agents run, when the system was halted; undefined otherwise. */
  readonly halt: SystemCommand | undefined;
}

/**
 * Replays the stored fills into a fresh ledger of the configured bankroll, then puts back the last persisted marks
 * (positions are valued at them until fresh books arrive, not at their last fill price).
 */
export function rebuildLedger(
  rec: Pick<RecoveryState, 'fills'> & Partial<Pick<RecoveryState, 'positions'>>,
  config: Config,
): Ledger {
  const ledger = new Ledger({ initialCash: config.risk.initialBankroll });
  for (const f of rec.fills) ledger.applyFill(f);
  for (const p of rec.positions ?? []) if (p.mark > 0) ledger.mark(p.venue, p.tokenId, p.mark);
  return ledger;
}

export function restoreStates(rec: RecoveryState, config: Config, now: number): RestoredStates {
  const ledger = rebuildLedger(rec, config);
  const snap = ledger.snapshot();
  const equity = ledger.equity();
  const hwm = Math.max(rec.highWaterMark ?? equity, equity);
  const window = dailyWindowStart(now, config.risk.dailyLossResetHourUtc);
  // the stored window still runs: keep its start equity; a new day starts from the equity now
  const sameDay = rec.dailyLoss !== null && rec.dailyLoss.windowStart === window;
  const risk: RiskState = {
    version: 1,
    ledger: snap,
    highWaterMark: hwm,
    drawdownHalted: false,
    dailyWindowStart: window,
    dailyStartEquity: sameDay ? rec.dailyLoss!.startEquity : equity,
    killSwitch: rec.halted,
    allocations: rec.allocations ? { ...rec.allocations.allocations } : null,
    reservations: [],
  };
  const executor: ExecutorState = {
    version: 1,
    inventory: snap.positions
      .filter((p) => p.shares > 0)
      .map((p) => ({
        strategy: p.strategy,
        venue: p.venue,
        marketId: p.marketId,
        tokenId: p.tokenId,
        shares: p.shares,
      })),
    requests: [...rec.executedRequests],
  };
  const halt: SystemCommand | undefined = rec.halted
    ? {
        type: 'system',
        command: 'HALT_ALL',
        reason: rec.haltReason ?? 'halted before the restart',
        issuedBy: 'recovery',
        issuedAt: now,
      }
    : undefined;
  return {
    ledger: snap,
    risk,
    allocator: {
      ledger: snap,
      ...(rec.allocations ? { allocations: { ...rec.allocations.allocations } } : {}),
      highWaterMark: hwm,
      bundles: BundleBook.fromFills(rec.fills).snapshot(),
    },
    executor,
    pendingDecisions: rec.pendingDecisions ?? [],
    decidedRequests: rec.decidedRequests ?? [],
    halt,
  };
}
