import { type Hex, hashTypedData } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterEach, describe, expect, it } from 'vitest';
import { clientOrderId } from '../../../src/execution/ids.ts';
import { NotionalCaps } from '../../../src/venues/live/caps.ts';
import type { LiveOrderSpec } from '../../../src/venues/live/types.ts';
import {
  createOrDeriveApiCredentials,
  createPolymarketOrderClient,
  type PolymarketOrderClient,
} from '../../../src/venues/polymarket/execution/client.ts';
import { exchangeDomain, ORDER_TYPES } from '../../../src/venues/polymarket/execution/orders.ts';
import { createPolymarketUserChannel } from '../../../src/venues/polymarket/execution/user-channel.ts';
import { type PolymarketClobFake, startPolymarketClobFake } from '../../fakes/polymarket-clob-fake.ts';
import { waitFor } from '../../fakes/ws-fake.ts';
import { collectReports } from '../../helpers/reports.ts';

const CHAIN = 137;
const V1_TOKEN = '71321045679252212594626385532706912750332728571942532289631379312455583992563';
const V2_TOKEN = '52114319501245915516055106046884209969926127482827954674443846427813813222426';
const NEG_TOKEN = '1000000000000000000000000000000000000000000000000000000000000000000000000001';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Setup {
  fake: PolymarketClobFake;
  client: PolymarketOrderClient;
  caps: NotionalCaps;
  key: Hex;
}

async function setup(
  o: {
    maxOrder?: number;
    maxDaily?: number;
    settle?: 'confirm' | 'fail' | 'hold';
    timeoutMs?: number;
    wrongSecret?: boolean;
  } = {},
): Promise<Setup> {
  const key = generatePrivateKey();
  const address = privateKeyToAccount(key).address;
  const fake = await startPolymarketClobFake({
    chainId: CHAIN,
    signer: address,
    maker: address,
    collateral: 1_000_000_000,
    tokens: { [V1_TOKEN]: 50_000_000 },
    settle: o.settle,
    markets: [
      {
        conditionId: '0xc1',
        tokenId: V1_TOKEN,
        protocol: 'v1',
        tickSize: 10_000,
        minSize: 5_000_000,
        asks: [
          [500_000, 20_000_000],
          [520_000, 20_000_000],
        ],
        bids: [[480_000, 30_000_000]],
        feeRateBps: 100,
      },
      {
        conditionId: '0xc2',
        tokenId: V2_TOKEN,
        protocol: 'v2',
        tickSize: 5_000,
        minSize: 1_000_000,
        asks: [[455_000, 100_000_000]],
      },
      {
        conditionId: '0xc3',
        tokenId: NEG_TOKEN,
        protocol: 'v1',
        negRisk: true,
        tickSize: 10_000,
        minSize: 1_000_000,
      },
    ],
  });
  const caps = new NotionalCaps({
    maxOrder: o.maxOrder ?? 100_000_000,
    maxDaily: o.maxDaily ?? 500_000_000,
    now: Date.now,
  });
  const creds = o.wrongSecret
    ? { ...fake.credentials, secret: Buffer.alloc(32, 7).toString('base64url') }
    : fake.credentials;
  const client = createPolymarketOrderClient({
    clobUrl: fake.url,
    chainId: CHAIN,
    privateKey: key,
    signatureType: 'eoa',
    credentials: creds,
    now: Date.now,
    caps,
    timeoutMs: o.timeoutMs ?? 2_000,
    submitPolicy: { lookupDelaysMs: [0, 100, 300] },
  });
  cleanups.push(async () => {
    await client.close();
    await fake.close();
  });
  return { fake, client, caps, key };
}

let seq = 0;
function spec(over: Partial<LiveOrderSpec> = {}): LiveOrderSpec {
  const requestId = `req-${++seq}`;
  return {
    clientOrderId: clientOrderId(requestId, 0),
    requestId,
    legIndex: 0,
    venue: 'polymarket',
    marketId: '0xc1',
    tokenId: V1_TOKEN,
    side: 'buy',
    limitPrice: 510_000,
    shares: 10_000_000,
    type: 'FOK',
    createdAt: Date.now(),
    tickSize: 10_000,
    polymarket: { protocol: 'v1', negRisk: false },
    ...over,
  };
}

