/**
 * Bus messages → table rows. Each table has a spec (columns with their SQL types, conflict key, and whether a
 * newer row replaces an older one); `rowsOf` maps one message to the rows it writes. Values are strings (or null)
 * so both drivers pass them identically; money goes through toDecimal, never a float.
 */
import type {
  Alert,
  Allocation,
  EquitySnapshot,
  ExecutionReport,
  Fill,
  Heartbeat,
  Market,
  MarketLink,
  Message,
  Opportunity,
  OracleLink,
  OracleTick,
  Order,
  OrderBook,
  Position,
  Resolution,
  RiskDecision,
  StrategyPerformance,
  SystemCommand,
  TradeRequest,
} from '../core/messages.ts';
import { toDecimal } from '../core/money.ts';

export type Cell = string | null;
export type Row = readonly Cell[];

export interface TableSpec {
  readonly table: string;
  /** [column, SQL type] in insert order. */
  readonly columns: readonly (readonly [string, string])[];
  readonly key: readonly string[];
  /**
   * Absent: insert once, a duplicate is ignored (events). Present: the row is the latest state; it replaces the
   * stored one when `newer` (a column of both) is not older — so a stale redelivery never moves state back.
   */
  readonly upsert?: { readonly newer: string };
}

const spec = (table: string, columns: string, key: string[], upsert?: { newer: string }): TableSpec => ({
  table,
  columns: columns
    .trim()
    .split(/\s*,\s*/)
    .map((c) => {
      const [name, type] = c.split(/\s+/) as [string, string];
      return [name, type] as const;
    }),
  key,
  ...(upsert ? { upsert } : {}),
});

export const SPECS = {
  markets: spec(
    'markets',
    `venue text, market_id text, event_id text, slug text, question text, rules text, tick_size numeric,
     min_size numeric, fees jsonb, end_time bigint, status text, winner text, neg_risk_group text, placeholder boolean,
     version text, updated_at bigint`,
    ['venue', 'market_id'],
    { newer: 'updated_at' },
  ),
  outcomeTokens: spec(
    'outcome_tokens',
    'venue text, token_id text, market_id text, label text, side text, position int',
    ['venue', 'token_id'],
  ),
  marketMatches: spec(
    'market_matches',
    `pair_key text, a_venue text, a_market text, b_venue text, b_market text, relation text, confidence float8,
     stage text, reasons jsonb, decided_at bigint`,
    ['pair_key'],
    { newer: 'decided_at' },
  ),
  oracleLinks: spec(
    'oracle_links',
    `venue text, market_id text, symbol text, asset text, kind text, strike numeric, upper numeric, expiry bigint,
     settlement_source text, yes_token text, no_token text`,
    ['venue', 'market_id'],
  ),
  opportunities: spec(
    'opportunities',
    `id text, kind text, legs jsonb, edge numeric, edge_bps int, cost numeric, fees numeric, shares numeric,
     signal float8, detected_at bigint, expires_at bigint, note text`,
    ['id'],
  ),
  tradeRequests: spec(
    'trade_requests',
    `id text, strategy text, opportunity_id text, kind text, legs jsonb, tif text, expected_edge numeric, created_at bigint,
     bundle_id text`,
    ['id'],
  ),
  riskDecisions: spec(
    'risk_decisions',
    'id text, request_id text, strategy text, verdict text, rule text, reason text, legs jsonb, tif text, decided_at bigint',
    ['id'],
  ),
  orders: spec(
    'orders',
    `id text, request_id text, strategy text, leg_index int, venue text, market_id text, token_id text, side text,
     limit_price numeric, shares numeric, filled_shares numeric, tif text, status text, reason text, created_at bigint,
     updated_at bigint`,
    ['id'],
    { newer: 'updated_at' },
  ),
  fills: spec(
    'fills',
    `id text, order_id text, request_id text, strategy text, venue text, market_id text, token_id text, side text,
     price numeric, shares numeric, fee numeric, liquidity text, kind text, ts bigint, bundle_id text`,
    ['id'],
  ),
  executionReports: spec(
    'execution_reports',
    `id text, request_id text, strategy text, status text, fills int, leg_risk_cost numeric, fees numeric, reason text,
     ts bigint, leg_exposure_ms jsonb`,
    ['id'],
  ),
  positions: spec(
    'positions',
    `venue text, market_id text, token_id text, strategy text, shares numeric, cost_basis numeric, realized_pnl numeric,
     mark numeric, unrealized_pnl numeric, ts bigint, bundle_ids jsonb`,
    ['venue', 'token_id', 'strategy'],
    { newer: 'ts' },
  ),
  equity: spec(
    'equity_snapshots',
    `id text, cash numeric, positions_value numeric, equity numeric, realized_pnl numeric, unrealized_pnl numeric,
     high_water_mark numeric, ts bigint`,
    ['id'],
  ),
  performance: spec(
    'strategy_performance',
    `id text, strategy text, trades int, wins int, losses int, pnl numeric, sharpe float8, max_drawdown numeric,
     allocation numeric, ts bigint, open_bundles int, leg_wins int, leg_losses int`,
    ['id'],
  ),
  allocations: spec(
    'allocations',
    'id text, strategy text, capital numeric, score float8, ts bigint, explanation jsonb, reason text',
    ['id', 'strategy'],
  ),
  systemEvents: spec(
    'system_events',
    'id text, command text, target text, reason text, issued_by text, issued_at bigint',
    ['id'],
  ),
  alertLog: spec('alert_log', 'id text, level text, title text, body text, ts bigint', ['id']),
  heartbeats: spec(
    'agent_heartbeats',
    'id text, agent text, instance text, state text, pid int, host text, details jsonb, ts bigint',
    ['id'],
  ),
  agentStatus: spec(
    'agent_status',
    'agent text, instance text, state text, pid int, host text, details jsonb, ts bigint',
    ['agent', 'instance'],
    { newer: 'ts' },
  ),
  bookHistory: spec(
    'book_history',
    `venue text, token_id text, ts bigint, market_id text, best_bid numeric, bid_size numeric, best_ask numeric,
     ask_size numeric, stale boolean`,
    ['venue', 'token_id', 'ts'],
  ),
  oracleHistory: spec(
    'oracle_history',
    'source text, symbol text, ts bigint, price numeric, bid numeric, ask numeric, stale boolean',
    ['source', 'symbol', 'ts'],
  ),
  resolutions: spec(
    'resolutions',
    'venue text, market_id text, winner text, event_time bigint, receive_time bigint',
    ['venue', 'market_id'],
  ),
} as const satisfies Record<string, TableSpec>;

