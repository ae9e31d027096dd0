/**
 * One assembly for every mode: the agents of a process, built from a description of the mode it runs in.
 *
 *   pm-arb run         feeds sim | live, every agent, the store and restored state, the dashboard's match store
 *   pm-arb backtest    feeds capture (a CaptureHub on the SimClock), every trading agent, offline matcher, no alerts
 *   pm-arb replay      feeds capture, the feed agents only
 *   pm-arb agent NAME  feeds sim | live, the one agent NAME, its `--opt key=value` options
 *
 * The kernel carries the clock and the bus of the mode (wall clock or SimClock, in-process or Redis); the mode
 * names the feeds, the store, which agents, and the executor kind. The feeds are the same FeedAgents (venue
 * watchers, oracle agents) whatever drives them: the seeded simulator, the live venues, or a capture, so decoding,
 * staleness and disconnects behave the same in a backtest as live.
 *
 * Start order: the consumers first (nothing a feed publishes at start is missed by a group that does not exist
 * yet), the persister before them (it must see everything), the feeds last; they stop in reverse.
 */
import type { FeedAgent } from '../agents/venue-watcher.ts';
import { probationAmount } from '../allocator/score.ts';
import type { CaptureHub } from '../capture/source.ts';
import type { Agent, AgentRuntime, Kernel } from '../core/agent.ts';
import type { Venue } from '../core/messages.ts';
import { instrumentKey } from '../core/messages.ts';
import type { ExecutionClient } from '../execution/types.ts';
import type { FrameSource } from '../feeds/types.ts';
import type { MatchStore } from '../matcher/store.ts';
import type { Db } from '../store/db.ts';
import type { RestoredStates } from '../store/restore.ts';
import { FEED_PREFIXES, type FeedName } from '../venues/feed-names.ts';
import type { DecoderSet } from '../venues/registry.ts';
import type { SimHub, SimHubOptions } from '../venues/sim/feed.ts';
import type { SimOptions } from '../venues/sim/market.ts';

export type FeedsMode = 'sim' | 'live' | 'capture';
/** How approved decisions are executed: paper fills, or live orders through the given clients (`run --live`). */
export type ExecutorKind =
  | 'paper'
  | { readonly kind: 'live'; readonly clients: ReadonlyMap<Venue, ExecutionClient> }
  /** Shadow (`run --shadow`): the paper clients, wrapped so each order is also built, signed and recorded. */
  | {
      readonly kind: 'shadow';
      readonly wrap: (paper: ReadonlyMap<Venue, ExecutionClient>) => ReadonlyMap<Venue, ExecutionClient>;
    };

export interface ProcessMode {
  readonly feeds: FeedsMode;
  /** Simulator seed (feeds=sim; default 1). */
  readonly seed?: number;
  /** Further simulator settings (feeds=sim). */
  readonly sim?: Omit<SimOptions, 'seed' | 'start'> & Pick<SimHubOptions, 'yieldAfterMs'>;
  /** The capture the feeds read (feeds=capture): its `play()` drives the clock once the agents have started. */
  readonly capture?: CaptureHub;
  /** Which feeds to run (default all four). */
  readonly only?: readonly FeedName[];
  /**
   * Which agents: every agent of the system (default), the feed agents alone (`replay`), or agents by catalogue
   * name (`pm-arb agent <name>`).
   */
  readonly agents?: 'all' | 'feeds' | readonly string[];
  readonly executor?: ExecutorKind;
  /**
   * The store: a database shared by the process's agents (the persister acks each message once committed; the
   * alerts agent reads its settings there); `'own'`: each agent opens its own from the config (an agent in a
   * process of its own); absent: none.
   */
  readonly store?: Db | 'own';
  /**
   * State restored from the store after a restart (risk guardian, executor, capital allocator and strategy runner
   * start from it).
   */
  readonly restored?: RestoredStates;
  /** The matcher's verdicts and manual overrides (default: the JSON file under DATA_DIR). */
  readonly matchStore?: MatchStore;
  /**
   * Offline (backtests): the matcher on rules only with an in-memory verdict cache unless a match store is given,
   * and no alerts agent (nothing to notify).
   */
  readonly offline?: boolean;
  /** Levels per side in the books the decoders emit (default theirs, 20; `replay --books-out` asks for all). */
  readonly depth?: number;
  /** Per-agent options (`pm-arb agent <name> --opt key=value`). */
  readonly options?: Readonly<Record<string, string>>;
}

