/**
 * Chainlink Data Streams prices as relayed by Polymarket's Real-Time Data Socket (RTDS). Polymarket's crypto
 * up/down markets settle on these prices, not on Binance.
 *
 * What the sources say (read 2026-11 through the project's search tool):
 * - Endpoint `wss://ws-live-data.polymarket.com`; subscribe by sending
 *   `{"action":"subscribe","subscriptions":[{"topic":"crypto_prices_chainlink","type":"*","filters":"…"}]}`;
 *   unsubscribe with `"action":"unsubscribe"`; "Send PING messages every 5 seconds to maintain the connection".
 *   Every message is `{topic, type, timestamp (ms), payload}`.
 *   (docs.polymarket.com/market-data/websocket/rtds and /developers/RTDS/RTDS-crypto-prices: topic
 *   crypto_prices_chainlink, type "*", auth not required, filters optional "JSON object with symbol".)
 * - Filter and payload shape, from Polymarket's own Rust client (github.com/Polymarket/rs-clob-client,
 *   src/rtds/types/request.rs and response.rs): the Chainlink filter is a JSON object serialized INTO A STRING,
 *   `"filters":"{\"symbol\":\"btc/usd\"}"` (their issue #136: a raw object is not accepted), one symbol per
 *   subscription; no filter = every symbol. Update: `{"topic":"crypto_prices_chainlink","type":"update",
 *   "timestamp":1753314064237,"payload":{"symbol":"eth/usd","timestamp":1753314064213,"value":3456.78}}` —
 *   `value` is a JSON NUMBER, `payload.timestamp` the price time in ms. A frame may also be an ARRAY of such
 *   messages, and an empty/whitespace frame is a keepalive.
 * - Polymarket's TypeScript client (github.com/Polymarket/real-time-data-client, README, src/client.ts): with a
 *   filter the server first sends an initial dump `payload: {symbol, data: [{timestamp, value}, …]}`; the client
 *   pings with the text `ping` every 5 s.
 * [uncertain] A third-party Rust crate (docs.rs polymarket 0.1.0) adds `full_accuracy_value` (string) to the
 *   payload and `connection_id` to the message; we use `full_accuracy_value` only when it is a plain decimal.
 * [uncertain] Third-party bot code reports that with a filter only the historical batch arrives and live
 *   updates need an unfiltered subscription; the feed therefore subscribes without filters by default and the
 *   decoder keeps the wanted symbols.
 * [uncertain] The dump's `type` is not documented; it is recognised by `payload.data` being an array.
 * No recorded capture of this socket exists in shared/fixtures; the tests use the documented examples above.
 */

export const RTDS_URL = 'wss://ws-live-data.polymarket.com';
export const CHAINLINK_TOPIC = 'crypto_prices_chainlink';

export interface WireRtdsSubscription {
  topic: string;
  type: string;
  /** For Chainlink: a JSON object serialized into a string, `{"symbol":"btc/usd"}`. */
  filters?: string;
}

export interface WireRtdsRequest {
  action: 'subscribe' | 'unsubscribe';
  subscriptions: WireRtdsSubscription[];
}

export interface WireChainlinkPrice {
  /** Lower-case, slash-separated: "btc/usd". */
  symbol?: string;
  /** Price time, epoch ms. */
  timestamp?: number;
  /** The price as a JSON number. */
  value?: number | string;
  /** [uncertain] high-precision string form. */
  full_accuracy_value?: string;
  /** Initial dump on subscribe (with a filter). */
  data?: Array<{ timestamp?: number; value?: number | string }>;
}

export interface WireRtdsMessage<P = WireChainlinkPrice> {
  topic?: string;
  type?: string;
  /** Send time, epoch ms. */
  timestamp?: number;
  payload?: P;
  connection_id?: string;
}

/**
 * Not an RTDS message: the live feed inserts `{"type":"connection","state":"down"|"up"}` (source `chainlink.ws`)
 * when its socket drops or reopens, so the decoder marks ticks stale live and in replays.
 */
export interface LocalConnectionFrame {
  type: 'connection';
  state: 'down' | 'up';
}
