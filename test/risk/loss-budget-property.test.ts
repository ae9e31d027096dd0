/**
 * The loss budgets hold: for any sequence of trade requests (naked binaries, YES+NO of one market, identical and
 * inverted cross-venue pairs, a complete negRisk set, exits), fills of what the guardian approved (partial, in
 * several pieces, at any price within the limit, legs of a bundle filling alone and unwound at any price), price
 * moves (any bid, or none), settlements (consistent with the links and the group) and the clock crossing daily
 * resets, the drawdown from the high-water mark never exceeds DRAWDOWN_LIMIT_PCT of it, and the loss below the
 * day's starting equity never exceeds DAILY_LOSS_LIMIT_PCT of it — by more than the per-fill rounding of fees of
 * the fills since the last approval (src/risk/loss-budget.ts says why).
 *
 * The guardian's own pieces run here (Portfolio + evaluateRequest), as the agent runs them, without the bus.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/core/config.ts';
import { tradeFee } from '../../src/core/fees.ts';
import type { Fill, Leg, Market, MarketLink, TradeRequest, Venue } from '../../src/core/messages.ts';
import { CENT, ONE } from '../../src/core/money.ts';
import { breach, limitOf, SETTLEMENT_GRACE_MS } from '../../src/risk/loss-budget.ts';
import { Portfolio } from '../../src/risk/portfolio.ts';
import { evaluateRequest, lotSize, type PortfolioView } from '../../src/risk/rules.ts';
import { KALSHI_STANDARD_FEES } from '../../src/venues/kalshi/fees.ts';
import { config, market } from './fixtures.ts';

const T0 = Date.UTC(2026, 10, 26, 14); // 14:00 UTC; the daily window resets at 00:00 UTC
const POLY_FEES = { kind: 'polymarket', rate: 70_000, exponent: 1, takerOnly: true, rebateRate: 0 } as const;

const cfg: Config['risk'] = {
  ...config.risk,
  // the budgets under test; the other caps out of the way so the budgets do the work
  positionLimitBps: 10_000,
  platformLimitBps: 10_000,
  maxOpenOrders: 1_000,
  minEdgeBps: 0,
};

function world(): { markets: Market[]; links: MarketLink[] } {
  const poly = (id: string, over: Partial<Market> = {}) =>
    market('polymarket', id, { fees: POLY_FEES, minSize: ONE, ...over });
  const kalshi = (id: string, over: Partial<Market> = {}) =>
    market('kalshi', id, { fees: KALSHI_STANDARD_FEES, minSize: ONE, ...over });
  const markets = [
    poly('P1', { endTime: T0 + 2 * 3_600_000 }),
    kalshi('K1', { endTime: T0 + 2 * 3_600_000 }),
    poly('P2'),
    kalshi('K2'),
    poly('G1', { negRiskGroup: 'g' }),
    poly('G2', { negRiskGroup: 'g' }),
    poly('G3', { negRiskGroup: 'g' }),
    kalshi('S1', { endTime: T0 + 30 * 60_000 }),
  ];
  const link = (
    a: string,
    av: Venue,
    b: string,
    bv: Venue,
    relation: MarketLink['relation'],
  ): MarketLink => ({
    type: 'link',
    a: { venue: av, marketId: a },
    b: { venue: bv, marketId: b },
    relation,
    confidence: 1,
    stage: 'rules',
    reasons: [],
    decidedAt: 0,
  });
  return {
    markets,
    links: [
      link('P1', 'polymarket', 'K1', 'kalshi', 'identical'),
      link('P2', 'polymarket', 'K2', 'kalshi', 'inverted'),
    ],
  };
}

/** Request templates: [market, outcome, side] per leg. */
const TEMPLATES: readonly (readonly [string, 'yes' | 'no', 'buy' | 'sell'][])[] = [
  [['P1', 'yes', 'buy']],
  [['K1', 'no', 'buy']],
  [['S1', 'yes', 'buy']],
  [['G2', 'yes', 'buy']],
  [['P2', 'no', 'buy']],
  [
    ['P1', 'yes', 'buy'],
    ['K1', 'no', 'buy'],
  ],
  [
    ['P2', 'yes', 'buy'],
    ['K2', 'yes', 'buy'],
  ],
  [
    ['G1', 'yes', 'buy'],
    ['G2', 'yes', 'buy'],
    ['G3', 'yes', 'buy'],
  ],
  [
    ['P1', 'yes', 'buy'],
    ['P1', 'no', 'buy'],
  ],
  [['P1', 'yes', 'sell']],
  [['S1', 'yes', 'sell']],
  [
    ['P1', 'yes', 'sell'],
    ['K1', 'no', 'sell'],
  ],
];

