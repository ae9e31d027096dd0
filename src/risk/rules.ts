/**
 * Risk rules: PURE functions of (request, portfolio view, risk config, now). No clock, no bus, no state: the
 * guardian owns the state (src/risk/portfolio.ts) and hands a read-only view in.
 *
 * A rule either passes, rejects (with its name and a reason), or — for the size limits — reports a cap: the
 * headroom left under the limit and what the request needs. `evaluateRequest` rejects on the first failing
 * rule; otherwise, if a cap binds, it scales every leg down by the same factor (to the venue's lot) and checks
 * again, so a reduced request is within every limit. Exposure is counted as capital at risk: for a buy leg the
 * notional at the limit price (rounded up) plus the taker fee; sells close inventory and add none. Last, the loss
 * budget (withinLossBudget): settled the worst way, the book plus the request must stay within the drawdown and
 * daily-loss limits, else the request is sized down to fit (exact bisection) or rejected.
 */
import type { Config } from '../core/config.ts';
import { tradeFee } from '../core/fees.ts';
import type { Leg, Market, TradeRequest, Venue } from '../core/messages.ts';
import { instrumentKey, VENUES } from '../core/messages.ts';
import { type Money, mulDiv, notional, ONE, type Qty, toDecimal } from '../core/money.ts';
import { lotOf } from '../venues/defaults.ts';
import {
  type BudgetBreach,
  type BudgetLimits,
  breach,
  type Exposure,
  largestFitting,
  noRiskier,
  type PendingLeg,
} from './loss-budget.ts';

export type RiskConfig = Config['risk'];

/** What the rules may read about the portfolio. Exposures include reservations of approved, unfilled requests. */
export interface PortfolioView {
  /** HALT_ALL in force (until RESUME). */
  readonly killSwitch: boolean;
  /** The drawdown stop has fired (it ratchets: stays until an operator RESUME). */
  readonly drawdownHalted: boolean;
  readonly equity: Money;
  readonly highWaterMark: Money;
  /** Equity when the current daily-loss window opened. */
  readonly dailyStartEquity: Money;
  /** Orders approved or resting and not yet finished. */
  readonly openOrders: number;
  market(venue: Venue, marketId: string): Market | undefined;
  marketExposure(venue: Venue, marketId: string): Money;
  venueExposure(venue: Venue): Money;
  strategyExposure(strategy: string): Money;
  /** Capital allocated to the strategy; undefined = no allocation cap known. */
  allocation(strategy: string): Money | undefined;
  /** Shares the strategy may sell: held minus sells already reserved. */
  available(strategy: string, venue: Venue, tokenId: string): Qty;
  /**
   * The feed's staleness flag on the latest book or tick of `key` (instrument or oracle key), as published by the
   * venue watcher / oracle agent (src/feeds/staleness.ts decides it); false for a key not seen.
   */
  isStale(key: string): boolean;
  /** Loss budget (src/risk/loss-budget.ts); a view without these is not checked against it. */
  budgetLimits?(): BudgetLimits;
  exposure?(extra?: readonly PendingLeg[]): Exposure;
  /**
   * A cheap bound on `exposure(extra)`: worst equity no higher, peak and swing no lower (loss-budget.ts,
   * exposureBound). A request within the limits on the bound is within them exactly; a view without it always
   * computes the exact exposure.
   */
  exposureBound?(extra?: readonly PendingLeg[]): Exposure;
  pendingLegs?(legs: readonly Leg[]): PendingLeg[];
  /** The strategy's own swing (most − least its positions, reservations and `extra` can be worth at settlement). */
  strategySwing?(strategy: string, extra?: readonly PendingLeg[]): Money;
  /** A cheap bound on `strategySwing(strategy, extra)`, no lower than it. */
  strategySwingBound?(strategy: string, extra?: readonly PendingLeg[]): Money;
  /**
   * The guardian's own view of a book: when (its clock) the last one arrived and whether the feed marked it
   * stale; undefined when none arrived. A view with it judges freshness itself, whatever a request claims.
   */
  bookState?(venue: Venue, tokenId: string): { readonly at: number; readonly stale: boolean } | undefined;
  /**
   * When (the guardian's clock) it last heard from a feed — a venue or an oracle source: one of its books or
   * ticks, or a heartbeat of its agent; undefined when never. A view with it rejects requests on a feed silent
   * for `staleAfterMs` (its process died: nobody is left to flag its books stale).
   */
  feedHeardAt?(feed: string): number | undefined;
}

