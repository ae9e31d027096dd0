/**
 * A deterministic paper-trading run for the kill-and-restart test: step i makes one fill (its size, side and
 * price a pure function of i and the state so far), the positions and equity that follow, an allocation every
 * 100 fills, and a HALT_ALL at `haltAt`, after which nothing trades. A small independent ledger (average cost,
 * integer micro-units) keeps cash, positions and P&L, so the test can compare the store against a run that was
 * never interrupted.
 */
import type { Allocation, EquitySnapshot, Fill, Position, SystemCommand } from '../../src/core/messages.ts';
import { mulDiv, notional } from '../../src/core/money.ts';

export const BANKROLL = 500_000_000;
/** 2026-11-25 22:00 UTC: the run crosses midnight, so the daily-loss window restarts during it. */
export const T0 = Date.UTC(2026, 10, 25, 22, 0, 0);
export const STEP_MS = 15_000;
export const HALT_REASON = 'drawdown limit: equity fell 20% below the high-water mark';

const STRATEGIES = ['sniper', 'cross', 'rebalance'] as const;
const TOKENS = 5;

export interface Pos {
  strategy: string;
  tokenId: string;
  shares: number;
  cost: number;
  realized: number;
}

export interface SimState {
  /** next step */
  i: number;
  cash: number;
  positions: Map<string, Pos>;
  marks: Map<string, number>;
  highWaterMark: number;
  halted: boolean;
  haltReason: string | null;
  allocation: Record<string, number> | null;
  lastTs: number;
}

export const newState = (): SimState => ({
  i: 0,
  cash: BANKROLL,
  positions: new Map(),
  marks: new Map(),
  highWaterMark: BANKROLL,
  halted: false,
  haltReason: null,
  allocation: null,
  lastTs: T0,
});

