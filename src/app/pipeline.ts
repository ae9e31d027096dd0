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
import { instrumentKey, type Venue } from '../core/messages.ts';
import type { ExecutionClient } from '../execution/types.ts';
import type { MatchStore } from '../matcher/store.ts';
import type { Db } from '../store/db.ts';
import type { RestoredStates } from '../store/restore.ts';
import { createFeedDecoders, createLiveFeed, type FeedName } from '../venues/registry.ts';
import { createSimHub, type SimHub } from '../venues/sim/feed.ts';
import type { SimOptions } from '../venues/sim/market.ts';
import type { FrameSource } from '../venues/types.ts';

export type Feeds = 'sim' | 'live';

export interface PipelineOptions {
  readonly feeds: Feeds;
  /** Simulator seed (feeds=sim; default 1). */
  readonly seed?: number;
  /** Further simulator settings (feeds=sim). */
  readonly sim?: Omit<SimOptions, 'seed' | 'start'>;
  /** Which feeds to run (default all four). */
  readonly only?: readonly FeedName[];
  /** State restored from the store after a restart (risk guardian, executor, capital allocator start from it). */
  readonly restored?: RestoredStates;
  /** Persist state to this database (a persister agent acks each message once its batch is committed). */
  readonly store?: Db;
  /** The matcher's verdicts and manual overrides (default: the JSON file under DATA_DIR); share it with the dashboard. */
  readonly matchStore?: MatchStore;
  /** Live execution (`run --live`): the venues' clients; a HALT_ALL then also cancels all orders at each venue. */
  readonly execution?: { readonly clients: ReadonlyMap<Venue, ExecutionClient> };
}

export interface FeedSources {
  /** `onDisconnect`: token ids a live transport lost while the rest stayed up (their books go stale). */
  source(name: FeedName, onDisconnect?: (tokenIds: readonly string[]) => void): FrameSource;
  readonly hub?: SimHub;
}

/** One FrameSource per feed: all from one simulator hub (so venues and oracles agree), or the live adapters. */
export function createFeedSources(
  kernel: Kernel,
  opts: Pick<PipelineOptions, 'feeds' | 'seed' | 'sim'>,
): FeedSources {
  if (opts.feeds === 'sim') {
    const hub = createSimHub({ ...opts.sim, seed: opts.seed ?? 1, clock: kernel.clock });
    return { hub, source: (name) => hub.source(`sim-${name}`, [`${name}.`]) };
  }
  return {
    source: (name, onDisconnect) =>
      createLiveFeed(name, {
        config: kernel.config,
        clock: kernel.clock,
        log: kernel.log,
        decoders: createFeedDecoders(name),
        ...(onDisconnect ? { onDisconnect } : {}),
      }),
  };
}

export async function buildAgents(kernel: Kernel, opts: PipelineOptions): Promise<Agent[]> {
  const feeds = createFeedSources(kernel, opts);
  const want = (n: FeedName): boolean => !opts.only || opts.only.includes(n);
  const agents: Agent[] = [];

  // ---- feeds: venue watchers and oracle agents
  for (const venue of ['polymarket', 'kalshi'] as const) {
    if (!want(venue)) continue;
    let watcher: FeedAgent | undefined;
    const source = feeds.source(venue, (tokens) =>
      watcher?.markStale(tokens.map((t) => instrumentKey(venue, t))),
    );
    watcher = createVenueWatcher({ venue, source, decoder: createFeedDecoders(venue) });
    agents.push(watcher);
  }
  for (const source of ['binance', 'chainlink'] as const) {
    if (want(source))
      agents.push(
        createOracleAgent({ source, feed: feeds.source(source), decoder: createFeedDecoders(source) }),
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
    createExecutor({
      ...(restored ? { initial: restored.executor } : {}),
      ...(opts.execution ? { clients: () => opts.execution!.clients, cancelAllOnHalt: true } : {}),
    }),
    createCapitalAllocator(restored ? { initial: restored.allocator } : {}),
  );
  consumers.push(createAlertsAgent({ db: opts.store ?? null }));
  // The persister starts first and stops last: it subscribes before anything is published (the in-process bus
  // keeps no backlog for late groups) and still takes what the others publish while they stop.
  if (opts.store) consumers.unshift(createPersister({ db: opts.store, migrate: false }));

  return [...consumers, ...agents];
}
