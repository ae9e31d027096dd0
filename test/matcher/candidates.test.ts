import { describe, expect, it } from 'vitest';
import type { Market } from '../../src/core/messages.ts';
import { CandidateIndex, marketTokens } from '../../src/matcher/candidates.ts';
import { extractFacts } from '../../src/matcher/facts.ts';
import { normalizeTokens } from '../../src/matcher/normalize.ts';
import { kalshi, kxFed, kxT100k12, pm, pmBrti100k, pmFed } from './cases.ts';

const shared = (x: string, y: string): string[] => {
  const b = new Set(normalizeTokens(y));
  return normalizeTokens(x).filter((t) => b.has(t));
};

describe('normalization', () => {
  it('numbers: $100k = 100,000; 1.7 million; 3.0% = 3%; 25bps = 25 bps; a bound one tick below a round number', () => {
    expect(normalizeTokens('Will Bitcoin be above $100,000 on Dec 31?')).toEqual([
      'dec',
      'd12-31',
      'bitcoin',
      '100000',
      '~100000',
    ]);
    expect(shared('BTC above $100k in December', 'Bitcoin over 100,000 in Dec')).toEqual([
      '100000',
      '~100000',
      'dec',
    ]);
    expect(shared('more than 1.7 million deliveries', 'above 1,700,000 deliveries')).toEqual([
      '1700000',
      '~1700000',
      'delivery',
    ]);
    expect(shared('GDP above 3.0%', 'GDP growth over 3%')).toEqual(['gdp', '3%']);
    expect(shared('a 25bps hike', 'a 25 bps increase')).toEqual(['25bps', '~25bps', 'hike']);
    expect(shared('between 110 and 114.99 million', '110-115 Million')).toContain('115');
    expect(shared('$63,599.99 or above', 'above 63,600')).toContain('63600');
  });

  it('names: accents, hyphens, possessives, aliases', () => {
    expect(shared('Will Grüne win Berlin?', 'Will Grune win Berlin?')).toEqual(['grune', 'win', 'berlin']);
    expect(shared('Itamar Ben-Gvir', 'Itamar Ben Gvir')).toEqual(['itamar', 'ben', 'gvir']);
    expect(shared('the Federal Reserve', 'the FOMC')).toEqual(['fed']);
    expect(shared('U.S. GDP', 'United States GDP')).toEqual(['us', 'gdp']);
    expect(shared("Brazil's runoff", 'Brazil runoff')).toEqual(['brazil', 'runoff']);
    expect(shared('the Democratic presidential nominee', 'the Democrats’ presidential nomination')).toEqual([
      'democrat',
      'president',
      'nomin',
    ]);
    expect(normalizeTokens('the GA-06 House seat')).toEqual(['ga-6', 'house', 'seat']);
  });

  it("dates and years: month-day tokens from text, slugs and tickers; 2028 = '28; before Jan 1, 2027 ~ before 2027", () => {
    // the hour (9AM, 09 in the ticker) is a number too
    expect(shared('on August 19, 9AM ET', 'KXBTCD-26AUG1909-T63599.99')).toEqual(['aug', 'd08-19', '9']);
    expect(shared('atp-smith-jones-2026-03-14', 'KXATPMATCH-26MAR14SMIJON-SMI')).toEqual(['2026', 'd03-14']);
    expect(shared("Will Harris run in '28?", 'Will Harris run in 2028?')).toEqual(['2028', 'harris', 'run']);
    expect(shared('announce before Jan 1, 2027', 'announce before 2027')).toEqual(['announce', '2027']);
    expect(shared('seats in the 120th Congress', 'seats after the 2026 midterms')).toEqual(['2026', 'seat']);
  });
});