export type RuleName =
  | 'invalid_request'
  | 'unknown_market'
  | 'no_inventory'
  | 'kill_switch'
  | 'drawdown_stop'
  | 'daily_loss'
  | 'stale_data'
  | 'min_edge'
  | 'max_open_orders'
  | 'position_limit'
  | 'platform_limit'
  | 'allocation_cap'
  | 'drawdown_budget'
  | 'daily_loss_budget'
  | 'strategy_loss_budget';

export type RuleOutcome =
  | { readonly verdict: 'pass' }
  | { readonly verdict: 'reject'; readonly rule: RuleName; readonly reason: string }
  | {
      readonly verdict: 'cap';
      readonly rule: RuleName;
      readonly reason: string;
      /** Money still allowed under the limit (may be ≤ 0). */
      readonly headroom: Money;
      /** Money the request would add. */
      readonly required: Money;
    };

export interface RiskEvaluation {
  readonly verdict: 'approve' | 'reduce' | 'reject';
  /** 'ok' on a clean approval. */
  readonly rule: RuleName | 'ok';
  readonly reason: string;
  /** Legs as approved (reduced when verdict is 'reduce'); empty on reject. */
  readonly legs: readonly Leg[];
  readonly expectedEdge: Money;
}

const PASS: RuleOutcome = Object.freeze({ verdict: 'pass' });
const reject = (rule: RuleName, reason: string): RuleOutcome => ({ verdict: 'reject', rule, reason });
const BPS = 10_000;

/** Share granularity of a leg: its market's lot (from the venue parser) when known, else its venue's. */
export function lotSize(venue: Venue, market?: Market): Qty {
  return lotOf(venue, market);
}

/** Capital a leg puts at risk: notional at the limit (rounded up) + taker fee; 0 for sells. */
export function legCost(leg: Leg, market: Market | undefined): Money {
  if (leg.side !== 'buy') return 0;
  const fee = market ? tradeFee(market.fees, leg.limitPrice, leg.shares, 'taker') : 0;
  return notional(leg.limitPrice, leg.shares, 'ceil') + fee;
}

export function requestCost(req: TradeRequest, pf: PortfolioView): Money {
  let c = 0;
  for (const leg of req.legs) c += legCost(leg, pf.market(leg.venue, leg.marketId));
  return c;
}

/** Exact dollars for reasons a person reads (no float rounding): 1_234_500 → "$1.2345". */
const fmt = (m: Money): string => (m < 0 ? `-$${toDecimal(-m)}` : `$${toDecimal(m)}`);

// ------------------------------------------------------------------ input validation