describe('Polymarket CLOB V2 order client against the fake CLOB', () => {
  it('fills a FOK buy: one signed order at the venue, filled, fills reported', async () => {
    const { fake, client } = await setup();
    const s = spec();
    const r = await client.submit(s);
    expect(r.kind).toBe('accepted');
    if (r.kind !== 'accepted') return;
    expect(r.resolvedBy).toBe('response');
    expect(r.order.status).toBe('filled');
    expect(r.order.filledShares).toBe(10_000_000);
    expect(fake.orders.size).toBe(1);
    expect(fake.rejections).toEqual({ signature: 0, auth: 0 });
    // the order id is the EIP-712 hash we computed before sending
    const prepared = await client.prepare(s);
    expect(r.order.venueOrderId).toBe(prepared.venueOrderId);
    const fills = await client.fills(Date.now() - 60_000);
    expect(fills).toHaveLength(1);
    expect(fills[0]).toMatchObject({ price: 500_000, shares: 10_000_000, liquidity: 'taker', side: 'buy' });
    // taker fee at 100 bps: 10 × 0.01 × 0.5 × 0.5 = $0.025
    expect(fills[0]!.fee).toBe(25_000);
    expect(fake.collateral()).toBe(1_000_000_000 - 5_000_000);
  });

  it('rests a GTC order, lists it, cancels it; cancel-all clears the rest', async () => {
    const { fake, client } = await setup();
    const a = await client.submit(spec({ type: 'GTC', limitPrice: 400_000 }));
    const b = await client.submit(spec({ type: 'GTC', limitPrice: 410_000 }));
    expect(a.kind === 'accepted' && a.order.status).toBe('open');
    expect(b.kind === 'accepted' && b.order.status).toBe('open');
    expect((await client.openOrders()).map((o) => o.venueOrderId).sort()).toEqual(
      [...fake.orders.keys()].sort(),
    );
    if (a.kind !== 'accepted') return;
    expect(await client.cancel(a.order)).toEqual({ kind: 'cancelled', venueOrderId: a.order.venueOrderId });
    const again = await client.cancel(a.order);
    expect(again.kind).toBe('rejected');
    const all = await client.cancelAll();
    expect(all.cancelled).toHaveLength(1);
    expect(await client.openOrders()).toEqual([]);
  });

  it('a FOK that cannot fill is rejected with a typed reason and frees its cap reservation', async () => {
    const { fake, client, caps } = await setup();
    const r = await client.submit(spec({ shares: 90_000_000, limitPrice: 500_000 }));
    expect(r).toMatchObject({ kind: 'rejected', reason: 'fok_not_filled', status: 400 });
    expect(fake.orders.size).toBe(0);
    expect(caps.spentToday()).toBe(0);
  });

  it('a FAK fills what is there and the rest is killed', async () => {
    const { client } = await setup();
    const r = await client.submit(spec({ type: 'FAK', shares: 30_000_000, limitPrice: 500_000 }));
    expect(r.kind === 'accepted' && r.order).toMatchObject({ status: 'cancelled', filledShares: 20_000_000 });
  });

  it('refuses on the venue rules: tick, minimum size, balance', async () => {
    const { client } = await setup();
    expect(await client.submit(spec({ limitPrice: 505_000 }))).toMatchObject({
      kind: 'rejected',
      reason: 'invalid_price',
    });
    expect(await client.submit(spec({ type: 'GTC', shares: 1_000_000, limitPrice: 300_000 }))).toMatchObject({
      kind: 'rejected',
      reason: 'invalid_size',
    });
    expect(
      await client.submit(
        spec({ side: 'sell', type: 'GTC', tokenId: V1_TOKEN, shares: 60_000_000, limitPrice: 900_000 }),
      ),
    ).toMatchObject({ kind: 'rejected', reason: 'insufficient_funds', status: 400 });
  });

  it('HTTP error but the order was placed: resolved by lookup, exactly one order', async () => {
    const { fake, client } = await setup();
    fake.faults.push({ kind: 'error_but_placed', status: 500 });
    const r = await client.submit(spec());
    expect(r).toMatchObject({ kind: 'accepted', resolvedBy: 'lookup', order: { status: 'filled' } });
    expect(fake.orders.size).toBe(1);
    expect(fake.http.count('POST', '/order')).toBe(1);
  });

  it('connection dropped after placing: exactly one order; dropped before placing: sent again, one order', async () => {
    const { fake, client } = await setup();
    fake.faults.push({ kind: 'drop_after_place' });
    expect(await client.submit(spec())).toMatchObject({ kind: 'accepted', resolvedBy: 'lookup' });
    expect(fake.orders.size).toBe(1);
    fake.faults.push({ kind: 'drop' });
    expect(await client.submit(spec())).toMatchObject({ kind: 'accepted', resolvedBy: 'response' });
    expect(fake.orders.size).toBe(2);
    expect(fake.http.count('POST', '/order')).toBe(3);
  });

  it('a venue slower than our timeout: the resend is the same order, so the venue holds one', async () => {
    const { fake, client } = await setup({ timeoutMs: 150 });
    fake.faults.push({ kind: 'delay', ms: 700 });
    const s = spec();
    const r = await client.submit(s);
    expect(r.kind).toBe('accepted');
    await waitFor(() => fake.http.count('POST', '/order') >= 2, 5_000, 'the resend');
    // the first request lands after the resend placed the order: it is a duplicate
    await new Promise((res) => setTimeout(res, 800));
    expect(fake.orders.size).toBe(1);
  });

  it('429 and a refusal with the venue error body are rejections; nothing placed', async () => {
    const { fake, client } = await setup();
    fake.faults.push({ kind: 'rate_limit' });
    expect(await client.submit(spec())).toMatchObject({
      kind: 'rejected',
      reason: 'rate_limited',
      status: 429,
    });
    fake.faults.push({
      kind: 'reject',
      status: 400,
      body: { error: 'the market is not yet ready to process new orders' },
    });
    expect(await client.submit(spec())).toMatchObject({ kind: 'rejected', reason: 'market_closed' });
    fake.faults.push({
      kind: 'reject',
      status: 503,
      body: {
        error: 'Trading is currently cancel-only. New orders are not accepted, but cancels are allowed.',
      },
    });
    expect(await client.submit(spec())).toMatchObject({ kind: 'rejected', reason: 'trading_paused' });
    expect(fake.orders.size).toBe(0);
  });

  it('signs Protocol V2 markets for ExchangeV3 (domain "3"); the wrong domain/version is refused like production', async () => {
    const { fake, client } = await setup();
    const v2 = spec({
      marketId: '0xc2',
      tokenId: V2_TOKEN,
      tickSize: 5_000,
      limitPrice: 455_000,
      polymarket: { protocol: 'v2', negRisk: false },
    });
    expect(await client.submit(v2)).toMatchObject({ kind: 'accepted', order: { status: 'filled' } });
    // the same market signed as if it were a CTF (v1) market: domain version "2", exchange V2
    const wrong = spec({
      ...v2,
      clientOrderId: clientOrderId('wrong', 0),
      polymarket: { protocol: 'v1', negRisk: false },
    });
    expect(await client.submit(wrong)).toMatchObject({
      kind: 'rejected',
      reason: 'bad_signature',
      status: 400,
    });
    // a neg-risk CTF market must be signed for the neg-risk exchange, not the plain one
    const neg = spec({
      marketId: '0xc3',
      tokenId: NEG_TOKEN,
      type: 'GTC',
      limitPrice: 300_000,
      polymarket: { protocol: 'v1', negRisk: false },
    });
    expect(await client.submit(neg)).toMatchObject({ kind: 'rejected', reason: 'bad_signature' });
    expect(await client.submit({ ...neg, polymarket: { protocol: 'v1', negRisk: true } })).toMatchObject({
      kind: 'accepted',
      order: { status: 'open' },
    });
    expect(fake.rejections.signature).toBe(2);
  });

  it('the domains differ: "2" and "3" sign different hashes for the same order', () => {
    const message = {
      salt: 1n,
      maker: '0x0000000000000000000000000000000000000001',
      signer: '0x0000000000000000000000000000000000000001',
      tokenId: 1n,
      makerAmount: 1n,
      takerAmount: 1n,
      side: 0,
      signatureType: 0,
      timestamp: 1n,
      metadata: `0x${'0'.repeat(64)}`,
      builder: `0x${'0'.repeat(64)}`,
    } as const;
    const h = (protocol: 'v1' | 'v2') =>
      hashTypedData({
        domain: exchangeDomain(CHAIN, { protocol, negRisk: false }),
        types: ORDER_TYPES,
        primaryType: 'Order',
        message,
      });
    expect(exchangeDomain(CHAIN, { protocol: 'v2', negRisk: false }).version).toBe('3');
    expect(exchangeDomain(CHAIN, { protocol: 'v1', negRisk: true }).version).toBe('2');
    expect(h('v1')).not.toBe(h('v2'));
  });

  it('wrong L2 credentials are refused (401) and reported as unauthorized', async () => {
    const { fake, client } = await setup({ wrongSecret: true });
    expect(await client.submit(spec())).toMatchObject({
      kind: 'rejected',
      reason: 'unauthorized',
      status: 401,
    });
    expect(fake.orders.size).toBe(0);
    expect(fake.rejections.auth).toBeGreaterThan(0);
  });

  it('caps: an order above LIVE_MAX_ORDER_USD and the order that would pass LIVE_MAX_DAILY_USD never leave', async () => {
    const { fake, client, caps } = await setup({ maxOrder: 6_000_000, maxDaily: 8_000_000 });
    const big = await client.submit(spec({ shares: 20_000_000 }));
    expect(big).toMatchObject({ kind: 'rejected', reason: 'cap_exceeded', status: 0 });
    expect(big.kind === 'rejected' && big.message).toContain('LIVE_MAX_ORDER_USD $6');
    const first = await client.submit(spec({ shares: 10_000_000 }));
    expect(first.kind).toBe('accepted');
    const second = await client.submit(spec({ shares: 10_000_000 }));
    expect(second).toMatchObject({ kind: 'rejected', reason: 'cap_exceeded' });
    expect(second.kind === 'rejected' && second.message).toContain('LIVE_MAX_DAILY_USD $8');
    expect(fake.http.count('POST', '/order')).toBe(1);
    expect(caps.spentToday()).toBe(5_100_000);
  });

  it('reads balances and positions per ledger (CONDITIONAL for CTF tokens, CONDITIONAL-V2 for V2 positions)', async () => {
    const { client } = await setup();
    await client.submit(
      spec({
        marketId: '0xc2',
        tokenId: V2_TOKEN,
        tickSize: 5_000,
        limitPrice: 455_000,
        polymarket: { protocol: 'v2', negRisk: false },
      }),
    );
    expect(await client.balance()).toEqual({ venue: 'polymarket', available: 1_000_000_000 - 4_550_000 });
    const pos = await client.positions([
      { marketId: '0xc1', tokenId: V1_TOKEN, polymarket: { protocol: 'v1', negRisk: false } },
      { marketId: '0xc2', tokenId: V2_TOKEN, polymarket: { protocol: 'v2', negRisk: false } },
    ]);
    expect(pos.map((p) => p.shares)).toEqual([50_000_000, 10_000_000]);
    await client.refreshBalanceAllowance('COLLATERAL');
  });

  it('derives the L2 credentials with an L1 wallet signature', async () => {
    const { fake, key } = await setup();
    const creds = await createOrDeriveApiCredentials({
      clobUrl: fake.url,
      privateKey: key,
      chainId: CHAIN,
      now: Date.now,
    });
    expect(creds).toEqual(fake.credentials);
    await expect(
      createOrDeriveApiCredentials({
        clobUrl: fake.url,
        privateKey: generatePrivateKey(),
        chainId: CHAIN,
        now: Date.now,
      }),
    ).rejects.toThrow(/401/);
  });
});

