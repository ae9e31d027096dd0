/**
 * The four strategies. Each takes opportunities of its kinds and sizes them down to its limits:
 *
 *   shares = min(opportunity shares, maxShares, capital × shares ÷ cost), floored to whole shares,
 *   every leg at that same share count (the arbitrages need equal shares to be riskless),
 *   expected edge = opportunity edge × shares ÷ opportunity shares, floored.
 *
 * The scaled edge is conservative for Polymarket (fees linear per level) and close for Kalshi (ceil-to-cent per
 * fill); the levels kept are the best ones, so a smaller size never walks further than the scanner did.
 * Opportunities below the strategy's minimum edge (absolute and in bps) or expired are ignored.
 */
import type { Opportunity, OpportunityType } from '../core/messages.ts';
import { MICRO, mulDiv } from '../core/money.ts';
import { DEFAULT_LOT } from '../scanner/depth.ts';
import type { Proposal, Strategy, StrategyContext, StrategySettings } from './types.ts';

export const DEFAULT_SETTINGS: StrategySettings = {
  minEdgeBps: 50,
  minEdge: 10_000,
  maxShares: 1_000 * MICRO,
  cooldownMs: 1_000,
  tif: 'IOC',
};

/** Sizes an opportunity to the limits; undefined when nothing worth sending is left. */
export function sizeProposal(
  o: Opportunity,
  s: StrategySettings,
  ctx: StrategyContext,
): Proposal | undefined {
  if (o.expiresAt < ctx.now) return undefined;
  if (o.edge < s.minEdge || o.edgeBps < s.minEdgeBps) return undefined;
  let shares = Math.min(o.shares, s.maxShares);
  if (o.cost > 0) shares = Math.min(shares, mulDiv(ctx.capital, o.shares, o.cost, 'floor'));
  // the opportunity states its legs' coarsest lot (from the markets); whole shares when it does not
  const lot = o.lotShares ?? DEFAULT_LOT;
  shares -= shares % lot;
  if (shares <= 0 || shares < (o.minShares ?? 0)) return undefined;
  const expectedEdge = shares === o.shares ? o.edge : mulDiv(o.edge, shares, o.shares, 'floor');
  if (expectedEdge < s.minEdge) return undefined;
  return { legs: o.legs.map((l) => ({ ...l, shares })), expectedEdge };
}

interface PluginSpec {
  readonly name: string;
  readonly description: string;
  readonly kinds: readonly OpportunityType[];
  readonly defaults?: Partial<StrategySettings>;
  /** Extra filter on top of sizing. */
  readonly accept?: (o: Opportunity) => boolean;
}

function plugin(spec: PluginSpec, overrides: Partial<StrategySettings> = {}): Strategy {
  const settings: StrategySettings = { ...DEFAULT_SETTINGS, ...spec.defaults, ...overrides };
  return {
    name: spec.name,
    description: spec.description,
    kinds: spec.kinds,
    settings,
    propose(o, ctx) {
      if (!spec.kinds.includes(o.kind)) return undefined;
      if (spec.accept && !spec.accept(o)) return undefined;
      return sizeProposal(o, settings, ctx);
    },
  };
}

const needsInventory = (o: Opportunity): boolean => o.legs.some((l) => l.side === 'sell');

/** Buys the side of a crypto market the oracle says is mispriced. Not riskless: wants a wider edge. */
export const oracleSniper = (s: Partial<StrategySettings> = {}): Strategy =>
  plugin(
    {
      name: 'oracle-sniper',
      description: 'oracle_lag: buy the side the spot price says is cheap (expected value, not riskless)',
      kinds: ['oracle_lag'],
      defaults: { minEdgeBps: 200, maxShares: 200 * MICRO, cooldownMs: 2_000 },
    },
    s,
  );

export const crossVenueArb = (s: Partial<StrategySettings> = {}): Strategy =>
  plugin(
    {
      name: 'cross-venue-arb',
      description: 'cross_venue: the same (or inverted) outcome on two venues, both sides for less than 1',
      kinds: ['cross_venue'],
      defaults: { tif: 'FOK' },
    },
    s,
  );

/** Buys YES+NO (or every outcome of a group) under 1. Sell-side rebalancing needs inventory, so it is off. */
export const rebalancingArb = (
  s: Partial<StrategySettings> & { allowInventorySells?: boolean } = {},
): Strategy => {
  const { allowInventorySells, ...settings } = s;
  return plugin(
    {
      name: 'rebalancing-arb',
      description: 'rebalancing: all outcomes of a market or negRisk group for less than 1',
      kinds: ['rebalancing'],
      defaults: { tif: 'FOK' },
      accept: (o) => allowInventorySells === true || !needsInventory(o),
    },
    settings,
  );
};

export const combinatorialArb = (s: Partial<StrategySettings> = {}): Strategy =>
  plugin(
    {
      name: 'combinatorial-arb',
      description: 'combinatorial: prices that break an implies/exclusive relation between markets',
      kinds: ['combinatorial'],
      defaults: { tif: 'FOK' },
    },
    s,
  );

export function defaultStrategies(): Strategy[] {
  return [oracleSniper(), crossVenueArb(), rebalancingArb(), combinatorialArb()];
}