/** Bad input never reaches the executor: each problem is a rejection with the reason. */
export function validateRequest(req: TradeRequest, pf: PortfolioView): RuleOutcome {
  if (!req || !Array.isArray(req.legs) || req.legs.length === 0)
    return reject('invalid_request', 'request has no legs');
  if (typeof req.id !== 'string' || req.id === '') return reject('invalid_request', 'request has no id');
  if (typeof req.strategy !== 'string' || req.strategy === '')
    return reject('invalid_request', 'request names no strategy');
  if (!['IOC', 'FOK', 'GTC'].includes(req.tif))
    return reject('invalid_request', `unknown time in force ${String(req.tif)}`);
  if (!Number.isSafeInteger(req.expectedEdge))
    return reject('invalid_request', 'expected edge is not an integer amount');
  for (let i = 0; i < req.legs.length; i++) {
    const leg = req.legs[i];
    if (!leg) return reject('invalid_request', `leg ${i} is missing`);
    if (!VENUES.includes(leg.venue))
      return reject('invalid_request', `leg ${i}: unknown venue ${String(leg.venue)}`);
    if (leg.side !== 'buy' && leg.side !== 'sell')
      return reject('invalid_request', `leg ${i}: unknown side ${String(leg.side)}`);
    if (!Number.isSafeInteger(leg.shares) || leg.shares <= 0) {
      return reject('invalid_request', `leg ${i}: size must be a positive amount, got ${leg.shares}`);
    }
    if (!Number.isSafeInteger(leg.limitPrice) || leg.limitPrice <= 0 || leg.limitPrice >= ONE) {
      return reject(
        'invalid_request',
        `leg ${i}: price must lie strictly between 0 and 1, got ${leg.limitPrice}`,
      );
    }
    const m = pf.market(leg.venue, leg.marketId);
    if (!m) return reject('unknown_market', `leg ${i}: unknown market ${leg.venue}:${leg.marketId}`);
    if (m.status !== 'open')
      return reject('unknown_market', `leg ${i}: market ${leg.venue}:${leg.marketId} is ${m.status}`);
    if (!m.outcomes.some((o) => o.tokenId === leg.tokenId)) {
      return reject(
        'unknown_market',
        `leg ${i}: token ${leg.tokenId} is not an outcome of ${leg.venue}:${leg.marketId}`,
      );
    }
    if (leg.shares < m.minSize) {
      return reject(
        'invalid_request',
        `leg ${i}: ${leg.shares} shares is below the market minimum ${m.minSize}`,
      );
    }
  }
  return PASS;
}

/** Sells need inventory (no naked shorts; buying the NO token is how one goes short). */
export function inventoryRule(req: TradeRequest, pf: PortfolioView): RuleOutcome {
  const need = new Map<string, number>();
  for (const leg of req.legs) {
    if (leg.side !== 'sell') continue;
    const k = `${leg.venue}:${leg.tokenId}`;
    const n = (need.get(k) ?? 0) + leg.shares;
    need.set(k, n);
    const have = pf.available(req.strategy, leg.venue, leg.tokenId);
    if (n > have)
      return reject('no_inventory', `sell of ${n} ${k} but ${req.strategy} holds ${have} available`);
  }
  return PASS;
}

// ------------------------------------------------------------------ halts

export function killSwitchRule(_req: TradeRequest, pf: PortfolioView): RuleOutcome {
  return pf.killSwitch ? reject('kill_switch', 'HALT_ALL is in force; no new risk until RESUME') : PASS;
}

export function drawdownLimit(hwm: Money, cfg: RiskConfig): Money {
  return mulDiv(Math.max(0, hwm), cfg.drawdownLimitBps, BPS, 'floor');
}

/** Drawdown from the equity high-water mark at or past the limit halts new risk (and stays halted). */
export function drawdownRule(_req: TradeRequest, pf: PortfolioView, cfg: RiskConfig): RuleOutcome {
  const dd = pf.highWaterMark - pf.equity;
  if (pf.drawdownHalted || dd >= drawdownLimit(pf.highWaterMark, cfg)) {
    return reject(
      'drawdown_stop',
      `drawdown ${fmt(dd)} from high-water mark ${fmt(pf.highWaterMark)} reached the ${cfg.drawdownLimitBps / 100}% stop`,
    );
  }
  return PASS;
}

export function dailyLossLimit(startEquity: Money, cfg: RiskConfig): Money {
  return mulDiv(Math.max(0, startEquity), cfg.dailyLossLimitBps, BPS, 'floor');
}

export function dailyLossRule(_req: TradeRequest, pf: PortfolioView, cfg: RiskConfig): RuleOutcome {
  const loss = pf.dailyStartEquity - pf.equity;
  const limit = dailyLossLimit(pf.dailyStartEquity, cfg);
  if (loss >= limit) {
    return reject('daily_loss', `loss today ${fmt(loss)} reached the daily limit ${fmt(limit)}`);
  }
  return PASS;
}

