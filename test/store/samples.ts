/** Message builders for the store tests: valid domain messages with overridable fields. */
import type {
  Allocation,
  EquitySnapshot,
  Fill,
  Heartbeat,
  Market,
  Opportunity,
  Order,
  Position,
  RiskDecision,
  StrategyPerformance,
  SystemCommand,
  TradeRequest,
} from '../../src/core/messages.ts';

export const fill = (i: number, o: Partial<Fill> = {}): Fill => ({
  type: 'fill',
  id: `fill-${i}`,
  orderId: `order-${i}`,
  requestId: `req-${i}`,
  strategy: i % 2 ? 'sniper' : 'cross',
  venue: i % 3 ? 'polymarket' : 'kalshi',
  marketId: `m-${i % 7}`,
  tokenId: `t-${i % 7}`,
  side: i % 4 ? 'buy' : 'sell',
  price: 1 + ((i * 7919) % 999_998),
  shares: 1_000_000 + i * 13,
  fee: -(i % 5) * 1_234 + 17,
  liquidity: 'taker',
  kind: 'trade',
  ts: 1_700_000_000_000 + Math.floor(i / 3),
  ...o,
});

export const opportunity = (i: number, o: Partial<Opportunity> = {}): Opportunity => ({
  type: 'opportunity',
  id: `opp-${i}`,
  kind: 'cross_venue',
  legs: [
    {
      venue: 'polymarket',
      marketId: 'm-1',
      tokenId: 't-1',
      side: 'buy',
      limitPrice: 451_200,
      shares: 10_000_000,
    },
    {
      venue: 'kalshi',
      marketId: 'K-1',
      tokenId: 'K-1:no',
      side: 'buy',
      limitPrice: 520_000,
      shares: 10_000_000,
    },
  ],
  edge: 123_457 + i,
  edgeBps: 25,
  cost: 9_712_000,
  fees: 10_001,
  shares: 10_000_000,
  signal: 0.75,
  detectedAt: 1_700_000_000_000 + i,
  expiresAt: 1_700_000_005_000 + i,
  data: [{ key: 'polymarket:t-1', receiveTime: 1_700_000_000_000 }],
  note: 'identical',
  ...o,
});

export const market = (i: number, o: Partial<Market> = {}): Market => ({
  type: 'market',
  venue: 'polymarket',
  marketId: `0xcond${i}`,
  eventId: `ev-${i}`,
  question: `Will thing ${i} happen?`,
  rules: 'Resolves YES if it happens.',
  outcomes: [
    { tokenId: `${i}1234567890123456789012345`, label: 'Yes', side: 'yes' },
    { tokenId: `${i}9876543210987654321098765`, label: 'No', side: 'no' },
  ],
  tickSize: 10_000,
  minSize: 5_000_000,
  fees: { kind: 'polymarket', rate: 70_000, exponent: 1, takerOnly: true, rebateRate: 0 },
  endTime: 1_800_000_000_000,
  status: 'open',
  version: 'v1',
  receiveTime: 1_700_000_000_000,
  ...o,
});

export const request = (i: number, o: Partial<TradeRequest> = {}): TradeRequest => ({
  type: 'trade_request',
  id: `req-${i}`,
  strategy: 'cross',
  opportunityId: `opp-${i}`,
  kind: 'cross_venue',
  legs: opportunity(i).legs,
  tif: 'FOK',
  expectedEdge: 100_000,
  createdAt: 1_700_000_000_000 + i,
  data: [{ key: 'polymarket:t-1', receiveTime: 1_700_000_000_000 }],
  ...o,
});

export const decision = (i: number, o: Partial<RiskDecision> = {}): RiskDecision => ({
  type: 'risk_decision',
  id: `dec-${i}`,
  requestId: `req-${i}`,
  strategy: 'cross',
  verdict: i % 3 === 0 ? 'reject' : 'approve',
  rule: i % 3 === 0 ? 'daily_loss' : 'ok',
  reason: 'because',
  legs: [],
  tif: 'FOK',
  decidedAt: 1_700_000_000_000 + i,
  ...o,
});

export const order = (i: number, o: Partial<Order> = {}): Order => ({
  type: 'order',
  id: `order-${i}`,
  requestId: `req-${i}`,
  strategy: 'cross',
  legIndex: 0,
  venue: 'polymarket',
  marketId: 'm-1',
  tokenId: 't-1',
  side: 'buy',
  limitPrice: 451_200,
  shares: 10_000_000,
  filledShares: 0,
  tif: 'GTC',
  status: 'new',
  createdAt: 1_700_000_000_000 + i,
  updatedAt: 1_700_000_000_000 + i,
  ...o,
});

export const position = (o: Partial<Position> = {}): Position => ({
  type: 'position',
  venue: 'polymarket',
  marketId: 'm-1',
  tokenId: 't-1',
  strategy: 'cross',
  shares: 10_000_000,
  costBasis: 4_512_000,
  realizedPnl: -1_234_567,
  mark: 450_000,
  unrealizedPnl: -12_000,
  ts: 1_700_000_000_000,
  ...o,
});

export const equity = (ts: number, eq: number, hwm: number): EquitySnapshot => ({
  type: 'equity',
  cash: eq - 1_000_000,
  positionsValue: 1_000_000,
  equity: eq,
  realizedPnl: eq - 500_000_000,
  unrealizedPnl: 0,
  highWaterMark: hwm,
  ts,
});

export const performance = (strategy: string, pnl: number, ts: number): StrategyPerformance => ({
  type: 'strategy_performance',
  strategy,
  trades: 10,
  wins: 6,
  losses: 4,
  pnl,
  sharpe: 1.5,
  maxDrawdown: 2_000_000,
  allocation: 100_000_000,
  ts,
});

export const allocation = (ts: number, a: Record<string, number>): Allocation => ({
  type: 'allocation',
  allocations: a,
  scores: Object.fromEntries(Object.keys(a).map((k, i) => [k, 0.5 + i / 10])),
  ts,
});

export const halt = (at: number, reason = 'drawdown limit hit'): SystemCommand => ({
  type: 'system',
  command: 'HALT_ALL',
  reason,
  issuedBy: 'risk',
  issuedAt: at,
});

export const resume = (at: number): SystemCommand => ({
  type: 'system',
  command: 'RESUME',
  reason: 'operator',
  issuedBy: 'cli',
  issuedAt: at,
});

export const heartbeat = (agent: string, ts: number): Heartbeat => ({
  type: 'heartbeat',
  agent,
  instance: 'i-1',
  state: 'running',
  pid: 42,
  host: 'h',
  ts,
  details: { processed: 3, lastError: null },
});
