/**
 * Decode of the per-tick bus message types as the Redis edge does it (JSON.parse of the entry, then validation):
 * the zod schema against the channel's hand-written check (src/core/fast-check.ts), CPU ns per message, median of
 * interleaved rounds. Logged only (no target): the figure that matters is pipeline.redis's CPU per tick.
 */
import type { z } from 'zod';
import { type Channel, channels } from '../src/core/channels.ts';
import { type BenchContext, median } from './harness.ts';

const leg = {
  venue: 'polymarket',
  marketId: '0xabc',
  tokenId: '1234567890123456789',
  side: 'buy',
  limitPrice: 420_000,
  shares: 5_000_000,
};
const stamp = {
  key: 'polymarket:1234567890123456789',
  eventTime: 1_764_000_000_000,
  receiveTime: 1_764_000_000_004,
};
const level = (i: number): [number, number] => [500_000 - i * 10_000, 1_000_000 + i * 37_000];

const samples: [string, Channel<unknown>, unknown][] = [
  [
    'tick',
    channels.ticks('binance'),
    {
      type: 'tick',
      source: 'binance',
      symbol: 'BTC/USDT',
      price: 6_512_345_000_000,
      bid: 6_512_340_000_000,
      ask: 6_512_350_000_000,
      stale: false,
      eventTime: 1_764_000_000_000,
      receiveTime: 1_764_000_000_003,
    },
  ],
  [
    'book (20 levels a side)',
    channels.books('polymarket'),
    {
      type: 'book',
      venue: 'polymarket',
      marketId: '0xabc',
      tokenId: '1234567890123456789',
      bids: Array.from({ length: 20 }, (_, i) => level(i)),
      asks: Array.from({ length: 20 }, (_, i) => level(-i - 1)),
      seq: 17,
      stale: false,
      eventTime: 1_764_000_000_000,
      receiveTime: 1_764_000_000_003,
    },
  ],
  [
    'opportunity',
    channels.opportunities,
    {
      type: 'opportunity',
      id: 'opp-1764000000000-17',
      kind: 'oracle_lag',
      legs: [leg],
      edge: 12_000,
      edgeBps: 57,
      cost: 2_100_000,
      fees: 3_000,
      shares: 5_000_000,
      signal: 0.62,
      detectedAt: 1_764_000_000_004,
      expiresAt: 1_764_000_002_004,
      data: [
        stamp,
        { key: 'oracle:binance:BTC/USDT', eventTime: 1_764_000_000_000, receiveTime: 1_764_000_000_003 },
      ],
      note: 'BTC above 65000',
      minShares: 5_000_000,
      lotShares: 10_000,
      pricing: {
        source: 'binance:BTC/USDT',
        feed: 'binance:BTC/USDT',
        window: 'point',
        reference: 6_500_000_000_000,
        spot: 6_512_345_000_000,
        fair: 600_000,
        basis: 0,
      },
    },
  ],
  [
    'trade_request',
    channels.tradeRequests,
    {
      type: 'trade_request',
      id: 'req-1764000000004-9',
      strategy: 'oracle-lag',
      opportunityId: 'opp-1764000000000-17',
      kind: 'oracle_lag',
      legs: [leg],
      tif: 'IOC',
      expectedEdge: 12_000,
      createdAt: 1_764_000_000_004,
      data: [stamp],
      bundleId: 'req-1764000000004-9',
    },
  ],
  [
    'risk_decision',
    channels.riskDecisions,
    {
      type: 'risk_decision',
      id: 'dec-1764000000005-9',
      requestId: 'req-1764000000004-9',
      strategy: 'oracle-lag',
      verdict: 'approve',
      rule: 'ok',
      reason: 'within limits',
      legs: [leg],
      tif: 'IOC',
      decidedAt: 1_764_000_000_005,
      bundleId: 'req-1764000000004-9',
      fence: 3,
      sig: 'f'.repeat(64),
    },
  ],
  [
    'execution_report',
    channels.executions,
    {
      type: 'execution_report',
      id: 'exr-1',
      requestId: 'req-1764000000004-9',
      strategy: 'oracle-lag',
      status: 'failed',
      fills: 0,
      legRiskCost: 0,
      fees: 0,
      reason: 'bench',
      ts: 1_764_000_000_006,
    },
  ],
];

function cpuNs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) * 1_000;
}

export async function run(ctx: BenchContext): Promise<void> {
  const n = ctx.quick ? 5_000 : 40_000;
  const rounds = ctx.quick ? 3 : 7;
  for (const [name, ch, msg] of samples) {
    const text = JSON.stringify(msg);
    const schema = ch.schema as z.ZodType;
    const check = ch.check!;
    let sink = 0;
    const time = (fn: (v: unknown) => unknown, parse: boolean): number => {
      const parsed = JSON.parse(text);
      const t0 = cpuNs();
      for (let i = 0; i < n; i++) if (fn(parse ? JSON.parse(text) : parsed) !== undefined) sink++;
      return (cpuNs() - t0) / n;
    };
    const zod = (v: unknown) => (schema.safeParse(v).success ? v : undefined);
    const runs = {
      zod: [] as number[],
      fast: [] as number[],
      zodOnly: [] as number[],
      fastOnly: [] as number[],
    };
    for (let r = 0; r < rounds; r++) {
      runs.zod.push(time(zod, true));
      runs.fast.push(time(check, true));
      runs.zodOnly.push(time(zod, false));
      runs.fastOnly.push(time(check, false));
    }
    if (sink === 0) throw new Error('nothing validated');
    const f = (x: number[]) => `${Math.round(median(x))} ns`;
    ctx.log(
      `decode ${name} (${text.length} B): JSON.parse + zod ${f(runs.zod)}, JSON.parse + check ${f(runs.fast)}; ` +
        `validation alone: zod ${f(runs.zodOnly)}, check ${f(runs.fastOnly)} (CPU per message, median of ${rounds})`,
    );
  }
}