/** Start (epoch ms) of the daily-loss window containing `now`: the last `hourUtc`:00 UTC at or before now. */
export function dailyWindowStart(now: number, hourUtc: number): number {
  const DAY = 86_400_000;
  const off = hourUtc * 3_600_000;
  return Math.floor((now - off) / DAY) * DAY + off;
}

// ------------------------------------------------------------------ data and edge

/**
 * A request built from a book or tick that its feed now flags stale is rejected. Age alone is not staleness: a
 * quiet book on a live feed is as current as its feed says (the flag is decided in src/feeds/staleness.ts). The
 * guardian judges from its own view: every leg's instrument, not only the keys the request declares, and a leg
 * whose book never reached the guardian is rejected. A feed the guardian has not heard from at all — no book or
 * tick and no heartbeat of its agent — for `staleAfterMs` (by the guardian's clock) is stale too: a feed process
 * that died flags nothing, its last books just stay as they were.
 */
export function staleDataRule(
  req: TradeRequest,
  pf: PortfolioView,
  cfg: RiskConfig,
  now: number,
): RuleOutcome {
  for (const leg of req.legs ?? []) {
    const key = instrumentKey(leg.venue, leg.tokenId);
    if (pf.bookState && !pf.bookState(leg.venue, leg.tokenId))
      return reject('stale_data', `no book for ${key} has reached the guardian`);
    if (pf.isStale(key)) return reject('stale_data', `${key} is flagged stale by its feed`);
    const s = feedSilent(pf, cfg, now, leg.venue, true);
    if (s) return s;
  }
  for (const d of req.data ?? []) {
    if (pf.isStale(d.key)) return reject('stale_data', `${d.key} is flagged stale by its feed`);
    // oracle keys are oracle:<source>:<symbol>; a source never heard from is judged by its ticks' flags alone
    if (typeof d.key === 'string' && d.key.startsWith('oracle:')) {
      const end = d.key.indexOf(':', 7);
      const source = end < 0 ? d.key.slice(7) : d.key.slice(7, end);
      const s = source === '' ? undefined : feedSilent(pf, cfg, now, source, false);
      if (s) return s;
    }
  }
  return PASS;
}

/** The rejection for a feed the guardian has not heard from for staleAfterMs (or at all, when `mustKnow`). */
function feedSilent(
  pf: PortfolioView,
  cfg: RiskConfig,
  now: number,
  feed: string,
  mustKnow: boolean,
): RuleOutcome | undefined {
  if (!pf.feedHeardAt) return undefined;
  const at = pf.feedHeardAt(feed);
  if (at === undefined)
    return mustKnow ? reject('stale_data', `nothing heard from the ${feed} feed`) : undefined;
  const quiet = now - at;
  if (quiet < cfg.staleAfterMs) return undefined;
  return reject(
    'stale_data',
    `the ${feed} feed is silent: no book, tick or heartbeat for ${quiet} ms (limit ${cfg.staleAfterMs} ms)`,
  );
}

/** Expected edge after fees, relative to the capital committed, must reach minEdgeBps. Pure exits skip it. */
export function minEdgeRule(req: TradeRequest, pf: PortfolioView, cfg: RiskConfig): RuleOutcome {
  const cost = requestCost(req, pf);
  if (cost === 0) return PASS;
  // edge/cost ≥ min/10000  ⇔  edge × 10000 ≥ min × cost (exact integers)
  if (req.expectedEdge * BPS < cfg.minEdgeBps * cost) {
    const bps = Math.floor((req.expectedEdge * BPS) / cost);
    return reject('min_edge', `edge ${bps} bps after fees is below the minimum ${cfg.minEdgeBps} bps`);
  }
  return PASS;
}

