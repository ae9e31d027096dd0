/**
 * 100,000 opportunities and 10,000 fills in the embedded store: the API pages them on the server — a page holds
 * at most `limit` rows, a page deep in the history comes from its cursor (no offset scan), totals are counted
 * (up to 10,000) on the first page, and filters apply before paging. (How fast is measured in `npm run bench`: dashboard.*.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createDashboard, type Dashboard } from '../../src/dashboard/server.ts';
import { type Db, openDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { seedVolume } from './volume.ts';

const T0 = 1_790_000_000_000;
let db: Db;
let dash: Dashboard;

beforeAll(async () => {
  db = await openDb({ dataDir: 'memory://' });
  await migrate(db);
  await seedVolume(db, { opportunities: 100_000, fills: 10_000, t0: T0 });
  dash = createDashboard({
    config: loadConfig({ DATA_DIR: '/nonexistent-never-written' }),
    clock: new SimClock(T0 + 100_000 * 800),
    db,
    role: 'dashboard',
    instance: 'scale',
    controlToken: 'scale-test-token-0123456789',
  });
}, 600_000);

afterAll(async () => {
  await dash?.close();
  await db?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: the API's JSON as it comes
const get = async (path: string): Promise<any> => {
  const res = await dash.app.request(path);
  expect(res.status, path).toBe(200);
  return res.json();
};

describe('dashboard at 100,000 opportunities and 10,000 fills', () => {
  it('opportunities: 50 per page, newest first, the total counted, a deep page reached by cursor', async () => {
    const first = await get('/api/opportunities?limit=50');
    // counted up to 10,000 ("10,000+"), on the first page only
    expect(first.total).toBe(10_000);
    expect(first.totalCapped).toBe(true);
    expect(first.rows).toHaveLength(50);
    expect(first.rows[0].id).toBe('vopp-99999');
    // every tenth was requested: its outcome is attached
    const traded = first.rows.find((r: { id: string }) => r.id === 'vopp-99980');
    expect(traded.outcomes).toEqual([
      { status: 'traded', strategy: 'rebalancing-arb', execution: 'filled', fills: 1 },
    ]);
    let page = first;
    const seen = new Set<string>(first.rows.map((r: { id: string }) => r.id));
    for (let i = 0; i < 40; i++) {
      page = await get(`/api/opportunities?limit=200&cursor=${encodeURIComponent(page.next)}`);
      expect(page.total).toBeNull();
      for (const r of page.rows) seen.add(r.id);
    }
    // 50 + 40 × 200 distinct rows, in order, none skipped
    expect(seen.size).toBe(8_050);
    expect(page.rows.at(-1).id).toBe(`vopp-${100_000 - 8_050}`);
  });

  it('filters apply before paging: kind, venue, strategy and outcome', async () => {
    const k = await get('/api/opportunities?kind=rebalancing&limit=10');
    expect([k.total, k.totalCapped]).toEqual([10_000, true]);
    expect(k.rows.every((r: { kind: string }) => r.kind === 'rebalancing')).toBe(true);
    const v = await get('/api/opportunities?venue=kalshi&limit=10');
    expect([v.total, v.totalCapped]).toEqual([10_000, true]);
    expect(
      v.rows.every((r: { legs: { venue: string }[] }) => r.legs.every((l) => l.venue === 'kalshi')),
    ).toBe(true);
    const s = await get('/api/opportunities?strategy=oracle-sniper&limit=10');
    expect(s.total).toBe(2_500);
    const rejected = await get('/api/opportunities?outcome=rejected&limit=10');
    expect([rejected.total, rejected.totalCapped]).toEqual([5_000, false]);
    expect(rejected.rows[0].outcomes[0].status).toBe('rejected');
  });

  it('fills and decisions page the same way', async () => {
    const f = await get('/api/fills?limit=100');
    expect([f.total, f.totalCapped]).toEqual([10_000, false]);
    expect(f.rows).toHaveLength(100);
    const f2 = await get(`/api/fills?limit=100&cursor=${encodeURIComponent(f.next)}`);
    expect(f2.rows[0].id).toBe('vfill-9899');
    const byStrategy = await get('/api/fills?strategy=cross-venue-arb&venue=kalshi&limit=5');
    expect(byStrategy.total).toBe(2_500);
    const d = await get('/api/decisions?rule=min_edge&limit=5');
    expect(d.total).toBe(1_250);
    const t = await get('/api/decisions/timeline?buckets=60');
    expect(t.rows.reduce((n: number, r: { count: number }) => n + r.count, 0)).toBeGreaterThan(0);
  });
});
