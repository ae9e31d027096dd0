/**
 * Every agent of the system for one process (`pm-arb run`, `npm start`): the feeds first (venue watchers and
 * oracle agents), then the agents that consume them. `feeds: 'sim'` runs the seeded simulated market on the
 * kernel's clock; `feeds: 'live'` connects to the real venues (paper trading unless configured otherwise).
 */

import { createAlertsAgent } from '../agents/alerts.ts';
import { createCapitalAllocator } from '../agents/capital-allocator.ts';
import { createExecutor } from '../agents/executor.ts';
import { createMarketMatcherAgent } from '../agents/market-matcher.ts';
import { createOpportunityScannerAgent } from '../agents/opportunity-scanner.ts';
import { createOracleAgent } from '../agents/oracle-agent.ts';
import { createPersister } from '../agents/persister.ts';
import { createRiskGuardian } from '../agents/risk-guardian.ts';
import { createStrategyRunnerAgent } from '../agents/strategy-runner.ts';
import { createVenueWatcher, type FeedAgent } from '../agents/venue-watcher.ts';
import { probationAmount } from '../allocator/score.ts';
import type { Agent, Kernel } from '../core/agent.ts';
import { instrumentKey } from '../core/messages.ts';
import type { MatchStore } from '../matcher/store.ts';
import type { Db } from '../store/db.ts';
import type { RestoredStates } from '../store/restore.ts';
import { createFeedDecoders, type FeedName } from '../venues/registry.ts';
import { createFeedSources, type FeedSourcesOptions } from '../venues/sources.ts';

export interface PipelineOptions extends FeedSourcesOptions {
  /** Which feeds to run (default all four). */
  readonly only?: readonly FeedName[];
  /** State restored from the store after a restart (risk guardian, executor, capital allocator start from it). */
  readonly restored?: RestoredStates;
  /** Persist state to this database (a persister agent acks each message once its batch is committed). */
  readonly store?: Db;
  /** The matcher's verdicts and manual overrides (default: the JSON file under DATA_DIR); share it with the dashboard. */
  readonly matchStore?: MatchStore;
}

export async function buildAgents(kernel: Kernel, opts: PipelineOptions): Promise<Agent[]> {
  const feeds = createFeedSources(kernel, opts);
  const want = (n: FeedName): boolean => !opts.only || opts.only.includes(n);
  const agents: Agent[] = [];

  // ---- feeds: venue watchers and oracle agents
  for (const venue of ['polymarket', 'kalshi'] as const) {
    if (!want(venue)) continue;
    let watcher: FeedAgent | undefined;
    // a factory: a feed that fails is replaced by a fresh one (a stopped source's transports stay closed)
    const source = () =>
      feeds.source(venue, (tokens) => watcher?.markStale(tokens.map((t) => instrumentKey(venue, t))));
    watcher = createVenueWatcher({ venue, source, decoder: createFeedDecoders(venue) });
    agents.push(watcher);
  }
  for (const source of ['binance', 'chainlink'] as const) {
    if (want(source))
      agents.push(
        createOracleAgent({ source, feed: () => feeds.source(source), decoder: createFeedDecoders(source) }),
      );
  }

  // ---- the consumers. They start before the feeds (so nothing a feed publishes at start is missed by a group
  // that does not exist yet) and stop after them (so what is in flight drains).
  const restored = opts.restored;
  const consumers: Agent[] = [];
  consumers.push(
    createMarketMatcherAgent({ store: opts.matchStore }),
    createOpportunityScannerAgent(),
    createStrategyRunnerAgent(),
  );
  consumers.push(
    createRiskGuardian({
      probationAllocation: probationAmount(kernel.config),
      ...(restored ? { initial: restored.risk } : {}),
    }),
    createExecutor(restored ? { initial: restored.executor } : {}),
    createCapitalAllocator(restored ? { initial: restored.allocator } : {}),
  );
  consumers.push(createAlertsAgent({ db: opts.store ?? null }));
  // The persister starts first and stops last: it subscribes before anything is published (the in-process bus
  // keeps no backlog for late groups) and still takes what the others publish while they stop.
  if (opts.store) consumers.unshift(createPersister({ db: opts.store, migrate: false }));

  return [...consumers, ...agents];
}
