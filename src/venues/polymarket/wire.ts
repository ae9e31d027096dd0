/**
 * Polymarket's JSON as it is on the wire (see ../shared/fixtures/API-NOTES.md, P1–P23). Every field is optional
 * or loosely typed where the venue has been seen to omit or retype it; parse.ts checks what it uses.
 */

/** Gamma `feeSchedule` (JSON numbers). */
export interface GammaFeeSchedule {
  readonly exponent?: number | string;
  readonly rate?: number | string;
  readonly takerOnly?: boolean;
  readonly rebateRate?: number | string;
}

/** The event summary nested in a Gamma market's `events[]`, or an element of GET /events. */
export interface GammaEvent {
  readonly id?: string;
  readonly ticker?: string;
  readonly slug?: string;
  readonly title?: string;
  readonly description?: string;
  readonly endDate?: string;
  readonly active?: boolean;
  readonly closed?: boolean;
  readonly negRisk?: boolean;
  readonly negRiskMarketID?: string | null;
  readonly negRiskAugmented?: boolean;
  readonly enableNegRisk?: boolean;
  /** Crypto up/down events: `priceToBeat` once the window's reference is known (number or string). */
  readonly eventMetadata?: GammaEventMetadata | null;
  readonly startTime?: string;
  /** Present on GET /events and /public-search events. */
  readonly markets?: readonly GammaMarket[];
}

export interface GammaEventMetadata {
  readonly priceToBeat?: number | string | null;
  readonly finalPrice?: number | string | null;
}

/** Crypto markets: how the settlement reference is sampled (TWAP since 2026-08-14 on up/down). */
export interface GammaCryptoMarketConfig {
  readonly asset?: string;
  readonly duration?: string;
  readonly twapEnabled?: boolean;
  readonly twapLookbackSeconds?: number | string;
}

/** A Gamma market (GET /markets element, GET /markets/{id}). */
export interface GammaMarket {
  /** Protocol version: "v1" (outcome ids in `clobTokenIds`) or "v2" (outcome ids in `positionIds`). */
  readonly version?: string;
  /** v2: the outcome position ids, decimal strings (an array, or a JSON-encoded one). */
  readonly positionIds?: readonly string[] | string;
  readonly cryptoMarketConfig?: GammaCryptoMarketConfig | null;
  readonly eventMetadata?: GammaEventMetadata | null;
  /** Up/down markets: start of the window, ISO-8601 UTC. */
  readonly eventStartTime?: string;
  readonly id?: string;
  readonly question?: string;
  readonly conditionId?: string;
  readonly slug?: string;
  readonly description?: string;
  readonly resolutionSource?: string;
  /** ISO-8601 UTC. */
  readonly endDate?: string;
  /** Date only. */
  readonly endDateIso?: string;
  /** `"2026-05-09 02:07:01+00"` (P6). */
  readonly closedTime?: string;
  /** P1: JSON-encoded string arrays, index-aligned. */
  readonly outcomes?: string;
  readonly outcomePrices?: string;
  readonly clobTokenIds?: string;
  readonly umaResolutionStatuses?: string;
  readonly umaResolutionStatus?: string;
  readonly active?: boolean;
  readonly closed?: boolean;
  readonly archived?: boolean;
  readonly acceptingOrders?: boolean;
  readonly enableOrderBook?: boolean;
  /** JSON numbers (P2, P11). */
  readonly orderPriceMinTickSize?: number | string;
  readonly orderMinSize?: number | string;
  readonly bestBid?: number;
  readonly bestAsk?: number;
  readonly lastTradePrice?: number;
  readonly liquidity?: string;
  readonly volume?: string;
  readonly negRisk?: boolean;
  readonly negRiskMarketID?: string | null;
  readonly negRiskRequestID?: string;
  readonly negRiskOther?: boolean;
  readonly negRiskAugmented?: boolean;
  readonly groupItemTitle?: string;
  readonly feesEnabled?: boolean;
  readonly feeType?: string | null;
  readonly feeSchedule?: GammaFeeSchedule | null;
  /** Legacy, not the effective rate (P13). */
  readonly makerBaseFee?: number;
  readonly takerBaseFee?: number;
  readonly events?: readonly GammaEvent[];
  readonly updatedAt?: string;
}

/** GET /public-search. */
export interface GammaSearchResponse {
  readonly events?: readonly GammaEvent[];
  readonly pagination?: { readonly hasMore?: boolean; readonly totalResults?: number };
}

/** `{price, size}` decimal strings. */
export interface WireLevel {
  readonly price: string;
  readonly size: string;
}

/** CLOB GET /book, an element of POST /books, and the WS `book` event (P7, P8, P19). Best level LAST. */
export interface ClobBook {
  readonly event_type?: 'book';
  readonly market: string;
  readonly asset_id: string;
  /** Ascending: best bid last. */
  readonly bids: readonly WireLevel[];
  /** Descending: best ask last. */
  readonly asks: readonly WireLevel[];
  /** Epoch ms as a string. */
  readonly timestamp?: string;
  readonly hash?: string;
  readonly min_order_size?: string | number;
  readonly tick_size?: string | number;
  readonly neg_risk?: boolean;
  /** May be the empty string. */
  readonly last_trade_price?: string;
}