export type SpecName = keyof typeof SPECS;

export interface RowOf {
  readonly spec: SpecName;
  readonly row: Row;
}

/** Changes to the one-row system_state table, applied in message order inside the batch's transaction. */
export type StateOp =
  | {
      readonly kind: 'halt';
      readonly halted: boolean;
      readonly reason: string;
      readonly by: string;
      readonly at: number;
    }
  | { readonly kind: 'equity'; readonly equity: number; readonly highWaterMark: number; readonly ts: number };

const m = (v: number): string => toDecimal(v);
const e8 = (v: number): string => toDecimal(v, 8);
const n = (v: number): string => String(v);
/** Text PostgreSQL can store: NUL removed (text and jsonb refuse it), lone surrogates replaced. */
export const cleanText = (v: string): string => {
  const noNul = v.includes('\u0000') ? v.split('\u0000').join('') : v;
  // String.prototype.toWellFormed: Node 20, not yet in the TypeScript lib we target
  return (noNul as unknown as { toWellFormed(): string }).toWellFormed();
};
const s = (v: string | undefined | null): Cell => (v === undefined || v === null ? null : cleanText(v));
const opt = (v: number | undefined | null, f: (x: number) => string): Cell =>
  v === undefined || v === null ? null : f(v);
const json = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) => (typeof x === 'string' ? cleanText(x) : x));
const b = (v: boolean): string => (v ? 'true' : 'false');

export function marketRows(x: Market): RowOf[] {
  const out: RowOf[] = [
    {
      spec: 'markets',
      row: [
        x.venue,
        x.marketId,
        s(x.eventId),
        s(x.slug),
        x.question,
        x.rules,
        m(x.tickSize),
        m(x.minSize),
        json(x.fees),
        opt(x.endTime, n),
        x.status,
        s(x.winner),
        s(x.negRiskGroup),
        b(x.placeholder ?? false),
        x.version,
        n(x.eventTime ?? x.receiveTime),
      ],
    },
  ];
  x.outcomes.forEach((o, i) => {
    out.push({ spec: 'outcomeTokens', row: [x.venue, o.tokenId, x.marketId, o.label, o.side, n(i)] });
  });
  return out;
}

/** Order-independent key of a market pair: "venue:market|venue:market", sorted (as the matcher's pairKey). */
export function pairKeyOf(
  a: { venue: string; marketId: string },
  b: { venue: string; marketId: string },
): string {
  const ka = `${a.venue}:${a.marketId}`;
  const kb = `${b.venue}:${b.marketId}`;
  return ka < kb ? `${ka}|${kb}` : `${kb}|${ka}`;
}

