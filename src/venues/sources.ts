/**
 * One FrameSource per feed for a process: all from one simulator hub (so venues and oracles agree), or the live
 * adapters. Shared by the pipeline (`pm-arb run`) and the single-agent processes (`pm-arb agent venue-watcher`).
 */
import type { Kernel } from '../core/agent.ts';
import type { FrameSource } from '../feeds/types.ts';
import { createFeedDecoders, createLiveFeed, type FeedName } from './registry.ts';
import { createSimHub, type SimHub } from './sim/feed.ts';
import type { SimOptions } from './sim/market.ts';

export type Feeds = 'sim' | 'live';

export interface FeedSourcesOptions {
  readonly feeds: Feeds;
  /** Simulator seed (feeds=sim; default 1). */
  readonly seed?: number;
  /** Further simulator settings (feeds=sim). */
  readonly sim?: Omit<SimOptions, 'seed' | 'start'>;
}

export interface FeedSources {
  /** `onDisconnect`: token ids a live transport lost while the rest stayed up (their books go stale). */
  source(name: FeedName, onDisconnect?: (tokenIds: readonly string[]) => void): FrameSource;
  readonly hub?: SimHub;
}

export function createFeedSources(kernel: Kernel, opts: FeedSourcesOptions): FeedSources {
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
