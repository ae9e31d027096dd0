/**
 * The switchboard: every channel name in the system is built here, typed with the schema of what travels on it.
 * No other module writes a channel name as a string.
 */
import { z } from 'zod';
import {
  checkExecutionReport,
  checkOpportunity,
  checkOracleTick,
  checkOrderBook,
  checkRiskDecision,
  checkTradeRequest,
} from './fast-check.ts';
import {
  AlertSchema,
  AllocationSchema,
  EquitySnapshotSchema,
  ExecutionReportSchema,
  FillSchema,
  HeartbeatSchema,
  MarketLinkSchema,
  MarketSchema,
  type Message,
  OpportunitySchema,
  OracleLinkSchema,
  type OracleSource,
  OracleTickSchema,
  OrderBookSchema,
  OrderSchema,
  PositionSchema,
  ReconciliationMismatchSchema,
  ResolutionSchema,
  RiskDecisionSchema,
  StrategyControlSchema,
  StrategyPerformanceSchema,
  SystemAckSchema,
  SystemCommandSchema,
  TradePrintSchema,
  TradeRequestSchema,
  type Venue,
} from './messages.ts';

export interface Channel<T> {
  readonly name: string;
  /** Validates a message entering from outside the process (Redis). */
  readonly schema: z.ZodType<T>;
  /**
   * The same validation as `schema`, hand-written for a message type that flows on every tick (fast-check.ts):
   * the message as zod would return it, or undefined where zod would refuse it (then zod is asked for the error).
   */
  readonly check?: (input: unknown) => T | undefined;
  /**
   * Facts published once and needed by whoever starts later (market listings, links, resolutions): a consumer
   * group created after they were published reads the retained history first, so an agent started as its own
   * process after the venue watchers (`pm-arb agent …`) still knows every market. An existing group resumes
   * where it was, as on any channel.
   */
  readonly facts?: true;
}

/** What lands on a dead-letter channel: the original message (or raw text) and why it could not be handled. */
export const DeadLetterSchema = z.object({
  type: z.literal('dead_letter'),
  channel: z.string(),
  group: z.string(),
  messageId: z.string(),
  attempts: z.number().int(),
  error: z.string(),
  /** The message as it was published, or the raw text when it failed validation. */
  body: z.unknown(),
  ts: z.number().int(),
});
export type DeadLetter = Readonly<z.infer<typeof DeadLetterSchema>>;

const PREFIX = 'pmarb';

function channel<T>(
  name: string,
  schema: z.ZodType<T>,
  facts = false,
  check?: (input: unknown) => T | undefined,
): Channel<T> {
  return Object.freeze({
    name: `${PREFIX}.${name}`,
    schema,
    ...(facts ? { facts: true as const } : {}),
    ...(check ? { check } : {}),
  });
}

// biome-ignore lint/suspicious/noExplicitAny: schemas are covariant in their output; the cast keeps readonly types
const typed = <T extends Message>(schema: z.ZodType<any>): z.ZodType<T> => schema as z.ZodType<T>;

type M<T extends Message['type']> = Extract<Message, { type: T }>;

const cache = new Map<string, Channel<unknown>>();
function memo<T>(name: string, make: () => Channel<T>): Channel<T> {
  let c = cache.get(name);
  if (!c) {
    c = make() as Channel<unknown>;
    cache.set(name, c);
  }
  return c as Channel<T>;
}

