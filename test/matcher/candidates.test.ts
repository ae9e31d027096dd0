import { describe, expect, it } from 'vitest';
import { CandidateIndex, tokens } from '../../src/matcher/candidates.ts';
import { extractFacts } from '../../src/matcher/facts.ts';
import { kalshi, kxFed, kxT100k12, pm, pmBrti100k, pmFed } from './cases.ts';

describe('candidate index', () => {
  it('normalizes numbers, months and plurals', () => {
    expect(tokens('Will Bitcoin be above $100,000 on Dec 31?')).toEqual(['bitcoin', '100000', 'dec', '31']);
    expect(tokens('BTC above 100k in December')).toEqual(['btc', '100000', 'dec']);
    expect(tokens('Fed cuts rates')).toEqual(['fed', 'cut', 'rate']);
  });

  it('pairs markets across venues by shared rare words and crypto markets by asset and day', () => {
    const idx = new CandidateIndex();
    expect(idx.add(pmFed, extractFacts(pmFed))).toEqual([]);
    expect(idx.add(pmBrti100k, extractFacts(pmBrti100k))).toEqual([]);
    expect(idx.add(kxFed, extractFacts(kxFed)).map((m) => m.marketId)).toEqual([pmFed.marketId]);
    expect(idx.add(kxT100k12, extractFacts(kxT100k12)).map((m) => m.marketId)).toEqual([pmBrti100k.marketId]);
  });

  it('stays bounded on a large listing: a few candidates per market, not one per market', () => {
    const idx = new CandidateIndex();
    const topics = [
      'election',
      'senate',
      'oscar',
      'nba',
      'rain',
      'cpi',
      'tariff',
      'launch',
      'merger',
      'strike',
    ];
    let pairs = 0;
    for (let i = 0; i < 3_000; i++) {
      const t = topics[i % topics.length]!;
      const q = `Will ${t} event number ${i} happen in ${t} region ${i % 97}?`;
      const m =
        i % 2 === 0
          ? pm(`p${i}`, q, '', '2026-12-31T00:00:00Z')
          : kalshi(`K${i}`, q, '', '2026-12-31T00:00:00Z');
      const found = idx.add(m, extractFacts(m));
      expect(found.length).toBeLessThanOrEqual(8);
      pairs += found.length;
    }
    expect(idx.size).toBe(3_000);
    // each market meets at most maxCandidates others: linear, not quadratic, in the listing size
    expect(pairs).toBeLessThanOrEqual(3_000 * 8);
  });

  it('keeps the nearest strikes of one asset and day, the same strike on the other venue first', () => {
    const idx = new CandidateIndex();
    const rules = (k: number) =>
      `If the simple average of the sixty seconds of CF Benchmarks' BRTI before 12 PM EST on Dec 31, 2026 is above $${k.toLocaleString('en-US')}.00, then the market resolves to Yes.`;
    for (let k = 80_000; k < 130_000; k += 500) {
      const m = kalshi(
        `KXBTCD-26DEC3112-T${k}`,
        'Bitcoin price on Dec 31, 2026?',
        rules(k),
        '2026-12-31T17:00:00Z',
      );
      idx.add(m, extractFacts(m));
    }
    const found = idx.add(pmBrti100k, extractFacts(pmBrti100k));
    expect(found.length).toBe(12);
    expect(found[0]!.marketId).toBe('KXBTCD-26DEC3112-T100000');
  });
});
