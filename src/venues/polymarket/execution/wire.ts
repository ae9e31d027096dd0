/**
 * Polymarket CLOB V2 trading wire types: the JSON exactly as the CLOB sends and takes it (see
 * docs/live-venues.md for the sources). Amount fields are decimal strings; ids are strings.
 */

export type WireClobOrderType = 'GTC' | 'GTD' | 'FOK' | 'FAK';

/** The signed order inside POST /order (V2 shape: no nonce, feeRateBps or taker). */
export interface WireSignedOrder {
  /** A JSON number (the SDK sends parseInt(salt)); ours stay below 2^53. */
  readonly salt: number;
  readonly maker: string;
  readonly signer: string;
  readonly tokenId: string;
  /** Integer strings in 1e-6 units. */
  readonly makerAmount: string;
  readonly takerAmount: string;
  readonly side: 'BUY' | 'SELL';
  readonly signatureType: 0 | 1 | 2 | 3;
  /** Milliseconds, as a decimal string. */
  readonly timestamp: string;
  /** Seconds, "0" for none. */
  readonly expiration: string;
  readonly metadata: `0x${string}`;
  readonly builder: `0x${string}`;
  readonly signature: `0x${string}`;
}

export interface WirePostOrderBody {
  readonly order: WireSignedOrder;
  /** The L2 API key. */
  readonly owner: string;
  readonly orderType: WireClobOrderType;
  readonly postOnly: boolean;
  readonly deferExec: boolean;
}

/** POST /order answer (200): `status` is matched | live | delayed | unmatched. */
export interface WirePostOrderResponse {
  readonly success: boolean;
  readonly errorMsg: string;
  readonly orderID: string;
  readonly status: string;
  /** Decimal strings: what the order received and gave so far. */
  readonly takingAmount: string;
  readonly makingAmount: string;
  readonly tradeIDs?: readonly string[];
  readonly transactionsHashes?: readonly string[];
}

/** Every CLOB error body: a single `error` string (post-only mode adds `code` and `retry_after_seconds`). */
export interface WireClobError {
  readonly error: string;
  readonly code?: string;
  readonly retry_after_seconds?: number;
}

export type WireOrderStatus =
  | 'ORDER_STATUS_LIVE'
  | 'ORDER_STATUS_MATCHED'
  | 'ORDER_STATUS_CANCELED'
  | 'ORDER_STATUS_CANCELED_MARKET_RESOLVED'
  | 'ORDER_STATUS_INVALID'
  | 'ORDER_STATUS_DELAYED'
  | 'ORDER_STATUS_UNMATCHED';

/** GET /data/order/{id} and the items of GET /data/orders. */
export interface WireOpenOrder {
  readonly id: string;
  readonly status: WireOrderStatus | string;
  readonly owner: string;
  readonly maker_address: string;
  readonly market: string;
  readonly asset_id: string;
  readonly side: 'BUY' | 'SELL';
  /** Decimal strings, shares. */
  readonly original_size: string;
  readonly size_matched: string;
  readonly price: string;
  readonly associate_trades: readonly string[] | null;
  readonly outcome: string;
  readonly created_at: number;
  readonly expiration: string;
  readonly order_type: string;
}

export interface WirePage<T> {
  readonly data: readonly T[];
  readonly next_cursor: string;
  readonly limit?: number;
  readonly count?: number;
}

/** The first and the last cursor of CLOB pagination. */
export const INITIAL_CURSOR = 'MA==';
export const END_CURSOR = 'LTE=';

export type WireTradeStatus = 'MATCHED' | 'MINED' | 'CONFIRMED' | 'RETRYING' | 'FAILED';

export interface WireMakerOrder {
  readonly order_id: string;
  readonly owner: string;
  readonly maker_address: string;
  readonly matched_amount: string;
  readonly price: string;
  readonly fee_rate_bps?: string;
  readonly asset_id: string;
  readonly outcome: string;
  readonly side?: 'BUY' | 'SELL';
}

/** GET /data/trades items and the user channel's `trade` event (which adds event_type/type/timestamp). */
export interface WireTrade {
  readonly id: string;
  readonly taker_order_id: string;
  readonly market: string;
  readonly asset_id: string;
  readonly side: 'BUY' | 'SELL';
  readonly size: string;
  readonly fee_rate_bps: string;
  readonly price: string;
  readonly status: WireTradeStatus | string;
  /** Seconds, as a decimal string. */
  readonly match_time: string;
  readonly last_update: string;
  readonly outcome: string;
  readonly owner: string;
  readonly maker_address: string;
  readonly maker_orders: readonly WireMakerOrder[];
  readonly transaction_hash?: string;
  readonly trader_side: 'TAKER' | 'MAKER';
  readonly event_type?: 'trade';
  readonly type?: 'TRADE';
  readonly timestamp?: string;
}

/** The user channel's `order` event: the /data/order fields (some optional here) plus the event's kind and time. */
export interface WireUserOrderEvent
  extends Omit<WireOpenOrder, 'status' | 'created_at' | 'expiration' | 'order_type' | 'maker_address'>,
    Partial<Pick<WireOpenOrder, 'status' | 'expiration' | 'order_type' | 'maker_address'>> {
  readonly event_type: 'order';
  readonly type: 'PLACEMENT' | 'UPDATE' | 'CANCELLATION';
  readonly created_at?: string;
  readonly timestamp: string;
}

/** The user channel's subscription (sent once after connecting). */
export interface WireUserSubscribe {
  readonly auth: { readonly apiKey: string; readonly secret: string; readonly passphrase: string };
  readonly markets: readonly string[];
  readonly type: 'user';
}

/** GET /balance-allowance: `asset_type` COLLATERAL (pUSD), CONDITIONAL (CTF token) or CONDITIONAL-V2. */
export type WireAssetType = 'COLLATERAL' | 'CONDITIONAL' | 'CONDITIONAL-V2';

export interface WireBalanceAllowance {
  /** Integer string, 1e-6 units. */
  readonly balance: string;
  /** Spender address → integer string. */
  readonly allowances: Readonly<Record<string, string>>;
}

/** DELETE /order, /orders, /cancel-all answer. */
export interface WireCancelResponse {
  readonly canceled: readonly string[];
  readonly not_canceled: Readonly<Record<string, string>>;
}

/** GET /auth/derive-api-key and POST /auth/api-key answer. */
export interface WireApiKey {
  readonly apiKey: string;
  readonly secret: string;
  readonly passphrase: string;
}
