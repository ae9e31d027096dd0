import { generateKeyPairSync } from 'node:crypto';
import { verifyTypedData } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { clientOrderId } from '../../../src/execution/ids.ts';
import { createKalshiOrderClient } from '../../../src/venues/kalshi/execution/client.ts';
import { NotionalCaps, orderNotional } from '../../../src/venues/live/caps.ts';
import { kalshiClientOrderId } from '../../../src/venues/live/ids.ts';
import { createShadowRecorder, type ShadowRecord } from '../../../src/venues/live/shadow.ts';
import type { LiveOrderSpec } from '../../../src/venues/live/types.ts';
import { createPolymarketOrderClient } from '../../../src/venues/polymarket/execution/client.ts';
import { exchangeDomain, fromWire, ORDER_TYPES } from '../../../src/venues/polymarket/execution/orders.ts';
import type { WirePostOrderBody } from '../../../src/venues/polymarket/execution/wire.ts';

const DAY = 86_400_000;

describe('notional caps', () => {
  it('per order, per UTC day, a resend of the same id counted once, a refusal given back, a new day starts at zero', () => {
    let now = 10 * DAY + 1_000;
    const caps = new NotionalCaps({
      maxOrder: 10_000_000,
      maxDaily: 25_000_000,
      now: () => now,
      spentToday: 5_000_000,
    });
    expect(caps.reserve('a', 10_000_001)).toMatchObject({ ok: false });
    expect(caps.reserve('a', 10_000_000)).toEqual({ ok: true });
    expect(caps.reserve('a', 10_000_000)).toEqual({ ok: true });
    expect(caps.spentToday()).toBe(15_000_000);
    expect(caps.reserve('b', 10_000_000)).toEqual({ ok: true });
    const over = caps.reserve('c', 1);
    expect(over.ok).toBe(false);
    expect(!over.ok && over.message).toBe(
      "order notional $0.000001 would bring today's total to $25.000001, above LIVE_MAX_DAILY_USD $25",
    );
    caps.release('b');
    expect(caps.reserve('c', 1)).toEqual({ ok: true });
    now = 11 * DAY;
    expect(caps.spentToday()).toBe(0);
    expect(caps.reserve('d', 10_000_000)).toEqual({ ok: true });
    expect(() => new NotionalCaps({ maxOrder: 0, maxDaily: 1, now: () => 0 })).toThrow(/LIVE_MAX_ORDER_USD/);
  });

  it('notional is price × shares rounded up, exactly', () => {
    expect(orderNotional({ limitPrice: 333_333, shares: 3_000_000 })).toBe(999_999);
    expect(orderNotional({ limitPrice: 1, shares: 1 })).toBe(1);
  });
});

describe('shadow recorder', () => {
  it('signs what would be sent, sends nothing, records refusals with their reason', async () => {
    const key = generatePrivateKey();
    const rsa = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const liveCaps = new NotionalCaps({ maxOrder: 1e9, maxDaily: 1e10, now: Date.now });
    // clients pointed at a closed port: a request would fail loudly, so "recorded" cannot mean "sent"
    const polymarket = createPolymarketOrderClient({
      clobUrl: 'http://127.0.0.1:9',
      privateKey: key,
      signatureType: 'eoa',
      credentials: { key: 'k', secret: Buffer.alloc(32).toString('base64url'), passphrase: 'p' },
      now: Date.now,
      caps: liveCaps,
    });
    const kalshi = createKalshiOrderClient({
      restUrl: 'http://127.0.0.1:9/trade-api/v2',
      keyId: 'kid',
      privateKeyPem: rsa.privateKey,
      now: Date.now,
      caps: liveCaps,
    });
    const records: ShadowRecord[] = [];
    const shadow = createShadowRecorder({
      clients: { polymarket, kalshi },
      caps: new NotionalCaps({ maxOrder: 6_000_000, maxDaily: 100_000_000, now: Date.now }),
      now: () => 1_234,
      sink: (r) => records.push(r),
    });
    const base = {
      requestId: 'req-9',
      side: 'buy' as const,
      type: 'FOK' as const,
      createdAt: 1_700_000_000_000,
      tickSize: 10_000,
    };
    const pm: LiveOrderSpec = {
      ...base,
      clientOrderId: clientOrderId('req-9', 0),
      legIndex: 0,
      venue: 'polymarket',
      marketId: '0xc1',
      tokenId: '123456789',
      limitPrice: 550_000,
      shares: 10_000_000,
      polymarket: { protocol: 'v2', negRisk: false },
    };
    const ks: LiveOrderSpec = {
      ...base,
      clientOrderId: clientOrderId('req-9', 1),
      legIndex: 1,
      venue: 'kalshi',
      marketId: 'KX-1',
      tokenId: 'KX-1:no',
      limitPrice: 400_000,
      shares: 10_000_000,
    };
    const r1 = await shadow.record(pm);
    const r2 = await shadow.record(ks);
    const r3 = await shadow.record({ ...ks, clientOrderId: clientOrderId('req-10', 0), shares: 20_000_000 });
    const r4 = await shadow.record({ ...ks, clientOrderId: clientOrderId('req-11', 0), limitPrice: 405_000 });
    expect(records).toEqual([r1, r2, r3, r4]);

    // Polymarket: the signed order for ExchangeV3, verifiable by anyone with the address
    const body = r1.prepared!.body as WirePostOrderBody;
    const { order, signature } = fromWire(body.order);
    expect(r1.prepared).toMatchObject({
      venue: 'polymarket',
      path: '/order',
      notional: 5_500_000,
      venueOrderId: expect.stringMatching(/^0x[0-9a-f]{64}$/),
    });
    const message = {
      ...order,
      salt: BigInt(order.salt),
      tokenId: BigInt(order.tokenId),
      makerAmount: BigInt(order.makerAmount),
      takerAmount: BigInt(order.takerAmount),
      timestamp: BigInt(order.timestamp),
      side: 0,
    };
    expect(
      await verifyTypedData({
        address: privateKeyToAccount(key).address,
        domain: exchangeDomain(137, { protocol: 'v2', negRisk: false }),
        types: ORDER_TYPES,
        primaryType: 'Order',
        message,
        signature,
      }),
    ).toBe(true);
    expect(order.timestamp).toBe('1700000000000');

    // Kalshi: buy NO at 0.40 is an ask on the YES book at 0.60, under the UUID client id
    expect(r2.prepared).toMatchObject({
      venue: 'kalshi',
      path: '/trade-api/v2/portfolio/events/orders',
      body: {
        ticker: 'KX-1',
        side: 'ask',
        price: '0.60',
        count: '10.00',
        time_in_force: 'fill_or_kill',
        client_order_id: kalshiClientOrderId(ks.clientOrderId),
      },
    });
    expect(r3).toMatchObject({ refused: { reason: 'cap_exceeded' } });
    expect(r3.prepared).toBeUndefined();
    expect(r4).toMatchObject({ refused: { reason: 'invalid_price' } });
    expect(r1.at).toBe(1_234);
    // the live caps were never touched: nothing was submitted
    expect(liveCaps.spentToday()).toBe(0);
    await polymarket.close();
    await kalshi.close();
  });
});