export function maxOpenOrdersRule(req: TradeRequest, pf: PortfolioView, cfg: RiskConfig): RuleOutcome {
  if (pf.openOrders + req.legs.length > cfg.maxOpenOrders) {
    return reject(
      'max_open_orders',
      `${pf.openOrders} orders open + ${req.legs.length} would pass the maximum ${cfg.maxOpenOrders}`,
    );
  }
  return PASS;
}

// ------------------------------------------------------------------ size limits (caps)

function worstCap(
  rule: RuleName,
  groups: Map<string, Money>,
  limit: Money,
  used: (key: string) => Money,
  what: string,
): RuleOutcome {
  let worst: RuleOutcome = PASS;
  let worstRatio = Number.POSITIVE_INFINITY;
  for (const [key, required] of groups) {
    if (required <= 0) continue;
    const headroom = limit - used(key);
    if (required <= headroom) continue;
    const ratio = headroom / required;
    if (ratio < worstRatio) {
      worstRatio = ratio;
      worst = {
        verdict: 'cap',
        rule,
        reason: `${what} ${key}: ${fmt(used(key))} used + ${fmt(required)} asked exceeds the limit ${fmt(limit)}`,
        headroom,
        required,
      };
    }
  }
  return worst;
}

export function positionLimit(cfg: RiskConfig): Money {
  return mulDiv(cfg.initialBankroll, cfg.positionLimitBps, BPS, 'floor');
}
export function platformLimit(cfg: RiskConfig): Money {
  return mulDiv(cfg.initialBankroll, cfg.platformLimitBps, BPS, 'floor');
}

/** Per-market limit: open cost + reserved + this request in one market ≤ positionLimitBps of the bankroll. */
export function positionLimitRule(req: TradeRequest, pf: PortfolioView, cfg: RiskConfig): RuleOutcome {
  const groups = new Map<string, Money>();
  for (const leg of req.legs) {
    const k = `${leg.venue}:${leg.marketId}`;
    groups.set(k, (groups.get(k) ?? 0) + legCost(leg, pf.market(leg.venue, leg.marketId)));
  }
  return worstCap(
    'position_limit',
    groups,
    positionLimit(cfg),
    (k) => {
      const i = k.indexOf(':');
      return pf.marketExposure(k.slice(0, i) as Venue, k.slice(i + 1));
    },
    'market',
  );
}

/** Per-venue limit: everything at risk on one platform ≤ platformLimitBps of the bankroll. */
export function platformLimitRule(req: TradeRequest, pf: PortfolioView, cfg: RiskConfig): RuleOutcome {
  const groups = new Map<string, Money>();
  for (const leg of req.legs)
    groups.set(leg.venue, (groups.get(leg.venue) ?? 0) + legCost(leg, pf.market(leg.venue, leg.marketId)));
  return worstCap('platform_limit', groups, platformLimit(cfg), (v) => pf.venueExposure(v as Venue), 'venue');
}

/** Per-strategy cap: the strategy's capital at risk ≤ its allocation from the capital allocator. */
export function allocationRule(req: TradeRequest, pf: PortfolioView): RuleOutcome {
  const alloc = pf.allocation(req.strategy);
  if (alloc === undefined) return PASS;
  const groups = new Map([[req.strategy, requestCost(req, pf)]]);
  return worstCap('allocation_cap', groups, alloc, (s) => pf.strategyExposure(s), 'strategy');
}

// ------------------------------------------------------------------ evaluation

/** Rules that reject outright, in the order they are checked. */
export const REJECT_RULES: readonly ((
  req: TradeRequest,
  pf: PortfolioView,
  cfg: RiskConfig,
  now: number,
) => RuleOutcome)[] = [
  validateRequest,
  killSwitchRule,
  drawdownRule,
  dailyLossRule,
  staleDataRule,
  inventoryRule,
  minEdgeRule,
  maxOpenOrdersRule,
];

export const CAP_RULES: readonly ((req: TradeRequest, pf: PortfolioView, cfg: RiskConfig) => RuleOutcome)[] =
  [positionLimitRule, platformLimitRule, allocationRule];

