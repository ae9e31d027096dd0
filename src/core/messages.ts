/**
 * The domain model: every message that travels on the bus, as a zod schema (validated once at the edge, when it
 * enters from Redis or a venue) and a readonly TypeScript type inferred from it.
 *
 * Units (see money.ts): prices, sizes, fees and P&L are integer micro-units; spot prices are integer 1e-8 units;
 * times are epoch milliseconds. `eventTime` is the venue's own timestamp (absent when the venue gives none),
 * `receiveTime` the local clock when the data arrived.
 */
import { z } from 'zod';
import { flat } from './flat.ts';

export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends readonly (infer U)[]
    ? readonly DeepReadonly<U>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

const int = z.number().int();
/** micro-dollar price strictly inside (0, 1) is checked where it matters; here any safe integer ≥ 0 */
const price = int.min(0).max(1_000_000);
const qty = int.min(0);
const money = int;
const ms = int;

export const VenueSchema = z.enum(['polymarket', 'kalshi']);
export type Venue = z.infer<typeof VenueSchema>;
export const VENUES: readonly Venue[] = VenueSchema.options;

export const SideSchema = z.enum(['buy', 'sell']);
export type Side = z.infer<typeof SideSchema>;

export const TimeInForceSchema = z.enum(['IOC', 'FOK', 'GTC']);
export type TimeInForce = z.infer<typeof TimeInForceSchema>;

// ---------------------------------------------------------------- markets

const PolymarketFeesSchema = z.object({
  kind: z.literal('polymarket'),
  /** fee = shares × rate × p × (1 − p), rate in micro-units (0.07 → 70_000); taker only when takerOnly */
  rate: int.min(0),
  exponent: int.min(0),
  takerOnly: z.boolean(),
  /** share of taker fees rebated to makers, micro-units */
  rebateRate: int.min(0),
});
const KalshiFeesSchema = z.object({
  kind: z.literal('kalshi'),
  /** trade fee = coeff × C × P × (1 − P), rounded up to $0.0001, then the balance rounding; 0.07 → 70_000 */
  takerCoeff: int.min(0),
  /** 0 where makers are not charged; 0.0175 → 17_500 where they are */
  makerCoeff: int.min(0),
});
export const FeeScheduleSchema = z.discriminatedUnion('kind', [
  PolymarketFeesSchema,
  KalshiFeesSchema,
  z.object({ kind: z.literal('none') }),
  /**
   * The venue charges fees but this market's schedule is not known yet (a listing without one, being looked
   * up): the scanner prices nothing on it; a fill that happens anyway is charged `bound`, the highest schedule
   * the venue documents for it.
   */
  z.object({
    kind: z.literal('unknown'),
    reason: z.string(),
    bound: z.discriminatedUnion('kind', [PolymarketFeesSchema, KalshiFeesSchema]),
  }),
]);
export type FeeSchedule = DeepReadonly<z.infer<typeof FeeScheduleSchema>>;

export const OutcomeTokenSchema = z.object({
  /** Venue token id, a string (Polymarket ids exceed 2^53); Kalshi uses `<ticker>:yes` / `<ticker>:no`. */
  tokenId: z.string().min(1),
  /** The outcome's label as the venue gives it ("Yes", "No", "Long", a candidate's name …). */
  label: z.string(),
  /** YES/NO orientation where the market is binary. */
  side: z.enum(['yes', 'no', 'other']),
});
export type OutcomeToken = DeepReadonly<z.infer<typeof OutcomeTokenSchema>>;

/**
 * Settlement fields the venue publishes in structured form (read before any rules text). Strikes and prices in
 * 1e-8 units, times epoch ms. See docs/settlement.md.
 */
export const SettlementFieldsSchema = z.object({
  /** Kalshi `floor_strike` / `cap_strike`. */
  floorStrike: int.optional(),
  capStrike: int.optional(),
  /** Kalshi `strike_type`: greater, greater_or_equal, less, less_or_equal, between, structured … */
  strikeType: z.string().optional(),
  /** Polymarket `eventMetadata.priceToBeat`: the up/down reference, once the venue published it. */
  priceToBeat: int.optional(),
  /** Polymarket `cryptoMarketConfig` with `twapEnabled`: the TWAP lookback in seconds. */
  twapSeconds: int.optional(),
  /** Polymarket `resolutionSource` URL, Kalshi settlement source URL. */
  resolutionSource: z.string().optional(),
  /** Polymarket `eventStartTime`: the start of an up/down window. */
  windowStart: ms.optional(),
  /** Kalshi series ticker (its fee schedule is per series). */
  series: z.string().optional(),
});
export type SettlementFields = DeepReadonly<z.infer<typeof SettlementFieldsSchema>>;

