/**
 * Every agent that `pm-arb agent <name>` can run as its own process, by name. Each entry builds the agent from
 * the kernel and the `--opt key=value` options given on the command line. Add new agents here.
 */
import type { Agent, Kernel } from '../core/agent.ts';

export interface AgentFactory {
  readonly description: string;
  create(kernel: Kernel, options: Readonly<Record<string, string>>): Agent | Promise<Agent>;
}

export const agentRegistry: Readonly<Record<string, AgentFactory>> = {
  // entries: name → factory (see src/agents/*)
  'market-matcher': {
    description: 'links equal/related markets (rules, then the LLM if ANTHROPIC_API_KEY is set); links out',
    create: async () => (await import('./market-matcher.ts')).createMarketMatcherAgent(),
  },
  'opportunity-scanner': {
    description: 'executable, fee-net arbitrage and oracle-lag opportunities from books, ticks and links',
    create: async () => (await import('./opportunity-scanner.ts')).createOpportunityScannerAgent(),
  },
  'strategy-runner': {
    description: 'strategy plugins (oracle sniper, cross-venue, rebalancing, combinatorial); trade requests',
    create: async () => (await import('./strategy-runner.ts')).createStrategyRunnerAgent(),
  },
  'risk-guardian': {
    description:
      'decides every trade request (approve/reduce/reject) against the risk rules; RiskDecisions out',
    create: async (k) => {
      const { createRiskGuardian } = await import('./risk-guardian.ts');
      const { probationAmount } = await import('../allocator/score.ts');
      return createRiskGuardian({ probationAllocation: probationAmount(k.config) });
    },
  },
  executor: {
    description:
      'paper executor: fills approved decisions against the venue books (opt latencyMs=N fixed, seed=N, gtcTtlMs=N)',
    create: async (_k, o) => {
      const { createExecutor } = await import('./executor.ts');
      const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
      return createExecutor({ latencyMs: num(o.latencyMs), seed: num(o.seed), gtcTtlMs: num(o.gtcTtlMs) });
    },
  },
  'capital-allocator': {
    description:
      'ledger, strategy performance and the allocation tournament (opt intervalMs=N, strategies=a,b)',
    create: async (_k, o) => {
      const { createCapitalAllocator } = await import('./capital-allocator.ts');
      return createCapitalAllocator({
        ...(o.intervalMs ? { settings: { intervalMs: Number(o.intervalMs) } } : {}),
        ...(o.strategies ? { strategies: o.strategies.split(',').filter(Boolean) } : {}),
      });
    },
  },
  'venue-watcher': {
    description:
      'one venue feed (opt venue=polymarket|kalshi, feeds=sim|live, seed=N): markets, books, trades, resolutions',
    create: async (k, o) => (await import('./feed-agents.ts')).venueWatcherFromCli(k, o),
  },
  oracle: {
    description: 'one price source (opt source=binance|chainlink, feeds=sim|live, seed=N): oracle ticks',
    create: async (k, o) => (await import('./feed-agents.ts')).oracleFromCli(k, o),
  },
  loadgen: {
    description:
      'diagnostics: publishes --opt count=N messages at --opt rate=PER_SECOND on the diagnostics channel',
    create: async (_k, o) => (await import('./diagnostics.ts')).loadgenFromCli(o),
  },
  sink: {
    description:
      'diagnostics: applies each diagnostics message once by id, logging applied ids under --opt dir=PATH',
    create: async (_k, o) => (await import('./diagnostics.ts')).sinkFromCli(o),
  },
  alerts: {
    description:
      'phone/webhook alerts: halts, resumes, silent agents, feeds down, leg risk, large fills, error bursts, daily summary',
    create: async () => (await import('./alerts.ts')).createAlertsAgent(),
  },
  persister: {
    description: 'writes state messages to the store in batches, acking each once committed',
    create: async (_k, o) => {
      const p = await import('./persister.ts');
      return p.createPersister(p.persisterOptionsFromCli(o));
    },
  },
};
