/**
 * Builds the live venue clients from the configuration: Polymarket when its wallet key and L2 API credentials
 * are set, Kalshi when its key id and PEM file are. What is missing for a venue is said in words (which
 * variables to set), never as a stack trace; no secret is part of any message.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../../core/config.ts';
import type { Venue } from '../../core/messages.ts';
import { createKalshiOrderClient } from '../kalshi/execution/client.ts';
import { createPolymarketOrderClient } from '../polymarket/execution/client.ts';
import type { NotionalCaps } from './caps.ts';
import type { VenueOrderClient } from './types.ts';

export interface LiveClients {
  readonly clients: VenueOrderClient[];
  /** One line per venue that could not be built: what to set. */
  readonly problems: string[];
}

export function liveClientsFromConfig(
  config: Config,
  o: { readonly now: () => number; readonly caps: NotionalCaps; readonly venues?: readonly Venue[] },
): LiveClients {
  const want = new Set(o.venues ?? ['polymarket', 'kalshi']);
  const clients: VenueOrderClient[] = [];
  const problems: string[] = [];
  const timeoutMs = config.live.requestTimeoutMs;

  if (want.has('polymarket')) {
    const p = config.polymarket;
    const missing = (
      [
        ['POLYMARKET_PRIVATE_KEY', p.privateKey],
        ['POLYMARKET_API_KEY', p.apiKey],
        ['POLYMARKET_API_SECRET', p.apiSecret],
        ['POLYMARKET_API_PASSPHRASE', p.apiPassphrase],
      ] as const
    )
      .filter(([, v]) => !v)
      .map(([k]) => k);
    if (missing.length > 0) {
      problems.push(`polymarket: set ${missing.join(', ')} (see README "Going live")`);
    } else if (!/^0x[0-9a-fA-F]{64}$/.test(p.privateKey!)) {
      problems.push('polymarket: POLYMARKET_PRIVATE_KEY must be 0x followed by 64 hex digits');
    } else {
      try {
        clients.push(
          createPolymarketOrderClient({
            clobUrl: p.clobUrl,
            chainId: p.chainId,
            privateKey: p.privateKey as `0x${string}`,
            signatureType: p.signatureType,
            funder: p.funderAddress,
            credentials: { key: p.apiKey!, secret: p.apiSecret!, passphrase: p.apiPassphrase! },
            now: o.now,
            caps: o.caps,
            timeoutMs,
          }),
        );
      } catch (e) {
        problems.push(`polymarket: ${(e as Error).message}`);
      }
    }
  }

  if (want.has('kalshi')) {
    const k = config.kalshi;
    if (!k.apiKeyId || !k.privateKeyPath) {
      problems.push('kalshi: set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH (see README "Going live")');
    } else {
      try {
        clients.push(
          createKalshiOrderClient({
            restUrl: k.restUrl,
            keyId: k.apiKeyId,
            privateKeyPem: readFileSync(k.privateKeyPath, 'utf8'),
            now: o.now,
            caps: o.caps,
            timeoutMs,
          }),
        );
      } catch (e) {
        problems.push(`kalshi: ${(e as Error).message}`);
      }
    }
  }
  return { clients, problems };
}
