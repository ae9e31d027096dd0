import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { clientOrderId } from '../../../src/execution/ids.ts';
import { kalshiPrice, toBook } from '../../../src/venues/kalshi/execution/book.ts';
import {
  createKalshiOrderClient,
  type KalshiOrderClient,
} from '../../../src/venues/kalshi/execution/client.ts';
import { classifyKalshiError } from '../../../src/venues/kalshi/execution/errors.ts';
import { createKalshiUserChannel } from '../../../src/venues/kalshi/execution/user-channel.ts';
import { NotionalCaps } from '../../../src/venues/live/caps.ts';
import { kalshiClientOrderId } from '../../../src/venues/live/ids.ts';
import type { LiveOrderSpec } from '../../../src/venues/live/types.ts';
import { type KalshiTradingFake, startKalshiTradingFake } from '../../fakes/kalshi-trading-fake.ts';
import { waitFor } from '../../fakes/ws-fake.ts';
import { collectReports } from '../../helpers/reports.ts';

const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const other = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const KEY_ID = 'key-1';
const T = 'KXBTCD-26DEC0217-T99999.99';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(
  o: { maxOrder?: number; maxDaily?: number; timeoutMs?: number; privateKeyPem?: string } = {},
): Promise<{ fake: KalshiTradingFake; client: KalshiOrderClient; caps: NotionalCaps }> {
  const fake = await startKalshiTradingFake({
    keyId: KEY_ID,
    publicKeyPem: keys.publicKey,
    balance: 1_000_000_000,
    markets: [
      {
        ticker: T,
        yesAsks: [
          [420_000, 10_000_000],
          [430_000, 10_000_000],
        ],
        yesBids: [[400_000, 15_000_000]],
      },
    ],
  });
  const caps = new NotionalCaps({
    maxOrder: o.maxOrder ?? 100_000_000,
    maxDaily: o.maxDaily ?? 500_000_000,
    now: Date.now,
  });
  const client = createKalshiOrderClient({
    restUrl: fake.restUrl,
    keyId: KEY_ID,
    privateKeyPem: o.privateKeyPem ?? keys.privateKey,
    now: Date.now,
    caps,
    timeoutMs: o.timeoutMs ?? 2_000,
    submitPolicy: { lookupDelaysMs: [0, 100, 300] },
  });
  cleanups.push(async () => {
    await client.close();
    await fake.close();
  });
  return { fake, client, caps };
}

let seq = 0;
function spec(over: Partial<LiveOrderSpec> = {}): LiveOrderSpec {
  const requestId = `kreq-${++seq}`;
  return {
    clientOrderId: clientOrderId(requestId, 1),
    requestId,
    legIndex: 1,
    venue: 'kalshi',
    marketId: T,
    tokenId: `${T}:yes`,
    side: 'buy',
    limitPrice: 430_000,
    shares: 5_000_000,
    type: 'FOK',
    createdAt: Date.now(),
    tickSize: 10_000,
    ...over,
  };
}