/** The user channel and the report stream of a client, collecting every report. */
const follow = (
  fake: PolymarketClobFake,
  client: PolymarketOrderClient,
  o: { pollMs?: number; pollConnectedMs?: number; onError?: (e: Error) => void },
) =>
  collectReports(
    client,
    createPolymarketUserChannel({
      url: fake.wsUrl,
      credentials: fake.credentials,
      maker: client.addresses.maker,
      now: Date.now,
    }),
    cleanups,
    o,
  );

describe('Polymarket execution reports', () => {
  it('user channel: fills go MATCHED → MINED → CONFIRMED; orders reported with our client id', async () => {
    const { fake, client } = await setup();
    const { socket, stream, got } = follow(fake, client, { pollConnectedMs: 0 });
    await waitFor(() => socket.connected(), 5_000, 'user channel');
    await waitFor(() => fake.ws.openConnections().length === 1);
    await new Promise((r) => setTimeout(r, 50)); // the subscription is the first frame after open
    const s = spec({ shares: 25_000_000, limitPrice: 520_000 });
    const prepared = await client.prepare(s);
    stream.track(s, prepared.venueOrderId);
    await client.submit(s);
    await waitFor(
      () => got.filter((r) => r.kind === 'fill' && r.fill.settlement === 'confirmed').length === 2,
      5_000,
      'confirmed fills',
    );
    const fills = got.filter((r) => r.kind === 'fill').map((r) => (r.kind === 'fill' ? r.fill : undefined)!);
    const byTrade = new Map<string, string[]>();
    for (const f of fills) byTrade.set(f.fillId, [...(byTrade.get(f.fillId) ?? []), f.settlement]);
    for (const states of byTrade.values()) expect(states).toEqual(['provisional', 'confirmed']);
    expect(fills.every((f) => f.clientOrderId === s.clientOrderId)).toBe(true);
    const orders = got.flatMap((r) => (r.kind === 'order' ? [r.order] : []));
    expect(orders.at(-1)).toMatchObject({
      clientOrderId: s.clientOrderId,
      status: 'filled',
      filledShares: 25_000_000,
    });
  });

  it('a FAILED trade is reported as failed and the venue undoes it', async () => {
    const { fake, client } = await setup({ settle: 'fail' });
    const { socket, got } = follow(fake, client, { pollConnectedMs: 0 });
    await waitFor(() => socket.connected(), 5_000, 'user channel');
    await new Promise((r) => setTimeout(r, 50));
    await client.submit(spec());
    await waitFor(
      () => got.some((r) => r.kind === 'fill' && r.fill.settlement === 'failed'),
      5_000,
      'failed fill',
    );
    await waitFor(() => fake.collateral() === 1_000_000_000, 5_000, 'undone');
    expect(fake.tokenBalance(V1_TOKEN)).toBe(50_000_000);
  });

  it('socket down: REST polling reports the order and its fills; nothing twice when both see it', async () => {
    const { fake, client } = await setup({ settle: 'hold' });
    fake.ws.setRefusing(true);
    const { stream, got } = follow(fake, client, { pollMs: 50 });
    const s = spec();
    stream.track(s);
    const r = await client.submit(s);
    expect(r.kind).toBe('accepted');
    await waitFor(() => got.some((x) => x.kind === 'fill'), 5_000, 'polled fill');
    await waitFor(
      () => got.some((x) => x.kind === 'order' && x.order.status === 'filled'),
      5_000,
      'polled order',
    );
    const t = fake.trades[0]!;
    fake.advanceTrade(t.id, 'CONFIRMED');
    await waitFor(
      () => got.some((x) => x.kind === 'fill' && x.fill.settlement === 'confirmed'),
      5_000,
      'confirmed by poll',
    );
    await stream.pollNow();
    const keys = got.map((x) =>
      x.kind === 'fill'
        ? `${x.fill.fillId}/${x.fill.settlement}`
        : `${x.order.status}/${x.order.filledShares}`,
    );
    expect(new Set(keys).size).toBe(keys.length);
    expect(got.every((x) => x.source === 'poll')).toBe(true);
    expect(stream.trackedCount()).toBe(0);
  });
});