const op = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('request' as const),
      template: fc.nat(TEMPLATES.length - 1),
      strategy: fc.constantFrom('a', 'b'),
      shares: fc.integer({ min: 1, max: 400 }),
      cents: fc.array(fc.integer({ min: 1, max: 99 }), { minLength: 3, maxLength: 3 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('fill' as const),
      pick: fc.nat(9),
      parts: fc.array(
        fc.record({
          share: fc.integer({ min: 0, max: 100 }),
          pieces: fc.integer({ min: 1, max: 3 }),
          at: fc.nat(99),
        }),
        { minLength: 3, maxLength: 3 },
      ),
      unwind: fc.option(
        fc.record({
          leg: fc.nat(2),
          share: fc.integer({ min: 1, max: 100 }),
          cents: fc.integer({ min: 1, max: 99 }),
        }),
      ),
      report: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('price' as const),
      // mostly a token the book holds or has in flight (what can move the equity), else any
      held: fc.boolean(),
      token: fc.nat(15),
      bid: fc.option(fc.oneof(fc.constantFrom(1, 99), fc.integer({ min: 1, max: 99 })), { freq: 6 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('settle' as const),
      held: fc.boolean(),
      market: fc.nat(7),
      outcome: fc.nat(5),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('time' as const),
      minutes: fc.integer({ min: 1, max: 12 * 60 }),
    }),
  },
);

interface InFlight {
  req: TradeRequest;
  legs: readonly Leg[];
  /** shares of each leg not filled yet */
  left: number[];
}

/** Most a fill can cost or bring in beyond the bound the budget used: fee rounding, and notional rounding. */
const rounding = (f: Fill): number => (f.venue === 'kalshi' ? CENT : 10) + 1;

type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

