/**
 * From what the store kept to the `initial` states the trading agents take after a restart: the risk guardian's
 * RiskState, the capital allocator's ledger/allocations/high-water mark, the executor's inventory and executed
 * requests — all rebuilt from the stored fills (the newest ledger snapshot and the fills after it, or every fill),
 * the markets to settle, the strategy runner's allocations, holdings and on/off switches, plus the HALT_ALL to
 * republish when the system was halted (the agent runtime starts un-halted).
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
import type { BundleBook, BundleSnapshot } from '../ledger/bundles.ts';
import type { Ledger, LedgerSnapshot } from '../ledger/ledger.ts';
import type { RiskState } from '../risk/portfolio.ts';
import type { RunnerState } from '../strategies/runner.ts';
import type { RecoveryState } from './queries.ts';
import { replayHistory } from './snapshots.ts';
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
  /** The strategy runner's allocations, probation, open positions and on/off switches. */
  readonly strategies: RunnerState;
  /** A HALT_ALL to publish once the agents run, when the system was halted; undefined otherwise. */
  readonly halt: SystemCommand | undefined;
}

type LedgerInputs = Pick<RecoveryState, 'fills'> &
  Partial<Pick<RecoveryState, 'positions' | 'base' | 'baseFillIds'>>;

function replay(rec: LedgerInputs, config: Config): { ledger: Ledger; bundles: BundleBook } {
  const out = replayHistory(
    { base: rec.base ?? null, tail: rec.fills, baseIds: rec.baseFillIds ?? [] },
    config.risk.initialBankroll,
  );
  for (const p of rec.positions ?? []) if (p.mark > 0) out.ledger.mark(p.venue, p.tokenId, p.mark);
  return out;
}

/**
 * The ledger of the configured bankroll after every stored fill (the newest snapshot and the fills after it, or
 * the fills alone), then the last persisted marks put back (positions are valued at them until fresh books
 * arrive, not at their last fill price).
 */
export function rebuildLedger(rec: LedgerInputs, config: Config): Ledger {
  return replay(rec, config).ledger;
}

export function restoreStates(rec: RecoveryState, config: Config, now: number): RestoredStates {
  const { ledger, bundles } = replay(rec, config);
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
  let executor: ExecutorState = {
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
  // markets that resolved while their shares were held: settled by the executor once it is active
  const heldMarkets = new Set(executor.inventory.map((e) => `${e.venue}:${e.marketId}`));
  const resolved = (rec.resolutions ?? []).filter((r) => heldMarkets.has(`${r.venue}:${r.marketId}`));
  if (resolved.length > 0) executor = { ...executor, resolved };
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
      bundles: bundles.snapshot(),
    },
    executor,
    strategies: {
      ...(rec.allocations ? { allocations: { ...rec.allocations.allocations } } : {}),
      proven: Object.entries(rec.allocations?.explanations ?? {})
        .filter(([, why]) => why.probation === false)
        .map(([name]) => name)
        .sort(),
      exposure: snap.positions
        .filter((p) => p.shares > 0)
        .map((p) => ({ strategy: p.strategy, venue: p.venue, tokenId: p.tokenId, costBasis: p.costBasis })),
      enabled: { ...(rec.strategyControls ?? {}) },
    },
    pendingDecisions: rec.pendingDecisions ?? [],
    decidedRequests: rec.decidedRequests ?? [],
    halt,
  };
}
