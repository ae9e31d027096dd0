/**
 * The strategy host, free of the bus: routes opportunities to the strategies that trade their kind, applies
 * enable/disable, allocation, cooldowns and the halt flag, and builds TradeRequests. The agent
 * (src/agents/strategy-runner.ts) feeds it from the bus.
 */
import type { IdGen } from '../core/agent.ts';
import type {
  Allocation,
  ExecutionReport,
  Opportunity,
  Position,
  RiskDecision,
  StrategyControl,
  TradeRequest,
} from '../core/messages.ts';
import type { Money } from '../core/money.ts';
import { mulDiv } from '../core/money.ts';
import { dailyWindowStart } from '../risk/rules.ts';
import type { Strategy } from './types.ts';

export interface RunnerOptions {
  readonly strategies: readonly Strategy[];
  /** Capital per strategy until an Allocation names it. */
  readonly defaultAllocation: Money;
  readonly now: () => number;
  readonly ids: IdGen;
  /** Strategies that start disabled. */
  readonly disabled?: readonly string[];
  /** Longest a reservation is held without news (default 60 s). */
  readonly reservationTtlMs?: number;
  /**
   * Hour (UTC) the guardian's daily-loss window starts (DAILY_LOSS_RESET_HOUR_UTC): a strategy the daily-loss limit
   * stopped asks again from then. Default 0.
   */
  readonly dailyResetHourUtc?: number;
  /**
   * Bundles a strategy must close to leave probation (ALLOCATION_MIN_BUNDLES). While on probation a request uses
   * at most its allocation ÷ this, so the probation allocation holds that many bundles at once and a strategy can
   * prove itself in one settlement round instead of one bundle per round. Default 1 (no slicing).
   */
  readonly probationBundles?: number;
}

/**
 * What a restarted runner takes from the store (restart recovery): what decides how much it may request. The
 * reservations of requests in flight (at most `reservationTtlMs`; the risk guardian keeps its own, restored) and
 * the cooldowns (a second or two) are not restored: a restart outlasts them.
 */
export interface RunnerState {
  /** The latest Allocation's capital per strategy (absent: none yet, the default allocation). */
  readonly allocations?: Readonly<Record<string, Money>>;
  /** Strategies the latest Allocation took off probation. */
  readonly proven: readonly string[];
  /** Open positions' cost basis, per strategy and instrument. */
  readonly exposure: readonly {
    readonly strategy: string;
    readonly venue: string;
    readonly tokenId: string;
    readonly costBasis: Money;
  }[];
  /** The latest on/off switch per strategy (a strategy absent keeps its configured state). */
  readonly enabled: Readonly<Record<string, boolean>>;
}

export class StrategyRunner {
  private readonly o: RunnerOptions;
  private readonly allocation = new Map<string, Money>();
  /** Strategies an Allocation has taken off probation. */
  private readonly proven = new Set<string>();
  private readonly enabledFlags = new Map<string, boolean>();
  /**
   * Last request time per strategy and set of legs (the cooldown). A one-leg set is looked up as token → venue and
   * side, without building a key string: a fresh ~90-character string per opportunity was hashed twice, and an
   * oracle_lag opportunity (almost all of them) has one leg.
   */
  private readonly lastOne = new Map<string, Map<string, Map<string, number>>>();
  private readonly lastMany = new Map<string, Map<string, number>>();
  /** strategy → instrument → cost basis of its open position (from the ledger's Position messages) */
  private readonly exposure = new Map<string, Map<string, Money>>();
  /** strategy → Σ of `exposure` (kept as it changes: exposureOf runs per strategy per opportunity) */
  private readonly exposureSum = new Map<string, Money>();
  /**
   * Capital of requests sent but not yet in the positions: released when risk rejects the request or the
   * execution fails, or once a Position of the strategy newer than the execution arrives; dropped after
   * `reservationTtlMs` in any case. Changed only through `reserve` / `unreserve`, which keep `reservedSum`.
   */
  private readonly reserved = new Map<
    string,
    { strategy: string; amount: Money; at: number; doneAt?: number }
  >();
  /** strategy → Σ amount of its entries in `reserved` */
  private readonly reservedSum = new Map<string, Money>();
  /**
   * `reserved` in the order of `at` (entries are added at the clock's now): the expired ones are then a prefix,
   * dropped from the front. False after a clock that went backwards: every entry is checked instead.
   */
  private reservedInOrder = true;
  private lastReservedAt = Number.NEGATIVE_INFINITY;
  /** At most the `at` of the first entry (entries only leave after it is set): nothing expired while within TTL. */
  private firstReservedAt = Number.POSITIVE_INFINITY;
  /**
   * strategy → until when (clock ms) it asks for nothing: the guardian refused its last request at a stop that
   * refuses every request (the daily-loss limit, the drawdown stop; `spentUntil`). Hygiene only — the guardian
   * decides every request whatever this says — so a spent daily budget does not turn every opportunity into a
   * request refused for the same reason (a flood on the bus and in the decision log).
   */
  private readonly spent = new Map<string, number>();
  /** kind → the strategies trading it (tradersOf) */
  private readonly traders = new Map<string, readonly Strategy[]>();
  /** venue → `venue:buy` / `venue:sell` (sideKey) */
  private readonly buyKeys = new Map<string, string>();
  private readonly sellKeys = new Map<string, string>();
  readonly stats = {
    opportunities: 0,
    requests: 0,
    skippedCooldown: 0,
    skippedDisabled: 0,
    skippedHalted: 0,
    skippedStop: 0,
  };