export interface Assembly {
  /** In start order. */
  readonly agents: Agent[];
  /** The venue watchers and oracle agents among them. */
  readonly feeds: FeedAgent[];
  readonly simHub?: SimHub;
}

interface BuildContext {
  readonly kernel: Kernel;
  readonly mode: ProcessMode;
  readonly opts: Readonly<Record<string, string>>;
  /** Whether this agent was asked for by name (its --opt options apply, a feed agent must be told which feed). */
  readonly named: boolean;
  feedSource(name: FeedName, onDisconnect?: (tokenIds: readonly string[]) => void): FrameSource;
  /** A feed's own decoder set (at the mode's book depth). */
  decoders(name: FeedName): DecoderSet;
}

export interface AgentSpec {
  /** The catalogue name (`pm-arb agent <name>`). */
  readonly name: string;
  readonly description: string;
  /** feed: a venue watcher or oracle agent; diagnostic: only when asked for by name. */
  readonly kind: 'feed' | 'consumer' | 'diagnostic';
  /** Part of `agents: 'all'` in this mode (default: every feed and consumer). */
  readonly inAll?: (mode: ProcessMode) => boolean;
  build(ctx: BuildContext): Promise<Agent[]>;
}

const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));

const venueFeeds = ['polymarket', 'kalshi'] as const;
const oracleFeeds = ['binance', 'chainlink'] as const;

/** The feeds a feed spec builds: the one named by --opt when asked for by name, else those the mode runs. */
function pick<T extends FeedName>(
  ctx: BuildContext,
  all: readonly T[],
  key: 'venue' | 'source',
  spec: string,
): T[] {
  if (ctx.named) {
    const v = ctx.opts[key];
    if (!(all as readonly string[]).includes(v ?? '')) {
      throw new Error(`${spec} needs ${all.map((a) => `--opt ${key}=${a}`).join(' or ')} (got "${v ?? ''}")`);
    }
    return [v as T];
  }
  return all.filter((n) => !ctx.mode.only || ctx.mode.only.includes(n));
}

