/** `pm-arb agent venue-watcher|oracle --opt …`: the feed agents built from command-line options. */

import type { Agent, Kernel } from '../core/agent.ts';
import { createFeedDecoders } from '../venues/registry.ts';
import { createFeedSources } from '../venues/sources.ts';
import { createOracleAgent } from './oracle-agent.ts';
import { createVenueWatcher } from './venue-watcher.ts';

function feedsOpt(o: Readonly<Record<string, string>>): { feeds: 'sim' | 'live'; seed: number } {
  const feeds = o.feeds ?? 'sim';
  if (feeds !== 'sim' && feeds !== 'live') throw new Error(`feeds must be sim or live, got "${feeds}"`);
  const seed = Number(o.seed ?? '1');
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`seed must be a whole number, got "${o.seed}"`);
  return { feeds, seed };
}

export function venueWatcherFromCli(kernel: Kernel, o: Readonly<Record<string, string>>): Agent {
  const venue = o.venue;
  if (venue !== 'polymarket' && venue !== 'kalshi') {
    throw new Error(
      `venue-watcher needs --opt venue=polymarket or --opt venue=kalshi (got "${venue ?? ''}")`,
    );
  }
  const sources = createFeedSources(kernel, feedsOpt(o));
  return createVenueWatcher({
    venue,
    source: () => sources.source(venue),
    decoder: createFeedDecoders(venue),
  });
}

export function oracleFromCli(kernel: Kernel, o: Readonly<Record<string, string>>): Agent {
  const source = o.source;
  if (source !== 'binance' && source !== 'chainlink') {
    throw new Error(`oracle needs --opt source=binance or --opt source=chainlink (got "${source ?? ''}")`);
  }
  const sources = createFeedSources(kernel, feedsOpt(o));
  return createOracleAgent({
    source,
    feed: () => sources.source(source),
    decoder: createFeedDecoders(source),
  });
}
