/**
 * The live FrameSource factories per venue/oracle (real endpoints, public market data). A module of their own,
 * apart from the decoders in registry.ts: the transports load undici and ws (~0.15 s of a backtest's wall time,
 * measured), which a capture replay, a backtest or a simulation never uses.
 */
import { readFileSync } from 'node:fs';
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import type { FrameSource } from '../feeds/types.ts';
import { type BinanceFeedOptions, createBinanceFeed } from '../oracles/binance/feed.ts';
import { type ChainlinkFeedOptions, createChainlinkFeed } from '../oracles/chainlink/feed.ts';
import type { FeedName } from './feed-names.ts';
import { createKalshiFeed, type KalshiFeedOptions } from './kalshi/feed.ts';
import { createPolymarketFeed, type PolymarketFeedOptions } from './polymarket/feed.ts';
import type { DecoderSet } from './registry.ts';

export interface LiveFeedContext {
  readonly config: Config;
  readonly clock: Clock;
  readonly log: Logger;
  /** The feed's decoders, when the feed needs them. */
  readonly decoders?: DecoderSet;
  /** Instruments (token ids) a transport lost while the rest of it stays up (a Polymarket websocket shard). */
  readonly onDisconnect?: (tokenIds: readonly string[]) => void;
  /** Per-feed option overrides (endpoints for fake servers in tests, market filters, symbols). */
  readonly overrides?: {
    readonly polymarket?: Partial<PolymarketFeedOptions>;
    readonly kalshi?: Partial<KalshiFeedOptions>;
    readonly binance?: Partial<BinanceFeedOptions>;
    readonly chainlink?: Partial<ChainlinkFeedOptions>;
  };
}

/** Spot symbols the oracle feeds follow (the assets of the crypto markets). */
export const ORACLE_SYMBOLS = ['BTCUSDT', 'ETHUSDT'] as const;
export const CHAINLINK_SYMBOLS = ['BTC/USD', 'ETH/USD'] as const;

/** The live FrameSource of one feed (real venue/oracle endpoints, public market data). */
export function createLiveFeed(name: FeedName, ctx: LiveFeedContext): FrameSource {
  const now = (): number => ctx.clock.now();
  const onError = (err: Error): void => ctx.log.warn({ feed: name, err: err.message }, 'feed error');
  switch (name) {
    case 'polymarket':
      return createPolymarketFeed({
        now,
        gammaUrl: ctx.config.polymarket.gammaUrl,
        clobUrl: ctx.config.polymarket.clobUrl,
        wsUrl: ctx.config.polymarket.wsMarketUrl,
        refreshMs: 300_000,
        onError,
        ...(ctx.onDisconnect
          ? { onConnection: (e) => (e.connected ? undefined : ctx.onDisconnect?.(e.assets)) }
          : {}),
        ...ctx.overrides?.polymarket,
      });
    case 'kalshi': {
      const path = ctx.config.kalshi.privateKeyPath;
      return createKalshiFeed({
        now,
        restUrl: ctx.config.kalshi.restUrl,
        wsUrl: ctx.config.kalshi.wsUrl,
        onError,
        ...(ctx.config.kalshi.apiKeyId ? { keyId: ctx.config.kalshi.apiKeyId } : {}),
        ...(path ? { privateKeyPem: readFileSync(path, 'utf8') } : {}),
        ...ctx.overrides?.kalshi,
      });
    }
    case 'binance':
      return createBinanceFeed({
        now,
        restUrl: ctx.config.binance.restUrl,
        wsUrl: ctx.config.binance.wsUrl,
        symbols: ORACLE_SYMBOLS,
        onError,
        ...ctx.overrides?.binance,
      });
    case 'chainlink':
      return createChainlinkFeed({ now, symbols: CHAINLINK_SYMBOLS, onError, ...ctx.overrides?.chainlink });
  }
}