function run(ops: readonly Op[]): void {
  const { markets, links } = world();
  const byId = new Map(markets.map((m) => [m.marketId, m]));
  const pf = new Portfolio({ risk: cfg });
  let now = T0;
  for (const m of markets) pf.onMarket(m);
  for (const l of links) pf.onLink(l);
  pf.refresh(now);
  const tokens = markets.flatMap((m) => m.outcomes.map((o) => ({ m, tokenId: o.tokenId })));
  const inflight: InFlight[] = [];
  const resolved = new Map<string, string>();
  let fillN = 0;
  let reqN = 0;
  let tolerance = 0;
  let hwm = pf.equity;
  let dayStart = pf.equity;
  let dayEnd = pf.nextDailyReset;

  const check = (what: string): void => {
    const eq = pf.equity;
    if (now >= dayEnd) {
      dayStart = eq;
      dayEnd = pf.nextDailyReset;
    }
    if (eq > hwm) hwm = eq;
    const dd = hwm - eq;
    const loss = dayStart - eq;
    expect(dd, `${what}: drawdown from ${hwm}`).toBeLessThanOrEqual(
      limitOf(hwm, cfg.drawdownLimitBps) + tolerance,
    );
    expect(loss, `${what}: daily loss from ${dayStart}`).toBeLessThanOrEqual(
      limitOf(dayStart, cfg.dailyLossLimitBps) + tolerance,
    );
  };
  const fill = (f: Omit<Fill, 'type' | 'id' | 'orderId' | 'liquidity' | 'ts'>): void => {
    const full: Fill = { ...f, type: 'fill', id: `f${++fillN}`, orderId: 'o', liquidity: 'taker', ts: now };
    if (full.kind !== 'settlement') tolerance += rounding(full);
    pf.onFill(full, now);
    check(`fill ${full.id}`);
  };
  /** A fill of a request's leg at `price` (the venue's taker fee on it). */
  const legFill = (
    x: InFlight,
    l: Leg,
    side: Leg['side'],
    price: number,
    shares: number,
    kind: Fill['kind'],
  ) =>
    fill({
      requestId: x.req.id,
      strategy: x.req.strategy,
      venue: l.venue,
      marketId: l.marketId,
      tokenId: l.tokenId,
      side,
      price,
      shares,
      fee: tradeFee(byId.get(l.marketId)!.fees, price, shares, 'taker'),
      kind,
    });
  const report = (x: InFlight): void => {
    pf.onReport({
      type: 'execution_report',
      id: `e-${x.req.id}`,
      requestId: x.req.id,
      strategy: x.req.strategy,
      status: 'partial',
      fills: 0,
      legRiskCost: 0,
      fees: 0,
      ts: now,
    });
    inflight.splice(inflight.indexOf(x), 1);
  };
  const settle = (m: Market, winnerToken: string): void => {
    if (resolved.has(m.marketId)) return;
    for (const x of [...inflight]) if (x.legs.some((l) => l.marketId === m.marketId)) report(x);
    resolved.set(m.marketId, winnerToken);
    pf.onResolution({
      type: 'resolution',
      venue: m.venue,
      marketId: m.marketId,
      winner: winnerToken,
      receiveTime: now,
    });
    pf.onMarket({ ...m, status: 'resolved', winner: winnerToken });
    for (const p of pf.ledger.positions().filter((q) => q.venue === m.venue && q.marketId === m.marketId)) {
      fill({
        requestId: `settle:${m.marketId}`,
        strategy: p.strategy,
        venue: p.venue,
        marketId: p.marketId,
        tokenId: p.tokenId,
        side: 'sell',
        price: p.tokenId === winnerToken ? ONE : 0,
        shares: p.shares,
        fee: 0,
        kind: 'settlement',
      });
    }
  };
  /** Settles a market and whatever its links and group decide with it, consistently. */
  const settleConsistently = (m: Market, outcome: number): void => {
    const yes = (id: string) => `${id}-yes`;
    const no = (id: string) => `${id}-no`;
    const pick = (id: string, isYes: boolean) => settle(byId.get(id)!, isYes ? yes(id) : no(id));
    const y = outcome % 2 === 0;
    const known = (id: string): boolean | undefined =>
      resolved.has(id) ? resolved.get(id) === yes(id) : undefined;
    switch (m.marketId) {
      case 'P1':
      case 'K1': {
        const v = known('P1') ?? known('K1') ?? y;
        pick(m.marketId, v);
        break;
      }
      case 'P2':
      case 'K2': {
        const other = m.marketId === 'P2' ? 'K2' : 'P2';
        const o = known(other);
        pick(m.marketId, o === undefined ? y : !o);
        break;
      }
      case 'G1':
      case 'G2':
      case 'G3': {
        const winner = ['G1', 'G2', 'G3'].find((g) => known(g) === true) ?? ['G1', 'G2', 'G3'][outcome % 3]!;
        pick(m.marketId, m.marketId === winner);
        break;
      }
      default:
        pick(m.marketId, y);
    }
  };

  check('start');
  for (const o of ops) {
    switch (o.kind) {
      case 'request': {
        const legs: Leg[] = TEMPLATES[o.template]!.map(([id, side, dir], i) => {
          const m = byId.get(id)!;
          return {
            venue: m.venue,
            marketId: id,
            tokenId: `${id}-${side}`,
            side: dir,
            limitPrice: o.cents[i]! * CENT,
            shares: o.shares * ONE,
          };
        });
        if (legs.some((l) => resolved.has(l.marketId))) break;
        const req: TradeRequest = {
          type: 'trade_request',
          id: `r${++reqN}`,
          strategy: o.strategy,
          legs,
          tif: 'IOC',
          expectedEdge: ONE,
          createdAt: now,
          data: [],
        };
        pf.refresh(now);
        // the cheap bounds the guardian decides on when it can are never tighter than the exact figures
        const extra = pf.pendingLegs(legs);
        const exact = pf.exposure(extra);
        const bound = pf.exposureBound(extra);
        expect(bound.worstEquity).toBeLessThanOrEqual(exact.worstEquity);
        expect(bound.peakEquity).toBeGreaterThanOrEqual(exact.peakEquity);
        expect(bound.carriedSwing).toBeGreaterThanOrEqual(exact.carriedSwing);
        expect(pf.strategySwingBound(req.strategy, extra)).toBeGreaterThanOrEqual(
          pf.strategySwing(req.strategy, extra),
        );
        const ev = evaluateRequest(req, pf, cfg, now);
        // and deciding on them changes no decision: the same verdict, rule, reason and sizes as on the exact ones
        expect(evaluateRequest(req, exactOnly(pf), cfg, now)).toEqual(ev);
        if (ev.verdict === 'reject') break;
        pf.reserve(req.id, req.strategy, ev.legs);
        inflight.push({ req, legs: ev.legs, left: ev.legs.map((l) => l.shares) });
        // a fitting approval re-establishes the bound: rounding counts again from here
        if (breach(pf.exposure(), pf.budgetLimits()) === undefined) tolerance = 0;
        break;
      }
      case 'fill': {
        if (inflight.length === 0) break;
        const x = inflight[o.pick % inflight.length]!;
        const filled: number[] = [];
        x.legs.forEach((l, i) => {
          const lot = lotSize(l.venue);
          const part = o.parts[i]!;
          let want = Math.floor((x.left[i]! * part.share) / 100 / lot) * lot;
          if (l.side === 'sell') want = Math.min(want, pf.ledger.holding(x.req.strategy, l.venue, l.tokenId));
          x.left[i]! -= want;
          filled.push(want);
          let left = want;
          for (let k = 0; k < part.pieces && left > 0; k++) {
            const n = k === part.pieces - 1 ? left : Math.max(lot, Math.floor(left / 2 / lot) * lot);
            left -= n;
            // a buy fills at or below its limit, a sell at or above, on the cent grid (`at` 0: at the limit)
            const limitC = l.limitPrice / CENT;
            const c =
              l.side === 'buy'
                ? limitC - ((part.at + k) % limitC)
                : limitC + ((part.at + k) % (100 - limitC));
            legFill(x, l, l.side, c * CENT, n, 'trade');
          }
        });
        // a leg of a group filled alone: unwound at any price that does not beat its limit (it trades into
        // the other side of the book the leg just took)
        if (o.unwind && x.legs.length > 1) {
          const i = o.unwind.leg % x.legs.length;
          const l = x.legs[i]!;
          const lot = lotSize(l.venue);
          let n = Math.floor((filled[i]! * o.unwind.share) / 100 / lot) * lot;
          if (l.side === 'buy') n = Math.min(n, pf.ledger.holding(x.req.strategy, l.venue, l.tokenId));
          if (n > 0) {
            const limitC = l.limitPrice / CENT;
            const c = o.unwind.cents;
            const price = (l.side === 'buy' ? Math.min(c, limitC) : Math.max(c, limitC)) * CENT;
            legFill(x, l, l.side === 'buy' ? 'sell' : 'buy', price, n, 'unwind');
          }
        }
        if (o.report) report(x);
        break;
      }
      case 'price': {
        const held = pf.ledger.positions().map((p) => tokens.find((t) => t.tokenId === p.tokenId)!);
        const t = o.held && held.length > 0 ? held[o.token % held.length]! : tokens[o.token % tokens.length]!;
        if (resolved.has(t.m.marketId)) break;
        pf.onBook(
          {
            type: 'book',
            venue: t.m.venue,
            marketId: t.m.marketId,
            tokenId: t.tokenId,
            bids: o.bid === null ? [] : [[o.bid * CENT, 100 * ONE]],
            asks: [],
            stale: false,
            receiveTime: now,
          },
          now,
        );
        check('price');
        break;
      }
      case 'settle': {
        const held = pf.ledger.positions().map((p) => byId.get(p.marketId)!);
        const m =
          o.held && held.length > 0 ? held[o.market % held.length]! : markets[o.market % markets.length]!;
        settleConsistently(m, o.outcome);
        break;
      }
      case 'time': {
        const to = now + o.minutes * 60_000;
        // markets settle by their end (plus the grace the carry rule allows)
        for (const m of markets)
          if (m.endTime !== null && m.endTime + SETTLEMENT_GRACE_MS <= to && !resolved.has(m.marketId))
            settleConsistently(m, to);
        now = to;
        pf.refresh(now);
        check('time');
        break;
      }
    }
  }
}

