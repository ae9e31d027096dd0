/**
 * Polymarket CLOB V2 orders: exact amounts, the EIP-712 typed data, signing, the order hash (= the CLOB's order
 * id) and verification. See docs/live-venues.md for the facts and where they were checked.
 *
 * - Domain `{name: "Polymarket CTF Exchange", version, chainId, verifyingContract}`: version "2" for CTF markets
 *   (Gamma `version: "v1"`, exchange V2 or the neg-risk exchange V2), version "3" for Protocol V2 markets
 *   (Gamma `version: "v2"`, ExchangeV3). Addresses come from the official SDK's contract table.
 * - Order struct (11 fields, no nonce/feeRateBps/taker): salt, maker, signer, tokenId, makerAmount, takerAmount,
 *   side (0 buy, 1 sell), signatureType, timestamp (ms), metadata, builder. `expiration` travels in the JSON body
 *   but is not signed.
 * - Amounts are integers in 1e-6 units (pUSD and outcome tokens both have 6 decimals): the same scale as our
 *   micro-units, so they are exact. Limit orders (GTC/GTD): size on 0.01 shares, collateral side = price × size.
 *   Market orders (FOK/FAK): a buy spends whole cents and receives collateral ÷ price truncated to the tick's
 *   amount precision; a sell gives whole 0.01 shares. The precisions follow the SDK's rounding table, which the
 *   cross-check test compares against the SDK itself.
 * - Determinism: salt from the client order id, timestamp from the decision time → the same spec always signs to
 *   the same order and the same hash, so a resend is a duplicate the CLOB refuses, never a second order.
 */
import { getContractConfig } from '@polymarket/clob-client-v2';
import { type Address, getAddress, type Hex, hashTypedData, verifyTypedData } from 'viem';
import type { LocalAccount } from 'viem/accounts';
import { MICRO, type Money, mulDiv, type Price, type Qty, toDecimal } from '../../../core/money.ts';
import { polymarketSalt } from '../../live/ids.ts';
import { type LiveOrderSpec, OrderSpecError, type PolymarketOrderFacts } from '../../live/types.ts';
import type { WireClobOrderType, WirePostOrderBody, WireSignedOrder } from './wire.ts';

export const EXCHANGE_DOMAIN_NAME = 'Polymarket CTF Exchange';
export const ZERO_BYTES32: Hex = `0x${'0'.repeat(64)}`;

/** Signature types of the CLOB (the SDK's SignatureTypeV2). 3 (EIP-1271 deposit wallets) is not supported here yet. */
export const SIGNATURE_TYPES = { eoa: 0, proxy: 1, 'gnosis-safe': 2, 'eip-1271': 3 } as const;
export type SignatureTypeName = keyof typeof SIGNATURE_TYPES;
export type SignatureType = (typeof SIGNATURE_TYPES)[SignatureTypeName];

export const ORDER_TYPES = {
  Order: [
    { name: 'salt', type: 'uint256' },
    { name: 'maker', type: 'address' },
    { name: 'signer', type: 'address' },
    { name: 'tokenId', type: 'uint256' },
    { name: 'makerAmount', type: 'uint256' },
    { name: 'takerAmount', type: 'uint256' },
    { name: 'side', type: 'uint8' },
    { name: 'signatureType', type: 'uint8' },
    { name: 'timestamp', type: 'uint256' },
    { name: 'metadata', type: 'bytes32' },
    { name: 'builder', type: 'bytes32' },
  ],
} as const;

export interface ExchangeDomain {
  readonly name: string;
  readonly version: '2' | '3';
  readonly chainId: number;
  readonly verifyingContract: Address;
}

/** The exchange an order for these market facts must be signed for. */
export function exchangeDomain(chainId: number, facts: PolymarketOrderFacts): ExchangeDomain {
  const c = getContractConfig(chainId);
  if (facts.protocol === 'v2') {
    return { name: EXCHANGE_DOMAIN_NAME, version: '3', chainId, verifyingContract: getAddress(c.exchangeV3) };
  }
  const contract = facts.negRisk ? c.negRiskExchangeV2 : c.exchangeV2;
  return { name: EXCHANGE_DOMAIN_NAME, version: '2', chainId, verifyingContract: getAddress(contract) };
}

