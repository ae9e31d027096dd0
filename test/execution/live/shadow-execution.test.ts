/**
 * Shadow execution (`run --feeds live --shadow`) around the paper clients: each order is built and signed by the
 * live Polymarket client as it would go out, recorded in the JSON-lines file, and filled on paper; nothing reaches
 * the venue (the fake CLOB sees no order request). An order live trading would refuse (the caps) is refused here
 * too; a venue without credentials still trades on paper, recorded with the reason.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyTypedData } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterEach, describe, expect, it } from 'vitest';
import { SimClock } from '../../../src/core/clock.ts';
import { loadConfig } from '../../../src/core/config.ts';
import { clientOrderId } from '../../../src/execution/ids.ts';
import { constantLatency } from '../../../src/execution/latency.ts';
import { createShadowExecution } from '../../../src/execution/live/shadow-execution.ts';
import { createPaperClients } from '../../../src/execution/paper-client.ts';
import type { OrderReport, OrderRequest } from '../../../src/execution/types.ts';
import type { ShadowRecord } from '../../../src/venues/live/shadow.ts';
import { exchangeDomain, fromWire, ORDER_TYPES } from '../../../src/venues/polymarket/execution/orders.ts';
import type { WirePostOrderBody } from '../../../src/venues/polymarket/execution/wire.ts';
import { startPolymarketClobFake } from '../../fakes/polymarket-clob-fake.ts';
import { book, market } from '../../risk/fixtures.ts';

const COND = '0x00000000000000000000000000000000000000000000000000000000000000d1';
const YES = '555000111';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function req(n: number, over: Partial<OrderRequest> = {}): OrderRequest {
  return {
    clientOrderId: clientOrderId(`shadow-${n}`, 0),
    requestId: `shadow-${n}`,
    legIndex: 0,
    strategy: 's',
    purpose: 'trade',
    venue: 'polymarket',
    marketId: COND,
    tokenId: YES,
    side: 'buy',
    limitPrice: 450_000,
    shares: 5_000_000,
    type: 'FAK',
    decidedAt: 1_700_000_000_000,
    ...over,
  };
}

describe('shadow execution', () => {
  it('signs and records each order, sends none, fills it on paper; a capped order is refused as live would', async () => {
    const key = generatePrivateKey();
    const address = privateKeyToAccount(key).address;
    const pm = await startPolymarketClobFake({
      chainId: 137,
      signer: address,
      maker: address,
      collateral: 1_000_000_000,
      markets: [
        { conditionId: COND, tokenId: YES, protocol: 'v1', tickSize: 10_000, minSize: 1_000_000, asks: [] },
      ],
    });
    cleanups.push(() => pm.close());
    const dir = mkdtempSync(join(tmpdir(), 'pmarb-shadow-'));
    const path = join(dir, 'shadow-orders.jsonl');
    const config = loadConfig({
      POLYMARKET_CLOB_URL: pm.url,
      POLYMARKET_PRIVATE_KEY: key,
      POLYMARKET_API_KEY: pm.credentials.key,
      POLYMARKET_API_SECRET: pm.credentials.secret,
      POLYMARKET_API_PASSPHRASE: pm.credentials.passphrase,
      LIVE_MAX_ORDER_USD: '3',
    });
    const logged: ShadowRecord[] = [];
    const shadow = createShadowExecution(config, { now: () => 5_000, path, onRecord: (r) => logged.push(r) });
    cleanups.push(() => shadow.close());
    expect(shadow.venues).toEqual(['polymarket']);
    expect(shadow.problems.join('\n')).toContain('kalshi: set KALSHI_API_KEY_ID');

    const clock = new SimClock(1_000);
    const clients = shadow.wrap(createPaperClients({ clock, latency: () => constantLatency(0) }));
    const pmc = clients.get('polymarket')!;
    expect(pmc.mode).toBe('shadow');
    const reports: OrderReport[] = [];
    pmc.onReport((r) => reports.push(r));
    const yesNo = [
      { tokenId: YES, label: 'Yes', side: 'yes' as const },
      { tokenId: `${YES}9`, label: 'No', side: 'no' as const },
    ];
    pmc.onMarketData!(market('polymarket', COND, { outcomes: yesNo, minSize: 1_000_000 }));
    pmc.onMarketData!(book('polymarket', COND, YES, [[0.42, 50]], [[0.44, 50]], 1_000));

    // a marketable buy of 5 at ≤ 0.45: signed and recorded, then filled on paper at 0.44
    const a = req(1);
    await pmc.submit(a);
    clock.advanceTo(2_000);
    const mine = reports.filter((r) => r.clientOrderId === a.clientOrderId);
    expect(mine.at(-1)).toMatchObject({ status: 'filled' });
    expect(mine.find((r) => r.fill)?.fill).toMatchObject({ price: 440_000, shares: 5_000_000 });

    // a buy of 10 at 0.45 is $4.50, above LIVE_MAX_ORDER_USD=3: live would not send it, shadow refuses it too
    const b = req(2, { shares: 10_000_000 });
    await pmc.submit(b);
    clock.advanceTo(3_000);
    const refused = reports.filter((r) => r.clientOrderId === b.clientOrderId);
    expect(refused).toMatchObject([{ status: 'rejected', reason: 'venue_rejected' }]);
    expect(refused[0]!.detail).toMatch(/shadow: live would refuse \(cap_exceeded\).*LIVE_MAX_ORDER_USD/);

    // a Kalshi order (no credentials): filled on paper, recorded as unsigned with the reason
    const kc = clients.get('kalshi')!;
    const kReports: OrderReport[] = [];
    kc.onReport((r) => kReports.push(r));
    kc.onMarketData!(market('kalshi', 'KXSH-1'));
    kc.onMarketData!(book('kalshi', 'KXSH-1', 'KXSH-1-yes', [[0.4, 50]], [[0.41, 50]], 1_000));
    const k = req(3, { venue: 'kalshi', marketId: 'KXSH-1', tokenId: 'KXSH-1-yes', limitPrice: 420_000 });
    await kc.submit(k);
    clock.advanceTo(4_000);
    expect(kReports.at(-1)).toMatchObject({ clientOrderId: k.clientOrderId, status: 'filled' });

    // nothing reached the venue
    expect(pm.orders.size).toBe(0);
    expect(pm.http.requests.filter((r) => r.method === 'POST')).toEqual([]);

    // the records: logged and stored, one JSON line each, in order
    const stored = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ShadowRecord);
    expect(stored).toEqual(JSON.parse(JSON.stringify(logged)));
    expect(stored.map((r) => [r.clientOrderId, r.refused?.reason])).toEqual([
      [a.clientOrderId, undefined],
      [b.clientOrderId, 'cap_exceeded'],
      [k.clientOrderId, 'unsupported'],
    ]);
    // the stored body is the signed order as it would have been posted: the wallet's EIP-712 signature verifies
    const body = stored[0]!.prepared!.body as WirePostOrderBody;
    expect(stored[0]!.prepared).toMatchObject({ venue: 'polymarket', path: '/order', notional: 2_250_000 });
    const { order, signature } = fromWire(body.order);
    expect(
      await verifyTypedData({
        address,
        domain: exchangeDomain(137, { protocol: 'v1', negRisk: false }),
        types: ORDER_TYPES,
        primaryType: 'Order',
        message: {
          ...order,
          salt: BigInt(order.salt),
          tokenId: BigInt(order.tokenId),
          makerAmount: BigInt(order.makerAmount),
          takerAmount: BigInt(order.takerAmount),
          timestamp: BigInt(order.timestamp),
          side: 0,
        },
        signature,
      }),
    ).toBe(true);
    expect(order.timestamp).toBe('1700000000000');
  });
});