export const MarketStatusSchema = z.enum(['open', 'closed', 'resolved']);
export type MarketStatus = z.infer<typeof MarketStatusSchema>;

export const MarketSchema = z.object({
  type: z.literal('market'),
  venue: VenueSchema,
  /** Polymarket condition id; Kalshi market ticker. */
  marketId: z.string().min(1),
  /** Polymarket event id / slug; Kalshi event ticker. */
  eventId: z.string().optional(),
  /** Polymarket Gamma market id (numeric string) or Kalshi ticker, for humans and URLs. */
  slug: z.string().optional(),
  question: z.string(),
  /** Resolution rules text (Polymarket description, Kalshi rules_primary + rules_secondary). */
  rules: z.string(),
  /** What YES stands for within its event: Kalshi `yes_sub_title`, Polymarket `groupItemTitle`. */
  subtitle: z.string().optional(),
  /** Title of the event the market belongs to (Polymarket event title, Kalshi event title when known). */
  eventTitle: z.string().optional(),
  outcomes: z.array(OutcomeTokenSchema).min(1),
  tickSize: price,
  minSize: qty,
  /**
   * Order sizes are multiples of this (micro-shares); every venue parser sets it. Absent (hand-built markets in
   * tests and tools) means no constraint beyond the micro-unit.
   */
  lotSize: qty.min(1).optional(),
  fees: FeeScheduleSchema,
  /** Structured settlement fields from the venue (crypto markets); absent when the venue gives none. */
  settlement: SettlementFieldsSchema.optional(),
  /** Scheduled close/expiry, epoch ms; null when the venue gives none. */
  endTime: ms.nullable(),
  status: MarketStatusSchema,
  /** tokenId of the winning outcome once resolved. */
  winner: z.string().optional(),
  /** Polymarket negRisk market id (multi-outcome group) or Kalshi mutually-exclusive event ticker. */
  negRiskGroup: z.string().optional(),
  /** Augmented/placeholder ("Other") outcome of a negRisk group: its YES price does not make the sum reach 1. */
  placeholder: z.boolean().optional(),
  /**
   * Polymarket protocol of the market (Gamma `version`): "v2" markets trade on ExchangeV3 (EIP-712 domain version
   * "3", ids from `positionIds`, CONDITIONAL-V2 balances). Absent = "v1" (every record before the field existed,
   * Kalshi, and Polymarket sources that do not say it).
   */
  protocol: z.enum(['v1', 'v2']).optional(),
  /** Changes whenever the venue's description of the market changes (cache key for match verdicts). */
  version: z.string(),
  eventTime: ms.optional(),
  receiveTime: ms,
});
export type Market = DeepReadonly<z.infer<typeof MarketSchema>>;

// ---------------------------------------------------------------- books and ticks

/** [price, size], both micro-units. */
export const LevelSchema = z.tuple([price, qty]);
export type Level = readonly [price: number, size: number];

export const OrderBookSchema = z.object({
  type: z.literal('book'),
  venue: VenueSchema,
  marketId: z.string(),
  tokenId: z.string(),
  /** Best first: bids descending, asks ascending. */
  bids: z.array(LevelSchema),
  asks: z.array(LevelSchema),
  /** Venue sequence or hash where given; informational. */
  seq: int.optional(),
  /** True when the feed could not keep this book current (gap, disconnect, age); nothing trades on it. */
  stale: z.boolean(),
  eventTime: ms.optional(),
  receiveTime: ms,
});
export type OrderBook = DeepReadonly<z.infer<typeof OrderBookSchema>> & {
  /**
   * This process's slot of the token (src/core/token-slots.ts), stamped by the venue decoders: a lookup hint for
   * consumers, not part of the message (not in the schema, so validation at the Redis edge drops it).
   */
  readonly slot?: number;
};

