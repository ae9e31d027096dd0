import { describe, expect, it } from 'vitest';
import { extractFacts, NO_SCOPE, oracleLinkOf, scopeFacts } from '../../src/matcher/facts.ts';
import { fixtureJson } from '../helpers/fixtures.ts';
import {
  gammaUpDown,
  kxBelow100k12,
  kxRange99750,
  kxT100k12,
  kxT100k13,
  pm,
  pmBinance100k,
  pmBrti100k,
} from './cases.ts';

const E8 = 100_000_000;

describe('settlement facts', () => {
  it('reads a Kalshi threshold ticker: date and hour from the ticker, index and window from the rules', () => {
    const f = extractFacts(kxT100k12);
    expect(f.crypto).toMatchObject({
      asset: 'BTC',
      kind: 'above',
      op: '>',
      strike: 100_000 * E8,
      expiryFrom: 'ticker',
    });
    expect(new Date(f.crypto!.expiry!).toISOString()).toBe('2026-12-31T17:00:00.000Z');
    expect(f.source).toBe('cf_brti');
    expect(f.window).toBe('avg60s');
    expect(f.unread).toEqual([]);
    expect(new Date(extractFacts(kxT100k13).crypto!.expiry!).toISOString()).toBe('2026-12-31T18:00:00.000Z');
  });

  it('reads "or below" as <= and a Kalshi range bucket', () => {
    expect(extractFacts(kxBelow100k12).crypto).toMatchObject({
      kind: 'below',
      op: '<=',
      strike: 100_000 * E8,
    });
    expect(extractFacts(kxRange99750).crypto).toMatchObject({
      kind: 'range',
      strike: 99_500 * E8,
      upper: 99_999.99 * E8,
    });
  });

  it('reads a Polymarket Binance candle market with the hour only in the rules', () => {
    const f = extractFacts(pmBinance100k);
    expect(f.crypto).toMatchObject({ kind: 'above', op: '>', strike: 100_000 * E8, expiryFrom: 'text' });
    expect(new Date(f.crypto!.expiry!).toISOString()).toBe('2026-12-31T17:00:00.000Z');
    expect(f.source).toBe('binance:BTC/USDT');
    expect(f.window).toBe('candle1h_close');
    expect(extractFacts(pmBrti100k).source).toBe('cf_brti');
  });

  it('turns a Gamma up/down market into an oracle link with its 5-minute window (EDT)', () => {
    const m = gammaUpDown(fixtureJson<Record<string, string>>('polymarket/gamma-market-updown-5m.json'));
    const link = oracleLinkOf(m)!;
    expect(link).toMatchObject({
      kind: 'up_down',
      asset: 'BTC',
      symbol: 'BTC/USD',
      settlementSource: 'chainlink stream',
      yesToken: m.outcomes[0]!.tokenId,
      noToken: m.outcomes[1]!.tokenId,
    });
    // "May 4, 2:15PM-2:20PM ET" in daylight saving time: 18:15–18:20 UTC
    expect(new Date(link.start!).toISOString()).toBe('2026-05-04T18:15:00.000Z');
    expect(new Date(link.expiry).toISOString()).toBe('2026-05-04T18:20:00.000Z');
  });

  it('gives threshold oracle links with strikes in 1e-8 units', () => {
    expect(oracleLinkOf(kxT100k12)).toMatchObject({
      kind: 'above',
      strike: 100_000 * E8,
      symbol: 'BTC/USD',
      yesToken: 'KXBTCD-26DEC3112-T100000:yes',
    });
    expect(oracleLinkOf(pmBinance100k)).toMatchObject({ symbol: 'BTC/USDT' });
  });

  it('does not treat touch markets or non-crypto questions as digitals', () => {
    expect(
      extractFacts(pm('x', 'Will Bitcoin reach $150,000 by December 31?', '', '2026-12-31T17:00:00Z')).crypto,
    ).toBeUndefined();
    expect(oracleLinkOf(pm('y', 'Will the Fed cut rates?', '', '2026-12-31T17:00:00Z'))).toBeUndefined();
  });

  it('shares one empty scope, one empty list and one settlement reference between markets (kept per open market)', () => {
    const a = extractFacts(kxT100k12);
    const b = extractFacts(kxT100k13);
    expect(a.scope).toBe(NO_SCOPE);
    expect(a.scope).toEqual({
      banks: [],
      states: [],
      districts: [],
      offices: [],
      stage: false,
      countries: [],
    });
    expect(a.unread).toBe(b.unread);
    expect(a.reference).toBeDefined();
    expect(a.reference).toBe(b.reference);
    expect(Object.isFrozen(a.reference)).toBe(true);
    // a title that names something still gets its own lists (and shares only the empty ones)
    const s = scopeFacts({
      ...kxT100k12,
      question: 'Will the Fed cut rates?',
      subtitle: undefined,
      eventTitle: undefined,
    });
    expect(s.banks).toEqual(['fed']);
    expect(s.states).toBe(NO_SCOPE.states);
  });
});