describe('Kalshi order client against the fake exchange', () => {
  it('maps our tokens to the YES book: buy NO at q is an ask at 1 − q', () => {
    expect(toBook('yes', 'buy', 420_000)).toEqual({ side: 'bid', price: 420_000 });
    expect(toBook('yes', 'sell', 420_000)).toEqual({ side: 'ask', price: 420_000 });
    expect(toBook('no', 'buy', 600_000)).toEqual({ side: 'ask', price: 400_000 });
    expect(toBook('no', 'sell', 600_000)).toEqual({ side: 'bid', price: 400_000 });
    expect([600_000, 450_000, 452_500, 1_200, 990_000].map(kalshiPrice)).toEqual([
      '0.60',
      '0.45',
      '0.4525',
      '0.0012',
      '0.99',
    ]);
  });

  it('fills a FOK buy signed with RSA-PSS; the venue sees a UUID client id derived from ours', async () => {
    const { fake, client } = await setup();
    const s = spec();
    const r = await client.submit(s);
    expect(r).toMatchObject({
      kind: 'accepted',
      resolvedBy: 'response',
      order: { status: 'filled', filledShares: 5_000_000 },
    });
    expect(r.kind === 'accepted' && r.order.clientOrderId).toBe(s.clientOrderId);
    expect([...fake.orders.values()][0]!.clientOrderId).toBe(kalshiClientOrderId(s.clientOrderId));
    expect(kalshiClientOrderId(s.clientOrderId)).toMatch(/^[0-9a-f-]{36}$/);
    expect(fake.position(T)).toBe(5_000_000);
    const fills = await client.fills(Date.now() - 60_000);
    // 5 × 0.42: taker fee ceil(0.07 × 5 × 0.42 × 0.58) = $0.09
    expect(fills).toMatchObject([
      {
        price: 420_000,
        shares: 5_000_000,
        fee: 90_000,
        side: 'buy',
        tokenId: `${T}:yes`,
        clientOrderId: s.clientOrderId,
      },
    ]);
    expect(fake.balance()).toBe(1_000_000_000 - 2_100_000 - 90_000);
    expect(await client.balance()).toEqual({ venue: 'kalshi', available: fake.balance() });
    expect(await client.positions()).toEqual([
      { venue: 'kalshi', marketId: T, tokenId: `${T}:yes`, shares: 5_000_000 },
    ]);
  });

  it('buys NO as an ask on the YES book and reads the NO position back', async () => {
    const { fake, client } = await setup();
    const r = await client.submit(spec({ tokenId: `${T}:no`, limitPrice: 600_000, shares: 3_000_000 }));
    expect(r).toMatchObject({
      kind: 'accepted',
      order: { status: 'filled', tokenId: `${T}:no`, side: 'buy' },
    });
    expect(fake.position(T)).toBe(-3_000_000);
    expect(await client.positions()).toEqual([
      { venue: 'kalshi', marketId: T, tokenId: `${T}:no`, shares: 3_000_000 },
    ]);
    const [f] = await client.fills(Date.now() - 60_000);
    expect(f).toMatchObject({ tokenId: `${T}:no`, side: 'buy', price: 600_000 });
  });

  it('a FOK that cannot fill comes back cancelled with nothing filled; IOC keeps the part it got', async () => {
    const { client } = await setup();
    expect(await client.submit(spec({ shares: 50_000_000 }))).toMatchObject({
      kind: 'accepted',
      order: { status: 'cancelled', filledShares: 0 },
    });
    expect(await client.submit(spec({ type: 'FAK', shares: 50_000_000 }))).toMatchObject({
      kind: 'accepted',
      order: { status: 'cancelled', filledShares: 20_000_000 },
    });
  });

  it('rests a GTC order, amends it, cancels it; cancel-all; batch create and cancel', async () => {
    const { fake, client } = await setup();
    const r = await client.submit(spec({ type: 'GTC', limitPrice: 300_000 }));
    expect(r).toMatchObject({ kind: 'accepted', order: { status: 'open' } });
    if (r.kind !== 'accepted') return;
    const a = await client.amend(r.order, { limitPrice: 310_000, shares: 8_000_000 });
    expect(a).toMatchObject({
      kind: 'amended',
      order: { limitPrice: 310_000, shares: 8_000_000, status: 'open' },
    });
    const resting = fake.orders.get(r.order.venueOrderId)!;
    expect([resting.price, resting.initial]).toEqual([310_000, 8_000_000]);
    expect(await client.cancel(r.order)).toEqual({ kind: 'cancelled', venueOrderId: r.order.venueOrderId });
    expect(await client.cancel(r.order)).toMatchObject({
      kind: 'rejected',
      reason: 'not_found',
      status: 404,
    });

    const batch = await client.submitBatch([
      spec({ type: 'GTC', limitPrice: 300_000 }),
      spec({ type: 'GTC', limitPrice: 310_000 }),
      spec({ type: 'GTC', limitPrice: 305_000 }), // off the 0.01 tick: refused before sending
    ]);
    expect(
      batch.map((b) => (b.kind === 'accepted' ? b.order.status : b.kind === 'rejected' ? b.reason : b.kind)),
    ).toEqual(['open', 'open', 'invalid_price']);
    const open = await client.openOrders();
    expect(open).toHaveLength(2);
    const cancelled = await client.cancelBatch(open.slice(0, 1));
    expect(cancelled).toEqual([{ kind: 'cancelled', venueOrderId: open[0]!.venueOrderId }]);
    await client.submit(spec({ type: 'GTC', limitPrice: 200_000 }));
    const all = await client.cancelAll();
    expect(all.cancelled).toHaveLength(2);
    expect(all.failed).toEqual([]);
    expect(await client.openOrders()).toEqual([]);
  });

  it('HTTP 500 after the order was placed: resolved by lookup, never a second order', async () => {
    const { fake, client } = await setup();
    fake.faults.push({ kind: 'error_but_placed', status: 500 });
    const r = await client.submit(spec());
    expect(r).toMatchObject({ kind: 'accepted', resolvedBy: 'lookup', order: { status: 'filled' } });
    // the FOK is executed, so Kalshi would take the same client_order_id again: only the lookup prevents it
    expect(fake.orders.size).toBe(1);
    expect(fake.http.count('POST', '/trade-api/v2/portfolio/events/orders')).toBe(1);
    expect(fake.position(T)).toBe(5_000_000);
  });

  it('dropped connections and a slow venue end with exactly one order per client id', async () => {
    const { fake, client } = await setup({ timeoutMs: 150 });
    fake.faults.push({ kind: 'drop_after_place' });
    expect(await client.submit(spec({ type: 'GTC', limitPrice: 300_000 }))).toMatchObject({
      kind: 'accepted',
      resolvedBy: 'lookup',
    });
    fake.faults.push({ kind: 'drop' });
    expect(await client.submit(spec({ type: 'GTC', limitPrice: 300_000 }))).toMatchObject({
      kind: 'accepted',
      resolvedBy: 'response',
    });
    fake.faults.push({ kind: 'delay', ms: 250 });
    expect((await client.submit(spec({ type: 'GTC', limitPrice: 300_000 }))).kind).toBe('accepted');
    await new Promise((r) => setTimeout(r, 400));
    const byClientId = new Map<string, number>();
    for (const o of fake.orders.values())
      byClientId.set(o.clientOrderId, (byClientId.get(o.clientOrderId) ?? 0) + 1);
    expect([...byClientId.values()]).toEqual([1, 1, 1]);
  });

  it('429 and the venue error bodies are typed rejections; nothing placed', async () => {
    const { fake, client, caps } = await setup();
    fake.faults.push({ kind: 'rate_limit' });
    expect(await client.submit(spec())).toMatchObject({
      kind: 'rejected',
      reason: 'rate_limited',
      status: 429,
    });
    expect(
      await client.submit(spec({ shares: 5_000_000_000, limitPrice: 400_000, type: 'GTC' })),
    ).toMatchObject({
      kind: 'rejected',
      reason: 'cap_exceeded',
    });
    const poor = await setup({ maxOrder: 5_000_000_000, maxDaily: 5_000_000_000 });
    expect(
      await poor.client.submit(spec({ shares: 4_000_000_000, limitPrice: 300_000, type: 'GTC' })),
    ).toMatchObject({
      kind: 'rejected',
      reason: 'insufficient_funds',
      status: 400,
    });
    expect(await client.submit(spec({ type: 'GTC', postOnly: true, limitPrice: 450_000 }))).toMatchObject({
      kind: 'rejected',
      reason: 'invalid_order',
    });
    expect(fake.orders.size).toBe(0);
    expect(caps.spentToday()).toBe(0);
    expect(
      classifyKalshiError(400, '{"code":"bad_request","message":"bad request","details":"x"}'),
    ).toMatchObject({
      kind: 'rejected',
      reason: 'invalid_order',
    });
    expect(classifyKalshiError(503, '')).toMatchObject({ kind: 'ambiguous' });
  });

  it('a wrong key is refused (401) and reported as unauthorized', async () => {
    const { fake, client } = await setup({ privateKeyPem: other.privateKey });
    expect(await client.submit(spec())).toMatchObject({
      kind: 'rejected',
      reason: 'unauthorized',
      status: 401,
    });
    expect(fake.authFailures.rest).toBeGreaterThan(0);
  });

  it('caps: per order and per day, before anything is sent', async () => {
    const { fake, client } = await setup({ maxOrder: 3_000_000, maxDaily: 4_000_000 });
    expect(await client.submit(spec({ shares: 10_000_000 }))).toMatchObject({
      kind: 'rejected',
      reason: 'cap_exceeded',
    });
    expect((await client.submit(spec({ shares: 5_000_000 }))).kind).toBe('accepted'); // $2.15
    expect(await client.submit(spec({ shares: 5_000_000 }))).toMatchObject({
      kind: 'rejected',
      reason: 'cap_exceeded',
    });
    expect(fake.http.count('POST', '/trade-api/v2/portfolio/events/orders')).toBe(1);
  });
});

