/** Live order clients pointed at the local trading fakes, for tests that place orders on them directly. */
import { createKalshiOrderClient } from '../../src/venues/kalshi/execution/client.ts';
import { NotionalCaps } from '../../src/venues/live/caps.ts';
import { createPolymarketOrderClient } from '../../src/venues/polymarket/execution/client.ts';
import type { KalshiTradingFake } from '../fakes/kalshi-trading-fake.ts';
import type { PolymarketClobFake } from '../fakes/polymarket-clob-fake.ts';

export interface FakeVenueAccess {
  readonly pm: PolymarketClobFake;
  readonly ks: KalshiTradingFake;
  /** the wallet's private key (0x…) */
  readonly key: `0x${string}`;
  readonly kalshiKeyId: string;
  readonly kalshiPrivateKeyPem: string;
}

/** One client per fake venue, with caps far above anything a test sends; `close` them when done. */
export function fakeOrderClients(v: FakeVenueAccess) {
  const caps = new NotionalCaps({ maxOrder: 1e9, maxDaily: 1e10, now: Date.now });
  const pmc = createPolymarketOrderClient({
    clobUrl: v.pm.url,
    privateKey: v.key,
    signatureType: 'eoa',
    credentials: v.pm.credentials,
    now: Date.now,
    caps,
  });
  const ksc = createKalshiOrderClient({
    restUrl: v.ks.restUrl,
    keyId: v.kalshiKeyId,
    privateKeyPem: v.kalshiPrivateKeyPem,
    now: Date.now,
    caps,
  });
  return {
    pmc,
    ksc,
    close: async (): Promise<void> => {
      await pmc.close();
      await ksc.close();
    },
  };
}
