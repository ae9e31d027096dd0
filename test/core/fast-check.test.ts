/**
 * The hand-written validators of src/core/fast-check.ts against their zod schemas (the source of truth): on
 * complete and minimal valid messages, and on random mutations of them (a field deleted, replaced by a value from
 * a pool of near-misses and valid values, an unknown key added, anywhere in the tree), both accept or both refuse,
 * and an accepted message comes out equal (same values, -0 included, same keys in the same order).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { channels } from '../../src/core/channels.ts';
import {
  checkExecutionReport,
  checkOpportunity,
  checkOracleTick,
  checkOrderBook,
  checkRiskDecision,
  checkTradeRequest,
} from '../../src/core/fast-check.ts';
import {
  ExecutionReportSchema,
  OpportunitySchema,
  OracleTickSchema,
  OrderBookSchema,
  RiskDecisionSchema,
  TradeRequestSchema,
} from '../../src/core/messages.ts';

const leg = {
  venue: 'polymarket',
  marketId: 'm1',
  tokenId: 't1',
  side: 'buy',
  limitPrice: 420_000,
  shares: 5_000_000,
};
const stamp = { key: 'polymarket:t1', eventTime: 1_000, receiveTime: 1_001 };

interface Case {
  name: string;
  schema: z.ZodType;
  check: (v: unknown) => unknown;
  seeds: unknown[];
}

const cases: Case[] = [
  {
    name: 'tick',
    schema: OracleTickSchema,
    check: checkOracleTick,
    seeds: [
      {
        type: 'tick',
        source: 'binance',
        symbol: 'BTC/USDT',
        price: 6_500_000_000_000,
        bid: 6_499_000_000_000,
        ask: 6_501_000_000_000,
        stale: false,
        eventTime: 5,
        receiveTime: 6,
      },
      { type: 'tick', source: 'sim', symbol: 'ETH/USD', price: 0, stale: true, receiveTime: 0 },
    ],
  },
  {
    name: 'book',
    schema: OrderBookSchema,
    check: checkOrderBook,
    seeds: [
      {
        type: 'book',
        venue: 'kalshi',
        marketId: 'K-1',
        tokenId: 'K-1:yes',
        bids: [
          [410_000, 1_000_000],
          [400_000, 2_000_000],
        ],
        asks: [[430_000, 3_000_000]],
        seq: 7,
        stale: false,
        eventTime: 9,
        receiveTime: 10,
        slot: 3,
      },
      {
        type: 'book',
        venue: 'polymarket',
        marketId: '',
        tokenId: '',
        bids: [],
        asks: [],
        stale: true,
        receiveTime: 1,
      },
    ],
  },
  {
    name: 'opportunity',
    schema: OpportunitySchema,
    check: checkOpportunity,
    seeds: [
      {
        type: 'opportunity',
        id: 'o1',
        kind: 'oracle_lag',
        legs: [leg, { ...leg, venue: 'kalshi', side: 'sell' }],
        edge: 12_000,
        edgeBps: -40,
        cost: 2_100_000,
        fees: 3_000,
        shares: 5_000_000,
        signal: 0.5,
        detectedAt: 100,
        expiresAt: 200,
        data: [stamp, { key: 'oracle:binance:BTC/USDT', receiveTime: 3 }],
        note: 'lag',
        minShares: 1_000_000,
        lotShares: 10_000,
        pricing: {
          source: 'chainlink',
          feed: 'chainlink',
          window: 'point',
          reference: 6_400_000_000_000,
          spot: 6_500_000_000_000,
          fair: 600_000,
          basis: 0,
        },
      },
      {
        type: 'opportunity',
        id: '',
        kind: 'rebalancing',
        legs: [leg],
        edge: 0,
        edgeBps: 0,
        cost: 0,
        fees: 0,
        shares: 0,
        signal: 1,
        detectedAt: 0,
        expiresAt: 0,
        data: [],
      },
    ],
  },
  {
    name: 'trade_request',
    schema: TradeRequestSchema,
    check: checkTradeRequest,
    seeds: [
      {
        type: 'trade_request',
        id: 'r1',
        strategy: 'oracle-lag',
        opportunityId: 'o1',
        kind: 'cross_venue',
        legs: [leg, { ...leg, side: 'sell', limitPrice: 1_000_000 }],
        tif: 'FOK',
        expectedEdge: -5,
        createdAt: 100,
        data: [stamp],
        bundleId: 'b1',
      },
      {
        type: 'trade_request',
        id: 'r2',
        strategy: 's',
        legs: [leg],
        tif: 'IOC',
        expectedEdge: 0,
        createdAt: 0,
        data: [],
      },
    ],
  },
  {
    name: 'risk_decision',
    schema: RiskDecisionSchema,
    check: checkRiskDecision,
    seeds: [
      {
        type: 'risk_decision',
        id: 'd1',
        requestId: 'r1',
        strategy: 'oracle-lag',
        verdict: 'reduce',
        rule: 'max_position',
        reason: 'too big',
        legs: [leg],
        tif: 'GTC',
        decidedAt: 100,
        bundleId: 'b1',
        fence: 3,
        sig: 'abc',
      },
      {
        type: 'risk_decision',
        id: 'd2',
        requestId: 'r2',
        strategy: 's',
        verdict: 'reject',
        rule: 'stale',
        reason: '',
        legs: [],
        tif: 'IOC',
        decidedAt: 0,
      },
    ],
  },
  {
    name: 'execution_report',
    schema: ExecutionReportSchema,
    check: checkExecutionReport,
    seeds: [
      {
        type: 'execution_report',
        id: 'e1',
        requestId: 'r1',
        strategy: 'oracle-lag',
        status: 'partial',
        fills: 2,
        legRiskCost: 1_500,
        fees: -20,
        reason: 'leg 2 missed',
        legExposureMs: [12, null],
        ts: 100,
      },
      {
        type: 'execution_report',
        id: 'e2',
        requestId: 'r2',
        strategy: 's',
        status: 'failed',
        fills: 0,
        legRiskCost: 0,
        fees: 0,
        ts: 0,
      },
    ],
  },
];

/** Values a mutation puts in a field: near misses of every rule in these schemas, and valid values of each kind. */
const specials: unknown[] = [
  undefined,
  null,
  true,
  false,
  0,
  -0,
  1,
  -1,
  0.5,
  1.5,
  1_000_000,
  1_000_001,
  2 ** 53 - 1,
  2 ** 53,
  -(2 ** 53 - 1),
  -(2 ** 53),
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  '',
  'x',
  '1',
  [],
  {},
  [1],
  [1, 2],
  [1, 2, 3],
  [410_000, 1_000_000],
  [[1, 2]],
  [null],
  ...['polymarket', 'kalshi', 'buy', 'sell', 'IOC', 'FOK', 'GTC', 'approve', 'reduce', 'reject'],
  ...['binance', 'chainlink', 'sim', 'oracle_lag', 'cross_venue', 'rebalancing', 'combinatorial'],
  ...['filled', 'partial', 'unwound', 'rejected', 'failed', 'tick', 'book', 'opportunity', 'trade_request'],
  ...['risk_decision', 'execution_report'],
];
const pool = fc.oneof(
  fc.constantFrom<unknown>(...specials),
  fc.integer({ min: -2_000_000, max: 2_000_000 }),
  fc.double(),
  fc.string({ maxLength: 4 }),
);

