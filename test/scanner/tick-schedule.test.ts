/**
 * oracle_lag's re-pricing schedule (issue 19): a tick re-prices only the markets it is a price input of — those
 * that settle on the tick's source, and in proxy mode those whose own source is not fresh. A tick of another
 * source leaves a market priced on its own fresh source alone (it would change only the time to expiry).
 */
import { describe, expect, it } from 'vitest';
import type { OracleLink, OracleSource } from '../../src/core/messages.ts';
import type { Scanner } from '../../src/scanner/scanner.ts';
import { book, market, NO_FEES, scanner } from './build.ts';

const E8 = 100_000_000;
const MIN = 60_000;

/** An ETH "above 3,500" market settling on `feed` ('none': on CF Benchmarks, which no feed of ours quotes). */
const above = (
  id: string,
  expiry: number,
  feed: 'chainlink' | 'binance' | 'none' = 'chainlink',
): OracleLink => ({
  type: 'oracle_link',
  market: { venue: 'polymarket', marketId: id },
  symbol: 'ETH/USD',
  asset: 'ETH',
  kind: 'above',
  strike: 3_500 * E8,
  expiry,
  settlementSource: feed === 'none' ? 'cf_ethusd_rti avg60s' : feed,
  reference:
    feed === 'none'
      ? { source: 'cf_ethusd_rti', window: 'average', seconds: 60, op: '>', strikeFrom: 'venue' }
      : { source: feed, feed, window: 'point', seconds: 0, op: '>', strikeFrom: 'venue' },
  yesToken: `${id}-Y`,
  noToken: `${id}-N`,
});

function ticker(s: Scanner) {
  return (source: OracleSource, usd: number, t: number, stale = false) =>
    s.onTick({
      type: 'tick',
      source,
      symbol: source === 'binance' ? 'ETH/USDT' : 'ETH/USD',
      price: Math.round(usd * E8),
      stale,
      eventTime: t,
      receiveTime: t,
    });
}

/** A market with YES offered at 0.30 on both sides' books (NO at 0.90: no edge there). */
function listed(s: Scanner, id: string, at: number, link: OracleLink) {
  const m = market('polymarket', id, NO_FEES);
  s.onMarket(m);
  s.onOracleLink(link);
  s.onBook(book(m, `${id}-N`, [['0.90', '100']], [], { receiveTime: at }));
  return m;
}

const priced = (s: Scanner, source = 'chainlink') => s.pricingReport()[`oracle_lag|${source}`]?.priced ?? 0;
const skipped = (s: Scanner, reason: string, source = 'chainlink') =>
  s.pricingReport()[`oracle_lag|${source}`]?.skipped[reason] ?? 0;

