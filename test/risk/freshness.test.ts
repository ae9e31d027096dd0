/**
 * The guardian judges freshness from the books it has seen itself: a request that claims fresh data is still
 * rejected when the guardian's book of a leg is flagged stale, or never reached it.
 * A feed process that dies silently flags nothing: the guardian rejects its venue once it has heard nothing from it
 * (no book, no heartbeat) for STALE_AFTER_MS by its own clock.
 * Impossible books are rejected by the decoders with a reason and never mark a position.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRiskGuardian } from '../../src/agents/risk-guardian.ts';
import { channels } from '../../src/core/channels.ts';
import type { Heartbeat } from '../../src/core/messages.ts';
import type { FeedEvent } from '../../src/feeds/types.ts';
import { Ledger, markFromBook } from '../../src/ledger/ledger.ts';
import { Portfolio } from '../../src/risk/portfolio.ts';
import { evaluateRequest } from '../../src/risk/rules.ts';
import { impossibleBook } from '../../src/venues/book-sanity.ts';
import { createDecoderSet } from '../../src/venues/registry.ts';
import { $, book, config, type Harness, harness, leg, market, request, sh, wideLimits } from './fixtures.ts';

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

describe('a feed process that dies silently (SIGKILL: no more books, no more heartbeats)', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  const heartbeat = (
    feed: string,
    now: number,
    details: Record<string, boolean | string> = {},
  ): Heartbeat => ({
    type: 'heartbeat',
    agent: `venue-watcher-${feed}`,
    instance: `w-${feed}`,
    state: 'running',
    pid: 1,
    host: 'h',
    ts: now,
    details: { feed, connected: true, ...details },
  });
  // $2 at risk, edge $0.50; it claims its data was received just now
  const buy = (venue: 'polymarket' | 'kalshi', marketId: string, now: number) =>
    request([leg(venue, marketId, 'buy', 0.4, 5)], {
      expectedEdge: $(0.5),
      data: [{ key: `${venue}:${marketId}-yes`, receiveTime: now }],
    });

  it('after STALE_AFTER_MS of silence by its own clock the guardian rejects requests on that venue; a quiet feed that heartbeats stays fresh', async () => {
    const guardian = createRiskGuardian();
    h = await harness([guardian], wideLimits);
    const decisions = h.collect(channels.riskDecisions);
    const staleAfter = wideLimits.risk.staleAfterMs;
    const t0 = h.clock.now();
    for (const [venue, id] of [
      ['polymarket', 'm1'],
      ['kalshi', 'k1'],
    ] as const) {
      await h.publish(channels.markets(venue), market(venue, id));
      await h.publish(channels.books(venue), book(venue, id, `${id}-yes`, [[0.39, 100]], [[0.4, 100]]));
    }
    await h.publish(channels.health, heartbeat('polymarket', t0));
    await h.publish(channels.health, heartbeat('kalshi', t0));
    await h.publish(channels.tradeRequests, buy('polymarket', 'm1', t0));
    expect(decisions.at(-1)).toMatchObject({ verdict: 'approve' });

    // the Polymarket watcher is SIGKILLed: its books stay as they were, unflagged, and nothing more arrives;
    // the Kalshi watcher lives on, its book unchanged (nobody trades), heartbeating every 5 s
    let t = t0;
    while (t < t0 + staleAfter) {
      t += 5_000;
      h.clock.advanceTo(t);
      await h.publish(channels.health, heartbeat('kalshi', t));
    }
    await h.publish(channels.tradeRequests, buy('polymarket', 'm1', t));
    expect(decisions.at(-1)).toMatchObject({ verdict: 'reject', rule: 'stale_data' });
    expect(decisions.at(-1)!.reason).toBe(
      `the polymarket feed is silent: no book, tick or heartbeat for ${t - t0} ms (limit ${staleAfter} ms)`,
    );
    await h.publish(channels.tradeRequests, buy('kalshi', 'k1', t));
    expect(decisions.at(-1)).toMatchObject({ verdict: 'approve' });

    // a restarted watcher that cannot reach its venue heartbeats disconnected: still no sign of a live feed
    await h.publish(channels.health, heartbeat('polymarket', t, { connected: false }));
    await h.publish(channels.tradeRequests, buy('polymarket', 'm1', t));
    expect(decisions.at(-1)).toMatchObject({ verdict: 'reject', rule: 'stale_data' });
    // its books flow again
    await h.publish(
      channels.books('polymarket'),
      book('polymarket', 'm1', 'm1-yes', [[0.39, 100]], [[0.4, 100]]),
    );
    await h.publish(channels.tradeRequests, buy('polymarket', 'm1', t));
    expect(decisions.at(-1)).toMatchObject({ verdict: 'approve' });
  });

  it('the rule: a leg on a feed not heard from for STALE_AFTER_MS is rejected, whatever the request claims', () => {
    const pf = portfolio();
    pf.onBook(book('polymarket', 'm1', 'm1-yes', [[0.39, 100]], [[0.4, 100]]), T0);
    const at = T0 + risk.staleAfterMs - 1;
    expect(evaluateRequest(claimsFresh(at), pf, risk, at).verdict).toBe('approve');
    const late = T0 + risk.staleAfterMs;
    expect(evaluateRequest(claimsFresh(late), pf, risk, late)).toMatchObject({
      verdict: 'reject',
      rule: 'stale_data',
    });
    // its watcher's heartbeat is a sign of life; a stopped one's is not
    pf.onFeedHeartbeat(
      {
        type: 'heartbeat',
        agent: 'venue-watcher-polymarket',
        instance: 'w',
        state: 'stopped',
        pid: 1,
        host: 'h',
        ts: late,
        details: { feed: 'polymarket', connected: true },
      },
      late,
    );
    expect(evaluateRequest(claimsFresh(late), pf, risk, late).verdict).toBe('reject');
    pf.onFeedHeartbeat(
      {
        type: 'heartbeat',
        agent: 'venue-watcher-polymarket',
        instance: 'w',
        state: 'running',
        pid: 1,
        host: 'h',
        ts: late,
        details: { feed: 'polymarket', connected: true },
      },
      late,
    );
    expect(evaluateRequest(claimsFresh(late), pf, risk, late).verdict).toBe('approve');
  });
});