export const linkRow = (x: MarketLink): RowOf => ({
  spec: 'marketMatches',
  row: [
    pairKeyOf(x.a, x.b),
    x.a.venue,
    x.a.marketId,
    x.b.venue,
    x.b.marketId,
    x.relation,
    n(x.confidence),
    x.stage,
    json(x.reasons),
    n(x.decidedAt),
  ],
});

export const oracleLinkRow = (x: OracleLink): RowOf => ({
  spec: 'oracleLinks',
  row: [
    x.market.venue,
    x.market.marketId,
    x.symbol,
    x.asset,
    x.kind,
    opt(x.strike, e8),
    opt(x.upper, e8),
    n(x.expiry),
    x.settlementSource,
    x.yesToken,
    s(x.noToken),
  ],
});

export const opportunityRow = (x: Opportunity): RowOf => ({
  spec: 'opportunities',
  row: [
    x.id,
    x.kind,
    json(x.legs),
    m(x.edge),
    n(x.edgeBps),
    m(x.cost),
    m(x.fees),
    m(x.shares),
    n(x.signal),
    n(x.detectedAt),
    n(x.expiresAt),
    s(x.note),
  ],
});

export const tradeRequestRow = (x: TradeRequest): RowOf => ({
  spec: 'tradeRequests',
  row: [
    x.id,
    x.strategy,
    s(x.opportunityId),
    s(x.kind),
    json(x.legs),
    x.tif,
    m(x.expectedEdge),
    n(x.createdAt),
    s(x.bundleId),
  ],
});

export const decisionRow = (x: RiskDecision): RowOf => ({
  spec: 'riskDecisions',
  row: [x.id, x.requestId, x.strategy, x.verdict, x.rule, x.reason, json(x.legs), x.tif, n(x.decidedAt)],
});

export const orderRow = (x: Order): RowOf => ({
  spec: 'orders',
  row: [
    x.id,
    x.requestId,
    x.strategy,
    n(x.legIndex),
    x.venue,
    x.marketId,
    x.tokenId,
    x.side,
    m(x.limitPrice),
    m(x.shares),
    m(x.filledShares),
    x.tif,
    x.status,
    s(x.reason),
    n(x.createdAt),
    n(x.updatedAt),
  ],
});

export const fillRow = (x: Fill): RowOf => ({
  spec: 'fills',
  row: [
    x.id,
    x.orderId,
    x.requestId,
    x.strategy,
    x.venue,
    x.marketId,
    x.tokenId,
    x.side,
    m(x.price),
    m(x.shares),
    m(x.fee),
    x.liquidity,
    x.kind,
    n(x.ts),
    s(x.bundleId),
  ],
});

/** A market's resolution: the first one kept (a venue resolves a market once). */
export const resolutionRow = (x: Resolution): RowOf => ({
  spec: 'resolutions',
  row: [x.venue, x.marketId, x.winner, opt(x.eventTime, n), n(x.receiveTime)],
});

export const executionRow = (x: ExecutionReport): RowOf => ({
  spec: 'executionReports',
  row: [
    x.id,
    x.requestId,
    x.strategy,
    x.status,
    n(x.fills),
    m(x.legRiskCost),
    m(x.fees),
    s(x.reason),
    n(x.ts),
    x.legExposureMs ? json(x.legExposureMs) : null,
  ],
});

export const positionRow = (x: Position): RowOf => ({
  spec: 'positions',
  row: [
    x.venue,
    x.marketId,
    x.tokenId,
    x.strategy ?? '',
    m(x.shares),
    m(x.costBasis),
    m(x.realizedPnl),
    m(x.mark),
    m(x.unrealizedPnl),
    n(x.ts),
    x.bundleIds ? json(x.bundleIds) : null,
  ],
});

export const equityRow = (id: string, x: EquitySnapshot): RowOf => ({
  spec: 'equity',
  row: [
    id,
    m(x.cash),
    m(x.positionsValue),
    m(x.equity),
    m(x.realizedPnl),
    m(x.unrealizedPnl),
    m(x.highWaterMark),
    n(x.ts),
  ],
});

export const performanceRow = (id: string, x: StrategyPerformance): RowOf => ({
  spec: 'performance',
  row: [
    id,
    x.strategy,
    n(x.trades),
    n(x.wins),
    n(x.losses),
    m(x.pnl),
    n(x.sharpe),
    m(x.maxDrawdown),
    m(x.allocation),
    n(x.ts),
    opt(x.openBundles, n),
    opt(x.legWins, n),
    opt(x.legLosses, n),
  ],
});

