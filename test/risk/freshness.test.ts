/**
 * The guardian judges freshness from the books it has seen itself: a request that claims fresh data is still
 * rejected when the guardian's book of a leg is flagged stale, or never reached it.
 * Impossible books are rejected by the decoders with a reason and never mark a position.
 */
import { describe, expect, it } from 'vitest';
import type { FeedEvent } from '../../src/feeds/types.ts';
import { Ledger, markFromBook } from '../../src/ledger/ledger.ts';
import { Portfolio } from '../../src/risk/portfolio.ts';
import { evaluateRequest } from '../../src/risk/rules.ts';
import { impossibleBook } from '../../src/venues/book-sanity.ts';
import { createDecoderSet } from '../../src/venues/registry.ts';
import { $, book, config, leg, market, request, sh } from './fixtures.ts';

const T0 = 1_700_000_000_000;
const risk = { ...config.risk, drawdownLimitBps: 10_000, dailyLossLimitBps: 10_000 };

function portfolio(): Portfolio {
  const pf = new Portfolio({ risk });
  pf.onMarket(market('polymarket', 'm1'));
  pf.refresh(T0);
  return pf;
}

// a request that claims its data was received just now
const claimsFresh = (now: number) =>
  request([leg('polymarket', 'm1', 'buy', 0.4, 5)], {
    expectedEdge: $(0.5),
    data: [{ key: 'polymarket:m1-yes', receiveTime: now }],
  });

describe('the guardian judges freshness itself', () => {
  it('approves on a book it saw within STALE_AFTER_MS', () => {
    const pf = portfolio();
    pf.onBook(book('polymarket', 'm1', 'm1-yes', [[0.39, 100]], [[0.4, 100]]), T0);
    expect(evaluateRequest(claimsFresh(T0 + 1_000), pf, risk, T0 + 1_000).verdict).toBe('approve');
  });

  it('rejects a book its feed marked stale, and an instrument it never saw a book for', () => {
    const pf = portfolio();
    pf.onBook({ ...book('polymarket', 'm1', 'm1-yes', [[0.39, 100]], [[0.4, 100]]), stale: true }, T0);
    expect(evaluateRequest(claimsFresh(T0), pf, risk, T0).reason).toBe(
      'polymarket:m1-yes is flagged stale by its feed',
    );
    const none = portfolio();
    expect(evaluateRequest(claimsFresh(T0), none, risk, T0).reason).toBe(
      'no book for polymarket:m1-yes has reached the guardian',
    );
  });
});

describe('impossible books', () => {
  it('are named with a reason: price outside 0..1, best bid above best ask', () => {
    expect(impossibleBook({ bids: [[1_000_000, 1]], asks: [[0, 1]] })).toBe(
      'impossible book: best bid 1 above best ask 0',
    );
    expect(impossibleBook({ bids: [[1_200_000, 1]], asks: [] })).toBe(
      'impossible book: bid price 1.2 outside 0..1',
    );
    expect(impossibleBook({ bids: [], asks: [[-10_000, 1]] })).toBe(
      'impossible book: ask price -0.01 outside 0..1',
    );
    expect(impossibleBook({ bids: [[400_000, 1]], asks: [[400_000, 1]] })).toBeUndefined();
    expect(impossibleBook({ bids: [[390_000, 1]], asks: [[400_000, 1]] })).toBeUndefined();
  });

  it('are rejected at decode with the reason; the good ones go through', () => {
    const crossed = book('polymarket', 'm1', 'm1-yes', [[1, 10]], [[0, 10]]);
    const good = book('polymarket', 'm1', 'm1-yes', [[0.39, 10]], [[0.4, 10]]);
    const set = createDecoderSet([
      {
        sources: ['polymarket.ws.market'],
        decode(frame, sink) {
          sink.emit(frame.data === 'crossed' ? crossed : good);
        },
      },
    ]);
    const emitted: FeedEvent[] = [];
    const rejected: string[] = [];
    const sink = {
      emit: (e: FeedEvent) => emitted.push(e),
      reject: (_s: string, r: string) => rejected.push(r),
    };
    set.route({ source: 'polymarket.ws.market', data: 'crossed', ts: T0 }, sink);
    set.route({ source: 'polymarket.ws.market', data: 'good', ts: T0 }, sink);
    expect(rejected).toEqual(['impossible book: best bid 1 above best ask 0 (m1-yes)']);
    expect(emitted).toEqual([good]);
  });

  it('never mark a position', () => {
    const l = new Ledger({ initialCash: $(1_000) });
    l.applyFill({
      type: 'fill',
      id: 'f1',
      orderId: 'o1',
      requestId: 'r1',
      strategy: 's',
      venue: 'polymarket',
      marketId: 'm1',
      tokenId: 'm1-yes',
      side: 'buy',
      price: $(0.4),
      shares: sh(10),
      fee: 0,
      liquidity: 'taker',
      kind: 'trade',
      ts: T0,
    });
    markFromBook(l, book('polymarket', 'm1', 'm1-yes', [[0.39, 10]], [[0.4, 10]]));
    const before = l.equity();
    markFromBook(l, book('polymarket', 'm1', 'm1-yes', [[1, 10]], [[0, 10]]));
    expect(l.equity()).toBe(before);
  });
});