export const OracleSourceSchema = z.enum(['binance', 'chainlink', 'sim']);
export type OracleSource = z.infer<typeof OracleSourceSchema>;

export const OracleTickSchema = z.object({
  type: z.literal('tick'),
  source: OracleSourceSchema,
  /** Normalized symbol "BTC/USD"-style: base asset, slash, quote (USDT kept as USDT). */
  symbol: z.string(),
  /** Last/mark price, 1e-8 units. */
  price: int.min(0),
  bid: int.min(0).optional(),
  ask: int.min(0).optional(),
  stale: z.boolean(),
  eventTime: ms.optional(),
  receiveTime: ms,
});
export type OracleTick = DeepReadonly<z.infer<typeof OracleTickSchema>>;

export const TradePrintSchema = z.object({
  type: z.literal('trade'),
  venue: VenueSchema,
  marketId: z.string(),
  tokenId: z.string(),
  price,
  size: qty,
  side: SideSchema.optional(),
  eventTime: ms.optional(),
  receiveTime: ms,
});
export type TradePrint = DeepReadonly<z.infer<typeof TradePrintSchema>>;

/** A market resolved: each share of `winner` pays 1, every other outcome 0. */
export const ResolutionSchema = z.object({
  type: z.literal('resolution'),
  venue: VenueSchema,
  marketId: z.string(),
  winner: z.string(),
  eventTime: ms.optional(),
  receiveTime: ms,
});
export type Resolution = DeepReadonly<z.infer<typeof ResolutionSchema>>;

// ---------------------------------------------------------------- matching

/**
 * identical / inverted / implies / exclusive: a confirmed relation (rules, LLM or a person) that may be traded;
 * different: a settlement fact differs; undetermined: nothing decided, the pair waits for review (never traded).
 */
export const MatchRelationSchema = z.enum([
  'identical',
  'inverted',
  'implies',
  'exclusive',
  'different',
  'undetermined',
]);
export type MatchRelation = z.infer<typeof MatchRelationSchema>;

/** A relation that links two markets (what the scanner may trade); `different` and `undetermined` do not. */
export const isLinkRelation = (r: MatchRelation): boolean => r !== 'different' && r !== 'undetermined';

export const MarketRefSchema = z.object({ venue: VenueSchema, marketId: z.string() });
export type MarketRef = DeepReadonly<z.infer<typeof MarketRefSchema>>;

export const MarketLinkSchema = z.object({
  type: z.literal('link'),
  a: MarketRefSchema,
  b: MarketRefSchema,
  relation: MatchRelationSchema,
  /** 0..1 */
  confidence: z.number().min(0).max(1),
  stage: z.enum(['rules', 'llm', 'cache', 'manual']),
  reasons: z.array(z.string()),
  decidedAt: ms,
});
export type MarketLink = DeepReadonly<z.infer<typeof MarketLinkSchema>>;

export const OracleLinkSchema = z.object({
  type: z.literal('oracle_link'),
  market: MarketRefSchema,
  /** Oracle symbol the market settles on, e.g. BTC/USD */
  symbol: z.string(),
  asset: z.string(),
  kind: z.enum(['above', 'below', 'range', 'up_down']),
  /** Strikes in 1e-8 units; range uses both, up_down uses `strike` as the reference open price when known. */
  strike: int.optional(),
  upper: int.optional(),
  expiry: ms,
  /** up_down: start of the window (the reference open is the oracle price then). */
  start: ms.optional(),
  settlementSource: z.string(),
  /**
   * The settlement reference, structured: `feed` is the oracle source that quotes it (absent when no feed of
   * ours does, e.g. CF Benchmarks BRTI); `window` how the venue samples it at the fixing (a point, a TWAP or
   * simple average over `seconds` ending at the instant, a candle's open/close); `strikeWindow` the same for an
   * up/down strike (sampled at `start`). `op` the comparison at settlement.
   */
  reference: z
    .object({
      source: z.string(),
      feed: OracleSourceSchema.optional(),
      window: z.enum(['point', 'twap', 'average', 'candle_open', 'candle_close']),
      seconds: int.min(0),
      op: z.enum(['>', '>=', '<', '<=']).optional(),
      /** where the strike came from: the venue's structured field, its text, or the source at `start` */
      strikeFrom: z.enum(['venue', 'text', 'window']),
    })
    .optional(),
  /** tokenId whose payout is 1 when the condition holds */
  yesToken: z.string(),
  noToken: z.string().optional(),
});
export type OracleLink = DeepReadonly<z.infer<typeof OracleLinkSchema>>;

