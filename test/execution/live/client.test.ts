/**
 * The live Kalshi order client behind the kernel's ExecutionClient interface, against the fake exchange: typed
 * reports under our client order id, the venue's id, fills from the report stream, cancels, and an order for an
 * unknown market refused unsent.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { clientOrderId } from '../../../src/execution/ids.ts';
import { createLiveExecutionClient } from '../../../src/execution/live/client.ts';
import { isDone } from '../../../src/execution/order-state.ts';
import type { OrderReport, OrderRequest } from '../../../src/execution/types.ts';
import { createKalshiOrderClient } from '../../../src/venues/kalshi/execution/client.ts';
import { NotionalCaps } from '../../../src/venues/live/caps.ts';
import { ReportStream } from '../../../src/venues/live/reports.ts';
import { startKalshiTradingFake } from '../../fakes/kalshi-trading-fake.ts';
import { waitFor } from '../../fakes/ws-fake.ts';

const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const T = 'KXOWN-26DEC31-T100';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

let seq = 0;
function req(over: Partial<OrderRequest> = {}): OrderRequest {
  const requestId = `lreq-${++seq}`;
  return {
    clientOrderId: clientOrderId(requestId, 0),
    requestId,
    legIndex: 0,
    strategy: 's1',
    purpose: 'trade',
    venue: 'kalshi',
    marketId: T,
    tokenId: `${T}:yes`,
    side: 'buy',
    limitPrice: 430_000,
    shares: 5_000_000,
    type: 'FAK',
    ...over,
  };
}

describe('live execution client (Kalshi, fake exchange)', () => {
  it('submits, reports fills from the stream, cancels a resting order, refuses an unknown market', async () => {
    const fake = await startKalshiTradingFake({
      keyId: 'key-1',
      publicKeyPem: keys.publicKey,
      balance: 1_000_000_000,
      markets: [{ ticker: T, yesAsks: [[420_000, 10_000_000]], yesBids: [[400_000, 15_000_000]] }],
    });
    const venueClient = createKalshiOrderClient({
      restUrl: fake.restUrl,
      keyId: 'key-1',
      privateKeyPem: keys.privateKey,
      now: Date.now,
      caps: new NotionalCaps({ maxOrder: 100_000_000, maxDaily: 500_000_000, now: Date.now }),
      timeoutMs: 2_000,
      submitPolicy: { lookupDelaysMs: [0, 100, 300] },
    });
    const reports = new ReportStream({ client: venueClient, now: Date.now, pollMs: 50, pollConnectedMs: 50 });
    const client = createLiveExecutionClient({
      client: venueClient,
      reports,
      now: Date.now,
      facts: (q) => (q.marketId === T ? { tickSize: 10_000, createdAt: Date.now() } : undefined),
    });
    cleanups.push(async () => {
      await client.stop?.();
      await venueClient.close();
      await fake.close();
    });
    const seen: OrderReport[] = [];
    client.onReport((r) => seen.push(r));
    await client.start?.();

    const ioc = req();
    await client.submit(ioc);
    await waitFor(
      () => seen.some((r) => r.clientOrderId === ioc.clientOrderId && r.fill),
      5_000,
      'the fill of the IOC order',
    );
    const s = (await client.status(ioc.clientOrderId))!;
    expect(isDone(s)).toBe(true);
    expect(s).toMatchObject({ status: 'filled', filledShares: 5_000_000, venueFilledShares: 5_000_000 });
    expect(s.venueOrderId).toBeDefined();
    expect(s.fills).toMatchObject([{ price: 420_000, shares: 5_000_000, settlement: 'confirmed' }]);

    const gtc = req({ type: 'GTC', limitPrice: 300_000 });
    await client.submit(gtc);
    expect(seen.filter((r) => r.clientOrderId === gtc.clientOrderId).at(-1)?.status).toBe('acknowledged');
    await client.cancel(gtc.clientOrderId);
    expect((await client.status(gtc.clientOrderId))?.status).toBe('cancelled');

    const nowhere = req({ marketId: 'NOPE' });
    await client.submit(nowhere);
    expect(seen.filter((r) => r.clientOrderId === nowhere.clientOrderId)).toMatchObject([
      { status: 'rejected', reason: 'unknown_market' },
    ]);
  });
});
