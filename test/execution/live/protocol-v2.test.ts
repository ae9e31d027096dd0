/**
 * Protocol V2 Polymarket markets in `pm-arb run --live` (issue 16): the market record carries the Gamma protocol
 * version (`protocol: 'v2'`, ids from positionIds), the live execution's market facts read it, and the order is
 * signed under ExchangeV3 (EIP-712 domain version "3"); a record without the field is a v1 market (domain "2").
 * The fake CLOB verifies each order under its market's domain, so a wrong version is refused like production.
 */
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterEach, describe, expect, it } from 'vitest';
import type { Market } from '../../../src/core/messages.ts';
import { clientOrderId } from '../../../src/execution/ids.ts';
import { createLiveExecutionClient } from '../../../src/execution/live/client.ts';
import { marketFacts } from '../../../src/execution/live/live-execution.ts';
import type { OrderReport, OrderRequest } from '../../../src/execution/types.ts';
import { NotionalCaps } from '../../../src/venues/live/caps.ts';
import { ReportStream } from '../../../src/venues/live/reports.ts';
import { createPolymarketOrderClient } from '../../../src/venues/polymarket/execution/client.ts';
import { exchangeDomain } from '../../../src/venues/polymarket/execution/orders.ts';
import { parseGammaMarket } from '../../../src/venues/polymarket/parse.ts';
import type { GammaMarket } from '../../../src/venues/polymarket/wire.ts';
import { startPolymarketClobFake } from '../../fakes/polymarket-clob-fake.ts';
import { waitFor } from '../../fakes/ws-fake.ts';
import { owned } from '../../helpers/fixtures.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const V1_MARKET = '0x00000000000000000000000000000000000000000000000000000000000000b1';
const V1_TOKEN = '48151623420000000000000000000000000000000000000000000000000000000000000091';
const MISLABELLED = '0x00000000000000000000000000000000000000000000000000000000000000b2';
const MISLABELLED_TOKEN = '48151623420000000000000000000000000000000000000000000000000000000000000092';

function v1Record(marketId: string, tokenId: string): Market {
  return {
    type: 'market',
    venue: 'polymarket',
    marketId,
    question: 'Owned v1 market?',
    rules: 'Owned.',
    outcomes: [
      { tokenId, label: 'Yes', side: 'yes' },
      { tokenId: `${tokenId}1`, label: 'No', side: 'no' },
    ],
    tickSize: 10_000,
    minSize: 1_000_000,
    fees: { kind: 'none' },
    endTime: null,
    status: 'open',
    version: 'h1',
    receiveTime: 1,
  };
}

let seq = 0;
function buy(marketId: string, tokenId: string): OrderRequest {
  const requestId = `pv2-${++seq}`;
  return {
    clientOrderId: clientOrderId(requestId, 0),
    requestId,
    legIndex: 0,
    strategy: 's',
    purpose: 'trade',
    venue: 'polymarket',
    marketId,
    tokenId,
    side: 'buy',
    limitPrice: 450_000,
    shares: 5_000_000,
    type: 'FAK',
    decidedAt: 1_000,
  };
}