// ---------------------------------------------------------------- opportunities and trading

export const OpportunityTypeSchema = z.enum(['oracle_lag', 'cross_venue', 'rebalancing', 'combinatorial']);
export type OpportunityType = z.infer<typeof OpportunityTypeSchema>;

export const LegSchema = z.object({
  venue: VenueSchema,
  marketId: z.string(),
  tokenId: z.string(),
  side: SideSchema,
  /** Worst acceptable price, micro-dollars per share. */
  limitPrice: price,
  /** Shares, micro-units. */
  shares: qty,
});
export type Leg = DeepReadonly<z.infer<typeof LegSchema>>;

export const DataStampSchema = z.object({
  /** instrument key `venue:tokenId` or `oracle:source:symbol` */
  key: z.string(),
  eventTime: ms.optional(),
  receiveTime: ms,
});

export const OpportunitySchema = z.object({
  type: z.literal('opportunity'),
  id: z.string(),
  kind: OpportunityTypeSchema,
  legs: z.array(LegSchema).min(1),
  /** Expected profit net of fees at `shares`, micro-dollars. */
  edge: money,
  /** Edge relative to capital committed, in basis points. */
  edgeBps: int,
  /** Capital committed (cost of buys + fees), micro-dollars. */
  cost: money,
  /** Fees included in the edge, micro-dollars. */
  fees: money,
  /** Share count at that edge (per leg where legs are equal-share). */
  shares: qty,
  /** 0..1: how strong/confident the signal is. */
  signal: z.number().min(0).max(1),
  detectedAt: ms,
  expiresAt: ms,
  data: z.array(DataStampSchema),
  /** Free text for humans: which relation, which model inputs. */
  note: z.string().optional(),
  /** Smallest share count every leg's market accepts (a strategy must not size below it). */
  minShares: qty.optional(),
  /** Every leg's size is a multiple of this (the coarsest lot of the legs' markets). */
  lotShares: qty.optional(),
  /** oracle_lag: what the fair value was computed on (the settlement reference, never another source). */
  pricing: z
    .object({
      /** settlement source (`chainlink`, `binance:BTC/USDT`, …) and the feed read for it */
      source: z.string(),
      feed: z.string(),
      window: z.string(),
      /** strike / reference in 1e-8 units, and the settlement source's value used as spot */
      reference: int,
      spot: int,
      /** fair YES value, micro-dollars */
      fair: price,
      /** extra margin for a basis between a proxy and the settlement source, micro-dollars (0 on the source) */
      basis: int.min(0),
    })
    .optional(),
});
export type Opportunity = DeepReadonly<z.infer<typeof OpportunitySchema>>;

export const TradeRequestSchema = z.object({
  type: z.literal('trade_request'),
  id: z.string(),
  strategy: z.string(),
  opportunityId: z.string().optional(),
  kind: OpportunityTypeSchema.optional(),
  /** All legs execute as one group. */
  legs: z.array(LegSchema).min(1),
  tif: TimeInForceSchema,
  /** Expected edge net of fees at the requested sizes, micro-dollars. */
  expectedEdge: money,
  createdAt: ms,
  /** Data the request was built from (for the stale-data rule). */
  data: z.array(DataStampSchema),
  /** The bundle its legs belong to (an arbitrage is one bundle); absent = the request id. */
  bundleId: z.string().optional(),
});
export type TradeRequest = DeepReadonly<z.infer<typeof TradeRequestSchema>>;

export const RiskVerdictSchema = z.enum(['approve', 'reduce', 'reject']);
export type RiskVerdict = z.infer<typeof RiskVerdictSchema>;