/** Every agent a process can run, in start order. */
export const AGENT_CATALOGUE: readonly AgentSpec[] = [
  {
    name: 'persister',
    description: 'writes state messages to the store in batches, acking each once committed',
    kind: 'consumer',
    inAll: (m) => m.store !== undefined && m.store !== 'own',
    build: async ({ mode, opts }) => {
      const p = await import('../agents/persister.ts');
      if (mode.store && mode.store !== 'own') return [p.createPersister({ db: mode.store, migrate: false })];
      return [p.createPersister(p.persisterOptionsFromCli(opts))];
    },
  },
  {
    name: 'market-matcher',
    description: 'links equal/related markets (rules, then the LLM if ANTHROPIC_API_KEY is set); links out',
    kind: 'consumer',
    build: async ({ mode }) => {
      const { createMarketMatcherAgent } = await import('../agents/market-matcher.ts');
      const { createMemoryMatchStore } = await import('../matcher/store.ts');
      const store = mode.matchStore ?? (mode.offline ? createMemoryMatchStore() : undefined);
      return [
        createMarketMatcherAgent({ ...(store ? { store } : {}), ...(mode.offline ? { llm: null } : {}) }),
      ];
    },
  },
  {
    name: 'opportunity-scanner',
    description: 'executable, fee-net arbitrage and oracle-lag opportunities from books, ticks and links',
    kind: 'consumer',
    build: async () => [(await import('../agents/opportunity-scanner.ts')).createOpportunityScannerAgent()],
  },
  {
    name: 'strategy-runner',
    description: 'strategy plugins (oracle sniper, cross-venue, rebalancing, combinatorial); trade requests',
    kind: 'consumer',
    // until an Allocation names a strategy: the probation amount, as the risk guardian assumes
    build: async ({ kernel, mode }) => [
      (await import('../agents/strategy-runner.ts')).createStrategyRunnerAgent({
        defaultAllocation: probationAmount(kernel.config),
        ...(mode.restored ? { initial: mode.restored.strategies } : {}),
      }),
    ],
  },
  {
    name: 'risk-guardian',
    description:
      'decides every trade request (approve/reduce/reject) against the risk rules; RiskDecisions out (opt leaseTtlMs=N)',
    kind: 'consumer',
    build: async ({ kernel, mode, opts }) => {
      const { createRiskGuardian } = await import('../agents/risk-guardian.ts');
      const db = mode.store && mode.store !== 'own' ? mode.store : undefined;
      const redisUrl = kernel.bus.transport === 'redis' ? kernel.config.redisUrl : undefined;
      const { createRedisLease } = await import('../execution/lease.ts');
      const { createDbFenceStore } = await import('../store/intents.ts');
      return [
        createRiskGuardian({
          probationAllocation: probationAmount(kernel.config),
          ...(mode.restored
            ? {
                initial: mode.restored.risk,
                pending: mode.restored.pendingDecisions,
                decided: mode.restored.decidedRequests,
              }
            : {}),
          // the Redis deployment: one active guardian (a second one stands by)
          ...(redisUrl
            ? {
                lease: (rt) =>
                  createRedisLease({
                    url: redisUrl,
                    keyPrefix: kernel.config.redisKeyPrefix,
                    role: 'risk-guardian',
                    account: 'all',
                    owner: rt.kernel.instance,
                    now: () => rt.clock.now(),
                    ...(opts.leaseTtlMs !== undefined ? { ttlMs: num(opts.leaseTtlMs) } : {}),
                  }),
              }
            : {}),
          // with a store: the token where the executors check it; a standby taking over reads the account state
          ...(db
            ? {
                fences: createDbFenceStore(db),
                reload: async () => {
                  const { loadRecoveryState } = await import('../store/queries.ts');
                  const { restoreStates } = await import('../store/restore.ts');
                  const r = restoreStates(await loadRecoveryState(db), kernel.config, kernel.clock.now());
                  return { risk: r.risk, pending: r.pendingDecisions, decided: r.decidedRequests };
                },
              }
            : {}),
        }),
      ];
    },
  },
  {
    name: 'executor',
    description:
      'paper executor: fills approved decisions against the venue books, exactly once (opt latencyMs=N fixed, seed=N, gtcTtlMs=N, leaseTtlMs=N, visibilityTimeoutMs=N)',
    kind: 'consumer',
    build: async ({ kernel, mode, opts }) => {
      const kind = mode.executor ?? 'paper';
      const { createExecutor, paperClients } = await import('../agents/executor.ts');
      const paperOpts = {
        ...(opts.latencyMs !== undefined ? { latencyMs: num(opts.latencyMs) } : {}),
        ...(opts.seed !== undefined ? { seed: num(opts.seed) } : {}),
      };
      // one venue account: the intents and the lease are per account
      const account =
        kind === 'paper'
          ? 'paper'
          : kind.kind === 'live'
            ? `live:${[...kind.clients.keys()].sort().join('+')}`
            : 'shadow';
      const db = mode.store && mode.store !== 'own' ? mode.store : undefined;
      const { createDbIntentStore } = await import('../store/intents.ts');
      const redisUrl = kernel.bus.transport === 'redis' ? kernel.config.redisUrl : undefined;
      const { createRedisLease } = await import('../execution/lease.ts');
      return [
        createExecutor({
          ...(mode.restored ? { initial: mode.restored.executor } : {}),
          // an in-process bus did not survive the restart: approvals the store holds that no executor took are gone
          ...(mode.restored && db && kernel.bus.transport !== 'redis'
            ? { lost: mode.restored.pendingDecisions }
            : {}),
          // exactly once across restarts: intents in the store (without one, for the process's life)
          ...(db
            ? {
                intents: createDbIntentStore(db, account),
                // a standby taking over reads the holdings the previous executor left in the store
                reload: async () => {
                  const { loadRecoveryState } = await import('../store/queries.ts');
                  const { restoreStates } = await import('../store/restore.ts');
                  return restoreStates(await loadRecoveryState(db), kernel.config, kernel.clock.now())
                    .executor;
                },
              }
            : {}),
          // the Redis deployment: one active executor per account
          ...(redisUrl
            ? {
                lease: (rt) =>
                  createRedisLease({
                    url: redisUrl,
                    keyPrefix: kernel.config.redisKeyPrefix,
                    account,
                    owner: rt.kernel.instance,
                    now: () => rt.clock.now(),
                    ...(opts.leaseTtlMs !== undefined ? { ttlMs: num(opts.leaseTtlMs) } : {}),
                  }),
              }
            : {}),
          ...(opts.visibilityTimeoutMs !== undefined
            ? { visibilityTimeoutMs: num(opts.visibilityTimeoutMs) }
            : {}),
          // live: a HALT_ALL also cancels every open order of the account at each venue
          ...(kind !== 'paper' && kind.kind === 'live'
            ? { clients: () => kind.clients, cancelAllOnHalt: true }
            : {}),
          // shadow: paper fills, each order also built, signed and recorded as live would send it
          ...(kind !== 'paper' && kind.kind === 'shadow'
            ? {
                clients: (rt: AgentRuntime, mayTrade: () => boolean) =>
                  kind.wrap(paperClients(rt, paperOpts, mayTrade)),
              }
            : {}),
          ...paperOpts,
          ...(opts.gtcTtlMs !== undefined ? { gtcTtlMs: num(opts.gtcTtlMs) } : {}),
        }),
      ];
    },
  },
  {
    name: 'capital-allocator',
    description:
      'ledger, strategy performance and the allocation tournament (opt intervalMs=N, strategies=a,b)',
    kind: 'consumer',
    build: async ({ mode, opts }) => {
      const { createCapitalAllocator } = await import('../agents/capital-allocator.ts');
      return [
        createCapitalAllocator({
          ...(mode.restored ? { initial: mode.restored.allocator } : {}),
          ...(opts.intervalMs ? { settings: { intervalMs: Number(opts.intervalMs) } } : {}),
          ...(opts.strategies ? { strategies: opts.strategies.split(',').filter(Boolean) } : {}),
        }),
      ];
    },
  },
  {
    name: 'alerts',
    description:
      'phone/webhook alerts: halts, resumes, silent agents, feeds down, leg risk, large fills, error bursts, daily summary',
    kind: 'consumer',
    inAll: (m) => m.offline !== true,
    build: async ({ mode }) => {
      const { createAlertsAgent } = await import('../agents/alerts.ts');
      // 'own': opened from the config by the agent; none: defaults and no alert log
      return [createAlertsAgent(mode.store === 'own' ? {} : { db: mode.store ?? null })];
    },
  },
  {
    name: 'venue-watcher',
    description:
      'one venue feed (opt venue=polymarket|kalshi, feeds=sim|live, seed=N, sim: markets=N, mispricingRate=PER_MIN): markets, books, trades, resolutions',
    kind: 'feed',
    build: async (ctx) => {
      const { createVenueWatcher } = await import('../agents/venue-watcher.ts');
      return pick(ctx, venueFeeds, 'venue', 'venue-watcher').map((venue) => {
        let watcher: FeedAgent | undefined;
        // a live transport that loses some instruments while the rest stays up: their books go stale
        // a factory: a feed that fails is replaced by a fresh one (a stopped source's transports stay closed)
        const source = () =>
          ctx.feedSource(venue, (tokens) => watcher?.markStale(tokens.map((t) => instrumentKey(venue, t))));
        watcher = createVenueWatcher({ venue, source, decoder: ctx.decoders(venue) });
        return watcher;
      });
    },
  },
  {
    name: 'oracle',
    description: 'one price source (opt source=binance|chainlink, feeds=sim|live, seed=N): oracle ticks',
    kind: 'feed',
    build: async (ctx) => {
      const { createOracleAgent } = await import('../agents/oracle-agent.ts');
      return pick(ctx, oracleFeeds, 'source', 'oracle').map((source) =>
        createOracleAgent({
          source,
          feed: () => ctx.feedSource(source),
          decoder: ctx.decoders(source),
        }),
      );
    },
  },
  {
    name: 'loadgen',
    description:
      'diagnostics: publishes --opt count=N messages at --opt rate=PER_SECOND on the diagnostics channel',
    kind: 'diagnostic',
    build: async ({ opts }) => [(await import('../agents/diagnostics.ts')).loadgenFromCli(opts)],
  },
  {
    name: 'sink',
    description:
      'diagnostics: applies each diagnostics message once by id, logging applied ids under --opt dir=PATH',
    kind: 'diagnostic',
    build: async ({ opts }) => [(await import('../agents/diagnostics.ts')).sinkFromCli(opts)],
  },
];

