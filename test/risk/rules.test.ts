import { describe, expect, it } from 'vitest';
import type { Market, TradeRequest, Venue } from '../../src/core/messages.ts';
import {
  dailyWindowStart,
  evaluateRequest,
  legCost,
  type PortfolioView,
  type RiskConfig,
} from '../../src/risk/rules.ts';
import { $, config, leg, market, request, sh } from './fixtures.ts';

// Defaults: bankroll $500 → position limit 10% = $50, platform 50% = $250, drawdown 20%, daily loss 10%,
// 20 open orders, min edge 50 bps, stale after 5 s.
const cfg: RiskConfig = config.risk;
const NOW = 1_700_000_000_000;

function view(over: Partial<Omit<PortfolioView, 'market'>> & { markets?: Market[] } = {}): PortfolioView {
  const markets = new Map(
    (over.markets ?? [market('polymarket', 'm1'), market('kalshi', 'k1')]).map((m) => [
      `${m.venue}:${m.marketId}`,
      m,
    ]),
  );
  return {
    killSwitch: false,
    drawdownHalted: false,
    equity: $(500),
    highWaterMark: $(500),
    dailyStartEquity: $(500),
    openOrders: 0,
    marketExposure: () => 0,
    venueExposure: () => 0,
    strategyExposure: () => 0,
    allocation: () => undefined,
    available: () => 0,
    isStale: () => false,
    ...over,
    market: (v: Venue, id: string) => markets.get(`${v}:${id}`),
  };
}

const buy10 = (over: Partial<TradeRequest> = {}): TradeRequest =>
  request([leg('polymarket', 'm1', 'buy', 0.4, 10)], { expectedEdge: $(0.1), ...over });