export const RiskDecisionSchema = z.object({
  type: z.literal('risk_decision'),
  id: z.string(),
  requestId: z.string(),
  strategy: z.string(),
  verdict: RiskVerdictSchema,
  /** The rule that fired (or "ok" on a clean approval). */
  rule: z.string(),
  reason: z.string(),
  /** The request as approved (sizes possibly reduced); empty on reject. */
  legs: z.array(LegSchema),
  tif: TimeInForceSchema,
  decidedAt: ms,
  /** The request's bundle (absent = the request id). */
  bundleId: z.string().optional(),
  /**
   * The deciding guardian's lease fencing token (the Redis deployment, src/execution/lease.ts): the executor refuses
   * a decision whose token is older than the newest guardian's, so a guardian paused past its lease cannot trade.
   */
  fence: z.number().int().nonnegative().optional(),
  /** HMAC of the decision under the guardian's key (src/core/signing.ts), when one is configured. */
  sig: z.string().optional(),
});
export type RiskDecision = DeepReadonly<z.infer<typeof RiskDecisionSchema>>;

export const OrderStatusSchema = z.enum([
  'new',
  'acknowledged',
  'partially_filled',
  'filled',
  'cancelled',
  'rejected',
  'expired',
]);
export type OrderStatus = z.infer<typeof OrderStatusSchema>;

export const OrderSchema = z.object({
  type: z.literal('order'),
  id: z.string(),
  requestId: z.string(),
  strategy: z.string(),
  legIndex: int.min(0),
  venue: VenueSchema,
  marketId: z.string(),
  tokenId: z.string(),
  side: SideSchema,
  limitPrice: price,
  shares: qty,
  filledShares: qty,
  tif: TimeInForceSchema,
  status: OrderStatusSchema,
  reason: z.string().optional(),
  /** The venue's id for the order, once it has one. `id` is ours (src/execution/ids.ts). */
  venueOrderId: z.string().optional(),
  createdAt: ms,
  updatedAt: ms,
});
export type Order = DeepReadonly<z.infer<typeof OrderSchema>>;

export const FillSchema = z.object({
  type: z.literal('fill'),
  id: z.string(),
  orderId: z.string(),
  requestId: z.string(),
  strategy: z.string(),
  venue: VenueSchema,
  marketId: z.string(),
  tokenId: z.string(),
  side: SideSchema,
  price,
  shares: qty,
  fee: money,
  liquidity: z.enum(['taker', 'maker']),
  /** trade: a normal fill; unwind: closing a leg-risk excess; settlement: payout at resolution */
  kind: z.enum(['trade', 'unwind', 'settlement']),
  ts: ms,
  /** The bundle the fill belongs to (absent = its request id; settlements pay every bundle holding the token). */
  bundleId: z.string().optional(),
});
export type Fill = DeepReadonly<z.infer<typeof FillSchema>>;

/** One outcome record per trade-request group. */
export const ExecutionReportSchema = z.object({
  type: z.literal('execution_report'),
  id: z.string(),
  requestId: z.string(),
  strategy: z.string(),
  status: z.enum(['filled', 'partial', 'unwound', 'rejected', 'failed']),
  fills: int.min(0),
  /** Cost of closing leg-risk excess, micro-dollars (≥ 0 is a loss). */
  legRiskCost: money,
  fees: money,
  reason: z.string().optional(),
  /**
   * Multi-leg requests with a fill: per leg (by index), how long it was exposed, ms of the injected clock — from
   * the leg's first fill to the moment it stopped being unhedged: the last fill of the other legs (the group
   * matched), or its unwind's last fill (the report's time when the unwind filled nothing). null: the leg filled
   * nothing, so it held no risk. Absent on single-leg requests and on reports written before the field existed.
   */
  legExposureMs: z.array(int.min(0).nullable()).optional(),
  ts: ms,
});
export type ExecutionReport = DeepReadonly<z.infer<typeof ExecutionReportSchema>>;

export const PositionSchema = z.object({
  type: z.literal('position'),
  venue: VenueSchema,
  marketId: z.string(),
  tokenId: z.string(),
  strategy: z.string().optional(),
  shares: qty,
  /** Total cost basis of the open shares, micro-dollars. */
  costBasis: money,
  realizedPnl: money,
  /** Mark price used for unrealized P&L (best bid: what selling would fetch). */
  mark: price,
  unrealizedPnl: money,
  ts: ms,
  /** Bundles holding shares of this position, oldest first (an arbitrage shows as one bundle over its legs). */
  bundleIds: z.array(z.string()).optional(),
});
export type Position = DeepReadonly<z.infer<typeof PositionSchema>>;