describe('protocol v2 Polymarket markets, live', () => {
  it('the Gamma parser puts protocol v2 on the record; v1 and unversioned markets have no field (= v1)', () => {
    const v2 = parseGammaMarket(
      owned.json<GammaMarket>('polymarket/gamma-market-updown-15m-twap-v2.json'),
      1,
    );
    expect(v2.protocol).toBe('v2');
    const raw = owned.json<GammaMarket>('polymarket/gamma-market-updown-15m-twap-v2.json');
    const { version: _v, positionIds: _p, ...unversioned } = raw as GammaMarket & { positionIds?: unknown };
    const v1 = parseGammaMarket({ ...unversioned, clobTokenIds: '["11","12"]' } as GammaMarket, 1);
    expect(v1.protocol).toBeUndefined();
    expect(
      parseGammaMarket({ ...raw, version: 'v1', clobTokenIds: '["11","12"]' }, 1).protocol,
    ).toBeUndefined();
  });

  it('signs a v2 market order under domain "3" and a v1 one under "2"; the fake accepts both, refuses a mismatch', async () => {
    const v2 = parseGammaMarket(
      owned.json<GammaMarket>('polymarket/gamma-market-updown-15m-twap-v2.json'),
      1,
    );
    const v2Token = v2.outcomes[0]!.tokenId;
    const key = generatePrivateKey();
    const address = privateKeyToAccount(key).address;
    const fake = await startPolymarketClobFake({
      chainId: 137,
      signer: address,
      maker: address,
      collateral: 1_000_000_000,
      markets: [
        {
          conditionId: v2.marketId,
          tokenId: v2Token,
          protocol: 'v2',
          tickSize: 10_000,
          minSize: 1_000_000,
          asks: [[440_000, 20_000_000]],
        },
        {
          conditionId: V1_MARKET,
          tokenId: V1_TOKEN,
          protocol: 'v1',
          tickSize: 10_000,
          minSize: 1_000_000,
          asks: [[440_000, 20_000_000]],
        },
        // the venue says v2, our record says nothing (v1): signed under "2", refused
        {
          conditionId: MISLABELLED,
          tokenId: MISLABELLED_TOKEN,
          protocol: 'v2',
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
    const facts = marketFacts(() => 1_000);
    for (const m of [v2, v1Record(V1_MARKET, V1_TOKEN), v1Record(MISLABELLED, MISLABELLED_TOKEN)])
      facts.onMarketData(m);
    const reports = new ReportStream({ client: venueClient, now: Date.now, pollMs: 50, pollConnectedMs: 50 });
    const client = createLiveExecutionClient({
      client: venueClient,
      reports,
      now: Date.now,
      facts: (q) => facts.facts(q),
    });
    cleanups.push(async () => {
      await client.stop?.();
      await venueClient.close();
      await fake.close();
    });
    const seen: OrderReport[] = [];
    client.onReport((r) => seen.push(r));
    await client.start?.();

    const a = buy(v2.marketId, v2Token);
    const b = buy(V1_MARKET, V1_TOKEN);
    const c = buy(MISLABELLED, MISLABELLED_TOKEN);
    // the spec the live client builds: the record's protocol, and the EIP-712 domain it selects
    expect(facts.facts(a)?.polymarket).toEqual({ protocol: 'v2', negRisk: false });
    expect(facts.facts(b)?.polymarket).toEqual({ protocol: 'v1', negRisk: false });
    expect(facts.polymarket(v2.marketId)).toEqual({
      protocol: 'v2',
      negRisk: false,
    });
    expect(exchangeDomain(137, facts.facts(a)!.polymarket!).version).toBe('3');
    expect(exchangeDomain(137, facts.facts(b)!.polymarket!).version).toBe('2');

    for (const q of [a, b, c]) await client.submit(q);
    await waitFor(
      () =>
        [a, b].every((q) => seen.some((r) => r.clientOrderId === q.clientOrderId && r.fill)) &&
        seen.some((r) => r.clientOrderId === c.clientOrderId && r.status === 'rejected'),
      10_000,
      'fills of the v1 and v2 orders and the refusal of the mislabelled one',
    );
    expect(await client.status(a.clientOrderId)).toMatchObject({ status: 'filled', filledShares: 5_000_000 });
    expect(await client.status(b.clientOrderId)).toMatchObject({ status: 'filled', filledShares: 5_000_000 });
    const refused = seen.find((r) => r.clientOrderId === c.clientOrderId && r.status === 'rejected')!;
    expect(refused.detail).toMatch(/invalid signature/);
    // the fake holds exactly the two accepted orders, on the right tokens
    expect([...fake.orders.values()].map((o) => o.tokenId).sort()).toEqual([V1_TOKEN, v2Token].sort());
  });
});