/** Shorthands for hand-written sequences. */
const req = (template: number, shares: number, cents: number[], strategy: 'a' | 'b' = 'a'): Op => ({
  kind: 'request',
  template,
  strategy,
  shares,
  cents: [...cents, 50, 50, 50].slice(0, 3),
});
const fillAll = (unwind?: { leg: number; share: number; cents: number }, pieces = 1): Op => ({
  kind: 'fill',
  pick: 0,
  parts: [0, 1, 2].map(() => ({ share: 100, pieces, at: 0 })),
  unwind: unwind ?? null,
  report: true,
});
const fillLeg = (leg: number, unwindCents: number): Op => ({
  kind: 'fill',
  pick: 0,
  parts: [0, 1, 2].map((i) => ({ share: i === leg ? 100 : 0, pieces: 1, at: 0 })),
  unwind: { leg, share: 100, cents: unwindCents },
  report: true,
});
const bid = (cents: number | null): Op => ({ kind: 'price', held: true, token: 0, bid: cents });
const bidOn = (token: number, cents: number | null): Op => ({ kind: 'price', held: true, token, bid: cents });
const settleHeld = (outcome: number, market = 0): Op => ({ kind: 'settle', held: true, market, outcome });
const later = (minutes: number): Op => ({ kind: 'time', minutes });