/** The unsigned order as the CLOB's JSON carries it (decimal strings for the uint256 fields). */
export interface ClobOrder {
  readonly salt: string;
  readonly maker: Address;
  readonly signer: Address;
  readonly tokenId: string;
  readonly makerAmount: string;
  readonly takerAmount: string;
  readonly side: 'BUY' | 'SELL';
  readonly signatureType: SignatureType;
  readonly timestamp: string;
  readonly expiration: string;
  readonly metadata: Hex;
  readonly builder: Hex;
}

/** Decimals of a tick given in micro-units (10_000 → 2, 5_000 → 3, 2_500 → 4, 100 → 4). */
export function tickDecimals(tick: Price): number {
  if (!Number.isSafeInteger(tick) || tick <= 0 || tick >= MICRO) {
    throw new OrderSpecError('invalid_price', `tick size ${tick} micro-units is not a valid price increment`);
  }
  let d = 0;
  let t = tick;
  while (t % MICRO !== 0) {
    t *= 10;
    d++;
  }
  return d;
}

const SIZE_STEP: Qty = 10_000; // 0.01 shares
const CENT_STEP: Money = 10_000; // $0.01

/** Maker/taker amounts (1e-6 units) for a spec, exactly, or the reason it cannot be expressed. */
export function orderAmounts(
  spec: Pick<LiveOrderSpec, 'side' | 'limitPrice' | 'shares' | 'type' | 'tickSize'>,
): {
  makerAmount: number;
  takerAmount: number;
} {
  const { limitPrice: p, shares, tickSize } = spec;
  const priceDecimals = tickDecimals(tickSize);
  if (p % tickSize !== 0 || p < tickSize || p > MICRO - tickSize) {
    throw new OrderSpecError(
      'invalid_price',
      `price ${toDecimal(p)} is not on the market's tick ${toDecimal(tickSize)} between ${toDecimal(tickSize)} and ${toDecimal(MICRO - tickSize)}`,
    );
  }
  if (!Number.isSafeInteger(shares) || shares <= 0 || shares % SIZE_STEP !== 0) {
    throw new OrderSpecError(
      'invalid_size',
      `size ${toDecimal(shares)} is not a positive multiple of 0.01 shares`,
    );
  }
  // collateral amounts keep priceDecimals + 2 decimals (the SDK's rounding table)
  const amountStep = 10 ** Math.max(0, 6 - (priceDecimals + 2));
  const market = spec.type === 'FOK' || spec.type === 'FAK';
  const value = mulDiv(p, shares, MICRO, 'floor'); // exact: ≤ 6 decimals
  if (spec.side === 'buy') {
    if (!market) return { makerAmount: value, takerAmount: shares };
    const spend = value - (value % CENT_STEP);
    if (spend <= 0) throw new OrderSpecError('invalid_size', `a market buy must spend at least $0.01`);
    const receive = mulDiv(spend, MICRO, p, 'floor');
    return { makerAmount: spend, takerAmount: receive - (receive % amountStep) };
  }
  return { makerAmount: shares, takerAmount: value - (value % amountStep) };
}

export interface OrderSigner {
  /** EOA that signs (the API key's address). */
  readonly address: Address;
  /** The funder holding the pUSD and tokens: the EOA itself for type 0, the proxy / safe otherwise. */
  readonly maker: Address;
  readonly signatureType: SignatureType;
  readonly account: LocalAccount;
}