function bindingCap(
  req: TradeRequest,
  pf: PortfolioView,
  cfg: RiskConfig,
): Extract<RuleOutcome, { verdict: 'cap' }> | undefined {
  let worst: Extract<RuleOutcome, { verdict: 'cap' }> | undefined;
  for (const rule of CAP_RULES) {
    const o = rule(req, pf, cfg);
    if (o.verdict !== 'cap') continue;
    if (!worst || o.headroom / o.required < worst.headroom / worst.required) worst = o;
  }
  return worst;
}

/**
 * Scales every leg by num/den, down to the lot. The first leg is cut to the coarsest lot of all legs and the
 * others follow it in proportion, so legs of equal size stay equal (a bundle stays matched: 25 shares on
 * Polymarket against 24 Kalshi contracts would leave one share unhedged).
 */
function scaleLegs(legs: readonly Leg[], num: number, den: number): Leg[] {
  const unit = Math.max(...legs.map((l) => lotSize(l.venue)));
  const raw = mulDiv(legs[0]!.shares, num, den, 'floor');
  return scaledTo(legs, raw - (raw % unit));
}

/** Runs every rule: reject on the first failure; reduce when a size cap binds; else approve. */
export function evaluateRequest(
  req: TradeRequest,
  pf: PortfolioView,
  cfg: RiskConfig,
  now: number,
): RiskEvaluation {
  for (const rule of REJECT_RULES) {
    const o = rule(req, pf, cfg, now);
    if (o.verdict === 'reject')
      return { verdict: 'reject', rule: o.rule, reason: o.reason, legs: [], expectedEdge: 0 };
  }
  let cap = bindingCap(req, pf, cfg);
  if (!cap)
    return withinLossBudget(
      req,
      {
        verdict: 'approve',
        rule: 'ok',
        reason: 'within every limit',
        legs: req.legs,
        expectedEdge: req.expectedEdge,
      },
      pf,
      cfg,
    );
  const first = cap;
  let current: TradeRequest = req;
  // A few rounds: rounding up of notional and fee steps can leave a scaled request a hair over.
  for (let round = 0; round < 8 && cap; round++) {
    if (cap.headroom <= 0) break;
    // shrink a little more each round so the loop ends
    const num = Math.max(0, cap.headroom * (BPS - round * 10));
    const legs = scaleLegs(current.legs, num, cap.required * BPS);
    const ok = legs.every((l) => {
      const m = pf.market(l.venue, l.marketId);
      return l.shares > 0 && (!m || l.shares >= m.minSize);
    });
    if (!ok) break;
    const edge = mulDiv(req.expectedEdge, legs[0]!.shares, req.legs[0]!.shares, 'floor');
    current = { ...current, legs, expectedEdge: edge };
    cap = bindingCap(current, pf, cfg);
    if (!cap) {
      // a proportional cut keeps the edge in bps, but the fee's rounding may not
      const e = minEdgeRule(current, pf, cfg);
      if (e.verdict === 'reject')
        return { verdict: 'reject', rule: e.rule, reason: e.reason, legs: [], expectedEdge: 0 };
      return withinLossBudget(
        req,
        {
          verdict: 'reduce',
          rule: first.rule,
          reason: `${first.reason}; reduced ${toDecimal(req.legs[0]!.shares)} → ${toDecimal(legs[0]!.shares)} shares`,
          legs,
          expectedEdge: edge,
        },
        pf,
        cfg,
      );
    }
  }
  return {
    verdict: 'reject',
    rule: first.rule,
    reason: `${first.reason}; no size fits`,
    legs: [],
    expectedEdge: 0,
  };
}

// ------------------------------------------------------------------ loss budget

const pct = (bps: number): string => `${bps / 100}%`;

function breachRule(b: BudgetBreach): RuleName {
  return b.limit === 'drawdown' ? 'drawdown_budget' : 'daily_loss_budget';
}