/** The portfolio without its cheap bounds: the loss budget on the exact exposure alone. */
function exactOnly(pf: Portfolio): PortfolioView {
  return new Proxy(pf, {
    get(target, key) {
      if (key === 'exposureBound' || key === 'strategySwingBound') return undefined;
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

describe('loss budgets', () => {
  // each scenario breaks a limit when one part of the model is left out (checked by removing it)
  it('a cheap binary that runs to $1 and then settles worthless: the peak the high-water mark can reach', () => {
    // S1 YES at 1 cent, marked at 99 cents, settles NO
    run([req(2, 400, [1]), fillAll(), bid(99), settleHeld(1)]);
  });

  it('a leg of a bundle that fills alone and is unwound at 1 cent: leg risk', () => {
    for (const t of [5, 6, 7, 8])
      run([req(t, 400, [45, 50, 30]), fillLeg(0, 1), req(t, 400, [45, 50, 30]), fillLeg(1, 1)]);
    // the leg would have hedged what the book holds (K1 NO), but was sold back for nothing: P1 settles YES
    run([req(1, 100, [40]), fillAll(), req(8, 100, [50, 1]), fillLeg(0, 1), settleHeld(0)]);
  });

  it('a position carried over the daily reset that loses the next day: the carried swing', () => {
    // P2 NO has no end time: bought cheap, marked up before midnight, worthless after it
    run([req(4, 400, [5]), fillAll(), bid(99), later(11 * 60), bid(1), settleHeld(0)]);
  });

  it('hedged bundles whose bids both sag: valued at what they are sure to be paid', () => {
    // each set is cheap in the budget once filled, so three rounds build a book worth far more than the daily limit
    const set = [req(8, 300, [48, 49]), fillAll()];
    run([...set, ...set, ...set, bidOn(0, 1), bidOn(1, 1)]);
    run([req(5, 300, [48, 49]), fillAll(), bidOn(0, 1), bidOn(1, 1), settleHeld(2, 0), settleHeld(2, 0)]);
    run([
      req(7, 200, [30, 30, 30]),
      fillAll(undefined, 3),
      bidOn(0, 1),
      bidOn(1, 1),
      bidOn(2, 1),
      settleHeld(1),
    ]);
  });

  it('no sequence of requests, fills, price moves, settlements and resets breaks the drawdown or daily-loss limit', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => {
        run(ops);
      }),
      { numRuns: Number(process.env.PROP_RUNS ?? 300) },
    );
  });
});