/**
 * The processes of the distributed mode: `pm-arb agent` arguments for every agent `pm-arb run` would start, one
 * process each (a feed agent once per venue or price source). The README's distributed example is generated from
 * this list and test/app/distributed.test.ts runs it, so the example always names every agent it needs.
 */
export function distributedAgents(feeds: 'sim' | 'live' = 'sim'): string[][] {
  const out: string[][] = [];
  for (const s of AGENT_CATALOGUE) {
    if (s.kind === 'consumer') out.push([s.name]);
    else if (s.name === 'venue-watcher')
      for (const v of venueFeeds) out.push([s.name, '--opt', `venue=${v}`, '--opt', `feeds=${feeds}`]);
    else if (s.name === 'oracle')
      for (const o of oracleFeeds) out.push([s.name, '--opt', `source=${o}`, '--opt', `feeds=${feeds}`]);
  }
  return out;
}

/**
 * The mode of `pm-arb agent <name> --opt …`: one agent, its own store; a feed agent reads `feeds=sim|live`,
 * `seed=N` and the simulator's `markets=N` and `mispricingRate=PER_MINUTE` from the options.
 */
export function agentProcessMode(name: string, o: Readonly<Record<string, string>>): ProcessMode {
  const feeds = o.feeds ?? 'sim';
  if (feeds !== 'sim' && feeds !== 'live') throw new Error(`feeds must be sim or live, got "${feeds}"`);
  const seed = Number(o.seed ?? '1');
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`seed must be a whole number, got "${o.seed}"`);
  // the simulator's world, the same in every feed process given the same options
  const sim: { markets?: number; mispricingRate?: number } = {};
  for (const k of ['markets', 'mispricingRate'] as const) {
    const v = o[k];
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${k} must be a positive number, got "${v}"`);
    sim[k] = k === 'markets' ? Math.floor(n) : n;
  }
  return {
    feeds,
    seed,
    agents: [name],
    store: 'own',
    options: o,
    ...(Object.keys(sim).length ? { sim } : {}),
  };
}

/** Stands in for the feed modules in a process without feeds (feedSource is only called by feed agents). */
const unloaded = (): never => {
  throw new Error('no feed agent in this process: the feed modules are not loaded');
};

/** Builds the agents of a process for a mode. */
export async function assemble(kernel: Kernel, mode: ProcessMode): Promise<Assembly> {
  const select = mode.agents ?? 'all';
  const named = Array.isArray(select);
  if (named) {
    for (const n of select as readonly string[])
      if (!AGENT_CATALOGUE.some((s) => s.name === n)) throw new Error(`unknown agent "${n}"`);
  }
  const specs = AGENT_CATALOGUE.filter((s) =>
    named
      ? (select as readonly string[]).includes(s.name)
      : s.kind === 'feed' || (select === 'all' && s.kind === 'consumer' && (s.inAll?.(mode) ?? true)),
  );
  // every venue's decoder and transport and the simulator: loaded only by a process that runs a feed (a
  // `pm-arb agent` of a consumer starts without them)
  // (the live transports — undici, ws — only for live feeds, the simulator only for simulated ones: a backtest
  // loads neither)
  const hasFeeds = specs.some((s) => s.kind === 'feed');
  const [{ createFeedDecoders }, { createLiveFeed }, { createSimHub }] = await Promise.all([
    hasFeeds ? import('../venues/registry.ts') : { createFeedDecoders: unloaded },
    hasFeeds && mode.feeds === 'live' ? import('../venues/live-feeds.ts') : { createLiveFeed: unloaded },
    hasFeeds && mode.feeds === 'sim' ? import('../venues/sim/feed.ts') : { createSimHub: unloaded },
  ]);
  const decoders = (name: FeedName) =>
    createFeedDecoders(name, mode.depth !== undefined ? { depth: mode.depth } : {});
  let simHub: SimHub | undefined;
  const feedSource = (name: FeedName, onDisconnect?: (tokenIds: readonly string[]) => void): FrameSource => {
    switch (mode.feeds) {
      case 'sim':
        simHub ??= createSimHub({ ...mode.sim, seed: mode.seed ?? 1, clock: kernel.clock });
        return simHub.source(`sim-${name}`, [`${name}.`]);
      case 'capture':
        if (!mode.capture) throw new Error('feeds=capture needs a capture');
        return mode.capture.source(`capture-${name}`, FEED_PREFIXES[name]);
      case 'live':
        return createLiveFeed(name, {
          config: kernel.config,
          clock: kernel.clock,
          log: kernel.log,
          decoders: decoders(name),
          ...(onDisconnect ? { onDisconnect } : {}),
        });
    }
  };
  const ctx: BuildContext = { kernel, mode, opts: mode.options ?? {}, named, feedSource, decoders };
  const consumers: Agent[] = [];
  const feeds: FeedAgent[] = [];
  for (const s of specs) {
    const built = await s.build(ctx);
    if (s.kind === 'feed') feeds.push(...(built as FeedAgent[]));
    else consumers.push(...built);
  }
  return { agents: [...consumers, ...feeds], feeds, ...(simHub ? { simHub } : {}) };
}
