import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Leg, TradeRequest } from '../../src/core/messages.ts';
import { Portfolio } from '../../src/risk/portfolio.ts';
import { evaluateRequest, platformLimit, positionLimit, type RiskConfig } from '../../src/risk/rules.ts';
import { $, book, config, fill, market, request, sh } from './fixtures.ts';

const NOW = 1_700_000_000_000;
const MARKETS = ['m1', 'm2', 'm3'];

function portfolio(risk: RiskConfig = config.risk): Portfolio {
  const pf = new Portfolio({ risk });
  for (const m of MARKETS) pf.onMarket(market('polymarket', m));
  pf.refresh(NOW);
  return pf;
}

describe('portfolio: reservations', () => {
  it('reserves on approval, moves filled shares into the ledger, releases the rest on the report', () => {
    const pf = portfolio();
    const req = request([
      {
        venue: 'polymarket',
        marketId: 'm1',
        tokenId: 'm1-yes',
        side: 'buy',
        limitPrice: $(0.4),
        shares: sh(10),
      },
    ]);
    pf.reserve(req.id, 's1', req.legs);
    expect(pf.marketExposure('polymarket', 'm1')).toBe($(4));
    expect(pf.openOrders).toBe(1);
    pf.onFill(fill({ requestId: req.id, side: 'buy', price: $(0.38), shares: sh(4) }), NOW);
    // ledger: 4 × 0.38 = 1.52; reserved: 6 × 0.40 = 2.40
    expect(pf.marketExposure('polymarket', 'm1')).toBe($(1.52) + $(2.4));
    pf.onReport({
      type: 'execution_report',
      id: 'e',
      requestId: req.id,
      strategy: 's1',
      status: 'partial',
      fills: 1,
      legRiskCost: 0,
      fees: 0,
      ts: NOW,
    });
    expect(pf.marketExposure('polymarket', 'm1')).toBe($(1.52));
    expect(pf.venueExposure('polymarket')).toBe($(1.52));
    expect(pf.strategyExposure('s1')).toBe($(1.52));
    expect(pf.openOrders).toBe(0);
  });

  it('ratchets the drawdown stop from the high-water mark and lifts it on resume', () => {
    const pf = portfolio({ ...config.risk, drawdownLimitBps: 500 });
    pf.onBook(book('polymarket', 'm1', 'm1-yes', [[0.5, 100]], [[0.52, 100]]), NOW);
    pf.onFill(fill({ side: 'buy', price: $(0.5), shares: sh(100) }), NOW);
    expect(pf.equity).toBe($(500));
    pf.onBook(book('polymarket', 'm1', 'm1-yes', [[0.7, 100]], [[0.72, 100]]), NOW);
    expect(pf.highWaterMark).toBe($(520));
    // 5% of 520 = 26: equity 494 is a 26 drawdown → halted
    pf.onBook(book('polymarket', 'm1', 'm1-yes', [[0.44, 100]], [[0.45, 100]]), NOW);
    expect(pf.drawdownHalted).toBe(true);
    pf.onBook(book('polymarket', 'm1', 'm1-yes', [[0.9, 100]], [[0.95, 100]]), NOW);
    expect(pf.drawdownHalted).toBe(true);
    pf.resume();
    expect(pf.drawdownHalted).toBe(false);
    expect(pf.highWaterMark).toBe($(540));
  });

  it('the daily-loss window re-bases at the reset hour (UTC)', () => {
    const risk = { ...config.risk, dailyLossResetHourUtc: 6 };
    const day = Date.UTC(2026, 10, 26);
    const pf = new Portfolio({ risk });
    pf.onMarket(market('polymarket', 'm1'));
    pf.onBook(book('polymarket', 'm1', 'm1-yes', [[0.5, 100]], [[0.52, 100]]), day + 5 * 3_600_000);
    pf.onFill(fill({ side: 'buy', price: $(0.5), shares: sh(100) }), day + 5 * 3_600_000);
    expect(pf.dailyStartEquity).toBe($(500));
    pf.onBook(book('polymarket', 'm1', 'm1-yes', [[0.4, 100]], [[0.52, 100]]), day + 5 * 3_600_000 + 1);
    expect(pf.dailyStartEquity).toBe($(500)); // same window: the $10 loss counts today
    pf.onBook(book('polymarket', 'm1', 'm1-yes', [[0.4, 100]], [[0.52, 100]]), day + 6 * 3_600_000);
    expect(pf.dailyStartEquity).toBe($(490)); // 06:00 UTC: a new window starts from today's equity
  });

  it('snapshot → JSON → restore gives the same state', () => {
    const pf = portfolio();
    pf.onBook(book('polymarket', 'm1', 'm1-yes', [[0.45, 100]], [[0.5, 100]]), NOW);
    pf.onFill(fill({ side: 'buy', price: $(0.5), shares: sh(20), fee: $(0.01) }), NOW);
    pf.reserve('r9', 's2', [
      {
        venue: 'polymarket',
        marketId: 'm2',
        tokenId: 'm2-yes',
        side: 'buy',
        limitPrice: $(0.3),
        shares: sh(10),
      },
    ]);
    pf.onAllocation({ type: 'allocation', allocations: { s1: $(25) }, scores: {}, ts: NOW });
    const snap = pf.snapshot();
    const back = new Portfolio({ risk: config.risk, initial: JSON.parse(JSON.stringify(snap)) });
    expect(back.snapshot()).toEqual(snap);
    expect(back.equity).toBe(pf.equity);
    expect(back.marketExposure('polymarket', 'm2')).toBe($(3));
    expect(back.allocation('s1')).toBe($(25));
    expect(back.openOrders).toBe(1);
  });
});