/** Builds the deterministic order for a spec. */
export function buildOrder(spec: LiveOrderSpec, signer: OrderSigner): ClobOrder {
  if (!/^\d+$/.test(spec.tokenId)) {
    throw new OrderSpecError('invalid_order', `token id ${spec.tokenId} is not a decimal position id`);
  }
  const { makerAmount, takerAmount } = orderAmounts(spec);
  let expiration = '0';
  if (spec.type === 'GTD') {
    if (spec.expiresAt === undefined)
      throw new OrderSpecError('invalid_order', 'a GTD order needs expiresAt');
    expiration = String(Math.ceil(spec.expiresAt / 1000));
  }
  return {
    salt: polymarketSalt(spec.clientOrderId),
    maker: signer.maker,
    signer: signer.address,
    tokenId: spec.tokenId,
    makerAmount: String(makerAmount),
    takerAmount: String(takerAmount),
    side: spec.side === 'buy' ? 'BUY' : 'SELL',
    signatureType: signer.signatureType,
    timestamp: String(Math.trunc(spec.createdAt)),
    expiration,
    metadata: ZERO_BYTES32,
    builder: ZERO_BYTES32,
  };
}

function typedMessage(o: ClobOrder) {
  return {
    salt: BigInt(o.salt),
    maker: o.maker,
    signer: o.signer,
    tokenId: BigInt(o.tokenId),
    makerAmount: BigInt(o.makerAmount),
    takerAmount: BigInt(o.takerAmount),
    side: o.side === 'BUY' ? 0 : 1,
    signatureType: o.signatureType,
    timestamp: BigInt(o.timestamp),
    metadata: o.metadata,
    builder: o.builder,
  };
}

/** The order hash: the CLOB's order id, computable before sending. */
export function orderHash(order: ClobOrder, domain: ExchangeDomain): Hex {
  return hashTypedData({ domain, types: ORDER_TYPES, primaryType: 'Order', message: typedMessage(order) });
}

export async function signOrder(
  order: ClobOrder,
  domain: ExchangeDomain,
  account: LocalAccount,
): Promise<WireSignedOrder> {
  const signature = await account.signTypedData({
    domain,
    types: ORDER_TYPES,
    primaryType: 'Order',
    message: typedMessage(order),
  });
  return toWire(order, signature);
}

function toWire(o: ClobOrder, signature: Hex): WireSignedOrder {
  return {
    salt: Number(o.salt),
    maker: o.maker,
    signer: o.signer,
    tokenId: o.tokenId,
    makerAmount: o.makerAmount,
    takerAmount: o.takerAmount,
    side: o.side,
    signatureType: o.signatureType,
    timestamp: o.timestamp,
    expiration: o.expiration,
    metadata: o.metadata,
    builder: o.builder,
    signature,
  };
}

/** The order as it came over the wire, back in typed form (the fake server and audits use it). */
export function fromWire(w: WireSignedOrder): { order: ClobOrder; signature: Hex } {
  return {
    order: {
      salt: String(w.salt),
      maker: getAddress(w.maker),
      signer: getAddress(w.signer),
      tokenId: w.tokenId,
      makerAmount: w.makerAmount,
      takerAmount: w.takerAmount,
      side: w.side,
      signatureType: w.signatureType,
      timestamp: w.timestamp,
      expiration: w.expiration,
      metadata: w.metadata,
      builder: w.builder,
    },
    signature: w.signature,
  };
}

/** True when `signature` is the order's EIP-712 signature by `order.signer` under `domain` (EOA-signed types). */
export async function verifyOrderSignature(
  order: ClobOrder,
  signature: Hex,
  domain: ExchangeDomain,
): Promise<boolean> {
  try {
    return await verifyTypedData({
      address: order.signer,
      domain,
      types: ORDER_TYPES,
      primaryType: 'Order',
      message: typedMessage(order),
      signature,
    });
  } catch {
    return false;
  }
}

export function clobOrderType(spec: Pick<LiveOrderSpec, 'type'>): WireClobOrderType {
  return spec.type;
}

/** The POST /order body for a signed order. `owner` is the L2 API key. */
export function postOrderBody(
  signed: WireSignedOrder,
  owner: string,
  spec: Pick<LiveOrderSpec, 'type' | 'postOnly'>,
): WirePostOrderBody {
  return {
    order: signed,
    owner,
    orderType: clobOrderType(spec),
    postOnly: spec.postOnly === true,
    deferExec: false,
  };
}