describe('candidate index', () => {
  it('reads venue structure: Kalshi yes_sub_title, Polymarket event title and outcome labels, slugs when untitled', () => {
    const k: Market = { ...kxT100k12, subtitle: '$100,000 or above' };
    expect(marketTokens(k)).toEqual(expect.arrayContaining(['bitcoin', '100000', 'd12-31']));
    const grouped = pm('p-g', 'Dana Cole', '', '2028-08-01T00:00:00Z', {
      eventTitle: 'Democratic Presidential Nominee 2028',
    });
    expect(marketTokens(grouped)).toEqual(
      expect.arrayContaining(['dana', 'cole', 'democrat', 'nomin', '2028']),
    );
    const match = pm('p-m', 'Smith vs. Jones', '', '2026-03-14T18:00:00Z', {
      outcomes: [
        { tokenId: '1', label: 'Smith', side: 'other' },
        { tokenId: '2', label: 'Jones', side: 'other' },
      ],
    });
    expect(marketTokens(match)).toEqual(expect.arrayContaining(['smith', 'jone']));
    const untitled = pm('p-u', '', '', '2026-03-14T18:00:00Z', { slug: 'atp-smith-jones-2026-03-14' });
    expect(marketTokens(untitled)).toEqual(expect.arrayContaining(['atp', 'smith', 'jone', 'd03-14']));
  });

  it('pairs markets across venues by shared rare words and crypto markets by asset and day', () => {
    const idx = new CandidateIndex();
    expect(idx.add(pmFed, extractFacts(pmFed))).toEqual([]);
    expect(idx.add(pmBrti100k, extractFacts(pmBrti100k))).toEqual([]);
    expect(idx.add(kxFed, extractFacts(kxFed)).map((m) => m.marketId)).toEqual([pmFed.marketId]);
    expect(idx.add(kxT100k12, extractFacts(kxT100k12)).map((m) => m.marketId)).toEqual([pmBrti100k.marketId]);
  });

  it('finds the twin among look-alikes: one candidate per person, not every nominee market', () => {
    const idx = new CandidateIndex();
    const names = [
      'Dana Cole',
      'Ravi Patel',
      'Lena Ortiz',
      'Tom Becker',
      'Ines Duarte',
      'Omar Haddad',
      'Kim Sato',
    ];
    names.forEach((n, i) => {
      const m = pm(
        `p${i}`,
        `Will ${n} win the 2028 Democratic presidential nomination?`,
        '',
        '2028-08-20T00:00:00Z',
      );
      idx.add(m, extractFacts(m));
    });
    for (const [i, n] of names.entries()) {
      const k = kalshi(
        `KXDEMNOM-28-${i}`,
        `Will ${n} be the Democratic Presidential nominee in 2028?`,
        '',
        '2028-08-01T00:00:00Z',
        {
          subtitle: n,
        },
      );
      const found = idx.add(k, extractFacts(k)).map((m) => m.marketId);
      expect(found, n).toEqual([`p${i}`]);
    }
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
      expect(found.length).toBeLessThanOrEqual(5);
      pairs += found.length;
    }
    expect(idx.size).toBe(3_000);
    // each market meets at most maxCandidates others: linear, not quadratic, in the listing size
    expect(pairs).toBeLessThanOrEqual(3_000 * 5);
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
    expect(found.length).toBeLessThanOrEqual(6 + 5);
    expect(found[0]!.marketId).toBe('KXBTCD-26DEC3112-T100000');
    expect(found.slice(0, 6).map((m) => m.marketId)).toEqual(
      expect.arrayContaining(['KXBTCD-26DEC3112-T99500', 'KXBTCD-26DEC3112-T100500']),
    );
  });

  it('ranks a ladder by strike distance then key, after out-of-order adds, removals and replacements', () => {
    const idx = new CandidateIndex({ maxStructural: 4 });
    const rules = (k: number) =>
      `If the simple average of the sixty seconds of CF Benchmarks' BRTI before 12 PM EST on Dec 31, 2026 is above $${k.toLocaleString('en-US')}.00, then the market resolves to Yes.`;
    const ladder = (id: string, k: number) =>
      kalshi(id, 'Bitcoin price on Dec 31, 2026?', rules(k), '2026-12-31T17:00:00Z');
    // strikes added in a scrambled order, two markets per strike (ties broken by key)
    const live = new Map<string, number>();
    for (let j = 0; j < 40; j++) {
      const k = 90_000 + ((j * 17) % 40) * 500;
      for (const id of [`KXA-T${k}`, `KXB-T${k}`]) {
        idx.add(ladder(id, k), extractFacts(ladder(id, k)));
        live.set(id, k);
      }
    }
    // the nearest ones removed, one moved to another strike
    for (const id of ['KXA-T100000', 'KXB-T100000', 'KXA-T100500']) {
      idx.remove(`kalshi:${id}`);
      live.delete(id);
    }
    idx.add(ladder('KXB-T100500', 99_500), extractFacts(ladder('KXB-T100500', 99_500)));
    live.set('KXB-T100500', 99_500);
    const found = idx.add(pmBrti100k, extractFacts(pmBrti100k)).map((m) => m.marketId);
    const expected = [...live]
      .map(([id, k]) => [Math.abs(k - 100_000), `kalshi:${id}`, id] as const)
      .sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : 1))
      .slice(0, 4)
      .map((x) => x[2]);
    expect(found).toEqual(expected);
    expect(expected).toEqual(['KXA-T99500', 'KXB-T100500', 'KXB-T99500', 'KXA-T101000']);
  });
});
