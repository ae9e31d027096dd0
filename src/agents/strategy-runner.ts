/**
 * Strategy runner agent: opportunities in, trade requests out (channels.tradeRequests), through the strategy
 * plugins (src/strategies). Allocations arrive on channels.allocations (an equal share of the bankroll until
 * then) and each request uses at most the allocation less the strategy's open positions (channels.positions)
 * and the requests still in flight (released on a risk rejection or failed execution, channels.riskDecisions
 * and channels.executions);
 * StrategyControl messages enable/disable strategies at run time, and nothing is requested while halted, nor by a
 * strategy whose last request the guardian refused at the daily-loss limit (until the next daily window) or the
 * drawdown stop (until RESUME) — the guardian stays the authority: this only spares the bus requests it would
 * refuse (StrategyRunner.spent). After a
 * restart it starts from the state the store kept (`initial`: see RunnerState for what is and is not restored).
 */
import type { Agent, AgentRuntime } from '../core/agent.ts';
import { channels } from '../core/channels.ts';
import { defaultStrategies } from '../strategies/plugins.ts';
import { type RunnerState, StrategyRunner } from '../strategies/runner.ts';
import type { Strategy } from '../strategies/types.ts';

/** Longest a risk decision or execution report waits for an opportunity to wake the runner with (Redis bus). */
const OUTCOME_LAZY_MS = 100;

export interface StrategyRunnerAgentOptions {
  readonly strategies?: readonly Strategy[];
  /** Capital per strategy before the first Allocation (default: bankroll ÷ number of strategies). */
  readonly defaultAllocation?: number;
  readonly disabled?: readonly string[];
  readonly name?: string;
  /**
   * While on probation a request uses at most allocation ÷ this (default ALLOCATION_MIN_BUNDLES, the bundles a
   * strategy must close to leave probation, so its probation allocation holds them all at once; 1: no slicing).
   */
  readonly probationBundles?: number;
  /** State restored from the store after a restart (allocations, probation, open positions, on/off switches). */
  readonly initial?: RunnerState;
}

export function createStrategyRunnerAgent(
  opts: StrategyRunnerAgentOptions = {},
): Agent & { runner(): StrategyRunner | undefined } {
  let runner: StrategyRunner | undefined;
  return {
    name: opts.name ?? 'strategy-runner',
    trading: true,
    runner: () => runner,
    start(rt: AgentRuntime) {
      const strategies = opts.strategies ?? defaultStrategies();
      const r = new StrategyRunner({
        strategies,
        defaultAllocation:
          opts.defaultAllocation ??
          Math.floor(rt.config.risk.initialBankroll / Math.max(1, strategies.length)),
        now: () => rt.clock.now(),
        ids: rt.kernel.ids,
        disabled: opts.disabled,
        probationBundles: opts.probationBundles ?? rt.config.allocation.minBundles,
        dailyResetHourUtc: rt.config.risk.dailyLossResetHourUtc,
      });
      if (opts.initial) r.restore(opts.initial);
      runner = r;
      rt.subscribe(channels.allocations, (msg) => r.onAllocation(msg.body));
      rt.subscribe(channels.positions, (msg) => r.onPosition(msg.body));
      // lazy: the runner only consults what these tell when an opportunity comes, and they are handed over before the
      // opportunity they come with; a wake-up of their own per request (two) was half the runner's CPU
      rt.subscribe(channels.riskDecisions, (msg) => r.onRiskDecision(msg.body), { lazyMs: OUTCOME_LAZY_MS });
      rt.subscribe(channels.executions, (msg) => r.onExecution(msg.body), { lazyMs: OUTCOME_LAZY_MS });
      rt.subscribe(channels.strategyControl, (msg) => {
        if (r.onControl(msg.body)) {
          rt.log.info({ strategy: msg.body.strategy, enabled: msg.body.enabled }, 'strategy control');
        }
      });
      rt.subscribe(channels.opportunities, (msg) => {
        // indexed: no iterator per opportunity (almost all give the shared empty list)
        const reqs = r.onOpportunity(msg.body, rt.halted);
        for (let i = 0; i < reqs.length; i++) rt.publish(channels.tradeRequests, reqs[i]!);
      });
      rt.log.info({ strategies: strategies.map((s) => s.name) }, 'strategy runner started');
    },
    onSystem(cmd) {
      // RESUME lifts the drawdown stop and re-bases the high-water mark: the guardian may have room again
      if (cmd.command === 'RESUME') runner?.budgetMayHaveRoom();
    },
    health() {
      if (!runner) return {};
      const h: Record<string, number | boolean> = { ...runner.stats };
      for (const s of runner.strategies) h[`enabled.${s.name}`] = runner.isEnabled(s.name);
      return h;
    },
  };
}
