/**
 * The live Kalshi order client behind the kernel's ExecutionClient interface, against the fake exchange: typed
 * reports under our client order id, the venue's id, fills from the report stream, cancels, and an order for an
 * unknown market refused unsent. Polymarket: the trade events of an order that matched at once reach the user
 * channel before the POST /order reply names the order, and its fill must still be counted (once); a report the
 * client could not place yet is delivered again by the next poll instead of being dropped as a duplicate.
 */
import { generateKeyPairSync } from 'node:crypto';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterEach, describe, expect, it } from 'vitest';
import { clientOrderId } from '../../../src/execution/ids.ts';
import { createLiveExecutionClient } from '../../../src/execution/live/client.ts';
import { isDone } from '../../../src/execution/order-state.ts';
import type { OrderReport, OrderRequest } from '../../../src/execution/types.ts';
import { createKalshiOrderClient } from '../../../src/venues/kalshi/execution/client.ts';
import { NotionalCaps } from '../../../src/venues/live/caps.ts';
import { ReportStream } from '../../../src/venues/live/reports.ts';
import type { LiveFill, VenueOrderClient } from '../../../src/venues/live/types.ts';
import { createPolymarketOrderClient } from '../../../src/venues/polymarket/execution/client.ts';
import { createPolymarketUserChannel } from '../../../src/venues/polymarket/execution/user-channel.ts';
import { startKalshiTradingFake } from '../../fakes/kalshi-trading-fake.ts';
import { startPolymarketClobFake } from '../../fakes/polymarket-clob-fake.ts';
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

    // amend (Kalshi): a resting order gets a new limit and size under the same client order id
    const rest = req({ type: 'GTC', limitPrice: 300_000, shares: 5_000_000 });
    await client.submit(rest);
    const restVid = (await client.status(rest.clientOrderId))!.venueOrderId!;
    await client.amend!(rest.clientOrderId, { limitPrice: 290_000, shares: 4_000_000 });
    expect([fake.orders.get(restVid)!.price, fake.orders.get(restVid)!.initial]).toEqual([
      290_000, 4_000_000,
    ]);
    expect((await client.status(rest.clientOrderId))!.request).toMatchObject({
      limitPrice: 290_000,
      shares: 4_000_000,
    });
    // raising the notional would pass the caps reserved at submit: refused here, the venue's order unchanged
    await expect(client.amend!(rest.clientOrderId, { limitPrice: 400_000 })).rejects.toThrow(
      /would raise its notional/,
    );
    expect(fake.orders.get(restVid)!.price).toBe(290_000);
    // an order that is not resting has nothing to amend
    await expect(client.amend!(ioc.clientOrderId, { limitPrice: 410_000 })).rejects.toThrow(/not resting/);
    await client.cancel(rest.clientOrderId);

    const nowhere = req({ marketId: 'NOPE' });
    await client.submit(nowhere);
    expect(seen.filter((r) => r.clientOrderId === nowhere.clientOrderId)).toMatchObject([
      { status: 'rejected', reason: 'unknown_market' },
    ]);
  });
});

const PM_TOKEN = '48151623420000000000000000000000000000000000000000000000000000000000000077';