export const StrategyPerformanceSchema = z.object({
  type: z.literal('strategy_performance'),
  strategy: z.string(),
  /** Bundles traded (a request's legs together are one bundle). */
  trades: int.min(0),
  /** Bundles closed (every leg sold or settled) with a gain / a loss. */
  wins: int.min(0),
  losses: int.min(0),
  pnl: money,
  sharpe: z.number(),
  maxDrawdown: money,
  allocation: money,
  ts: ms,
  /** Bundles still open. */
  openBundles: int.min(0).optional(),
  /** Detail: closing outcomes per leg (a sale, or a settlement per market), as counted before bundles. */
  legWins: int.min(0).optional(),
  legLosses: int.min(0).optional(),
});
export type StrategyPerformance = DeepReadonly<z.infer<typeof StrategyPerformanceSchema>>;

/** Why a strategy got its allocation in a round: the inputs, the weight, and one line a person reads. */
export const AllocationExplanationSchema = z.object({
  /** P&L, all time and over the scoring window, micro-dollars. */
  pnl: money,
  windowPnl: money,
  /** Bundles traded, and closed (settled or sold) in the window. */
  bundles: int.min(0),
  windowClosed: int.min(0),
  /** Sharpe ratio of the bundles closed in the window (return on the cost of each). */
  sharpe: z.number(),
  /** Largest fall of the strategy's P&L in the window, micro-dollars. */
  drawdown: money,
  probation: z.boolean(),
  /** Evidence factor min(1, closed in window / minimum) and the score it gave. */
  evidence: z.number(),
  score: z.number(),
  /** Share of the pool the score earned (0..1; 0 on probation). */
  weight: z.number(),
  /** Target and result of this round, micro-dollars. */
  target: money,
  allocation: money,
  reason: z.string(),
});
export type AllocationExplanation = DeepReadonly<z.infer<typeof AllocationExplanationSchema>>;

export const AllocationSchema = z.object({
  type: z.literal('allocation'),
  /** strategy → capital in micro-dollars */
  allocations: z.record(z.string(), money),
  scores: z.record(z.string(), z.number()),
  ts: ms,
  /** strategy → why (absent on the probation amount given to a newly seen strategy). */
  explanations: z.record(z.string(), AllocationExplanationSchema).optional(),
});
export type Allocation = DeepReadonly<z.infer<typeof AllocationSchema>>;

export const EquitySnapshotSchema = z.object({
  type: z.literal('equity'),
  cash: money,
  positionsValue: money,
  equity: money,
  realizedPnl: money,
  unrealizedPnl: money,
  highWaterMark: money,
  ts: ms,
});
export type EquitySnapshot = DeepReadonly<z.infer<typeof EquitySnapshotSchema>>;

// ---------------------------------------------------------------- control and health

export const SystemCommandSchema = z.object({
  type: z.literal('system'),
  command: z.enum(['HALT_ALL', 'PAUSE', 'RESUME']),
  /** PAUSE/RESUME may target one agent by name; HALT_ALL always reaches every agent. */
  target: z.string().optional(),
  reason: z.string(),
  issuedBy: z.string(),
  issuedAt: ms,
  /** HMAC of the command under the control key (src/core/signing.ts), when one is configured. */
  sig: z.string().optional(),
});
export type SystemCommand = DeepReadonly<z.infer<typeof SystemCommandSchema>>;

/** An agent's answer to a system command: its state once it applied it (the kill switch waits for these). */
export const SystemAckSchema = z.object({
  type: z.literal('system_ack'),
  /** Bus id of the command answered. */
  commandId: z.string(),
  command: z.enum(['HALT_ALL', 'PAUSE', 'RESUME']),
  agent: z.string(),
  instance: z.string(),
  trading: z.boolean(),
  halted: z.boolean(),
  /** Set when the command was refused (bad signature). */
  refused: z.string().optional(),
  ts: ms,
});
export type SystemAck = DeepReadonly<z.infer<typeof SystemAckSchema>>;

export const StrategyControlSchema = z.object({
  type: z.literal('strategy_control'),
  strategy: z.string(),
  enabled: z.boolean(),
  issuedAt: ms,
});
export type StrategyControl = DeepReadonly<z.infer<typeof StrategyControlSchema>>;