/** CLOB GET /markets element (snake_case, P10). */
export interface ClobMarketToken {
  readonly token_id: string;
  readonly outcome: string;
  readonly price?: number;
  readonly winner?: boolean;
}
export interface ClobMarket {
  readonly condition_id: string;
  readonly question_id?: string;
  readonly question?: string;
  readonly description?: string;
  readonly market_slug?: string;
  readonly end_date_iso?: string | null;
  readonly active?: boolean;
  readonly closed?: boolean;
  readonly archived?: boolean;
  readonly accepting_orders?: boolean;
  readonly enable_order_book?: boolean;
  readonly minimum_order_size?: number | string;
  readonly minimum_tick_size?: number | string;
  readonly neg_risk?: boolean;
  readonly neg_risk_market_id?: string;
  readonly neg_risk_request_id?: string;
  readonly maker_base_fee?: number;
  readonly taker_base_fee?: number;
  readonly tokens?: readonly ClobMarketToken[];
  readonly tags?: readonly string[];
}
export interface ClobMarketsPage {
  readonly data: readonly ClobMarket[];
  readonly next_cursor?: string;
  readonly limit?: number;
  readonly count?: number;
}

/** GET /fee-rate (P15): not the per-category rate. */
export interface ClobFeeRate {
  readonly base_fee: string;
}
/** POST /midpoints: token → decimal string. */
export type ClobMidpoints = Readonly<Record<string, string>>;
/** POST /prices: token → {BUY|SELL: number}. */
export type ClobPrices = Readonly<Record<string, Readonly<Partial<Record<'BUY' | 'SELL', number | string>>>>>;

// ---------------------------------------------------------------- websocket market channel

export type WsSide = 'BUY' | 'SELL';

/** One entry of `price_changes` (schema since 2025-09-15, P20). */
export interface WsPriceChangeEntry {
  readonly asset_id: string;
  readonly price: string;
  /** New aggregate size at the level; "0" deletes it. */
  readonly size: string;
  readonly side: WsSide;
  readonly hash?: string;
  readonly best_bid?: string;
  readonly best_ask?: string;
}

export interface WsBook extends ClobBook {
  readonly event_type: 'book';
}

export interface WsPriceChange {
  readonly event_type: 'price_change';
  readonly market: string;
  readonly timestamp?: string;
  /** Current schema. */
  readonly price_changes?: readonly WsPriceChangeEntry[];
  /** Pre-2025-09 schema: one level at top level. */
  readonly asset_id?: string;
  readonly price?: string;
  readonly size?: string;
  readonly side?: WsSide;
  readonly hash?: string;
}

export interface WsLastTradePrice {
  readonly event_type: 'last_trade_price';
  readonly asset_id: string;
  readonly market: string;
  readonly price: string;
  readonly size: string;
  readonly side?: WsSide;
  readonly fee_rate_bps?: string;
  readonly timestamp?: string;
  readonly transaction_hash?: string;
}

export interface WsTickSizeChange {
  readonly event_type: 'tick_size_change';
  readonly asset_id: string;
  readonly market: string;
  readonly old_tick_size: string;
  readonly new_tick_size: string;
  readonly timestamp?: string;
}

export interface WsBestBidAsk {
  readonly event_type: 'best_bid_ask';
  readonly asset_id: string;
  readonly market: string;
  readonly best_bid: string;
  readonly best_ask: string;
  readonly spread?: string;
  readonly timestamp?: string;
}

/** `fee_schedule` in WS frames: snake_case, string numbers (P14). */
export interface WsFeeSchedule {
  readonly exponent?: string | number;
  readonly rate?: string | number;
  readonly rebate_rate?: string | number;
  readonly taker_only?: boolean;
}

export interface WsNewMarket {
  readonly event_type: 'new_market';
  readonly id?: string;
  readonly question?: string;
  readonly market: string;
  readonly condition_id?: string;
  readonly slug?: string;
  readonly description?: string;
  readonly assets_ids?: readonly string[];
  readonly clob_token_ids?: readonly string[];
  readonly outcomes?: readonly string[];
  readonly event_message?: { readonly id?: string; readonly slug?: string; readonly title?: string };
  readonly timestamp?: string;
  readonly active?: boolean;
  readonly order_price_min_tick_size?: string;
  readonly order_min_size?: string | number;
  readonly group_item_title?: string;
  readonly end_date?: string;
  readonly fee_schedule?: WsFeeSchedule;
  readonly neg_risk?: boolean;
  readonly neg_risk_market_id?: string;
  readonly tags?: readonly string[];
}

export interface WsMarketResolved {
  readonly event_type: 'market_resolved';
  readonly id?: string;
  readonly market: string;
  readonly assets_ids?: readonly string[];
  readonly winning_asset_id: string;
  readonly winning_outcome?: string;
  readonly timestamp?: string;
}

export type WsMarketEvent =
  | WsBook
  | WsPriceChange
  | WsLastTradePrice
  | WsTickSizeChange
  | WsBestBidAsk
  | WsNewMarket
  | WsMarketResolved;

/** First subscription on the market channel (P16). */
export interface WsSubscribe {
  readonly assets_ids: readonly string[];
  readonly type: 'market';
  readonly custom_feature_enabled?: boolean;
}

/** Later changes to a subscription (P16). */
export interface WsSubscriptionUpdate {
  readonly operation: 'subscribe' | 'unsubscribe';
  readonly assets_ids: readonly string[];
  readonly custom_feature_enabled?: boolean;
}