describe('live execution client (Polymarket, fake CLOB): reports that overtake the submit reply', () => {
  it('applies the fills the user channel sent before the POST /order reply (no polling to rescue them)', async () => {
    const key = generatePrivateKey();
    const address = privateKeyToAccount(key).address;
    const fake = await startPolymarketClobFake({
      chainId: 137,
      signer: address,
      maker: address,
      collateral: 1_000_000_000,
      markets: [
        {
          conditionId: '0xc1',
          tokenId: PM_TOKEN,
          protocol: 'v1',
          tickSize: 10_000,
          minSize: 1_000_000,
          asks: [[440_000, 20_000_000]],
        },
      ],
    });
    const venueClient = createPolymarketOrderClient({
      clobUrl: fake.url,
      privateKey: key,
      signatureType: 'eoa',
      credentials: fake.credentials,
      now: Date.now,
      caps: new NotionalCaps({ maxOrder: 100_000_000, maxDaily: 500_000_000, now: Date.now }),
    });
    const socket = createPolymarketUserChannel({
      url: fake.wsUrl,
      credentials: fake.credentials,
      maker: address,
      now: Date.now,
    });
    // polling only while the socket is down: once it is up, the socket's reports are all there is
    const reports = new ReportStream({
      client: venueClient,
      socket,
      now: Date.now,
      pollMs: 50,
      pollConnectedMs: 0,
    });
    const client = createLiveExecutionClient({
      client: venueClient,
      reports,
      now: Date.now,
      facts: () => ({
        tickSize: 10_000,
        createdAt: Date.now(),
        polymarket: { protocol: 'v1', negRisk: false },
      }),
    });
    cleanups.push(async () => {
      await client.stop?.();
      await venueClient.close();
      await fake.close();
    });
    const seen: OrderReport[] = [];
    client.onReport((r) => seen.push(r));
    await client.start?.();
    // subscribed: the fake has the subscription frame
    await waitFor(
      () => fake.ws.openConnections().some((c) => c.received.length > 0),
      5_000,
      'the user channel',
    );

    // the order matches at once; its events (PLACEMENT, trade MATCHED → MINED → CONFIRMED) go out at once, the
    // reply naming the order 300 ms later
    fake.faults.push({ kind: 'slow_reply', ms: 300 });
    const q = req({
      venue: 'polymarket',
      marketId: '0xc1',
      tokenId: PM_TOKEN,
      type: 'FAK',
      limitPrice: 450_000,
      shares: 5_000_000,
    });
    await client.submit(q);
    await waitFor(
      () => seen.some((r) => r.fill?.settlement === 'confirmed'),
      5_000,
      'the confirmed fill that came before the reply',
    );
    const fills = seen.filter((r) => r.fill).map((r) => r.fill!.settlement);
    // MATCHED and MINED are both provisional; CONFIRMED once
    expect(fills.filter((x) => x === 'confirmed')).toHaveLength(1);
    expect(fills.at(-1)).toBe('confirmed');
    const s = (await client.status(q.clientOrderId))!;
    expect(s).toMatchObject({ status: 'filled', filledShares: 5_000_000, confirmedShares: 5_000_000 });
    expect(isDone(s)).toBe(true);
  });

  it('amend is refused on Polymarket with a clear unsupported error; the resting order stays', async () => {
    const key = generatePrivateKey();
    const address = privateKeyToAccount(key).address;
    const fake = await startPolymarketClobFake({
      chainId: 137,
      signer: address,
      maker: address,
      collateral: 1_000_000_000,
      markets: [
        {
          conditionId: '0xc1',
          tokenId: PM_TOKEN,
          protocol: 'v1',
          tickSize: 10_000,
          minSize: 1_000_000,
          asks: [[440_000, 20_000_000]],
        },
      ],
    });
    const venueClient = createPolymarketOrderClient({
      clobUrl: fake.url,
      privateKey: key,
      signatureType: 'eoa',
      credentials: fake.credentials,
      now: Date.now,
      caps: new NotionalCaps({ maxOrder: 100_000_000, maxDaily: 500_000_000, now: Date.now }),
    });
    const client = createLiveExecutionClient({
      client: venueClient,
      now: Date.now,
      facts: () => ({
        tickSize: 10_000,
        createdAt: Date.now(),
        polymarket: { protocol: 'v1', negRisk: false },
      }),
    });
    cleanups.push(async () => {
      await venueClient.close();
      await fake.close();
    });
    const q = req({
      venue: 'polymarket',
      marketId: '0xc1',
      tokenId: PM_TOKEN,
      type: 'GTC',
      limitPrice: 300_000,
      shares: 5_000_000,
    });
    await client.submit(q);
    const s = (await client.status(q.clientOrderId))!;
    expect(s.status).toBe('acknowledged');
    await expect(client.amend!(q.clientOrderId, { limitPrice: 290_000 })).rejects.toThrow(
      /polymarket: amend of .* refused \(unsupported\): Polymarket orders cannot be amended: cancel and place a new one/,
    );
    expect(fake.orders.get(s.venueOrderId!)).toMatchObject({ price: 300_000, status: 'ORDER_STATUS_LIVE' });
    expect((await client.status(q.clientOrderId))!.request.limitPrice).toBe(300_000);
  });

  it('a report the client could not place yet is not a duplicate: the poll delivers it again', async () => {
    const fill: LiveFill = {
      venue: 'polymarket',
      fillId: 'trade-9',
      venueOrderId: '0xabc',
      marketId: '0xc1',
      tokenId: PM_TOKEN,
      side: 'buy',
      price: 440_000,
      shares: 5_000_000,
      fee: 0,
      liquidity: 'taker',
      settlement: 'confirmed',
      ts: 1,
    };
    let emitSocket: ((r: { kind: 'fill'; fill: LiveFill; source: 'socket' }) => void) | undefined;
    const venueClient = {
      venue: 'polymarket',
      lookup: async () => undefined,
      fills: async () => [fill],
    } as unknown as VenueOrderClient;
    const reports = new ReportStream({
      client: venueClient,
      socket: {
        start: (emit) => {
          emitSocket = emit;
        },
        stop: async () => {},
        connected: () => true,
        health: () => ({}),
      },
      now: Date.now,
      pollMs: 60_000,
      pollConnectedMs: 0,
    });
    const handled: string[] = [];
    let known = false;
    reports.start((r) => {
      if (!known) return false;
      handled.push(r.kind === 'fill' ? r.fill.fillId : r.order.venueOrderId);
      return true;
    });
    cleanups.push(() => reports.stop());
    emitSocket!({ kind: 'fill', fill, source: 'socket' });
    expect(handled).toEqual([]);
    known = true;
    await reports.pollNow();
    expect(handled).toEqual(['trade-9']);
    // once placed, it is remembered: the next copy is a duplicate
    await reports.pollNow();
    emitSocket!({ kind: 'fill', fill, source: 'socket' });
    expect(handled).toEqual(['trade-9']);
    expect(reports.health()).toMatchObject({ unplaced: 1, duplicates: 2 });
  });
});
