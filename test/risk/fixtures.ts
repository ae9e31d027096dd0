/** Shared builders for the risk, execution, ledger and allocator tests (hand-computable markets and books). */
import { type Agent, createIds, type Kernel, startAgents } from '../../src/core/agent.ts';
import { InProcBus } from '../../src/core/bus/inproc.ts';
import type { Channel } from '../../src/core/channels.ts';
import { SimClock } from '../../src/core/clock.ts';
import { type Config, loadConfig } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { Fill, Leg, Market, OrderBook, TradeRequest, Venue } from '../../src/core/messages.ts';
import { KALSHI_STANDARD_FEES } from '../../src/venues/kalshi/fees.ts';
import { POLYMARKET_NO_FEES } from '../../src/venues/polymarket/fees.ts';

export const config: Config = loadConfig({});
/** Loss budgets out of the way (100% limits), for tests of the other rules. */
export const wideLimits: Config = {
  ...config,
  risk: { ...config.risk, drawdownLimitBps: 10_000, dailyLossLimitBps: 10_000 },
};
export const $ = (dollars: number): number => Math.round(dollars * 1_000_000);
export const sh = (shares: number): number => Math.round(shares * 1_000_000);

export function market(venue: Venue, marketId: string, over: Partial<Market> = {}): Market {
  return {
    type: 'market',
    venue,
    marketId,
    question: `Q ${marketId}?`,
    rules: '',
    outcomes: [
      { tokenId: `${marketId}-yes`, label: 'Yes', side: 'yes' },
      { tokenId: `${marketId}-no`, label: 'No', side: 'no' },
    ],
    tickSize: 10_000,
    minSize: venue === 'kalshi' ? 1_000_000 : 5_000_000,
    fees: venue === 'kalshi' ? KALSHI_STANDARD_FEES : POLYMARKET_NO_FEES,
    endTime: null,
    status: 'open',
    version: '1',
    receiveTime: 0,
    ...over,
  };
}

export function book(
  venue: Venue,
  marketId: string,
  tokenId: string,
  bids: [number, number][],
  asks: [number, number][],
  ts = 0,
): OrderBook {
  return {
    type: 'book',
    venue,
    marketId,
    tokenId,
    bids: bids.map(([p, s]) => [$(p), sh(s)] as const),
    asks: asks.map(([p, s]) => [$(p), sh(s)] as const),
    stale: false,
    receiveTime: ts,
  };
}

export function leg(
  venue: Venue,
  marketId: string,
  side: 'buy' | 'sell',
  price: number,
  shares: number,
  token = 'yes',
): Leg {
  return { venue, marketId, tokenId: `${marketId}-${token}`, side, limitPrice: $(price), shares: sh(shares) };
}

let n = 0;
export function request(legs: Leg[], over: Partial<TradeRequest> = {}): TradeRequest {
  return {
    type: 'trade_request',
    id: `req-${++n}`,
    strategy: 's1',
    legs,
    tif: 'IOC',
    expectedEdge: $(1),
    createdAt: 0,
    data: [],
    ...over,
  };
}

export function fill(over: Partial<Fill> & Pick<Fill, 'side' | 'price' | 'shares'>): Fill {
  return {
    type: 'fill',
    id: `f-${++n}`,
    orderId: 'o',
    requestId: 'r',
    strategy: 's1',
    venue: 'polymarket',
    marketId: 'm1',
    tokenId: 'm1-yes',
    fee: 0,
    liquidity: 'taker',
    kind: 'trade',
    ts: 0,
    ...over,
  };
}

export interface Harness {
  kernel: Kernel;
  clock: SimClock;
  bus: InProcBus;
  /** Everything published on a channel, in order. */
  collect<T>(ch: Channel<T>): T[];
  publish<T>(ch: Channel<T>, body: T): Promise<void>;
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export async function harness(
  agents: Agent[],
  cfg: Config = config,
  start = 1_700_000_000_000,
): Promise<Harness> {
  const clock = new SimClock(start);
  const bus = new InProcBus({ name: 't', clock });
  const kernel: Kernel = { config: cfg, bus, clock, log: silentLogger(), ids: createIds('t'), instance: 't' };
  const collected: Harness['collect'] = (ch) => {
    const out: never[] = [];
    bus.subscribe(ch, { group: `collect-${ch.name}-${++n}` }, (m) => {
      out.push(m.body as never);
    });
    return out;
  };
  const started = await startAgents(kernel, agents, { heartbeatMs: 3_600_000 });
  return {
    kernel,
    clock,
    bus,
    collect: collected,
    async publish(ch, body) {
      bus.publish(ch, body);
      await bus.idle();
    },
    settle: () => bus.idle(),
    async stop() {
      await started.stop();
      await bus.close();
    },
  };
}
