/**
 * Oracle agent (one per price source: binance, chainlink): runs the source's FrameSource, decodes frames into
 * OracleTicks and publishes them on `ticks.<source>`. Staleness (feed down, heartbeat lapsed) and recovery (a
 * fresh source after a failure) as in the venue watcher; same health fields.
 */

import type { BackoffOptions } from '../feeds/backoff.ts';
import type { Decoder } from '../feeds/types.ts';
import type { DecoderSet } from '../venues/registry.ts';
import { createFeedAgent, type FeedAgent, type SourceOrFactory } from './venue-watcher.ts';

export type OracleName = 'binance' | 'chainlink';

export interface OracleAgentOptions {
  readonly source: OracleName;
  readonly feed: SourceOrFactory;
  readonly decoder: Decoder | DecoderSet;
  readonly heartbeatTimeoutMs?: number;
  readonly checkEveryMs?: number;
  readonly restartAfterMs?: number;
  readonly retry?: BackoffOptions;
  /** Agent name (default `oracle-<source>`). */
  readonly name?: string;
}

export function createOracleAgent(opts: OracleAgentOptions): FeedAgent {
  return createFeedAgent({
    name: opts.name ?? `oracle-${opts.source}`,
    feed: opts.source,
    source: opts.feed,
    decoders: opts.decoder,
    ...(opts.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: opts.heartbeatTimeoutMs } : {}),
    ...(opts.checkEveryMs !== undefined ? { checkEveryMs: opts.checkEveryMs } : {}),
    ...(opts.restartAfterMs !== undefined ? { restartAfterMs: opts.restartAfterMs } : {}),
    ...(opts.retry ? { retry: opts.retry } : {}),
  });
}