export const allocationRows = (id: string, x: Allocation): RowOf[] =>
  Object.entries(x.allocations).map(([strategy, capital]) => ({
    spec: 'allocations',
    row: [
      id,
      strategy,
      m(capital),
      opt(x.scores[strategy], n),
      n(x.ts),
      x.explanations?.[strategy] ? json(x.explanations[strategy]) : null,
      s(x.explanations?.[strategy]?.reason),
    ],
  }));

export const systemRow = (id: string, x: SystemCommand): RowOf => ({
  spec: 'systemEvents',
  row: [id, x.command, s(x.target), x.reason, x.issuedBy, n(x.issuedAt)],
});

export const alertRow = (id: string, x: Alert): RowOf => ({
  spec: 'alertLog',
  row: [id, x.level, x.title, x.body, n(x.ts)],
});

export const heartbeatRows = (id: string, x: Heartbeat): RowOf[] => [
  { spec: 'heartbeats', row: [id, x.agent, x.instance, x.state, n(x.pid), x.host, json(x.details), n(x.ts)] },
  { spec: 'agentStatus', row: [x.agent, x.instance, x.state, n(x.pid), x.host, json(x.details), n(x.ts)] },
];

export const bookRow = (x: OrderBook, ts: number): RowOf => {
  const bid = x.bids[0];
  const ask = x.asks[0];
  return {
    spec: 'bookHistory',
    row: [
      x.venue,
      x.tokenId,
      n(ts),
      x.marketId,
      bid ? m(bid[0]!) : null,
      bid ? m(bid[1]!) : null,
      ask ? m(ask[0]!) : null,
      ask ? m(ask[1]!) : null,
      b(x.stale),
    ],
  };
};

export const tickRow = (x: OracleTick, ts: number): RowOf => ({
  spec: 'oracleHistory',
  row: [x.source, x.symbol, n(ts), e8(x.price), opt(x.bid, e8), opt(x.ask, e8), b(x.stale)],
});

export interface Mapped {
  readonly rows: RowOf[];
  readonly state: StateOp[];
}

/**
 * Rows (and system-state changes) for one message. `id` is the bus message id, the key of messages that carry no
 * id of their own. Books and ticks are not mapped here: they are sampled by the persister (bookRow/tickRow).
 */
export function mapMessage(id: string, msg: Message): Mapped {
  switch (msg.type) {
    case 'market':
      return { rows: marketRows(msg), state: [] };
    case 'link':
      return { rows: [linkRow(msg)], state: [] };
    case 'oracle_link':
      return { rows: [oracleLinkRow(msg)], state: [] };
    case 'opportunity':
      return { rows: [opportunityRow(msg)], state: [] };
    case 'trade_request':
      return { rows: [tradeRequestRow(msg)], state: [] };
    case 'risk_decision':
      return { rows: [decisionRow(msg)], state: [] };
    case 'order':
      return { rows: [orderRow(msg)], state: [] };
    case 'fill':
      return { rows: [fillRow(msg)], state: [] };
    case 'resolution':
      return { rows: [resolutionRow(msg)], state: [] };
    case 'execution_report':
      return { rows: [executionRow(msg)], state: [] };
    case 'position':
      return { rows: [positionRow(msg)], state: [] };
    case 'equity':
      return {
        rows: [equityRow(id, msg)],
        state: [{ kind: 'equity', equity: msg.equity, highWaterMark: msg.highWaterMark, ts: msg.ts }],
      };
    case 'strategy_performance':
      return { rows: [performanceRow(id, msg)], state: [] };
    case 'allocation':
      return { rows: allocationRows(id, msg), state: [] };
    case 'system': {
      const state: StateOp[] = [];
      if (msg.command === 'HALT_ALL') {
        state.push({ kind: 'halt', halted: true, reason: msg.reason, by: msg.issuedBy, at: msg.issuedAt });
      } else if (msg.command === 'RESUME' && msg.target === undefined) {
        state.push({ kind: 'halt', halted: false, reason: msg.reason, by: msg.issuedBy, at: msg.issuedAt });
      }
      return { rows: [systemRow(id, msg)], state };
    }
    case 'alert':
      return { rows: [alertRow(id, msg)], state: [] };
    case 'heartbeat':
      return { rows: heartbeatRows(id, msg), state: [] };
    default:
      return { rows: [], state: [] };
  }
}