describe('risk rules (hand-computed)', () => {
  it('approves a clean request: $4.00 at risk, edge $0.10 = 250 bps', () => {
    const ev = evaluateRequest(buy10(), view(), cfg, NOW);
    expect(ev).toMatchObject({ verdict: 'approve', rule: 'ok' });
    expect(ev.legs[0]!.shares).toBe(sh(10));
  });

  it.each([
    ['zero size', [{ ...leg('polymarket', 'm1', 'buy', 0.4, 10), shares: 0 }], 'invalid_request'],
    ['negative size', [{ ...leg('polymarket', 'm1', 'buy', 0.4, 10), shares: -5 }], 'invalid_request'],
    ['price 0', [leg('polymarket', 'm1', 'buy', 0, 10)], 'invalid_request'],
    ['price 1', [leg('polymarket', 'm1', 'buy', 1, 10)], 'invalid_request'],
    [
      'fractional micro price',
      [{ ...leg('polymarket', 'm1', 'buy', 0.4, 10), limitPrice: 0.5 }],
      'invalid_request',
    ],
    [
      'unknown venue',
      [{ ...leg('polymarket', 'm1', 'buy', 0.4, 10), venue: 'nyse' as Venue }],
      'invalid_request',
    ],
    ['unknown market', [leg('polymarket', 'nope', 'buy', 0.4, 10)], 'unknown_market'],
    ['unknown token', [{ ...leg('polymarket', 'm1', 'buy', 0.4, 10), tokenId: 'x' }], 'unknown_market'],
    ['below min size (5 shares)', [leg('polymarket', 'm1', 'buy', 0.4, 4)], 'invalid_request'],
    ['missing leg', [undefined], 'invalid_request'],
    ['no legs', [], 'invalid_request'],
  ])('rejects bad input: %s', (_name, legs, rule) => {
    const ev = evaluateRequest(request(legs as never), view(), cfg, NOW);
    expect(ev.verdict).toBe('reject');
    expect(ev.rule).toBe(rule);
    expect(ev.legs).toEqual([]);
    expect(ev.reason.length).toBeGreaterThan(0);
  });

  it('rejects a leg in a closed market', () => {
    const ev = evaluateRequest(
      buy10(),
      view({ markets: [market('polymarket', 'm1', { status: 'closed' })] }),
      cfg,
      NOW,
    );
    expect(ev).toMatchObject({ verdict: 'reject', rule: 'unknown_market' });
  });

  it('rejects everything under the kill switch', () => {
    expect(evaluateRequest(buy10(), view({ killSwitch: true }), cfg, NOW)).toMatchObject({
      verdict: 'reject',
      rule: 'kill_switch',
    });
  });

  it('drawdown stop: $100 below a $500 high-water mark is 20% → halt; $99 is not', () => {
    expect(evaluateRequest(buy10(), view({ equity: $(400), dailyStartEquity: $(400) }), cfg, NOW).rule).toBe(
      'drawdown_stop',
    );
    expect(
      evaluateRequest(buy10(), view({ equity: $(401), dailyStartEquity: $(401) }), cfg, NOW).verdict,
    ).toBe('approve');
    // the ratchet: once fired it holds even after equity recovers
    expect(evaluateRequest(buy10(), view({ drawdownHalted: true }), cfg, NOW).rule).toBe('drawdown_stop');
  });

  it('daily loss: $50 down from a $500 day start is 10% → reject; $49.99 is not', () => {
    const hwm = { highWaterMark: $(500) };
    expect(evaluateRequest(buy10(), view({ ...hwm, equity: $(450) }), cfg, NOW).rule).toBe('daily_loss');
    expect(evaluateRequest(buy10(), view({ ...hwm, equity: $(450.01) }), cfg, NOW).verdict).toBe('approve');
  });

  it('daily window opens at the configured UTC hour', () => {
    const day = Date.UTC(2026, 10, 26);
    expect(dailyWindowStart(day + 3 * 3_600_000, 0)).toBe(day);
    expect(dailyWindowStart(day + 3 * 3_600_000, 5)).toBe(day - 19 * 3_600_000);
    expect(dailyWindowStart(day + 5 * 3_600_000, 5)).toBe(day + 5 * 3_600_000);
  });

  it('stale data: a stamp whose book its feed flags stale is rejected; an old but live book is fine', () => {
    const req = buy10({ data: [{ key: 'polymarket:m1-yes', receiveTime: NOW - 600_000 }] });
    const flagged = view({ isStale: (k) => k === 'polymarket:m1-yes' });
    expect(evaluateRequest(req, flagged, cfg, NOW)).toMatchObject({ verdict: 'reject', rule: 'stale_data' });
    // ten minutes without a trade is not staleness
    expect(evaluateRequest(req, view(), cfg, NOW).verdict).toBe('approve');
  });

  it('minimum edge: $0.0199 on $4.00 is 49 bps < 50 → reject; $0.02 = 50 bps passes', () => {
    expect(evaluateRequest(buy10({ expectedEdge: $(0.0199) }), view(), cfg, NOW).rule).toBe('min_edge');
    expect(evaluateRequest(buy10({ expectedEdge: $(0.02) }), view(), cfg, NOW).verdict).toBe('approve');
  });

  it('minimum edge counts the Kalshi taker fee in the capital: 10 @ 0.40 costs $4.17', () => {
    const k = leg('kalshi', 'k1', 'buy', 0.4, 10);
    // fee = ceil(0.07 × 10 × 0.4 × 0.6 = 0.168) to the cent = $0.17
    expect(legCost(k, market('kalshi', 'k1'))).toBe($(4.17));
    // 50 bps of 4.17 = 0.02085 → 0.0208 fails, 0.0209 passes
    expect(evaluateRequest(request([k], { expectedEdge: $(0.0208) }), view(), cfg, NOW).rule).toBe(
      'min_edge',
    );
    expect(evaluateRequest(request([k], { expectedEdge: $(0.0209) }), view(), cfg, NOW).verdict).toBe(
      'approve',
    );
  });

  it('max open orders: 19 open + 2 legs > 20 → reject; 18 + 2 passes', () => {
    const two = request(
      [leg('polymarket', 'm1', 'buy', 0.4, 10), leg('polymarket', 'm1', 'buy', 0.5, 10, 'no')],
      {
        expectedEdge: $(0.5),
      },
    );
    expect(evaluateRequest(two, view({ openOrders: 19 }), cfg, NOW).rule).toBe('max_open_orders');
    expect(evaluateRequest(two, view({ openOrders: 18 }), cfg, NOW).verdict).toBe('approve');
  });

  it('position limit: $46 used + $10 asked > $50 → reduced to the $4 headroom (10 shares)', () => {
    const req = request([leg('polymarket', 'm1', 'buy', 0.4, 25)], { expectedEdge: $(0.5) });
    const ev = evaluateRequest(req, view({ marketExposure: () => $(46) }), cfg, NOW);
    expect(ev.verdict).toBe('reduce');
    expect(ev.rule).toBe('position_limit');
    expect(ev.legs[0]!.shares).toBe(sh(10));
    expect(ev.expectedEdge).toBe($(0.2));
    expect(evaluateRequest(req, view({ marketExposure: () => $(50) }), cfg, NOW)).toMatchObject({
      verdict: 'reject',
      rule: 'position_limit',
    });
  });

  it('platform limit: $248 used leaves $2 = 5 shares (the minimum); $249 leaves no valid size', () => {
    const req = request([leg('polymarket', 'm1', 'buy', 0.4, 25)], { expectedEdge: $(0.5) });
    const ev = evaluateRequest(req, view({ venueExposure: () => $(248) }), cfg, NOW);
    expect(ev).toMatchObject({ verdict: 'reduce', rule: 'platform_limit' });
    expect(ev.legs[0]!.shares).toBe(sh(5));
    expect(evaluateRequest(req, view({ venueExposure: () => $(249) }), cfg, NOW)).toMatchObject({
      verdict: 'reject',
      rule: 'platform_limit',
    });
  });

  it('allocation cap: $6 allocated, $2 used → 25 shares cut to 10', () => {
    const req = request([leg('polymarket', 'm1', 'buy', 0.4, 25)], { expectedEdge: $(0.5) });
    const ev = evaluateRequest(req, view({ allocation: () => $(6), strategyExposure: () => $(2) }), cfg, NOW);
    expect(ev).toMatchObject({ verdict: 'reduce', rule: 'allocation_cap' });
    expect(ev.legs[0]!.shares).toBe(sh(10));
  });

  it('reduction keeps multi-leg groups in proportion and picks the tightest cap', () => {
    const req = request(
      [leg('polymarket', 'm1', 'buy', 0.4, 50), leg('polymarket', 'm1', 'buy', 0.5, 50, 'no')],
      { expectedEdge: $(4.5) },
    );
    // cost $45 in m1; market headroom $27 → 60% → 30 shares each; allocation headroom $36 is looser
    const ev = evaluateRequest(
      req,
      view({ marketExposure: () => $(23), allocation: () => $(36), strategyExposure: () => 0 }),
      cfg,
      NOW,
    );
    expect(ev).toMatchObject({ verdict: 'reduce', rule: 'position_limit' });
    expect(ev.legs.map((l) => l.shares)).toEqual([sh(30), sh(30)]);
  });

  it('Kalshi reductions are whole contracts', () => {
    const req = request([leg('kalshi', 'k1', 'buy', 0.4, 20)], { expectedEdge: $(1) });
    // cost 20 × 0.40 + ceil(0.336) = $8.34; headroom $5 → 11.99 → 11 contracts ($4.40 + $0.19 = $4.59)
    const ev = evaluateRequest(req, view({ allocation: () => $(5) }), cfg, NOW);
    expect(ev.verdict).toBe('reduce');
    expect(ev.legs[0]!.shares).toBe(sh(11));
  });

  it('sells need inventory held by the strategy', () => {
    const sell = request([leg('polymarket', 'm1', 'sell', 0.4, 10)], { expectedEdge: 0 });
    expect(evaluateRequest(sell, view({ available: () => sh(9) }), cfg, NOW)).toMatchObject({
      verdict: 'reject',
      rule: 'no_inventory',
    });
    expect(evaluateRequest(sell, view({ available: () => sh(10) }), cfg, NOW).verdict).toBe('approve');
  });

  it('never throws on garbage', () => {
    for (const junk of [
      {},
      { legs: null },
      { legs: [null], strategy: 's' },
      { id: 'x', legs: [{}], strategy: 's', tif: 'IOC' },
    ]) {
      const ev = evaluateRequest(junk as never, view(), cfg, NOW);
      expect(ev.verdict).toBe('reject');
    }
  });
});
