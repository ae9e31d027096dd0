/**
 * The strategy host, free of the bus: routes opportunities to the strategies that trade their kind, applies
 * enable/disable, allocation, cooldowns and the halt flag, and builds TradeRequests. The agent
 * (src/agents/strategy-runner.ts) feeds it from the bus.
 */
import type { IdGen } from '../core/agent.ts';
import type { Allocation, Opportunity, Position, StrategyControl, TradeRequest } from '../core/messages.ts';
import type { Money } from '../core/money.ts';
import type { Strategy } from './types.ts';

export interface RunnerOptions {
  readonly strategies: readonly Strategy[];
  /** Capital per strategy until an Allocation names it. */
  readonly defaultAllocation: Money;
  readonly now: () => number;
  readonly ids: IdGen;
  /** Strategies that start disabled. */
  readonly disabled?: readonly string[];
}

export class StrategyRunner {
  private readonly o: RunnerOptions;
  private readonly allocation = new Map<string, Money>();
  private readonly enabledFlags = new Map<string, boolean>();
  private readonly lastRequest = new Map<string, number>();
  /** strategy → instrument → cost basis of its open position (from the ledger's Position messages) */
  private readonly exposure = new Map<string, Map<string, Money>>();
  readonly stats = {
    opportunities: 0,
    requests: 0,
    skippedCooldown: 0,
    skippedDisabled: 0,
    skippedHalted: 0,
  };

  constructor(o: RunnerOptions) {
    this.o = o;
    for (const s of o.strategies) this.enabledFlags.set(s.name, !(o.disabled ?? []).includes(s.name));
  }

  get strategies(): readonly Strategy[] {
    return this.o.strategies;
  }

  isEnabled(name: string): boolean {
    return this.enabledFlags.get(name) ?? false;
  }

  allocationOf(name: string): Money {
    return this.allocation.get(name) ?? this.o.defaultAllocation;
  }

  onAllocation(a: Allocation): void {
    for (const s of this.o.strategies) {
      const v = a.allocations[s.name];
      if (v !== undefined) this.allocation.set(s.name, Math.max(0, v));
    }
  }

  /** Capital already at risk in open positions; a request may only use the allocation left over. */
  onPosition(p: Position): void {
    if (!p.strategy) return;
    let m = this.exposure.get(p.strategy);
    if (!m) {
      m = new Map();
      this.exposure.set(p.strategy, m);
    }
    const k = `${p.venue}:${p.tokenId}`;
    if (p.shares === 0) m.delete(k);
    else m.set(k, Math.max(0, p.costBasis));
  }

  exposureOf(name: string): Money {
    let sum = 0;
    for (const v of this.exposure.get(name)?.values() ?? []) sum += v;
    return sum;
  }

  onControl(c: StrategyControl): boolean {
    if (!this.enabledFlags.has(c.strategy)) return false;
    this.enabledFlags.set(c.strategy, c.enabled);
    return true;
  }

  onOpportunity(o: Opportunity, halted: boolean): TradeRequest[] {
    this.stats.opportunities++;
    if (halted) {
      this.stats.skippedHalted++;
      return [];
    }
    const now = this.o.now();
    const out: TradeRequest[] = [];
    for (const s of this.o.strategies) {
      if (!s.kinds.includes(o.kind)) continue;
      if (!this.isEnabled(s.name)) {
        this.stats.skippedDisabled++;
        continue;
      }
      const capital = this.allocationOf(s.name) - this.exposureOf(s.name);
      if (capital <= 0) continue;
      const ck = `${s.name}|${o.legs
        .map((l) => `${l.venue}:${l.tokenId}:${l.side}`)
        .sort()
        .join(',')}`;
      const last = this.lastRequest.get(ck);
      if (last !== undefined && now - last < s.settings.cooldownMs) {
        this.stats.skippedCooldown++;
        continue;
      }
      const p = s.propose(o, { now, capital });
      if (!p) continue;
      this.lastRequest.set(ck, now);
      this.stats.requests++;
      out.push({
        type: 'trade_request',
        id: this.o.ids.next('req'),
        strategy: s.name,
        opportunityId: o.id,
        kind: o.kind,
        legs: p.legs,
        tif: s.settings.tif,
        expectedEdge: p.expectedEdge,
        createdAt: now,
        data: o.data,
      });
    }
    return out;
  }
}