/** What a person reads when a request does not fit the loss budget. */
export function describeBreach(b: BudgetBreach, cfg: RiskConfig): string {
  switch (b.limit) {
    case 'drawdown':
      return (
        `drawdown budget: settled the worst way, open positions and this request would leave equity at ${fmt(b.worst)}, ` +
        `${fmt(b.peak - b.worst)} below the ${fmt(b.peak)} the high-water mark is or could reach; the ${pct(cfg.drawdownLimitBps)} limit allows ${fmt(b.allowed)}`
      );
    case 'daily':
      return (
        `daily-loss budget: settled the worst way, open positions and this request would leave equity at ${fmt(b.worst)}, ` +
        `${fmt(b.start - b.worst)} below today's start ${fmt(b.start)}; the ${pct(cfg.dailyLossLimitBps)} limit allows ${fmt(b.allowed)}`
      );
    case 'daily_carry':
      return (
        `daily-loss budget: positions that may still be open at the next daily reset could swing ${fmt(b.swing)}; ` +
        `the ${pct(cfg.dailyLossLimitBps)} limit of the worst-case equity ${fmt(b.worst)} allows ${fmt(b.allowed)}`
      );
  }
}

/** Legs scaled so the first has `shares`, every other in proportion, each cut to its venue's lot. */
function scaledTo(legs: readonly Leg[], shares: Qty): Leg[] {
  const first = legs[0]!.shares;
  return legs.map((l) => {
    const lot = lotSize(l.venue);
    const raw = mulDiv(l.shares, shares, first, 'floor');
    return { ...l, shares: raw - (raw % lot) };
  });
}

/**
 * The loss budget, checked last (after every cap): the request is kept when, settled the worst way together with
 * every open position and reservation, it stays within the drawdown and daily-loss limits (src/risk/loss-budget.ts)
 * — or when it only lowers the risk (an exit). Otherwise it is sized down to the largest size that fits (exact
 * bisection on whole lots), or rejected when no size reaching the market minimum does.
 */
export function withinLossBudget(
  req: TradeRequest,
  ev: RiskEvaluation,
  pf: PortfolioView,
  cfg: RiskConfig,
): RiskEvaluation {
  if (ev.verdict === 'reject' || !pf.exposure || !pf.pendingLegs || !pf.budgetLimits) return ev;
  const allocation = pf.allocation(req.strategy);
  const budget: Budget = {
    pf,
    limits: pf.budgetLimits(),
    strategy: req.strategy,
    allocation: pf.strategySwing ? allocation : undefined,
    swingBefore: undefined,
  };
  const b = breachOf(budget, ev.legs, undefined);
  if (!b) return ev;
  // a request that makes no measure worse (an exit) goes ahead even when the budget is spent
  const before = pf.exposure();
  if (breachOf(budget, ev.legs, before) === undefined) return ev;
  const noSize: RiskEvaluation = {
    verdict: 'reject',
    rule: b.rule,
    reason: `${whyOf(b, cfg)}; no size fits`,
    legs: [],
    expectedEdge: 0,
  };
  const unit = Math.max(...ev.legs.map((l) => lotSize(l.venue, pf.market(l.venue, l.marketId))));
  const first = ev.legs[0]!.shares;
  // the smallest size the markets take: when even that does not fit, nothing will (no search)
  let least = unit;
  for (const l of ev.legs) {
    const m = pf.market(l.venue, l.marketId);
    if (m && m.minSize > 0) least = Math.max(least, mulDiv(m.minSize, first, l.shares, 'ceil'));
  }
  least = Math.ceil(least / unit) * unit;
  if (least >= first || breachOf(budget, scaledTo(ev.legs, least), before) !== undefined) return noSize;
  const best = largestFitting(
    first - 1,
    unit,
    (sh) => breachOf(budget, scaledTo(ev.legs, sh), before) === undefined,
    least,
  );
  const legs = scaledTo(ev.legs, best);
  if (best === 0 || belowMinimum(legs, pf)) return noSize;
  const edge = mulDiv(req.expectedEdge, legs[0]!.shares, req.legs[0]!.shares, 'floor');
  const e = minEdgeRule({ ...req, legs, expectedEdge: edge }, pf, cfg);
  if (e.verdict === 'reject')
    return { verdict: 'reject', rule: e.rule, reason: e.reason, legs: [], expectedEdge: 0 };
  // named after the book's budget the full size broke, unless the strategy's own share is what binds at this size
  const next = breachOf(budget, scaledTo(ev.legs, best + unit), before);
  const binding = next?.rule === 'strategy_loss_budget' ? next : b;
  return {
    verdict: 'reduce',
    rule: binding.rule,
    reason: `${whyOf(binding, cfg)}; reduced ${toDecimal(req.legs[0]!.shares)} → ${toDecimal(legs[0]!.shares)} shares`,
    legs,
    expectedEdge: edge,
  };
}