export const AgentStateSchema = z.enum(['starting', 'running', 'paused', 'halted', 'stopped', 'faulted']);
export type AgentState = z.infer<typeof AgentStateSchema>;

export const HeartbeatSchema = z.object({
  type: z.literal('heartbeat'),
  agent: z.string(),
  instance: z.string(),
  state: AgentStateSchema,
  pid: int,
  host: z.string(),
  ts: ms,
  /** Feed health and counters: connected, lastMessageAgeMs, reconnects, framesRejected, processed, failed … */
  details: z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])),
});
export type Heartbeat = DeepReadonly<z.infer<typeof HeartbeatSchema>>;

export const AlertSchema = z.object({
  type: z.literal('alert'),
  level: z.enum(['info', 'warning', 'critical']),
  title: z.string(),
  body: z.string(),
  ts: ms,
});
export type Alert = DeepReadonly<z.infer<typeof AlertSchema>>;

/**
 * Reconciliation found a venue and our books disagreeing (src/execution/reconcile.ts). Values are integers in
 * the unit named: micro-shares, micro-dollars, or a count of orders.
 */
export const ReconciliationMismatchSchema = z.object({
  type: z.literal('reconciliation_mismatch'),
  id: z.string(),
  venue: VenueSchema,
  kind: z.enum(['position', 'unknown_open_order', 'missing_open_order', 'filled_mismatch', 'cash']),
  marketId: z.string().optional(),
  tokenId: z.string().optional(),
  clientOrderId: z.string().optional(),
  venueOrderId: z.string().optional(),
  unit: z.enum(['shares', 'usd', 'orders']),
  venueValue: int,
  ourValue: int,
  diff: int,
  /** True when this mismatch (with the others of its run) crossed the halt threshold. */
  halt: z.boolean(),
  ts: ms,
});
export type ReconciliationMismatch = DeepReadonly<z.infer<typeof ReconciliationMismatchSchema>>;

/** Every message that may travel on the bus. */
export const MessageSchema = z.discriminatedUnion('type', [
  MarketSchema,
  OrderBookSchema,
  OracleTickSchema,
  TradePrintSchema,
  ResolutionSchema,
  MarketLinkSchema,
  OracleLinkSchema,
  OpportunitySchema,
  TradeRequestSchema,
  RiskDecisionSchema,
  OrderSchema,
  FillSchema,
  ExecutionReportSchema,
  PositionSchema,
  StrategyPerformanceSchema,
  AllocationSchema,
  EquitySnapshotSchema,
  SystemCommandSchema,
  SystemAckSchema,
  StrategyControlSchema,
  HeartbeatSchema,
  AlertSchema,
  ReconciliationMismatchSchema,
]);
export type Message = DeepReadonly<z.infer<typeof MessageSchema>>;
export type MessageType = Message['type'];
export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;

/**
 * Interned keys: one string per instrument, so that the several Maps an update goes through (staleness, books
 * seen, marks, paper books) hash it once instead of building and hashing a fresh `venue:tokenId` each time (a
 * Polymarket token id is 77 digits). Bounded: a table that grew past KEY_CACHE_MAX entries starts afresh.
 */
const KEY_CACHE_MAX = 1 << 20;
const instrumentKeys = new Map<string, Map<string, string>>();
const oracleKeys = new Map<string, Map<string, string>>();
function interned(cache: Map<string, Map<string, string>>, ns: string, id: string, prefix: string): string {
  let m = cache.get(ns);
  if (m === undefined) {
    m = new Map();
    cache.set(ns, m);
  }
  let k = m.get(id);
  if (k === undefined) {
    k = flat(prefix, ns, ':', id);
    if (m.size >= KEY_CACHE_MAX) m.clear();
    m.set(id, k);
  }
  return k;
}

/**
 * Instrument key used for books, staleness and data stamps: `venue:tokenId`; also a market's `venue:marketId`
 * (marketKey in risk/settlement.ts, the matcher's keys): the same string for the same text, one per process.
 */
export const instrumentKey = (venue: Venue, tokenId: string): string =>
  interned(instrumentKeys, venue, tokenId, '');
/** `oracle:source:symbol`. */
export const oracleKey = (source: OracleSource, symbol: string): string =>
  interned(oracleKeys, source, symbol, 'oracle:');