describe('oracle_lag: which ticks re-price a market', () => {
  it('a tick of another source does not re-price a market priced on its own fresh source; its own tick and its books do', () => {
    // dedupe off: every re-pricing that finds the edge publishes it, so a re-pricing shows
    const { s, clock } = scanner(10 * MIN, { dedupe: false });
    const tick = ticker(s);
    const m = listed(s, 'eth', clock.t, above('eth', 70 * MIN));
    tick('chainlink', 3_600, clock.t);
    const first = s.onBook(book(m, 'eth-Y', [['0.30', '100']], [], { receiveTime: clock.t }));
    expect(first).toHaveLength(1);
    const n = priced(s);
    // Binance ticks (a different price, time moving on): the market settles on Chainlink, which is fresh
    for (let k = 1; k <= 5; k++) {
      clock.t += 1_000;
      expect(tick('binance', 3_400 + k, clock.t)).toEqual([]);
    }
    expect(priced(s)).toBe(n);
    // its own source's tick re-prices it, at the time it now is
    clock.t += 1_000;
    const own = tick('chainlink', 3_610, clock.t);
    expect(own).toHaveLength(1);
    expect(own[0]!.pricing).toMatchObject({ feed: 'chainlink', spot: 3_610 * E8 });
    expect(own[0]!.note).toContain(`tau ${70 * MIN - clock.t} ms`);
    // and so does an update of its book
    clock.t += 1_000;
    const onBook = s.onBook(book(m, 'eth-Y', [['0.31', '100']], [], { receiveTime: clock.t }));
    expect(onBook).toHaveLength(1);
    expect(onBook[0]!.legs[0]!.limitPrice).toBe(310_000);
    expect(priced(s)).toBe(n + 2);
  });

  it('a tick re-prices only the markets of its own source, among the markets of its asset', () => {
    const { s, clock } = scanner(10 * MIN, { dedupe: false });
    const tick = ticker(s);
    const cl = listed(s, 'on-cl', clock.t, above('on-cl', 70 * MIN, 'chainlink'));
    const bn = listed(s, 'on-bn', clock.t, above('on-bn', 70 * MIN, 'binance'));
    s.onBook(book(cl, 'on-cl-Y', [['0.30', '100']], [], { receiveTime: clock.t }));
    s.onBook(book(bn, 'on-bn-Y', [['0.30', '100']], [], { receiveTime: clock.t }));
    const onCl = tick('chainlink', 3_600, clock.t);
    expect(onCl.map((o) => o.legs[0]!.marketId)).toEqual(['on-cl']);
    const onBn = tick('binance', 3_600, clock.t);
    expect(onBn.map((o) => o.legs[0]!.marketId)).toEqual(['on-bn']);
    expect(priced(s, 'chainlink')).toBe(1);
    expect(priced(s, 'binance')).toBe(1);
  });

  it('a stale tick of its own source still stops its trading (and is counted once, not per other tick)', () => {
    const { s, clock } = scanner(10 * MIN, { dedupe: false });
    const tick = ticker(s);
    const m = listed(s, 'eth', clock.t, above('eth', 70 * MIN));
    tick('chainlink', 3_600, clock.t);
    expect(s.onBook(book(m, 'eth-Y', [['0.30', '100']], [], { receiveTime: clock.t }))).toHaveLength(1);
    clock.t += 1_000;
    const n = skipped(s, 'source_stale');
    expect(tick('chainlink', 3_600, clock.t, true)).toEqual([]);
    expect(skipped(s, 'source_stale')).toBe(n + 1);
    // Binance ticks neither price it nor count it again; a book update finds it unpriceable
    expect(tick('binance', 3_600, clock.t)).toEqual([]);
    expect(skipped(s, 'source_stale')).toBe(n + 1);
    expect(s.onBook(book(m, 'eth-Y', [['0.29', '100']], [], { receiveTime: clock.t }))).toEqual([]);
    expect(skipped(s, 'source_stale')).toBe(n + 2);
    // fresh again: its own tick prices it at once
    clock.t += 1_000;
    expect(tick('chainlink', 3_600, clock.t)).toHaveLength(1);
  });

  it('proxy mode: another source re-prices a market while its own source is stale, not while it is fresh', () => {
    const { s, clock } = scanner(10 * MIN, { dedupe: false, proxy: {} });
    const tick = ticker(s);
    const m = listed(s, 'eth', clock.t, above('eth', 70 * MIN));
    s.onBook(book(m, 'eth-Y', [['0.30', '100']], [], { receiveTime: clock.t }));
    // both fresh: the basis is measured; Chainlink prices it, Binance's ticks leave it alone
    expect(tick('chainlink', 3_600, clock.t)).toHaveLength(1);
    const n = priced(s);
    clock.t += 1_000;
    expect(tick('binance', 3_602, clock.t)).toEqual([]);
    expect(priced(s)).toBe(n);
    // Chainlink goes stale: its stale tick moves the market to the proxy, and every Binance tick re-prices it
    clock.t += 1_000;
    const moved = tick('chainlink', 3_600, clock.t, true);
    expect(moved).toHaveLength(1);
    expect(moved[0]!.pricing).toMatchObject({ feed: 'binance' });
    clock.t += 1_000;
    const proxied = tick('binance', 3_605, clock.t);
    expect(proxied).toHaveLength(1);
    expect(proxied[0]!.pricing).toMatchObject({ source: 'chainlink', feed: 'binance', spot: 3_605 * E8 });
    expect(proxied[0]!.note).toContain('proxy, basis');
    expect(priced(s)).toBe(n + 2);
  });

  it('proxy mode: a market whose own source never ticked is re-priced by another source (no basis yet: skipped)', () => {
    const { s, clock } = scanner(10 * MIN, { dedupe: false, proxy: {} });
    const tick = ticker(s);
    const m = listed(s, 'eth', clock.t, above('eth', 70 * MIN));
    s.onBook(book(m, 'eth-Y', [['0.30', '100']], [], { receiveTime: clock.t }));
    const before = skipped(s, 'basis_unmeasured');
    expect(tick('binance', 3_600, clock.t)).toEqual([]);
    expect(skipped(s, 'basis_unmeasured')).toBe(before + 1);
  });

  it('a market no feed of ours quotes is priced by no tick: its no_feed skip is counted on its book updates', () => {
    const { s, clock } = scanner(10 * MIN, { dedupe: false, proxy: {} });
    const tick = ticker(s);
    const m = listed(s, 'rti', clock.t, above('rti', 70 * MIN, 'none'));
    s.onBook(book(m, 'rti-Y', [['0.30', '100']], [], { receiveTime: clock.t }));
    const n = skipped(s, 'no_feed', 'cf_ethusd_rti');
    expect(n).toBe(2);
    tick('chainlink', 3_600, clock.t);
    tick('binance', 3_600, clock.t);
    expect(skipped(s, 'no_feed', 'cf_ethusd_rti')).toBe(n);
    expect(s.onBook(book(m, 'rti-Y', [['0.29', '100']], [], { receiveTime: clock.t }))).toEqual([]);
    expect(skipped(s, 'no_feed', 'cf_ethusd_rti')).toBe(n + 1);
  });

  it('a new oracle link that changes the settlement source moves the market to that source’s ticks', () => {
    const { s, clock } = scanner(10 * MIN, { dedupe: false });
    const tick = ticker(s);
    const m = listed(s, 'eth', clock.t, above('eth', 70 * MIN, 'chainlink'));
    s.onBook(book(m, 'eth-Y', [['0.30', '100']], [], { receiveTime: clock.t }));
    expect(tick('chainlink', 3_600, clock.t)).toHaveLength(1);
    expect(tick('binance', 3_600, clock.t)).toEqual([]);
    s.onOracleLink(above('eth', 70 * MIN, 'binance'));
    clock.t += 1_000;
    expect(tick('chainlink', 3_600, clock.t)).toEqual([]);
    const out = tick('binance', 3_600, clock.t);
    expect(out).toHaveLength(1);
    expect(out[0]!.pricing).toMatchObject({ source: 'binance', feed: 'binance' });
  });

  it('an up/down strike is captured from the own source as before, however often other sources tick', () => {
    const start = 10 * MIN;
    const link: OracleLink = {
      type: 'oracle_link',
      market: { venue: 'polymarket', marketId: 'ud' },
      symbol: 'ETH/USD',
      asset: 'ETH',
      kind: 'up_down',
      start,
      expiry: start + 15 * MIN,
      settlementSource: 'chainlink stream',
      reference: {
        source: 'chainlink',
        feed: 'chainlink',
        window: 'point',
        seconds: 0,
        op: '>=',
        strikeFrom: 'window',
      },
      yesToken: 'ud-Y',
      noToken: 'ud-N',
    };
    /** Chainlink every 10 s (3,500 at the start, 3,520 after), Binance every 250 ms; the strike when first priced. */
    const run = (binance: boolean) => {
      const { s, clock } = scanner(start - MIN);
      const tick = ticker(s);
      listed(s, 'ud', clock.t, link);
      s.onBook(
        book(market('polymarket', 'ud', NO_FEES), 'ud-Y', [['0.30', '100']], [], { receiveTime: clock.t }),
      );
      const found: { at: number; reference: number | undefined }[] = [];
      for (let t = start - MIN; t <= start + MIN; t += 250) {
        clock.t = t;
        const out =
          t % 10_000 === 0
            ? tick('chainlink', t < start ? 3_400 : t === start ? 3_500 : 3_520, t)
            : binance
              ? tick('binance', 3_700, t)
              : [];
        for (const o of out) found.push({ at: t, reference: o.pricing?.reference });
      }
      return { found, pending: skipped(s, 'strike_pending'), priced: priced(s) };
    };
    const quiet = run(false);
    const busy = run(true);
    // the strike is Chainlink's print at the start, fixed by Chainlink's first print after it (start + 10 s)
    expect(quiet.found[0]).toEqual({ at: start + 10_000, reference: 3_500 * E8 });
    expect(busy).toEqual(quiet);
  });
});