/** The user channel and the report stream of a client, collecting every report. */
const follow = (
  fake: KalshiTradingFake,
  client: KalshiOrderClient,
  o: { pollMs?: number; pollConnectedMs?: number; onError?: (e: Error) => void },
) =>
  collectReports(
    client,
    createKalshiUserChannel({
      url: fake.wsUrl,
      keyId: KEY_ID,
      privateKeyPem: keys.privateKey,
      now: Date.now,
      known: client.known,
    }),
    cleanups,
    o,
  );

describe('Kalshi execution reports', () => {
  it('private channels: fill and user_order reports with our client id; a maker fill later', async () => {
    const { fake, client } = await setup();
    const { socket, stream, got } = follow(fake, client, { pollConnectedMs: 0 });
    await waitFor(() => socket.connected(), 5_000, 'private channel');
    await waitFor(() => fake.ws.connections[0]?.received.length, 5_000, 'subscribe');
    await new Promise((r) => setTimeout(r, 50));
    const s = spec({ type: 'GTC', limitPrice: 420_000, shares: 15_000_000 });
    const r = await client.submit(s);
    expect(r).toMatchObject({
      kind: 'accepted',
      order: { status: 'partially_filled', filledShares: 10_000_000 },
    });
    if (r.kind !== 'accepted') return;
    stream.track(s, r.order.venueOrderId);
    fake.fillResting(r.order.venueOrderId, 5_000_000);
    await waitFor(() => got.filter((x) => x.kind === 'fill').length === 2, 5_000, 'two fills');
    await waitFor(() => got.some((x) => x.kind === 'order' && x.order.status === 'filled'), 5_000, 'filled');
    const fills = got.flatMap((x) => (x.kind === 'fill' ? [x.fill] : []));
    expect(fills.map((f) => [f.liquidity, f.shares, f.clientOrderId, f.settlement])).toEqual([
      ['taker', 10_000_000, s.clientOrderId, 'confirmed'],
      ['maker', 5_000_000, s.clientOrderId, 'confirmed'],
    ]);
    expect(fills[1]!.fee).toBe(0);
    expect(
      got
        .filter((x) => x.kind === 'order')
        .every((x) => x.kind === 'order' && x.order.clientOrderId === s.clientOrderId),
    ).toBe(true);
  });

  it('socket dropped and refused: polling carries on, each report once', async () => {
    const { fake, client } = await setup();
    const errors: Error[] = [];
    const { socket, stream, got } = follow(fake, client, {
      pollMs: 50,
      pollConnectedMs: 0,
      onError: (e) => errors.push(e),
    });
    await waitFor(() => socket.connected(), 5_000, 'private channel');
    fake.ws.setRefusing(true);
    fake.ws.dropAll();
    await waitFor(() => !socket.connected(), 5_000, 'socket down');
    const s = spec();
    stream.track(s);
    await client.submit(s);
    await waitFor(() => got.some((x) => x.kind === 'fill'), 5_000, 'polled fill');
    await waitFor(
      () => got.some((x) => x.kind === 'order' && x.order.status === 'filled'),
      5_000,
      'polled order',
    );
    await stream.pollNow();
    expect(got.every((x) => x.source === 'poll')).toBe(true);
    const keys2 = got.map((x) => (x.kind === 'fill' ? x.fill.fillId : `${x.order.status}`));
    expect(new Set(keys2).size).toBe(keys2.length);
    expect(stream.trackedCount()).toBe(0);
    expect(errors).toEqual([]);
  });
});
