/**
 * The labelled Polymarket ↔ Kalshi pairs in ../shared/matcher (the matcher's development set) load through
 * `devPairs()` and hold to the schema of ../shared/matcher/README.md, so an evaluation can rely on them.
 */
import { describe, expect, it } from 'vitest';
import { type DevPairLabel, devPairs } from '../shared.ts';

const LABELS: readonly DevPairLabel[] = ['identical', 'inverted', 'implies', 'exclusive', 'different'];

describe('matcher development pairs', () => {
  it('37 labelled pairs, one side per venue, every label and facts level known', () => {
    const pairs = devPairs();
    expect(pairs).toHaveLength(37);
    const count = (f: (p: (typeof pairs)[number]) => string) =>
      pairs.reduce<Record<string, number>>((acc, p) => {
        acc[f(p)] = (acc[f(p)] ?? 0) + 1;
        return acc;
      }, {});
    expect(count((p) => p.label)).toEqual({
      different: 17,
      identical: 14,
      exclusive: 2,
      implies: 2,
      inverted: 2,
    });
    expect(count((p) => p.facts_level)).toEqual({ full: 7, partial: 2, titles: 28 });
    for (const p of pairs) {
      expect(LABELS).toContain(p.label);
      expect([p.a.venue, p.b.venue].sort()).toEqual(['kalshi', 'polymarket']);
      // sources give different fields (absent when not given), but every pair names at least one market
      expect([p.a, p.b].some((s) => (s.id ?? s.ticker ?? s.slug ?? s.title) !== undefined)).toBe(true);
      expect(p.source).toMatch(/\S/);
      expect(
        p.label_source === 'stated by source' || p.label_source.startsWith('derived from rules text'),
      ).toBe(true);
    }
    // pairs are distinct
    expect(new Set(pairs.map((p) => JSON.stringify([p.a, p.b]))).size).toBe(pairs.length);
  });
});