  constructor(o: RunnerOptions) {
    this.o = o;
    for (const s of o.strategies) this.enabledFlags.set(s.name, !(o.disabled ?? []).includes(s.name));
  }

  /** Takes the state a restart recovered from the store (before the first message). */
  restore(st: RunnerState): void {
    for (const [name, v] of Object.entries(st.allocations ?? {})) this.allocation.set(name, Math.max(0, v));
    for (const name of st.proven) this.proven.add(name);
    for (const e of st.exposure) {
      if (e.costBasis <= 0) continue;
      let m = this.exposure.get(e.strategy);
      if (!m) {
        m = new Map();
        this.exposure.set(e.strategy, m);
      }
      this.setExposure(e.strategy, m, `${e.venue}:${e.tokenId}`, e.costBasis);
    }
    for (const [name, on] of Object.entries(st.enabled))
      if (this.enabledFlags.has(name)) this.enabledFlags.set(name, on);
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
      const why = a.explanations?.[s.name];
      if (why?.probation === false) this.proven.add(s.name);
      else if (why?.probation === true) this.proven.delete(s.name);
    }
  }

  /** Capital already at risk in open positions; a request may only use the allocation left over. */
  onPosition(p: Position): void {
    if (!p.strategy) return;
    // fills up to this position's time are in the ledger now
    for (const [id, r] of this.reserved) {
      if (r.strategy === p.strategy && r.doneAt !== undefined && r.doneAt <= p.ts) this.unreserve(id);
    }
    let m = this.exposure.get(p.strategy);
    if (!m) {
      m = new Map();
      this.exposure.set(p.strategy, m);
    }
    const k = `${p.venue}:${p.tokenId}`;
    this.setExposure(p.strategy, m, k, p.shares === 0 ? undefined : Math.max(0, p.costBasis));
  }

  /** Sets (or with undefined removes) one instrument's exposure of a strategy, keeping the strategy's sum. */
  private setExposure(strategy: string, m: Map<string, Money>, k: string, v: Money | undefined): void {
    const delta = (v ?? 0) - (m.get(k) ?? 0);
    if (v === undefined) m.delete(k);
    else m.set(k, v);
    this.exposureSum.set(strategy, (this.exposureSum.get(strategy) ?? 0) + delta);
  }

  private reserve(id: string, strategy: string, amount: Money, at: number): void {
    if (at < this.lastReservedAt) this.reservedInOrder = false;
    this.lastReservedAt = at;
    if (this.reserved.size === 0) this.firstReservedAt = at;
    this.reserved.set(id, { strategy, amount, at });
    this.reservedSum.set(strategy, (this.reservedSum.get(strategy) ?? 0) + amount);
  }

  private unreserve(id: string): void {
    const r = this.reserved.get(id);
    if (!r) return;
    this.reserved.delete(id);
    this.reservedSum.set(r.strategy, this.reservedSum.get(r.strategy)! - r.amount);
  }

  exposureOf(name: string): Money {
    const now = this.o.now();
    const ttl = this.o.reservationTtlMs ?? 60_000;
    // reservations older than the TTL go, whoever they belong to; in time order they are the first entries
    if (this.reservedInOrder) {
      if (now - this.firstReservedAt > ttl) {
        this.firstReservedAt = Number.POSITIVE_INFINITY;
        for (const [id, r] of this.reserved) {
          if (now - r.at <= ttl) {
            this.firstReservedAt = r.at;
            break;
          }
          this.unreserve(id);
        }
      }
    } else {
      for (const [id, r] of this.reserved) if (now - r.at > ttl) this.unreserve(id);
    }
    return (this.exposureSum.get(name) ?? 0) + (this.reservedSum.get(name) ?? 0);
  }

  onRiskDecision(d: RiskDecision): void {
    if (d.verdict !== 'reject') {
      // one of our requests went through: no stop is in force (the stops refuse every request)
      if (this.spent.size > 0 && this.reserved.has(d.requestId)) this.budgetMayHaveRoom();
      return;
    }
    this.unreserve(d.requestId);
    const until = spentUntil(d, this.o.dailyResetHourUtc ?? 0);
    if (until !== undefined) this.spent.set(d.strategy, Math.max(until, this.spent.get(d.strategy) ?? 0));
  }

  /**
   * The guardian may take requests again: an operator RESUME (lifts the drawdown stop), or an approval of one of
   * this runner's requests. The next daily-loss window is the deadline `spent` holds for the daily limit.
   */
  budgetMayHaveRoom(): void {
    if (this.spent.size > 0) this.spent.clear();
  }

  /** The strategy asks for nothing now: the guardian's last answer was a stop in force. */
  isSpent(name: string, now: number): boolean {
    const until = this.spent.get(name);
    if (until === undefined) return false;
    if (now < until) return true;
    this.spent.delete(name);
    return false;
  }

  onExecution(e: ExecutionReport): void {
    const r = this.reserved.get(e.requestId);
    if (!r) return;
    if (e.status === 'rejected' || e.status === 'failed') this.unreserve(e.requestId);
    else r.doneAt = e.ts;
  }

  onControl(c: StrategyControl): boolean {
    if (!this.enabledFlags.has(c.strategy)) return false;
    this.enabledFlags.set(c.strategy, c.enabled);
    return true;
  }

  /** The strategies trading a kind, in their configured order: an opportunity visits only those. */
  private tradersOf(kind: Opportunity['kind']): readonly Strategy[] {
    let list = this.traders.get(kind);
    if (list === undefined) {
      list = this.o.strategies.filter((s) => s.kinds.includes(kind));
      this.traders.set(kind, list);
    }
    return list;
  }

  /** `venue:side`, the one-leg cooldown key under its token, made once per pair (not a new string per opportunity). */
  private sideKey(venue: string, side: string): string {
    const byVenue = side === 'buy' ? this.buyKeys : this.sellKeys;
    let k = byVenue.get(venue);
    if (k === undefined) {
      k = `${venue}:${side}`;
      byVenue.set(venue, k);
    }
    return k;
  }

  onOpportunity(o: Opportunity, halted: boolean): readonly TradeRequest[] {
    this.stats.opportunities++;
    if (halted) {
      this.stats.skippedHalted++;
      return NO_REQUESTS;
    }
    const traders = this.tradersOf(o.kind);
    if (traders.length === 0) return NO_REQUESTS;
    const now = this.o.now();
    // made on the first request: almost every opportunity ends in none (cooldown, capital, edge)
    let out: TradeRequest[] | undefined;
    let legsKey: string | undefined; // several legs: built once per opportunity, only if a strategy gets that far
    const one = o.legs.length === 1 ? o.legs[0]! : undefined;
    for (const s of traders) {
      if (!this.isEnabled(s.name)) {
        this.stats.skippedDisabled++;
        continue;
      }
      if (this.spent.size > 0 && this.isSpent(s.name, now)) {
        this.stats.skippedStop++;
        continue;
      }
      const allocation = this.allocationOf(s.name);
      let capital = allocation - this.exposureOf(s.name);
      const slices = this.o.probationBundles ?? 1;
      if (slices > 1 && !this.proven.has(s.name))
        capital = Math.min(capital, Math.floor(allocation / slices));
      if (capital <= 0) continue;
      let times: Map<string, number>;
      let tk: string;
      if (one) {
        times = inner(inner(this.lastOne, s.name), one.tokenId);
        tk = this.sideKey(one.venue, one.side);
      } else {
        times = inner(this.lastMany, s.name);
        tk = legsKey ??= cooldownLegs(o);
      }
      const last = times.get(tk);
      if (last !== undefined && now - last < s.settings.cooldownMs) {
        this.stats.skippedCooldown++;
        continue;
      }
      const p = s.propose(o, { now, capital });
      if (!p) continue;
      times.set(tk, now);
      this.stats.requests++;
      const id = this.o.ids.next('req');
      const shares = p.legs[0]!.shares;
      this.reserve(id, s.name, mulDiv(o.cost, shares, o.shares, 'ceil'), now);
      out ??= [];
      out.push({
        type: 'trade_request',
        id,
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
    return out ?? NO_REQUESTS;
  }
}

const NO_REQUESTS: readonly TradeRequest[] = Object.freeze([]);

/**
 * Until when a rejection says the guardian refuses every new request, whatever its size or market: the daily-loss
 * limit reached (until the next daily-loss window; sooner if one of the runner's requests is approved, a rebound of
 * the marks) and the drawdown stop (a ratchet: until an operator RESUME). Undefined for every other rule: those are
 * about this request (its market, its size, its edge, the room a loss budget leaves for it), and another request
 * may well pass — pausing on them was tried and cost approvals (see the README, loss budgets).
 */
export function spentUntil(d: RiskDecision, resetHourUtc: number): number | undefined {
  if (d.rule === 'daily_loss') return dailyWindowStart(d.decidedAt, resetHourUtc) + DAY_MS;
  if (d.rule === 'drawdown_stop') return Number.POSITIVE_INFINITY;
  return undefined;
}

const DAY_MS = 86_400_000;

/** The map under `k` in `m`, made when missing. */
function inner<K, V>(m: Map<K, Map<string, V>>, k: K): Map<string, V> {
  let x = m.get(k);
  if (!x) {
    x = new Map();
    m.set(k, x);
  }
  return x;
}

/** The cooldown key of an opportunity of several legs (sorted, so leg order does not matter). */
function cooldownLegs(o: Opportunity): string {
  return o.legs
    .map((l) => `${l.venue}:${l.tokenId}:${l.side}`)
    .sort()
    .join(',');
}