type Mutation = { at: number; op: 'delete' | 'set' | 'extra'; value: unknown };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom<Mutation['op']>('delete', 'set', 'set', 'extra'),
  value: pool,
});

/** Every container in the tree (objects and arrays), root first. */
function containers(
  v: unknown,
  out: (Record<string, unknown> | unknown[])[] = [],
): (Record<string, unknown> | unknown[])[] {
  if (typeof v === 'object' && v !== null) {
    out.push(v as Record<string, unknown> | unknown[]);
    for (const x of Object.values(v)) containers(x, out);
  }
  return out;
}

function mutate(seed: unknown, ms: Mutation[]): unknown {
  const root = structuredClone(seed);
  for (const m of ms) {
    const all = containers(root);
    const c = all[m.at % all.length]!;
    if (Array.isArray(c)) {
      const i = c.length === 0 ? 0 : (m.at >> 3) % c.length;
      if (m.op === 'delete') c.splice(i, 1);
      else if (m.op === 'extra') c.push(m.value);
      else c[i] = m.value;
    } else {
      const keys = Object.keys(c);
      if (m.op === 'extra' || keys.length === 0) c[`k${m.at % 5}`] = m.value;
      else if (m.op === 'delete') delete c[keys[(m.at >> 3) % keys.length]!];
      else c[keys[(m.at >> 3) % keys.length]!] = m.value;
    }
  }
  return root;
}

