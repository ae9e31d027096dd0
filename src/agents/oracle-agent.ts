/**
 * Oracle agent (one per price source: binance, chainlink): runs the source's FrameSource, decodes frames into
 * OracleTicks and publishes them on `ticks.<source>`. A symbol with no tick for `staleAfterMs` (clock timer), or
 * every symbol on a disconnect, is republished once with `stale: true`. Same health fields as the venue watcher.
 */

import type { Decoder, FrameSource } from '../feeds/types.ts';
import type { DecoderSet } from '../venues/registry.ts';
import { createFeedAgent, type FeedAgent } from './venue-watcher.ts';

export type OracleName = 'binance' | 'chainlink';

export interface OracleAgentOptions {
  readonly source: OracleName;
  readonly feed: FrameSource;
  readonly decoder: Decoder | DecoderSet;
  readonly staleAfterMs?: number;
  readonly checkEveryMs?: number;
  /** Agent name (default `oracle-<source>`). */
  readonly name?: string;
}

export function createOracleAgent(opts: OracleAgentOptions): FeedAgent {
  return createFeedAgent({
    name: opts.name ?? `oracle-${opts.source}`,
    source: opts.feed,
    decoders: opts.decoder,
    ...(opts.staleAfterMs !== undefined ? { staleAfterMs: opts.staleAfterMs } : {}),
    ...(opts.checkEveryMs !== undefined ? { checkEveryMs: opts.checkEveryMs } : {}),
  });
}
