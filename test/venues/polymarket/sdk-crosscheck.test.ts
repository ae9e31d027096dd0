/**
 * Our Polymarket order building against the official SDK (@polymarket/clob-client-v2): for a grid of ticks
 * (including the finer 0.005 / 0.0025), prices, sizes, sides, limit and market orders, V2 (domain "2", plain and
 * neg-risk) and V3 (domain "3") orders and signature types EOA / proxy / safe:
 * - our exact integer amounts equal the SDK's;
 * - re-signing the SDK's order fields with our typed data gives the SDK's signature byte for byte (ECDSA here is
 *   deterministic), and our verification accepts the SDK's signature.
 * So the order struct, domain and amounts we sign are the ones the venue's own client signs.
 */
import { OrderBuilder, OrderType, Side, type SignedOrder, type TickSize } from '@polymarket/clob-client-v2';
import { getAddress, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { mulDiv } from '../../../src/core/money.ts';
import { sdkSigner } from '../../../src/venues/polymarket/execution/auth.ts';
import {
  type ClobOrder,
  exchangeDomain,
  orderAmounts,
  type SignatureType,
  signOrder,
  verifyOrderSignature,
} from '../../../src/venues/polymarket/execution/orders.ts';

const KEY: Hex = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const account = privateKeyToAccount(KEY);
const FUNDER = getAddress('0x1111111111111111111111111111111111111111');
const TOKEN = '71321045679252212594626385532706912750332728571942532289631379312455583992563';
const CHAIN = 137;

const TICKS: readonly [TickSize, number][] = [
  ['0.1', 100_000],
  ['0.01', 10_000],
  ['0.005', 5_000],
  ['0.0025', 2_500],
  ['0.001', 1_000],
  ['0.0001', 100],
];

function asClobOrder(o: SignedOrder): ClobOrder {
  if (!('timestamp' in o)) throw new Error('expected a V2 order from the SDK');
  return {
    salt: String(o.salt),
    maker: getAddress(o.maker),
    signer: getAddress(o.signer),
    tokenId: o.tokenId,
    makerAmount: o.makerAmount,
    takerAmount: o.takerAmount,
    side: o.side,
    signatureType: o.signatureType as SignatureType,
    timestamp: String(o.timestamp),
    expiration: o.expiration,
    metadata: o.metadata as Hex,
    builder: o.builder as Hex,
  };
}

describe('Polymarket orders match the official SDK', () => {
  it('amounts, typed data and signatures for limit and market orders, V2 and V3, every signature type', async () => {
    let checked = 0;
    for (const sigType of [0, 1, 2] as const) {
      const builder = new OrderBuilder(
        sdkSigner(account),
        CHAIN,
        sigType,
        sigType === 0 ? undefined : FUNDER,
      );
      // every tick for EOA orders; the other signature types on one tick (they change maker/signer only)
      for (const [tickName, tick] of sigType === 0 ? TICKS : TICKS.slice(1, 2)) {
        const prices = [tick, 10 * tick + (tick < 10_000 ? tick : 0), 1_000_000 - tick].filter(
          (p) => p < 1_000_000,
        );
        for (const price of prices) {
          for (const shares of [5_000_000, 12_340_000]) {
            for (const side of ['buy', 'sell'] as const) {
              for (const [version, facts] of [
                [2, { protocol: 'v1', negRisk: false }],
                [2, { protocol: 'v1', negRisk: true }],
                [3, { protocol: 'v2', negRisk: false }],
              ] as const) {
                const sdkSide = side === 'buy' ? Side.BUY : Side.SELL;
                const limit = await builder.buildOrder(
                  { tokenID: TOKEN, price: price / 1e6, size: shares / 1e6, side: sdkSide },
                  { tickSize: tickName, negRisk: facts.negRisk },
                  version,
                );
                const ours = orderAmounts({ side, limitPrice: price, shares, type: 'GTC', tickSize: tick });
                const sdk = asClobOrder(limit);
                expect(
                  [sdk.makerAmount, sdk.takerAmount],
                  `${tickName} ${price} ${shares} ${side} GTC`,
                ).toEqual([String(ours.makerAmount), String(ours.takerAmount)]);
                const domain = exchangeDomain(CHAIN, facts);
                const resigned = await signOrder(sdk, domain, account);
                expect(resigned.signature).toBe(limit.signature);
                expect(await verifyOrderSignature(sdk, limit.signature as Hex, domain)).toBe(true);

                checked++;
                // market orders: a buy spends whole cents (none below one cent), a sell gives shares
                if (side === 'buy' && mulDiv(price, shares, 1_000_000, 'floor') < 10_000) continue;
                const ourMkt = orderAmounts({ side, limitPrice: price, shares, type: 'FOK', tickSize: tick });
                const mkt = await builder.buildMarketOrder(
                  {
                    tokenID: TOKEN,
                    price: price / 1e6,
                    amount: (side === 'buy' ? ourMkt.makerAmount : shares) / 1e6,
                    side: sdkSide,
                    orderType: OrderType.FOK,
                  },
                  { tickSize: tickName, negRisk: facts.negRisk },
                  version,
                );
                const sdkMkt = asClobOrder(mkt);
                expect(
                  [sdkMkt.makerAmount, sdkMkt.takerAmount],
                  `${tickName} ${price} ${shares} ${side} FOK`,
                ).toEqual([String(ourMkt.makerAmount), String(ourMkt.takerAmount)]);
              }
            }
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(150);
  }, 120_000);

  it('an order signed for the other exchange version does not verify', async () => {
    const builder = new OrderBuilder(sdkSigner(account), CHAIN, 0);
    const v3 = asClobOrder(
      await builder.buildOrder(
        { tokenID: TOKEN, price: 0.5, size: 10, side: Side.BUY },
        { tickSize: '0.01' },
        3,
      ),
    );
    const sig = (await signOrder(v3, exchangeDomain(CHAIN, { protocol: 'v2', negRisk: false }), account))
      .signature;
    expect(
      await verifyOrderSignature(v3, sig, exchangeDomain(CHAIN, { protocol: 'v2', negRisk: false })),
    ).toBe(true);
    expect(
      await verifyOrderSignature(v3, sig, exchangeDomain(CHAIN, { protocol: 'v1', negRisk: false })),
    ).toBe(false);
    expect(
      await verifyOrderSignature(v3, sig, exchangeDomain(CHAIN, { protocol: 'v1', negRisk: true })),
    ).toBe(false);
  });
});