function agree(c: Case, input: unknown): boolean {
  const z = c.schema.safeParse(input);
  const fast = c.check(input);
  expect(fast !== undefined).toBe(z.success);
  if (z.success) {
    expect(fast).toStrictEqual(z.data);
    expect(Object.keys(fast as object)).toEqual(Object.keys(z.data as object));
    expect(JSON.stringify(fast)).toBe(JSON.stringify(z.data));
    expect(fast).not.toBe(input);
  }
  return z.success;
}

describe('fast-check validators agree with the zod schemas', () => {
  for (const c of cases) {
    it(`${c.name}: the seeds are valid and come out as zod returns them`, () => {
      for (const s of c.seeds) expect(agree(c, s)).toBe(true);
      // the JSON form (what the Redis decoder sees)
      for (const s of c.seeds) expect(agree(c, JSON.parse(JSON.stringify(s)))).toBe(true);
    });

    it(`${c.name}: random mutations are accepted and refused alike`, () => {
      let accepted = 0;
      let refused = 0;
      fc.assert(
        fc.property(
          fc.nat({ max: c.seeds.length - 1 }),
          fc.array(mutation, { minLength: 1, maxLength: 3 }),
          (s, ms) => {
            const input = mutate(c.seeds[s], ms);
            if (agree(c, input)) accepted++;
            else refused++;
            // and after a JSON round trip (undefined keys dropped, -0 → 0, NaN → null)
            const json = JSON.stringify(input);
            if (json !== undefined) agree(c, JSON.parse(json));
          },
        ),
        { numRuns: 3_000, seed: 19 },
      );
      // both sides were exercised
      expect(accepted).toBeGreaterThan(100);
      expect(refused).toBeGreaterThan(100);
    });

    it(`${c.name}: every field, one at a time, set to every special value or deleted`, () => {
      let refused = 0;
      for (const seed of c.seeds) {
        const n = containers(seed).length;
        for (let at = 0; at < n; at++) {
          for (const key of Object.keys(containers(seed)[at]!)) {
            for (const value of [...specials, 'delete']) {
              const input = structuredClone(seed);
              const target = containers(input)[at] as Record<string, unknown>;
              if (value !== 'delete') target[key] = value;
              else if (Array.isArray(target)) target.splice(Number(key), 1);
              else delete target[key];
              if (!agree(c, input)) refused++;
            }
          }
        }
      }
      expect(refused).toBeGreaterThan(100);
    });

    it(`${c.name}: non-objects are refused`, () => {
      for (const v of [null, undefined, 1, 'x', [], [c.seeds[0]], true]) expect(agree(c, v)).toBe(false);
    });
  }

  it('the channels of these types carry the checks', () => {
    expect(channels.ticks('binance').check).toBe(checkOracleTick);
    expect(channels.books('kalshi').check).toBe(checkOrderBook);
    expect(channels.opportunities.check).toBe(checkOpportunity);
    expect(channels.tradeRequests.check).toBe(checkTradeRequest);
    expect(channels.riskDecisions.check).toBe(checkRiskDecision);
    expect(channels.executions.check).toBe(checkExecutionReport);
  });
});