const hash = (n: number): number => {
  let x = (n + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
};

const key = (strategy: string, tokenId: string): string => `${strategy}|${tokenId}`;

/** Applies a fill to the ledger (average cost; sells realize against it). */
export function applyFill(s: SimState, f: Fill): void {
  const k = key(f.strategy, f.tokenId);
  let p = s.positions.get(k);
  if (!p) {
    p = { strategy: f.strategy, tokenId: f.tokenId, shares: 0, cost: 0, realized: 0 };
    s.positions.set(k, p);
  }
  const value = notional(f.price, f.shares, 'round');
  if (f.side === 'buy') {
    s.cash -= value + f.fee;
    p.shares += f.shares;
    p.cost += value;
    p.realized -= f.fee;
  } else {
    const basis = mulDiv(p.cost, f.shares, p.shares, 'round');
    s.cash += value - f.fee;
    p.realized += value - basis - f.fee;
    p.shares -= f.shares;
    p.cost -= basis;
  }
  s.marks.set(f.tokenId, f.price);
  s.lastTs = f.ts;
  s.i++;
}

export function equityOf(s: SimState): number {
  let v = s.cash;
  for (const p of s.positions.values()) v += notional(s.marks.get(p.tokenId) ?? 0, p.shares, 'round');
  return v;
}

export function positionMsg(s: SimState, p: Pos): Position {
  const mark = s.marks.get(p.tokenId) ?? 0;
  return {
    type: 'position',
    venue: 'polymarket',
    marketId: `m-${p.tokenId}`,
    tokenId: p.tokenId,
    strategy: p.strategy,
    shares: p.shares,
    costBasis: p.cost,
    realizedPnl: p.realized,
    mark,
    unrealizedPnl: notional(mark, p.shares, 'round') - p.cost,
    ts: s.lastTs,
  };
}

export function equityMsg(s: SimState): EquitySnapshot {
  const equity = equityOf(s);
  s.highWaterMark = Math.max(s.highWaterMark, equity);
  let realized = 0;
  for (const p of s.positions.values()) realized += p.realized;
  return {
    type: 'equity',
    cash: s.cash,
    positionsValue: equity - s.cash,
    equity,
    realizedPnl: realized,
    unrealizedPnl: equity - BANKROLL - realized,
    highWaterMark: s.highWaterMark,
    ts: s.lastTs,
  };
}

/** Capital by strategy: a fixed split tilted by realized P&L so far. */
export function allocationMsg(s: SimState): Allocation {
  const pnl: Record<string, number> = {};
  for (const st of STRATEGIES) pnl[st] = 0;
  for (const p of s.positions.values()) pnl[p.strategy] = (pnl[p.strategy] ?? 0) + p.realized;
  const allocations: Record<string, number> = {};
  const scores: Record<string, number> = {};
  for (const st of STRATEGIES) {
    allocations[st] = Math.max(0, Math.floor(BANKROLL / 3) + (pnl[st] ?? 0));
    scores[st] = (pnl[st] ?? 0) / 1_000_000;
  }
  s.allocation = allocations;
  return { type: 'allocation', allocations, scores, ts: s.lastTs };
}

/** The fill of step i given the state (prices drift down after `haltAt * 0.6`, so equity falls late in the run). */
export function nextFill(s: SimState, haltAt: number): Fill {
  const i = s.i;
  const h = hash(i);
  const strategy = STRATEGIES[h % 3]!;
  const tokenId = `tok-${(h >>> 3) % TOKENS}`;
  const base = 400_000 + ((h >>> 8) % 200_000);
  const drift = i > haltAt * 0.6 ? Math.floor(((i - haltAt * 0.6) * 250_000) / (haltAt * 0.4)) : 0;
  const price = Math.max(10_000, Math.min(990_000, base - drift));
  const held = s.positions.get(key(strategy, tokenId))?.shares ?? 0;
  const sell = held > 0 && (h >>> 20) % 3 === 0;
  const shares = sell ? Math.max(1, Math.floor(held / 2)) : 1_000_000 * (1 + ((h >>> 12) % 40)) + (h % 1_000);
  return {
    type: 'fill',
    id: `fill-${i}`,
    orderId: `order-${i}`,
    requestId: `req-${i}`,
    strategy,
    venue: 'polymarket',
    marketId: `m-${tokenId}`,
    tokenId,
    side: sell ? 'sell' : 'buy',
    price,
    shares,
    fee: mulDiv(notional(price, shares), 20, 10_000, 'ceil'),
    liquidity: 'taker',
    kind: 'trade',
    ts: T0 + i * STEP_MS,
  };
}

export type Out =
  | { id: string; channel: 'fills'; body: Fill }
  | { id: string; channel: 'positions'; body: Position }
  | { id: string; channel: 'equity'; body: EquitySnapshot }
  | { id: string; channel: 'allocations'; body: Allocation }
  | { id: string; channel: 'system'; body: SystemCommand };

/** One step: the messages to publish, with deterministic message ids. Returns [] once halted. */
export function step(s: SimState, haltAt: number): Out[] {
  if (s.halted) return [];
  if (s.i >= haltAt) {
    s.halted = true;
    s.haltReason = HALT_REASON;
    return [
      {
        id: `halt-${s.i}`,
        channel: 'system',
        body: {
          type: 'system',
          command: 'HALT_ALL',
          reason: HALT_REASON,
          issuedBy: 'risk',
          issuedAt: s.lastTs + 1,
        },
      },
    ];
  }
  const f = nextFill(s, haltAt);
  applyFill(s, f);
  const p = s.positions.get(key(f.strategy, f.tokenId))!;
  const out: Out[] = [
    { id: `m-${f.id}`, channel: 'fills', body: f },
    { id: `pos-${f.id}`, channel: 'positions', body: positionMsg(s, p) },
    { id: `eq-${f.id}`, channel: 'equity', body: equityMsg(s) },
  ];
  if (s.i % 100 === 0) out.push({ id: `alloc-${s.i}`, channel: 'allocations', body: allocationMsg(s) });
  return out;
}

/** What the test compares: everything the risk guardian, ledger and allocator resume from. */
export interface Summary {
  fills: number;
  cash: number;
  equity: number;
  realizedPnl: number;
  positions: { strategy: string; tokenId: string; shares: number; cost: number; realized: number }[];
  highWaterMark: number;
  halted: boolean;
  haltReason: string | null;
  allocation: Record<string, number> | null;
}

export function summary(s: SimState): Summary {
  const positions = [...s.positions.values()]
    .map((p) => ({ ...p }))
    .sort((a, b) => (a.strategy + a.tokenId < b.strategy + b.tokenId ? -1 : 1));
  return {
    fills: s.i,
    cash: s.cash,
    equity: equityOf(s),
    realizedPnl: positions.reduce((a, p) => a + p.realized, 0),
    positions,
    highWaterMark: s.highWaterMark,
    halted: s.halted,
    haltReason: s.haltReason,
    allocation: s.allocation,
  };
}

/** The uninterrupted run up to `haltAt`: every message in order and the final state. */
export function runToEnd(haltAt: number): { state: SimState; out: Out[] } {
  const s = newState();
  const out: Out[] = [];
  for (;;) {
    const o = step(s, haltAt);
    if (o.length === 0) break;
    out.push(...o);
  }
  return { state: s, out };
}
