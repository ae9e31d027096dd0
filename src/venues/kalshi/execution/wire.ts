/**
 * Kalshi trading wire types. REST shapes are the official OpenAPI client's own (`kalshi-typescript`, imported as
 * types only: nothing of it runs); the websocket payloads of the private `fill` and `user_orders` channels are not
 * in that package and are written here from the AsyncAPI description (see docs/live-venues.md).
 *
 * Orders go through the V2 event-order endpoints under /portfolio/events/orders (single YES book: `bid` buys YES,
 * `ask` sells YES; fixed-point dollar prices, fixed-point counts); reads use /portfolio/orders, /fills,
 * /positions and /balance.
 */
export type {
  AmendOrderV2Request as WireAmendOrderRequest,
  AmendOrderV2Response as WireAmendOrderResponse,
  BatchCancelOrdersV2Request as WireBatchCancelRequest,
  BatchCancelOrdersV2Response as WireBatchCancelResponse,
  BatchCreateOrdersV2Request as WireBatchCreateRequest,
  BatchCreateOrdersV2Response as WireBatchCreateResponse,
  BatchCreateOrdersV2ResponseOrdersInner as WireBatchCreateItem,
  CancelOrderV2Response as WireCancelOrderResponse,
  CreateOrderV2Request as WireCreateOrderRequest,
  CreateOrderV2Response as WireCreateOrderResponse,
  ErrorResponse as WireErrorBody,
  Fill as WireFill,
  GetBalanceResponse as WireBalanceResponse,
  GetFillsResponse as WireFillsResponse,
  GetOrderResponse as WireGetOrderResponse,
  GetOrdersResponse as WireOrdersResponse,
  GetPositionsResponse as WirePositionsResponse,
  MarketPosition as WireMarketPosition,
  Order as WireOrder,
} from 'kalshi-typescript';

/** `{"error": {code, message, details}}`, or the same three at the top level for an unparseable body. */
export interface WireErrorEnvelope {
  readonly error?: { readonly code?: string; readonly message?: string; readonly details?: string } | string;
  readonly code?: string;
  readonly message?: string;
  readonly details?: string;
}

/** Private `fill` channel message body (`type: "fill"`). */
export interface WireWsFill {
  readonly trade_id: string;
  readonly order_id: string;
  readonly market_ticker: string;
  readonly is_taker: boolean;
  readonly yes_price_dollars: string;
  readonly count_fp: string;
  readonly fee_cost: string;
  readonly ts: number;
  readonly ts_ms?: number;
  readonly client_order_id?: string;
  readonly post_position_fp: string;
  readonly outcome_side: 'yes' | 'no';
  readonly book_side: 'bid' | 'ask';
}

/** Private `user_orders` channel message body (`type: "user_order"`). */
export interface WireWsUserOrder {
  readonly order_id: string;
  readonly ticker: string;
  readonly status: 'resting' | 'canceled' | 'executed' | string;
  readonly outcome_side: 'yes' | 'no';
  readonly book_side: 'bid' | 'ask';
  readonly yes_price_dollars: string;
  readonly fill_count_fp: string;
  readonly remaining_count_fp: string;
  readonly initial_count_fp: string;
  readonly client_order_id: string;
  readonly created_ts_ms?: number;
  readonly last_updated_ts_ms?: number;
}

export interface WireWsEnvelope<T = unknown> {
  readonly type: string;
  readonly sid?: number;
  readonly seq?: number;
  readonly id?: number;
  readonly msg?: T;
}

export const PRIVATE_CHANNELS = ['fill', 'user_orders'] as const;