// ------------------------------------------------------------------ properties

type Op =
  | {
      t: 'req';
      strategy: string;
      m: number;
      token: 'yes' | 'no';
      cents: number;
      shares: number;
      two: boolean;
    }
  | { t: 'fill'; pick: number; frac: number; disc: number }
  | { t: 'report'; pick: number }
  | { t: 'mark'; m: number; cents: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    t: fc.constant('req' as const),
    strategy: fc.constantFrom('s1', 's2'),
    m: fc.nat(2),
    token: fc.constantFrom('yes' as const, 'no' as const),
    cents: fc.integer({ min: 1, max: 99 }),
    shares: fc.integer({ min: 5, max: 300 }),
    two: fc.boolean(),
  }),
  fc.record({
    t: fc.constant('fill' as const),
    pick: fc.nat(),
    frac: fc.double({ min: 0, max: 1, noNaN: true }),
    disc: fc.nat(5),
  }),
  fc.record({ t: fc.constant('report' as const), pick: fc.nat() }),
  fc.record({ t: fc.constant('mark' as const), m: fc.nat(2), cents: fc.integer({ min: 1, max: 99 }) }),
);

interface Open {
  id: string;
  strategy: string;
  legs: { leg: Leg; remaining: number }[];
}

function buildRequest(op: Extract<Op, { t: 'req' }>, id: number): TradeRequest {
  const mk = (m: number, token: string): Leg => ({
    venue: 'polymarket',
    marketId: MARKETS[m]!,
    tokenId: `${MARKETS[m]}-${token}`,
    side: 'buy',
    limitPrice: op.cents * 10_000,
    shares: sh(op.shares),
  });
  const legs = [mk(op.m, op.token)];
  if (op.two) legs.push(mk((op.m + 1) % 3, op.token === 'yes' ? 'no' : 'yes'));
  return request(legs, { id: `p-${id}`, strategy: op.strategy, expectedEdge: $(100) });
}