/** A limit a size breaks: the book's loss budget (`book`) or the strategy's share of it (its swing past `allocation`). */
interface Breach {
  readonly rule: RuleName;
  readonly book: BudgetBreach | undefined;
  readonly strategy: string;
  readonly swing: Money;
  readonly allocation: Money;
}

/** What a person reads about a breach: formatted only for the one the decision names (a search tries many sizes). */
function whyOf(b: Breach, cfg: RiskConfig): string {
  if (b.book) return describeBreach(b.book, cfg);
  return (
    `strategy loss budget: ${b.strategy}'s positions, orders and this request could swing ${fmt(b.swing)} ` +
    `between settling the best and the worst way; its allocation ${fmt(b.allocation)} bounds that swing`
  );
}

/** What withinLossBudget checks sizes of one request against (a plain record: no closure per decision). */
interface Budget {
  readonly pf: PortfolioView;
  readonly limits: BudgetLimits;
  readonly strategy: string;
  /** The strategy's allocation, when it has one (and the view knows its swing): its share of the budget. */
  readonly allocation: Money | undefined;
  /** The strategy's swing without the request: computed once, the first time a size goes past the allocation. */
  swingBefore: Money | undefined;
}

/** The first limit `legs` break: the book's loss budget, then the strategy's share of it (its allocation). */
function breachOf(budget: Budget, legs: readonly Leg[], before: Exposure | undefined): Breach | undefined {
  const { pf, allocation, strategy } = budget;
  const pending = pf.pendingLegs!(legs);
  const b = budgetBreach(pf, pending, budget.limits, before);
  if (b) return { rule: breachRule(b), book: b, strategy, swing: 0, allocation: 0 };
  if (allocation === undefined) return undefined;
  // within the allocation on a bound no lower than the swing: within it exactly
  if (pf.strategySwingBound && pf.strategySwingBound(strategy, pending) <= allocation) return undefined;
  const swing = pf.strategySwing!(strategy, pending);
  // within its allocation, or no worse than before (an exit)
  if (swing <= allocation) return undefined;
  budget.swingBefore ??= pf.strategySwing!(strategy);
  if (swing <= budget.swingBefore) return undefined;
  return { rule: 'strategy_loss_budget', book: undefined, strategy, swing, allocation };
}

/** The limit the book would break with `pending` added, unless they make no measure worse than `before`. */
function budgetBreach(
  pf: PortfolioView,
  pending: readonly PendingLeg[],
  limits: BudgetLimits,
  before: Exposure | undefined,
): BudgetBreach | undefined {
  // within the limits on a bound of the exposure (no settlement worlds to enumerate): within them exactly
  if (pf.exposureBound && breach(pf.exposureBound(pending), limits) === undefined) return undefined;
  const after = pf.exposure!(pending);
  const b = breach(after, limits);
  return b === undefined || (before !== undefined && noRiskier(after, before)) ? undefined : b;
}

function belowMinimum(legs: readonly Leg[], pf: PortfolioView): boolean {
  return legs.some((l) => {
    const m = pf.market(l.venue, l.marketId);
    return l.shares <= 0 || (m !== undefined && l.shares < m.minSize);
  });
}