export const channels = {
  /** Normalized markets, per venue. */
  markets: (venue: Venue) =>
    memo(`markets.${venue}`, () => channel(`markets.${venue}`, typed<M<'market'>>(MarketSchema), true)),
  /** Order-book snapshots after each update, per venue. */
  books: (venue: Venue) =>
    memo(`books.${venue}`, () =>
      channel(`books.${venue}`, typed<M<'book'>>(OrderBookSchema), false, checkOrderBook),
    ),
  trades: (venue: Venue) =>
    memo(`trades.${venue}`, () => channel(`trades.${venue}`, typed<M<'trade'>>(TradePrintSchema))),
  resolutions: memo('resolutions', () =>
    channel('resolutions', typed<M<'resolution'>>(ResolutionSchema), true),
  ),
  /** Oracle ticks, per source. */
  ticks: (source: OracleSource) =>
    memo(`ticks.${source}`, () =>
      channel(`ticks.${source}`, typed<M<'tick'>>(OracleTickSchema), false, checkOracleTick),
    ),
  links: memo('links', () => channel('links', typed<M<'link'>>(MarketLinkSchema), true)),
  oracleLinks: memo('oracle_links', () =>
    channel('oracle_links', typed<M<'oracle_link'>>(OracleLinkSchema), true),
  ),
  opportunities: memo('opportunities', () =>
    channel('opportunities', typed<M<'opportunity'>>(OpportunitySchema), false, checkOpportunity),
  ),
  tradeRequests: memo('trade_requests', () =>
    channel('trade_requests', typed<M<'trade_request'>>(TradeRequestSchema), false, checkTradeRequest),
  ),
  riskDecisions: memo('risk_decisions', () =>
    channel('risk_decisions', typed<M<'risk_decision'>>(RiskDecisionSchema), false, checkRiskDecision),
  ),
  orders: memo('orders', () => channel('orders', typed<M<'order'>>(OrderSchema))),
  fills: memo('fills', () => channel('fills', typed<M<'fill'>>(FillSchema))),
  executions: memo('executions', () =>
    channel('executions', typed<M<'execution_report'>>(ExecutionReportSchema), false, checkExecutionReport),
  ),
  positions: memo('positions', () => channel('positions', typed<M<'position'>>(PositionSchema))),
  equity: memo('equity', () => channel('equity', typed<M<'equity'>>(EquitySnapshotSchema))),
  performance: memo('performance', () =>
    channel('performance', typed<M<'strategy_performance'>>(StrategyPerformanceSchema)),
  ),
  allocations: memo('allocations', () => channel('allocations', typed<M<'allocation'>>(AllocationSchema))),
  /** HALT_ALL / PAUSE / RESUME: every agent subscribes in a group of its own, so each gets every command. */
  system: memo('system', () => channel('system', typed<M<'system'>>(SystemCommandSchema))),
  /** Each agent's answer to a system command (what `pm-arb halt` waits for). */
  systemAck: memo('system_ack', () => channel('system_ack', typed<M<'system_ack'>>(SystemAckSchema))),
  strategyControl: memo('strategy_control', () =>
    channel('strategy_control', typed<M<'strategy_control'>>(StrategyControlSchema)),
  ),
  health: memo('health', () => channel('health', typed<M<'heartbeat'>>(HeartbeatSchema))),
  alerts: memo('alerts', () => channel('alerts', typed<M<'alert'>>(AlertSchema))),
  /** Venue account vs our books (live execution's reconciliation). */
  reconciliation: memo('reconciliation', () =>
    channel('reconciliation', typed<M<'reconciliation_mismatch'>>(ReconciliationMismatchSchema)),
  ),
  /** Poison messages of `of`, with the error. */
  deadLetter: (of: Channel<unknown> | string) => {
    const base = typeof of === 'string' ? of : of.name;
    const short = base.startsWith(`${PREFIX}.`) ? base.slice(PREFIX.length + 1) : base;
    return memo(`dlq.${short}`, () => channel(`dlq.${short}`, DeadLetterSchema as z.ZodType<DeadLetter>));
  },
  /** For tests and benchmarks: a channel of any schema under a name of the caller's choosing. */
  custom: <T>(name: string, schema: z.ZodType<T>) => memo(`x.${name}`, () => channel(`x.${name}`, schema)),
} as const;

export const isDeadLetterChannel = (name: string): boolean => name.startsWith(`${PREFIX}.dlq.`);