describe('portfolio: properties', () => {
  it('no sequence of requests, fills and price moves takes approved exposure past a limit', () => {
    const risk = { ...config.risk, maxOpenOrders: 1_000 };
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
        const pf = portfolio(risk);
        pf.onAllocation({ type: 'allocation', allocations: { s1: $(120) }, scores: {}, ts: NOW });
        const open: Open[] = [];
        let k = 0;
        for (const op of ops) {
          if (op.t === 'req') {
            const req = buildRequest(op, ++k);
            const ev = evaluateRequest(req, pf, risk, NOW);
            if (ev.verdict !== 'reject') {
              pf.reserve(req.id, req.strategy, ev.legs);
              open.push({
                id: req.id,
                strategy: req.strategy,
                legs: ev.legs.map((leg) => ({ leg, remaining: leg.shares })),
              });
            }
          } else if (op.t === 'fill' && open.length > 0) {
            const o = open[op.pick % open.length]!;
            for (const l of o.legs) {
              const q = Math.floor((l.remaining * op.frac) / 10_000) * 10_000;
              if (q <= 0) continue;
              l.remaining -= q;
              const price = Math.max(10_000, l.leg.limitPrice - op.disc * 10_000);
              pf.onFill(
                fill({
                  requestId: o.id,
                  strategy: o.strategy,
                  marketId: l.leg.marketId,
                  tokenId: l.leg.tokenId,
                  side: 'buy',
                  price,
                  shares: q,
                }),
                NOW,
              );
            }
          } else if (op.t === 'report' && open.length > 0) {
            const [o] = open.splice(op.pick % open.length, 1);
            pf.onReport({
              type: 'execution_report',
              id: 'e',
              requestId: o!.id,
              strategy: o!.strategy,
              status: 'partial',
              fills: 0,
              legRiskCost: 0,
              fees: 0,
              ts: NOW,
            });
          } else if (op.t === 'mark') {
            pf.onBook(
              book(
                'polymarket',
                MARKETS[op.m]!,
                `${MARKETS[op.m]}-yes`,
                [[op.cents / 100, 100]],
                [[0.99, 100]],
              ),
              NOW,
            );
          }
          for (const m of MARKETS)
            expect(pf.marketExposure('polymarket', m)).toBeLessThanOrEqual(positionLimit(risk));
          expect(pf.venueExposure('polymarket')).toBeLessThanOrEqual(platformLimit(risk));
          expect(pf.strategyExposure('s1')).toBeLessThanOrEqual($(120));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('nothing is approved after the drawdown stop or under the kill switch until resume', () => {
    const risk = { ...config.risk, drawdownLimitBps: 500, maxOpenOrders: 1_000 };
    const ctl = fc.oneof(
      opArb,
      fc.constant({ t: 'halt' as const }),
      fc.constant({ t: 'resume' as const }),
      fc.record({
        t: fc.constant('mark' as const),
        m: fc.constant(0),
        cents: fc.integer({ min: 1, max: 99 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(ctl, { maxLength: 80 }), (ops) => {
        const pf = portfolio(risk);
        pf.onBook(book('polymarket', 'm1', 'm1-yes', [[0.5, 100]], [[0.51, 100]]), NOW);
        pf.onFill(fill({ requestId: 'seed', side: 'buy', price: $(0.5), shares: sh(100) }), NOW);
        let stopped = false;
        let k = 0;
        for (const op of ops) {
          if (op.t === 'halt') pf.killSwitch = true;
          else if (op.t === 'resume') pf.resume();
          else if (op.t === 'mark') {
            pf.onBook(
              book(
                'polymarket',
                MARKETS[op.m]!,
                `${MARKETS[op.m]}-yes`,
                [[op.cents / 100, 100]],
                [[0.99, 100]],
              ),
              NOW,
            );
          } else if (op.t === 'req') {
            const req = buildRequest(op, ++k);
            const ev = evaluateRequest(req, pf, risk, NOW);
            if (stopped || pf.killSwitch) expect(ev.verdict).toBe('reject');
            if (ev.verdict !== 'reject') pf.reserve(req.id, req.strategy, ev.legs);
          }
          if (pf.drawdownHalted || pf.killSwitch) stopped = true;
          if (op.t === 'resume') stopped = pf.drawdownHalted;
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('portfolio: cached equity', () => {
  // the equity is cached between changes of the ledger (revision) and the settlement graph (version); after any
  // sequence of books, fills, links and resolutions it must equal the figure computed afresh
  it('equals the equity (and exposure) computed afresh after any sequence of books, fills, links and resolutions', () => {
    const tokens = ['m1-yes', 'm1-no', 'm2-yes', 'm2-no', 'm3-yes'];
    const op = fc.oneof(
      fc.record({
        k: fc.constant('book' as const),
        t: fc.integer({ min: 0, max: tokens.length - 1 }),
        bid: fc.integer({ min: 1, max: 98 }),
      }),
      fc.record({
        k: fc.constant('fill' as const),
        t: fc.integer({ min: 0, max: tokens.length - 1 }),
        price: fc.integer({ min: 1, max: 99 }),
        shares: fc.integer({ min: 1, max: 50 }),
      }),
      fc.record({
        k: fc.constant('link' as const),
        rel: fc.constantFrom('identical', 'inverted', 'different'),
      }),
      fc.record({ k: fc.constant('resolve' as const), yes: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const pf = portfolio();
        const fresh = (): number =>
          pf.ledger.equity() + (pf as unknown as { settlementAdjustment(): number }).settlementAdjustment();
        for (const o of ops) {
          if (o.k === 'book') {
            const tok = tokens[o.t]!;
            const m = tok.split('-')[0]!;
            pf.onBook(book('polymarket', m, tok, [[o.bid / 100, 100]], [[(o.bid + 1) / 100, 100]]), NOW);
          } else if (o.k === 'fill') {
            const tok = tokens[o.t]!;
            const m = tok.split('-')[0]!;
            pf.onFill(
              fill({ side: 'buy', marketId: m, tokenId: tok, price: $(o.price / 100), shares: sh(o.shares) }),
              NOW,
            );
          } else if (o.k === 'link') {
            pf.onLink({
              type: 'link',
              a: { venue: 'polymarket', marketId: 'm1' },
              b: { venue: 'polymarket', marketId: 'm2' },
              relation: o.rel,
              confidence: 1,
              stage: 'manual',
              reasons: [],
              decidedAt: 0,
            });
          } else {
            pf.onResolution({
              type: 'resolution',
              venue: 'polymarket',
              marketId: 'm3',
              winner: o.yes ? 'm3-yes' : 'm3-no',
              receiveTime: NOW,
            });
          }
          expect(pf.equity).toBe(fresh());
          // after fills alone only the touched components are valued again: the same figures as a regroup of
          // every holding from scratch
          const equity = pf.equity;
          const exposure = pf.exposure();
          const unhedged = pf.unhedgedPositions().map((p) => p.tokenId);
          (pf as unknown as { heldDirty: boolean }).heldDirty = true;
          expect(pf.exposure()).toEqual(exposure);
          expect(pf.unhedgedPositions().map((p) => p.tokenId)).toEqual(unhedged);
          expect(pf.equity).toBe(equity);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('portfolio: resolved markets', () => {
  it("forgets a resolved market's book state (seen, stale) and keeps the live ones; its position and mark stay", () => {
    const pf = portfolio();
    pf.onBook(book('polymarket', 'm1', 'm1-yes', [[0.45, 100]], [[0.5, 100]]), NOW);
    pf.onBook({ ...book('polymarket', 'm1', 'm1-no', [[0.5, 100]], [[0.55, 100]]), stale: true }, NOW);
    pf.onBook({ ...book('polymarket', 'm2', 'm2-yes', [[0.3, 100]], [[0.35, 100]]), stale: true }, NOW);
    pf.onFill(fill({ side: 'buy', price: $(0.5), shares: sh(20) }), NOW);
    const mark = pf.ledger.markOf('polymarket', 'm1-yes');
    pf.onMarket(market('polymarket', 'm1', { status: 'resolved', winner: 'm1-yes' }));
    expect(pf.bookState('polymarket', 'm1-yes')).toBeUndefined();
    expect(pf.bookState('polymarket', 'm1-no')).toBeUndefined();
    expect(pf.isStale('polymarket:m1-no')).toBe(false);
    expect(pf.bookState('polymarket', 'm2-yes')).toEqual({ at: NOW, stale: true });
    expect(pf.isStale('polymarket:m2-yes')).toBe(true);
    // a late book (delivered after the resolution on another channel) is not kept again
    pf.onBook({ ...book('polymarket', 'm1', 'm1-no', [[0.5, 100]], [[0.55, 100]]), stale: true }, NOW);
    expect(pf.bookState('polymarket', 'm1-no')).toBeUndefined();
    expect(pf.isStale('polymarket:m1-no')).toBe(false);
    // the held position and its mark stay until the settlement fill
    expect(pf.ledger.markOf('polymarket', 'm1-yes')).toBe(mark);
    expect(pf.ledger.holding('s1', 'polymarket', 'm1-yes')).toBe(sh(20));
    // a leg on the resolved market is still refused as not open, before any stale-data check
    const req = request([
      {
        venue: 'polymarket',
        marketId: 'm1',
        tokenId: 'm1-yes',
        side: 'buy',
        limitPrice: $(0.4),
        shares: sh(10),
      },
    ]);
    const d = evaluateRequest(req, pf, config.risk, NOW);
    expect([d.verdict, d.rule]).toEqual(['reject', 'unknown_market']);
  });
});
